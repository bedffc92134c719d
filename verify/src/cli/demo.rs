//! `synclab demo`: the main job on built-in defaults.

use super::Exit;

/// Options of `synclab demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Exit {
    super::output::bad_input(args.json, "demo: the ring parts are being built (issue 3)")
}
