//! Killing mpmc workers mid-run (`synclab run mpmc --kill K`): which producers and consumers die
//! and where. Two triggers ([`KillTrigger`]):
//! - `op` (the default, deterministic): each victim is told its kill point (`--die-at N
//!   --die-step S`) and SIGKILLs itself inside its N-th operation at step S ([`DieStep`]), so a
//!   seed kills the same workers at the same operations every time. Consumer victims get their
//!   values first: the other consumers start only once every consumer victim has begun its
//!   last operation (`wait_for_kill_points`), and kill points are drawn so that the values the
//!   surviving producers send suffice for them (`pick`).
//! - `time`: the parent SIGKILLs each victim once its history shows the seeded number of
//!   operations (`kill_when_progressed`), wherever it is by then (how far it got past that
//!   point, and whether it finished first, depend on timing; this finds other bugs).
//!
//! Survivors repair the slots the dead held (see `core/src/ring/mpmc`); the run then checks the
//! history with the dead workers' last operations of unknown outcome.

use super::faults::{pidfd, signal};
use super::history_buffers::HistoryBuffers;
use super::recorded::spawn_all;
use crate::procs::{reap_all, WorkerExe, WorkerExit};
use rand::{Rng, SeedableRng};
use std::os::fd::OwnedFd;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use synclab_core::model::CrashPoint;
use synclab_core::Mpmc;

/// What sets off a kill (`synclab run mpmc --kill-trigger`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KillTrigger {
    /// The victim kills itself inside its seeded operation, at a seeded step: deterministic.
    #[default]
    Op,
    /// The parent kills the victim once it has recorded its seeded number of operations,
    /// wherever it is by then: timing-dependent.
    Time,
}

/// Where inside its last operation a victim kills itself (`--die-step`, trigger `op`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DieStep {
    /// Before touching the queue (the operation is recorded as begun, nothing else).
    Before,
    /// After claiming a position and recording itself as the slot's claimer: survivors must
    /// repair the slot (a tombstone, or a freed slot whose record is lost).
    AfterRecord,
    /// After writing or reading the record, before publishing or freeing the slot.
    AfterData,
    /// After the whole operation, before recording its outcome.
    AfterOp,
}

impl DieStep {
    const ALL: [DieStep; 4] = [
        DieStep::Before,
        DieStep::AfterRecord,
        DieStep::AfterData,
        DieStep::AfterOp,
    ];

    /// The queue's crash point for this step (`None`: the queue is not touched).
    pub fn crash_point(self) -> Option<CrashPoint> {
        match self {
            DieStep::Before => None,
            DieStep::AfterRecord => Some(CrashPoint::AfterRecord),
            DieStep::AfterData => Some(CrashPoint::AfterData),
            DieStep::AfterOp => Some(CrashPoint::Never),
        }
    }

    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            DieStep::Before => "before",
            DieStep::AfterRecord => "after-record",
            DieStep::AfterData => "after-data",
            DieStep::AfterOp => "after-op",
        }
    }
}

/// A worker to kill: its index (producers first, then consumers), the operation (1-based) in
/// which it dies, and where in it (trigger `op`; trigger `time` kills it once `at` operations
/// are recorded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub(super) struct Victim {
    pub(super) worker: usize,
    pub(super) at: u64,
    pub(super) step: DieStep,
}

/// Picks `kills` victims among `producers` producer and `consumers` consumer workers, drawn from
/// `seed`: producers and consumers alternately (a producer first), while each role keeps at
/// least one survivor, so that both roles die whenever `kills >= 2`. `expected(w)` is how many
/// operations worker `w` would record in a full run; a producer dies in one of its operations
/// `1..expected`. A consumer dies in one of `1..=cap`, where `cap` also leaves every consumer
/// victim enough values from the surviving producers alone for its operations before that one
/// (trigger `op`: the victims dequeue alone until they reach their kill points).
pub(super) fn pick(
    producers: usize,
    consumers: usize,
    kills: usize,
    seed: u64,
    expected: impl Fn(usize) -> u64,
) -> Vec<Victim> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x6b11);
    let mut alive = [
        (0..producers).collect::<Vec<_>>(),
        (producers..producers + consumers).collect(),
    ];
    let mut workers = Vec::new();
    for k in 0..kills {
        let preferred = k % 2;
        let role = if alive[preferred].len() > 1 {
            preferred
        } else if alive[1 - preferred].len() > 1 {
            1 - preferred
        } else {
            break;
        };
        let pool = &mut alive[role];
        workers.push(pool.remove(rng.gen_range(0..pool.len())));
    }
    let surviving_values: u64 = alive[0].iter().map(|&w| expected(w)).sum();
    let consumer_victims = workers.iter().filter(|&&w| w >= producers).count() as u64;
    workers
        .into_iter()
        .map(|worker| {
            let last = if worker < producers {
                expected(worker).saturating_sub(1)
            } else {
                let share = surviving_values / consumer_victims.max(1);
                expected(worker).saturating_sub(1).min(share)
            };
            Victim {
                worker,
                at: rng.gen_range(1..=last.max(1)),
                step: DieStep::ALL[rng.gen_range(0..DieStep::ALL.len())],
            }
        })
        .collect()
}

/// Trigger `op`: waits until every consumer victim has begun its last operation (its history
/// shows `at` operations), polling every millisecond, until `deadline` or a SIGINT/SIGTERM.
/// False if it gave up.
pub(super) fn wait_for_kill_points(
    buffers: &HistoryBuffers,
    consumer_victims: &[Victim],
    deadline: Instant,
) -> bool {
    loop {
        if consumer_victims
            .iter()
            .all(|v| buffers.recorded(v.worker) >= v.at)
        {
            return true;
        }
        if Instant::now() >= deadline || crate::procs::signals::received().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The mpmc run's workers, started (see `start`).
pub(super) struct Started {
    pub(super) producers: Vec<Child>,
    /// In worker order.
    pub(super) consumers: Vec<Child>,
    /// Whether the consumer victims reached their kill points before the others started
    /// (false: the wait gave up at the deadline or on a signal, and they started anyway).
    pub(super) gate_held: bool,
}

/// Starts the consumers (`consumer_args`, worker order) and the producers. With consumer
/// victims that die by trigger `op` (`gated`, non-empty), the other consumers start only once
/// those have begun their last operation (`wait_for_kill_points`), so that each victim's
/// operations before that one find values: the same kill points every run. On a failed start,
/// closes `q` and reaps what started.
pub(super) fn start(
    exe: &WorkerExe,
    q: &Mpmc<u64>,
    buffers: &HistoryBuffers,
    producer_args: &[Vec<String>],
    consumer_args: &[Vec<String>],
    gated: &[Victim],
    deadline: Instant,
) -> Result<Started, String> {
    let producers_n = producer_args.len();
    let late = |i: usize| !gated.is_empty() && !gated.iter().any(|v| v.worker == producers_n + i);
    let pick_args = |want_late: bool| -> Vec<Vec<String>> {
        (0..consumer_args.len())
            .filter(|&i| late(i) == want_late)
            .map(|i| consumer_args[i].clone())
            .collect()
    };
    let early = spawn_all(exe, &pick_args(false))?;
    let producers = match spawn_all(exe, producer_args) {
        Ok(c) => c,
        Err(e) => {
            // Let the consumers already started drain and exit rather than wait out their deadline.
            q.close();
            reap_all(early, Duration::from_secs(10));
            return Err(e);
        }
    };
    let gate_held = gated.is_empty() || wait_for_kill_points(buffers, gated, deadline);
    let later = match spawn_all(exe, &pick_args(true)) {
        Ok(c) => c,
        Err(e) => {
            q.close();
            reap_all(producers, Duration::ZERO);
            reap_all(early, Duration::from_secs(10));
            return Err(e);
        }
    };
    let (mut early, mut later) = (early.into_iter(), later.into_iter());
    let consumers = (0..consumer_args.len())
        .filter_map(|i| if late(i) { later.next() } else { early.next() })
        .collect();
    Ok(Started {
        producers,
        consumers,
        gate_held,
    })
}

/// SIGKILLs each victim (`(victim, pidfd)`) once it has recorded `at` operations (polling its
/// history count every millisecond), until `done`. Returns the worker indices killed.
pub(super) fn kill_when_progressed(
    buffers: &HistoryBuffers,
    mut victims: Vec<(Victim, OwnedFd)>,
    done: &AtomicBool,
) -> Vec<usize> {
    let mut killed = Vec::new();
    // Relaxed: a stop request; the scope's join synchronises the result.
    while !victims.is_empty() && !done.load(Ordering::Relaxed) {
        victims.retain(|(v, fd)| {
            if buffers.recorded(v.worker) < v.at {
                return true;
            }
            if signal(fd, libc::SIGKILL) {
                killed.push(v.worker);
            }
            false
        });
        std::thread::sleep(Duration::from_millis(1));
    }
    killed
}

/// Trigger `op`: the victims (worker numbers) whose process ended by SIGKILL (their own; not
/// the parent's at the deadline). `producer_exits` and `consumer_exits` are indexed within
/// their role.
pub(super) fn self_killed(
    victims: &[Victim],
    producers: usize,
    producer_exits: &[WorkerExit],
    consumer_exits: &[WorkerExit],
) -> Vec<usize> {
    let exit = |w: usize| {
        if w < producers {
            producer_exits.iter().find(|e| e.index == w)
        } else {
            consumer_exits.iter().find(|e| e.index == w - producers)
        }
    };
    victims
        .iter()
        .map(|v| v.worker)
        .filter(|&w| exit(w).is_some_and(|e| !e.timed_out && e.signal == Some(libc::SIGKILL)))
        .collect()
}

/// The report's `kill_points`: per victim its worker, role, seeded operation and step, whether
/// it was killed, and how many operations its history shows (`at` when it died in operation
/// `at`).
pub(super) fn points_json(
    victims: &[Victim],
    producers: usize,
    killed: &[usize],
    buffers: &HistoryBuffers,
) -> serde_json::Value {
    victims
        .iter()
        .map(|v| {
            serde_json::json!({
                "worker": v.worker,
                "role": if v.worker < producers { "producer" } else { "consumer" },
                "at": v.at,
                "step": v.step,
                "killed": killed.contains(&v.worker),
                "recorded": buffers.recorded(v.worker),
            })
        })
        .collect()
}

/// Pidfds for the victims among `children` (indexed by worker).
pub(super) fn victim_fds(
    victims: &[Victim],
    children: &[&std::process::Child],
) -> Vec<(Victim, OwnedFd)> {
    victims
        .iter()
        .filter_map(|v| pidfd(children[v.worker].id()).ok().map(|fd| (*v, fd)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two kills among 3 + 3 workers always take one producer and one consumer; nobody twice;
    /// each role keeps a survivor however many kills are asked for.
    #[test]
    fn kills_take_both_roles_and_spare_one_of_each() {
        for seed in 0..50 {
            let v = pick(3, 3, 2, seed, |_| 100);
            assert_eq!(v.len(), 2);
            assert!(v[0].worker < 3 && v[1].worker >= 3, "{v:?}");
            assert!(v.iter().all(|v| (1..100).contains(&v.at)));
            assert_eq!(
                v,
                pick(3, 3, 2, seed, |_| 100),
                "the same seed, the same points"
            );
            let all = pick(3, 3, 10, seed, |_| 100);
            assert_eq!(all.len(), 4, "{all:?}");
            assert_eq!(all.iter().filter(|v| v.worker < 3).count(), 2);
        }
    }

    /// Consumer victims' kill points leave each enough values from the surviving producers:
    /// 3 + 3 workers, 2 producers and 2 consumers killed, one surviving producer of 10 values:
    /// each consumer victim dies within its first 5 dequeues.
    #[test]
    fn consumer_kill_points_fit_the_surviving_producers_values() {
        for seed in 0..50 {
            let v = pick(3, 3, 4, seed, |w| if w < 3 { 10 } else { 100 });
            let consumers: Vec<_> = v.iter().filter(|v| v.worker >= 3).collect();
            assert_eq!(consumers.len(), 2);
            assert!(consumers.iter().all(|v| (1..=5).contains(&v.at)), "{v:?}");
        }
    }
}
