//! `synclab clean` end to end: a region whose recorded creator is dead and that nobody has open
//! is listed by `--dry-run` and removed by the real run; exit codes and the JSON shape.

use std::process::Command;
use synclab_core::{ShmName, Spsc};

fn synclab(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_synclab"))
        .args(args)
        .output()
        .expect("run synclab");
    let json = serde_json::from_slice(&out.stdout).expect("one JSON object");
    (out.status.code().unwrap_or(-1), json)
}

fn listed(json: &serde_json::Value, key: &str, name: &ShmName) -> bool {
    json[key]
        .as_array()
        .expect("array")
        .iter()
        .any(|r| r["name"] == name.as_str())
}

#[test]
fn clean_removes_a_region_of_a_dead_creator() {
    // A dead pid: a child that has exited and been reaped.
    let mut child = Command::new("true").spawn().expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("reap");
    let name = ShmName::unique("cleancli");
    let ring = Spsc::<u64>::builder().capacity(2).create(&name).unwrap();
    ring.persist();
    let fd = ring.region().unwrap().fd().unwrap();
    // Forge the creator: header bytes 72..76 are its pid.
    nix::sys::uio::pwrite(fd, &dead_pid.to_le_bytes(), 72).unwrap();
    drop(ring);

    let (code, dry) = synclab(&["clean", "--dry-run", "--json"]);
    assert_eq!(code, 0, "{dry}");
    assert!(listed(&dry, "removed", &name), "{dry}");
    assert!(std::path::Path::new(&format!("/dev/shm{name}")).exists());

    let (code, done) = synclab(&["clean", "--json"]);
    assert_eq!(code, 0, "{done}");
    assert!(listed(&done, "removed", &name), "{done}");
    assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
}
