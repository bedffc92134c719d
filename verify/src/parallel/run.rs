//! The parent side of a parallel property test through real processes ([`super::procs`]):
//! creates the object and the clock, runs the prefix, starts one process per branch, gathers
//! their histories (and mpmc's final drain) and checks them with `synclab-lin`.

use super::case::Case;
use super::clock::Clock;
use super::procs::{
    mpmc_step, release_held, ring_err, sem_ops, Branch, Kind, Log, Object, Ops, Plant, Rec,
    BRANCH_ENV, CAPACITY, MPMC_CAPACITY, OUT_PREFIX, PERMITS,
};
use crate::shuttle::record::Recorder;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use synclab_core::{Mpmc, RingError, Semaphore, ShmName, Spsc};
use synclab_lin::Model;

/// What one case through processes did.
pub struct Outcome {
    /// Operations in the history.
    pub ops: usize,
    /// Pairs of operations of different processes that overlapped in time.
    pub overlapping: usize,
}

/// Runs `case` on `object`: the prefix here, each branch in a process started as `exe args…`
/// (a binary whose entry calls [`branch_main`](super::procs::branch_main) first), in lockstep
/// if asked (mpmc, semaphore); `Err` with the reason if a process failed or the history is not
/// linearizable.
pub fn run_case<Op: Clone>(
    exe: &Path,
    args: &[&str],
    object: Object,
    case: &Case<Op>,
    wrap: fn(Vec<Op>) -> Ops,
    plant: Plant,
    lockstep: bool,
) -> Result<Outcome, String> {
    if lockstep && object == Object::Spsc {
        return Err("lockstep is for mpmc and the semaphore".to_string());
    }
    let rounds = if lockstep {
        case.branches.iter().map(Vec::len).max().unwrap_or(0) as u64
    } else {
        0
    };
    static CLOCKS: AtomicU64 = AtomicU64::new(0);
    let clock_path = PathBuf::from(format!(
        "/dev/shm/synclab-parproc-clock-{}-{}",
        std::process::id(),
        // SeqCst: a unique number per call; no other memory depends on it.
        CLOCKS.fetch_add(1, SeqCst)
    ));
    let clock = Clock::create(&clock_path).map_err(|e| format!("clock: {e}"))?;
    let name = ShmName::unique("parproc");
    let model = match object {
        Object::Spsc => Model::Queue {
            capacity: Some(CAPACITY as u64),
        },
        Object::Mpmc => Model::Queue {
            capacity: Some(MPMC_CAPACITY as u64),
        },
        Object::Semaphore => Model::Semaphore {
            permits: PERMITS.into(),
        },
    };
    let rec = Recorder::new(model);
    let mut log = Log {
        clock: &clock,
        recs: Vec::new(),
    };
    // The object lives (named) while this function runs; the parent runs the prefix.
    enum Held {
        Spsc(#[allow(dead_code)] Spsc<u64>),
        Mpmc(Mpmc<u64>),
        Sem(Semaphore),
    }
    let prefix = wrap(case.prefix.clone());
    let held = match (object, &prefix) {
        (Object::Spsc, Ops::Queue(ops)) if ops.is_empty() => Held::Spsc(
            Spsc::<u64>::builder()
                .capacity(CAPACITY)
                .create(&name)
                .map_err(ring_err)?,
        ),
        (Object::Mpmc, Ops::Queue(ops)) => {
            let q = Mpmc::<u64>::builder()
                .capacity(MPMC_CAPACITY)
                .create(&name)
                .map_err(ring_err)?;
            for (i, op) in ops.iter().enumerate() {
                mpmc_step(&mut log, &q, i as u64, *op)?;
            }
            Held::Mpmc(q)
        }
        (Object::Semaphore, Ops::Sem(ops)) => {
            let sem = Semaphore::builder()
                .permits(PERMITS)
                .max(PERMITS)
                .create(&name)
                .map_err(|e| e.to_string())?;
            let held = sem_ops(&mut log, &sem, ops, &|| Ok(()))?;
            release_held(&mut log, &sem, held)?;
            Held::Sem(sem)
        }
        _ => return Err("this object takes no such prefix".to_string()),
    };
    let processes = case.branches.len() as u64;
    let children: Vec<_> = case
        .branches
        .iter()
        .enumerate()
        .map(|(b, ops)| {
            let branch = Branch {
                object,
                name: name.as_str().to_string(),
                clock: clock_path.clone(),
                who: 1 + b as u64,
                processes,
                ops: wrap(ops.clone()),
                plant,
                rounds,
            };
            let json = serde_json::to_string(&branch).map_err(|e| e.to_string())?;
            Command::new(exe)
                .args(args)
                .env(BRANCH_ENV, json)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("spawn: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut failures = Vec::new();
    for (b, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        // libtest's "test NAME ... " may precede the line.
        let line = stdout
            .lines()
            .find_map(|l| l.find(OUT_PREFIX).map(|i| &l[i + OUT_PREFIX.len()..]));
        match (out.status.success(), line) {
            (true, Some(line)) => {
                let recs: Vec<Rec> = serde_json::from_str(line).map_err(|e| e.to_string())?;
                recs.iter().for_each(|r| rec.push(r.op(1 + b as u64)));
            }
            _ => failures.push(format!(
                "branch process {} failed ({}): {}",
                1 + b,
                out.status,
                last_lines(&String::from_utf8_lossy(&out.stderr))
            )),
        }
    }
    if let Held::Mpmc(q) = &held {
        // Every branch exited: `Empty` now is the truth, and recorded as such.
        loop {
            let r = log.call(
                || q.try_pop(),
                |r| match r {
                    Ok(v) => Some((Kind::Deq(Some(*v as i64)), true)),
                    Err(RingError::Empty) => Some((Kind::Deq(None), true)),
                    Err(_) => None,
                },
            );
            match r {
                Ok(_) => {}
                Err(RingError::Empty) => break,
                Err(e) => return Err(ring_err(e)),
            }
        }
    }
    if let Held::Sem(sem) = &held {
        let v = sem.value().map_err(|e| e.to_string())?;
        if v != PERMITS {
            failures.push(format!("the count ends at {v}, not {PERMITS}"));
        }
    }
    log.recs.iter().for_each(|r| rec.push(r.op(0)));
    drop(held);
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    let ops = rec.check()?;
    Ok(Outcome {
        ops,
        overlapping: rec.overlapping_pairs(),
    })
}

/// The last few lines of a branch process's stderr, for a failure message.
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}
