//! The entry point: [`check`] picks a checker per model and part, and builds the witness.
//!
//! - `queue`: the fast FIFO checker ([`super::fast_queue`]) when it applies, else the general one.
//! - `semaphore`: the fast semaphore checker ([`super::fast_semaphore`]) when it applies, else the
//!   general one.
//! - `register`, `kv`: split per key, each key searched by the general checker.
//!
//! A violation's witness starts from a small candidate (from the fast checker, or the part's
//! operations invoked before the general search's deepest dead end, or the whole part) and is
//! minimized by deletion with the general checker.

use super::fast_queue;
use super::fast_semaphore;
use super::history::{History, Model, Op};
use super::kv::KvModel;
use super::model::SequentialModel;
use super::queue::QueueModel;
use super::register::RegisterModel;
use super::search::{search, search_budgeted, SearchResult, SearchStats};
use super::semaphore::SemaphoreModel;
use super::witness::minimize;
use std::time::{Duration, Instant};

/// How to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Give up (answer [`Verdict::Unknown`]) at this instant.
    pub deadline: Option<Instant>,
    /// Build a witness when the history is not linearizable.
    pub witness: bool,
    /// At most this long for minimizing a witness (and never past `deadline`); when it runs out
    /// the witness is reported unminimized (`witness_minimal: false`).
    pub witness_budget: Duration,
    /// Never use the fast checkers (for cross-checks and benchmarks).
    pub general_only: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            deadline: None,
            witness: true,
            witness_budget: Duration::from_secs(20),
            general_only: false,
        }
    }
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A linearization exists.
    Linearizable,
    /// No linearization exists.
    NotLinearizable,
    /// The deadline passed first.
    Unknown,
}

/// What [`check`] found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The answer.
    pub verdict: Verdict,
    /// When not linearizable (and witnesses were asked for): indices into `history.ops` of a set
    /// of operations that admits no linearization, sorted by invocation.
    pub witness: Vec<usize>,
    /// Whether the witness is 1-minimal (no deletion unit can be dropped).
    pub witness_minimal: bool,
    /// Which checker decided: `fast-queue`, `fast-semaphore` or `general`.
    pub checker: &'static str,
    /// Why the fast checker could not be used, if it could not.
    pub fallback_reason: Option<String>,
    /// What the fast checker found wrong, in words (absent for the general checker).
    pub violation: Option<String>,
    /// What the check cost.
    pub stats: CheckStats,
}

/// Counters of a [`check`] (witness minimization not included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Operations in the history.
    pub ops: usize,
    /// Independent parts checked separately (P-compositionality: one per register key); 1 when
    /// a fast checker decided.
    pub partitions: usize,
    /// The general search's counters, summed over the parts it searched (zero when a fast
    /// checker decided).
    pub search: SearchStats,
}

impl CheckReport {
    fn new(checker: &'static str) -> Self {
        CheckReport {
            verdict: Verdict::Linearizable,
            witness: Vec::new(),
            witness_minimal: true,
            checker,
            fallback_reason: None,
            violation: None,
            stats: CheckStats {
                partitions: 1,
                ..CheckStats::default()
            },
        }
    }
}

/// Checks `history` for linearizability. The history must satisfy [`History::validate`] (parsed
/// histories always do).
pub fn check(history: &History, opts: &CheckOptions) -> CheckReport {
    let mut report = check_with(history, opts);
    report.stats.ops = history.ops.len();
    report
}

fn check_with(history: &History, opts: &CheckOptions) -> CheckReport {
    let ops = &history.ops;
    match history.header.model {
        Model::Queue { capacity } => {
            let model = QueueModel { capacity };
            let mut fallback = None;
            if !opts.general_only {
                match fast_queue::check_queue(ops, capacity) {
                    fast_queue::FastResult::NotApplicable(why) => fallback = Some(why),
                    other => return fast_report("fast-queue", other, &model, ops, opts),
                }
                // Unknown outcomes: one choice of them that is linearizable settles it.
                if let Some(resolved) = super::resolve::resolve_queue_unknowns(ops) {
                    if fast_queue::check_queue(&resolved, capacity)
                        == fast_queue::FastResult::Linearizable
                    {
                        let mut r = CheckReport::new("fast-queue (unknown outcomes resolved)");
                        r.fallback_reason = fallback;
                        return r;
                    }
                }
            }
            let mut r = general(&model, ops, opts);
            r.fallback_reason = fallback;
            r
        }
        Model::Semaphore { permits } => {
            let model = SemaphoreModel { permits };
            let mut fallback = None;
            if !opts.general_only {
                match fast_semaphore::check_semaphore(ops, permits) {
                    fast_queue::FastResult::NotApplicable(why) => fallback = Some(why),
                    other => return fast_report("fast-semaphore", other, &model, ops, opts),
                }
            }
            let mut r = general(&model, ops, opts);
            r.fallback_reason = fallback;
            r
        }
        Model::Register => general(&RegisterModel, ops, opts),
        Model::Kv => general(&KvModel, ops, opts),
    }
}

fn witness_deadline(opts: &CheckOptions) -> Option<Instant> {
    let budget = Instant::now() + opts.witness_budget;
    Some(opts.deadline.map_or(budget, |d| d.min(budget)))
}

fn fast_report<M: SequentialModel>(
    checker: &'static str,
    result: fast_queue::FastResult,
    model: &M,
    ops: &[Op],
    opts: &CheckOptions,
) -> CheckReport {
    let mut r = CheckReport::new(checker);
    if let fast_queue::FastResult::Violation { what, ops: cand } = result {
        r.verdict = Verdict::NotLinearizable;
        r.violation = Some(what);
        if opts.witness {
            let deadline = witness_deadline(opts);
            match search(model, ops, &cand, deadline) {
                SearchResult::NotLinearizable { .. } => {
                    (r.witness, r.witness_minimal) = minimize(model, ops, &cand, deadline);
                }
                _ => {
                    // Not expected: the candidate alone should already fail. Report it as is.
                    r.witness = cand;
                    r.witness_minimal = false;
                }
            }
        }
    }
    r
}

/// Steps the general search may take on each part in the first round; each further round
/// multiplies it by [`BUDGET_GROWTH`].
const FIRST_BUDGET: u64 = 20_000;
const BUDGET_GROWTH: u64 = 4;

/// The general search over every part. Parts are searched in rounds of growing step budgets, so
/// that a violation that is cheap to find in one part is not hidden behind an expensive search
/// of another (the verdict is the same in any order; only the time differs).
fn general<M: SequentialModel>(model: &M, ops: &[Op], opts: &CheckOptions) -> CheckReport {
    let mut r = CheckReport::new("general");
    let mut gave_up = false;
    let parts = model.partition(ops);
    r.stats.partitions = parts.len();
    let mut left: Vec<&Vec<usize>> = parts.iter().collect();
    let mut budget = FIRST_BUDGET;
    while !left.is_empty() {
        let mut unfinished = Vec::new();
        for part in left {
            let Some(trace) = search_budgeted(model, ops, part, opts.deadline, budget) else {
                r.stats.search.steps += budget;
                unfinished.push(part);
                continue;
            };
            r.stats.search.steps += trace.stats.steps;
            r.stats.search.states += trace.stats.states;
            r.stats.search.backtracks += trace.stats.backtracks;
            match trace.result {
                SearchResult::Linearizable => {}
                SearchResult::GaveUp => gave_up = true,
                SearchResult::NotLinearizable { stuck_at_ns } => {
                    r.verdict = Verdict::NotLinearizable;
                    if opts.witness {
                        (r.witness, r.witness_minimal) =
                            witness_of(model, ops, part, stuck_at_ns, opts);
                    }
                    return r;
                }
            }
        }
        left = unfinished;
        budget = budget.saturating_mul(BUDGET_GROWTH);
    }
    if gave_up {
        r.verdict = Verdict::Unknown;
    }
    r
}

/// A minimized witness from a part the search refuted: the operations invoked before its
/// deepest dead end when those already fail, else the whole part.
fn witness_of<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    part: &[usize],
    stuck_at_ns: Option<i64>,
    opts: &CheckOptions,
) -> (Vec<usize>, bool) {
    let deadline = witness_deadline(opts);
    let mut cand = part.to_vec();
    if let Some(t) = stuck_at_ns {
        let prefix: Vec<usize> = part
            .iter()
            .copied()
            .filter(|&i| ops[i].invoke_ns <= t)
            .collect();
        if prefix.len() < part.len()
            && matches!(
                search(model, ops, &prefix, deadline),
                SearchResult::NotLinearizable { .. }
            )
        {
            cand = prefix;
        }
    }
    minimize(model, ops, &cand, deadline)
}
