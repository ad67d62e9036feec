//! Reading git history for the commands that use it, and `flagctl history KEY`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, require_format};
use flagctl::history::{self, ChangeKind, History, LogEntry, Unavailable};
use flagctl::repo::{Repo, short_id};

#[derive(clap::Args)]
pub struct Args {
    /// The flag key
    key: String,
}

/// The history that ends at the repository's commit (`--rev`) or HEAD, or a note saying
/// why there is none.
pub fn load(repo: &Repo) -> anyhow::Result<(Option<History>, Option<String>)> {
    Ok(match read(repo)? {
        Ok(history) => (Some(history), None),
        Err(why) => (None, Some(why.note().to_string())),
    })
}

/// The history that ends at the repository's commit (`--rev`) or HEAD, or why there is
/// none. A progress bar shows on a terminal when the pass takes a while.
pub fn read(repo: &Repo) -> anyhow::Result<Result<History, Unavailable>> {
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
    Ok(history)
}

/// What `history` needs that the repository lacks, and how to get it.
fn needs(repo: &Repo, why: Unavailable) -> String {
    let what = match why {
        Unavailable::NotGit => format!(
            "{} is not in a git repository\nhelp: run it in a clone of the flag repository",
            repo.root.display()
        ),
        Unavailable::NoCommits => "there are no commits yet\nhelp: commit the flags first (`git add flagctl.toml flags && git commit`)".to_string(),
        Unavailable::Shallow => "this is a shallow clone; fetch the full history with `git fetch --unshallow`\nhelp: in GitHub Actions, check out with `fetch-depth: 0`".to_string(),
    };
    format!("flagctl history reads git history: {what}")
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "history", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    let history = match read(&repo)? {
        Ok(history) => history,
        Err(why) => bail!("{}", needs(&repo, why)),
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
            if let Some(body) = &entry.body {
                writeln!(out, "    » {body}")?;
            }
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
