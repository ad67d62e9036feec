//! The lifecycle commands: expire, extend, review, kill, restore, archive. Each edits one
//! flag in place, writes atomically and commits exactly what it touched.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

use super::output::{Output, emit};
use super::terminal::tell;
use super::{Ctx, Format, Outcome, parse_date, require_format};
use flagctl::lifecycle::{self, Done, Step};
use flagctl::repo::{CommitOptions, Repo, Transaction, short_id};

#[derive(clap::Args)]
pub struct ExpireArgs {
    key: String,
    /// The variant served to everyone from now on
    #[arg(long)]
    winner: String,
    #[command(flatten)]
    results: ResultsArgs,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct ResultsArgs {
    /// What the flag showed (metrics, significance, links)
    #[arg(long, conflicts_with = "results_file")]
    results: Option<String>,
    /// Read the results from a file
    #[arg(long, value_name = "FILE")]
    results_file: Option<PathBuf>,
}

impl ResultsArgs {
    fn text(self) -> anyhow::Result<Option<String>> {
        match self.results_file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read --results-file {}", path.display()))?;
                Ok(Some(text.trim().to_string()))
            }
            None => Ok(self.results),
        }
    }
}

#[derive(clap::Args)]
pub struct ExtendArgs {
    key: String,
    /// The new expiry date (YYYY-MM-DD)
    #[arg(long, value_parser = parse_date)]
    until: NaiveDate,
    /// Why the flag needs longer (goes into the commit)
    #[arg(long)]
    reason: String,
    /// Allow going past created + the kind's max_days
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct ReviewArgs {
    key: String,
    /// What the review found (goes into the commit)
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct KillArgs {
    key: String,
    /// Why (goes into the commit)
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    key: String,
    /// Why (goes into the commit)
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct ArchiveArgs {
    key: String,
    #[command(flatten)]
    results: ResultsArgs,
    /// Archive even when active flags require it (they fall back to their defaults)
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct CommitArgs {
    /// Write the file without committing it
    #[arg(long)]
    no_commit: bool,
    /// Skip the pre-commit, prepare-commit-msg and commit-msg hooks
    #[arg(long)]
    no_verify: bool,
    /// Commit even on a detached HEAD
    #[arg(long = "force-detached")]
    force_detached: bool,
}

impl CommitArgs {
    pub fn options(&self) -> CommitOptions {
        CommitOptions {
            no_commit: self.no_commit,
            no_verify: self.no_verify,
            allow_detached: self.force_detached,
        }
    }
}

impl Output for Done {
    fn human(&self, out: &mut dyn std::io::Write, _color: bool) -> std::io::Result<()> {
        let tail = match (&self.applied.commit, &self.applied.not_committed) {
            (Some(c), _) => format!("committed {}", short_id(c)),
            (None, Some(why)) => why.clone(),
            (None, None) => "not committed".into(),
        };
        writeln!(out, "{}: {} ({tail})", self.key, self.done)
    }
}

/// Runs `step` on `key` in one transaction: lock, load, plan, write, commit.
fn run(ctx: &Ctx, key: &str, step: Step, commit: &CommitArgs) -> Outcome {
    let verb = step.verb();
    require_format(ctx, verb, &[Format::Human, Format::Json])?;
    let root = ctx.root_for_change(verb)?;
    let transaction = Transaction::begin(&root, commit.options())?;
    let repo = Repo::load(&root)?;
    let plan = lifecycle::plan(&repo, key, &step, ctx.today, transaction.head().as_deref())?;
    let applied = transaction.apply(&plan.changes, &plan.message)?;
    let done = plan.done(applied);
    if ctx.format() == Format::Human {
        for note in &done.applied.notes {
            tell!("note: {note}");
        }
    }
    emit(ctx, &done)?;
    Ok(ExitCode::SUCCESS)
}

pub fn expire(ctx: &Ctx, args: ExpireArgs) -> Outcome {
    let step = Step::Expire {
        winner: args.winner,
        results: args.results.text()?,
    };
    run(ctx, &args.key, step, &args.commit)
}

pub fn extend(ctx: &Ctx, args: ExtendArgs) -> Outcome {
    let step = Step::Extend {
        until: args.until,
        reason: args.reason,
        force: args.force,
    };
    run(ctx, &args.key, step, &args.commit)
}

pub fn review(ctx: &Ctx, args: ReviewArgs) -> Outcome {
    let step = Step::Review { note: args.note };
    run(ctx, &args.key, step, &args.commit)
}

pub fn kill(ctx: &Ctx, args: KillArgs) -> Outcome {
    let step = Step::Kill {
        reason: args.reason,
    };
    run(ctx, &args.key, step, &args.commit)
}

pub fn restore(ctx: &Ctx, args: RestoreArgs) -> Outcome {
    let step = Step::Restore {
        reason: args.reason,
    };
    run(ctx, &args.key, step, &args.commit)
}

pub fn archive(ctx: &Ctx, args: ArchiveArgs) -> Outcome {
    let step = Step::Archive {
        results: args.results.text()?,
        force: args.force,
    };
    run(ctx, &args.key, step, &args.commit)
}
