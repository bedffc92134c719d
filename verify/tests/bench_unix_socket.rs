//! The Unix-socket peer of `synclab bench` on small counts through the real binary (its hidden
//! worker roles): records arrive checked, echoes come back, bad arguments exit 2. No timing
//! assertions.

use std::process::Command;
use synclab_verify::bench::unix_socket;
use synclab_verify::procs::WorkerExe;

fn exe() -> WorkerExe {
    WorkerExe::synclab_at(env!("CARGO_BIN_EXE_synclab"))
}

fn worker(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .arg("worker")
        .args(args)
        .output()
        .expect("run synclab worker");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn socket_throughput_moves_every_record_checked() {
    let rate = unix_socket::throughput(&exe(), 5_000).expect("every record, in order, intact");
    assert!(rate.is_finite() && rate > 0.0, "{rate}");
}

#[test]
fn socket_round_trips_are_echoed() {
    let samples = unix_socket::round_trips(&exe(), 200).expect("every echo matches");
    assert_eq!(samples.len(), 200);
}

#[test]
fn socket_roles_reject_bad_arguments_with_exit_2() {
    for args in [
        &["socket-produce"][..],
        &["socket-produce", "/tmp/x"],
        &["socket-produce", "/tmp/x", "many"],
        &["echo-socket", "/tmp/x", "-1"],
        &["echo-socket"],
    ] {
        assert_eq!(worker(args).0, 2, "{args:?}");
    }
}

#[test]
fn socket_roles_report_a_failed_connect() {
    let missing = std::env::temp_dir().join(format!("synclab-no-such-{}", std::process::id()));
    let path = missing.to_string_lossy();
    for role in ["socket-produce", "echo-socket"] {
        let (code, stdout) = worker(&[role, &path, "10"]);
        assert_eq!(code, 1, "{role}: {stdout}");
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
        assert_eq!(v["ok"], false, "{role}: {v}");
    }
}
