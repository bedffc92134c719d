//! The optional `kv` model (porcupine's key-value object): parsing and writing, per-key
//! partitioning, verdicts, and the longest linearizable prefix.

use synclab_lin::{
    check, explain, parse_history, write_history, CheckOptions, SearchResult, Verdict,
};

const GOOD: &str = r#"{"synclab_history":1,"model":"kv"}
{"process":0,"op":"put","key":"a","value":"x","ok":true,"invoke_ns":0,"return_ns":10}
{"process":1,"op":"append","key":"a","value":"y","ok":true,"invoke_ns":5,"return_ns":15}
{"process":2,"op":"get","key":"a","value":"xy","ok":true,"invoke_ns":20,"return_ns":30}
{"process":2,"op":"get","key":"b","value":"","ok":true,"invoke_ns":31,"return_ns":32}
{"process":0,"op":"append","key":"b","value":"z","ok":null,"invoke_ns":40,"return_ns":null}
"#;

#[test]
fn kv_round_trip_and_linearizable() {
    let h = parse_history(GOOD).unwrap();
    let mut out = Vec::new();
    write_history(&mut out, &h).unwrap();
    let back = parse_history(std::str::from_utf8(&out).unwrap()).unwrap();
    assert_eq!(
        back.ops, h.ops,
        "written in order, so even the line numbers agree"
    );
    let r = check(&h, &CheckOptions::default());
    assert_eq!(r.verdict, Verdict::Linearizable);
    assert_eq!(r.stats.partitions, 2, "one part per key");
    let parts = explain(&h, None);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].label, "key \"a\"");
    let last = parts[0].steps.last().unwrap();
    assert_eq!(last.after, "\"xy\"");
}

#[test]
fn kv_stale_get_is_caught_with_the_longest_prefix() {
    // put and append both returned before the get began: it must see "xy" or "x", never "y"
    let text = GOOD.replace(r#""value":"xy""#, r#""value":"y""#);
    let h = parse_history(&text).unwrap();
    let r = check(&h, &CheckOptions::default());
    assert_eq!(r.verdict, Verdict::NotLinearizable);
    let lines: Vec<usize> = r.witness.iter().map(|&i| h.ops[i].line).collect();
    assert!(
        lines.contains(&4),
        "the stale get is in the witness: {lines:?}"
    );
    let parts = explain(&h, None);
    assert!(matches!(
        parts[0].result,
        SearchResult::NotLinearizable { .. }
    ));
    assert_eq!(
        parts[0].steps.len(),
        2,
        "put and append fit, the get cannot"
    );
    assert_eq!(parts[1].result, SearchResult::Linearizable);
}

#[test]
fn kv_value_must_be_a_string() {
    let bad = "{\"synclab_history\":1,\"model\":\"kv\"}\n{\"process\":0,\"op\":\"put\",\"key\":\"a\",\"value\":3,\"ok\":true,\"invoke_ns\":0,\"return_ns\":1}\n";
    let e = parse_history(bad).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, Some("value")));
    assert!(e.message.contains("expected a string"), "{e}");
}
