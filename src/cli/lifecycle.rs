//! The lifecycle commands: expire, extend, review, kill, restore, archive. Each edits one
//! flag in place, writes atomically and commits exactly what it touched.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;

use super::output::{Output, emit};
use super::terminal::tell;
use super::{Ctx, Format, Outcome, parse_date, require_format};
use flagctl::lifecycle::{self, ArchivedFlags, Done, DryRun, Plan, Step};
use flagctl::readiness::{Evidence, Readiness, assess};
use flagctl::repo::{Applied, CommitOptions, Repo, Transaction, short_id};

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
    /// The flags to archive, in one commit
    #[arg(required_unless_present = "ready", conflicts_with = "ready")]
    keys: Vec<String>,
    /// Archive every flag ready to archive (finished, stable, required by no live flag,
    /// read by no code), in one commit
    #[arg(long)]
    ready: bool,
    /// With --ready: scan PATHS for code references (default: `[refs] paths`)
    #[arg(long, value_name = "PATHS", num_args = 1.., requires = "ready")]
    refs: Option<Vec<PathBuf>>,
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
    /// Print the diff of what the step would change, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Write the file without committing it
    #[arg(long)]
    pub no_commit: bool,
    /// Skip the pre-commit, prepare-commit-msg and commit-msg hooks
    #[arg(long)]
    no_verify: bool,
    /// Commit even on a detached HEAD
    #[arg(long = "force-detached")]
    force_detached: bool,
}

impl CommitArgs {
    /// The options of the commit, with the author and committer git's environment names.
    pub fn options(&self) -> anyhow::Result<CommitOptions> {
        Ok(CommitOptions {
            no_commit: self.no_commit,
            no_verify: self.no_verify,
            allow_detached: self.force_detached,
            author: identity_from_env("AUTHOR")?,
            committer: identity_from_env("COMMITTER")?,
        })
    }
}

/// `GIT_<ROLE>_NAME`, `GIT_<ROLE>_EMAIL` and `GIT_<ROLE>_DATE`, as `git commit` reads them.
fn identity_from_env(role: &str) -> anyhow::Result<flagctl::repo::Identity> {
    let var = |part: &str| {
        std::env::var(format!("GIT_{role}_{part}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let time = match var("DATE") {
        Some(text) => Some(git_date(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "GIT_{role}_DATE is not a date flagctl reads
                 help: use RFC 3339 (2026-11-26T10:00:00+02:00), RFC 2822 (Thu, 26 Nov 2026 10:00:00 +0200) or git's raw form (@1795680000 +0200)"
            )
        })?),
        None => None,
    };
    Ok(flagctl::repo::Identity {
        name: var("NAME"),
        email: var("EMAIL"),
        time,
    })
}

/// A date as git's environment gives it: RFC 3339 or ISO 8601 with a space, RFC 2822, or
/// git's raw `@SECONDS ±HHMM`.
fn git_date(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    use chrono::DateTime;
    let text = text.trim();
    if let Some((seconds, zone)) = text.trim_start_matches('@').split_once(' ') {
        let zone = DateTime::parse_from_str(&format!("0 {zone}"), "%s %z").ok();
        if let (Ok(seconds), Some(zone)) = (seconds.parse::<i64>(), zone) {
            return DateTime::from_timestamp(seconds, 0).map(|t| t.with_timezone(zone.offset()));
        }
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .ok()
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

impl Output for DryRun {
    fn human(&self, out: &mut dyn std::io::Write, _color: bool) -> std::io::Result<()> {
        out.write_all(self.diff.as_bytes())?;
        let subject = self.message.lines().next().unwrap_or_default();
        writeln!(
            out,
            "dry run: would commit \"{subject}\"; nothing was written"
        )
    }
}

impl Output for ArchivedFlags {
    fn human(&self, out: &mut dyn std::io::Write, _color: bool) -> std::io::Result<()> {
        for flag in &self.flags {
            writeln!(out, "{}: {}", flag.key, flag.done)?;
        }
        match (&self.applied.commit, &self.applied.not_committed) {
            (Some(c), _) => writeln!(
                out,
                "archived {} {} in one commit ({})",
                self.flags.len(),
                if self.flags.len() == 1 {
                    "flag"
                } else {
                    "flags"
                },
                short_id(c)
            ),
            (None, Some(why)) => writeln!(out, "{why}"),
            (None, None) => writeln!(out, "not committed"),
        }
    }
}

/// Prints what a plan would do; writes nothing (not even the recovery of an interrupted
/// step, which waits for the next command that changes files).
fn dry_run(ctx: &Ctx, plan: Plan) -> Outcome {
    let dry = plan.dry_run();
    if ctx.format() == Format::Human {
        for note in &dry.notes {
            tell!("note: {note}");
        }
    }
    emit(ctx, &dry)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `step` on `key` in one transaction: lock, load, plan, write, commit.
fn run(ctx: &Ctx, key: &str, step: Step, commit: &CommitArgs) -> Outcome {
    let verb = step.verb();
    require_format(ctx, verb, &[Format::Human, Format::Json])?;
    let root = ctx.root_for_change(verb)?;
    if commit.dry_run {
        let repo = Repo::load(&root)?;
        return dry_run(
            ctx,
            lifecycle::plan(&repo, key, &step, ctx.today, repo.tip().as_deref())?,
        );
    }
    let transaction = Transaction::begin(&root, commit.options()?)?;
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
    if let [key] = args.keys.as_slice() {
        return run(ctx, key, step, &args.commit);
    }
    if matches!(
        &step,
        Step::Archive {
            results: Some(_),
            ..
        }
    ) {
        bail!(
            "--results records the results of one flag; archive flags one at a time to record each one's"
        );
    }
    require_format(ctx, "archive", &[Format::Human, Format::Json])?;
    let root = ctx.root_for_change("archive")?;
    // A dry run takes no lock: the lock's recovery of an interrupted step writes files.
    let transaction = match args.commit.dry_run {
        true => None,
        false => Some(Transaction::begin(&root, args.commit.options()?)?),
    };
    let repo = Repo::load(&root)?;
    let keys = match args.ready {
        true => ready_to_archive(ctx, &repo, args.refs.as_deref().unwrap_or_default())?,
        false => args.keys,
    };
    if keys.is_empty() {
        if ctx.format() == Format::Human {
            tell!("no flag is ready to archive (`flagctl report --refs` says why, flag by flag)");
        }
        let nothing = ArchivedFlags {
            verb: "archive",
            flags: Vec::new(),
            applied: Applied {
                not_committed: Some("nothing to archive".into()),
                ..Applied::default()
            },
        };
        emit(ctx, &nothing)?;
        return Ok(ExitCode::SUCCESS);
    }
    let head = match &transaction {
        Some(transaction) => transaction.head(),
        None => repo.tip(),
    };
    let plan = lifecycle::plan_archive(&repo, &keys, &step, ctx.today, head.as_deref())?;
    let Some(transaction) = transaction else {
        return dry_run(ctx, plan);
    };
    let applied = transaction.apply(&plan.changes, &plan.message)?;
    let archived = plan.archived(applied);
    if ctx.format() == Format::Human {
        for note in &archived.applied.notes {
            tell!("note: {note}");
        }
    }
    emit(ctx, &archived)?;
    Ok(ExitCode::SUCCESS)
}

/// The flags ready to archive: finished, stable, required by no live flag and read by
/// no code under `paths` (default: `[refs] paths`).
fn ready_to_archive(ctx: &Ctx, repo: &Repo, paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let history = super::history::read(repo)?;
    if let Err(why) = &history {
        tell!(
            "note: no git history ({}): no flag can be shown stable, so none is ready to archive",
            why.reason()
        );
    }
    let scan = super::refs::scan(repo, paths, true)?;
    let readiness = assess(&Evidence {
        repo,
        today: ctx.today,
        history: history.as_ref().map_err(|why| *why),
        refs: Some(&scan),
    });
    Ok(readiness
        .into_iter()
        .filter(|r| r.readiness == Readiness::ReadyToArchive)
        .map(|r| r.flag)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::git_date;

    #[test]
    fn git_dates_in_the_forms_git_reads() {
        let at = |text: &str| git_date(text).map(|t| t.to_rfc3339());
        let expected = Some("2026-11-26T10:00:00+02:00".to_string());
        for text in [
            "2026-11-26T10:00:00+02:00",
            "2026-11-26 10:00:00 +0200",
            "Thu, 26 Nov 2026 10:00:00 +0200",
            "@1795680000 +0200",
            "1795680000 +0200",
        ] {
            assert_eq!(at(text), expected, "{text}");
        }
        for text in [
            "last tuesday",
            "",
            "@x +0200",
            "@1795680000 +99",
            "2026-11-26",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
    }
}
