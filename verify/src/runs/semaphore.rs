//! The recorded semaphore run: worker processes contend on a named semaphore, every acquire and
//! release recorded and checked; optional SIGSTOP/SIGCONT injection and SIGKILL of holders
//! followed by `recover()` (`sem_kills.rs`; the victims' side is in `workers::sem`).

use super::faults::{pidfd, StopInjector};
use super::history_buffers::HistoryBuffers;
use super::recorded::{
    finish, history_of, injector, role, spawn_all, worker_errors, Outcome, RunParams, RunReport,
};
use super::sem_kills::{kill_announced, Kills, Victim};
use crate::harness_sem::HarnessSem;
use crate::lin::Model;
use crate::procs::{reap_all, WorkerExe};
use crate::workers::sem_aux as aux;
use serde_json::{json, Map};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::time::Instant;
use synclab_core::shm::ShmName;
use synclab_core::Semaphore;

/// `procs` processes each run `rounds` (`p.messages`) acquire/release rounds on a named
/// semaphore of `permits` (`p.capacity`), tracking occupancy in the region. Checks: at most
/// `permits` held at once, the final value equals `permits`, every acquire expected completed,
/// every worker exited 0 (or died by the SIGKILL injected), and the history is linearizable
/// against a counting semaphore.
///
/// With `p.kills = K > 0` the semaphore keeps a holder ledger, and K workers chosen from the
/// seed each die at a seeded round: they take every permit, then block in one more acquire and
/// are SIGKILLed there (`workers::sem` says why there); the parent then calls `recover()`, which
/// must return all the permits, and records it in the history as a `release` of its own
/// (`sem_kills.rs` says why that models it honestly). Survivors blocked on the dead holder
/// proceed once the permits are back.
pub fn semaphore_run(exe: &WorkerExe, p: &RunParams) -> Result<RunReport, String> {
    let procs = p.procs.max(1);
    let permits = p.capacity as u32;
    let sname = ShmName::unique("sem");
    let hname = ShmName::unique("hist");
    let ledger = p.kills > 0;
    let builder = Semaphore::builder()
        .permits(permits)
        .max(permits)
        .ledger(if ledger { 64 } else { 0 });
    let sem = HarnessSem::create(&builder, &sname)
        .map_err(|e| format!("cannot create the semaphore: {e}"))?;
    // An acquire and a release per round, and a doomed worker one more acquire.
    let buffers = HistoryBuffers::create(&hname, procs, procs * (2 * p.messages as usize + 1))
        .map_err(|e| format!("cannot create the history region: {e}"))?;
    let victims = pick_victims(procs, p);
    let args: Vec<_> = (0..procs)
        .map(|w| {
            let die = victims
                .iter()
                .find(|&&(v, _)| v == w)
                .map(|&(_, round)| vec!["--die-at".to_string(), round.to_string()]);
            role(
                "sem-contend",
                &sname,
                &hname,
                w,
                p.messages,
                &die.unwrap_or_default(),
            )
        })
        .collect();
    let start = Instant::now();
    let children = spawn_all(exe, &args)?;
    crate::procs::signals::announce_started(procs);
    let inj = injector(children.iter(), p);
    let victim_fds: Vec<Victim> = victims
        .iter()
        .filter_map(|&(w, _)| {
            pidfd(children[w].id())
                .ok()
                .map(|fd| Victim { worker: w, fd })
        })
        .collect();
    let done = AtomicBool::new(false);
    let (exits, kills) = std::thread::scope(|scope| {
        let killer = scope.spawn(|| kill_announced(&sem, victim_fds, procs as u64, &done));
        let exits = reap_all(children, p.timeout);
        // Relaxed: a stop request; the join right after synchronises the killer's results.
        done.store(true, Relaxed);
        let kills = killer.join().unwrap_or_else(|_| Kills {
            errors: vec!["the killer thread panicked".into()],
            ..Kills::default()
        });
        (exits, kills)
    });
    let stops = inj.map_or(0, StopInjector::finish);
    let seconds = start.elapsed().as_secs_f64();

    let mut errors = kills.errors;
    let workers = worker_errors(&exits, &kills.killed, &mut errors);
    // Acquire: the workers have exited and been reaped (which already orders their writes before
    // this point); Acquire just states that these words carry their final results.
    let word = |i| sem.aux(i).map_or(0, |w| w.load(Acquire));
    let (max_holders, acquires) = (word(aux::MAX_HOLDERS), word(aux::ACQUIRES));
    let final_value = sem.value().map_err(|e| e.to_string());
    if max_holders > u64::from(permits) {
        errors.push(format!(
            "{max_holders} permits held at once, more than {permits}"
        ));
    }
    // A victim completes its rounds before the doomed one, and the doomed acquire (of every
    // permit) counts too.
    let expected: u64 = (0..procs)
        .map(|w| {
            victims
                .iter()
                .find(|&&(v, _)| v == w)
                .map_or(p.messages, |&(_, round)| round + 1)
        })
        .sum();
    if acquires != expected {
        errors.push(format!("{acquires} acquires completed of {expected}"));
    }
    match &final_value {
        Ok(v) if *v == permits => {}
        Ok(v) => errors.push(format!("final value {v}, expected {permits}")),
        Err(e) => errors.push(format!("cannot read the final value: {e}")),
    }
    // Every victim held every permit when it was killed: recover() must return them all.
    let owed = kills.killed.len() as u64 * u64::from(permits);
    if kills.recovered != owed {
        errors.push(format!(
            "recover() returned {} permits; the {} killed holders held {owed}",
            kills.recovered,
            kills.killed.len()
        ));
    }
    let mut history = history_of(
        Model::Semaphore {
            permits: u64::from(permits),
        },
        &buffers,
    );
    history.ops.extend(kills.ops);
    let unknown = history.ops.iter().filter(|o| o.ok.is_none()).count();
    let outcome = Outcome {
        procs,
        seconds,
        stops,
        workers,
        errors,
        lost: 0,
        duplicated: 0,
    };
    let mut extra = Map::from_iter([
        ("permits".into(), json!(permits)),
        ("iterations".into(), json!(p.messages)),
        ("max_holders".into(), json!(max_holders)),
        ("acquires".into(), json!(acquires)),
        ("final_value".into(), json!(final_value.ok())),
    ]);
    if ledger {
        extra.extend([
            ("ledger".into(), json!(true)),
            ("killed".into(), json!(kills.killed.len())),
            ("recovered_permits".into(), json!(kills.recovered)),
            ("unknown_outcomes".into(), json!(unknown)),
        ]);
    }
    Ok(finish("semaphore", &history, p, outcome, extra))
}

/// Which workers die (at most `procs - 1`) and at which round each, drawn from the seed.
fn pick_victims(procs: usize, p: &RunParams) -> Vec<(usize, u64)> {
    use rand::{Rng, SeedableRng};
    if p.messages == 0 {
        return Vec::new();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(p.seed ^ 0x5e4a);
    let mut all: Vec<usize> = (0..procs.min(64)).collect();
    let mut out = Vec::new();
    for _ in 0..p.kills.min(procs.saturating_sub(1)) {
        let w = all.remove(rng.gen_range(0..all.len()));
        out.push((w, rng.gen_range(0..p.messages)));
    }
    out
}
