//! Comparing a recorded trace line with a replayed one: byte for byte, except that a line
//! recorded before some keys were added to the trace format may lack them. Those keys are
//! optional additions that say more about the same event, so their absence is not a
//! divergence:
//! - `iss` on a `state` line (a connection's ISS drawn from the seed);
//! - `arrive` and `release_at` on a `send` line whose fate is `held`.
//!
//! Any other difference, including a different value of one of those keys, is a divergence.

use serde_json::Value;

/// Keys added since traces were first written, by `ev` (and for `send`, only when held).
fn added(v: &Value) -> &'static [&'static str] {
    match v["ev"].as_str() {
        Some("state") => &["iss"],
        Some("send") if v["fate"] == "held" => &["arrive", "release_at"],
        _ => &[],
    }
}

/// Whether the replayed line reproduces the recorded one.
pub fn same(recorded: &str, replayed: &str) -> bool {
    if recorded == replayed {
        return true;
    }
    let (Ok(rec), Ok(mut rep)) = (
        serde_json::from_str::<Value>(recorded),
        serde_json::from_str::<Value>(replayed),
    ) else {
        return false;
    };
    let missing: Vec<&str> = added(&rep)
        .iter()
        .copied()
        .filter(|k| rec.get(*k).is_none())
        .collect();
    let Some(obj) = rep.as_object_mut().filter(|_| !missing.is_empty()) else {
        return false;
    };
    for k in missing {
        obj.remove(k);
    }
    // The rest byte for byte: lines are written in one canonical form. (Not `rep == recorded`:
    // that compares a JSON value with a JSON string.)
    serde_json::to_string(&rep).is_ok_and(|canonical| canonical == recorded)
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn only_keys_added_since_may_be_missing_from_the_recording() {
        let held = r#"{"arrive":7,"ev":"send","fate":"held","id":3,"release_at":20,"t":5}"#;
        assert!(same(held, held));
        assert!(same(r#"{"ev":"send","fate":"held","id":3,"t":5}"#, held));
        assert!(!same(
            r#"{"arrive":8,"ev":"send","fate":"held","id":3,"t":5}"#,
            held
        ));
        assert!(!same(r#"{"ev":"send","fate":"held","id":4,"t":5}"#, held));
        let delivered = r#"{"arrive":7,"ev":"send","fate":"delivered","id":3,"t":5}"#;
        assert!(!same(
            r#"{"ev":"send","fate":"delivered","id":3,"t":5}"#,
            delivered
        ));
        let state = r#"{"conn":0,"ev":"state","from":"CLOSED","iss":9,"to":"SYN-SENT"}"#;
        assert!(same(
            r#"{"conn":0,"ev":"state","from":"CLOSED","to":"SYN-SENT"}"#,
            state
        ));
        assert!(!same(
            r#"{"conn":1,"ev":"state","from":"CLOSED","to":"SYN-SENT"}"#,
            state
        ));
        // Not canonical (spaces): a divergence, as before.
        assert!(!same(
            r#"{"conn": 0,"ev":"state","from":"CLOSED","to":"SYN-SENT"}"#,
            state
        ));
        assert!(!same("not json", state));
    }
}
