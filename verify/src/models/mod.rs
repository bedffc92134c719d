//! Loom models of every lock-free algorithm in `synclab-core`, run in plain `cargo test` (tests
//! named `loom_*`) and from `synclab model`.

pub mod loom_memory;
