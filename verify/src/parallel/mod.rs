//! Parallel property tests beyond real threads: the generated programs ([`case`]), their replay
//! under loom with a minimal failing interleaving printed ([`replay`], [`steps`]), and their run
//! with each branch in its own OS process on one shared object ([`procs`], [`run`], [`clock`]).
//!
//! The real-thread tests are `verify/tests/parallel_prop.rs`; what a failure there shrinks to
//! is handed to [`replay`].

pub mod case;
pub mod clock;
pub mod procs;
pub mod replay;
pub mod run;
pub mod steps;
