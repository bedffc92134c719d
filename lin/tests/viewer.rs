//! The HTML viewer: the page's structure (a bar per operation, the witness marked, faults and
//! unknown outcomes drawn, nothing fetched, text escaped), and, where `/usr/bin/chromium`
//! exists, the page in a real headless browser: its self-test hovers the first witness bar and
//! records whether the tooltip appeared; a screenshot is taken.

use std::path::{Path, PathBuf};
use std::process::Command;
use synclab_lin::{check, explain, html, parse_history, CheckOptions, History, Verdict};

/// A queue history with a reordering, a SIGSTOP, a SIGKILL and a dequeue that never returned.
const HISTORY: &str = r#"{"synclab_history":1,"model":"queue","faults":[{"process":2,"signal":"SIGSTOP","at_ns":1500,"until_ns":2300},{"process":3,"signal":"SIGKILL","at_ns":2650}]}
{"process":0,"op":"enqueue","value":1,"ok":true,"invoke_ns":1000,"return_ns":1400}
{"process":1,"op":"enqueue","value":2,"ok":true,"invoke_ns":1100,"return_ns":1600}
{"process":2,"op":"dequeue","value":1,"ok":true,"invoke_ns":1450,"return_ns":2400}
{"process":0,"op":"enqueue","value":3,"ok":true,"invoke_ns":1700,"return_ns":1900}
{"process":1,"op":"dequeue","value":3,"ok":true,"invoke_ns":2000,"return_ns":2200}
{"process":3,"op":"dequeue","value":null,"ok":null,"invoke_ns":2500,"return_ns":null}
{"process":0,"op":"dequeue","value":2,"ok":true,"invoke_ns":2600,"return_ns":2900}
{"process":1,"op":"enqueue","value":4,"ok":null,"invoke_ns":2700,"return_ns":3100}
{"process":2,"op":"dequeue","value":null,"ok":true,"invoke_ns":3200,"return_ns":3300}
"#;

fn page(h: &History) -> (String, usize) {
    let report = check(h, &CheckOptions::default());
    let parts = explain(h, None);
    (
        html::render(h, &report, &parts, "viewer test <&>"),
        report.witness.len(),
    )
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The class attribute of every operation's bar (the legend's samples have no `data-op`).
fn bars(page: &str) -> Vec<&str> {
    page.split("<rect class=\"")
        .skip(1)
        .filter_map(|r| r.split_once("\" data-op=").map(|(class, _)| class))
        .collect()
}

#[test]
fn page_has_a_bar_per_op_the_witness_and_the_marks() {
    let h = parse_history(HISTORY).unwrap();
    assert_eq!(
        check(&h, &CheckOptions::default()).verdict,
        Verdict::NotLinearizable
    );
    let (page, witness) = page(&h);
    assert_eq!(witness, 4);
    let bars = bars(&page);
    assert_eq!(bars.len(), h.ops.len());
    let with = |c: &str| bars.iter().filter(|b| b.split(' ').any(|x| x == c)).count();
    assert_eq!(with("witness"), witness);
    assert_eq!(with("pending"), 1);
    assert_eq!(with("unknown"), 1);
    assert_eq!(with("lin"), 4, "the longest linearizable prefix");
    assert_eq!(
        count(&page, "<rect class=\"fault-stop\" x="),
        2,
        "legend + p2"
    );
    assert_eq!(count(&page, "<text class=\"fault-kill\""), 1);
    assert!(page.contains("viewer test &lt;&amp;&gt;"), "title escaped");
    assert!(page.contains("longest linearizable prefix found is numbered (4 of 9"));
    assert!(!page.contains("http:") && !page.contains("https:") && !page.contains(" src="));
}

#[test]
fn script_text_cannot_close_the_data_element() {
    let text = "{\"synclab_history\":1,\"model\":\"kv\"}\n\
                {\"process\":0,\"op\":\"put\",\"key\":\"</script><b>\",\"value\":\"</script>\",\"ok\":true,\"invoke_ns\":0,\"return_ns\":1}\n";
    let h = parse_history(text).unwrap();
    let (page, _) = page(&h);
    assert_eq!(
        count(&page, "</script>"),
        2,
        "only the two real script ends"
    );
    assert!(page.contains("&lt;/script&gt;&lt;b&gt;"));
}

#[test]
fn linearizable_page_numbers_every_step() {
    let h = parse_history(
        &HISTORY
            .replace(
                "\"dequeue\",\"value\":3,\"ok\":true",
                "\"dequeue\",\"value\":2,\"ok\":true",
            )
            .replace(
                "\"dequeue\",\"value\":2,\"ok\":true,\"invoke_ns\":2600",
                "\"dequeue\",\"value\":3,\"ok\":true,\"invoke_ns\":2600",
            ),
    )
    .unwrap();
    let (page, witness) = page(&h);
    assert_eq!(witness, 0);
    assert!(page.contains("linearizable — the linearization found is numbered"));
    assert!(!bars(&page).iter().any(|b| b.contains("witness")));
    assert!(
        count(&page, "<text class=\"step\"") >= 7,
        "completed ops all numbered"
    );
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(profile: &Path, args: &[&str], url: &str) -> std::process::Output {
    Command::new("timeout")
        .arg("120")
        .arg(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[test]
fn browser_shows_bars_witness_and_tooltip() {
    if !Path::new(CHROMIUM).exists() {
        println!(
            "SKIPPED browser_shows_bars_witness_and_tooltip: {CHROMIUM} not found \
             (`apt-get install chromium`; .ci/run installs it where it can)"
        );
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer-browser");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let h = parse_history(HISTORY).unwrap();
    let (page, witness) = page(&h);
    let file = dir.join("viewer.html");
    std::fs::write(&file, page).unwrap();
    let url = format!("file://{}#selftest", file.display());

    let out = chromium(&dir.join("profile-dom"), &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    let marker = dom
        .lines()
        .find(|l| l.contains("id=\"selftest-result\""))
        .unwrap_or_else(|| {
            panic!(
                "no self-test marker in the DOM (status {:?}); stderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    println!("{marker}");
    assert!(
        marker.contains(&format!("bars={} ", h.ops.len())),
        "{marker}"
    );
    assert!(marker.contains(&format!("witness={witness} ")), "{marker}");
    assert!(marker.contains("tooltip=visible"), "{marker}");
    assert!(
        marker.contains("in the witness of the violation"),
        "{marker}"
    );
    assert!(
        marker.contains("state "),
        "the tooltip shows the model state: {marker}"
    );

    let shot = dir.join("viewer.png");
    let out = chromium(
        &dir.join("profile-shot"),
        &[
            "--hide-scrollbars",
            "--window-size=1100,500",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    println!("screenshot: {} ({} bytes)", shot.display(), png.len());
}
