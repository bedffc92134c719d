//! Waiting while a region is pending (not created yet, or being created), up to a timeout.

use super::SharedObject;
use crate::shm::ShmError;
use std::time::{Duration, Instant};

/// First and largest pause between attempts.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const MAX_PAUSE: Duration = Duration::from_millis(20);

/// Calls `attempt` until it returns something other than "not found" / "being created", or
/// `timeout` passes (then the last pending error is returned). Never sleeps past the deadline.
pub(super) fn retry_while_pending<O: SharedObject>(
    timeout: Duration,
    mut attempt: impl FnMut() -> Result<O, O::Error>,
) -> Result<O, O::Error> {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        let result = attempt();
        let pending = match &result {
            Err(e) => matches!(
                O::shm_error(e),
                Some(ShmError::NotFound(_) | ShmError::BeingCreated(_))
            ),
            Ok(_) => false,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if !pending || left.is_zero() {
            return result;
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}
