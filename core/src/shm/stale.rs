//! Stale regions: named synclab regions left in `/dev/shm` by processes that died (a crashed
//! creator never unlinks its names, and a persisted region outlives everyone by design).
//!
//! A region is **stale** when all of these hold:
//! - it is a regular file in `/dev/shm` owned by this user whose first bytes are a synclab
//!   header (magic; any format version);
//! - its recorded creator is dead (judged by pid *and* start time, so a reused pid does not
//!   keep it; a header with no start time is judged by the pid alone);
//! - no live process has it mapped or open: no `/proc/*/maps` line and no `/proc/*/fd` link
//!   names it. That covers every process attached to it (ring role owners, semaphore holders,
//!   openers), whatever the object.
//!
//! An object whose creator died before sizing it has no header and is not recognised as
//! synclab's (left alone).
//!
//! Processes whose `/proc` entries this user cannot read are other users' (they cannot open our
//! mode-0600 regions by name; one handed an fd by us would be missed: documented limit). A
//! region opened after the scan is still safe to unlink: unlinking removes the name, not a
//! mapping.

use super::{RegionHeader, RegionKind, ShmName, HEADER_LEN, MAGIC};
use crate::process::{PidStatus, ProcFs, ProcessEnv, ProcessKey};
use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const SHM_DIR: &str = "/dev/shm";

/// A synclab region found in `/dev/shm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundRegion {
    /// Its name.
    pub name: ShmName,
    /// What it holds ("unknown kind N" for kinds this build does not know).
    pub kind: String,
    /// Its recorded creator (start 0: not recorded).
    pub creator: ProcessKey,
    /// Size in bytes.
    pub len: u64,
    /// Whether the creator is alive.
    pub creator_alive: bool,
    /// Whether some live process has it mapped or open.
    pub in_use: bool,
}

impl FoundRegion {
    /// Stale: creator dead and nobody attached (see the module docs).
    pub fn is_stale(&self) -> bool {
        !self.creator_alive && !self.in_use
    }
}

/// What [`clean`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// Stale regions removed (or, on a dry run, that would be).
    pub removed: Vec<FoundRegion>,
    /// Synclab regions kept because their creator or an attached process is alive.
    pub kept: Vec<FoundRegion>,
    /// Stale regions whose unlink failed, with the error.
    pub failed: Vec<(ShmName, String)>,
}

/// Every synclab region of this user in `/dev/shm` whose name starts with `prefix` (`""` for
/// all), judged live or stale.
pub fn scan(prefix: &str) -> std::io::Result<Vec<FoundRegion>> {
    let attached = attached_names();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(SHM_DIR)? {
        let Ok(entry) = entry else { continue };
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !file_name.starts_with(prefix.trim_start_matches('/')) {
            continue;
        }
        let Ok(name) = ShmName::new(file_name) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || meta.uid() != uid || meta.len() < HEADER_LEN as u64 {
            continue;
        }
        let Some(header) = read_header(&entry.path()) else {
            continue;
        };
        let creator = header.creator();
        found.push(FoundRegion {
            kind: RegionKind::from_u32(header.kind).map_or_else(
                || format!("unknown kind {}", header.kind),
                |k| k.to_string(),
            ),
            creator,
            len: meta.len(),
            creator_alive: creator_alive(creator),
            in_use: attached.contains(file_name),
            name,
        });
    }
    found.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    Ok(found)
}

/// Finds the regions [`scan`] finds and unlinks the stale ones (none on a `dry_run`).
pub fn clean(prefix: &str, dry_run: bool) -> std::io::Result<CleanReport> {
    let mut report = CleanReport::default();
    for region in scan(prefix)? {
        if !region.is_stale() {
            report.kept.push(region);
        } else if dry_run {
            report.removed.push(region);
        } else {
            match nix::sys::mman::shm_unlink(region.name.as_str()) {
                // Gone meanwhile (another cleaner): nothing left to remove either way.
                Ok(()) | Err(nix::errno::Errno::ENOENT) => report.removed.push(region),
                Err(e) => report.failed.push((region.name.clone(), e.to_string())),
            }
        }
    }
    Ok(report)
}

/// The header of the file at `path`, if it starts with synclab's magic.
fn read_header(path: &Path) -> Option<RegionHeader> {
    let mut bytes = [0u8; HEADER_LEN];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut bytes)
        .ok()?;
    // SAFETY: `bytes` is HEADER_LEN == size_of::<RegionHeader>() bytes, and RegionHeader is
    // `#[repr(C)]` plain integers, valid for any bit pattern; read_unaligned needs no alignment.
    let header = unsafe { bytes.as_ptr().cast::<RegionHeader>().read_unaligned() };
    (header.magic == MAGIC).then_some(header)
}

/// Whether the creator lives: by pid and start time, or by pid alone when no start time was
/// recorded. A creator that cannot be judged counts as alive (never remove what may be in use).
fn creator_alive(creator: ProcessKey) -> bool {
    if creator.start != 0 {
        return creator.is_alive();
    }
    creator.pid != 0
        && matches!(
            ProcFs.status(creator.pid),
            Ok(PidStatus::Running { .. }) | Err(_)
        )
}

/// Names (without the leading `/`) of the `/dev/shm` files some readable process has mapped or
/// open.
fn attached_names() -> HashSet<String> {
    let mut names = HashSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return names;
    };
    for p in procs.flatten() {
        let pid = p.file_name();
        if !pid
            .to_str()
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        if let Ok(maps) = std::fs::read_to_string(p.path().join("maps")) {
            for line in maps.lines() {
                if let Some(i) = line.find("/dev/shm/") {
                    let rest = &line[i + "/dev/shm/".len()..];
                    names.insert(rest.trim_end_matches(" (deleted)").to_string());
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir(p.path().join("fd")) {
            for fd in fds.flatten() {
                if let Ok(target) = std::fs::read_link(fd.path()) {
                    if let Ok(rest) = target.strip_prefix(SHM_DIR) {
                        names.insert(rest.to_string_lossy().into_owned());
                    }
                }
            }
        }
    }
    names
}
