//! Validated POSIX shm names.

use super::ShmError;
use std::fmt;

/// A POSIX shared-memory name: `/` followed by 1..=200 characters from `[A-Za-z0-9._-]`, not
/// `.` or `..`. Validation keeps names portable and keeps a user-supplied name from reaching a
/// path anywhere but `/dev/shm`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShmName(String);

impl ShmName {
    /// Validates `name`; a missing leading `/` is added.
    pub fn new(name: &str) -> Result<Self, ShmError> {
        let body = name.strip_prefix('/').unwrap_or(name);
        let err = |reason| ShmError::InvalidName {
            name: name.to_string(),
            reason,
        };
        if body.is_empty() {
            return Err(err("empty"));
        }
        if body.len() > 200 {
            return Err(err("longer than 200 characters"));
        }
        if body == "." || body == ".." {
            return Err(err("`.` and `..` are not names"));
        }
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(err(
                "only letters, digits, `.`, `_` and `-` may follow the leading `/`",
            ));
        }
        Ok(ShmName(format!("/{body}")))
    }

    /// A fresh name unlikely to collide: `/synclab-<prefix>-<pid>-<counter>-<nanos>`.
    pub fn unique(prefix: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // Relaxed: the counter only needs to be unique within this process.
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = crate::mem::Deadline::after(std::time::Duration::ZERO).monotonic_ns();
        ShmName::new(&format!(
            "/synclab-{prefix}-{}-{n}-{nanos}",
            std::process::id()
        ))
        .expect("generated names are valid when the prefix is")
    }

    /// The name, with its leading `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names_and_adds_slash() {
        assert_eq!(ShmName::new("ring-1").unwrap().as_str(), "/ring-1");
        assert_eq!(ShmName::new("/a.b_c").unwrap().as_str(), "/a.b_c");
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "/", "/a/b", "/..", "/a b", &"x".repeat(201)] {
            assert!(ShmName::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
