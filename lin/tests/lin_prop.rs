//! Property tests of the checkers (fixed seeds):
//! - `prop_lin_fast_*_agrees`: on random small histories, some linearizable and some mutated, the
//!   fast checkers and the general checker give the same verdict whenever the fast one applies;
//! - `prop_lin_simulated_*`: histories of simulated runs (with pending and unknown operations)
//!   are linearizable;
//! - `prop_lin_injected_*`: a violation injected into a simulated run (reorder, loss, duplicate,
//!   value from nowhere, over-admission, stale read) is rejected by the automatic and the general
//!   checker with a witness that contains injected operations, admits no linearization, and loses
//!   that property when any deletion unit is dropped.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use synclab_lin::simulate::{queue_history, register_history, semaphore_history, GenConfig, Rng};
use synclab_lin::{
    check, search, CheckOptions, CheckReport, History, Model, Op, OpKind, QueueModel,
    RegisterModel, SearchResult, SemaphoreModel, SequentialModel, Verdict,
};

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_1234),
        failure_persistence: None,
        ..Config::default()
    }
}

fn general_only() -> CheckOptions {
    CheckOptions {
        general_only: true,
        ..CheckOptions::default()
    }
}

/// A small, heavily overlapping run.
fn small(seed: u64) -> GenConfig {
    let mut rng = Rng::new(seed);
    GenConfig {
        procs: 2 + rng.below(3) as usize,
        ops: 3 + rng.below(8) as usize,
        step_ns: 10,
        spread_ns: 5 + rng.below(40) as i64,
        failures: false,
        pending: false,
        unknown_per_mille: 50,
        seed,
    }
}

/// Random damage that keeps the history well-formed (one op in flight per process).
fn mutate(h: &mut History, rng: &mut Rng) {
    let n = h.ops.len();
    if n == 0 {
        return;
    }
    for _ in 0..1 + rng.below(2) {
        let i = rng.below(n as u64) as usize;
        match rng.below(4) {
            // stretch or shrink the interval, staying inside the process's free time
            0 => {
                let p = h.ops[i].process;
                let lo = h
                    .ops
                    .iter()
                    .filter(|o| o.process == p && o.invoke_ns < h.ops[i].invoke_ns)
                    .filter_map(|o| o.return_ns)
                    .max()
                    .unwrap_or(0);
                let hi = h
                    .ops
                    .iter()
                    .filter(|o| o.process == p && o.invoke_ns > h.ops[i].invoke_ns)
                    .map(|o| o.invoke_ns)
                    .min()
                    .unwrap_or(i64::MAX / 2);
                let a = lo + rng.below(40) as i64;
                let b = a + rng.below(60) as i64;
                if a < hi && b < hi {
                    h.ops[i].invoke_ns = a;
                    h.ops[i].return_ns = Some(b);
                }
            }
            // swap results / arguments of two operations of the same kind
            1 => {
                let j = rng.below(n as u64) as usize;
                if std::mem::discriminant(&h.ops[i].kind) == std::mem::discriminant(&h.ops[j].kind)
                {
                    let (ki, kj) = (h.ops[i].kind.clone(), h.ops[j].kind.clone());
                    h.ops[i].kind = kj;
                    h.ops[j].kind = ki;
                }
            }
            // change a result
            2 => match &mut h.ops[i].kind {
                OpKind::Dequeue { value } => {
                    *value = match rng.below(3) {
                        0 => None,
                        _ => Some(1 + rng.below(6) as i64),
                    }
                }
                OpKind::Acquire { n } | OpKind::Release { n } => *n = 1 + rng.below(2),
                _ => {}
            },
            // drop an operation
            _ => {
                h.ops.remove(i);
                return;
            }
        }
    }
}

fn assert_agree(h: &History, fast_name: &str) -> Result<(), TestCaseError> {
    h.validate()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let auto = check(h, &CheckOptions::default());
    if auto.checker != fast_name {
        return Ok(());
    }
    let general = check(h, &general_only());
    prop_assert_eq!(
        auto.verdict,
        general.verdict,
        "fast and general disagree on {:#?}",
        h.ops
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn prop_lin_fast_queue_agrees(seed in any::<u64>(), damage in any::<bool>()) {
        let mut h = queue_history(&small(seed), None);
        if damage {
            mutate(&mut h, &mut Rng::new(seed ^ 0xdead));
        }
        assert_agree(&h, "fast-queue")?;
    }

    #[test]
    fn prop_lin_fast_queue_agrees_bounded(seed in any::<u64>(), damage in any::<bool>()) {
        let mut h = queue_history(&small(seed), Some(2));
        if damage {
            mutate(&mut h, &mut Rng::new(seed ^ 0xbeef));
        }
        assert_agree(&h, "fast-queue")?;
    }

    #[test]
    fn prop_lin_fast_queue_sound_with_unknowns(seed in any::<u64>(), damage in any::<bool>()) {
        // refused enqueues, a full bounded queue, pending and unknown operations: the fast checker
        // only reports violations that hold whatever they did
        let mut cfg = small(seed);
        cfg.failures = true;
        cfg.pending = true;
        let mut h = queue_history(&cfg, Some(2));
        if damage {
            mutate(&mut h, &mut Rng::new(seed ^ 0xcafe));
        }
        assert_agree(&h, "fast-queue")?;
    }

    #[test]
    fn prop_lin_fast_semaphore_agrees_with_unknowns(seed in any::<u64>(), damage in any::<bool>(), recover in any::<bool>()) {
        // pending and unknown operations; and perhaps a dead holder's permits returned by a
        // process of its own (a recoverer), as `synclab run semaphore --kill` records it
        let mut cfg = small(seed);
        cfg.pending = true;
        let mut h = semaphore_history(&cfg, 2);
        if recover {
            recover_a_holder(&mut h);
        }
        if damage {
            mutate(&mut h, &mut Rng::new(seed ^ 0xd1e));
        }
        assert_agree(&h, "fast-semaphore")?;
    }

    #[test]
    fn prop_lin_fast_semaphore_agrees(seed in any::<u64>(), damage in any::<bool>(), tighter in any::<bool>()) {
        let mut h = semaphore_history(&small(seed), 2);
        if damage {
            mutate(&mut h, &mut Rng::new(seed ^ 0xfeed));
        }
        if tighter {
            h.header.model = Model::Semaphore { permits: 1 };
        }
        assert_agree(&h, "fast-semaphore")?;
    }
}

/// If some process's last operation is a completed acquire (it still holds permits), a fresh
/// process releases them after everything else: a recovery of a holder that died.
fn recover_a_holder(h: &mut History) {
    let end = h
        .ops
        .iter()
        .map(|o| o.return_ns.unwrap_or(o.invoke_ns))
        .max()
        .unwrap_or(0);
    let fresh = h.ops.iter().map(|o| o.process + 1).max().unwrap_or(0);
    let last = |p: u64| {
        h.ops
            .iter()
            .filter(|o| o.process == p)
            .max_by_key(|o| o.invoke_ns)
            .cloned()
    };
    let holder = (0..fresh).filter_map(last).find(|o| {
        matches!(o.kind, OpKind::Acquire { .. }) && o.ok == Some(true) && o.return_ns.is_some()
    });
    if let Some(Op {
        kind: OpKind::Acquire { n },
        ..
    }) = holder
    {
        let line = h.ops.len() + 2;
        let mut release = Op::new(fresh, OpKind::Release { n }, end + 1, end + 5);
        release.line = line;
        h.ops.push(release);
    }
}

fn medium(seed: u64, pending: bool, failures: bool) -> GenConfig {
    let mut rng = Rng::new(seed);
    GenConfig {
        procs: 2 + rng.below(3) as usize,
        ops: 20 + rng.below(40) as usize,
        step_ns: 10,
        spread_ns: 10 + rng.below(30) as i64,
        failures,
        pending,
        unknown_per_mille: 50,
        seed,
    }
}

proptest! {
    #![proptest_config(config(100))]

    #[test]
    fn prop_lin_simulated_histories_are_linearizable(seed in any::<u64>(), pending in any::<bool>()) {
        let cfg = medium(seed, pending, true);
        for h in [
            queue_history(&cfg, Some(3)),
            queue_history(&cfg, None),
            semaphore_history(&cfg, 2),
            register_history(&cfg, 2),
        ] {
            h.validate().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(check(&h, &CheckOptions::default()).verdict, Verdict::Linearizable);
            prop_assert_eq!(check(&h, &general_only()).verdict, Verdict::Linearizable);
        }
    }
}

/// End of the history (all returns), and a fresh process number.
fn after(h: &History) -> (i64, u64) {
    let end = h
        .ops
        .iter()
        .map(|o| o.return_ns.unwrap_or(o.invoke_ns))
        .max()
        .unwrap_or(0);
    let p = h.ops.iter().map(|o| o.process).max().unwrap_or(0) + 1;
    (end + 100, p)
}

/// Appends `kinds` as sequential operations of process `p` starting at `t`; returns their indices.
fn append(h: &mut History, p: u64, t: i64, kinds: Vec<OpKind>) -> Vec<usize> {
    let mut out = Vec::new();
    for (k, kind) in kinds.into_iter().enumerate() {
        let inv = t + 100 * k as i64;
        let mut op = Op::new(p, kind, inv, inv + 50);
        op.line = h.ops.len() + 2;
        out.push(h.ops.len());
        h.ops.push(op);
    }
    out
}

/// Values left in the queue at the end of a simulated unbounded-queue run (values are numbered in
/// the order they took effect, so the queue holds the undequeued ones in increasing order).
fn drain(h: &mut History) {
    let mut enq: Vec<i64> = Vec::new();
    let mut deq = std::collections::HashSet::new();
    for o in &h.ops {
        match o.kind {
            OpKind::Enqueue { value } => enq.push(value),
            OpKind::Dequeue { value: Some(v) } => {
                deq.insert(v);
            }
            _ => {}
        }
    }
    enq.sort_unstable();
    let left: Vec<OpKind> = enq
        .into_iter()
        .filter(|v| !deq.contains(v))
        .map(|v| OpKind::Dequeue { value: Some(v) })
        .collect();
    let (t, p) = after(h);
    append(h, p, t, left);
}

fn assert_witness<M: SequentialModel>(
    model: &M,
    h: &History,
    r: &CheckReport,
    injected: &[usize],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.verdict, Verdict::NotLinearizable);
    let w = &r.witness;
    prop_assert!(!w.is_empty());
    prop_assert!(
        injected.iter().any(|i| w.contains(i)),
        "witness {:?} has none of the injected ops {:?}",
        w,
        injected
    );
    let alone = matches!(
        search(model, &h.ops, w, None),
        SearchResult::NotLinearizable { .. }
    );
    prop_assert!(alone, "the witness alone is linearizable");
    prop_assert!(r.witness_minimal);
    for unit in model.deletion_units(&h.ops, w) {
        let rest: Vec<usize> = w.iter().copied().filter(|i| !unit.contains(i)).collect();
        prop_assert_eq!(
            search(model, &h.ops, &rest, None),
            SearchResult::Linearizable
        );
    }
    Ok(())
}

fn rejected<M: SequentialModel>(
    model: &M,
    h: &History,
    injected: &[usize],
) -> Result<(), TestCaseError> {
    h.validate()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    assert_witness(model, h, &check(h, &CheckOptions::default()), injected)?;
    assert_witness(model, h, &check(h, &general_only()), injected)
}

const UNBOUNDED: QueueModel = QueueModel { capacity: None };

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn prop_lin_injected_reorder(seed in any::<u64>()) {
        let mut h = queue_history(&medium(seed, false, false), None);
        drain(&mut h);
        let (t, p) = after(&h);
        let inj = append(&mut h, p, t, vec![
            OpKind::Enqueue { value: -1 },
            OpKind::Enqueue { value: -2 },
            OpKind::Dequeue { value: Some(-2) },
            OpKind::Dequeue { value: Some(-1) },
        ]);
        rejected(&UNBOUNDED, &h, &inj)?;
    }

    #[test]
    fn prop_lin_injected_loss(seed in any::<u64>()) {
        let mut h = queue_history(&medium(seed, false, false), None);
        drain(&mut h);
        let (t, p) = after(&h);
        let inj = append(&mut h, p, t, vec![
            OpKind::Enqueue { value: -1 },
            OpKind::Dequeue { value: None },
        ]);
        rejected(&UNBOUNDED, &h, &inj)?;
    }

    #[test]
    fn prop_lin_injected_duplicate(seed in any::<u64>()) {
        let mut h = queue_history(&medium(seed, false, false), None);
        let (t, p) = after(&h);
        let twice = h.ops.iter().find_map(|o| match o.kind {
            OpKind::Dequeue { value: Some(v) } => Some(v),
            _ => None,
        });
        let inj = match twice {
            Some(v) => append(&mut h, p, t, vec![OpKind::Dequeue { value: Some(v) }]),
            None => {
                drain(&mut h);
                let (t, p) = after(&h);
                append(&mut h, p, t, vec![
                    OpKind::Enqueue { value: -1 },
                    OpKind::Dequeue { value: Some(-1) },
                    OpKind::Dequeue { value: Some(-1) },
                ])
            }
        };
        rejected(&UNBOUNDED, &h, &inj)?;
    }

    #[test]
    fn prop_lin_injected_value_from_nowhere(seed in any::<u64>()) {
        let mut h = queue_history(&medium(seed, false, false), None);
        let (t, p) = after(&h);
        let inj = append(&mut h, p, t, vec![OpKind::Dequeue { value: Some(1_000_000_007) }]);
        rejected(&UNBOUNDED, &h, &inj)?;
        prop_assert_eq!(check(&h, &CheckOptions::default()).witness, inj);
    }

    #[test]
    fn prop_lin_injected_over_admission(seed in any::<u64>()) {
        let permits = 2;
        let mut h = semaphore_history(&medium(seed, false, false), permits);
        // give back what is still held, then permits + 1 holders at once
        let mut held = std::collections::BTreeMap::new();
        for o in &h.ops {
            let e = held.entry(o.process).or_insert(0u64);
            match o.kind {
                OpKind::Acquire { n } => *e += n,
                OpKind::Release { n } => *e -= n,
                _ => {}
            }
        }
        let (t, _) = after(&h);
        for (p, n) in held {
            if n > 0 {
                append(&mut h, p, t, vec![OpKind::Release { n }]);
            }
        }
        let (t, p) = after(&h);
        let mut inj = Vec::new();
        for k in 0..=permits {
            inj.extend(append(&mut h, p + k, t + 10 * k as i64, vec![OpKind::Acquire { n: 1 }]));
        }
        rejected(&SemaphoreModel { permits }, &h, &inj)?;
    }

    #[test]
    fn prop_lin_injected_stale_read(seed in any::<u64>()) {
        let mut h = register_history(&medium(seed, false, false), 2);
        let (t, p) = after(&h);
        let inj = append(&mut h, p, t, vec![
            OpKind::Write { key: "k0".into(), value: -5 },
            OpKind::Write { key: "k0".into(), value: -6 },
            OpKind::Read { key: "k0".into(), value: Some(-5) },
        ]);
        rejected(&RegisterModel, &h, &inj)?;
    }
}

/// Runs `seeds` agreement cases of each fast checker; returns (applicable, non-linearizable among
/// them) per checker, and panics on a disagreement.
fn agreement_sweep(seeds: u64) -> [(u32, u32); 3] {
    let mut counts = [(0u32, 0u32); 3];
    for seed in 0..seeds {
        let mut rng = Rng::new(seed ^ 0x0123_4567);
        let cfg = small(seed);
        let cap = if seed % 2 == 0 { None } else { Some(2) };
        let mut cfg_q = cfg.clone();
        cfg_q.failures = seed % 7 == 0;
        cfg_q.pending = seed % 7 == 0;
        let mut q = queue_history(&cfg_q, cap);
        let mut s = semaphore_history(&cfg, 2);
        // pending and unknown operations, and perhaps a recoverer releasing a holder's permits
        let mut cfg_u = cfg.clone();
        cfg_u.pending = true;
        let mut u = semaphore_history(&cfg_u, 2);
        if seed % 2 == 0 {
            recover_a_holder(&mut u);
        }
        if seed % 3 != 0 {
            mutate(&mut q, &mut rng);
            mutate(&mut s, &mut rng);
            mutate(&mut u, &mut rng);
        }
        if seed % 5 == 0 {
            s.header.model = Model::Semaphore { permits: 1 };
            u.header.model = Model::Semaphore { permits: 1 };
        }
        // the third kind counts only histories the old fast checker refused: with an operation
        // of unknown outcome, or releases that outpace a process's own acquires
        let beyond = u.ops.iter().any(|o| o.ok.is_none()) || outpaced(&u);
        for (k, (h, name)) in [
            (q, "fast-queue"),
            (s, "fast-semaphore"),
            (u, "fast-semaphore"),
        ]
        .iter()
        .enumerate()
        {
            let auto = check(h, &CheckOptions::default());
            if auto.checker != *name || (k == 2 && !beyond) {
                continue;
            }
            let general = check(h, &general_only());
            assert_eq!(auto.verdict, general.verdict, "seed {seed}: {:#?}", h.ops);
            counts[k].0 += 1;
            if auto.verdict == Verdict::NotLinearizable {
                counts[k].1 += 1;
            }
        }
    }
    counts
}

#[test]
fn prop_lin_fast_checkers_see_both_verdicts() {
    let [(qa, qn), (sa, sn), (ua, un)] = agreement_sweep(600);
    // the sweep must exercise each fast checker on both linearizable and violating histories
    assert!(
        qa > 200 && qn > 40 && qa - qn > 40,
        "queue: {qa} applicable, {qn} violations"
    );
    assert!(
        sa > 150 && sn > 30 && sa - sn > 30,
        "semaphore: {sa} applicable, {sn} violations"
    );
    assert!(
        ua > 100 && un > 20 && ua - un > 20,
        "semaphore with unknowns or a recoverer: {ua} applicable, {un} violations"
    );
}

/// Whether some process releases more than it has acquired (successfully) so far.
fn outpaced(h: &History) -> bool {
    let mut order: Vec<&Op> = h.ops.iter().collect();
    order.sort_by_key(|o| (o.process, o.invoke_ns));
    let mut balance = 0i128;
    let mut process = None;
    for o in order {
        if process != Some(o.process) {
            balance = 0;
            process = Some(o.process);
        }
        balance += match (&o.kind, o.ok) {
            (OpKind::Acquire { n }, Some(true)) => i128::from(*n),
            (OpKind::Release { n }, _) => -i128::from(*n),
            _ => 0,
        };
        if balance < 0 {
            return true;
        }
    }
    false
}

#[test]
#[ignore = "long: run with --ignored to sweep many more seeds"]
fn prop_lin_fast_checkers_agree_long_sweep() {
    println!("{:?}", agreement_sweep(200_000));
}
