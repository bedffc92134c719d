//! `synclab model`: run a loom model (optionally with one of its mutants) or list them.

use super::output::{bad_input, Exit, Outcome};
use crate::models::weaken::{matrix, sweep, table};
use crate::models::{self, ModelOptions, ModelReport, ModelSpec};
use serde_json::json;
use sweep::SweepOptions;
use synclab_core::model::Mutant;

/// Options of `synclab model`.
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// The model to run (see `--list`).
    #[arg(required_unless_present_any = ["list", "all", "matrix"])]
    pub name: Option<String>,
    /// Run with this deliberate bug switched on; the model must catch it (exit 1, ok false).
    /// Not with --all (which runs every mutant).
    #[arg(long, conflicts_with = "all")]
    pub mutant: Option<String>,
    /// Loom preemption bound, 0..=255 (loom's own limit; default: the model's own). Bounds
    /// above 3 or 4 take hours on most models.
    #[arg(long, conflicts_with = "unbounded", value_parser = clap::value_parser!(u8))]
    pub preemptions: Option<u8>,
    /// Explore without a preemption bound.
    #[arg(long)]
    pub unbounded: bool,
    /// List the models and their mutants.
    #[arg(long, conflicts_with_all = ["name", "all"])]
    pub list: bool,
    /// Run every model and every mutant; ok when each model passes and each mutant is caught.
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Weaken every atomic ordering the model(s) reach, one site by one step at a time, and
    /// report per site: caught, survived, or unreached (README "Weakening every ordering").
    /// NAME selects a family: `spsc` runs spsc, spsc-batch, spsc-spin and spsc-takeover. Minutes.
    #[arg(long, conflicts_with_all = ["mutant", "list", "matrix"])]
    pub weaken_all: bool,
    /// The kill matrix: for every hand-written mutant and every automatic weakening, which
    /// oracle catches it (loom with its smallest bound; shuttle under the object's scenario).
    /// NAME (a family) or all models. Minutes.
    #[arg(long, conflicts_with_all = ["mutant", "list"])]
    pub matrix: bool,
    /// Print a progress line per run on stderr (--weaken-all, --matrix).
    #[arg(long)]
    pub progress: bool,
}

/// Runs `synclab model`.
pub fn run(args: ModelArgs) -> Exit {
    if args.list {
        return list().emit(args.json);
    }
    if args.weaken_all || args.matrix {
        let family = if args.all { None } else { args.name.as_deref() };
        let Some(specs) = family_models(family) else {
            let names: Vec<&str> = models::MODELS.iter().map(|m| m.name).collect();
            return bad_input(
                args.json,
                format!(
                    "no model is called {:?} or starts with \"{0}-\"; models: {}",
                    family.unwrap_or_default(),
                    names.join(", ")
                ),
            );
        };
        let o = SweepOptions {
            preemptions: if args.unbounded {
                Some(None)
            } else {
                args.preemptions.map(|b| Some(usize::from(b)))
            },
            only_reached_files: family.is_some(),
            progress: args.progress,
        };
        return if args.matrix {
            kill_matrix(&specs, &o)
        } else {
            weaken_all(&specs, &o)
        }
        .emit(args.json);
    }
    if args.all {
        return all(&args).emit(args.json);
    }
    let name = args.name.as_deref().unwrap_or_default();
    let Some(spec) = models::find(name) else {
        let names: Vec<&str> = models::MODELS.iter().map(|m| m.name).collect();
        return bad_input(
            args.json,
            format!("unknown model {name:?}; models: {}", names.join(", ")),
        );
    };
    let mutant = match args.mutant.as_deref() {
        None => Mutant::None,
        Some(m) => match Mutant::from_name(m).filter(|m| spec.mutants.contains(m)) {
            Some(m) => m,
            None => {
                let names: Vec<&str> = spec.mutants.iter().map(|m| m.name()).collect();
                return bad_input(
                    args.json,
                    format!(
                        "model {name} has no mutant {m:?}; its mutants: {}",
                        names.join(", ")
                    ),
                );
            }
        },
    };
    let report = check(spec, mutant, &options(&args, spec));
    if let Some(reason) = &report.refused {
        return refused(args.json, &report, reason);
    }
    let text = describe(&report);
    Outcome {
        json: serde_json::to_value(&report).expect("report serialises"),
        text,
        exit: Exit::from_ok(report.ok),
    }
    .emit(args.json)
}

/// Loom gave no verdict: bad input (exit 2), the report's fields in the JSON beside the error.
fn refused(json: bool, r: &ModelReport, reason: &str) -> Exit {
    let message = format!(
        "model {} / mutant {}: nothing was checked ({} interleavings): {reason}",
        r.model, r.mutant, r.interleavings
    );
    if json {
        let mut v = serde_json::to_value(r).expect("report serialises");
        v["error"] = json!(message);
        println!("{v}");
    }
    eprintln!("synclab: error: {message}");
    Exit::BadInput
}

fn options(args: &ModelArgs, spec: &ModelSpec) -> ModelOptions {
    ModelOptions {
        preemptions: if args.unbounded {
            None
        } else {
            args.preemptions
                .map(usize::from)
                .or(spec.default_preemptions)
        },
    }
}

/// Runs one model with loom's panic output silenced (the message is in the report).
pub fn check(spec: &ModelSpec, mutant: Mutant, options: &ModelOptions) -> ModelReport {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let report = spec.check(mutant, options);
    std::panic::set_hook(hook);
    report
}

/// One line (two on failure) describing a report.
pub fn describe(r: &ModelReport) -> String {
    let bound = r
        .preemptions
        .map_or("unbounded".to_string(), |b| format!("preemption bound {b}"));
    let verdict = match (r.mutant.as_str(), r.ok) {
        _ if r.refused.is_some() => "NOT CHECKED: loom gave no verdict".to_string(),
        ("none", true) => "ok: every interleaving passed".to_string(),
        ("none", false) => "FAILED".to_string(),
        (_, false) => "mutant caught (ok: false, as it must be)".to_string(),
        (_, true) => "mutant NOT caught: the model is too weak".to_string(),
    };
    let mut s = format!(
        "model {} / mutant {}: {verdict} — {} interleavings in {:.2} s ({bound})\n",
        r.model, r.mutant, r.interleavings, r.seconds
    );
    if let Some(reason) = &r.refused {
        s.push_str(&format!("  {reason}\n"));
    } else if let Some(m) = &r.message {
        let first = m.lines().next().unwrap_or_default();
        s.push_str(&format!("  failing interleaving: {first}\n"));
    }
    s
}

fn list() -> Outcome {
    let models: Vec<_> = models::MODELS
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "about": m.about,
                "preemptions": m.default_preemptions,
                "mutants": m.mutants.iter().map(|x| x.name()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut text = String::from("models (run one with `synclab model NAME [--mutant M]`):\n");
    for m in models::MODELS {
        text.push_str(&format!("  {:<24} {}\n", m.name, m.about));
        for x in m.mutants {
            text.push_str(&format!("  {:<24}   --mutant {}\n", "", x.name()));
        }
    }
    Outcome {
        json: json!({ "models": models }),
        text,
        exit: Exit::Ok,
    }
}

fn all(args: &ModelArgs) -> Outcome {
    let mut reports = Vec::new();
    let mut text = String::new();
    let mut ok = true;
    let mut refused = 0;
    for spec in models::MODELS {
        for mutant in std::iter::once(Mutant::None).chain(spec.mutants.iter().copied()) {
            let r = check(spec, mutant, &options(args, spec));
            refused += usize::from(r.refused.is_some());
            ok &= if mutant == Mutant::None {
                r.ok
            } else {
                r.found_failure()
            };
            text.push_str(&describe(&r));
            reports.push(r);
        }
    }
    text.push_str(if refused > 0 {
        "NOT CHECKED: loom gave no verdict on some runs (see above)\n"
    } else if ok {
        "all models pass and every mutant is caught\n"
    } else {
        "SOME CHECK FAILED (a model failed or a mutant was not caught)\n"
    });
    Outcome {
        json: json!({ "ok": ok, "refused": refused, "reports": reports }),
        text,
        exit: if refused > 0 {
            Exit::BadInput
        } else {
            Exit::from_ok(ok)
        },
    }
}

/// The models of a family: `name` itself and every model called `name-…`; all when `None`.
fn family_models(name: Option<&str>) -> Option<Vec<&'static ModelSpec>> {
    let specs: Vec<&'static ModelSpec> = models::MODELS
        .iter()
        .copied()
        .filter(|m| name.is_none_or(|n| m.name == n || m.name.starts_with(&format!("{n}-"))))
        .collect();
    (!specs.is_empty()).then_some(specs)
}

/// `--weaken-all`: exit 0 when every baseline passed (survivors are findings the README
/// explains, not failures), 1 when a correct model failed.
fn weaken_all(specs: &[&'static ModelSpec], o: &SweepOptions) -> Outcome {
    let s = sweep::sweep(specs, o);
    Outcome {
        text: table::render(&s),
        exit: Exit::from_ok(s.models.iter().all(|b| b.ok)),
        json: serde_json::to_value(&s).expect("sweep serialises"),
    }
}

/// `--matrix`: the hand-written mutants, then the weakenings.
fn kill_matrix(specs: &[&'static ModelSpec], o: &SweepOptions) -> Outcome {
    let mut rows = matrix::hand_written(specs, o.progress);
    let (s, weak) = matrix::weakenings(specs, o);
    rows.extend(weak);
    let caught_by_loom = |r: &&serde_json::Value| {
        r["loom"]
            .as_array()
            .is_some_and(|a| a.iter().any(|m| !m["bound"].is_null()))
    };
    let caught = rows.iter().filter(caught_by_loom).count();
    let shuttle_verdict =
        |r: &serde_json::Value| r["shuttle"]["verdict"].as_str().unwrap_or("-").to_string();
    let by_shuttle = |v: &str| rows.iter().filter(|r| shuttle_verdict(r) == v).count();
    let shuttle_seconds: f64 = rows
        .iter()
        .filter_map(|r| r["shuttle"]["seconds"].as_f64())
        .sum();
    let mut text = format!(
        "{:<64} {:<12} {:<28} {:<8} {:<9} {}\n",
        "mutant", "kind", "loom (model@bound)", "shuttle", "proptest", "processes"
    );
    for r in &rows {
        let loom = match r["loom"].as_array() {
            Some(a) => a
                .iter()
                .map(|m| match m["bound"].as_u64() {
                    Some(b) => format!("{}@{b}", m["model"].as_str().unwrap_or_default()),
                    None => format!("{}:MISSED", m["model"].as_str().unwrap_or_default()),
                })
                .collect::<Vec<_>>()
                .join(" "),
            None => r["loom"]["verdict"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        text.push_str(&format!(
            "{:<64} {:<12} {:<28} {:<8} {:<9} {}\n",
            r["mutant"].as_str().unwrap_or_default(),
            r["kind"].as_str().unwrap_or_default(),
            loom,
            shuttle_verdict(r),
            "n/a",
            "n/a"
        ));
    }
    text.push_str(&format!(
        "\n{} mutants, {caught} caught by loom; shuttle: {} caught, {} survived, {} n/a \
         ({shuttle_seconds:.1} s); proptest: {}; processes: {}\n",
        rows.len(),
        by_shuttle("caught"),
        by_shuttle("survived"),
        by_shuttle("n/a"),
        matrix::PROPTEST_NA,
        matrix::PROCESSES_NA
    ));
    Outcome {
        json: serde_json::json!({
            "mutants": rows.len(),
            "caught_by_loom": caught,
            "shuttle": {
                "caught": by_shuttle("caught"), "survived": by_shuttle("survived"),
                "n/a": by_shuttle("n/a"), "seconds": shuttle_seconds,
            },
            "weakening_summary": {
                "sites": s.sites, "caught": s.caught, "survived": s.survived,
                "unreached": s.unreached, "no_verdict": s.no_verdict,
            },
            "seconds": s.seconds,
            "rows": rows,
        }),
        text,
        exit: Exit::Ok,
    }
}
