//! Scenario files with mistakes are refused, naming the file, the line and the key.

use synclab_sim::parse_scenario;

const BASE: &str =
    "synclab_scenario = 1\nname = \"x\"\n[[host]]\nname = \"A\"\n[[host]]\nname = \"B\"\n";

fn refused(extra: &str) -> (usize, String, String) {
    let src = format!("{BASE}{extra}");
    let e = parse_scenario("my.toml", &src).expect_err("must be refused");
    assert_eq!(e.file, "my.toml");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("my.toml:{}:", e.line)),
        "{shown}"
    );
    (e.line, e.key, e.message)
}

#[test]
fn unknown_key_names_key_and_line() {
    let (line, key, msg) = refused(
        "[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\nport = 80\nbacklgo = 3\n",
    );
    assert_eq!((line, key.as_str()), (12, "backlgo"));
    assert!(msg.contains("unknown key"), "{msg}");
}

#[test]
fn unknown_top_level_and_nested_keys() {
    assert_eq!(refused("colour = 1\n").1, "colour");
    let (line, key, _) = refused("[net]\nloss = 0.1\nlosss = 0.2\n");
    assert_eq!((line, key.as_str()), (9, "losss"));
    let (line, key, _) = refused("[tcp]\nmss = 100\nmsss = 1\n");
    assert_eq!((line, key.as_str()), (9, "msss"));
    let (_, key, _) = refused("[expect]\nwires = []\n");
    assert_eq!(key, "wires");
}

#[test]
fn unknown_host_is_refused_everywhere() {
    let (line, key, msg) = refused("[[step]]\nhost = \"C\"\ncall = \"crash\"\n");
    assert_eq!((line, key.as_str()), (8, "host"));
    assert!(msg.contains("unknown host \"C\""), "{msg}");
    let (_, key, _) =
        refused("[[step]]\nhost = \"A\"\ncall = \"connect\"\nsock = \"c\"\nto = \"Z:80\"\n");
    assert_eq!(key, "to");
    let (_, key, _) =
        refused("[[net.rule]]\nfrom = \"A\"\nto = \"Q\"\nnth = 1\naction = \"drop\"\n");
    assert_eq!(key, "to");
    let (line, key, _) = refused("[expect]\nwire = [\n  \"A>B S seq=1\",\n  \"A>C S seq=2\",\n]\n");
    assert_eq!((line, key.as_str()), (10, "wire"));
}

#[test]
fn bad_flag_strings() {
    for flags in ["AS", "X", "", "SS", "syn"] {
        let (line, key, msg) = refused(&format!(
            "[[inject]]\nat_ms = 1\nfrom = \"A:1\"\nto = \"B:2\"\nflags = \"{flags}\"\nseq = 1\n"
        ));
        assert_eq!((line, key.as_str()), (11, "flags"), "{flags}");
        assert!(msg.contains("bad flags"), "{msg}");
    }
    let (_, key, _) = refused("[expect]\nwire = [\"A>B SX seq=1\"]\n");
    assert_eq!(key, "wire");
}

#[test]
fn wrong_types() {
    let (line, key, msg) =
        refused("[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\nport = \"80\"\n");
    assert_eq!((line, key.as_str()), (11, "port"));
    assert!(msg.contains("expected an integer, found a string"), "{msg}");
    let (_, key, msg) = refused("[net]\nloss = \"high\"\n");
    assert_eq!(key, "loss");
    assert!(msg.contains("expected a number"), "{msg}");
    let (_, key, _) = refused("[tcp]\nrfc5961 = 1\n");
    assert_eq!(key, "rfc5961");
    let (_, key, _) = refused("duration_ms = -5\n");
    assert_eq!(key, "duration_ms");
}

#[test]
fn other_mistakes() {
    // A key that exists but not for this call.
    let (_, key, msg) = refused("[[step]]\nhost = \"A\"\ncall = \"crash\"\nport = 1\n");
    assert_eq!(key, "port");
    assert!(msg.contains("does not apply"), "{msg}");
    // A handle no earlier step created.
    let (_, key, _) =
        refused("[[step]]\nhost = \"A\"\ncall = \"send\"\nsock = \"c\"\ndata = \"x\"\n");
    assert_eq!(key, "sock");
    // Unknown call, errno, state, action.
    assert_eq!(
        refused("[[step]]\nhost = \"A\"\ncall = \"bind\"\n").1,
        "call"
    );
    assert_eq!(
        refused("[[step]]\nhost = \"A\"\ncall = \"crash\"\nexpect_error = \"EFOO\"\n").1,
        "expect_error"
    );
    assert_eq!(
        refused("[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\nport = 1\n[[expect.socket]]\nhost = \"A\"\nsock = \"l\"\nstates = [\"OPEN\"]\n").1,
        "states"
    );
    assert_eq!(
        refused("[[net.rule]]\nfrom = \"A\"\nto = \"B\"\nnth = 1\naction = \"explode\"\n").1,
        "action"
    );
    // Missing required keys name the key.
    assert_eq!(
        refused("[[step]]\nhost = \"A\"\ncall = \"listen\"\nsock = \"l\"\n").1,
        "port"
    );
    // A syntax error names the line.
    let e = parse_scenario("my.toml", &format!("{BASE}[[step]\n")).unwrap_err();
    assert_eq!(e.line, 7);
    // Version and name are required.
    assert_eq!(
        parse_scenario("f", "name = \"x\"\n").unwrap_err().key,
        "synclab_scenario"
    );
}

#[test]
fn every_builtin_parses_and_shipped_files_match() {
    for (name, src) in synclab_sim::scenario::builtin::BUILTINS {
        let sc = parse_scenario(name, src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&sc.name, name, "file name and `name` agree");
        assert!(!sc.description.is_empty());
    }
    assert!(synclab_sim::scenario::builtin::BUILTINS.len() >= 20);
}

#[test]
fn tcp_profile_is_rfc9293_or_linux_and_single_keys_override_it() {
    let (line, key, msg) = refused("[tcp]\nprofile = \"bsd\"\n");
    assert_eq!((line, key.as_str()), (8, "profile"));
    assert!(msg.contains("\"linux\""), "{msg}");
    let sc = parse_scenario("my.toml", &format!("{BASE}[tcp]\nprofile = \"linux\"\n")).unwrap();
    assert!(sc.tcp.rst_on_close_with_unread);
    assert_eq!(sc.tcp.fin_ack_delay_ms, 40);
    assert_eq!(sc.tcp.backlog_extra, 1);
    assert!(sc.tcp.eaddrnotavail_for_tuple_in_use && sc.tcp.abort_rst_ack);
    let src =
        format!("{BASE}[tcp]\nprofile = \"linux\"\nbacklog_extra = 0\nabort_rst_ack = false\n");
    let sc = parse_scenario("my.toml", &src).unwrap();
    assert_eq!(sc.tcp.backlog_extra, 0);
    assert!(!sc.tcp.abort_rst_ack && sc.tcp.eaddrnotavail_for_tuple_in_use);
    let src = format!("{BASE}[tcp]\nprofile = \"linux\"\nfin_ack_delay_ms = 0\n");
    let sc = parse_scenario("my.toml", &src).unwrap();
    assert_eq!(sc.tcp.fin_ack_delay_ms, 0);
    assert!(sc.tcp.rst_on_close_with_unread);
    let sc = parse_scenario("my.toml", BASE).unwrap();
    assert!(!sc.tcp.rst_on_close_with_unread, "the default is RFC 9293");
    assert_eq!(sc.tcp.backlog_extra, 0);
    assert!(!sc.tcp.eaddrnotavail_for_tuple_in_use && !sc.tcp.abort_rst_ack);
}
