//! Absolute deadlines on CLOCK_MONOTONIC, the clock `FUTEX_WAIT_BITSET` measures, so a wait that
//! is interrupted and restarted does not stretch.

use std::time::Duration;

/// An absolute point in time on CLOCK_MONOTONIC, in nanoseconds since its (boot-time) epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    mono_ns: u64,
}

impl Deadline {
    /// The deadline `mono_ns` nanoseconds after CLOCK_MONOTONIC's epoch.
    pub const fn from_monotonic_ns(mono_ns: u64) -> Self {
        Deadline { mono_ns }
    }

    /// `timeout` from now (saturating).
    pub fn after(timeout: Duration) -> Self {
        let add = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        Deadline {
            mono_ns: monotonic_now_ns().saturating_add(add),
        }
    }

    /// Nanoseconds since CLOCK_MONOTONIC's epoch.
    pub fn monotonic_ns(self) -> u64 {
        self.mono_ns
    }

    /// Whether the deadline has passed, by the real clock.
    pub fn has_passed(self) -> bool {
        monotonic_now_ns() >= self.mono_ns
    }

    /// As a `timespec` for `futex(FUTEX_WAIT_BITSET)`.
    pub fn as_timespec(self) -> libc::timespec {
        libc::timespec {
            tv_sec: (self.mono_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (self.mono_ns % 1_000_000_000) as libc::c_long,
        }
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds. Shared by every process on the machine.
pub fn monotonic_now_ns() -> u64 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available on Linux");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}
