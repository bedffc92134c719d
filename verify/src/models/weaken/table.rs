//! The human-readable weakening table (`--weaken-all` without `--json`).

use super::sweep::{Sweep, Verdict};

/// The sweep as a text table: one line per weakening and per unreached site, then the totals.
pub fn render(s: &Sweep) -> String {
    let mut t = String::new();
    for b in &s.models {
        t.push_str(&format!(
            "baseline {:<26} {} ({} interleavings, {:.1} s, {} accesses in core)\n",
            b.model,
            if b.ok {
                "ok"
            } else {
                "FAILED: its weakenings were not run"
            },
            b.interleavings,
            b.seconds,
            b.accesses
        ));
    }
    t.push_str(&format!(
        "\n{:<38} {:<11} {:<8} {:<8} {:<10} {}\n",
        "site", "op", "original", "weakened", "verdict", "model (tried)"
    ));
    for r in &s.results {
        let verdict = match r.verdict {
            Verdict::Caught => "caught",
            Verdict::Survived => "SURVIVED",
            Verdict::Unreached => "UNREACHED",
            Verdict::MutantOnly => "mutant-only",
            Verdict::NoVerdict => "no-verdict",
        };
        let who = match (&r.model, r.tried.is_empty()) {
            (Some(m), _) => m.clone(),
            (None, false) => format!("({})", r.tried.join(", ")),
            (None, true) => String::new(),
        };
        t.push_str(&format!(
            "{:<38} {:<11} {:<8} {:<8} {:<10} {}\n",
            r.site,
            r.op,
            r.original,
            r.weakened.unwrap_or("-"),
            verdict,
            who
        ));
    }
    if let Some(e) = &s.scan_error {
        t.push_str(&format!(
            "static scan unavailable ({e}): unreached sites unknown\n"
        ));
    }
    t.push_str(&format!(
        "\n{} sites; weakenings: {} caught, {} survived, {} without verdict; {} sites unreached, \
         {} reached only by a hand-written mutant ({:.1} s)\n",
        s.sites, s.caught, s.survived, s.no_verdict, s.unreached, s.mutant_only, s.seconds
    ));
    t
}
