//! A start gate for multi-process benches: a small shared region with a `ready` counter and a
//! `go` word. Each worker opens it, adds itself to `ready` and waits for `go`; the parent opens
//! the gate once every worker is ready, so the measured window does not include process
//! start-up (which, staggered over several re-executed processes, would dwarf the work).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use synclab_core::shm::{Region, RegionKind, RegionLayout, ShmName};

fn layout() -> RegionLayout {
    RegionLayout {
        kind: RegionKind::Bytes,
        capacity: 2,
        elem_size: 8,
        elem_align: 8,
        params: [0; 4],
        body_len: 128,
    }
}

/// The gate's two words: `ready` (offset 0) and `go` (offset 64, its own cache line).
fn words(region: &Region) -> (&AtomicU64, &AtomicU64) {
    let base = region.body().as_ptr();
    // SAFETY: the body is 128 bytes (validated layout), 128-aligned; offsets 0 and 64 hold
    // 8-aligned u64s, which AtomicU64 is in memory; the region outlives the references.
    unsafe {
        (
            &*base.cast::<AtomicU64>(),
            &*base.add(64).cast::<AtomicU64>(),
        )
    }
}

/// Waits until `cond` holds, checking every 100 µs, up to `timeout`.
fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    true
}

/// The parent's side.
pub struct Gate {
    region: Region,
    name: ShmName,
}

impl Gate {
    /// Creates a closed gate.
    pub fn new() -> Result<Self, String> {
        let name = ShmName::unique("gate");
        let region = Region::create_named(&name, &layout(), |_, _| {})
            .map_err(|e| format!("cannot create the start gate: {e}"))?;
        Ok(Gate { region, name })
    }

    /// Its name, for the workers.
    pub fn name(&self) -> String {
        self.name.to_string()
    }

    /// Waits until `workers` are ready, then opens the gate. Fails after `timeout`.
    pub fn open_when_ready(&self, workers: u64, timeout: Duration) -> Result<(), String> {
        self.wait_ready(workers, timeout)?;
        self.open();
        Ok(())
    }

    /// Waits until `workers` are ready. Fails after `timeout`.
    pub fn wait_ready(&self, workers: u64, timeout: Duration) -> Result<(), String> {
        let (ready, _) = words(&self.region);
        // Acquire: pairs with the workers' Release; nothing else is read, it is a count.
        if !wait_for(timeout, || ready.load(Ordering::Acquire) >= workers) {
            return Err(format!(
                "only {} of {workers} workers became ready",
                ready.load(Ordering::Acquire)
            ));
        }
        Ok(())
    }

    /// Opens the gate.
    pub fn open(&self) {
        let (_, go) = words(&self.region);
        // Release: the workers' Acquire load of `go` then starts after this point.
        go.store(1, Ordering::Release);
    }
}

/// A worker's side: report ready, wait for the gate to open.
pub fn pass(name: &str, timeout: Duration) -> Result<(), String> {
    let name = ShmName::new(name).map_err(|e| e.to_string())?;
    let region = Region::open_named(&name, RegionKind::Bytes, |_| Ok(layout()))
        .map_err(|e| format!("cannot open the start gate: {e}"))?;
    let (ready, go) = words(&region);
    // Release/Acquire: only the counts matter; no data is published through the gate.
    ready.fetch_add(1, Ordering::Release);
    if wait_for(timeout, || go.load(Ordering::Acquire) == 1) {
        Ok(())
    } else {
        Err("the start gate did not open in time".into())
    }
}
