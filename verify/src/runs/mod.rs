//! Parent side of real multi-process runs: create the region, start the workers, reap them,
//! and turn their reports into one result.

mod faults;
pub mod history_buffers;
mod recorded;
mod transfer;

pub use recorded::{mpmc_run, semaphore_run, transfer_run, RunParams, RunReport};
pub use transfer::{
    frames_transfer, frames_transfer_with, spsc_transfer, spsc_transfer_with, TransferReport,
};
