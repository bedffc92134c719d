//! `RealMemory`: std atomics inside the mapping, and the process-shared futex.

use super::{Deadline, Memory, SlotCell, WaitOutcome};
use std::cell::UnsafeCell;
use std::sync::atomic::{self, AtomicU32, AtomicU64, Ordering};

/// Real memory: std atomics (which have the same in-memory representation as the plain integers,
/// so they can live in a `#[repr(C)]` region shared between processes) and `SYS_futex` without
/// `FUTEX_PRIVATE_FLAG`, so waits and wakes work across processes.
#[derive(Debug, Clone, Copy)]
pub enum RealMemory {}

/// A payload cell in real memory: `#[repr(transparent)]`, so a run of cells is a run of values.
#[repr(transparent)]
#[allow(missing_debug_implementations)] // model internals (see `crate::model`)
pub struct RealCell<T>(UnsafeCell<T>);

// SAFETY: access to the inner value is only through the unsafe `read`/`write`, whose callers
// (the ring algorithms) guarantee exclusive access by their synchronization protocol.
unsafe impl<T: Send> Sync for RealCell<T> {}

impl<T: Copy + Send> SlotCell<T> for RealCell<T> {
    #[inline(always)]
    fn new(value: T) -> Self {
        RealCell(UnsafeCell::new(value))
    }

    #[inline(always)]
    unsafe fn read(&self) -> T {
        // SAFETY: the caller guarantees no write is in progress by a well-behaved peer. The read is
        // volatile because the cell may live in memory another process can write at any time (a
        // hostile peer): the compiler must not assume the value is stable, and every bit pattern
        // of the payload types used here (`Pod`, `u8`) is valid, so a torn value is only garbage.
        unsafe { std::ptr::read_volatile(self.0.get()) }
    }

    #[inline(always)]
    unsafe fn write(&self, value: T) {
        // SAFETY: the caller guarantees exclusive access to this cell (see `read`).
        unsafe { std::ptr::write_volatile(self.0.get(), value) }
    }

    #[inline(always)]
    unsafe fn write_run(cells: &[Self], src: &[T]) {
        assert!(src.len() <= cells.len());
        // SAFETY: `RealCell<T>` is transparent over `UnsafeCell<T>`, so the cells are
        // `cells.len()` contiguous `T`s we may write through a shared reference; the caller
        // guarantees exclusive access to the first `src.len()` of them, which cannot overlap
        // `src` (a `&[T]` the caller holds while we hold that exclusive access). A plain copy
        // (not volatile) is enough for writes: the region is published afterwards by a Release
        // store, and nothing we do depends on what a hostile reader sees.
        unsafe {
            let dst = UnsafeCell::raw_get(cells.as_ptr().cast::<UnsafeCell<T>>());
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len());
        }
    }

    #[inline(always)]
    unsafe fn read_run(cells: &[Self], dst: &mut [T]) {
        assert!(dst.len() <= cells.len());
        let src = UnsafeCell::raw_get(cells.as_ptr().cast::<UnsafeCell<T>>());
        // SAFETY: `dst.len()` cells from `src` are in bounds (asserted) and do not overlap
        // `dst` (a `&mut` the caller holds); any bit pattern of the payload types used here
        // (`Pod`, `u8`) is valid, so the byte-wise copy makes valid `T`s (see `read`).
        unsafe {
            volatile_copy(
                src.cast::<u8>(),
                dst.as_mut_ptr().cast::<u8>(),
                std::mem::size_of_val(dst),
            )
        };
    }
}

/// Copies `n` bytes from `src` (memory a hostile peer may write at the same time) to `dst` with
/// volatile reads, 8 bytes at a time where `src` is 8-aligned: the compiler must not assume
/// the source is stable (no re-reads, no fused checks), and a torn word is only garbage.
///
/// # Safety
/// `src..src+n` readable, `dst..dst+n` writable, not overlapping.
#[inline]
unsafe fn volatile_copy(src: *const u8, dst: *mut u8, n: usize) {
    let head = src.align_offset(8).min(n);
    let words = (n - head) / 8;
    // SAFETY (all three loops): every offset is below `n` (the caller's ranges); the word loop
    // reads from `src + head`, which is 8-aligned, and writes unaligned.
    unsafe {
        for i in 0..head {
            dst.add(i).write(src.add(i).read_volatile());
        }
        for w in 0..words {
            let at = head + 8 * w;
            let v = src.add(at).cast::<u64>().read_volatile();
            dst.add(at).cast::<u64>().write_unaligned(v);
        }
        for i in head + 8 * words..n {
            dst.add(i).write(src.add(i).read_volatile());
        }
    }
}

impl Memory for RealMemory {
    type U32 = AtomicU32;
    type U64 = AtomicU64;
    type Cell<T: Copy + Send + 'static> = RealCell<T>;
    type Bytes<'a> = &'a [u8];
    type BytesMut<'a> = RealBytesMut<'a>;

    // About 1000 `pause`s: DESIGN.md measured that this brings a cross-vCPU wakeup from 60-80 µs
    // (futex) to about 0.3 µs when the peer answers quickly.
    const SPIN_LIMIT: u32 = 1 << 10;
    /// 100 ms: a blocked operation notices a dead peer within about this long (plus one read of
    /// `/proc/PID/stat`); a live peer costs one such read per 100 ms of blocking.
    const PEER_CHECK_INTERVAL: Option<std::time::Duration> =
        Some(std::time::Duration::from_millis(100));
    /// 32 yields (each a `sched_yield`, well under a microsecond when nothing else is runnable)
    /// before parking: a guess, not a tuned value. With it and the inline fast paths together,
    /// `wake_slow` and the eventcount wait fell from 22% and 21% of a 2+2-thread mpmc profile
    /// (`perf`, example `mpmc_threads`) to under 1% each (see `ring/mpmc/wait.rs`).
    const YIELD_LIMIT: u32 = 32;

    #[inline(always)]
    fn spin_hint() {
        std::hint::spin_loop();
    }

    #[inline(always)]
    fn prefetch_write<T>(p: *const T) {
        // Not under Miri, which runs no inline assembly (the hint changes nothing it checks).
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        // SAFETY: `prefetchw` is a hint: it never faults and is not a memory access in the
        // language's model, whatever `p` points to; CPUs without it execute it as a NOP (Intel
        // reserved its opcode, 0F 0D, as one). It touches no register but reads `p`.
        unsafe {
            std::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
        }
        #[cfg(not(all(target_arch = "x86_64", not(miri))))]
        let _ = p;
    }

    #[inline(always)]
    fn prefetch<T>(p: *const T) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `prefetcht0` is a hint: it never faults and is not a memory access in the
        // language's model, whatever `p` points to; SSE is part of the x86_64 baseline.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = p;
    }

    #[inline(always)]
    fn fence(order: Ordering) {
        atomic::fence(order);
    }

    fn join_asymmetric() -> bool {
        super::membarrier::join()
    }

    #[inline(always)]
    fn fence_light() {
        // Only the compiler may not move accesses across it: the CPU-level barrier is supplied,
        // when it matters, by the other side's `membarrier` (see `mem/membarrier.rs`).
        atomic::compiler_fence(Ordering::SeqCst);
    }

    fn fence_heavy() -> bool {
        super::membarrier::heavy()
    }

    fn wait32(word: &AtomicU32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
        futex_wait(word.as_ptr(), expected, deadline)
    }

    fn wake32(word: &AtomicU32, count: u32) {
        futex_wake(word.as_ptr(), count);
    }

    fn wait64_low(word: &AtomicU64, expected_low: u32, deadline: Option<Deadline>) -> WaitOutcome {
        futex_wait(low_half(word), expected_low, deadline)
    }

    fn wake64_low(word: &AtomicU64, count: u32) {
        futex_wake(low_half(word), count);
    }

    fn expired(deadline: Deadline) -> bool {
        deadline.has_passed()
    }

    #[inline(always)]
    unsafe fn bytes(cells: &[RealCell<u8>]) -> &[u8] {
        // SAFETY: `RealCell<u8>` is `repr(transparent)` over `UnsafeCell<u8>`, itself transparent
        // over `u8`, so the cells are `cells.len()` contiguous bytes; the caller guarantees no
        // write is in progress for the view's lifetime.
        unsafe { std::slice::from_raw_parts(cells.as_ptr() as *const u8, cells.len()) }
    }

    #[inline(always)]
    unsafe fn bytes_mut(cells: &[RealCell<u8>]) -> RealBytesMut<'_> {
        RealBytesMut {
            // `RealCell<u8>` is transparent over `UnsafeCell<u8>`: the cells are contiguous bytes
            // we may write through a shared reference.
            ptr: UnsafeCell::raw_get(cells.as_ptr().cast()),
            len: cells.len(),
            _cells: std::marker::PhantomData,
        }
    }
}

/// A write view of byte cells in real memory: a raw pointer and length, turned into `&mut [u8]`
/// only while borrowed. It deliberately holds no `&mut [u8]` itself: a view that travels inside
/// a value passed to the function that then *publishes* those bytes (`Grant::commit`) would
/// keep a protected unique borrow alive while the consumer already reads them (Miri's Stacked
/// Borrows reported exactly that).
#[allow(missing_debug_implementations)] // model internals (see `crate::model`)
pub struct RealBytesMut<'a> {
    ptr: *mut u8,
    len: usize,
    _cells: std::marker::PhantomData<&'a [RealCell<u8>]>,
}

impl std::ops::Deref for RealBytesMut<'_> {
    type Target = [u8];
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` are cells the creator of this view was granted exclusive access
        // to (see `Memory::bytes_mut`), alive for 'a.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl std::ops::DerefMut for RealBytesMut<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only live view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

#[cfg(not(target_endian = "little"))]
compile_error!("wait64_low puts a futex on the low half of a u64: little-endian targets only");

fn low_half(word: &AtomicU64) -> *mut u32 {
    // On little-endian targets the low 32 bits of a u64 are its first four bytes, and an
    // AtomicU64 is 8-aligned, so this is a 4-aligned u32 futex word.
    word.as_ptr().cast::<u32>()
}

#[cfg(not(miri))]
fn futex_wait(addr: *mut u32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
    let ts = deadline.map(Deadline::as_timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `addr` points to a live, 4-aligned u32 inside an atomic (the caller's reference
    // keeps it alive for the call). FUTEX_WAIT_BITSET without FUTEX_PRIVATE_FLAG is the
    // process-shared wait; with a null timeout it waits forever, otherwise until the absolute
    // CLOCK_MONOTONIC time in `ts`. The kernel only reads `*addr` and `*ts_ptr`.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            addr,
            libc::FUTEX_WAIT_BITSET,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            libc::FUTEX_BITSET_MATCH_ANY,
        )
    };
    if rc == 0 {
        return WaitOutcome::Woken;
    }
    match nix::errno::Errno::last() {
        nix::errno::Errno::EAGAIN => WaitOutcome::ValueChanged,
        nix::errno::Errno::ETIMEDOUT => WaitOutcome::TimedOut,
        nix::errno::Errno::EINTR => WaitOutcome::Interrupted,
        // EFAULT/EINVAL cannot happen for a valid aligned address; report as a spurious wakeup
        // so callers re-check rather than hang.
        _ => WaitOutcome::Woken,
    }
}

#[cfg(not(miri))]
fn futex_wake(addr: *mut u32, count: u32) {
    let n = count.min(i32::MAX as u32) as libc::c_int;
    // SAFETY: `addr` is a live 4-aligned u32 (see `futex_wait`); FUTEX_WAKE only uses the address
    // as a key and never dereferences memory we do not own.
    unsafe {
        libc::syscall(libc::SYS_futex, addr, libc::FUTEX_WAKE, n);
    }
}

// Miri cannot run the futex syscall with a bitset; it yields instead (callers re-check, so a
// spurious return is always allowed).
#[cfg(miri)]
fn futex_wait(addr: *mut u32, expected: u32, deadline: Option<Deadline>) -> WaitOutcome {
    // SAFETY: `addr` is a live atomic u32.
    let now = unsafe { (*(addr as *const AtomicU32)).load(Ordering::SeqCst) };
    if now != expected {
        return WaitOutcome::ValueChanged;
    }
    std::thread::yield_now();
    if deadline.is_some_and(Deadline::has_passed) {
        WaitOutcome::TimedOut
    } else {
        WaitOutcome::Woken
    }
}

#[cfg(miri)]
fn futex_wake(_addr: *mut u32, _count: u32) {}
