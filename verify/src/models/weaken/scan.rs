//! Every memory-operation site in `core`'s algorithms, found by reading the source: the sites
//! no model reaches are what the weakening table reports as "unreached".
//!
//! The scan reads `core/src` (located from this crate's manifest directory at build time) and
//! takes every file that is generic over `Memory` (mentions `M: Memory`), except `mem/` (the
//! trait and its real implementation) and unit-test code (`tests.rs`, an inline
//! `#[cfg(test)] mod … {`). On each line it finds calls of the `Atomic` methods and of
//! `M::fence`/`fence_light`/`fence_heavy`/`wake32`/`wake64_low`/`wait32`/`wait64_low`. It is a
//! textual scan: a call written across lines counts on the line of its method name, which is
//! also the line `#[track_caller]` reports for a method call.

use super::hooks::Op;
use regex::Regex;
use std::path::{Path, PathBuf};

/// One site the scan found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StaticSite {
    /// Path relative to the workspace root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The operation ([`Op::Cas`] for both orderings of a compare-and-exchange).
    pub op: Op,
    /// The orderings named in the call's text, as written (best effort; may name a variable).
    pub orderings: String,
}

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("verify/ has a parent")
        .to_path_buf()
}

/// Scans `core/src` under `root`. Err when the source is not there (an installed binary).
pub fn scan(root: &Path) -> std::io::Result<Vec<StaticSite>> {
    let mut files = Vec::new();
    collect(&root.join("core/src"), &mut files)?;
    files.sort();
    let mut sources = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("core/src/mem/") || rel.ends_with("tests.rs") {
            continue;
        }
        sources.push((rel, std::fs::read_to_string(&path)?));
    }
    let mut sites = Vec::new();
    for (rel, text) in &sources {
        if text.contains("M: Memory") {
            // A module's std atomic fields may be declared in a sibling file (the semaphore's
            // spin budget: declared in `sem/mod.rs`, used in `sem/wait.rs`).
            let local: Vec<String> = sources
                .iter()
                .filter(|(other, _)| same_dir(other, rel))
                .flat_map(|(_, t)| std_atomic_fields(t))
                .collect();
            sites.extend(scan_text_with(rel, text, &local));
        }
    }
    Ok(sites)
}

fn same_dir(a: &str, b: &str) -> bool {
    a.rsplit_once('/').map(|(d, _)| d) == b.rsplit_once('/').map(|(d, _)| d)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The sites in one file's text (its own `std` atomic fields are not sites).
pub fn scan_text(file: &str, text: &str) -> Vec<StaticSite> {
    scan_text_with(file, text, &std_atomic_fields(text))
}

/// The sites in one file's text; calls on the fields named in `local` (process-local `std`
/// atomics, wherever declared) are not sites.
fn scan_text_with(file: &str, text: &str, local: &[String]) -> Vec<StaticSite> {
    let call = Regex::new(
        r"(?:\.(load|store|swap|fetch_add|fetch_sub|fetch_or|compare_exchange_weak|compare_exchange)|M::(fence_light|fence_heavy|fence|wake32|wake64_low|wait32|wait64_low))\s*\(",
    )
    .expect("valid regex");
    let ordering = Regex::new(r"\b(Relaxed|Acquire|Release|AcqRel|SeqCst)\b").expect("valid");
    let lines: Vec<&str> = text.lines().collect();
    let mut sites = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod ") && n.ends_with('{'))
        {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        // The receiver: this line up to the call, or the line before for a chained call.
        let receiver = |start: usize| {
            let before = &line[..start];
            if before.trim().is_empty() && i > 0 {
                lines[i - 1].to_string()
            } else {
                before.to_string()
            }
        };
        for m in call.captures_iter(line) {
            let start = m.get(0).expect("match").start();
            let recv = receiver(start);
            if local
                .iter()
                .any(|f| recv.trim_end().ends_with(&format!(".{f}")))
            {
                continue; // a process-local std atomic, not shared memory
            }
            let name = m.get(1).or(m.get(2)).expect("one group").as_str();
            // The call's text: from the name to the end of the statement (at most 4 lines).
            let mut tail = line[start..].to_string();
            for next in lines.iter().skip(i + 1).take(3) {
                if tail.contains(';') || tail.contains('{') {
                    break;
                }
                tail.push_str(next);
            }
            let tail = tail.split([';', '{']).next().unwrap_or_default();
            let orderings: Vec<&str> = ordering.find_iter(tail).map(|o| o.as_str()).collect();
            sites.push(StaticSite {
                file: file.to_string(),
                line: i as u32 + 1,
                op: op_of(name),
                orderings: orderings.join(","),
            });
        }
    }
    sites
}

/// Fields declared as `std` atomics (process-local, not through `Memory`): not sites.
fn std_atomic_fields(text: &str) -> Vec<String> {
    let decl = Regex::new(r"\b([a-z_][a-z0-9_]*)\s*:\s*(?:std::sync::atomic::)?Atomic(?:U8|U16|U32|U64|Usize|Bool|I32|I64)\b")
        .expect("valid regex");
    decl.captures_iter(text).map(|c| c[1].to_string()).collect()
}

fn op_of(name: &str) -> Op {
    match name {
        "load" => Op::Load,
        "store" => Op::Store,
        "swap" | "fetch_add" | "fetch_sub" | "fetch_or" => Op::Rmw,
        "compare_exchange" | "compare_exchange_weak" => Op::Cas,
        "fence" => Op::Fence,
        "fence_light" => Op::FenceLight,
        "fence_heavy" => Op::FenceHeavy,
        "wake32" | "wake64_low" => Op::Wake,
        _ => Op::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_and_their_orderings() {
        let text = "struct S { budget: std::sync::atomic::AtomicU32 }\nfn f<M: Memory>() {\n    // x.load(SeqCst) in a comment\n    let a = x.load(Acquire);\n    M::fence(SeqCst);\n    y.compare_exchange(1, 2,\n        Release, Relaxed);\n    M::wake32(&w, 1);\n    self.budget.load(Relaxed);\n}\n#[cfg(test)]\nmod tests {\n    x.store(1, Relaxed);\n}\n";
        let s = scan_text("core/src/x.rs", text);
        let got: Vec<(u32, Op, &str)> = s.iter().map(|s| (s.line, s.op, &*s.orderings)).collect();
        assert_eq!(
            got,
            vec![
                (4, Op::Load, "Acquire"),
                (5, Op::Fence, "SeqCst"),
                (6, Op::Cas, "Release,Relaxed"),
                (8, Op::Wake, ""),
            ]
        );
    }

    /// The real source has sites in each algorithm file (the scan is not silently empty).
    #[test]
    fn the_core_source_has_sites_in_every_algorithm() {
        let sites = scan(&workspace_root()).expect("core/src is readable in the workspace");
        for algorithm in [
            "core/src/ring/spsc",
            "core/src/ring/mpmc",
            "core/src/ring/frames",
            "core/src/ring/eventcount",
            "core/src/sem/",
        ] {
            assert!(
                sites.iter().any(|s| s.file.starts_with(algorithm)),
                "no site under {algorithm}"
            );
        }
    }

    /// The semaphore's spin budget is a `std` atomic declared in `sem/mod.rs` and used in
    /// `sem/wait.rs`: no site there.
    #[test]
    fn a_std_atomic_declared_in_a_sibling_file_is_not_a_site() {
        let sites = scan(&workspace_root()).expect("core/src is readable in the workspace");
        let wait_rs = std::fs::read_to_string(workspace_root().join("core/src/sem/wait.rs"))
            .expect("readable");
        for s in sites.iter().filter(|s| s.file == "core/src/sem/wait.rs") {
            let line = wait_rs.lines().nth(s.line as usize - 1).unwrap_or_default();
            assert!(!line.contains("spin_budget"), "line {}: {line}", s.line);
        }
    }
}
