//! The one object layer: every shared object (spsc, frames, mpmc, semaphore) says once what its
//! region holds ([`SharedObject`], [`RegionObject`]), and one generic [`Builder`] creates and
//! opens all of them the same way.
//!
//! ```
//! use synclab_core::{ShmName, Spsc};
//!
//! # fn main() -> Result<(), synclab_core::RingError> {
//! let name = ShmName::unique("doc-builder");
//! let ring = Spsc::<u64>::builder().capacity(8).create(&name)?; // unlinked when dropped
//! let peer = Spsc::<u64>::builder().open(&name)?; // in another process, usually
//! ring.producer()?.try_push(7)?;
//! assert_eq!(peer.consumer()?.try_pop()?, 7);
//! # Ok(())
//! # }
//! ```
//!
//! The builder's parameters (capacity, wakeups, permits…) apply when it creates; `open*` take
//! them from the region's header, which is validated against the mapping (kind, record type,
//! layout). Creating is all or nothing: a failed create leaves no name behind. A region whose
//! creator has not finished is in one state, [`ShmError::BeingCreated`], which
//! [`Builder::open_timeout`] waits out.

mod wait;

use crate::process::{ProcFs, ProcessEnv};
use crate::shm::{
    Region, RegionHeader, RegionKind, RegionLayout, ShmError, ShmName, TypeFingerprint,
};
use std::fmt;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// How long [`Builder::open_or_create`] waits for a concurrent creator to finish.
pub const OPEN_OR_CREATE_WAIT: Duration = Duration::from_secs(5);

/// What every shared object provides, whatever memory it lives in: its creation parameters and
/// how to build it on the heap (one process; also how loom models run the same code).
pub trait SharedObject: Sized {
    /// The creation parameters the builder collects.
    type Params: Clone + fmt::Debug;
    /// The object's error type (creating and opening a region fails with [`ShmError`] inside).
    type Error: From<ShmError> + fmt::Debug;

    /// The parameters a fresh builder starts from.
    fn default_params() -> Self::Params;

    /// Checks caller-supplied parameters (a typed error naming the bad value).
    fn check(params: &Self::Params) -> Result<(), Self::Error>;

    /// A new object on the heap.
    fn on_heap(params: &Self::Params, env: Arc<dyn ProcessEnv>) -> Result<Self, Self::Error>;

    /// The region error inside `e`, if it is one (to tell "being created" from real failures).
    fn shm_error(e: &Self::Error) -> Option<&ShmError>;
}

/// What an object that lives in a region provides: its kind, record type, layout, header
/// validation and body initialisation. Implemented once per object type; [`Builder`] does the
/// rest.
pub trait RegionObject: SharedObject {
    /// The region kind recorded in the header.
    const KIND: RegionKind;

    /// The record type recorded in (and checked against) the header;
    /// [`TypeFingerprint::NONE`] to opt out.
    fn record() -> TypeFingerprint;

    /// The region layout for (checked) parameters.
    fn layout(params: &Self::Params) -> RegionLayout;

    /// The parameters an untrusted header declares, each validated (a bad one is a
    /// [`ShmError::LayoutMismatch`] naming the field).
    fn params_of(header: &RegionHeader) -> Result<Self::Params, ShmError>;

    /// Placement-initialises the body (`body_len` bytes at `body`, 128-aligned, zeroed, not yet
    /// visible to anyone) for `params`.
    fn init(params: &Self::Params, body: NonNull<u8>, body_len: usize);

    /// A handle on a created or validated region.
    fn attach(region: Region, env: Arc<dyn ProcessEnv>) -> Result<Self, Self::Error>;
}

/// Creates or opens a shared object `O` (see the module docs). Setters consume and return the
/// builder; the terminal methods borrow it, so one builder can create several objects.
#[must_use = "a builder does nothing until create, open or heap is called"]
pub struct Builder<O: SharedObject> {
    params: O::Params,
    env: Arc<dyn ProcessEnv>,
}

impl<O: SharedObject> Clone for Builder<O> {
    fn clone(&self) -> Self {
        Builder {
            params: self.params.clone(),
            env: Arc::clone(&self.env),
        }
    }
}

impl<O: SharedObject> fmt::Debug for Builder<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("object", &std::any::type_name::<O>())
            .field("params", &self.params)
            .finish()
    }
}

impl<O: SharedObject> Builder<O> {
    pub(crate) fn new() -> Self {
        Builder {
            params: O::default_params(),
            env: Arc::new(ProcFs),
        }
    }

    /// Changes the parameters (the per-object setters use this).
    pub(crate) fn with(mut self, f: impl FnOnce(&mut O::Params)) -> Self {
        f(&mut self.params);
        self
    }

    /// The parameters collected so far.
    pub fn params(&self) -> &O::Params {
        &self.params
    }

    /// The process environment handles made by this builder act as (who "this process" is and
    /// what `/proc` says): for models that play several processes in one.
    #[doc(hidden)]
    pub fn process_env(mut self, env: Arc<dyn ProcessEnv>) -> Self {
        self.env = env;
        self
    }

    /// A new object on this process's heap: same algorithms, no region, one process only
    /// (tests, Miri, in-process use).
    pub fn heap(&self) -> Result<O, O::Error> {
        O::check(&self.params)?;
        O::on_heap(&self.params, Arc::clone(&self.env))
    }
}

impl<O: RegionObject> Builder<O> {
    fn init(&self) -> impl FnOnce(NonNull<u8>, usize) + '_ {
        |body, len| O::init(&self.params, body, len)
    }

    /// Creates the object in a new named region (`O_CREAT | O_EXCL`, mode 0600). The name is
    /// unlinked when the last handle of this process drops, unless the object is persisted.
    /// Fails with [`ShmError::AlreadyExists`] if the name is taken; a failed create leaves no
    /// name behind.
    pub fn create(&self, name: &ShmName) -> Result<O, O::Error> {
        O::check(&self.params)?;
        let layout = O::layout(&self.params);
        let region = Region::create_named_typed(name, &layout, &O::record(), self.init())?;
        O::attach(region, Arc::clone(&self.env))
    }

    /// Creates the object in an anonymous region (a close-on-exec `memfd`): share it by handing
    /// its fd to a child process, which calls [`Builder::open_fd`].
    pub fn anonymous(&self) -> Result<O, O::Error> {
        O::check(&self.params)?;
        let layout = O::layout(&self.params);
        let region = Region::create_anonymous_typed(&layout, &O::record(), self.init())?;
        O::attach(region, Arc::clone(&self.env))
    }

    /// A new object in a heap-allocated region: the region code paths (header, layout,
    /// validation) without shared memory. For tests.
    #[doc(hidden)]
    pub fn heap_region(&self) -> Result<O, O::Error> {
        O::check(&self.params)?;
        let layout = O::layout(&self.params);
        let region = Region::create_heap_typed(&layout, &O::record(), self.init())?;
        O::attach(region, Arc::clone(&self.env))
    }

    /// Opens the object in the named region, validating kind, record type and layout (the
    /// builder's parameters are not used: the header's are). Fails at once with
    /// [`ShmError::NotFound`] or [`ShmError::BeingCreated`]; [`Builder::open_timeout`] waits.
    pub fn open(&self, name: &ShmName) -> Result<O, O::Error> {
        let region = Region::open_named_typed(name, O::KIND, &O::record(), expected::<O>)?;
        O::attach(region, Arc::clone(&self.env))
    }

    /// Opens the object in the region behind `fd` (e.g. a memfd inherited from the parent).
    pub fn open_fd(&self, fd: OwnedFd) -> Result<O, O::Error> {
        let region = Region::open_fd_typed(fd, O::KIND, &O::record(), expected::<O>)?;
        O::attach(region, Arc::clone(&self.env))
    }

    /// As [`Builder::open`], but while the region does not exist yet or is being created, waits
    /// (polling, 1 ms growing to 20 ms) up to `timeout`; then returns the last such error.
    pub fn open_timeout(&self, name: &ShmName, timeout: Duration) -> Result<O, O::Error> {
        wait::retry_while_pending::<O>(timeout, || self.open(name))
    }

    /// Opens the object if the region exists (waiting up to [`OPEN_OR_CREATE_WAIT`] for a
    /// concurrent creator to finish), else creates it. Exactly one of several processes racing
    /// here creates it.
    pub fn open_or_create(&self, name: &ShmName) -> Result<O, O::Error> {
        let deadline = std::time::Instant::now() + OPEN_OR_CREATE_WAIT;
        loop {
            let created = self.create(name);
            let Err(e) = &created else { return created };
            if O::shm_error(e) != Some(&ShmError::AlreadyExists(name.to_string())) {
                return created;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.open_timeout(name, left) {
                // Unlinked between our create and our open (its creator dropped it): try again.
                Err(e)
                    if matches!(O::shm_error(&e), Some(ShmError::NotFound(_)))
                        && !left.is_zero() => {}
                opened => return opened,
            }
        }
    }
}

/// The layout an untrusted header declares, for `open`'s field-by-field comparison.
fn expected<O: RegionObject>(header: &RegionHeader) -> Result<RegionLayout, ShmError> {
    Ok(O::layout(&O::params_of(header)?))
}

#[cfg(test)]
mod tests;
