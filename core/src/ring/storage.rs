//! Where a ring's control block and slots live: a shared region (real memory) or the heap (any
//! `Memory`, which is how loom runs the same code). Both give the algorithms a `&C` and a `&[S]`.
//!
//! Region body layout: the control block `C` at offset 0, then `n` slots `S` starting at the next
//! multiple of 128 bytes (and of `align_of::<S>()`).
//!
//! A region's body is only [`SLOT_ALIGN`]-aligned (a page-aligned mapping, then the 128-byte
//! header), so a slot type aligned more strictly cannot live there: every region path
//! (`layout_for`, `init_body`, `in_region`) asserts `align_of::<S>() <= SLOT_ALIGN` in a `const`
//! block, which fails the build for such a type instead of misaligning it at run time.

use crate::shm::{Region, RegionKind, RegionLayout, ShmError};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::Arc;

/// A control block and `n` slots, kept alive by an owner (a region or a heap allocation).
pub(crate) struct Storage<C, S> {
    ctrl: NonNull<C>,
    slots: NonNull<S>,
    n: usize,
    region: Option<Arc<Region>>,
    _owner: Arc<dyn Any + Send + Sync>,
}

// SAFETY: Storage only hands out shared references to `C` and `S`, which are Sync (atomics and
// cells whose access the algorithms synchronise); the owner keeps the memory alive.
unsafe impl<C: Sync, S: Sync> Send for Storage<C, S> {}
// SAFETY: as above.
unsafe impl<C: Sync, S: Sync> Sync for Storage<C, S> {}

impl<C, S> Clone for Storage<C, S> {
    fn clone(&self) -> Self {
        Storage {
            ctrl: self.ctrl,
            slots: self.slots,
            n: self.n,
            region: self.region.clone(),
            _owner: Arc::clone(&self._owner),
        }
    }
}

/// The alignment a region guarantees for its body, hence the largest slot alignment it accepts.
pub(crate) const SLOT_ALIGN: usize = 128;

/// Fails the build (when instantiated) for a slot type a region cannot align.
const fn assert_region_align<S>() {
    assert!(
        std::mem::align_of::<S>() <= SLOT_ALIGN,
        "a record type aligned to more than 128 bytes cannot live in a shared region"
    );
}

/// Offset of the slots in the body.
pub(crate) fn slots_offset<C, S>() -> usize {
    let align = std::mem::align_of::<S>().max(128);
    std::mem::size_of::<C>().div_ceil(align) * align
}

/// The region layout for `n` slots of `S` after a control block `C`. `params[0..2]` record the
/// sizes of `C` and `S`, so a build with a different layout is refused on `open`.
pub(crate) fn layout_for<C, S>(
    kind: RegionKind,
    n: usize,
    elem_size: usize,
    elem_align: usize,
) -> RegionLayout {
    const { assert_region_align::<S>() };
    RegionLayout {
        kind,
        capacity: n as u64,
        elem_size: elem_size as u32,
        elem_align: elem_align as u32,
        params: [
            std::mem::size_of::<C>() as u64,
            std::mem::size_of::<S>() as u64,
            0,
            0,
        ],
        body_len: (slots_offset::<C, S>() + n * std::mem::size_of::<S>()) as u64,
    }
}

impl<C: Send + Sync + 'static, S: Send + Sync + 'static> Storage<C, S> {
    /// On the heap, with Rust allocations (works for every `Memory`, loom included).
    pub(crate) fn boxed(ctrl: C, slots: Vec<S>) -> Self {
        let n = slots.len();
        let ctrl = Box::new(ctrl);
        let slots = slots.into_boxed_slice();
        let ctrl_ptr = NonNull::from(&*ctrl);
        // A boxed empty slice has a dangling but aligned, non-null pointer: fine for n == 0.
        let slots_ptr = NonNull::new(slots.as_ptr() as *mut S).expect("box pointers are non-null");
        Storage {
            ctrl: ctrl_ptr,
            slots: slots_ptr,
            n,
            region: None,
            _owner: Arc::new((ctrl, slots)),
        }
    }

    /// Placement-initialises a region body: the control block at offset 0, then every slot.
    pub(crate) fn init_body(
        body: NonNull<u8>,
        body_len: usize,
        n: usize,
        ctrl: impl FnOnce() -> C,
        slot: impl Fn(usize) -> S,
    ) {
        const { assert_region_align::<S>() };
        assert!(body_len >= slots_offset::<C, S>() + n * std::mem::size_of::<S>());
        // SAFETY: the body is 128-aligned (page-aligned mapping + 128-byte header), at least
        // `body_len` bytes, and not yet shared with anyone (the region is not ready). `C` fits
        // at offset 0 and the slots at `slots_offset`, as asserted above; alignment of `C`
        // and `S` is at most 128 (they are `#[repr(C)]` atomics and cells, `Line` is 128).
        unsafe {
            body.cast::<C>().as_ptr().write(ctrl());
            let first = body.as_ptr().add(slots_offset::<C, S>()).cast::<S>();
            for i in 0..n {
                first.add(i).write(slot(i));
            }
        }
    }

    /// Views a validated region: the layout check in `open` (or our own `create`) guarantees the
    /// body holds `C` and `capacity` slots of `S`.
    pub(crate) fn in_region(region: Region) -> Self {
        const { assert_region_align::<S>() };
        let n = region.layout().capacity as usize;
        assert!(region.body_len() >= slots_offset::<C, S>() + n * std::mem::size_of::<S>());
        let body = region.body();
        // SAFETY: in bounds, as asserted.
        let slots = unsafe { body.add(slots_offset::<C, S>()) }.cast::<S>();
        let region = Arc::new(region);
        Storage {
            ctrl: body.cast::<C>(),
            slots,
            n,
            region: Some(Arc::clone(&region)),
            _owner: region,
        }
    }
}

impl<C, S> Storage<C, S> {
    /// The control block.
    #[inline(always)]
    pub(crate) fn ctrl(&self) -> &C {
        // SAFETY: initialised at creation (or by the creator, for an opened region, whose layout
        // was validated); alive as long as `_owner`, which `self` holds.
        unsafe { self.ctrl.as_ref() }
    }

    /// The slots.
    #[inline(always)]
    pub(crate) fn slots(&self) -> &[S] {
        // SAFETY: `n` initialised slots at `slots`, alive as long as `_owner`.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr(), self.n) }
    }

    /// The region, when region-backed.
    pub(crate) fn region(&self) -> Option<&Region> {
        self.region.as_deref()
    }
}

/// The capacity a region header declares, checked like [`check_capacity`]; a bad one is a
/// `LayoutMismatch` naming the `capacity` field (the one check every ring's `open` makes).
pub(crate) fn header_capacity(
    header: &crate::shm::RegionHeader,
    min: usize,
    max: usize,
) -> Result<usize, ShmError> {
    let capacity = usize::try_from(header.capacity).unwrap_or(usize::MAX);
    check_capacity(capacity, min, max).map_err(|reason| ShmError::LayoutMismatch {
        field: "capacity",
        found: header.capacity,
        expected: format!("a power of two in {min}..={max} ({reason})"),
    })?;
    Ok(capacity)
}

/// `pos % capacity` for a capacity every constructor has checked to be a power of two
/// ([`check_capacity`], [`header_capacity`]): a mask instead of a 64-bit division, which would
/// cost more than the rest of an mpmc operation. Always `< capacity`, whatever `pos` is (a
/// hostile peer's garbage position still indexes inside the ring).
#[inline(always)]
pub(crate) fn wrap(pos: u64, capacity: usize) -> usize {
    debug_assert!(capacity.is_power_of_two());
    (pos & (capacity as u64).wrapping_sub(1)) as usize
}

/// Checks a capacity: a power of two in `[min, max]`.
pub(crate) fn check_capacity(capacity: usize, min: usize, max: usize) -> Result<(), &'static str> {
    if !capacity.is_power_of_two() {
        return Err("must be a power of two");
    }
    if capacity < min {
        return Err("too small");
    }
    if capacity > max {
        return Err("too large");
    }
    Ok(())
}
