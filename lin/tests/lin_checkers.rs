//! Hand-written histories for each model and checker: the classic good and bad cases, pending
//! operations, unknown outcomes, and the time limit.

use std::time::Instant;
use synclab_lin::simulate::{register_history, GenConfig};
use synclab_lin::{
    check, search, CheckOptions, History, Model, Op, OpKind, RegisterModel, SearchResult, Verdict,
};

fn op(p: u64, kind: OpKind, inv: i64, ret: i64) -> Op {
    Op::new(p, kind, inv, ret)
}
fn enq(v: i64) -> OpKind {
    OpKind::Enqueue { value: v }
}
fn deq(v: Option<i64>) -> OpKind {
    OpKind::Dequeue { value: v }
}
fn acq(n: u64) -> OpKind {
    OpKind::Acquire { n }
}
fn rel(n: u64) -> OpKind {
    OpKind::Release { n }
}
fn read(k: &str, v: Option<i64>) -> OpKind {
    OpKind::Read {
        key: k.into(),
        value: v,
    }
}
fn write(k: &str, v: i64) -> OpKind {
    OpKind::Write {
        key: k.into(),
        value: v,
    }
}
fn pending(mut o: Op) -> Op {
    o.return_ns = None;
    o.ok = None;
    o
}
fn unknown(mut o: Op) -> Op {
    o.ok = None;
    o
}
fn refused(mut o: Op) -> Op {
    o.ok = Some(false);
    o
}

fn history(model: Model, ops: Vec<Op>) -> History {
    let mut h = History::new(model);
    for (i, mut o) in ops.into_iter().enumerate() {
        o.line = i + 2;
        h.ops.push(o);
    }
    h.validate().unwrap();
    h
}

/// Checks with the automatic choice and with the general checker only; both must agree.
fn verdict(h: &History) -> Verdict {
    let auto = check(h, &CheckOptions::default());
    let general = check(
        h,
        &CheckOptions {
            general_only: true,
            ..CheckOptions::default()
        },
    );
    assert_eq!(auto.verdict, general.verdict, "fast and general disagree");
    if auto.verdict == Verdict::NotLinearizable {
        assert!(!auto.witness.is_empty());
        assert!(!general.witness.is_empty());
    }
    auto.verdict
}

const QUEUE: Model = Model::Queue { capacity: None };
use Verdict::{Linearizable as Yes, NotLinearizable as No};

#[test]
fn queue_basics() {
    assert_eq!(verdict(&history(QUEUE, vec![])), Yes);
    // concurrent enqueues may take effect in either order
    let h = history(
        QUEUE,
        vec![
            op(0, enq(1), 0, 10),
            op(1, enq(2), 0, 10),
            op(2, deq(Some(2)), 20, 30),
            op(2, deq(Some(1)), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), Yes);
    // FIFO violation
    let h = history(
        QUEUE,
        vec![
            op(0, enq(1), 0, 10),
            op(0, enq(2), 20, 30),
            op(1, deq(Some(2)), 40, 50),
            op(1, deq(Some(1)), 60, 70),
        ],
    );
    assert_eq!(verdict(&h), No);
    // dequeue before its enqueue began
    let h = history(
        QUEUE,
        vec![op(1, deq(Some(1)), 0, 5), op(0, enq(1), 10, 20)],
    );
    assert_eq!(verdict(&h), No);
    // equal times overlap
    let h = history(
        QUEUE,
        vec![op(1, deq(Some(1)), 0, 10), op(0, enq(1), 10, 20)],
    );
    assert_eq!(verdict(&h), Yes);
    // empty while a value was certainly inside
    let h = history(QUEUE, vec![op(0, enq(1), 0, 10), op(1, deq(None), 20, 30)]);
    assert_eq!(verdict(&h), No);
    // covered by two values together, neither alone
    let h = history(
        QUEUE,
        vec![
            op(0, enq(1), 0, 1),
            op(0, deq(Some(1)), 10, 11),
            op(1, enq(2), 7, 8),
            op(1, deq(Some(2)), 20, 21),
            op(2, deq(None), 5, 15),
        ],
    );
    assert_eq!(verdict(&h), No);
}

#[test]
fn queue_pending_unknown_and_bounded() {
    // a dequeue saw a value whose enqueue never returned: it took effect
    let h = history(
        QUEUE,
        vec![pending(op(0, enq(1), 0, 0)), op(1, deq(Some(1)), 10, 20)],
    );
    assert_eq!(verdict(&h), Yes);
    // ...or it never took effect
    let h = history(
        QUEUE,
        vec![pending(op(0, enq(1), 0, 0)), op(1, deq(None), 10, 20)],
    );
    assert_eq!(verdict(&h), Yes);
    // an unknown dequeue may have removed the head
    let h = history(
        QUEUE,
        vec![
            op(0, enq(1), 0, 10),
            unknown(op(1, deq(Some(99)), 20, 30)),
            op(2, deq(None), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), Yes);
    let bounded = Model::Queue { capacity: Some(1) };
    let h = history(
        bounded.clone(),
        vec![op(0, enq(1), 0, 10), refused(op(0, enq(2), 20, 30))],
    );
    assert_eq!(verdict(&h), Yes);
    let h = history(
        bounded.clone(),
        vec![op(0, enq(1), 0, 10), op(0, enq(2), 20, 30)],
    );
    assert_eq!(verdict(&h), No);
    let h = history(bounded, vec![refused(op(0, enq(2), 20, 30))]);
    assert_eq!(verdict(&h), No);
}

#[test]
fn semaphore_basics() {
    let m = Model::Semaphore { permits: 2 };
    let h = history(
        m.clone(),
        vec![
            op(0, acq(1), 0, 10),
            op(1, acq(1), 0, 10),
            op(2, acq(1), 5, 30),
            op(0, rel(1), 20, 25),
        ],
    );
    assert_eq!(verdict(&h), Yes);
    // over-admission: three holders at once
    let h = history(
        m.clone(),
        vec![
            op(0, acq(1), 0, 10),
            op(1, acq(1), 0, 10),
            op(2, acq(1), 5, 15),
            op(0, rel(1), 20, 25),
        ],
    );
    assert_eq!(verdict(&h), No);
    // a try-acquire that failed although permits were free
    let h = history(m.clone(), vec![refused(op(0, acq(1), 0, 10))]);
    assert_eq!(verdict(&h), No);
    let h = history(
        m.clone(),
        vec![op(0, acq(2), 0, 10), refused(op(1, acq(1), 20, 30))],
    );
    assert_eq!(verdict(&h), Yes);
    // release of a permit nobody holds must be refused
    let h = history(m.clone(), vec![op(0, rel(1), 0, 10)]);
    assert_eq!(verdict(&h), No);
    let h = history(m.clone(), vec![refused(op(0, rel(1), 0, 10))]);
    assert_eq!(verdict(&h), Yes);
    // an acquire that never returned may or may not hold a permit
    let h = history(
        m,
        vec![
            pending(op(0, acq(2), 0, 0)),
            op(1, acq(2), 10, 20),
            op(1, rel(2), 30, 40),
        ],
    );
    assert_eq!(verdict(&h), Yes);
}

/// The shape of `synclab run semaphore --kill`: a holder of every permit dies inside one more
/// acquire (never returns), and another process (the run's parent, recovering) releases the dead
/// holder's permits. The fast checker decides it, and agrees with the general one.
#[test]
fn semaphore_killed_holder_recovered_by_another_process() {
    let m = Model::Semaphore { permits: 2 };
    let killed = |survivor_acquired_at: i64| {
        history(
            m.clone(),
            vec![
                op(0, acq(1), 0, 5),
                op(0, rel(1), 6, 8),
                op(0, acq(2), 10, 20),
                pending(op(0, acq(1), 25, 0)),
                op(1, acq(1), 22, survivor_acquired_at),
                op(1, rel(1), 70, 80),
                op(2, rel(2), 40, 50),
            ],
        )
    };
    // the survivor's acquire returned after the recovery began: fine
    let h = killed(60);
    assert_eq!(verdict(&h), Yes);
    assert_eq!(
        check(&h, &CheckOptions::default()).checker,
        "fast-semaphore"
    );
    // it returned while the dead holder still held both permits: over-admission
    let h = killed(35);
    assert_eq!(verdict(&h), No);
    let report = check(&h, &CheckOptions::default());
    assert_eq!(report.checker, "fast-semaphore");
    assert!(report.witness.contains(&2) && report.witness.contains(&4));
    // a release with an unknown outcome may have taken effect
    let h = history(
        m,
        vec![
            op(0, acq(2), 0, 10),
            unknown(op(0, rel(2), 20, 30)),
            op(1, acq(2), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), Yes);
}

#[test]
fn register_basics() {
    let h = history(
        Model::Register,
        vec![
            op(0, write("x", 1), 0, 10),
            op(1, read("x", Some(1)), 5, 15),
            op(2, read("y", None), 5, 15),
            op(
                3,
                OpKind::Cas {
                    key: "x".into(),
                    expected: Some(1),
                    value: 2,
                },
                20,
                30,
            ),
            refused(op(
                3,
                OpKind::Cas {
                    key: "x".into(),
                    expected: Some(1),
                    value: 3,
                },
                40,
                50,
            )),
            op(1, read("x", Some(2)), 60, 70),
        ],
    );
    assert_eq!(verdict(&h), Yes);
    // stale read
    let h = history(
        Model::Register,
        vec![
            op(0, write("x", 1), 0, 10),
            op(0, write("x", 2), 20, 30),
            op(1, read("x", Some(1)), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), No);
    // a write that never returned may take effect late
    let h = history(
        Model::Register,
        vec![
            op(0, write("x", 1), 0, 10),
            pending(op(1, write("x", 2), 5, 5)),
            op(2, read("x", Some(1)), 20, 30),
            op(2, read("x", Some(2)), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), Yes);
    // but not flip back
    let h = history(
        Model::Register,
        vec![
            op(0, write("x", 1), 0, 10),
            pending(op(1, write("x", 2), 5, 5)),
            op(2, read("x", Some(2)), 20, 30),
            op(2, read("x", Some(1)), 40, 50),
        ],
    );
    assert_eq!(verdict(&h), No);
}

#[test]
fn witness_of_a_register_violation_is_the_stale_read() {
    let mut h = register_history(&GenConfig::new(4, 300, 5), 3);
    // a read of k0 after everything that returns a value k0 no longer holds
    let end = h.ops.iter().filter_map(|o| o.return_ns).max().unwrap();
    h.ops.push(op(9, write("k0", -1), end + 10, end + 20));
    h.ops.push(op(9, read("k0", None), end + 30, end + 40));
    let r = check(&h, &CheckOptions::default());
    assert_eq!(r.verdict, No);
    assert!(r.witness_minimal);
    let w: Vec<&OpKind> = r.witness.iter().map(|&i| &h.ops[i].kind).collect();
    assert_eq!(w, vec![&write("k0", -1), &read("k0", None)]);
}

#[test]
fn time_limit_answers_unknown() {
    let h = register_history(&GenConfig::new(4, 5_000, 1), 1);
    let all: Vec<usize> = (0..h.ops.len()).collect();
    let r = search(&RegisterModel, &h.ops, &all, Some(Instant::now()));
    assert_eq!(r, SearchResult::GaveUp);
    let r = check(
        &h,
        &CheckOptions {
            deadline: Some(Instant::now()),
            ..CheckOptions::default()
        },
    );
    assert_eq!(r.verdict, Verdict::Unknown);
}
