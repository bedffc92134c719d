//! The machinery under the public types, for the verification harness (loom models, mutants,
//! benches): the `Memory` trait and its real implementation, the deliberate bugs (`Mutant`), the
//! eventcount, and the object types generic over their memory. Not part of the supported API.
//!
//! A user never names a memory parameter: [`crate::Spsc`] is `model::Spsc<T, RealMemory>`, and
//! so on.

#![doc(hidden)]

pub use crate::mem::{
    Atomic, Deadline, Memory, Mutant, RealBytesMut, RealCell, RealMemory, SlotCell, WaitOutcome,
};
pub use crate::process::{PidStatus, ProcFs, ProcessEnv, ProcessError, ProcessKey};
pub use crate::ring::eventcount::{EventCount, Fences};
pub use crate::ring::frames::{FrameConsumer, FrameProducer, Frames, Grant};
pub use crate::ring::mpmc::{CrashPoint, Mpmc};
pub use crate::ring::spsc::{Consumer, Producer, ReadChunk, Spsc, WriteChunk};
pub use crate::sem::{Crashed, LocalPermit, LocalSemaphore, Permit, Semaphore};
