//! `--shard I/N`: a deterministic split of a sweep or a search over N machines (a Slurm array,
//! a Kubernetes indexed Job, GNU parallel), each running the jobs whose number is I modulo N.
//! A sweep's jobs are its runs (scenario-major, then seed); a search's jobs are its scenarios.
//! `synclab sim merge` joins the N reports.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The largest shard count accepted.
pub const MAX_SHARDS: u64 = 1_000_000;

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// Whether job number `job` is this shard's.
    pub fn owns(self, job: u64) -> bool {
        job % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 <= I < N <= MAX_SHARDS`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!("--shard: expected I/N with 0 <= I < N <= {MAX_SHARDS} (e.g. 0/4), found {s:?}")
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("1/4".parse(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "0/0", "x/2", "1", "-1/2", "0/1000001"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let s = Shard { index: 1, count: 3 };
        assert_eq!((0..9).filter(|&j| s.owns(j)).collect::<Vec<_>>(), [1, 4, 7]);
    }
}
