//! The `synclab` binary: see `synclab --help`.

fn main() -> std::process::ExitCode {
    synclab_verify::cli::main()
}
