//! History file parsing and writing (HISTORY.md): errors name the line and the field; writing
//! then parsing gives the same history.

use synclab_lin::simulate::{queue_history, register_history, semaphore_history, GenConfig};
use synclab_lin::{parse_history, write_history, History, HistoryError, Model, OpKind};

const Q: &str = r#"{"synclab_history":1,"model":"queue"}"#;

fn err(text: &str) -> HistoryError {
    parse_history(text).expect_err("should be rejected")
}

fn assert_err(text: &str, line: usize, field: Option<&str>, words: &str) {
    let e = err(text);
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.field.as_deref(), field, "{e}");
    assert!(e.to_string().contains(words), "{e} lacks {words:?}");
}

#[test]
fn parses_the_example_of_history_md() {
    let h = parse_history(
        r#"{"synclab_history":1,"model":"queue","capacity":1024}
{"process":0,"op":"enqueue","value":17,"ok":true,"invoke_ns":1000,"return_ns":1900}
{"process":1,"op":"dequeue","value":17,"ok":true,"invoke_ns":1200,"return_ns":2500}
{"process":1,"op":"dequeue","value":null,"ok":true,"invoke_ns":2600,"return_ns":2700}
"#,
    )
    .unwrap();
    assert_eq!(
        h.header.model,
        Model::Queue {
            capacity: Some(1024)
        }
    );
    assert_eq!(h.ops.len(), 3);
    assert_eq!(h.ops[1].kind, OpKind::Dequeue { value: Some(17) });
    assert_eq!(h.ops[2].kind, OpKind::Dequeue { value: None });
    assert_eq!(h.ops[2].line, 4);
}

#[test]
fn header_errors() {
    assert_err("", 1, None, "bad header");
    assert_err("[1,2]", 1, None, "bad header");
    assert_err("{not json", 1, None, "not valid JSON");
    assert_err(
        r#"{"model":"queue"}"#,
        1,
        Some("synclab_history"),
        "missing",
    );
    assert_err(
        r#"{"synclab_history":2,"model":"queue"}"#,
        1,
        Some("synclab_history"),
        "version 2",
    );
    assert_err(r#"{"synclab_history":1}"#, 1, Some("model"), "missing");
    assert_err(
        r#"{"synclab_history":1,"model":"stack"}"#,
        1,
        Some("model"),
        "unknown model `stack`",
    );
    assert_err(
        r#"{"synclab_history":1,"model":"semaphore"}"#,
        1,
        Some("permits"),
        "missing",
    );
    assert_err(
        r#"{"synclab_history":1,"model":"queue","permits":3}"#,
        1,
        Some("permits"),
        "does not apply",
    );
    assert_err(
        r#"{"synclab_history":1,"model":"queue","capacity":-1}"#,
        1,
        Some("capacity"),
        "non-negative",
    );
    // unknown extra fields are allowed (HISTORY.md: optional additions)
    let h = parse_history(r#"{"synclab_history":1,"model":"register","host":"a"}"#).unwrap();
    assert_eq!(h.header.extra["host"], "a");
}

#[test]
fn operation_errors_name_line_and_field() {
    let op = |body: &str| format!("{Q}\n\n{body}\n");
    assert_err(
        &op(r#"{"op":"enqueue","value":1,"ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("process"),
        "missing",
    );
    assert_err(
        &op(r#"{"process":0,"op":"enqueue","value":1.5,"ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("value"),
        "expected an integer, found 1.5",
    );
    assert_err(
        &op(r#"{"process":0,"op":"enqueue","value":"7","ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("value"),
        "found a string",
    );
    assert_err(
        &op(
            r#"{"process":0,"op":"enqueue","value":18446744073709551615,"ok":true,"invoke_ns":1,"return_ns":2}"#,
        ),
        3,
        Some("value"),
        "out of range",
    );
    assert_err(
        &op(r#"{"process":0,"op":"push","value":1,"ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("op"),
        "unknown op `push`",
    );
    assert_err(
        &op(r#"{"process":0,"op":"acquire","ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("op"),
        "does not belong to model queue",
    );
    assert_err(
        &op(r#"{"process":0,"op":"enqueue","value":1,"ok":true,"invoke_ns":5,"return_ns":2}"#),
        3,
        Some("return_ns"),
        "before invoke_ns",
    );
    assert_err(
        &op(r#"{"process":0,"op":"enqueue","value":1,"ok":"yes","invoke_ns":1,"return_ns":2}"#),
        3,
        Some("ok"),
        "expected true, false or null",
    );
    assert_err(
        &op(r#"{"process":0,"op":"enqueue","value":1,"ok":true,"invoke_ns":1,"return_ns":null}"#),
        3,
        Some("ok"),
        "must be null",
    );
    assert_err(
        &op(
            r#"{"process":0,"op":"enqueue","value":1,"n":2,"ok":true,"invoke_ns":1,"return_ns":2}"#,
        ),
        3,
        Some("n"),
        "does not apply",
    );
    assert_err(
        &op(r#"{"process":-1,"op":"enqueue","value":1,"ok":true,"invoke_ns":1,"return_ns":2}"#),
        3,
        Some("process"),
        "non-negative",
    );
    assert_err(&op("17"), 3, None, "expected a JSON object");
}

#[test]
fn overlapping_operations_of_one_process_are_rejected() {
    let text = format!(
        "{Q}\n{}\n{}\n",
        r#"{"process":4,"op":"enqueue","value":1,"ok":true,"invoke_ns":10,"return_ns":30}"#,
        r#"{"process":4,"op":"enqueue","value":2,"ok":true,"invoke_ns":20,"return_ns":40}"#
    );
    assert_err(&text, 3, Some("invoke_ns"), "line 2");
    let text = format!(
        "{Q}\n{}\n{}\n",
        r#"{"process":4,"op":"enqueue","value":2,"ok":true,"invoke_ns":20,"return_ns":40}"#,
        r#"{"process":4,"op":"enqueue","value":1,"ok":null,"invoke_ns":10,"return_ns":null}"#,
    );
    assert_err(&text, 2, Some("invoke_ns"), "never returned");
}

#[test]
fn semaphore_and_register_fields() {
    let s = r#"{"synclab_history":1,"model":"semaphore","permits":2}"#;
    let h = parse_history(&format!(
        "{s}\n{}\n",
        r#"{"process":0,"op":"acquire","ok":true,"invoke_ns":1,"return_ns":2}"#
    ))
    .unwrap();
    assert_eq!(h.ops[0].kind, OpKind::Acquire { n: 1 });
    assert_err(
        &format!(
            "{s}\n{}\n",
            r#"{"process":0,"op":"release","n":0,"ok":true,"invoke_ns":1,"return_ns":2}"#
        ),
        2,
        Some("n"),
        "at least 1",
    );
    let r = r#"{"synclab_history":1,"model":"register"}"#;
    assert_err(
        &format!(
            "{r}\n{}\n",
            r#"{"process":0,"op":"cas","key":"x","value":1,"ok":true,"invoke_ns":1,"return_ns":2}"#
        ),
        2,
        Some("expected"),
        "missing",
    );
    assert_err(
        &format!(
            "{r}\n{}\n",
            r#"{"process":0,"op":"read","key":3,"value":1,"ok":true,"invoke_ns":1,"return_ns":2}"#
        ),
        2,
        Some("key"),
        "expected a string",
    );
    // a result is ignored when the outcome is unknown
    let h = parse_history(&format!(
        "{r}\n{}\n",
        r#"{"process":0,"op":"read","key":"x","ok":null,"invoke_ns":1,"return_ns":2}"#
    ))
    .unwrap();
    assert_eq!(h.ops[0].ok, None);
}

fn round_trip(h: &History) {
    let mut buf = Vec::new();
    write_history(&mut buf, h).unwrap();
    let back = parse_history(std::str::from_utf8(&buf).unwrap()).unwrap();
    assert_eq!(&back, h);
}

#[test]
fn write_then_parse_round_trips() {
    let mut cfg = GenConfig::new(3, 200, 7);
    cfg.pending = true;
    cfg.failures = true;
    round_trip(&queue_history(&cfg, Some(4)));
    round_trip(&semaphore_history(&cfg, 2));
    round_trip(&register_history(&cfg, 3));
}

#[test]
fn lines_may_come_in_any_order() {
    let cfg = GenConfig::new(3, 100, 9);
    let h = queue_history(&cfg, None);
    let mut buf = Vec::new();
    write_history(&mut buf, &h).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    let back = parse_history(&lines.join("\n")).unwrap();
    let v = synclab_lin::check(&back, &Default::default());
    assert_eq!(v.verdict, synclab_lin::Verdict::Linearizable);
}

#[test]
fn save_then_load_a_file() {
    let h = semaphore_history(&GenConfig::new(3, 50, 4), 2);
    let path = std::env::temp_dir().join(format!("synclab-lin-parse-{}.jsonl", std::process::id()));
    synclab_lin::save_history(&path, &h).unwrap();
    let back = synclab_lin::load_history(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back, h);
    let missing = synclab_lin::load_history(path.with_extension("missing")).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
}

#[test]
fn in_memory_histories_are_validated() {
    use synclab_lin::Op;
    let mut h = History::new(Model::Register);
    h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 0, 1));
    assert_eq!(h.validate().unwrap_err().field.as_deref(), Some("op"));
    let mut h = History::new(Model::Queue { capacity: None });
    h.ops.push(Op::new(0, OpKind::Enqueue { value: 1 }, 0, 10));
    h.ops.push(Op::new(0, OpKind::Enqueue { value: 2 }, 5, 20));
    assert_eq!(
        h.validate().unwrap_err().field.as_deref(),
        Some("invoke_ns")
    );
}
