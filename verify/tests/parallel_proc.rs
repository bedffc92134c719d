//! Parallel property tests through real processes (`synclab_verify::parallel::procs`): the
//! generated programs of `parallel_prop.rs`, each branch in its own OS process (this test
//! binary re-executed with `--exact parallel_proc_branch_entry`: never a fork of the
//! multi-threaded harness), on one named shared-memory object, with the logical clock in a
//! shared-memory file; the parent gathers the histories and checks them with `synclab-lin`.
//! Fixed seeds; the case counts are in the tests. A planted fault (the spsc producer process
//! publishes one record more than it wrote) must be found.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::Cell;
use std::time::Instant;
use synclab_verify::parallel::case::{case_sized, qop, sop, Case, QOp};
use synclab_verify::parallel::procs::{self, branch_main, Object, Ops, Plant};

/// The test a branch process runs: the branch, if this process is one.
#[test]
fn parallel_proc_branch_entry() {
    if let Some(r) = branch_main() {
        if let Err(e) = r {
            eprintln!("branch process failed: {e}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

/// Cases per object (each starts 2-3 processes).
const CASES: u32 = 100;

fn run_cases<Op: Clone + std::fmt::Debug>(
    what: &str,
    seed: u8,
    strategy: impl Strategy<Value = Case<Op>>,
    object: Object,
    wrap: fn(Vec<Op>) -> Ops,
    plant: Plant,
    lockstep: bool,
) -> Result<(), TestError<Case<Op>>> {
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--exact",
        "parallel_proc_branch_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ];
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let (runs, overlapping, pairs) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let start = Instant::now();
    let r = TestRunner::new_with_rng(config, rng).run(&strategy, |c| {
        let out = procs::run_case(&exe, &args, object, &c, wrap, plant, lockstep)
            .map_err(TestCaseError::fail)?;
        runs.set(runs.get() + 1);
        overlapping.set(overlapping.get() + usize::from(out.overlapping > 0));
        pairs.set(pairs.get() + out.overlapping);
        Ok(())
    });
    eprintln!(
        "{what}: {:.2} s; cases run (shrinking included): {}, with operations of different \
         processes overlapping in time: {} ({} overlapping pairs)",
        start.elapsed().as_secs_f64(),
        runs.get(),
        overlapping.get(),
        pairs.get()
    );
    r
}

/// spsc cases: no prefix (roles belong to processes), a producer and a consumer branch.
fn spsc_cases() -> impl Strategy<Value = Case<QOp>> {
    case_sized(qop(), 2..=2, 1..8).prop_map(|c| Case {
        prefix: vec![],
        ..c
    })
}

#[test]
fn parallel_proc_spsc_is_linearizable() {
    run_cases(
        "spsc through processes",
        21,
        spsc_cases(),
        Object::Spsc,
        Ops::Queue,
        Plant::None,
        false,
    )
    .unwrap();
}

#[test]
fn parallel_proc_mpmc_is_linearizable() {
    run_cases(
        "mpmc through processes",
        22,
        case_sized(qop(), 2..=3, 1..8),
        Object::Mpmc,
        Ops::Queue,
        Plant::None,
        false,
    )
    .unwrap();
}

#[test]
fn parallel_proc_semaphore_is_linearizable() {
    run_cases(
        "semaphore through processes",
        23,
        case_sized(sop(), 2..=3, 1..8),
        Object::Semaphore,
        Ops::Sem,
        Plant::None,
        false,
    )
    .unwrap();
}

/// The planted fault is found and shrunk: the consumer pops a record nobody pushed.
#[test]
fn parallel_proc_finds_spsc_publish_one_too_many() {
    let err = run_cases(
        "spsc through processes, planted publish-one-too-many",
        21,
        spsc_cases(),
        Object::Spsc,
        Ops::Queue,
        Plant::SpscPublishesOneTooMany,
        false,
    )
    .expect_err("the planted fault must be found");
    match err {
        TestError::Fail(reason, minimal) => {
            eprintln!("minimal failing case: {minimal:?}\n{reason}");
            // Whether the consumer pops after the bogus publish depends on timing, so
            // shrinking (which needs the smaller case to fail too) is best effort here; the
            // producer publishes the bogus record even when it pushed nothing.
            let pops = minimal.branches[1]
                .iter()
                .filter(|o| **o == QOp::Pop)
                .count();
            assert!(pops >= 1, "only a pop sees the bogus record: {minimal:?}");
            let why = reason.message();
            assert!(
                why.contains("NotLinearizable") || why.contains("corrupt"),
                "found by the history or the consumer's corruption check: {why}"
            );
        }
        TestError::Abort(why) => panic!("proptest gave up: {why}"),
    }
}

/// mpmc and the semaphore with the branch processes in lockstep (they meet before every
/// operation): the overlap it buys across processes is printed (README).
#[test]
fn parallel_proc_lockstep_is_linearizable() {
    run_cases(
        "mpmc through processes, lockstep",
        24,
        case_sized(qop(), 2..=3, 4..12),
        Object::Mpmc,
        Ops::Queue,
        Plant::None,
        true,
    )
    .unwrap();
    run_cases(
        "semaphore through processes, lockstep",
        25,
        case_sized(sop(), 2..=3, 4..12),
        Object::Semaphore,
        Ops::Sem,
        Plant::None,
        true,
    )
    .unwrap();
}
