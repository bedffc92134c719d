//! Generators of linearizable histories from a simulated concurrent run (seeded, deterministic):
//! for tests, property tests and benchmarks. Operations take effect one at a time at instants
//! `step_ns` apart on a sequential model; each is assigned to an idle process and given an
//! interval around its instant (up to `spread_ns` each side), so intervals of different processes
//! overlap while each process runs one operation at a time.

use super::history::{History, Model, Op, OpKind};
use std::collections::VecDeque;

/// Shape of a generated run.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Number of processes.
    pub procs: usize,
    /// Number of operations.
    pub ops: usize,
    /// Distance between consecutive linearization instants.
    pub step_ns: i64,
    /// How far an invocation / return may lie from its linearization instant.
    pub spread_ns: i64,
    /// Emit refused operations (full queue, failed try-acquire, failed CAS); otherwise avoid them.
    pub failures: bool,
    /// Make some processes' last operations never return, and mark `unknown_per_mille` of the
    /// others' outcomes unknown (their results erased, as after a crash).
    pub pending: bool,
    /// Outcomes marked unknown, per thousand operations, when `pending`.
    pub unknown_per_mille: u64,
    /// The seed.
    pub seed: u64,
}

impl GenConfig {
    /// `ops` operations by `procs` processes from `seed`, overlapping, no failures, no pending.
    pub fn new(procs: usize, ops: usize, seed: u64) -> GenConfig {
        GenConfig {
            procs,
            ops,
            step_ns: 10,
            spread_ns: 25,
            failures: false,
            pending: false,
            unknown_per_mille: 50,
            seed,
        }
    }
}

/// splitmix64: small, fast, good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// What an operation did at its instant, decided by the caller's sequential model; `None` means
/// the chosen process cannot act now (try another instant).
type Act<'a> = dyn FnMut(&mut Rng, usize) -> Option<(OpKind, bool)> + 'a;

fn run(cfg: &GenConfig, model: Model, act: &mut Act<'_>) -> History {
    let mut rng = Rng::new(cfg.seed);
    let procs = cfg.procs.max(1);
    let mut last_ret = vec![i64::MIN; procs];
    let mut last_op: Vec<Option<usize>> = vec![None; procs];
    let mut ops: Vec<Op> = Vec::with_capacity(cfg.ops);
    let mut t: i64 = 1_000;
    let mut stalls = 0;
    while ops.len() < cfg.ops && stalls < 1_000_000 {
        t += cfg.step_ns;
        let start = rng.below(procs as u64) as usize;
        let Some(p) = (0..procs)
            .map(|k| (start + k) % procs)
            .find(|&p| last_ret[p] < t)
        else {
            continue;
        };
        let Some((kind, ok)) = act(&mut rng, p) else {
            stalls += 1;
            continue;
        };
        let spread = cfg.spread_ns.max(0) as u64 + 1;
        let invoke = (t - rng.below(spread) as i64).max(last_ret[p].saturating_add(1));
        let ret = t + rng.below(spread) as i64;
        last_ret[p] = ret;
        last_op[p] = Some(ops.len());
        ops.push(Op {
            process: p as u64,
            kind,
            ok: Some(ok),
            invoke_ns: invoke,
            return_ns: Some(ret),
            line: 0,
        });
    }
    if cfg.pending {
        for i in last_op.into_iter().flatten() {
            if rng.below(2) == 0 {
                ops[i].return_ns = None;
                ops[i].ok = None;
            }
        }
        for op in ops.iter_mut() {
            if op.ok.is_some() && rng.below(1000) < cfg.unknown_per_mille {
                op.ok = None;
                match &mut op.kind {
                    OpKind::Dequeue { value } | OpKind::Read { value, .. } => *value = None,
                    _ => {}
                }
            }
        }
    }
    // number lines as if written in this order after a header
    for (i, op) in ops.iter_mut().enumerate() {
        op.line = i + 2;
    }
    History {
        header: super::history::Header::new(model),
        ops,
    }
}

/// A linearizable queue history with distinct values `1, 2, …`.
pub fn queue_history(cfg: &GenConfig, capacity: Option<u64>) -> History {
    let mut q: VecDeque<i64> = VecDeque::new();
    let mut next = 0i64;
    let failures = cfg.failures;
    run(cfg, Model::Queue { capacity }, &mut |rng, _| {
        let full = capacity.is_some_and(|c| q.len() as u64 >= c);
        if rng.below(2) == 0 {
            if full {
                return failures.then(|| (OpKind::Enqueue { value: next + 1 }, false));
            }
            next += 1;
            q.push_back(next);
            Some((OpKind::Enqueue { value: next }, true))
        } else {
            Some((
                OpKind::Dequeue {
                    value: q.pop_front(),
                },
                true,
            ))
        }
    })
}

/// A linearizable semaphore history: each process alternates acquire(n) and release(n).
pub fn semaphore_history(cfg: &GenConfig, permits: u64) -> History {
    let mut avail = permits;
    let mut holding = vec![0u64; cfg.procs.max(1)];
    let failures = cfg.failures;
    run(cfg, Model::Semaphore { permits }, &mut |rng, p| {
        if holding[p] > 0 {
            let n = holding[p];
            holding[p] = 0;
            avail += n;
            return Some((OpKind::Release { n }, true));
        }
        let n = 1 + rng.below(permits.clamp(1, 2));
        if avail >= n {
            avail -= n;
            holding[p] = n;
            Some((OpKind::Acquire { n }, true))
        } else {
            failures.then_some((OpKind::Acquire { n }, false))
        }
    })
}

/// A linearizable register history over `keys` keys (`k0`, `k1`, …) with distinct written values.
pub fn register_history(cfg: &GenConfig, keys: usize) -> History {
    let keys = keys.max(1);
    let mut regs: Vec<Option<i64>> = vec![None; keys];
    let mut next = 0i64;
    let failures = cfg.failures;
    run(cfg, Model::Register, &mut |rng, _| {
        let k = rng.below(keys as u64) as usize;
        let key = format!("k{k}");
        match rng.below(3) {
            0 => Some((
                OpKind::Read {
                    key,
                    value: regs[k],
                },
                true,
            )),
            1 => {
                next += 1;
                regs[k] = Some(next);
                Some((OpKind::Write { key, value: next }, true))
            }
            _ => {
                next += 1;
                let expected = if rng.below(2) == 0 || !failures {
                    regs[k]
                } else {
                    Some(next + 1_000_000)
                };
                let ok = expected == regs[k];
                if ok {
                    regs[k] = Some(next);
                }
                Some((
                    OpKind::Cas {
                        key,
                        expected,
                        value: next,
                    },
                    ok,
                ))
            }
        }
    })
}
