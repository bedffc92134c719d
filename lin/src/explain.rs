//! Explaining a verdict, per partition: the linearization found, or the longest partial
//! linearization, each step with the model's state before and after. This is what the HTML
//! viewer draws, and the API for "the longest linearizable prefix" of a history.
//!
//! It always runs the general search (the fast checkers decide without building an order), so
//! it is meant for histories a person looks at (thousands of operations, not millions); the
//! deadline bounds it.

use super::history::{History, Model, Op};
use super::kv::KvModel;
use super::model::SequentialModel;
use super::queue::QueueModel;
use super::register::RegisterModel;
use super::search::{search_traced, SearchResult, SearchStats};
use super::semaphore::SemaphoreModel;
use std::time::Instant;

/// One step of a (partial) linearization, with the model state around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedStep {
    /// Index into the history's operations.
    pub op: usize,
    /// `false` when an operation of unknown outcome was placed here without effect.
    pub effect: bool,
    /// The model state before the step ([`SequentialModel::describe_state`]).
    pub before: String,
    /// The model state after it.
    pub after: String,
}

/// One independent part of a history (a register key; the whole history for a queue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionExplanation {
    /// Its name, e.g. `key "x"` or `all operations`.
    pub label: String,
    /// Its operations (indices into the history's operations), sorted by invocation.
    pub ops: Vec<usize>,
    /// The general search's verdict on this part.
    pub result: SearchResult,
    /// The linearization when `result` is [`SearchResult::Linearizable`]; otherwise the longest
    /// partial linearization found: its operations form a linearizable prefix of the part.
    pub steps: Vec<ExplainedStep>,
    /// The search's counters.
    pub stats: SearchStats,
}

/// Explains every part of `history` (which must satisfy [`History::validate`]), giving up on a
/// part at `deadline` (its `result` is then [`SearchResult::GaveUp`], with the longest partial
/// linearization found so far).
///
/// ```
/// use synclab_lin::{explain, History, Model, Op, OpKind, SearchResult};
/// let mut h = History::new(Model::Queue { capacity: None });
/// h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 0, 10));
/// h.ops.push(Op::new(1, OpKind::Dequeue { value: Some(2) }, 20, 30));
/// let parts = explain(&h, None);
/// assert_eq!(parts[0].result, SearchResult::NotLinearizable { stuck_at_ns: Some(30) });
/// // the enqueue fits; the dequeue of 2 never can
/// assert_eq!(parts[0].steps.len(), 1);
/// assert_eq!(parts[0].steps[0].after, "[1]");
/// ```
pub fn explain(history: &History, deadline: Option<Instant>) -> Vec<PartitionExplanation> {
    let ops = &history.ops;
    match history.header.model {
        Model::Queue { capacity } => explain_with(&QueueModel { capacity }, ops, deadline),
        Model::Semaphore { permits } => explain_with(&SemaphoreModel { permits }, ops, deadline),
        Model::Register => explain_with(&RegisterModel, ops, deadline),
        Model::Kv => explain_with(&KvModel, ops, deadline),
    }
}

/// [`explain`] for any model.
pub fn explain_with<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    deadline: Option<Instant>,
) -> Vec<PartitionExplanation> {
    model
        .partition(ops)
        .into_iter()
        .map(|mut part| {
            part.sort_by_key(|&i| (ops[i].invoke_ns, ops[i].return_ns.unwrap_or(i64::MAX), i));
            let trace = search_traced(model, ops, &part, deadline);
            let mut state = model.init();
            let steps = trace
                .order
                .iter()
                .map(|step| {
                    let before = model.describe_state(&state);
                    if step.effect {
                        if let Some(next) = model.step(&state, &ops[step.op]) {
                            state = next;
                        }
                    }
                    ExplainedStep {
                        op: step.op,
                        effect: step.effect,
                        before,
                        after: model.describe_state(&state),
                    }
                })
                .collect();
            PartitionExplanation {
                label: model.partition_label(ops, &part),
                ops: part,
                result: trace.result,
                steps,
                stats: trace.stats,
            }
        })
        .collect()
}
