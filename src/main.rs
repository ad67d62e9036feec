//! The flagctl binary: only its `cli` module prints and reads the clock.
#![allow(clippy::disallowed_macros)]

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
