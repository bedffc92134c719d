//! Exploration floors: the fewest loom executions each registered model may explore at its
//! default bound. A refactor of a model or of the algorithm that silently collapses exploration
//! (an actor moved to the main thread, loom issue #392; a loop that no longer yields; a bound
//! mistyped) then fails `cargo test` instead of passing on a handful of interleavings.
//!
//! Each floor is half of the count measured when it was set (loom 0.7.3, the counts in the
//! comments), so a change that removes atomic operations may lower a count somewhat; a change
//! that halves a model's exploration must lower its floor here, on purpose, with its reason.
//! [`crate::models::ModelSpec::assert_passes`] checks the floor of every model it runs;
//! `verify/tests/exploration_floors.rs` checks the table covers every model in
//! [`crate::models::MODELS`] and that a collapsed exploration is refused.

/// (model name, floor). Measured counts at the default bound in the comments.
pub const FLOORS: &[(&str, u64)] = &[
    ("spsc", 5_900),                          // 11,911
    ("spsc-batch", 85),                       // 171
    ("spsc-spin", 5_400),                     // 10,802
    ("spsc-takeover", 46),                    // 92
    ("mpmc", 41_600),                         // 83,323
    ("mpmc-consumers", 19_200),               // 38,540
    ("mpmc-batch", 6_500),                    // 13,129
    ("frames", 7_400),                        // 14,951
    ("eventcount", 1_300),                    // 2,625
    ("eventcount-rounds", 980),               // 1,973
    ("semaphore", 69_000),                    // 138,983
    ("semaphore-wake", 61_500),               // 123,083
    ("semaphore-mutex", 33),                  // 66
    ("semaphore-timeout", 8_700),             // 17,479
    ("semaphore-close", 9_600),               // 19,259
    ("semaphore-many", 40_900),               // 81,945
    ("semaphore-token", 45_700),              // 91,491
    ("semaphore-ledger", 24_400),             // 48,889 at bound 1 (recover split in two halves)
    ("semaphore-ledger-recover-race", 91),    // 183 unbounded
    ("semaphore-ledger-recover-live", 6_900), // 13,822 at bound 3
    ("semaphore-ledger-reuse", 2_800),        // 5,789 at bound 2
    ("semaphore-ledger-process", 23_600),     // 47,312 at bound 1 (crash-free recovery)
    ("spsc-chunks", 550),                     // 1,105
    ("mpmc-repair", 45_900),                  // 91,802
    ("semaphore-crash", 5_900),               // 11,824
    ("semaphore-token-recover", 810),         // 1,631
    ("spsc-fenced", 8_500),                   // 17,152
    ("mpmc-claims", 10_500),                  // 21,018 at bound 2 (four shapes)
    ("mpmc-repair-handoff", 22_900),          // 45,884 at bound 1
    ("semaphore-ledger-handles", 12_900),     // 25,932 at bound 2
];

/// The floor of model `name`, if it has one.
pub fn floor(name: &str) -> Option<u64> {
    FLOORS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Whether `interleavings` explored by model `name` at its default bound reach its floor. A
/// model without a floor is an error too: every registered model must have one.
pub fn check(name: &str, interleavings: u64) -> Result<(), String> {
    match floor(name) {
        None => Err(format!("model {name} has no exploration floor (models/floors.rs)")),
        Some(f) if interleavings < f => Err(format!(
            "model {name} explored {interleavings} executions at its default bound, under its \
             floor of {f}: exploration collapsed (or lower the floor on purpose in models/floors.rs)"
        )),
        Some(_) => Ok(()),
    }
}
