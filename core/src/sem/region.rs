//! The semaphore as a shared object: its region layout and header parameters (validated on
//! open), placement of the control block and ledger, the builder's setters, and the
//! region-only accessors (`fd`, `name`, `persist`).

use super::ledger::{LedgerSlot, LedgerView};
use super::state::{SemCore, MAX_LEDGER_SLOTS, MAX_PERMITS};
use super::{check_params, Backing, LocalBlock, SemError, SemParams, Semaphore};
use crate::mem::{Memory, RealMemory};
use crate::object::{Builder, RegionObject, SharedObject};
use crate::process::ProcessEnv;
use crate::shm::{Region, RegionHeader, RegionKind, RegionLayout, ShmError, TypeFingerprint};
use std::num::NonZeroU32;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::Arc;

/// Region parameters: `params[0]` = initial permits, `[1]` = flags, `[2]` = ledger slots.
const FLAG_LEDGER: u64 = 1;
const CORE_LEN: usize = std::mem::size_of::<SemCore<RealMemory>>();

fn check_slots(slots: u32) -> Result<(), SemError> {
    if slots > MAX_LEDGER_SLOTS {
        return Err(SemError::InvalidArgument(format!(
            "ledger slots must be in 1..={MAX_LEDGER_SLOTS} (0 for no ledger), not {slots}"
        )));
    }
    Ok(())
}

/// `max` as the handle keeps it (validated non-zero before every call; an error, not a panic,
/// if a path ever skipped that).
fn nonzero_max(max: u32) -> Result<NonZeroU32, SemError> {
    NonZeroU32::new(max).ok_or_else(|| SemError::InvalidArgument("max must not be 0".into()))
}

impl<M: Memory> SharedObject for Semaphore<M> {
    type Params = SemParams;
    type Error = SemError;

    fn default_params() -> SemParams {
        SemParams {
            max: 1,
            permits: None,
            ledger_slots: 0,
        }
    }

    fn check(p: &SemParams) -> Result<(), SemError> {
        check_params(p.initial(), p.max)?;
        check_slots(p.ledger_slots)
    }

    fn on_heap(p: &SemParams, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let slots = p.ledger_slots;
        let block = Arc::new(LocalBlock {
            core: SemCore::<M>::new(p.initial()),
            slots: (0..slots).map(|_| LedgerSlot::free()).collect(),
        });
        let ledger = if slots > 0 {
            Some(LedgerView::attach(
                NonNull::from(&*block.slots).cast::<LedgerSlot<M>>(),
                slots,
                (p.max, p.initial()),
                env,
            )?)
        } else {
            None
        };
        Ok(Self::with_backing(
            Backing::Local(block),
            nonzero_max(p.max)?,
            ledger,
        ))
    }

    fn shm_error(e: &SemError) -> Option<&ShmError> {
        match e {
            SemError::Shm(e) => Some(e),
            _ => None,
        }
    }
}

/// Semaphores hold no records: the type check is opted out of.
impl RegionObject for Semaphore<RealMemory> {
    const KIND: RegionKind = RegionKind::Semaphore;

    fn record() -> TypeFingerprint {
        TypeFingerprint::NONE
    }

    fn layout(p: &SemParams) -> RegionLayout {
        let slot = std::mem::size_of::<LedgerSlot<RealMemory>>();
        RegionLayout {
            kind: Self::KIND,
            capacity: u64::from(p.max),
            elem_size: slot as u32,
            elem_align: std::mem::align_of::<LedgerSlot<RealMemory>>() as u32,
            params: [
                u64::from(p.initial()),
                if p.ledger_slots > 0 { FLAG_LEDGER } else { 0 },
                u64::from(p.ledger_slots),
                0,
            ],
            body_len: (CORE_LEN + p.ledger_slots as usize * slot) as u64,
        }
    }

    fn params_of(h: &RegionHeader) -> Result<SemParams, ShmError> {
        let bad = |field: &'static str, found: u64, expected: &str| ShmError::LayoutMismatch {
            field,
            found,
            expected: expected.to_string(),
        };
        let max = u32::try_from(h.capacity)
            .ok()
            .filter(|m| (1..=MAX_PERMITS).contains(m))
            .ok_or_else(|| bad("capacity", h.capacity, "a maximum in 1..=2^30-1"))?;
        let permits = u32::try_from(h.params[0])
            .ok()
            .filter(|&p| p <= max)
            .ok_or_else(|| bad("params[0]", h.params[0], "initial permits <= max"))?;
        if h.params[1] & !FLAG_LEDGER != 0 {
            return Err(bad("params[1]", h.params[1], "known flags only"));
        }
        let ledger = h.params[1] & FLAG_LEDGER != 0;
        let slots = u32::try_from(h.params[2])
            .ok()
            .filter(|&s| {
                if ledger {
                    (1..=MAX_LEDGER_SLOTS).contains(&s)
                } else {
                    s == 0
                }
            })
            .ok_or_else(|| {
                bad(
                    "params[2]",
                    h.params[2],
                    "ledger slots in 1..=4096 (0 without ledger)",
                )
            })?;
        Ok(SemParams {
            max,
            permits: Some(permits),
            ledger_slots: slots,
        })
    }

    fn init(p: &SemParams, body: NonNull<u8>, body_len: usize) {
        init_body(body, body_len, p.initial());
    }

    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, SemError> {
        let layout = *region.layout();
        // Re-validate (create paths computed it; open paths validated it against the mapping).
        let need =
            CORE_LEN + layout.params[2] as usize * std::mem::size_of::<LedgerSlot<RealMemory>>();
        if region.body_len() < need
            || layout.capacity == 0
            || layout.capacity > u64::from(MAX_PERMITS)
        {
            return Err(ShmError::TooSmall {
                len: region.len(),
                need,
                what: "the semaphore control block and ledger",
            }
            .into());
        }
        let max = layout.capacity as u32;
        let total = u32::try_from(layout.params[0])
            .ok()
            .filter(|&p| p <= max)
            .ok_or(ShmError::LayoutMismatch {
                field: "params[0]",
                found: layout.params[0],
                expected: "initial permits <= max".to_string(),
            })?;
        let body = region.body();
        let ledger = if layout.params[1] & FLAG_LEDGER != 0 {
            // SAFETY: the body is at least CORE_LEN + slots * size_of::<LedgerSlot>() bytes
            // (checked above), 128-aligned, and the slots follow the control block.
            let slots = unsafe { body.add(CORE_LEN) }.cast::<LedgerSlot<RealMemory>>();
            Some(LedgerView::attach(
                slots,
                layout.params[2] as u32,
                (max, total),
                env,
            )?)
        } else {
            None
        };
        Ok(Self::with_backing(
            Backing::Region(Arc::new(region)),
            nonzero_max(max)?,
            ledger,
        ))
    }
}

impl<M: Memory> Builder<Semaphore<M>> {
    /// The most permits that can be free at once, `1..=MAX_PERMITS` (default 1).
    pub fn max(self, max: u32) -> Self {
        self.with(|p| p.max = max)
    }

    /// Free permits at creation, `<= max` (default: `max`).
    pub fn permits(self, permits: u32) -> Self {
        self.with(|p| p.permits = Some(permits))
    }

    /// Keeps a holder ledger of `slots` entries (processes that may hold permits at once,
    /// `1..=MAX_LEDGER_SLOTS`), so [`Semaphore::recover`] can return the permits of dead
    /// processes. 0 (the default): no ledger.
    pub fn ledger(self, slots: u32) -> Self {
        self.with(|p| p.ledger_slots = slots)
    }
}

impl Semaphore<RealMemory> {
    /// The region's fd (named or memfd), to hand to a child process.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.backing {
            Backing::Region(r) => r.fd(),
            Backing::Local(_) => None,
        }
    }

    /// The region's name, for named semaphores.
    pub fn name(&self) -> Option<&crate::shm::ShmName> {
        match &self.backing {
            Backing::Region(r) => r.name(),
            Backing::Local(_) => None,
        }
    }

    /// The region the semaphore lives in (`None` on the heap).
    pub fn region(&self) -> Option<&Region> {
        match &self.backing {
            Backing::Region(r) => Some(r),
            Backing::Local(_) => None,
        }
    }

    /// Keeps a named semaphore's name after this process's handles drop (see
    /// [`Region::persist`]).
    pub fn persist(&self) {
        if let Some(r) = self.region() {
            r.persist();
        }
    }
}

fn init_body(body: NonNull<u8>, len: usize, permits: u32) {
    assert!(len >= CORE_LEN, "layout_for sized the body");
    // SAFETY: the body is 128-aligned (page-aligned base + 128-byte header), at least CORE_LEN
    // bytes, freshly created and not yet visible to anyone; the ledger slots after it are zero
    // (ftruncate / alloc_zeroed), which is their valid "free" state.
    unsafe {
        body.cast::<SemCore<RealMemory>>()
            .as_ptr()
            .write(SemCore::new(permits))
    };
}
