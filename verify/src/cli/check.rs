//! `synclab check FILE`: is a recorded history (HISTORY.md) linearizable?
//!
//! Exit 0 linearizable, 1 not (with a witness), 2 bad file (the error names the line and the
//! field), 3 gave up at `--timeout`. With `--json`, one object: `ok`, `linearizable`
//! (true/false/null), `ops`, `seconds`, and when not linearizable `witness`: the operations as they
//! appear in the file, each with its line number. `--html OUT` also writes the viewer: one
//! self-contained page drawing the history, the linearization (or the longest linearizable
//! prefix) and the witness (`synclab_lin::html`).

use super::input;
use super::output::{bad_input, Exit, Outcome};
use crate::lin::foreign::{detect, parse_any, Format};
use crate::lin::{
    check, explain, html, parse_history_reader, CheckOptions, CheckReport, History, Op, Verdict,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Options of `synclab check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The history file: HISTORY.md JSON Lines, Jepsen EDN, a jepsen.util log or a porcupine
    /// kv log (detected from the content; see --format).
    pub file: PathBuf,
    /// The file's format, instead of detecting it from the content.
    #[arg(long, value_parser = ["synclab", "edn", "jepsen-log"])]
    pub format: Option<String>,
    /// Give up after this many seconds, 0 < SECONDS <= 86400 (exit 3, `linearizable: null`).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the viewer: one self-contained HTML page (no network) drawing the history,
    /// the linearization or the longest linearizable prefix, and the witness.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}

/// How long the viewer's search for a linearization to draw may take when `--timeout` is not
/// given.
const VIEWER_BUDGET: Duration = Duration::from_secs(30);

/// Largest `--timeout` (one day).
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Runs `synclab check`.
pub fn run(args: CheckArgs) -> Exit {
    let shown = args.file.display().to_string();
    let timeout = match args.timeout {
        Some(t) if !(t.is_finite() && t > 0.0 && t <= MAX_TIMEOUT_SECS) => {
            return bad_input(
                args.json,
                format!(
                "--timeout {t}: give a number of seconds with 0 < SECONDS <= {MAX_TIMEOUT_SECS}"
            ),
            )
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    if let Some(out) = &args.html {
        if same_file(&args.file, out) {
            return bad_input(
                args.json,
                format!(
                    "--html {} is the input file itself: refusing to overwrite the history",
                    out.display()
                ),
            );
        }
    }
    let format = args.format.as_deref().and_then(Format::from_name);
    let (history, format) = match load(&shown, format) {
        Ok(h) => h,
        Err(e) => return bad_input(args.json, e),
    };
    let start = Instant::now();
    let opts = CheckOptions {
        deadline: timeout.map(|t| start + t),
        ..CheckOptions::default()
    };
    let report = with_spinner(!args.json, || check(&history, &opts));
    let seconds = start.elapsed().as_secs_f64();
    let lines = witness_lines(&args.file, &history, &report);
    let mut out = outcome(&shown, &history, &report, seconds, &lines);
    if format != Format::Synclab {
        out.json["format"] = json!(format.name());
    }
    if let Some(path) = &args.html {
        let deadline = Instant::now() + timeout.unwrap_or(VIEWER_BUDGET);
        let parts = with_spinner(!args.json, || explain(&history, Some(deadline)));
        let page = html::render(&history, &report, &parts, &shown);
        if let Err(e) = std::fs::write(path, page) {
            return bad_input(args.json, format!("cannot write {}: {e}", path.display()));
        }
        out.json["html"] = json!(path.display().to_string());
        out.text
            .push_str(&format!("viewer written to {}\n", path.display()));
    }
    out.emit(args.json)
}

/// Reads and parses the history at `path`. A synclab history in a regular file is parsed as it
/// is read, one line at a time, so that only the operations stay in memory (not also the text,
/// which for 10 million operations is another gigabyte); stdin and the other formats are read
/// whole first. Every path goes through the same checks (regular file or `-`, at most
/// [`input::MAX_HISTORY_BYTES`]).
fn load(path: &str, format: Option<Format>) -> Result<(History, Format), String> {
    let streamable = path != "-"
        && std::fs::metadata(path)
            .is_ok_and(|m| m.is_file() && m.len() <= input::MAX_HISTORY_BYTES);
    if !streamable {
        // refuses what is not a regular file or too large, with the reason; reads stdin
        let text = input::read_text(path, input::MAX_HISTORY_BYTES, "history")?;
        return parse_any(&text, format).map_err(|e| format!("{path}: {e}"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("history {path}: {e}"))?;
    let mut reader = BufReader::with_capacity(1 << 20, file.take(input::MAX_HISTORY_BYTES));
    let prefix = reader
        .fill_buf()
        .map_err(|e| format!("history {path}: cannot read: {e}"))?;
    let format = format.or_else(|| detect(&String::from_utf8_lossy(prefix)));
    if format == Some(Format::Synclab) {
        let history = parse_history_reader(reader).map_err(|e| format!("{path}: {e}"))?;
        return Ok((history, Format::Synclab));
    }
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("history {path}: cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "history {path}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    parse_any(&text, format).map_err(|e| format!("{path}: {e}"))
}

/// The file's lines that hold the witness's operations, by line number (empty when there is no
/// witness, or the file cannot be read again).
fn witness_lines(file: &Path, history: &History, report: &CheckReport) -> HashMap<usize, String> {
    let wanted: HashSet<usize> = report
        .witness
        .iter()
        .map(|&i| history.ops[i].line)
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    let Ok(file) = std::fs::File::open(file) else {
        return HashMap::new();
    };
    // line by line: the file may be a gigabyte, the witness a handful of lines
    let last = wanted.iter().copied().max().unwrap_or(0);
    BufReader::new(file)
        .split(b'\n')
        .take(last)
        .enumerate()
        .filter(|(i, _)| wanted.contains(&(i + 1)))
        .filter_map(|(i, l)| {
            let l = String::from_utf8(l.ok()?).ok()?;
            Some((i + 1, l.strip_suffix('\r').unwrap_or(&l).to_string()))
        })
        .collect()
}

/// Whether `a` and `b` name the same file (`b` may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    a == b || matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Runs `f`, showing a spinner on stderr if it takes longer than 2 s and stderr is a terminal.
fn with_spinner<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    if !enabled || !std::io::stderr().is_terminal() {
        return f();
    }
    let (done, wait) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            if wait.recv_timeout(Duration::from_secs(2)).is_ok() {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("checking linearizability…");
            bar.enable_steady_tick(Duration::from_millis(120));
            let _ = wait.recv();
            bar.finish_and_clear();
        });
        let out = f();
        let _ = done.send(());
        out
    })
}

fn outcome(
    file: &str,
    history: &History,
    report: &CheckReport,
    seconds: f64,
    lines: &HashMap<usize, String>,
) -> Outcome {
    let n = history.ops.len();
    let model = history.header.model.name();
    let (linearizable, exit, word) = match report.verdict {
        Verdict::Linearizable => (json!(true), Exit::Ok, "linearizable"),
        Verdict::NotLinearizable => (json!(false), Exit::CheckFailed, "NOT linearizable"),
        Verdict::Unknown => (
            serde_json::Value::Null,
            Exit::GaveUp,
            "unknown: gave up at the time limit",
        ),
    };
    let mut obj = json!({
        "ok": report.verdict == Verdict::Linearizable,
        "linearizable": linearizable,
        "ops": n,
        "seconds": seconds,
        "model": model,
        "checker": report.checker,
        "stats": {
            "partitions": report.stats.partitions,
            "search_states": report.stats.search.states,
            "search_steps": report.stats.search.steps,
            "search_backtracks": report.stats.search.backtracks,
        },
    });
    let mut text = format!(
        "{file}: {word} ({model}, {n} operations, {seconds:.3} s, {} checker)\n",
        report.checker
    );
    if let Some(why) = &report.fallback_reason {
        obj["fast_checker_skipped"] = json!(why);
    }
    if report.verdict == Verdict::NotLinearizable {
        if let Some(what) = &report.violation {
            obj["violation"] = json!(what);
            text.push_str(&format!("violation: {what}\n"));
        }
        let witness: Vec<&Op> = report.witness.iter().map(|&i| &history.ops[i]).collect();
        obj["witness"] = witness
            .iter()
            .map(|op| {
                let original = lines
                    .get(&op.line)
                    .and_then(|l| serde_json::from_str(l).ok())
                    .unwrap_or_else(|| op.to_json());
                json!({"line": op.line, "op": original})
            })
            .collect();
        obj["witness_minimal"] = json!(report.witness_minimal);
        text.push_str(&format!(
            "witness: these {} operations admit no linearization{}:\n",
            witness.len(),
            if report.witness_minimal {
                " (none can be dropped)"
            } else {
                " (not fully minimized)"
            }
        ));
        text.push_str(&timeline(&witness));
    }
    Outcome {
        json: obj,
        text,
        exit,
    }
}

/// The witness as a small timeline: one row per operation, a bar from invoke to return on a
/// compressed time axis (only the order of instants matters).
pub fn timeline(ops: &[&Op]) -> String {
    let mut points: Vec<i64> = ops
        .iter()
        .flat_map(|op| std::iter::once(op.invoke_ns).chain(op.return_ns))
        .collect();
    points.sort_unstable();
    points.dedup();
    let step = if points.len() > 24 { 2 } else { 4 };
    let col = |t: i64| points.partition_point(|&p| p < t) * step;
    let width = points.len() * step + 4;
    let mut out = String::new();
    for op in ops {
        let a = col(op.invoke_ns);
        let mut row = vec![' '; width];
        match op.return_ns {
            Some(r) => {
                let b = col(r);
                for c in row.iter_mut().take(b).skip(a) {
                    *c = '-';
                }
                row[a] = '|';
                row[b] = '|';
            }
            None => {
                for c in row.iter_mut().skip(a) {
                    *c = '-';
                }
                row[a] = '|';
                row[width - 1] = '>';
            }
        }
        let bar: String = row.into_iter().collect();
        let ret = op
            .return_ns
            .map_or_else(|| "never".to_string(), |r| r.to_string());
        out.push_str(&format!(
            "  line {:>5}  p{:<3} {bar}  {}  [{} .. {ret}]\n",
            op.line,
            op.process,
            op.describe(),
            op.invoke_ns
        ));
    }
    out
}
