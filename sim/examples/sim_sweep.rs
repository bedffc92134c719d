//! A seed sweep (not a test): every built-in under many seeds and fault levels, reporting any
//! oracle that fires or any run that hits the event limit. `cargo run --release -p synclab-sim --example sim_sweep [SEEDS]`.

use synclab_sim::scenario::builtin;
use synclab_sim::{run, NetOverride, RunOptions};

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let levels = [
        NetOverride::default(),
        NetOverride {
            loss: Some(0.2),
            duplicate: Some(0.1),
            reorder: Some(0.1),
            delay: None,
        },
        NetOverride {
            loss: Some(0.4),
            duplicate: Some(0.3),
            reorder: Some(0.3),
            delay: Some((1, 40)),
        },
        NetOverride {
            loss: Some(0.05),
            duplicate: Some(0.5),
            reorder: Some(0.5),
            delay: Some((0, 3)),
        },
    ];
    let (mut runs, mut fired) = (0u64, 0u64);
    for sc in builtin::all() {
        for (li, net) in levels.iter().enumerate() {
            for seed in 0..seeds {
                if std::env::var_os("SWEEP_VERBOSE").is_some() {
                    eprintln!("{} level {li} seed {seed}", sc.name);
                }
                let r = run(
                    &sc,
                    &RunOptions {
                        seed,
                        net: *net,
                        trace: false,
                        ..Default::default()
                    },
                );
                runs += 1;
                if r.oracle_fired() || r.failures.iter().any(|f| f.kind == "limit") {
                    fired += 1;
                    if fired <= 10 {
                        println!("{} level {li} seed {seed}:", sc.name);
                        for f in &r.failures {
                            println!("  {}", f.text().replace('\n', "\n  "));
                        }
                    }
                }
            }
        }
    }
    println!("{runs} runs, {fired} with an oracle failure or a storm");
}
