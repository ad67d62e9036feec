//! The command line: parses arguments, resolves them into a context, calls the library
//! and renders its results. Only this module prints.

mod audit;
mod cleanup;
mod completions;
mod create;
mod eval;
mod export;
mod file_schema;
mod history;
mod init;
mod lifecycle;
mod list;
mod output;
mod refs;
mod remind;
mod render;
mod report;
#[cfg(test)]
mod schema;
mod simulate;
mod terminal;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use flagctl::repo::{Repo, Source, discover_root};

/// Lifecycle manager for ML feature flags kept as TOML files in git.
#[derive(Parser)]
#[command(name = "flagctl", version, about, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
pub struct Global {
    /// The flag repository (default: the nearest folder with flagctl.toml, else the git work tree)
    #[arg(long, global = true, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// Read flags from this commit (any revspec) instead of the work tree; read-only commands
    #[arg(long, global = true, value_name = "REV")]
    rev: Option<String>,
    /// Use this date as today (YYYY-MM-DD), so every result can be reproduced
    #[arg(long, global = true, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to use colour (NO_COLOR is honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions annotations (audit)
    Github,
    /// SARIF 2.1.0 (audit)
    Sarif,
    /// JUnit XML, one test case per flag (audit)
    Junit,
    /// Markdown (remind, report)
    Markdown,
    /// One self-contained HTML page with charts (report)
    Html,
    /// flagd flag definitions (export)
    Flagd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented flagctl.toml and an empty flags/ folder
    Init(init::Args),
    /// Create a flag from a template (asks for what is missing in a terminal)
    Create(create::Args),
    /// List flags with their status
    List(list::ListArgs),
    /// Show one flag with its computed status
    Show(list::ShowArgs),
    /// File-level checks only (invalid-flag, duplicate-key, unknown-kind): fast, for pre-commit
    Validate(validate::Args),
    /// Every policy rule: expiry, reviews, owners, limits, conflicts, dependencies (the CI gate)
    Audit(audit::Args),
    /// The commits that changed a flag, with the fields each changed
    History(history::Args),
    /// Conclude a temporary flag: record the winner and results; it serves the winner
    Expire(lifecycle::ExpireArgs),
    /// Move a temporary flag's expiry (never past created + max_days without --force)
    Extend(lifecycle::ExtendArgs),
    /// Record a review of a permanent flag: reviewed = today, review_by = today + review_days
    Review(lifecycle::ReviewArgs),
    /// Disable a flag: it serves its default to everyone, and its dependants fall back
    Kill(lifecycle::KillArgs),
    /// Enable a killed flag again
    Restore(lifecycle::RestoreArgs),
    /// Move flags to flags/_archive/ with their conclusion and results, in one commit
    /// (--ready: every flag ready to archive)
    Archive(lifecycle::ArchiveArgs),
    /// A digest per owner of what needs action soon, printed or posted to a webhook
    Remind(remind::Args),
    /// Evaluate flags offline for a context, exactly as flagd serves them
    Eval(eval::Args),
    /// Evaluate one flag over many contexts: the split per variant and rule next to its weights
    Simulate(simulate::Args),
    /// The sprint cleanup report: removal readiness, what to remove, review or extend, per
    /// owner and service, and the debt trend (markdown, html, json)
    Report(report::Args),
    /// Where code references each flag: SDK calls read by a parser, quoted keys, aliases
    Refs(refs::Args),
    /// Remove finished flags from the code: each evaluation becomes the winning value, dead branches go
    Cleanup(cleanup::Args),
    /// Write the flags as a flagd flag-definition file (--format flagd), optionally verified
    Export(export::Args),
    /// Print the JSON Schema of a flag file or of flagctl.toml, for editors
    Schema(file_schema::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::CompletionsArgs),
    /// Print the man page in roff: flagctl(1), or a command's page
    Man(completions::ManArgs),
}

/// What every command runs with: resolved options and today's date.
pub struct Ctx {
    pub global: Global,
    /// Now, read once: `--as-of`'s midnight (UTC), else the clock.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Today: `--as-of`, else the UTC date of `now`.
    pub today: NaiveDate,
    /// The clock's UTC date, whatever `--as-of` says: what a commit made now is dated.
    pub clock_today: NaiveDate,
    /// Colour on stdout.
    pub color: bool,
}

impl Ctx {
    /// The repository root, from `--repo` or discovery.
    pub fn root(&self) -> anyhow::Result<PathBuf> {
        let cwd = std::env::current_dir()?;
        discover_root(&cwd, self.global.repo.as_deref())
    }

    /// Where the flags are read from: `--rev`, else the work tree.
    pub fn source(&self) -> Source {
        match &self.global.rev {
            Some(rev) => Source::Rev(rev.clone()),
            None => Source::WorkTree,
        }
    }

    /// `--staged`'s index when asked for, else [`Ctx::source`].
    pub fn source_or_staged(&self, staged: bool) -> Source {
        if staged {
            Source::Staged
        } else {
            self.source()
        }
    }

    /// The repository, from the work tree or from `--rev`.
    pub fn load(&self) -> anyhow::Result<Repo> {
        Repo::open(&self.root()?, &self.source())
    }

    /// The root of the work tree, for commands that change files: `--rev` makes no
    /// sense there.
    pub fn root_for_change(&self, command: &str) -> anyhow::Result<PathBuf> {
        if self.global.rev.is_some() {
            bail!("`{command}` changes files; --rev is only for read-only commands");
        }
        self.root()
    }

    pub fn format(&self) -> Format {
        self.global.format
    }
}

pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a date; use YYYY-MM-DD"))
}

/// What a command reports back: its exit code.
pub type Outcome = anyhow::Result<ExitCode>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    };
    let stderr_color = match cli.global.color {
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
        _ => color,
    };
    #[allow(clippy::disallowed_methods)] // the one read of the clock
    let clock = chrono::Utc::now();
    let now = match cli.global.as_of {
        Some(date) => date.and_time(chrono::NaiveTime::MIN).and_utc(),
        None => clock,
    };
    let ctx = Ctx {
        now,
        today: now.date_naive(),
        clock_today: clock.date_naive(),
        global: cli.global,
        color,
    };
    let reports_findings = matches!(cli.command, Command::Audit(_));
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Create(args) => create::run(&ctx, args),
        Command::List(args) => list::list(&ctx, args),
        Command::Show(args) => list::show(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::History(args) => history::run(&ctx, args),
        Command::Expire(args) => lifecycle::expire(&ctx, args),
        Command::Extend(args) => lifecycle::extend(&ctx, args),
        Command::Review(args) => lifecycle::review(&ctx, args),
        Command::Kill(args) => lifecycle::kill(&ctx, args),
        Command::Restore(args) => lifecycle::restore(&ctx, args),
        Command::Archive(args) => lifecycle::archive(&ctx, args),
        Command::Remind(args) => remind::run(&ctx, args),
        Command::Eval(args) => eval::run(&ctx, args),
        Command::Simulate(args) => simulate::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Refs(args) => refs::run(&ctx, args),
        Command::Report(args) => report::run(&ctx, args),
        Command::Cleanup(args) => cleanup::run(&ctx, args),
        Command::Schema(args) => file_schema::run(&ctx, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            render::error(&ctx, &error, reports_findings, stderr_color);
            ExitCode::from(2)
        }
    }
}

/// Whether the reader of the output went away (`flagctl … | head -1`): an io error of that
/// kind anywhere in the chain, also inside the errors that wrap one (serde_json's, an io
/// error carrying another).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(broken_pipe)
}

fn broken_pipe(error: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        return io.kind() == std::io::ErrorKind::BrokenPipe
            || io.get_ref().is_some_and(|inner| broken_pipe(inner));
    }
    if let Some(json) = error.downcast_ref::<serde_json::Error>() {
        return json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe);
    }
    error.source().is_some_and(broken_pipe)
}

/// Refuses formats a command does not render.
pub fn require_format(ctx: &Ctx, command: &str, allowed: &[Format]) -> anyhow::Result<()> {
    if !allowed.contains(&ctx.format()) {
        let names: Vec<String> = allowed
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        bail!(
            "`{command}` has no such --format; use {}",
            names.join(" or ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_broken_pipe;
    use anyhow::Context;

    /// A reader that went away.
    struct Closed;

    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_broken_pipe_is_found_inside_the_errors_that_wrap_it() {
        let json = serde_json::to_writer(Closed, &vec!["a"; 10]).unwrap_err();
        assert!(is_broken_pipe(&anyhow::Error::new(json)));
        let json = serde_json::to_writer(Closed, &1).unwrap_err();
        assert!(is_broken_pipe(
            &Err::<(), _>(json).context("cannot print").unwrap_err()
        ));
        let wrapped = std::io::Error::other(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&anyhow::Error::new(wrapped)));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no such flag")));
        let eof = serde_json::from_str::<u8>("").unwrap_err();
        assert!(!is_broken_pipe(&anyhow::Error::new(eof)));
    }
}
