//! Reading git history for the commands that use it, and `flagctl history KEY`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, require_format};
use flagctl::history::{self, ChangeKind, History, LogEntry};
use flagctl::repo::{Repo, short_id};

#[derive(clap::Args)]
pub struct Args {
    /// The flag key
    key: String,
}

/// The history that ends at the repository's commit (`--rev`) or HEAD, or a note saying
/// why there is none. A progress bar shows on a terminal when the pass takes a while.
pub fn load(repo: &Repo) -> anyhow::Result<(Option<History>, Option<String>)> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("reading history {bar:30} {pos}/{len} commits")
                .expect("a valid template"),
        );
        bar
    });
    let mut progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            // Only a pass that takes more than a moment earns a bar.
            if bar.is_hidden() && bar.elapsed() > Duration::from_millis(300) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let history = history::load(repo, &mut progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(match history {
        Ok(history) => (Some(history), None),
        Err(note) => (None, Some(note)),
    })
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "history", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    let (history, note) = load(&repo)?;
    let Some(history) = history else {
        bail!("{}", note.unwrap_or_default());
    };
    let changes = history.changes(&args.key);
    if changes.is_empty() {
        let near = flagctl::model::names::did_you_mean(
            &args.key,
            history.flags.keys().map(String::as_str),
        )
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
        bail!("no commit touched a flag `{}`{near}", args.key);
    }
    let commits = history::log(&repo, &history, &args.key);
    emit(
        ctx,
        &FlagHistory {
            flag: args.key,
            commits,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `history KEY`: the commits that changed a flag, newest first.
#[derive(Serialize, JsonSchema)]
pub struct FlagHistory {
    flag: String,
    commits: Vec<LogEntry>,
}

impl Output for FlagHistory {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        for entry in &self.commits {
            let label = entry
                .verb
                .as_ref()
                .map_or_else(|| entry.subject.clone(), |verb| format!("flagctl {verb}"));
            writeln!(
                out,
                "{} {} {:<20} {label}",
                short_id(&entry.commit),
                entry.date.map_or_else(
                    || "(date unknown)  ".to_string(),
                    |d| d.format("%Y-%m-%d %H:%M").to_string()
                ),
                entry.author
            )?;
            writeln!(out, "    {}", entry.change)?;
            if entry.kind != ChangeKind::Added {
                for field in &entry.fields {
                    writeln!(out, "    {field}")?;
                }
            }
        }
        Ok(())
    }
}
