//! Killing mpmc workers mid-run (`synclab run mpmc --kill K`): which producers and consumers die
//! and when, and the thread that SIGKILLs each once it has recorded its seeded number of
//! operations. Survivors repair the slots the dead held (see `core/src/ring/mpmc`); the run then
//! checks the history with the dead workers' last operations of unknown outcome.

use super::faults::{pidfd, signal};
use super::history_buffers::HistoryBuffers;
use rand::{Rng, SeedableRng};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A worker to kill: its index (producers first, then consumers) and the number of recorded
/// operations after which it dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Victim {
    pub(super) worker: usize,
    pub(super) at: u64,
}

/// Picks `kills` victims among `producers` producer and `consumers` consumer workers, drawn from
/// `seed`: producers and consumers alternately (a producer first), while each role keeps at
/// least one survivor, so that both roles die whenever `kills >= 2`. `expected(w)` is how many
/// operations worker `w` would record in a full run; each dies after `1..expected` of them.
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
    let mut out = Vec::new();
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
        let worker = pool.remove(rng.gen_range(0..pool.len()));
        let at = rng.gen_range(1..expected(worker).max(2));
        out.push(Victim { worker, at });
    }
    out
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
            let all = pick(3, 3, 10, seed, |_| 100);
            assert_eq!(all.len(), 4, "{all:?}");
            assert_eq!(all.iter().filter(|v| v.worker < 3).count(), 2);
        }
    }
}
