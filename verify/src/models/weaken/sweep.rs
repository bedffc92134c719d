//! `--weaken-all`: run each model once recording the sites it reaches, then weaken one site by
//! one step at a time and re-run the models that reach it.

use super::hooks::{self, Access, Op, Strength};
use super::scan::{self, StaticSite};
use super::steps::weakenings;
use crate::models::{ModelOptions, ModelReport, ModelSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use synclab_core::model::Mutant;

/// What one weakening (or one unreached site) came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A model that reaches the site failed with it weakened.
    Caught,
    /// Every model that reaches the site passed with it weakened.
    Survived,
    /// No model executes the site.
    Unreached,
    /// Only a hand-written mutant's run executes the site (the mutant's own line): not part of
    /// the correct algorithm.
    MutantOnly,
    /// Loom gave no verdict (refused the setting or hit a limit of its own), or the weakened
    /// access did not run again: neither caught nor survived.
    NoVerdict,
}

/// One row of the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// `file:line`.
    pub site: String,
    /// Column of the call (two accesses may share a line).
    pub column: Option<u32>,
    /// Operation.
    pub op: &'static str,
    /// Ordering as written (for unreached sites: the orderings named in the text).
    pub original: String,
    /// The weakened ordering (`none`: removed); null for unreached sites.
    pub weakened: Option<&'static str>,
    /// The verdict.
    pub verdict: Verdict,
    /// The model that caught it (caught), or null.
    pub model: Option<String>,
    /// The models run with this weakening, in order.
    pub tried: Vec<String>,
    /// The failing interleaving's message (caught), or why there is no verdict.
    pub message: Option<String>,
    /// Interleavings explored over all models tried.
    pub interleavings: u64,
    /// Seconds over all models tried.
    pub seconds: f64,
    /// The access weakened (null for unreached sites).
    #[serde(skip)]
    pub access: Option<Access>,
    /// What it was weakened to.
    #[serde(skip)]
    pub weakened_strength: Option<Strength>,
}

/// A model's baseline run (no weakening) during the recording pass.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Baseline {
    /// Model name.
    pub model: String,
    /// True when the correct model passed (otherwise its weakenings are not run).
    pub ok: bool,
    /// Interleavings explored.
    pub interleavings: u64,
    /// Seconds.
    pub seconds: f64,
    /// Distinct accesses in `core` it reached.
    pub accesses: usize,
    /// Not run with weakenings: a combination of other selected models (see [`combined`]).
    pub combination: bool,
}

/// The whole table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sweep {
    /// Distinct sites (file, line, operation) found by the scan or reached by a model.
    pub sites: usize,
    /// Weakenings caught.
    pub caught: usize,
    /// Weakenings that survived.
    pub survived: usize,
    /// Sites no model reached.
    pub unreached: usize,
    /// Sites only a hand-written mutant's run reached (the mutant's own code).
    pub mutant_only: usize,
    /// Weakenings without a verdict.
    pub no_verdict: usize,
    /// The models run, with their baselines.
    pub models: Vec<Baseline>,
    /// Why the static scan is missing, if it is (then `unreached` is 0 by ignorance).
    pub scan_error: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The rows: every weakening of every reached site, then every unreached site.
    pub results: Vec<Row>,
}

/// How to run a sweep.
pub struct SweepOptions {
    /// Preemption bound override (`None`: each model's own default).
    pub preemptions: Option<Option<usize>>,
    /// Restrict the unreached-site scan to files the models reach (a per-family run).
    pub only_reached_files: bool,
    /// Print one progress line per weakening on stderr.
    pub progress: bool,
}

fn options_for(spec: &ModelSpec, o: &SweepOptions) -> ModelOptions {
    ModelOptions {
        preemptions: o.preemptions.unwrap_or(spec.default_preemptions),
    }
}

/// Runs `spec` with loom's panic output silenced (the message is in the report).
fn quiet_check(spec: &ModelSpec, options: &ModelOptions) -> ModelReport {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let report = spec.check(Mutant::None, options);
    std::panic::set_hook(hook);
    report
}

/// The key a site is counted under: a compare-and-exchange's two orderings are one site.
fn key(file: &str, line: u32, op: Op) -> (String, u32, Op) {
    let op = if op == Op::CasFailure { Op::Cas } else { op };
    (file.to_string(), line, op)
}

/// The sites in `core` that the models' hand-written mutants reach (the mutants' own code among
/// them). Each mutant run stops at its first failing interleaving.
fn record_mutants(models: &[&'static ModelSpec], o: &SweepOptions) -> BTreeSet<(String, u32, Op)> {
    let mut keys = BTreeSet::new();
    for spec in models {
        for &m in spec.mutants {
            let (_, seen) = hooks::record(|| {
                let hook = std::panic::take_hook();
                std::panic::set_hook(Box::new(|_| {}));
                let r = spec.check(m, &options_for(spec, o));
                std::panic::set_hook(hook);
                r
            });
            keys.extend(seen.iter().map(|a| key(a.site.file, a.site.line, a.op)));
        }
    }
    keys
}

/// Records which accesses in `core` each model reaches.
pub fn record_all(
    models: &[&'static ModelSpec],
    o: &SweepOptions,
) -> (Vec<Baseline>, BTreeMap<Access, Vec<usize>>) {
    let mut baselines = Vec::new();
    let mut reached: BTreeMap<Access, Vec<usize>> = BTreeMap::new();
    for (i, spec) in models.iter().enumerate() {
        let (r, seen) = hooks::record(|| quiet_check(spec, &options_for(spec, o)));
        let core: Vec<Access> = seen
            .into_iter()
            .filter(|a| a.site.file.starts_with("core/src/"))
            .collect();
        baselines.push(Baseline {
            model: spec.name.to_string(),
            ok: r.ok,
            interleavings: r.interleavings,
            seconds: r.seconds,
            accesses: core.len(),
            combination: false,
        });
        if r.ok {
            for a in core {
                reached.entry(a).or_default().push(i);
            }
        }
    }
    for i in combined(models, &reached) {
        baselines[i].combination = true;
        for users in reached.values_mut() {
            users.retain(|&u| u != i);
        }
    }
    (baselines, reached)
}

/// The registered models whose `run` only runs other models' scenarios in turn (`semaphore`
/// runs every `semaphore-…` scenario, `semaphore-ledger` its four parts). A name is not enough:
/// `mpmc` is the prefix of `mpmc-consumers`, `mpmc-batch` and `mpmc-repair` and reaches no site
/// they do not, yet it is a model of its own (two producers reusing slots), and treating it as a
/// combination kept it out of every re-run.
pub const COMBINATIONS: &[&str] = &["semaphore", "semaphore-ledger"];

/// The models that only combine others in the selection: declared in [`COMBINATIONS`], named as
/// the prefix of at least two selected models (`X` and `X-…`) and reaching no access that those
/// do not reach. Re-running them with a weakening would repeat their parts' runs.
pub fn combined(
    models: &[&'static ModelSpec],
    reached: &BTreeMap<Access, Vec<usize>>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, spec) in models.iter().enumerate() {
        if !COMBINATIONS.contains(&spec.name) {
            continue;
        }
        let prefix = format!("{}-", spec.name);
        let parts: Vec<usize> = (0..models.len())
            .filter(|&j| models[j].name.starts_with(&prefix))
            .collect();
        let covered = reached
            .values()
            .filter(|users| users.contains(&i))
            .all(|users| users.iter().any(|u| parts.contains(u)));
        if parts.len() >= 2 && covered {
            out.push(i);
        }
    }
    out
}

/// Runs the sweep over `models`.
pub fn sweep(models: &[&'static ModelSpec], o: &SweepOptions) -> Sweep {
    let start = Instant::now();
    let (baselines, reached) = record_all(models, o);
    let mut results = Vec::new();
    for (access, users) in &reached {
        // Cheapest model first: a catch usually ends the search.
        let mut users = users.clone();
        users.sort_by_key(|&i| baselines[i].interleavings);
        for &to in weakenings(access.op, access.original) {
            let row = judge(models, &users, *access, to, o);
            if o.progress {
                eprintln!(
                    "{:<36} {:<11} {:>7} -> {:<7} {:?} ({:.1} s)",
                    row.site,
                    row.op,
                    row.original,
                    to.name(),
                    row.verdict,
                    row.seconds
                );
            }
            results.push(row);
        }
    }
    let reached_keys: BTreeSet<_> = reached
        .keys()
        .map(|a| key(a.site.file, a.site.line, a.op))
        .collect();
    let reached_files: BTreeSet<&str> = reached.keys().map(|a| a.site.file).collect();
    let (statics, scan_error) = match scan::scan(&scan::workspace_root()) {
        Ok(s) => (s, None),
        Err(e) => (Vec::new(), Some(format!("cannot read core/src: {e}"))),
    };
    let statics: Vec<StaticSite> = statics
        .into_iter()
        .filter(|s| !o.only_reached_files || reached_files.contains(s.file.as_str()))
        .collect();
    let by_mutants = record_mutants(models, o);
    let mut all_keys = reached_keys.clone();
    for s in &statics {
        let k = key(&s.file, s.line, s.op);
        let verdict = if by_mutants.contains(&k) {
            Verdict::MutantOnly
        } else {
            Verdict::Unreached
        };
        if all_keys.insert(k) {
            results.push(Row {
                site: format!("{}:{}", s.file, s.line),
                column: None,
                op: s.op.name(),
                original: s.orderings.clone(),
                weakened: None,
                verdict,
                model: None,
                tried: Vec::new(),
                message: None,
                interleavings: 0,
                seconds: 0.0,
                access: None,
                weakened_strength: None,
            });
        }
    }
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    Sweep {
        sites: all_keys.len(),
        caught: count(Verdict::Caught),
        survived: count(Verdict::Survived),
        unreached: count(Verdict::Unreached),
        mutant_only: count(Verdict::MutantOnly),
        no_verdict: count(Verdict::NoVerdict),
        models: baselines,
        scan_error,
        seconds: start.elapsed().as_secs_f64(),
        results,
    }
}

/// Weakens `access` to `to` and runs the models in `users` until one fails.
pub fn judge(
    models: &[&'static ModelSpec],
    users: &[usize],
    access: Access,
    to: Strength,
    o: &SweepOptions,
) -> Row {
    let mut row = Row {
        site: format!("{}:{}", access.site.file, access.site.line),
        column: Some(access.site.column),
        op: access.op.name(),
        original: access.original.name().to_string(),
        weakened: Some(to.name()),
        verdict: Verdict::Survived,
        model: None,
        tried: Vec::new(),
        message: None,
        interleavings: 0,
        seconds: 0.0,
        access: Some(access),
        weakened_strength: Some(to),
    };
    for &i in users {
        let spec = models[i];
        let (r, hits) = hooks::weakened(access, to, || quiet_check(spec, &options_for(spec, o)));
        row.tried.push(spec.name.to_string());
        row.interleavings += r.interleavings;
        row.seconds += r.seconds;
        if r.found_failure() {
            row.verdict = Verdict::Caught;
            row.model = Some(spec.name.to_string());
            row.message = r
                .message
                .map(|m| m.lines().next().unwrap_or_default().to_string());
            return row;
        }
        if let Some(reason) = r.refused {
            row.verdict = Verdict::NoVerdict;
            row.message = Some(reason);
        } else if hits == 0 && row.verdict == Verdict::Survived {
            row.verdict = Verdict::NoVerdict;
            row.message = Some(format!("{}: the weakened access did not run", spec.name));
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{find, MODELS};

    fn access(line: u32) -> Access {
        Access {
            site: hooks::Site {
                file: "core/src/x.rs",
                line,
                column: 1,
            },
            op: Op::Load,
            original: Strength::Acquire,
        }
    }

    /// `mpmc` reaches only sites its `mpmc-…` namesakes reach, yet it is a model of its own and
    /// must be re-run with weakenings; `semaphore` (a declared combination) is not.
    #[test]
    fn only_declared_combinations_are_skipped() {
        let names = ["mpmc", "mpmc-consumers", "mpmc-batch", "semaphore"];
        let names = names
            .iter()
            .chain(["semaphore-wake", "semaphore-close"].iter());
        let models: Vec<&'static ModelSpec> = names.map(|n| find(n).unwrap()).collect();
        // Every model reaches one shared site: by reach alone, mpmc and semaphore both look
        // like combinations of their namesakes.
        let reached = BTreeMap::from([(access(1), (0..models.len()).collect::<Vec<_>>())]);
        assert_eq!(combined(&models, &reached), [3], "only `semaphore`");
    }

    /// Every declared combination is a registered model.
    #[test]
    fn combinations_are_registered() {
        for name in COMBINATIONS {
            assert!(MODELS.iter().any(|m| m.name == *name), "{name}");
        }
    }
}
