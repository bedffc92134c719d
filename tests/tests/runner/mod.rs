//! The runner of the `harness = false` test binaries (they re-execute themselves as worker
//! processes, which the libtest harness's threads would make unsafe to fork from): runs the named
//! tests in order, prints libtest-style lines, and supports `--list` and a name filter, so
//! `cargo test -- --list` and `cargo test NAME` work as for ordinary tests.

use std::process::ExitCode;

/// A test: `Err` says what failed.
pub type TestFn = fn() -> Result<(), String>;

/// Runs `tests` as the command line asks; SUCCESS only if none failed.
pub fn run(tests: &[(&str, TestFn)]) -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filter: Option<&String> = args.iter().skip(1).find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match test() {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
