//! `synclab worker …` (hidden): the worker side of multi-process runs (`crate::workers`) and of
//! `synclab bench` (`crate::bench::roles`); the bench's roles are dispatched here so that
//! `workers` never imports `bench`.

use std::process::ExitCode;

/// Everything after `synclab worker`.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Role and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Runs the worker role named first in `args`: a bench role or a run role.
pub fn run(args: WorkerArgs) -> ExitCode {
    if args
        .args
        .first()
        .is_some_and(|role| crate::bench::roles::is_bench_role(role))
    {
        crate::bench::roles::run(args.args)
    } else {
        crate::workers::run(args.args)
    }
}
