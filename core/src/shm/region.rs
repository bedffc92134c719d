//! A mapped region: named POSIX shm, anonymous memfd, or heap memory, with its header.
//!
//! Creating is all or nothing: a named region whose creation fails (or whose initialiser panics)
//! is unlinked before the error returns, so a failed create leaves no name behind. Until the
//! creator marks it ready, `open` reports one state, [`ShmError::BeingCreated`] (whether the
//! object is still empty, being sized or being initialised), or [`ShmError::CreatorDied`] once
//! the recorded creator is dead.
//!
//! An anonymous (memfd) region is sealed once sized (`F_SEAL_SHRINK | F_SEAL_GROW |
//! F_SEAL_SEAL`): no process holding its fd can change its size, so no peer can make the others'
//! accesses fault. A named region cannot be sealed: any process allowed to open it for writing
//! can `ftruncate` it, and every other process touching the cut-off pages then dies of `SIGBUS`
//! (README, "Trust model").

use super::header::STATE_READY;
use super::{
    RegionHeader, RegionKind, RegionLayout, ShmError, ShmName, TypeFingerprint, HEADER_LEN,
};
use crate::process::ProcessKey;
use nix::fcntl::OFlag;
use nix::sys::mman::{mmap, munmap, shm_open, shm_unlink, MapFlags, ProtFlags};
use nix::sys::stat::{fstat, Mode};
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Where a region's memory comes from.
#[derive(Debug)]
pub enum Backing {
    /// A named POSIX shm object (`/dev/shm/...`).
    Named {
        /// Its name.
        name: ShmName,
        /// The open object.
        fd: OwnedFd,
    },
    /// An anonymous `memfd`, shared with children by inheriting the fd.
    Memfd {
        /// The memfd.
        fd: OwnedFd,
    },
    /// Ordinary heap memory: in-process only (tests, Miri).
    Heap,
}

/// A mapped region. The first [`HEADER_LEN`] bytes are the [`RegionHeader`]; the body follows.
/// Unmapped (and, for a named region's creator, unlinked) on drop.
#[derive(Debug)]
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    layout: RegionLayout,
    backing: Backing,
    /// Whether dropping this handle unlinks a named region's name (the creator's default, until
    /// [`Region::persist`]). Atomic so that a shared handle can be persisted.
    unlink_on_drop: AtomicBool,
}

// SAFETY: a Region is a pointer to a mapping that lives as long as the Region; all access to its
// contents goes through atomics or the ring algorithms' synchronization, never through `&mut`.
unsafe impl Send for Region {}
// SAFETY: as above: shared references only hand out raw pointers and copies of the header.
unsafe impl Sync for Region {}

const HEAP_ALIGN: usize = 4096;

impl Region {
    /// Creates a named region (`shm_open` with `O_CREAT | O_EXCL`, mode 0600), initialises its
    /// body with `init` and marks it ready. The name is unlinked when this handle drops, unless
    /// [`Region::persist`] is called.
    pub fn create_named(
        name: &ShmName,
        layout: &RegionLayout,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        Self::create_named_typed(name, layout, &TypeFingerprint::NONE, init)
    }

    /// [`Region::create_named`], recording `record` as the record type.
    pub(crate) fn create_named_typed(
        name: &ShmName,
        layout: &RegionLayout,
        record: &TypeFingerprint,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        let fd = shm_open(
            name.as_str(),
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC,
            Mode::S_IRUSR | Mode::S_IWUSR,
        )
        .map_err(|e| match e {
            nix::errno::Errno::EEXIST => ShmError::AlreadyExists(name.to_string()),
            e => ShmError::os("shm_open", name.as_str(), e),
        })?;
        // From here on, any failure (or a panic in `init`) unlinks the name again.
        let guard = UnlinkGuard(Some(name));
        let backing = Backing::Named {
            name: name.clone(),
            fd,
        };
        let region = Self::create_in_fd(backing, layout, record, init)?;
        std::mem::forget(guard);
        Ok(region)
    }

    /// Creates an anonymous region on a `memfd` (close-on-exec; a spawner clears that flag for
    /// the child it hands the fd to).
    pub fn create_anonymous(
        layout: &RegionLayout,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        Self::create_anonymous_typed(layout, &TypeFingerprint::NONE, init)
    }

    /// [`Region::create_anonymous`], recording `record` as the record type.
    pub(crate) fn create_anonymous_typed(
        layout: &RegionLayout,
        record: &TypeFingerprint,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        let fd = nix::sys::memfd::memfd_create(
            c"synclab",
            nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC
                | nix::sys::memfd::MemFdCreateFlag::MFD_ALLOW_SEALING,
        )
        .map_err(|e| ShmError::os("memfd_create", "anonymous region", e))?;
        Self::create_in_fd(Backing::Memfd { fd }, layout, record, init)
    }

    /// Creates a region on the heap: same layout and code paths, one process only.
    pub fn create_heap(
        layout: &RegionLayout,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        Self::create_heap_typed(layout, &TypeFingerprint::NONE, init)
    }

    /// [`Region::create_heap`], recording `record` as the record type.
    pub(crate) fn create_heap_typed(
        layout: &RegionLayout,
        record: &TypeFingerprint,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        let len = checked_len(layout)?;
        let alloc_layout = std::alloc::Layout::from_size_align(len, HEAP_ALIGN).map_err(|_| {
            ShmError::LayoutMismatch {
                field: "total_len",
                found: len as u64,
                expected: "a size the allocator accepts".into(),
            }
        })?;
        // SAFETY: `len >= HEADER_LEN > 0`, so the layout has non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(alloc_layout) };
        let base =
            NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(alloc_layout));
        let region = Region {
            base,
            len,
            layout: *layout,
            backing: Backing::Heap,
            unlink_on_drop: AtomicBool::new(false),
        };
        region.initialise(record, init);
        Ok(region)
    }

    fn create_in_fd(
        backing: Backing,
        layout: &RegionLayout,
        record: &TypeFingerprint,
        init: impl FnOnce(NonNull<u8>, usize),
    ) -> Result<Region, ShmError> {
        let len = checked_len(layout)?;
        let fd = match &backing {
            Backing::Named { fd, .. } | Backing::Memfd { fd } => fd.as_fd(),
            Backing::Heap => unreachable!("heap regions are not fd-backed"),
        };
        let what = describe(&backing);
        nix::unistd::ftruncate(fd, len as i64).map_err(|e| ShmError::os("ftruncate", &what, e))?;
        if matches!(backing, Backing::Memfd { .. }) {
            seal_size(fd, &what)?;
        }
        let base = map(fd, len, &what)?;
        let unlink = matches!(backing, Backing::Named { .. });
        let region = Region {
            base,
            len,
            layout: *layout,
            backing,
            unlink_on_drop: AtomicBool::new(unlink),
        };
        region.initialise(record, init);
        Ok(region)
    }

    /// Writes the header, runs `init` on the body, then publishes `state = READY`.
    fn initialise(&self, record: &TypeFingerprint, init: impl FnOnce(NonNull<u8>, usize)) {
        let header = RegionHeader::new(&self.layout, record);
        // SAFETY: the mapping is at least HEADER_LEN bytes, page (or 4096) aligned, freshly
        // created by us and not yet visible as ready to anyone; RegionHeader is plain data.
        unsafe {
            self.base
                .cast::<RegionHeader>()
                .as_ptr()
                .write_volatile(header)
        };
        // SAFETY: the body starts HEADER_LEN bytes in and is `len - HEADER_LEN` bytes long.
        let body = unsafe { self.base.add(HEADER_LEN) };
        init(body, self.len - HEADER_LEN);
        // Release: everything written above (header and body) happens-before any `open` that
        // reads READY with Acquire.
        self.state_word().store(STATE_READY, Ordering::Release);
    }

    /// Opens the named region `name`, checking that it holds `kind` and that its header matches
    /// `expected(header)` (the layout the caller recomputes and validates from the header).
    pub fn open_named(
        name: &ShmName,
        kind: RegionKind,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<Region, ShmError> {
        Self::open_named_typed(name, kind, &TypeFingerprint::NONE, expected)
    }

    /// [`Region::open_named`], also checking the record type.
    pub(crate) fn open_named_typed(
        name: &ShmName,
        kind: RegionKind,
        record: &TypeFingerprint,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<Region, ShmError> {
        let fd = shm_open(
            name.as_str(),
            OFlag::O_RDWR | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            nix::errno::Errno::ENOENT => ShmError::NotFound(name.to_string()),
            e => ShmError::os("shm_open", name.as_str(), e),
        })?;
        let backing = Backing::Named {
            name: name.clone(),
            fd,
        };
        Self::open_in_fd(backing, kind, record, expected)
    }

    /// Opens a region from an fd (a memfd inherited from the parent, or any shm fd).
    pub fn open_fd(
        fd: OwnedFd,
        kind: RegionKind,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<Region, ShmError> {
        Self::open_fd_typed(fd, kind, &TypeFingerprint::NONE, expected)
    }

    /// [`Region::open_fd`], also checking the record type.
    pub(crate) fn open_fd_typed(
        fd: OwnedFd,
        kind: RegionKind,
        record: &TypeFingerprint,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<Region, ShmError> {
        Self::open_in_fd(Backing::Memfd { fd }, kind, record, expected)
    }

    fn open_in_fd(
        backing: Backing,
        kind: RegionKind,
        record: &TypeFingerprint,
        expected: impl FnOnce(&RegionHeader) -> Result<RegionLayout, ShmError>,
    ) -> Result<Region, ShmError> {
        let what = describe(&backing);
        let fd = match &backing {
            Backing::Named { fd, .. } | Backing::Memfd { fd } => fd.as_fd(),
            Backing::Heap => unreachable!("heap regions are not fd-backed"),
        };
        let st = fstat(fd.as_raw_fd_compat()).map_err(|e| ShmError::os("fstat", &what, e))?;
        let len = usize::try_from(st.st_size).unwrap_or(0);
        if len < HEADER_LEN {
            // Not sized yet: the creator is between `shm_open` and `ftruncate` (or died there;
            // with no header there is no creator to ask).
            return Err(ShmError::BeingCreated(what));
        }
        let base = map(fd, len, &what)?;
        let mut region = Region {
            base,
            len,
            // Placeholder until validated; never used before being replaced below.
            layout: RegionLayout {
                kind,
                capacity: 0,
                elem_size: 0,
                elem_align: 1,
                params: [0; 4],
                body_len: 0,
            },
            backing,
            unlink_on_drop: AtomicBool::new(false),
        };
        // Acquire: pairs with the creator's Release store of READY, so the header and body the
        // creator wrote are visible below.
        if region.state_word().load(Ordering::Acquire) != STATE_READY {
            return Err(not_ready(&region.header(), what));
        }
        let header = region.header();
        region.layout = header.validate(kind, record, len, expected)?;
        Ok(region)
    }

    /// A copy of the header as it is now (read volatile: another process may change it).
    pub fn header(&self) -> RegionHeader {
        // SAFETY: the mapping is at least HEADER_LEN bytes and aligned; RegionHeader is plain
        // integers, valid for any bit pattern.
        unsafe { self.base.cast::<RegionHeader>().as_ptr().read_volatile() }
    }

    /// The validated layout.
    pub fn layout(&self) -> &RegionLayout {
        &self.layout
    }

    fn state_word(&self) -> &AtomicU32 {
        let offset = std::mem::offset_of!(RegionHeader, state);
        // SAFETY: `state` is a 4-aligned u32 inside the header, within the mapping, which lives as
        // long as `self`; AtomicU32 has the same layout as u32.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU32>() }
    }

    /// Pointer to the body (just after the header), valid for [`Region::body_len`] bytes.
    pub fn body(&self) -> NonNull<u8> {
        // SAFETY: HEADER_LEN <= len.
        unsafe { self.base.add(HEADER_LEN) }
    }

    /// Length of the body in bytes.
    pub fn body_len(&self) -> usize {
        self.len - HEADER_LEN
    }

    /// Total mapping length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a region holds at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The shm name, for named regions.
    pub fn name(&self) -> Option<&ShmName> {
        match &self.backing {
            Backing::Named { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The file descriptor behind the region (named or memfd).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.backing {
            Backing::Named { fd, .. } | Backing::Memfd { fd } => Some(fd.as_fd()),
            Backing::Heap => None,
        }
    }

    /// Keeps a named region's name after this handle drops (no effect on other kinds, or on a
    /// handle that opened rather than created the region: those never unlink).
    pub fn persist(&self) {
        // Relaxed: read only by this handle's own `drop`, which `&self` happens-before.
        self.unlink_on_drop.store(false, Ordering::Relaxed);
    }

    /// The creator recorded in the header (start 0: unknown).
    pub fn creator(&self) -> ProcessKey {
        self.header().creator()
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        match &self.backing {
            Backing::Heap => {
                let layout = std::alloc::Layout::from_size_align(self.len, HEAP_ALIGN)
                    .expect("validated at creation");
                // SAFETY: allocated in `create_heap` with exactly this layout.
                unsafe { std::alloc::dealloc(self.base.as_ptr(), layout) };
            }
            backing => {
                // SAFETY: `base`/`len` are the mapping made by `map`, unmapped exactly once here;
                // no reference into it outlives `self` (handles hold an Arc<Region>).
                let _ = unsafe { munmap(self.base.cast(), self.len) };
                // Relaxed: see `persist`.
                if let Backing::Named { name, .. } = backing {
                    if self.unlink_on_drop.load(Ordering::Relaxed) {
                        let _ = shm_unlink(name.as_str());
                    }
                }
            }
        }
    }
}

/// Unlinks a name being created unless forgotten (a failed or panicking create leaves no name).
struct UnlinkGuard<'a>(Option<&'a ShmName>);

impl Drop for UnlinkGuard<'_> {
    fn drop(&mut self) {
        if let Some(name) = self.0 {
            let _ = shm_unlink(name.as_str());
        }
    }
}

/// Why a sized region is not ready: its recorded creator is dead, or it is still being created
/// (including a header not yet fully written: no creator recorded, or one we cannot judge).
fn not_ready(header: &RegionHeader, what: String) -> ShmError {
    let creator = header.creator();
    if header.magic == super::MAGIC && creator.start != 0 && creator.pid != 0 && !creator.is_alive()
    {
        ShmError::CreatorDied {
            what,
            pid: creator.pid,
        }
    } else {
        ShmError::BeingCreated(what)
    }
}

/// Seals a sized memfd so that nobody holding it (a peer inherits the fd) can shrink it under
/// the other mappings (which would kill them with `SIGBUS`) or grow it, nor remove the seals.
fn seal_size(fd: BorrowedFd<'_>, what: &str) -> Result<(), ShmError> {
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use std::os::fd::AsRawFd;
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL;
    fcntl(fd.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals))
        .map_err(|e| ShmError::os("fcntl(F_ADD_SEALS)", what, e))?;
    Ok(())
}

fn checked_len(layout: &RegionLayout) -> Result<usize, ShmError> {
    usize::try_from(layout.total_len())
        .ok()
        .filter(|&l| l <= isize::MAX as usize / 2)
        .ok_or(ShmError::LayoutMismatch {
            field: "total_len",
            found: layout.total_len(),
            expected: "a length this machine can map".into(),
        })
}

fn describe(backing: &Backing) -> String {
    match backing {
        Backing::Named { name, .. } => name.to_string(),
        Backing::Memfd { .. } => "anonymous memfd region".into(),
        Backing::Heap => "heap region".into(),
    }
}

fn map(fd: BorrowedFd<'_>, len: usize, what: &str) -> Result<NonNull<u8>, ShmError> {
    let nz = NonZeroUsize::new(len).ok_or(ShmError::TooSmall {
        len,
        need: HEADER_LEN,
        what: "the region header",
    })?;
    // SAFETY: a fresh shared mapping of an fd we hold; no existing Rust object lives there.
    let ptr = unsafe {
        mmap(
            None,
            nz,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            fd,
            0,
        )
    }
    .map_err(|e| ShmError::os("mmap", what, e))?;
    Ok(ptr.cast())
}

trait AsRawFdCompat {
    fn as_raw_fd_compat(&self) -> std::os::fd::RawFd;
}

impl AsRawFdCompat for BorrowedFd<'_> {
    fn as_raw_fd_compat(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.as_raw_fd()
    }
}
