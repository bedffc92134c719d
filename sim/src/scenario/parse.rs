//! Reads a scenario file (SCENARIOS.md) into a [`Scenario`], refusing anything the format does
//! not allow: unknown keys, wrong types, unknown hosts or handles, bad flag strings, out-of-range
//! numbers. Every error names the file, the line and the key.
//!
//! Parsing keeps spans (`toml_edit`'s immutable document), so a key's line is known; the walk
//! over the tables is written out by hand, one function per table.

use super::model::*;
use crate::net::{LinkOverride, LinkParams, NetSpec, Partition, Rule, RuleAction};
use crate::socket::{HostId, How, SockCall};
use crate::tcp::{Errno, Flags, Segment, TcpConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml_edit::{ImDocument, Item, TableLike, Value};

/// A refused scenario: where, which key, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else if self.key.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: key `{}`: {}",
                self.file, self.line, self.key, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

type R<T> = Result<T, ScenarioError>;

/// Largest virtual time, delay or duration a scenario (or a `--delay-ms` flag) may give, in ms:
/// 10^12 ms, about 31.7 years. Every sum the simulator forms from them (a send time plus a
/// delay plus a rule's extra delay, a timer plus a backoff) stays far below `u64::MAX`.
pub const MAX_MS: u64 = 1_000_000_000_000;

/// Largest `bytes` of a `send` or `recv` step: 16 MiB (a `send` allocates that many bytes).
pub const MAX_PAYLOAD_BYTES: u64 = 16 * 1024 * 1024;

struct Ctx<'s> {
    file: &'s str,
    /// Byte offset of the start of each line (line `i + 1` starts at `line_starts[i]`).
    line_starts: Vec<usize>,
}

impl<'s> Ctx<'s> {
    fn new(file: &'s str, src: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ctx { file, line_starts }
    }

    /// The 1-based line of a byte offset: a binary search, so errors and spans cost O(log n)
    /// each and a parse stays linear in the file's size.
    fn line(&self, span: Option<Range<usize>>) -> usize {
        let at = span.map_or(0, |s| s.start);
        self.line_starts
            .partition_point(|&start| start <= at)
            .max(1)
    }
    fn err(&self, line: usize, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// One table being read, with the keys it allows.
struct Tab<'a> {
    cx: &'a Ctx<'a>,
    t: &'a dyn TableLike,
    line: usize,
    what: &'a str,
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "a table",
        },
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

fn item_span(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        _ => None,
    }
}

impl<'a> Tab<'a> {
    fn key_line(&self, k: &str) -> usize {
        match self.t.get_key_value(k) {
            Some((key, item)) => self.cx.line(key.span().or_else(|| item_span(item))),
            None => self.line,
        }
    }

    fn err(&self, k: &str, msg: impl Into<String>) -> ScenarioError {
        self.cx.err(self.key_line(k), k, msg)
    }

    /// Refuses keys outside `allowed`.
    fn allow(&self, allowed: &[&str]) -> R<()> {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k) {
                return Err(self.err(
                    k,
                    format!(
                        "unknown key in {} (allowed: {})",
                        self.what,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn get(&self, k: &str) -> Option<&'a Item> {
        self.t.get(k)
    }

    fn has(&self, k: &str) -> bool {
        self.t.contains_key(k)
    }

    fn wrong(&self, k: &str, want: &str, item: &Item) -> ScenarioError {
        self.err(k, format!("expected {want}, found {}", type_name(item)))
    }

    fn required<T>(&self, k: &str, v: Option<T>) -> R<T> {
        v.ok_or_else(|| {
            self.cx
                .err(self.line, k, format!("missing in {}", self.what))
        })
    }

    fn int(&self, k: &str) -> R<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(item) => item
                .as_integer()
                .map(Some)
                .ok_or_else(|| self.wrong(k, "an integer", item)),
        }
    }

    fn uint(&self, k: &str, max: u64) -> R<Option<u64>> {
        match self.int(k)? {
            None => Ok(None),
            Some(v) if v >= 0 && (v as u64) <= max => Ok(Some(v as u64)),
            Some(v) => Err(self.err(k, format!("{v} is out of range 0..={max}"))),
        }
    }

    fn port(&self, k: &str) -> R<Option<u16>> {
        match self.int(k)? {
            None => Ok(None),
            Some(v) if (1..=65535).contains(&v) => Ok(Some(v as u16)),
            Some(v) => Err(self.err(k, format!("port {v} is out of range 1..=65535"))),
        }
    }

    fn prob(&self, k: &str) -> R<Option<f64>> {
        let v = match self.get(k) {
            None => return Ok(None),
            Some(item) => match item.as_value() {
                Some(Value::Float(f)) => *f.value(),
                Some(Value::Integer(i)) => *i.value() as f64,
                _ => return Err(self.wrong(k, "a number", item)),
            },
        };
        if (0.0..=1.0).contains(&v) {
            Ok(Some(v))
        } else {
            Err(self.err(k, format!("probability {v} is outside 0..=1")))
        }
    }

    fn boolean(&self, k: &str) -> R<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(item) => item
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong(k, "a boolean", item)),
        }
    }

    fn string(&self, k: &str) -> R<Option<String>> {
        match self.get(k) {
            None => Ok(None),
            Some(item) => item
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| self.wrong(k, "a string", item)),
        }
    }

    /// An array's elements with their lines.
    fn array(&self, k: &str) -> R<Option<Vec<(&'a Value, usize)>>> {
        match self.get(k) {
            None => Ok(None),
            Some(item) => match item.as_array() {
                Some(a) => Ok(Some(
                    a.iter()
                        .map(|v| (v, self.cx.line(v.span()).max(self.key_line(k))))
                        .collect(),
                )),
                None => Err(self.wrong(k, "an array", item)),
            },
        }
    }

    fn strings(&self, k: &str) -> R<Option<Vec<(String, usize)>>> {
        let Some(a) = self.array(k)? else {
            return Ok(None);
        };
        a.into_iter()
            .map(|(v, line)| match v.as_str() {
                Some(s) => Ok((s.to_string(), line)),
                None => Err(self.cx.err(line, k, "expected an array of strings")),
            })
            .collect::<R<Vec<_>>>()
            .map(Some)
    }

    /// A sub-table (`[name]` or an inline table).
    fn table(&self, k: &str, what: &'a str) -> R<Option<Tab<'a>>> {
        match self.get(k) {
            None => Ok(None),
            Some(item) => match item.as_table_like() {
                Some(t) => Ok(Some(Tab {
                    cx: self.cx,
                    t,
                    line: self.key_line(k),
                    what,
                })),
                None => Err(self.wrong(k, "a table", item)),
            },
        }
    }

    /// An array of tables (`[[name]]`, or an array of inline tables).
    fn tables(&self, k: &str, what: &'a str) -> R<Vec<Tab<'a>>> {
        let Some(item) = self.get(k) else {
            return Ok(Vec::new());
        };
        if let Some(aot) = item.as_array_of_tables() {
            return Ok(aot
                .iter()
                .map(|t| Tab {
                    cx: self.cx,
                    t,
                    line: self.cx.line(t.span()),
                    what,
                })
                .collect());
        }
        if let Some(a) = item.as_array() {
            return a
                .iter()
                .map(|v| match v.as_inline_table() {
                    Some(t) => Ok(Tab {
                        cx: self.cx,
                        t,
                        line: self.cx.line(v.span()),
                        what,
                    }),
                    None => Err(self.wrong(k, "an array of tables", item)),
                })
                .collect();
        }
        Err(self.wrong(k, &format!("[[{k}]] tables"), item))
    }
}

/// Parses and validates a scenario. `file` is used in error messages.
pub fn parse_scenario(file: &str, src: &str) -> R<Scenario> {
    let cx = Ctx::new(file, src);
    let doc = ImDocument::parse(src).map_err(|e| {
        let line = cx.line(e.span());
        let msg = e.message().trim().to_string();
        cx.err(line, "", format!("TOML syntax error: {msg}"))
    })?;
    let root = Tab {
        cx: &cx,
        t: doc.as_table(),
        line: 1,
        what: "the scenario",
    };
    root.allow(&[
        "synclab_scenario",
        "name",
        "description",
        "duration_ms",
        "tcp",
        "host",
        "net",
        "step",
        "inject",
        "expect",
    ])?;
    let version = root.required("synclab_scenario", root.int("synclab_scenario")?)?;
    if version != 1 {
        return Err(root.err(
            "synclab_scenario",
            format!("format version {version} is not 1"),
        ));
    }
    let name = root.required("name", root.string("name")?)?;
    let description = root.string("description")?.unwrap_or_default();
    let duration_ms = root.uint("duration_ms", MAX_MS)?.unwrap_or(600_000);
    let tcp = parse_tcp(&root)?;
    let hosts = parse_hosts(&root)?;
    let hx = Hosts(&hosts);
    let net = parse_net(&root, &hx)?;
    let steps = parse_steps(&root, &hx)?;
    let injects = parse_injects(&root, &hx)?;
    let expect = parse_expect(&root, &hx, &steps)?;
    Ok(Scenario {
        file: file.to_string(),
        source: src.to_string(),
        name,
        description,
        duration_ms,
        tcp,
        hosts,
        net,
        steps,
        injects,
        expect,
    })
}

struct Hosts<'h>(&'h [HostSpec]);

impl Hosts<'_> {
    fn id(&self, tab: &Tab, key: &str, name: &str) -> R<HostId> {
        self.0.iter().position(|h| h.name == name).ok_or_else(|| {
            tab.err(
                key,
                format!(
                    "unknown host {name:?} (hosts: {})",
                    self.0
                        .iter()
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }

    fn host_key(&self, tab: &Tab, key: &str) -> R<HostId> {
        let name = tab.required(key, tab.string(key)?)?;
        self.id(tab, key, &name)
    }

    /// `HOST:PORT` (port required) or `HOST[:PORT]` (`port_required` false).
    fn endpoint(
        &self,
        tab: &Tab,
        key: &str,
        s: &str,
        port_required: bool,
    ) -> R<(HostId, Option<u16>)> {
        let (h, p) = match s.split_once(':') {
            Some((h, p)) => {
                let port: u16 = p
                    .parse()
                    .ok()
                    .filter(|&p: &u16| p > 0)
                    .ok_or_else(|| tab.err(key, format!("bad port in {s:?}")))?;
                (h, Some(port))
            }
            None if port_required => {
                return Err(tab.err(key, format!("expected HOST:PORT, found {s:?}")))
            }
            None => (s, None),
        };
        Ok((self.id(tab, key, h)?, p))
    }
}

fn parse_tcp(root: &Tab) -> R<TcpConfig> {
    let mut c = TcpConfig::default();
    let Some(t) = root.table("tcp", "[tcp]")? else {
        return Ok(c);
    };
    t.allow(&[
        "rto_initial_ms",
        "rto_min_ms",
        "rto_max_ms",
        "syn_retries",
        "msl_ms",
        "mss",
        "rcv_wnd",
        "rfc5961",
        "delayed_ack_ms",
        "profile",
        "fin_ack_delay_ms",
        "rst_on_close_with_unread",
        "backlog_extra",
        "eaddrnotavail_for_tuple_in_use",
        "abort_rst_ack",
    ])?;
    match t.string("profile")?.as_deref() {
        None | Some("rfc9293") => {}
        Some("linux") => c = c.linux(),
        Some(other) => {
            return Err(t.err(
                "profile",
                format!("unknown profile {other:?}: \"rfc9293\" (the default) or \"linux\""),
            ))
        }
    }
    let big = MAX_MS;
    c.rto_initial_ms = t
        .uint("rto_initial_ms", big)?
        .unwrap_or(c.rto_initial_ms)
        .max(1);
    c.rto_min_ms = t.uint("rto_min_ms", big)?.unwrap_or(c.rto_min_ms).max(1);
    c.rto_max_ms = t.uint("rto_max_ms", big)?.unwrap_or(c.rto_max_ms).max(1);
    c.syn_retries = t
        .uint("syn_retries", 1000)?
        .map_or(c.syn_retries, |v| v as u32);
    c.msl_ms = t.uint("msl_ms", big)?.unwrap_or(c.msl_ms);
    c.mss = match t.uint("mss", 65535)? {
        Some(0) => return Err(t.err("mss", "must be at least 1")),
        Some(v) => v as u32,
        None => c.mss,
    };
    c.rcv_wnd = t.uint("rcv_wnd", 65535)?.map_or(c.rcv_wnd, |v| v as u32);
    c.rfc5961 = t.boolean("rfc5961")?.unwrap_or(c.rfc5961);
    c.delayed_ack_ms = t.uint("delayed_ack_ms", big)?.unwrap_or(c.delayed_ack_ms);
    c.fin_ack_delay_ms = t
        .uint("fin_ack_delay_ms", big)?
        .unwrap_or(c.fin_ack_delay_ms);
    c.rst_on_close_with_unread = t
        .boolean("rst_on_close_with_unread")?
        .unwrap_or(c.rst_on_close_with_unread);
    c.backlog_extra = t
        .uint("backlog_extra", 1 << 20)?
        .map_or(c.backlog_extra, |v| v as u32);
    c.eaddrnotavail_for_tuple_in_use = t
        .boolean("eaddrnotavail_for_tuple_in_use")?
        .unwrap_or(c.eaddrnotavail_for_tuple_in_use);
    c.abort_rst_ack = t.boolean("abort_rst_ack")?.unwrap_or(c.abort_rst_ack);
    Ok(c)
}

fn parse_hosts(root: &Tab) -> R<Vec<HostSpec>> {
    let mut hosts: Vec<HostSpec> = Vec::new();
    for t in root.tables("host", "[[host]]")? {
        t.allow(&["name", "isn"])?;
        let name = t.required("name", t.string("name")?)?;
        if name.is_empty() || name.contains([':', '>', ' ']) {
            return Err(t.err(
                "name",
                format!("bad host name {name:?} (no ':', '>' or spaces)"),
            ));
        }
        if hosts.iter().any(|h| h.name == name) {
            return Err(t.err("name", format!("host {name:?} is defined twice")));
        }
        let mut isn = Vec::new();
        for (v, line) in t.array("isn")?.unwrap_or_default() {
            match v.as_integer() {
                Some(i) if (0..=u32::MAX as i64).contains(&i) => isn.push(i as u32),
                _ => return Err(t.cx.err(line, "isn", "expected integers in 0..=4294967295")),
            }
        }
        hosts.push(HostSpec { name, isn });
    }
    if hosts.is_empty() {
        return Err(root
            .cx
            .err(1, "host", "a scenario needs at least one [[host]]"));
    }
    Ok(hosts)
}

fn delay_pair(t: &Tab, k: &str) -> R<Option<(u64, u64)>> {
    let Some(a) = t.array(k)? else {
        return Ok(None);
    };
    let nums: Vec<i64> = a.iter().filter_map(|(v, _)| v.as_integer()).collect();
    match nums[..] {
        [lo, hi] if a.len() == 2 && 0 <= lo && lo <= hi && hi as u64 <= MAX_MS => {
            Ok(Some((lo as u64, hi as u64)))
        }
        _ => Err(t.err(
            k,
            format!("expected [min, max] integers with 0 <= min <= max <= {MAX_MS}"),
        )),
    }
}

fn parse_net(root: &Tab, hx: &Hosts) -> R<NetSpec> {
    let mut spec = NetSpec::default();
    let Some(t) = root.table("net", "[net]")? else {
        return Ok(spec);
    };
    t.allow(&[
        "delay_ms",
        "loss",
        "duplicate",
        "reorder",
        "link",
        "partition",
        "rule",
    ])?;
    let mut d = LinkParams::default();
    if let Some((a, b)) = delay_pair(&t, "delay_ms")? {
        d.delay_min = a;
        d.delay_max = b;
    }
    d.loss = t.prob("loss")?.unwrap_or(d.loss);
    d.duplicate = t.prob("duplicate")?.unwrap_or(d.duplicate);
    d.reorder = t.prob("reorder")?.unwrap_or(d.reorder);
    spec.default = d;
    for l in t.tables("link", "[[net.link]]")? {
        l.allow(&["from", "to", "delay_ms", "loss", "duplicate", "reorder"])?;
        spec.links.push(LinkOverride {
            from: hx.host_key(&l, "from")?,
            to: hx.host_key(&l, "to")?,
            delay: delay_pair(&l, "delay_ms")?,
            loss: l.prob("loss")?,
            duplicate: l.prob("duplicate")?,
            reorder: l.prob("reorder")?,
        });
    }
    for p in t.tables("partition", "[[net.partition]]")? {
        p.allow(&["hosts", "from_ms", "until_ms"])?;
        let names = p.required("hosts", p.strings("hosts")?)?;
        if names.len() != 2 {
            return Err(p.err("hosts", "expected two host names"));
        }
        let a = hx.id(&p, "hosts", &names[0].0)?;
        let b = hx.id(&p, "hosts", &names[1].0)?;
        let from_ms = p.uint("from_ms", MAX_MS)?.unwrap_or(0);
        let until_ms = p.uint("until_ms", MAX_MS)?;
        spec.partitions.push(Partition {
            a,
            b,
            from_ms,
            until_ms,
        });
    }
    for r in t.tables("rule", "[[net.rule]]")? {
        r.allow(&["from", "to", "nth", "action", "extra_ms"])?;
        let from = hx.host_key(&r, "from")?;
        let to = hx.host_key(&r, "to")?;
        let nth = r.required("nth", r.uint("nth", u64::MAX / 4)?)?;
        if nth == 0 {
            return Err(r.err("nth", "segments are counted from 1"));
        }
        let action = match r.required("action", r.string("action")?)?.as_str() {
            "drop" => RuleAction::Drop,
            "duplicate" => RuleAction::Duplicate(r.uint("extra_ms", MAX_MS)?.unwrap_or(0)),
            "delay" => RuleAction::Delay(r.required("extra_ms", r.uint("extra_ms", MAX_MS)?)?),
            other => {
                return Err(r.err(
                    "action",
                    format!("unknown action {other:?} (drop, duplicate, delay)"),
                ))
            }
        };
        if r.has("extra_ms") && action == RuleAction::Drop {
            return Err(r.err("extra_ms", "only for action = \"delay\" or \"duplicate\""));
        }
        spec.rules.push(Rule {
            from,
            to,
            nth,
            action,
        });
    }
    Ok(spec)
}

const COMMON: [&str; 5] = ["host", "call", "at_ms", "returns_at_ms", "expect_error"];

fn call_keys(call: &str) -> Option<&'static [&'static str]> {
    Some(match call {
        "listen" => &["sock", "port", "backlog"],
        "accept" => &["sock", "as"],
        "connect" => &["sock", "port", "to"],
        "send" => &["sock", "data", "bytes"],
        "recv" => &["sock", "bytes", "expect_data"],
        "shutdown" => &["sock", "how"],
        "close" | "abort" => &["sock"],
        "crash" => &[],
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Listener,
    Conn,
}

fn parse_steps(root: &Tab, hx: &Hosts) -> R<Vec<Step>> {
    let mut steps = Vec::new();
    let mut handles: BTreeMap<(HostId, String), Kind> = BTreeMap::new();
    for t in root.tables("step", "[[step]]")? {
        let host = hx.host_key(&t, "host")?;
        let call_name = t.required("call", t.string("call")?)?;
        let keys = call_keys(&call_name).ok_or_else(|| {
            t.err(
                "call",
                format!(
                    "unknown call {call_name:?} (listen, accept, connect, send, recv, shutdown, close, abort, crash)"
                ),
            )
        })?;
        let all = [
            "host",
            "call",
            "at_ms",
            "returns_at_ms",
            "expect_error",
            "sock",
            "port",
            "backlog",
            "as",
            "to",
            "data",
            "bytes",
            "expect_data",
            "how",
        ];
        for (k, _) in t.t.iter() {
            if !all.contains(&k) {
                return Err(t.err(
                    k,
                    format!("unknown key in [[step]] (allowed: {})", all.join(", ")),
                ));
            }
            if !COMMON.contains(&k) && !keys.contains(&k) {
                return Err(t.err(k, format!("does not apply to call {call_name:?}")));
            }
        }
        let sock = if call_name == "crash" {
            String::new()
        } else {
            t.required("sock", t.string("sock")?)?
        };
        let need = |kind: Kind| -> R<()> {
            match handles.get(&(host, sock.clone())) {
                Some(&k) if k == kind => Ok(()),
                Some(_) => Err(t.err(
                    "sock",
                    format!(
                        "handle {sock:?} is {} here",
                        if kind == Kind::Conn {
                            "a listener, not a connection"
                        } else {
                            "a connection, not a listener"
                        }
                    ),
                )),
                None => Err(t.err(
                    "sock",
                    format!("unknown handle {sock:?}: no earlier step of this host creates it"),
                )),
            }
        };
        let call = match call_name.as_str() {
            "listen" => {
                let port = t.required("port", t.port("port")?)?;
                let backlog = t.uint("backlog", 1 << 20)?.unwrap_or(128) as usize;
                handles.insert((host, sock.clone()), Kind::Listener);
                SockCall::Listen { port, backlog }
            }
            "accept" => {
                need(Kind::Listener)?;
                let as_ = t.required("as", t.string("as")?)?;
                handles.insert((host, as_.clone()), Kind::Conn);
                SockCall::Accept { as_ }
            }
            "connect" => {
                let to = t.required("to", t.string("to")?)?;
                let (h, p) = hx.endpoint(&t, "to", &to, true)?;
                handles.insert((host, sock.clone()), Kind::Conn);
                SockCall::Connect {
                    port: t.port("port")?,
                    to: (h, p.expect("port required")),
                }
            }
            "send" => {
                need(Kind::Conn)?;
                let data = match (t.string("data")?, t.uint("bytes", MAX_PAYLOAD_BYTES)?) {
                    (Some(_), Some(_)) => {
                        return Err(t.err("bytes", "give `data` or `bytes`, not both"))
                    }
                    (Some(s), None) => s.into_bytes(),
                    (None, Some(n)) => pattern(n as usize),
                    (None, None) => return Err(t.err("data", "missing in [[step]] (or `bytes`)")),
                };
                SockCall::Send(data)
            }
            "recv" => {
                need(Kind::Conn)?;
                SockCall::Recv(t.required("bytes", t.uint("bytes", MAX_PAYLOAD_BYTES)?)? as usize)
            }
            "shutdown" => {
                need(Kind::Conn)?;
                let how = match t.string("how")?.as_deref() {
                    None | Some("write") => How::Write,
                    Some("read") => How::Read,
                    Some("both") => How::Both,
                    Some(o) => {
                        return Err(t.err("how", format!("unknown {o:?} (write, read, both)")))
                    }
                };
                SockCall::Shutdown(how)
            }
            "close" => {
                if !handles.contains_key(&(host, sock.clone())) {
                    need(Kind::Conn)?;
                }
                SockCall::Close
            }
            "abort" => {
                need(Kind::Conn)?;
                SockCall::Abort
            }
            _ => {
                handles.retain(|(h, _), _| *h != host);
                SockCall::Crash
            }
        };
        let expect_error = match t.string("expect_error")? {
            None => None,
            Some(e) => Some(Errno::parse(&e).ok_or_else(|| {
                t.err(
                    "expect_error",
                    format!(
                        "unknown error {e:?} ({})",
                        Errno::ALL.map(|e| e.name()).join(", ")
                    ),
                )
            })?),
        };
        steps.push(Step {
            line: t.line,
            host,
            sock,
            call,
            expect_error,
            expect_data: t.string("expect_data")?.map(String::into_bytes),
            at_ms: t.uint("at_ms", MAX_MS)?,
            returns_at_ms: t.uint("returns_at_ms", MAX_MS)?,
        });
    }
    Ok(steps)
}

fn parse_injects(root: &Tab, hx: &Hosts) -> R<Vec<Inject>> {
    let mut out = Vec::new();
    for t in root.tables("inject", "[[inject]]")? {
        t.allow(&["at_ms", "from", "to", "flags", "seq", "ack", "data"])?;
        let at_ms = t.required("at_ms", t.uint("at_ms", MAX_MS)?)?;
        let from_s = t.required("from", t.string("from")?)?;
        let (from, fp) = hx.endpoint(&t, "from", &from_s, true)?;
        let to_s = t.required("to", t.string("to")?)?;
        let (to, tp) = hx.endpoint(&t, "to", &to_s, true)?;
        let fl = t.required("flags", t.string("flags")?)?;
        let flags = Flags::parse(&fl).ok_or_else(|| {
            t.err(
                "flags",
                format!("bad flags {fl:?}: letters from S F R P A, each once, in that order"),
            )
        })?;
        let seq = t.required("seq", t.uint("seq", u32::MAX as u64)?)? as u32;
        let ack = t.uint("ack", u32::MAX as u64)?.unwrap_or(0) as u32;
        let data = t.string("data")?.unwrap_or_default().into_bytes();
        out.push(Inject {
            line: t.line,
            at_ms,
            from,
            to,
            seg: Segment {
                src_port: fp.expect("port required"),
                dst_port: tp.expect("port required"),
                seq,
                ack,
                flags,
                wnd: 65535,
                data,
            },
        });
    }
    Ok(out)
}

fn state_list(t: &Tab, key: &str, items: &[(&Value, usize)]) -> R<Vec<StatePat>> {
    items
        .iter()
        .map(|(v, line)| {
            let s = v
                .as_str()
                .ok_or_else(|| t.cx.err(*line, key, "expected state strings"))?;
            StatePat::parse(s).ok_or_else(|| {
                t.cx.err(
                    *line,
                    key,
                    format!("unknown state {s:?} (RFC 9293 spelling, e.g. \"SYN-SENT\", optional \"@MS\")"),
                )
            })
        })
        .collect()
}

fn parse_expect(root: &Tab, hx: &Hosts, steps: &[Step]) -> R<Expect> {
    let mut ex = Expect::default();
    let Some(t) = root.table("expect", "[expect]")? else {
        return Ok(ex);
    };
    t.allow(&["wire", "socket", "conn"])?;
    if let Some(lines) = t.strings("wire")? {
        let mut pats = Vec::new();
        for (s, line) in lines {
            pats.push(parse_wire(&t, hx, &s, line)?);
        }
        ex.wire = Some(pats);
    }
    let mut known: BTreeSet<(HostId, String)> = BTreeSet::new();
    for s in steps {
        known.insert((s.host, s.sock.clone()));
        if let SockCall::Accept { as_ } = &s.call {
            known.insert((s.host, as_.clone()));
        }
    }
    for s in t.tables("socket", "[[expect.socket]]")? {
        s.allow(&["host", "sock", "states"])?;
        let host = hx.host_key(&s, "host")?;
        let sock = s.required("sock", s.string("sock")?)?;
        if !known.contains(&(host, sock.clone())) {
            return Err(s.err(
                "sock",
                format!("unknown handle {sock:?}: no step of this host creates it"),
            ));
        }
        let items = s.required("states", s.array("states")?)?;
        let states = state_list(&s, "states", &items)?;
        ex.sockets.push(SocketExpect {
            line: s.line,
            host,
            sock,
            states,
        });
    }
    for c in t.tables("conn", "[[expect.conn]]")? {
        c.allow(&["host", "local_port", "remote", "incarnations"])?;
        let host = hx.host_key(&c, "host")?;
        let local_port = c.required("local_port", c.port("local_port")?)?;
        let r = c.required("remote", c.string("remote")?)?;
        let (rh, rp) = hx.endpoint(&c, "remote", &r, true)?;
        let mut incarnations = Vec::new();
        for (v, line) in c.required("incarnations", c.array("incarnations")?)? {
            let arr = v.as_array().ok_or_else(|| {
                c.cx.err(line, "incarnations", "expected an array of state arrays")
            })?;
            let items: Vec<(&Value, usize)> = arr.iter().map(|x| (x, line)).collect();
            incarnations.push(state_list(&c, "incarnations", &items)?);
        }
        ex.conns.push(ConnExpect {
            line: c.line,
            host,
            local_port,
            remote: (rh, rp.expect("port required")),
            incarnations,
        });
    }
    Ok(ex)
}

/// `FROM[:PORT]>TO[:PORT] FLAGS seq=N [ack=N] [len=N] [at=MS]`.
fn parse_wire(t: &Tab, hx: &Hosts, s: &str, line: usize) -> R<WirePat> {
    let bad = |why: String| t.cx.err(line, "wire", format!("{why} in {s:?}"));
    let mut parts = s.split_whitespace();
    let ends = parts
        .next()
        .ok_or_else(|| bad("empty wire string".into()))?;
    let (f, to) = ends
        .split_once('>')
        .ok_or_else(|| bad("expected FROM>TO".into()))?;
    let ep = |x: &str| -> R<(HostId, Option<u16>)> {
        let (h, p) = match x.split_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| bad(format!("bad port {p:?}")))?,
                ),
            ),
            None => (x, None),
        };
        let id =
            hx.0.iter()
                .position(|hs| hs.name == h)
                .ok_or_else(|| bad(format!("unknown host {h:?}")))?;
        Ok((id, p))
    };
    let (from, from_port) = ep(f)?;
    let (to, to_port) = ep(to)?;
    let fl = parts.next().ok_or_else(|| bad("missing FLAGS".into()))?;
    let flags = Flags::parse(fl).ok_or_else(|| {
        bad(format!(
            "bad flags {fl:?}: letters from S F R P A, each once, in that order"
        ))
    })?;
    let mut fields: BTreeMap<&str, u64> = BTreeMap::new();
    for p in parts {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| bad(format!("expected key=N, found {p:?}")))?;
        if !["seq", "ack", "len", "at"].contains(&k) {
            return Err(bad(format!("unknown field {k:?} (seq, ack, len, at)")));
        }
        let n: u64 = v.parse().map_err(|_| bad(format!("bad number {v:?}")))?;
        if fields.insert(k, n).is_some() {
            return Err(bad(format!("{k} given twice")));
        }
    }
    let seq = *fields
        .get("seq")
        .ok_or_else(|| bad("missing seq=".into()))?;
    let ack = fields.get("ack").copied();
    if ack.is_some() != flags.has(Flags::ACK) {
        return Err(bad("ack= is written exactly when A is set".into()));
    }
    if seq > u32::MAX as u64 || ack.is_some_and(|a| a > u32::MAX as u64) {
        return Err(bad("sequence numbers are 32-bit".into()));
    }
    Ok(WirePat {
        text: s.to_string(),
        line,
        from,
        from_port,
        to,
        to_port,
        flags,
        seq: seq as u32,
        ack: ack.map(|a| a as u32),
        len: fields.get("len").copied().unwrap_or(0) as usize,
        at: fields.get("at").copied(),
    })
}
