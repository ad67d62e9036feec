//! The flagctl binary: its `cli` module prints, through one sanitiser
//! (`cli::terminal`), and reads the clock once.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
