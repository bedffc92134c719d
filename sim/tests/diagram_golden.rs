//! Golden ladder diagrams: fixed traces in `tests/golden/*.jsonl` (recorded once from built-ins:
//! crossing arrows, losses with a long idle gap, an injected old SYN, network duplicates and a
//! held-back segment) must render to exactly the `.txt` and `.svg` beside them. The traces are
//! inputs here, not re-recorded, so these tests pin the renderers alone.
//!
//! After a deliberate change to the drawings: `SYNCLAB_BLESS=1 cargo test -p synclab-sim --test
//! diagram_golden` rewrites the expected files; review the diff.

use std::path::PathBuf;
use synclab_sim::trace::{ladder, svg, text, Trace};

const CASES: [&str; 4] = [
    "fig13-simultaneous-close",
    "handshake-close-under-loss-seed1",
    "fig8-old-duplicate-syn",
    "duplicated-reordered-syn-faults-seed5",
];

fn golden(name: &str, ext: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.{ext}"))
}

fn check(name: &str, ext: &str, got: &str) {
    let path = golden(name, ext);
    if std::env::var_os("SYNCLAB_BLESS").is_some() {
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).expect("golden file");
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "{}: differs at line {}\n  expected: {:?}\n  rendered: {:?}",
            path.display(),
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

#[test]
fn text_and_svg_diagrams_match_their_golden_files() {
    for name in CASES {
        let path = golden(name, "jsonl");
        let body = std::fs::read_to_string(&path).expect("golden trace");
        let t = Trace::parse(&path.display().to_string(), &body).expect("trace parses");
        let l = ladder::build(&t);
        check(name, "txt", &text::render(&l));
        check(name, "svg", &svg::render(&l));
    }
}
