//! Loom models of the rings and the eventcount, and proof that each model has teeth: every
//! mutant (a one-line deliberate bug in the shipped code) must be caught.
//!
//! Bounds are stated in each model's module docs (`verify/src/models/*.rs`) and its `about`;
//! the preemption bounds are each model's default (`synclab model --list`).

use synclab_core::model::Mutant;
use synclab_verify::models::{self, ModelSpec};

fn spec(name: &str) -> &'static ModelSpec {
    models::find(name).unwrap_or_else(|| panic!("no model {name}"))
}

fn passes(name: &str) {
    spec(name).assert_passes();
}

fn catches(name: &str, mutant: Mutant) {
    spec(name).assert_catches(mutant);
}

/// spsc, blocking push/pop: capacity 2, 3 records, 1P/1C, preemption bound 2.
#[test]
fn loom_spsc_blocking_fifo() {
    passes("spsc");
}

/// spsc, batch push_slice/pop_slice: capacity 2, 3 records, 1P/1C, preemption bound 2.
#[test]
fn loom_spsc_batch_fifo() {
    passes("spsc-batch");
}

/// spsc created with `Wakeups::Spin` (blocking forms spin, never park): capacity 2, 3 records,
/// 1P/1C, preemption bound 2.
#[test]
fn loom_spsc_spin_fifo() {
    passes("spsc-spin");
}

#[test]
fn loom_mutant_spsc_spin_relaxed_publish_is_caught() {
    catches("spsc-spin", Mutant::SpscRelaxedPublish);
}

/// mpmc, blocking: capacity 2, producers of 2 and 1 records, 1 consumer, preemption bound 2.
#[test]
fn loom_mpmc_two_producers() {
    passes("mpmc");
}

/// mpmc, blocking + close: capacity 2, 1 producer of 2 records, 2 consumers, bound 1.
#[test]
fn loom_mpmc_two_consumers_close() {
    passes("mpmc-consumers");
}

/// frames: 32-byte buffer, frames of 0/8/5 bytes (wraps with padding), 1P/1C, bound 2.
#[test]
fn loom_frames_wrap_fifo() {
    passes("frames");
}

/// eventcount: 2 waiters, 1 notifier, bound 2: no lost wakeup.
#[test]
fn loom_eventcount_no_lost_wakeup() {
    passes("eventcount");
}

/// eventcount-rounds: 1 waiter waiting 3 times in a row, 1 notifier notifying 3 times, bound 3.
#[test]
fn loom_eventcount_rounds_no_lost_wakeup() {
    passes("eventcount-rounds");
}

#[test]
fn loom_mutants_of_eventcount_rounds_are_caught() {
    for m in [
        Mutant::EventcountNoRecheck,
        Mutant::EventcountNoFence,
        Mutant::EventcountNoHeavyFence,
        Mutant::EventcountSleeperWithoutCas,
    ] {
        catches("eventcount-rounds", m);
    }
}

#[test]
fn loom_mutant_spsc_relaxed_publish_is_caught() {
    catches("spsc", Mutant::SpscRelaxedPublish);
}

#[test]
fn loom_mutant_spsc_full_off_by_one_is_caught() {
    catches("spsc", Mutant::SpscFullOffByOne);
}

#[test]
fn loom_mutant_spsc_batch_full_off_by_one_is_caught() {
    catches("spsc-batch", Mutant::SpscFullOffByOne);
}

#[test]
fn loom_mutant_mpmc_relaxed_publish_is_caught() {
    catches("mpmc", Mutant::MpmcRelaxedPublish);
}

#[test]
fn loom_mutant_mpmc_claim_without_cas_is_caught() {
    catches("mpmc", Mutant::MpmcClaimWithoutCas);
}

/// mpmc batches: capacity 2, 2 producers `push_slice` 2 records each, 1 consumer `pop_slice`.
#[test]
fn loom_mpmc_batch_fifo() {
    passes("mpmc-batch");
}

#[test]
fn loom_mutant_mpmc_batch_unchecked_is_caught() {
    catches("mpmc-batch", Mutant::MpmcBatchUnchecked);
}

#[test]
fn loom_mutant_frames_relaxed_publish_is_caught() {
    catches("frames", Mutant::FramesRelaxedPublish);
}

#[test]
fn loom_mutant_frames_free_off_by_one_is_caught() {
    catches("frames", Mutant::FramesFreeOffByOne);
}

#[test]
fn loom_mutant_eventcount_no_recheck_is_caught() {
    catches("eventcount", Mutant::EventcountNoRecheck);
}

#[test]
fn loom_mutant_eventcount_no_fence_is_caught() {
    catches("eventcount", Mutant::EventcountNoFence);
}

#[test]
fn loom_mutant_eventcount_no_heavy_fence_is_caught() {
    catches("eventcount", Mutant::EventcountNoHeavyFence);
}

#[test]
fn loom_mutant_eventcount_sleeper_without_cas_is_caught() {
    catches("eventcount", Mutant::EventcountSleeperWithoutCas);
}

/// spsc chunk API (write_chunk/push_slice, read_chunk in place, wrapping chunks): capacity 2,
/// 3 records, 1P/1C, preemption bound 2.
#[test]
fn loom_spsc_chunks_fifo() {
    passes("spsc-chunks");
}

#[test]
fn loom_mutant_spsc_chunk_publish_before_copy_is_caught() {
    catches("spsc-chunks", Mutant::SpscChunkPublishBeforeCopy);
}

#[test]
fn loom_mutant_spsc_chunk_second_slice_off_by_one_is_caught() {
    catches("spsc-chunks", Mutant::SpscChunkSecondSliceOffByOne);
}
