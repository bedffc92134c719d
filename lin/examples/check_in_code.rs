//! Checks a history built in code: two clients of a queue, one of which saw a value that was
//! never enqueued. Prints the verdict, the witness, the longest linearizable prefix and the
//! statistics.
//!
//! `cargo run -p synclab-lin --example check_in_code`

use synclab_lin::{check, explain, CheckOptions, History, Model, Op, OpKind, Verdict};

fn main() {
    let mut h = History::new(Model::Queue { capacity: None });
    // process 0 enqueues 1 then 2; process 1 dequeues concurrently
    h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 0, 10));
    h.ops.push(Op::new(0, OpKind::Enqueue { value: 2 }, 20, 30));
    h.ops
        .push(Op::new(1, OpKind::Dequeue { value: Some(1) }, 5, 25));
    h.ops
        .push(Op::new(1, OpKind::Dequeue { value: Some(3) }, 40, 50));
    h.validate().expect("a well-formed history");

    let report = check(&h, &CheckOptions::default());
    println!(
        "verdict: {:?} (checker: {})",
        report.verdict, report.checker
    );
    if report.verdict == Verdict::NotLinearizable {
        println!("witness (no linearization exists for these alone):");
        for &i in &report.witness {
            println!("  p{} {}", h.ops[i].process, h.ops[i].describe());
        }
    }
    println!(
        "stats: {} ops, {} partition(s), {} search states",
        report.stats.ops, report.stats.partitions, report.stats.search.states
    );
    for part in explain(&h, None) {
        println!(
            "{}: {:?}; longest linearizable prefix, {} of {} operations:",
            part.label,
            part.result,
            part.steps.len(),
            part.ops.len()
        );
        for step in &part.steps {
            println!(
                "  {:<22} {} -> {}",
                h.ops[step.op].describe(),
                step.before,
                step.after
            );
        }
    }
}
