//! Drawing one partition of a history as an SVG timeline: a row per process, a bar per
//! operation on an axis of event order (each distinct call, return or fault instant is one
//! column, so short and long operations stay readable; the tooltips give the real times).

use super::{esc, Fault};
use crate::{History, Op, PartitionExplanation, SearchResult};
use std::collections::HashMap;

const LEFT: f64 = 70.0;
const TOP: f64 = 28.0;
const ROW: f64 = 36.0;
const BAR: f64 = 18.0;
/// Above this many steps the step numbers and the linearization line are left out.
const MAX_ANNOTATED_STEPS: usize = 400;

/// The CSS class and the word for how an operation ended.
pub fn status(op: &Op) -> (&'static str, &'static str) {
    match (op.ok, op.return_ns) {
        (_, None) => ("pending", "never returned (crashed or timed out)"),
        (None, Some(_)) => ("unknown", "returned, outcome unknown"),
        (Some(false), _) => ("refused", "refused / failed"),
        (Some(true), _) => ("ok", "completed"),
    }
}

/// The legend shown once above the partitions.
pub fn legend() -> String {
    let item = |class: &str, text: &str| {
        format!(
            "<span class=\"key\"><svg width=\"26\" height=\"14\"><rect class=\"{class}\" x=\"1\" \
             y=\"1\" width=\"24\" height=\"12\" rx=\"3\"/></svg>{text}</span>"
        )
    };
    format!(
        "<p class=\"legend\">{}{}{}{}{}{}<span class=\"key\"><b class=\"kill\">✕</b>SIGKILL</span>\
         <span class=\"key\"><svg width=\"26\" height=\"14\"><rect class=\"fault-stop\" x=\"1\" \
         y=\"1\" width=\"24\" height=\"12\"/></svg>SIGSTOP</span> · numbers: linearization \
         order · hover a bar for details</p>\n",
        item("bar ok lin", "linearized"),
        item("bar ok out", "not in the (longest) linearization"),
        item("bar ok lin witness", "witness of the violation"),
        item("bar refused lin", "refused"),
        item("bar unknown lin", "outcome unknown"),
        item("bar pending out", "never returned"),
    )
}

/// Event-order axis: the sorted distinct instants, and the column width.
struct Axis {
    points: Vec<i64>,
    col: f64,
}

impl Axis {
    fn new(mut points: Vec<i64>) -> Axis {
        points.sort_unstable();
        points.dedup();
        let col = (1500.0 / points.len().max(1) as f64).clamp(6.0, 48.0);
        Axis { points, col }
    }

    fn x(&self, t: i64) -> f64 {
        LEFT + self.points.partition_point(|&p| p < t) as f64 * self.col
    }

    /// Where bars of operations that never returned end.
    fn end(&self) -> f64 {
        LEFT + (self.points.len() as f64 + 1.0) * self.col
    }
}

/// One partition: a heading and its SVG.
pub fn partition(
    history: &History,
    part: &PartitionExplanation,
    drawn: &[bool],
    witness: &[usize],
    faults: &[Fault],
) -> String {
    let ops = &history.ops;
    let mine: Vec<usize> = part.ops.iter().copied().filter(|&i| drawn[i]).collect();
    let mut procs: Vec<u64> = mine.iter().map(|&i| ops[i].process).collect();
    procs.sort_unstable();
    procs.dedup();
    let row_of: HashMap<u64, usize> = procs.iter().enumerate().map(|(r, &p)| (p, r)).collect();
    let faults: Vec<&Fault> = faults
        .iter()
        .filter(|f| row_of.contains_key(&f.process))
        .collect();
    let points = mine
        .iter()
        .flat_map(|&i| std::iter::once(ops[i].invoke_ns).chain(ops[i].return_ns))
        .chain(
            faults
                .iter()
                .flat_map(|f| std::iter::once(f.at_ns).chain(f.until_ns)),
        )
        .collect();
    let axis = Axis::new(points);
    let width = axis.end() + 40.0;
    let height = TOP + procs.len() as f64 * ROW + 30.0;
    let mut step_no: HashMap<usize, (usize, bool)> = HashMap::new();
    for (k, st) in part.steps.iter().enumerate() {
        step_no.insert(st.op, (k + 1, st.effect));
    }
    let y = |p: u64| TOP + row_of[&p] as f64 * ROW;
    let mut s = String::new();
    s.push_str(&heading(part, mine.len()));
    s.push_str(&format!(
        "<div class=\"scroll\"><svg class=\"timeline\" width=\"{width:.0}\" height=\"{height:.0}\">\n"
    ));
    for &p in &procs {
        s.push_str(&format!(
            "<text class=\"proc\" x=\"8\" y=\"{:.1}\">p{p}</text><line class=\"lane\" x1=\"{LEFT}\" \
             y1=\"{:.1}\" x2=\"{width:.0}\" y2=\"{:.1}\"/>\n",
            y(p) + BAR * 0.75,
            y(p) + BAR / 2.0,
            y(p) + BAR / 2.0
        ));
    }
    for f in faults.iter().filter(|f| is_stop(f)) {
        s.push_str(&fault_mark(f, &axis, y(f.process)));
    }
    for &i in &mine {
        s.push_str(&bar(
            i,
            &ops[i],
            &axis,
            y(ops[i].process),
            &step_no,
            witness,
        ));
    }
    for f in faults.iter().filter(|f| !is_stop(f)) {
        s.push_str(&fault_mark(f, &axis, y(f.process)));
    }
    if part.steps.len() <= MAX_ANNOTATED_STEPS {
        s.push_str(&order_line(part, ops, drawn, &axis, &y));
    }
    s.push_str(&ticks(&axis, height - 12.0));
    s.push_str("</svg></div>\n");
    s
}

fn heading(part: &PartitionExplanation, drawn: usize) -> String {
    let n = part.ops.len();
    let k = part.steps.len();
    let what = match part.result {
        SearchResult::Linearizable => {
            format!("linearizable — the linearization found is numbered ({k} steps)")
        }
        SearchResult::NotLinearizable { .. } => format!(
            "NOT linearizable — the longest linearizable prefix found is numbered ({k} of {n} \
             operations); grey bars could not be added to it"
        ),
        SearchResult::GaveUp => format!(
            "gave up at the time limit — the longest partial linearization found is numbered \
             ({k} of {n} operations)"
        ),
    };
    let class = match part.result {
        SearchResult::Linearizable => "ok",
        SearchResult::NotLinearizable { .. } => "bad",
        SearchResult::GaveUp => "unknown",
    };
    let hidden = if drawn < n {
        format!(" ({} not drawn)", n - drawn)
    } else {
        String::new()
    };
    format!(
        "<h2 class=\"part {class}\">{} <small>· {n} operations{hidden} · {what}</small></h2>\n",
        esc(&part.label)
    )
}

fn bar(
    i: usize,
    op: &Op,
    axis: &Axis,
    y: f64,
    step_no: &HashMap<usize, (usize, bool)>,
    witness: &[usize],
) -> String {
    let x0 = axis.x(op.invoke_ns);
    let x1 = op.return_ns.map_or(axis.end(), |r| axis.x(r).max(x0 + 4.0));
    let (status, _) = status(op);
    let mut class = format!("bar {status}");
    class.push_str(match step_no.get(&i) {
        Some((_, true)) => " lin",
        Some((_, false)) => " lin noeffect",
        None => " out",
    });
    if witness.contains(&i) {
        class.push_str(" witness");
    }
    let mut s = format!(
        "<g class=\"op\"><rect class=\"{class}\" data-op=\"{i}\" x=\"{x0:.1}\" y=\"{y:.1}\" \
         width=\"{:.1}\" height=\"{BAR}\" rx=\"3\"/>",
        x1 - x0
    );
    let label = op.describe();
    if x1 - x0 > 60.0 {
        s.push_str(&format!(
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x0 + 4.0,
            y + BAR * 0.72,
            esc(&shorten(&label, ((x1 - x0) / 6.5) as usize))
        ));
    }
    match status {
        "pending" => s.push_str(&format!(
            "<text class=\"mark\" x=\"{:.1}\" y=\"{:.1}\">→</text>",
            x1 + 3.0,
            y + BAR * 0.72
        )),
        "unknown" => s.push_str(&format!(
            "<text class=\"mark\" x=\"{:.1}\" y=\"{:.1}\">?</text>",
            x1 + 3.0,
            y + BAR * 0.72
        )),
        _ => {}
    }
    s.push_str("</g>\n");
    s
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The numbers of the linearization steps and a line through them in order.
fn order_line(
    part: &PartitionExplanation,
    ops: &[Op],
    drawn: &[bool],
    axis: &Axis,
    y: &dyn Fn(u64) -> f64,
) -> String {
    let mut s = String::new();
    let mut path = Vec::new();
    for (k, st) in part.steps.iter().enumerate() {
        if !drawn[st.op] {
            continue;
        }
        let op = &ops[st.op];
        let x0 = axis.x(op.invoke_ns);
        let x1 = op.return_ns.map_or(axis.end(), |r| axis.x(r).max(x0 + 4.0));
        let (cx, cy) = ((x0 + x1) / 2.0, y(op.process) - 3.0);
        path.push(format!("{cx:.1},{:.1}", cy + BAR / 2.0 + 3.0));
        s.push_str(&format!(
            "<text class=\"step\" x=\"{cx:.1}\" y=\"{cy:.1}\">{}</text>\n",
            k + 1
        ));
    }
    if path.len() > 1 {
        s.insert_str(
            0,
            &format!(
                "<polyline class=\"order\" points=\"{}\"/>\n",
                path.join(" ")
            ),
        );
    }
    s
}

fn is_stop(f: &Fault) -> bool {
    f.signal.eq_ignore_ascii_case("SIGSTOP")
}

fn fault_mark(f: &Fault, axis: &Axis, y: f64) -> String {
    let x = axis.x(f.at_ns);
    let title = format!(
        "{} to p{} at {} ns{}",
        f.signal,
        f.process,
        f.at_ns,
        f.until_ns
            .map_or_else(String::new, |u| format!(", continued at {u} ns"))
    );
    if is_stop(f) {
        let x1 = f.until_ns.map_or(axis.end(), |u| axis.x(u).max(x + 3.0));
        format!(
            "<rect class=\"fault-stop\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
             <title>{}</title></rect>\n",
            y - 6.0,
            x1 - x,
            BAR + 12.0,
            esc(&title)
        )
    } else {
        format!(
            "<text class=\"fault-kill\" x=\"{:.1}\" y=\"{:.1}\">✕<title>{}</title></text>\n",
            x - 5.0,
            y + BAR * 0.8,
            esc(&title)
        )
    }
}

/// The axis: a few instants labelled with their time relative to the first.
fn ticks(axis: &Axis, y: f64) -> String {
    let Some(&t0) = axis.points.first() else {
        return String::new();
    };
    let every = ((70.0 / axis.col).ceil() as usize).max(1);
    let mut s = format!(
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>\n",
        y - 10.0,
        axis.end(),
        y - 10.0
    );
    for (k, &t) in axis.points.iter().enumerate().step_by(every) {
        s.push_str(&format!(
            "<text class=\"tick\" x=\"{:.1}\" y=\"{y:.1}\">+{}</text>\n",
            LEFT + k as f64 * axis.col,
            human_ns(t - t0)
        ));
    }
    s
}

fn human_ns(ns: i64) -> String {
    match ns {
        n if n < 10_000 => format!("{n}ns"),
        n if n < 10_000_000 => format!("{:.1}µs", n as f64 / 1e3),
        n if n < 10_000_000_000 => format!("{:.1}ms", n as f64 / 1e6),
        n => format!("{:.1}s", n as f64 / 1e9),
    }
}
