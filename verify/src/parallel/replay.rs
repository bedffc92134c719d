//! Replays a parallel property test's case under loom: the same operations, the prefix in one
//! loom thread and each branch in its own, the same mutant switched on in the loom memory, the
//! history checked by `synclab-lin` in every interleaving. [`minimal`] raises loom's preemption
//! bound from 0 until an interleaving fails, so the failing execution it prints (every atomic
//! access and operation of every actor, in the order loom ran them: [`super::steps`]) has the
//! fewest preemptions that show the bug. Loom's exploration is deterministic: a second replay
//! prints the same interleaving.

use super::case::{Case, QOp, SOp};
use super::steps::{self, Logged};
use crate::models::harness::{explore, Explored, Held, ModelOptions};
use crate::shuttle::record::Recorder;
use loom::thread;
use std::sync::Arc;
use synclab_core::model::{Memory, Semaphore, Spsc};
use synclab_core::{RingError, SemError};
use synclab_lin::{Model, OpKind};

/// The highest preemption bound [`minimal`] tries.
pub const MAX_PREEMPTIONS: usize = 3;

/// A failing interleaving found by [`minimal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The smallest preemption bound at which an interleaving fails.
    pub preemptions: usize,
    /// Executions loom explored at that bound, up to and including the failing one.
    pub interleavings: u64,
    /// The failure (the checker's witness, loom's deadlock or data-race report, a panic).
    pub message: String,
    /// The failing execution, step by step (`actor: access(ordering) at core/src/…:line`).
    pub steps: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "fails under loom at preemption bound {} (execution {}): {}",
            self.preemptions, self.interleavings, self.message
        )?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  {:>3} {s}", i + 1)?;
        }
        Ok(())
    }
}

/// Explores `body` at preemption bounds 0, 1, … [`MAX_PREEMPTIONS`]: the first failing
/// execution, `Ok(None)` if every interleaving passes at every bound, `Err` if loom refused.
pub fn minimal<F>(body: F) -> Result<Option<Failure>, String>
where
    F: Fn() + Sync + Send + Clone + 'static,
{
    for preemptions in 0..=MAX_PREEMPTIONS {
        let body = body.clone();
        let e: Explored = explore(
            &ModelOptions {
                preemptions: Some(preemptions),
            },
            move || {
                steps::reset();
                body();
            },
        );
        if let Some(why) = e.refused {
            return Err(why);
        }
        if !e.ok {
            return Ok(Some(Failure {
                preemptions,
                interleavings: e.interleavings,
                message: e.message.unwrap_or_default(),
                steps: steps::lines(),
            }));
        }
    }
    Ok(None)
}

/// Runs `op` as actor `who`, logging its invocation and answer, and records it.
fn logged<R: std::fmt::Debug>(
    rec: &Recorder,
    who: u64,
    name: &str,
    op: impl FnOnce() -> R,
    what: impl FnOnce(&R) -> Option<(OpKind, bool)>,
) -> R {
    steps::note(&format!("invoke {name}"));
    let r = rec.record_if(who, op, what);
    steps::note(&format!("{name} returns {r:?}"));
    r
}

/// Panics with the checker's explanation unless the history is linearizable.
fn check(rec: &Recorder) {
    if let Err(e) = rec.check() {
        panic!("not linearizable: {e}");
    }
}

/// The spsc case (`capacity` slots) as the real-thread test runs it: the prefix by one actor
/// with both roles; branch 0's `Push`es by the producer, branch 1's `Pop`s by the consumer (the
/// other ops of each branch are no-ops); every answer recorded.
pub fn spsc<const MUTANT: u32>(
    case: &Case<QOp>,
    capacity: usize,
) -> Result<Option<Failure>, String> {
    let case = Arc::new(case.clone());
    minimal(move || spsc_once::<Logged<MUTANT>>(&case, capacity))
}

fn push<M: Memory>(
    rec: &Recorder,
    p: &mut synclab_core::model::Producer<u64, M>,
    who: u64,
    v: u64,
) {
    let r = logged(
        rec,
        who,
        &format!("try_push({v})"),
        || p.try_push(v),
        |r| Some((OpKind::Enqueue { value: v as i64 }, r.is_ok())),
    );
    assert!(matches!(r, Ok(()) | Err(RingError::Full)), "{r:?}");
}

fn pop<M: Memory>(rec: &Recorder, c: &mut synclab_core::model::Consumer<u64, M>, who: u64) {
    let r = logged(
        rec,
        who,
        "try_pop",
        || c.try_pop(),
        |r| {
            let value = r.as_ref().ok().map(|v| *v as i64);
            Some((OpKind::Dequeue { value }, true))
        },
    );
    assert!(matches!(r, Ok(_) | Err(RingError::Empty)), "{r:?}");
}

fn spsc_once<M: Memory>(case: &Arc<Case<QOp>>, capacity: usize) {
    let ring = Held::new(Spsc::<u64, M>::builder().capacity(capacity).heap().unwrap());
    let rec = Arc::new(Recorder::new(Model::Queue {
        capacity: Some(capacity as u64),
    }));
    let mut producer = Held::new(ring.producer().unwrap());
    let mut consumer = Held::new(ring.consumer().unwrap());
    let (c, r) = (Arc::clone(case), Arc::clone(&rec));
    let prefix = thread::spawn(move || {
        steps::actor("prefix");
        let mut next = 0;
        for op in &c.prefix {
            match op {
                QOp::Push => {
                    push(&r, &mut producer, 0, next);
                    next += 1;
                }
                QOp::Pop => pop(&r, &mut consumer, 0),
            }
        }
        (producer, consumer, next)
    });
    let (mut producer, mut consumer, next) = prefix.join().unwrap();
    let count = |b: usize, op: QOp| {
        case.branches
            .get(b)
            .map_or(0, |ops| ops.iter().filter(|o| **o == op).count())
    };
    let (pushes, pops) = (count(0, QOp::Push) as u64, count(1, QOp::Pop));
    let r = Arc::clone(&rec);
    let p = thread::spawn(move || {
        steps::actor("b0");
        (next..next + pushes).for_each(|v| push(&r, &mut producer, 1, v));
        producer
    });
    let r = Arc::clone(&rec);
    let c = thread::spawn(move || {
        steps::actor("b1");
        (0..pops).for_each(|_| pop(&r, &mut consumer, 2));
        consumer
    });
    let (producer, consumer) = (p.join().unwrap(), c.join().unwrap());
    // Dropped before a failing check panics (loom operations while unwinding would abort).
    drop((producer, consumer, ring));
    check(&rec);
}

/// The semaphore case (`permits` free, at most `max`): the prefix and each branch an actor that
/// tracks the permits it holds; each gives back what it still holds at the end (recorded), and
/// the count must end where it started.
pub fn semaphore<const MUTANT: u32>(
    case: &Case<SOp>,
    permits: u32,
    max: u32,
) -> Result<Option<Failure>, String> {
    let case = Arc::new(case.clone());
    minimal(move || semaphore_once::<Logged<MUTANT>>(&case, permits, max))
}

/// Runs `ops` as actor `who` on `sem`; the permits it still holds.
fn sem_ops<M: Memory>(rec: &Recorder, sem: &Semaphore<M>, who: u64, ops: &[SOp]) -> u32 {
    let mut held = 0;
    for op in ops {
        match *op {
            SOp::TryAcquire(n) | SOp::Acquire(n) => {
                let block = matches!(op, SOp::Acquire(_));
                let name = if block {
                    "acquire_many"
                } else {
                    "try_acquire_many"
                };
                let r = logged(
                    rec,
                    who,
                    &format!("{name}({n})"),
                    || {
                        let p = if block {
                            sem.acquire_many(n)
                        } else {
                            sem.try_acquire_many(n)
                        };
                        p.map(|p| p.forget())
                    },
                    |r| Some((OpKind::Acquire { n: n as u64 }, r.is_ok())),
                );
                match r {
                    Ok(()) => held += n,
                    Err(SemError::WouldBlock) if !block => {}
                    Err(e) => panic!("{name}({n}): {e}"),
                }
            }
            SOp::Release if held > 0 => {
                let r = logged(
                    rec,
                    who,
                    "release(1)",
                    || sem.release(1),
                    |r| Some((OpKind::Release { n: 1 }, r.is_ok())),
                );
                r.unwrap_or_else(|e| panic!("release: {e}"));
                held -= 1;
            }
            SOp::Release => {}
        }
    }
    held
}

fn semaphore_once<M: Memory>(case: &Arc<Case<SOp>>, permits: u32, max: u32) {
    let sem = Held::new(Arc::new(
        Semaphore::<M>::builder()
            .permits(permits)
            .max(max)
            .heap()
            .unwrap(),
    ));
    let rec = Arc::new(Recorder::new(Model::Semaphore {
        permits: permits as u64,
    }));
    let actors: Vec<(String, Vec<SOp>)> =
        std::iter::once(("prefix".to_string(), case.prefix.clone()))
            .chain(
                case.branches
                    .iter()
                    .enumerate()
                    .map(|(b, ops)| (format!("b{b}"), ops.clone())),
            )
            .collect();
    let spawn = |who: usize, (name, ops): (String, Vec<SOp>)| {
        let (s, r) = (Held::new(Arc::clone(&sem)), Arc::clone(&rec));
        thread::spawn(move || {
            steps::actor(&name);
            sem_ops(&r, &s, who as u64, &ops)
        })
    };
    let mut actors = actors.into_iter().enumerate();
    let (who, prefix) = actors.next().expect("the prefix");
    // An empty prefix takes no thread (loom allows 5 threads per execution, main included).
    let mut held = vec![if prefix.1.is_empty() {
        0
    } else {
        spawn(who, prefix).join().unwrap()
    }];
    let branches: Vec<_> = actors.map(|(who, a)| spawn(who, a)).collect();
    held.extend(branches.into_iter().map(|h| h.join().unwrap()));
    for (who, n) in held.into_iter().enumerate() {
        if n > 0 {
            rec.record(
                who as u64,
                || sem.release(n),
                |r| (OpKind::Release { n: n as u64 }, r.is_ok()),
            )
            .unwrap_or_else(|e| panic!("final release: {e}"));
        }
    }
    let value = sem.value();
    drop(sem);
    assert_eq!(
        value.ok(),
        Some(permits),
        "the count must end where it began"
    );
    check(&rec);
}
