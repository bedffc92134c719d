//! The script half of shrinking: a scenario with one of its `[[step]]`s (or its `[expect]`
//! table) taken out. The edit is made on the scenario's TOML text (`toml_edit`, so comments and
//! the other tables stay as written) and the result parsed again, so the shrunk scenario is one
//! the parser accepts and the text a trace embeds is the scenario that ran: `sim replay` and
//! `sim diagram` read it back from the trace alone.

use crate::scenario::{parse_scenario, Scenario};
use toml_edit::DocumentMut;

/// `sc` without step `i` (in file order); `None` if the text cannot be edited or the result
/// does not parse (e.g. a later step, an injected segment or an expectation names a handle
/// only that step made).
pub fn without_step(sc: &Scenario, i: usize) -> Option<Scenario> {
    edit(sc, |doc| {
        let steps = doc.get_mut("step")?.as_array_of_tables_mut()?;
        (i < steps.len()).then(|| steps.remove(i))?;
        if steps.is_empty() {
            doc.remove("step");
        }
        Some(())
    })
}

/// `sc` without its `[expect]` table (expectations describe the whole script; a shrunk one
/// is judged by the oracles alone); `None` if it has none.
pub fn without_expect(sc: &Scenario) -> Option<Scenario> {
    edit(sc, |doc| doc.remove("expect").map(|_| ()))
}

fn edit(sc: &Scenario, f: impl FnOnce(&mut DocumentMut) -> Option<()>) -> Option<Scenario> {
    let mut doc: DocumentMut = sc.source.parse().ok()?;
    f(&mut doc)?;
    let mut out = parse_scenario(&sc.file, &doc.to_string()).ok()?;
    // Not in the text: switched on by `--mutant` (a trace's header carries it).
    out.tcp.mutant = sc.tcp.mutant;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::builtin;

    #[test]
    fn a_step_comes_out_of_the_text_and_the_parsed_scenario() {
        let sc = builtin("active-close-client").unwrap();
        let n = sc.steps.len();
        let last = without_step(&sc, n - 1).expect("the last step can go");
        assert_eq!(last.steps.len(), n - 1);
        assert_eq!(last.source.matches("[[step]]").count(), n - 1);
        assert!(without_step(&sc, n).is_none(), "no such step");
    }

    #[test]
    fn expectations_come_out() {
        let sc = builtin("rfc9293-fig6-handshake").unwrap();
        let e = without_expect(&sc).expect("it has [expect]");
        assert!(e.expect.wire.is_none() && e.expect.sockets.is_empty());
        assert!(without_expect(&e).is_none());
    }
}
