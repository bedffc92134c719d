//! Parent side of real multi-process runs: create the region, start the workers, reap them,
//! and turn their reports into one result.

mod transfer;

pub use transfer::{frames_transfer, spsc_transfer, TransferReport};
