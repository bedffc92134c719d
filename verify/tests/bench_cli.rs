//! `synclab bench` through the real binary on tiny counts (the hidden `--smoke`): it runs, every
//! ratio key is there with min ≤ median ≤ max, the SVG is written, bad `--rounds` exits 2 naming
//! the range. No timing is asserted: figures are measured by `synclab bench`, never in tests.

use std::process::Command;

fn synclab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .output()
        .expect("run synclab")
}

#[test]
fn bench_reports_every_ratio_and_writes_the_chart() {
    let svg = std::env::temp_dir().join(format!("synclab-bench-test-{}.svg", std::process::id()));
    let out = synclab(&[
        "bench",
        "--smoke",
        "--rounds",
        "1",
        "--json",
        "--svg",
        &svg.to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let mut keys = vec![
        "spsc_single_vs_rtrb_single",
        "spsc_threads_single_vs_rtrb_single",
        "spsc_batch_vs_rtrb_chunk",
        "rtt_vs_cacheline",
        "rtt_vs_two_lines",
        "two_lines_vs_cacheline",
        "sem_vs_glibc",
        "sem_ledger_vs_glibc",
        "sem_try_vs_glibc",
        "sem_try_ledger_vs_glibc",
        "sem_ledger_local_vs_glibc",
        "sem_try_ledger_local_vs_glibc",
        "mpmc_1x1_vs_arrayqueue",
        "mpmc_vs_arrayqueue",
        "mpmc_4x4_vs_arrayqueue",
        "frames_64b_vs_memcpy",
        "frames_1k_vs_memcpy",
        "frames_64k_vs_memcpy",
        "frames_64k_copying_vs_memcpy",
        "spsc_vs_pipe",
        "spsc_vs_unix_socket",
    ];
    let iceoryx2 = ["spsc_vs_iceoryx2", "rtt_vs_iceoryx2"];
    if cfg!(feature = "iceoryx2") {
        keys.extend(iceoryx2);
    } else {
        for k in iceoryx2 {
            assert!(
                v["not_built"][k]
                    .as_str()
                    .is_some_and(|s| s.contains("not built")),
                "{k}: {}",
                v["not_built"]
            );
        }
    }
    for k in keys {
        let r = &v["ratios"][k];
        let (min, med, max) = (
            r["min"].as_f64().unwrap_or(f64::NAN),
            r["median"].as_f64().unwrap_or(f64::NAN),
            r["max"].as_f64().unwrap_or(f64::NAN),
        );
        assert!(min > 0.0 && min <= med && med <= max, "{k}: {r}");
    }
    let chart = std::fs::read_to_string(&svg).expect("the SVG was written");
    let _ = std::fs::remove_file(&svg);
    assert!(chart.starts_with("<svg") && chart.contains("mpmc_vs_arrayqueue"));
}

#[test]
fn bench_rejects_rounds_out_of_range_with_exit_2() {
    for rounds in ["0", "101", "x"] {
        let out = synclab(&["bench", "--rounds", rounds]);
        assert_eq!(out.status.code(), Some(2), "--rounds {rounds}");
        if rounds != "x" {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("1..=100"), "{err}");
        }
    }
}

#[test]
fn bench_worker_roles_reject_bad_arguments_with_exit_2() {
    for args in [
        &["worker", "pipe-produce"][..],
        &["worker", "bench-mpmc-produce", "q", "g", "64", "10"],
        &["worker", "bench-frames-consume", "f", "8", "10"],
    ] {
        assert_eq!(synclab(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn bench_only_measures_what_the_named_ratio_needs() {
    let out = synclab(&[
        "bench",
        "--smoke",
        "--rounds",
        "1",
        "--json",
        "--only",
        "sem_vs_glibc",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let ratios = v["ratios"].as_object().expect("ratios");
    assert_eq!(ratios.keys().collect::<Vec<_>>(), ["sem_vs_glibc"]);
    let names: Vec<&str> = v["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.contains("glibc")), "{names:?}");
}

#[test]
fn bench_only_rejects_an_unknown_ratio_with_exit_2() {
    let out = synclab(&["bench", "--smoke", "--only", "spsc_vs_everything"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("\"spsc_vs_everything\"") && stdout.contains("sem_vs_glibc"),
        "{stdout}"
    );
}
