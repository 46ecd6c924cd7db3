//! The `postfach` binary: parse the command line, run it, report errors.
//! Everything else lives in the library (`src/admin/`).

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = postfach::admin::Cli::parse();
    postfach::admin::init_logging();
    match postfach::admin::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postfach: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
