//! Loom model of the race between two consumers' claims of `dequeue_pos` and the corruption
//! check `check_not_ahead` (`core/src/ring/mpmc/ops.rs`): a consumer that reads another's
//! advanced `dequeue_pos`, then finds the slot there empty, must also see an `enqueue_pos` at
//! least as new as the claim that let the other consumer advance, or it reports a spurious
//! `Corrupt("dequeue_pos … is ahead of enqueue_pos …")` on an honest queue.
//!
//! The ordering that carries this is the `Release` half of the consumer's claim CAS (in
//! `pop_steps`, `pop_once`, `skip_tombstone`, `try_pop_slice`) paired with the `Acquire` load of `dequeue_pos`
//! that precedes the check. `mpmc-consumers` (two consumers, bound 1, a producer that pushes
//! both records before either consumer can see one empty) does not reach the window; these
//! shapes are the smallest that do: capacity 2, one producer thread pushing while the consumers
//! run (so `enqueue_pos` changes concurrently with the check).
//!
//! - `try`: the producer pushes 1 record; two consumers `try_pop` once each.
//! - `blocking`: the producer pushes 2 records; consumer A `pop`s once (blocking: the inline
//!   `pop_once`, then `try_pop`), consumer B `try_pop`s once.
//!
//! - `two-ahead`: the producer `try_push`es 2 records; consumer A `try_pop`s once, consumer B
//!   twice, so A can read a `dequeue_pos` two claims ahead of what its own `seq` load taught it
//!   (through its failed CAS, or the reload after a slot another consumer freed).
//!
//! - `slice`: the producer `try_push`es 2 records; consumer A `try_pop`s once, consumer B
//!   `try_pop_slice`s into a buffer of 2 (one claim of both positions, `batch.rs`).
//!
//! Checked: no consumer sees `Corrupt`; every record is popped at most once, and what the
//! consumers did not pop is still in the queue (no loss, no duplicate); no data race on a cell.

use super::harness::{explore, in_turn, Explored, ModelOptions, ModelSpec};
use crate::model_runners;
use loom::thread;
use synclab_core::model::{Memory, Mpmc, Mutant};
use synclab_core::RingError;

/// Two consumers racing their claims against a concurrent producer.
pub static CLAIMS: ModelSpec = ModelSpec {
    name: "mpmc-claims",
    about: "mpmc consumers' claims vs check_not_ahead: capacity 2, 1 producer pushing 1 or 2 \
            records while 2 consumers pop (try_pop / pop / try_pop_slice)",
    default_preemptions: Some(2),
    mutants: &[Mutant::MpmcRelaxedPublish],
    run: |m, o| in_turn(&[run_try, run_blocking, run_two_ahead, run_slice], m, o),
};

/// A consumer's `try_pop`: the record, or `None` when honestly empty; panics on anything else.
fn try_pop_once<M: Memory>(q: &Mpmc<u32, M>) -> Option<u32> {
    match q.try_pop() {
        Ok(v) => Some(v),
        Err(RingError::Empty) => None,
        Err(e) => panic!("an honest queue reported {e}"),
    }
}

/// Checks the popped records plus what is left form `0..n` exactly once (drains the queue).
fn check_all_once<M: Memory>(q: &Mpmc<u32, M>, popped: Vec<u32>, n: u32) {
    let mut all = popped;
    while let Some(v) = try_pop_once(q) {
        all.push(v);
    }
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>(), "no loss, no duplicate");
}

fn try_shape<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let qp = q.clone();
        let p = thread::spawn(move || qp.try_push(0).unwrap());
        let spawn_consumer = || {
            let q = q.clone();
            thread::spawn(move || try_pop_once(&q))
        };
        let a = spawn_consumer();
        let b = spawn_consumer();
        p.join().unwrap();
        let popped: Vec<u32> = [a.join().unwrap(), b.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        check_all_once(&q, popped, 1);
    })
}

fn blocking_shape<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let qp = q.clone();
        let p = thread::spawn(move || {
            qp.push(0).unwrap();
            qp.push(1).unwrap();
        });
        let qa = q.clone();
        let a = thread::spawn(move || match qa.pop() {
            Ok(v) => v,
            Err(e) => panic!("an honest queue reported {e}"),
        });
        let qb = q.clone();
        let b = thread::spawn(move || try_pop_once(&qb));
        p.join().unwrap();
        let mut popped = vec![a.join().unwrap()];
        popped.extend(b.join().unwrap());
        check_all_once(&q, popped, 2);
    })
}

fn two_ahead_shape<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let qp = q.clone();
        let p = thread::spawn(move || {
            qp.try_push(0).unwrap();
            qp.try_push(1).unwrap();
        });
        let qa = q.clone();
        let a = thread::spawn(move || try_pop_once(&qa));
        let qb = q.clone();
        let b = thread::spawn(move || [try_pop_once(&qb), try_pop_once(&qb)]);
        p.join().unwrap();
        let mut popped: Vec<u32> = a.join().unwrap().into_iter().collect();
        popped.extend(b.join().unwrap().into_iter().flatten());
        check_all_once(&q, popped, 2);
    })
}

fn slice_shape<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let q = Mpmc::<u32, M>::builder().capacity(2).heap().unwrap();
        let qp = q.clone();
        let p = thread::spawn(move || {
            qp.try_push(0).unwrap();
            qp.try_push(1).unwrap();
        });
        let qa = q.clone();
        let a = thread::spawn(move || try_pop_once(&qa));
        let qb = q.clone();
        let b = thread::spawn(move || {
            let mut buf = [0u32; 2];
            match qb.try_pop_slice(&mut buf) {
                Ok(k) => buf[..k].to_vec(),
                Err(RingError::Empty) => Vec::new(),
                Err(e) => panic!("an honest queue reported {e}"),
            }
        });
        p.join().unwrap();
        let mut popped: Vec<u32> = a.join().unwrap().into_iter().collect();
        popped.extend(b.join().unwrap());
        check_all_once(&q, popped, 2);
    })
}

model_runners!(
    mutants = [MpmcRelaxedPublish],
    run_try => try_shape,
    run_blocking => blocking_shape,
    run_two_ahead => two_ahead_shape,
    run_slice => slice_shape,
);
