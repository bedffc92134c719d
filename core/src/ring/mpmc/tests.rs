//! Repair on real memory: blocked operations notice a dead holder after one
//! `PEER_CHECK_INTERVAL` (100 ms) and repair its slot; a live holder's slot is never repaired.

use super::CrashPoint;
use crate::mem::Deadline;
use crate::process::{PidStatus, ProcFs, ProcessEnv, ProcessError, ProcessKey};
use crate::{Mpmc, RingError};
use std::sync::Arc;
use std::time::Duration;

/// A process that has exited: its pid (reaped) and a start time.
fn dead_key() -> ProcessKey {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    ProcessKey { pid, start: 1 }
}

/// The environment of a process that is `key`; everything else as `/proc` says.
struct As(ProcessKey);

impl ProcessEnv for As {
    fn me(&self) -> Result<ProcessKey, ProcessError> {
        Ok(self.0)
    }
    fn status(&self, pid: u32) -> Result<PidStatus, ProcessError> {
        ProcFs.status(pid)
    }
    fn claim_locked(&self, f: &mut dyn FnMut()) {
        f()
    }
}

fn soon() -> Option<Deadline> {
    Some(Deadline::after(Duration::from_secs(10)))
}

#[test]
fn a_dead_producers_slot_becomes_a_tombstone_that_consumers_skip() {
    let q = Mpmc::<u64>::builder().capacity(4).heap().unwrap();
    let dead = q.handle_as(Arc::new(As(dead_key())));
    dead.try_push_crashing(7, CrashPoint::AfterData).unwrap();
    q.try_push(8).unwrap();
    assert_eq!(
        q.try_pop(),
        Err(RingError::Empty),
        "wedged behind the dead claim"
    );
    assert_eq!(q.pop_until(soon()), Ok(8));
    assert_eq!(q.repairs().tombstones, 1);
    assert_eq!(q.try_pop(), Err(RingError::Empty));
}

#[test]
fn a_dead_consumers_slot_is_freed_and_its_record_counted_lost() {
    let q = Mpmc::<u64>::builder().capacity(2).heap().unwrap();
    q.try_push(1).unwrap();
    q.try_push(2).unwrap();
    let dead = q.handle_as(Arc::new(As(dead_key())));
    assert_eq!(dead.try_pop_crashing(CrashPoint::AfterData), Ok(None));
    assert_eq!(q.try_pop(), Ok(2));
    assert_eq!(q.try_push(3), Err(RingError::Full), "slot 0 still held");
    assert_eq!(q.push_until(3, soon()), Ok(()));
    assert_eq!(q.repairs().dropped, 1);
    q.try_push(4).unwrap();
    assert_eq!((q.try_pop(), q.try_pop()), (Ok(3), Ok(4)));
}

#[test]
fn a_live_claimers_slot_is_never_repaired() {
    let q = Mpmc::<u64>::builder().capacity(2).heap().unwrap();
    // This process (alive) stops inside a push: nobody may repair its slot.
    q.try_push_crashing(7, CrashPoint::AfterRecord).unwrap();
    let short = Some(Deadline::after(Duration::from_millis(250)));
    assert_eq!(q.pop_until(short), Err(RingError::TimedOut));
    assert_eq!(q.repair(), Ok(0));
    assert_eq!(q.repairs(), super::MpmcRepairs::default());
}

#[test]
fn a_close_does_not_strand_records_behind_a_dead_claim() {
    let q = Mpmc::<u64>::builder().capacity(4).heap().unwrap();
    let dead = q.handle_as(Arc::new(As(dead_key())));
    dead.try_push_crashing(7, CrashPoint::AfterRecord).unwrap();
    q.try_push(8).unwrap();
    q.close();
    assert_eq!(q.try_pop(), Ok(8), "repaired at once when closed");
    assert_eq!(q.try_pop(), Err(RingError::Closed));
}
