//! Loom models of every lock-free algorithm in `synclab-core`, run in plain `cargo test` (tests
//! named `loom_*`) and from `synclab model`.
//!
//! Each model file exports `SPEC`s (name, what is checked at which bounds, mutants); [`MODELS`]
//! lists them all.

pub mod eventcount;
pub mod floors;
pub mod frames;
pub mod harness;
pub mod loom_memory;
pub mod loom_process;
pub mod mpmc;
pub mod mpmc_claims;
pub mod mpmc_handoff;
pub mod mpmc_repair;
pub mod sem;
pub mod sem_crash;
pub mod sem_handles;
pub mod sem_ledger;
pub mod sem_token;
pub mod spsc;
pub mod spsc_chunk;
pub mod takeover;
pub mod weaken;

pub use harness::{explore, ModelOptions, ModelReport, ModelSpec};

/// Every model, in the order `synclab model --list` prints them.
pub static MODELS: &[&ModelSpec] = &[
    &spsc::BLOCKING,
    &spsc::BATCH,
    &spsc::SPIN,
    &spsc_chunk::CHUNKS,
    &takeover::TAKEOVER,
    &mpmc::PRODUCERS,
    &mpmc::CONSUMERS,
    &mpmc::BATCH,
    &mpmc_repair::REPAIR,
    &frames::WRAP,
    &eventcount::WAKEUP,
    &eventcount::ROUNDS,
    &sem::SEMAPHORE,
    &sem::SEMAPHORE_WAKE,
    &sem::SEMAPHORE_MUTEX,
    &sem::SEMAPHORE_TIMEOUT,
    &sem::SEMAPHORE_CLOSE,
    &sem::SEMAPHORE_MANY,
    &sem::SEMAPHORE_TOKEN,
    &sem_ledger::SEMAPHORE_LEDGER,
    &sem_ledger::SEMAPHORE_LEDGER_RECOVER_RACE,
    &sem_ledger::SEMAPHORE_LEDGER_RECOVER_LIVE,
    &sem_ledger::SEMAPHORE_LEDGER_REUSE,
    &sem_ledger::SEMAPHORE_LEDGER_PROCESS,
    &sem_crash::SEMAPHORE_CRASH,
    &sem_token::SEMAPHORE_TOKEN_RECOVER,
    &spsc::FENCED,
    &mpmc_claims::CLAIMS,
    &mpmc_handoff::HANDOFF,
    &sem_handles::SEMAPHORE_LEDGER_HANDLES,
];

/// The model called `name`.
pub fn find(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().copied().find(|m| m.name == name)
}
