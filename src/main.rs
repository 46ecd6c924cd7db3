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
            // `deliver` reports sysexits codes to the MTA.
            match e.downcast_ref::<postfach::admin::deliver::Exit>() {
                Some(exit) => std::process::ExitCode::from(exit.code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
