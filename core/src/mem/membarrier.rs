//! The heavy half of an asymmetric barrier for [`super::RealMemory`]: Linux `membarrier(2)` with
//! `MEMBARRIER_CMD_GLOBAL_EXPEDITED`.
//!
//! A Dekker-style handshake (store my flag, then load yours) needs a full fence between the store
//! and the load on *both* sides. When one side runs it millions of times a second (a ring's
//! publish) and the other rarely (a consumer about to park), the frequent side can use a
//! compiler-only fence, and the rare side a system call that makes every running thread of every
//! registered process execute a full memory barrier before it returns (an IPI to each CPU running
//! one; a thread that is not running has passed one at its last context switch). That promotes
//! each frequent side's compiler fence to a real one at the one moment it matters, which is
//! the Linux memory model's own description of `sys_membarrier` and what userspace RCU and
//! folly's `asymmetricHeavyBarrier` rely on. The loom models therefore model both halves as
//! `fence(SeqCst)`.
//!
//! Only processes that registered (`MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED`) are covered, so
//! every process that attaches to a ring using this must register first ([`join`]); a child of
//! `fork` is not registered (the registration belongs to the address space) and must attach anew.

/// `membarrier(2)` commands, from `<linux/membarrier.h>` (the `libc` crate does not export them).
#[cfg(not(miri))]
const CMD_QUERY: libc::c_long = 0;
#[cfg(not(miri))]
const CMD_GLOBAL_EXPEDITED: libc::c_long = 1 << 1;
#[cfg(not(miri))]
const CMD_REGISTER_GLOBAL_EXPEDITED: libc::c_long = 1 << 2;

#[cfg(not(miri))]
fn membarrier(cmd: libc::c_long) -> libc::c_long {
    // SAFETY: membarrier takes two integer arguments (command, flags) and a cpu id that only
    // `MEMBARRIER_CMD_FLAG_CPU` reads; it touches no memory of ours.
    unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            cmd,
            0 as libc::c_uint,
            0 as libc::c_int,
        )
    }
}

/// Registers this process for expedited global barriers. Returns whether this process can take
/// part in asymmetric barriers: false when the kernel (or a seccomp filter, or Miri) does not
/// offer them. Idempotent and cheap after the first call; call it whenever a handle attaches, so
/// a forked child registers too.
pub(super) fn join() -> bool {
    #[cfg(miri)]
    {
        false
    }
    #[cfg(not(miri))]
    {
        let supported = membarrier(CMD_QUERY);
        let needed = CMD_GLOBAL_EXPEDITED | CMD_REGISTER_GLOBAL_EXPEDITED;
        supported >= 0
            && supported & needed == needed
            && membarrier(CMD_REGISTER_GLOBAL_EXPEDITED) == 0
    }
}

/// Every running thread of every registered process executes a full memory barrier before this
/// returns (and so does the caller). False if the call failed, in which case the caller must not
/// rely on the barrier.
pub(super) fn heavy() -> bool {
    #[cfg(miri)]
    {
        false
    }
    #[cfg(not(miri))]
    {
        membarrier(CMD_GLOBAL_EXPEDITED) == 0
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    #[test]
    fn a_registered_process_can_issue_the_heavy_barrier() {
        // Kernels since 4.16 offer both commands; where they are missing (old kernel, seccomp),
        // `join` says so and the heavy barrier is never called.
        if super::join() {
            assert!(super::heavy());
        }
    }
}
