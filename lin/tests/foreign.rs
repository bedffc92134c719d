//! Other tools' histories: Jepsen EDN (register, cas-register, queue), `jepsen.util` logs and
//! porcupine-style kv logs; format detection; `:info` as unknown outcome; errors naming lines.

use synclab_lin::foreign::{detect, parse_any, Format};
use synclab_lin::{check, CheckOptions, Model, OpKind, Verdict};

fn verdict(text: &str) -> Verdict {
    let (h, _) = parse_any(text, None).unwrap();
    check(&h, &CheckOptions::default()).verdict
}

/// A cas-register history as Jepsen writes it (a vector of op maps, with :time).
const CAS: &str = r#"[{:type :invoke, :f :write, :value 1, :process 0, :time 100, :index 0}
 {:type :ok, :f :write, :value 1, :process 0, :time 200, :index 1}
 {:type :invoke, :f :cas, :value [1 2], :process 1, :time 300, :index 2}
 {:type :invoke, :f :nemesis-thing, :value nil, :process :nemesis, :time 310}
 {:type :info, :f :cas, :value [1 2], :process 1, :time 400, :index 3}
 {:type :invoke, :f :read, :value nil, :process 1, :time 500, :index 4}
 {:type :ok, :f :read, :value 2, :process 1, :time 600, :index 5}
 {:type :invoke, :f :cas, :value [5 6], :process 0, :time 700, :index 6}
 {:type :fail, :f :cas, :value [5 6], :process 0, :time 800, :index 7}]
"#;

#[test]
fn jepsen_cas_register_with_info_and_fail() {
    assert_eq!(detect(CAS), Some(Format::Edn));
    let (h, format) = parse_any(CAS, None).unwrap();
    assert_eq!(format, Format::Edn);
    assert_eq!(h.header.model, Model::Register);
    assert_eq!(h.ops.len(), 4, "the nemesis is skipped");
    let cas = &h.ops[1];
    assert_eq!(
        (cas.ok, cas.return_ns),
        (None, None),
        ":info = unknown outcome"
    );
    assert_eq!(
        cas.kind,
        OpKind::Cas {
            key: "register".into(),
            expected: Some(1),
            value: 2
        }
    );
    // process 1 went on after its :info: renumbered, as Jepsen does
    assert_eq!(h.ops[2].process, 2);
    assert_eq!((h.ops[2].invoke_ns, h.ops[2].return_ns), (500, Some(600)));
    assert_eq!(h.ops[3].ok, Some(false), ":fail = did not happen");
    // the read of 2 is explained only by the :info cas having taken effect
    assert_eq!(verdict(CAS), Verdict::Linearizable);
    // a read of 3 is explained by nothing
    assert_eq!(
        verdict(&CAS.replace(":ok, :f :read, :value 2", ":ok, :f :read, :value 3")),
        Verdict::NotLinearizable
    );
    // a failed cas [2 9] while the register certainly held 2 is a violation
    let failed_cas = CAS.replace(":value [5 6]", ":value [2 9]");
    assert_eq!(verdict(&failed_cas), Verdict::NotLinearizable);
}

#[test]
fn jepsen_queue_one_map_per_line_without_time() {
    let text = "{:process 0, :type :invoke, :f :enqueue, :value 1}\n\
                {:process 1, :type :invoke, :f :dequeue, :value nil}\n\
                {:process 0, :type :ok, :f :enqueue, :value 1}\n\
                {:process 1, :type :ok, :f :dequeue, :value 1}\n\
                {:process 1, :type :invoke, :f :dequeue, :value nil}\n\
                {:process 1, :type :ok, :f :dequeue, :value nil}\n";
    let (h, _) = parse_any(text, None).unwrap();
    assert_eq!(h.header.model, Model::Queue { capacity: None });
    // no :time: event positions stand in for time
    assert_eq!((h.ops[0].invoke_ns, h.ops[0].return_ns), (0, Some(2)));
    assert_eq!(h.ops[0].line, 1);
    assert_eq!(verdict(text), Verdict::Linearizable);
    let lost = text.replace(
        ":type :ok, :f :dequeue, :value 1}",
        ":type :ok, :f :dequeue, :value nil}",
    );
    assert_eq!(verdict(&lost), Verdict::NotLinearizable);
}

/// The `jepsen.util` log lines of older Jepsen runs (porcupine's etcd data looks like this).
const LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t3\n\
INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 0\t:ok\t:write\t3\n\
INFO  jepsen.util - 1\t:ok\t:read\t3\n\
INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n\
INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]\n\
INFO  jepsen.util - 1\t:ok\t:cas\t[3 4]\n\
INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 0\t:ok\t:read\t4\n\
INFO  jepsen.util - 2\t:invoke\t:write\t7\n";

#[test]
fn jepsen_log_lines() {
    assert_eq!(detect(LOG), Some(Format::JepsenLog));
    let (h, _) = parse_any(LOG, None).unwrap();
    assert_eq!(h.ops.len(), 6);
    assert_eq!(
        h.ops[2].ok,
        Some(false),
        "timed-out read: failed, no effect"
    );
    assert_eq!(h.ops[5].return_ns, None, "never completed: unknown outcome");
    assert_eq!(verdict(LOG), Verdict::Linearizable);
    let stale = LOG.replace(":ok\t:read\t4", ":ok\t:read\t3");
    assert_eq!(verdict(&stale), Verdict::NotLinearizable);
}

#[test]
fn porcupine_kv_log() {
    let text = r#"{:process 0, :type :invoke, :f :append, :key "k", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "k", :value nil}
{:process 0, :type :ok, :f :append, :key "k", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "k", :value ""}
{:process 1, :type :invoke, :f :get, :key "j", :value nil}
{:process 1, :type :ok, :f :get, :key "j", :value ""}
{:process 0, :type :invoke, :f :get, :key "k", :value nil}
{:process 0, :type :ok, :f :get, :key "k", :value "x 0 0 y"}
"#;
    let (h, _) = parse_any(text, None).unwrap();
    assert_eq!(h.header.model, Model::Kv);
    let r = check(&h, &CheckOptions::default());
    assert_eq!(r.verdict, Verdict::Linearizable);
    assert_eq!(r.stats.partitions, 2, "per key");
    let bad = text.replace(
        r#":type :ok, :f :get, :key "k", :value "x 0 0 y"}"#,
        r#":type :ok, :f :get, :key "k", :value ""}"#,
    );
    assert_eq!(verdict(&bad), Verdict::NotLinearizable);
}

#[test]
fn errors_name_the_line() {
    let e = parse_any(
        "{:process 0, :type :invoke, :f :frobnicate, :value 1}\n",
        None,
    )
    .unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains(":frobnicate"), "{e}");
    let e = parse_any(
        "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value \"one\"}\n",
        None,
    )
    .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, Some(":value")));
    let e = parse_any("{:process 0, :type :ok, :f :read, :value 1}\n", None).unwrap_err();
    assert!(e.message.contains("without an :invoke"), "{e}");
    let e = parse_any("[{:process 0, :type :invoke}\n", None).unwrap_err();
    assert!(e.message.contains("never closed"), "{e}");
    assert!(parse_any("hello\n", None)
        .unwrap_err()
        .message
        .contains("unknown format"));
    // forcing a format that does not fit
    assert!(parse_any(CAS, Some(Format::Synclab)).is_err());
}
