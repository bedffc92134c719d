//! Automatic ordering weakening (`synclab model … --weaken-all`) and the kill matrix
//! (`synclab model --matrix`).
//!
//! `LoomMemory` tags every atomic access, fence, wake and wait with its caller's source line
//! (`#[track_caller]`) and asks [`hooks`] which ordering to use. [`sweep`] runs each model once
//! recording the sites it reaches, then for every site and every one-step weakening
//! ([`steps`]) re-runs the models that reach it with just that site weakened: **caught** (a
//! model failed), **survived** (all passed), or, for sites in `core` that [`scan`] finds in
//! the source but no model executes, **unreached**. [`table`] prints the result; [`matrix`]
//! adds the hand-written mutants and which oracle catches each.

pub mod hooks;
pub mod matrix;
pub mod scan;
pub mod steps;
pub mod sweep;
pub mod table;
