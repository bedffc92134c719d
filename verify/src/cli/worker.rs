//! `synclab worker …` (hidden): the worker side of multi-process runs; see `crate::workers`.

/// Everything after `synclab worker`.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Role and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}
