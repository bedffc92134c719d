//! Parent side of real multi-process runs: create the region, start the workers, reap them,
//! inject faults, and turn their reports and recorded histories into one result.
//!
//! - `transfer.rs`: two-process transfers (spsc, frames) without recording (demo, bench);
//! - `recorded.rs`: recorded runs of the rings (spsc, frames, mpmc) and what all recorded runs
//!   share; `semaphore.rs`: the recorded semaphore run;
//! - `faults.rs`: SIGSTOP/SIGCONT injection and signals through pidfds; `sem_kills.rs`: killing
//!   semaphore holders and recovering their permits; `mpmc_kills.rs`: killing mpmc producers and
//!   consumers;
//! - `history_buffers.rs`: per-worker operation histories in shared memory.

mod faults;
pub mod history_buffers;
pub mod mpmc_kills;
mod recorded;
mod sem_kills;
mod semaphore;
mod transfer;

pub use mpmc_kills::{DieStep, KillTrigger};
pub use recorded::{mpmc_run, transfer_run, RunParams, RunReport};
pub use semaphore::semaphore_run;
pub use transfer::{
    frames_transfer, frames_transfer_with, spsc_transfer, spsc_transfer_with, TransferReport,
};
