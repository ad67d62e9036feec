//! `flagctl completions SHELL` and `flagctl man [COMMAND]`: a shell completion script and
//! a man page, both generated from the command line's own definition, so they never miss
//! an option.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Outcome, terminal};

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// A subcommand's page (flagctl-COMMAND(1)) instead of flagctl(1)
    #[arg(value_name = "COMMAND")]
    command: Option<String>,
}

pub fn completions(args: CompletionsArgs) -> Outcome {
    print(&script(args.shell))
}

pub fn man(args: ManArgs) -> Outcome {
    print(&page(args.command.as_deref())?)
}

/// The completion script for `shell`.
fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flagctl", &mut out);
    out
}

/// The roff of flagctl(1), or of a subcommand's page.
fn page(command: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build(); // global options reach the subcommands, which get their full names
    let command = match command {
        None => cli,
        Some(name) => cli.find_subcommand(name).cloned().with_context(|| {
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            format!("no command `{name}`; commands: {}", names.join(", "))
        })?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out)?;
    Ok(out)
}

fn print(bytes: &[u8]) -> Outcome {
    let mut out = terminal::stdout(false, true);
    out.write_all(bytes)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// What the sanitiser lets through, for text that must reach the shell unchanged.
    fn printed(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut safe = terminal::Safe::new(&mut out, false, true);
        safe.write_all(bytes).unwrap();
        safe.flush().unwrap();
        drop(safe);
        out
    }

    #[test]
    fn every_script_completes_every_command_and_survives_the_sanitiser() {
        for shell in Shell::value_variants() {
            let script = script(*shell);
            let text = String::from_utf8(script.clone()).unwrap();
            for command in ["audit", "eval", "completions", "as-of"] {
                assert!(text.contains(command), "{shell}: no {command}");
            }
            assert!(
                printed(&script) == script,
                "{shell}: changed by the sanitiser"
            );
        }
    }

    #[test]
    fn man_pages_name_their_command_and_survive_the_sanitiser() {
        let main = page(None).unwrap();
        let text = String::from_utf8(main.clone()).unwrap();
        assert!(text.starts_with(".ie"), "{text}");
        assert!(text.contains(".TH flagctl 1"), "{text}");
        assert!(text.contains("flagctl\\-audit(1)"), "{text}");
        assert!(printed(&main) == main);
        let audit = String::from_utf8(page(Some("audit")).unwrap()).unwrap();
        assert!(audit.contains(".TH flagctl-audit 1"), "{audit}");
        assert!(
            audit.contains("\\-\\-as\\-of"),
            "global options are on every page"
        );
        let error = page(Some("audti")).unwrap_err().to_string();
        assert!(error.contains("no command `audti`"), "{error}");
    }
}
