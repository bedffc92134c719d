//! Benchmarks of the linearizability checkers (not a test):
//! `cargo run --release -p synclab-lin --example lin_bench [-- --quick]`.
//!
//! - the fast FIFO checker on a 1,000,000-operation linearizable queue history from a simulated
//!   run of 4 processes with overlapping intervals (target: under 2 s);
//! - the general checker (Wing–Gong + Lowe memoization) on a 10,000-operation register history of
//!   5 processes, one key (no P-compositional split to help) and 8 keys;
//! - the general checker on queue and semaphore histories, and witness search on a violation;
//! - writing and parsing the 1M-op history.
//!
//! All histories come from fixed seeds.

use std::time::Instant;
use synclab_lin::simulate::{queue_history, register_history, semaphore_history, GenConfig};
use synclab_lin::{check, parse_history, write_history, CheckOptions, History, Op, OpKind};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!("{what:<62} {:>9.3} s", start.elapsed().as_secs_f64());
    out
}

fn overlap(h: &History) -> f64 {
    // average number of other operations in flight at an invocation
    let mut ev: Vec<(i64, i32)> = Vec::new();
    for o in &h.ops {
        ev.push((o.invoke_ns, 1));
        ev.push((o.return_ns.unwrap_or(i64::MAX), -1));
    }
    ev.sort_unstable_by_key(|&(t, d)| (t, -d));
    let (mut cur, mut sum, mut n) = (0i64, 0i64, 0i64);
    for (_, d) in ev {
        if d > 0 {
            sum += cur;
            n += 1;
        }
        cur += i64::from(d);
    }
    sum as f64 / n.max(1) as f64
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 100_000 } else { 1_000_000 };
    let general_only = CheckOptions {
        general_only: true,
        ..CheckOptions::default()
    };

    let q = timed(&format!("generate {n}-op queue history (4 procs)"), || {
        queue_history(&GenConfig::new(4, n, 42), None)
    });
    let empties = q
        .ops
        .iter()
        .filter(|o| o.kind == OpKind::Dequeue { value: None })
        .count();
    println!(
        "  {} ops, {} empty dequeues, {:.2} other ops in flight per invocation on average",
        q.ops.len(),
        empties,
        overlap(&q)
    );
    let r = timed(&format!("fast FIFO checker, {n} ops (check())"), || {
        check(&q, &CheckOptions::default())
    });
    println!("  verdict {:?} by {}", r.verdict, r.checker);
    assert_eq!(r.checker, "fast-queue");

    let mut text = Vec::new();
    timed(
        &format!("write {n}-op history (JSON Lines, in memory)"),
        || write_history(&mut text, &q).unwrap(),
    );
    println!("  {:.1} MB", text.len() as f64 / 1e6);
    let text = String::from_utf8(text).unwrap();
    let parsed = timed(&format!("parse {n}-op history"), || {
        parse_history(&text).unwrap()
    });
    assert_eq!(parsed.ops.len(), q.ops.len());

    // a violation near the end: the fast checker finds it, the witness is minimized
    let mut bad = q.clone();
    let end = bad.ops.iter().filter_map(|o| o.return_ns).max().unwrap();
    let mut extra = Op::new(9, OpKind::Dequeue { value: Some(1) }, end + 10, end + 20);
    extra.line = bad.ops.len() + 2;
    bad.ops.push(extra);
    let r = timed(
        &format!("fast FIFO checker + witness, {n} ops, duplicate"),
        || check(&bad, &CheckOptions::default()),
    );
    println!(
        "  verdict {:?}, witness of {} ops ({})",
        r.verdict,
        r.witness.len(),
        r.violation.unwrap_or_default()
    );

    for (keys, label) in [(1, "1 key"), (8, "8 keys")] {
        let reg = register_history(&GenConfig::new(5, 10_000, 7), keys);
        let r = timed(
            &format!("general checker, 10000-op register, 5 procs, {label}"),
            || check(&reg, &general_only),
        );
        println!("  verdict {:?}, overlap {:.2}", r.verdict, overlap(&reg));
    }
    let mut wide = GenConfig::new(5, 10_000, 8);
    wide.spread_ns = 200;
    let reg = register_history(&wide, 1);
    let r = timed(
        "general checker, 10000-op register, 5 procs, 1 key, long ops",
        || check(&reg, &general_only),
    );
    println!("  verdict {:?}, overlap {:.2}", r.verdict, overlap(&reg));
    let mut reg = register_history(&GenConfig::new(5, 100_000, 7), 1);
    let end = reg.ops.iter().filter_map(|o| o.return_ns).max().unwrap();
    for (k, kind) in [
        OpKind::Write {
            key: "k0".into(),
            value: -1,
        },
        OpKind::Write {
            key: "k0".into(),
            value: -2,
        },
        OpKind::Read {
            key: "k0".into(),
            value: Some(-1),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let t = end + 100 * (k as i64 + 1);
        let mut op = Op::new(9, kind, t, t + 50);
        op.line = reg.ops.len() + 2;
        reg.ops.push(op);
    }
    let r = timed(
        "general checker + witness, 100003-op register, stale read at end",
        || check(&reg, &CheckOptions::default()),
    );
    println!(
        "  verdict {:?}, witness of {} ops, minimal: {}",
        r.verdict,
        r.witness.len(),
        r.witness_minimal
    );
    let reg = register_history(&GenConfig::new(5, 100_000, 7), 1);
    let r = timed(
        "general checker, 100000-op register, 5 procs, 1 key",
        || check(&reg, &general_only),
    );
    println!("  verdict {:?}", r.verdict);

    for m in [10_000, 100_000] {
        let mut cfg = GenConfig::new(4, m, 42);
        cfg.failures = true;
        let qb = queue_history(&cfg, Some(64));
        let refused = qb.ops.iter().filter(|o| o.ok == Some(false)).count();
        let r = timed(
            &format!("general checker, {m}-op queue, capacity 64, 4 procs"),
            || check(&qb, &CheckOptions::default()),
        );
        println!(
            "  verdict {:?} by {} ({refused} refused enqueues: fast checker n/a)",
            r.verdict, r.checker
        );
    }
    // violations the fast checker cannot take (refused enqueues): general search + witness
    let mut cfg = GenConfig::new(4, 100_000, 42);
    cfg.failures = true;
    let mut qb = queue_history(&cfg, Some(64));
    let mid = qb.ops.len() / 2;
    let (kind, at) = qb.ops[mid..]
        .iter()
        .find(|o| matches!(o.kind, OpKind::Dequeue { value: Some(_) }))
        .map(|o| (o.kind.clone(), o.return_ns.unwrap()))
        .unwrap();
    let mut dup = Op::new(99, kind, at + 1, at + 2);
    dup.line = qb.ops.len() + 2;
    qb.ops.push(dup);
    let r = timed(
        "check + witness, 100001-op capacity-64 queue, refused enqueues, dup",
        || check(&qb, &CheckOptions::default()),
    );
    println!(
        "  verdict {:?} by {}, witness of {} ops, minimal: {}",
        r.verdict,
        r.checker,
        r.witness.len(),
        r.witness_minimal
    );
    // a stale read in the middle of a long one-key register history
    let mut reg = register_history(&GenConfig::new(5, 100_000, 11), 1);
    let mid = reg.ops.len() / 2;
    let t = reg.ops[mid].return_ns.unwrap();
    let mut stale = Op::new(
        99,
        OpKind::Read {
            key: "k0".into(),
            value: Some(1),
        },
        t + 1,
        t + 2,
    );
    stale.line = reg.ops.len() + 2;
    reg.ops.push(stale);
    let r = timed(
        "general checker + witness, 100001-op register, stale read mid",
        || check(&reg, &CheckOptions::default()),
    );
    println!(
        "  verdict {:?}, witness of {} ops, minimal: {}",
        r.verdict,
        r.witness.len(),
        r.witness_minimal
    );
    // over-admission in the middle of a semaphore history with refused try-acquires
    let mut cfg = GenConfig::new(4, 100_000, 5);
    cfg.failures = true;
    let mut sem = semaphore_history(&cfg, 2);
    let t = sem.ops[sem.ops.len() / 2].invoke_ns;
    for k in 0..3 {
        let mut op = Op::new(100 + k, OpKind::Acquire { n: 1 }, t - 1, t);
        op.line = sem.ops.len() + 2;
        sem.ops.push(op);
    }
    let r = timed(
        "general checker + witness, 100003-op semaphore, over-admission mid",
        || check(&sem, &CheckOptions::default()),
    );
    println!(
        "  verdict {:?} by {}, witness of {} ops, minimal: {}",
        r.verdict,
        r.checker,
        r.witness.len(),
        r.witness_minimal
    );
    for &i in &r.witness {
        let o = &sem.ops[i];
        println!(
            "    p{} {} [{} .. {:?}]",
            o.process,
            o.describe(),
            o.invoke_ns,
            o.return_ns
        );
    }
    let s = semaphore_history(&GenConfig::new(4, n, 3), 2);
    let r = timed(&format!("fast semaphore checker, {n} ops, 4 procs"), || {
        check(&s, &CheckOptions::default())
    });
    println!("  verdict {:?} by {}", r.verdict, r.checker);
    let s10k = semaphore_history(&GenConfig::new(4, 10_000, 3), 2);
    let r = timed("general checker, 10000-op semaphore, 4 procs", || {
        check(&s10k, &general_only)
    });
    println!("  verdict {:?}", r.verdict);
    // last: searches that may give up leave a large memo table to free in the background,
    // which would slow whatever is measured after them
    for (procs, per_mille) in [(4, 1), (16, 1), (4, 10), (4, 50)] {
        let mut cfg = GenConfig::new(procs, 10_000, 21);
        cfg.failures = true;
        cfg.pending = true;
        cfg.unknown_per_mille = per_mille;
        let qp = queue_history(&cfg, Some(64));
        let unknown = qp.ops.iter().filter(|o| o.ok.is_none()).count();
        let r = timed(
            &format!("general, 10000-op queue, cap 64, {procs} procs, {per_mille}‰ unknown"),
            || {
                check(
                    &qp,
                    &CheckOptions {
                        deadline: Some(Instant::now() + std::time::Duration::from_secs(20)),
                        ..CheckOptions::default()
                    },
                )
            },
        );
        println!(
            "  verdict {:?} by {} ({unknown} ops pending or of unknown outcome)",
            r.verdict, r.checker
        );
    }
    let r = timed(
        "general checker, 1000000-op unbounded queue, 4 procs",
        || check(&q, &general_only),
    );
    println!("  verdict {:?}", r.verdict);
}
