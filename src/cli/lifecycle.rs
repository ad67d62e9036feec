//! The lifecycle commands: expire, extend, review, kill, restore, archive. Each edits one
//! flag in place, writes atomically and commits exactly what it touched.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use toml_edit::DocumentMut;

use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, parse_date, require_format};
use flagctl::fsio::write_atomic;
use flagctl::lifecycle;
use flagctl::model::{Flag, SourceFile};
use flagctl::repo::{FlagFile, Repo, git};

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
    #[command(flatten)]
    commit: CommitArgs,
}

#[derive(clap::Args)]
pub struct CommitArgs {
    /// Write the file without committing it
    #[arg(long)]
    no_commit: bool,
}

/// The active flag `key`, parsed: lifecycle steps apply only to flags that fit the schema.
fn target<'r>(repo: &'r Repo, key: &str) -> anyhow::Result<(&'r FlagFile, &'r Flag)> {
    let Some(file) = repo.files.iter().find(|f| f.key == key && !f.archived) else {
        if let Some(archived) = repo.files.iter().find(|f| f.key == key) {
            bail!(
                "`{key}` is archived ({}); archived flags do not change",
                archived.source.path
            );
        }
        let near =
            flagctl::model::names::did_you_mean(key, repo.files.iter().map(|f| f.key.as_str()))
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
        bail!("no flag `{key}`{near}");
    };
    match &file.flag {
        Ok(flag) => Ok((file, flag)),
        Err(problems) => bail!(
            "{} does not fit the schema ({}); fix it first (`flagctl validate`)",
            file.source.path,
            problems[0].message
        ),
    }
}

/// One file written by a step: its new text, and the path it moves from, if it moves.
struct Change {
    rel: String,
    text: String,
    moved_from: Option<String>,
}

/// Checks git, writes the change atomically and commits exactly its paths. On a failed
/// commit the work tree is put back as it was.
fn write_and_commit(
    repo: &Repo,
    change: &Change,
    original: &str,
    message: &str,
    commit: &CommitArgs,
) -> anyhow::Result<Option<String>> {
    let git = if commit.no_commit {
        None
    } else {
        git::open(&repo.root)
    };
    let mut git_paths = Vec::new();
    if let Some(g) = &git {
        for rel in std::iter::once(&change.rel).chain(change.moved_from.as_ref()) {
            git_paths.push(git::git_path(g, &repo.root, rel)?);
        }
        git::ensure_nothing_else_staged(g, &git_paths)?;
        let source = git_paths.last().expect("at least the target");
        if git::is_dirty(g, source)? {
            bail!(
                "{} has uncommitted changes; flagctl commits only its own edit\n\
                 help: commit or stash them first, or pass --no-commit",
                change.moved_from.as_ref().unwrap_or(&change.rel)
            );
        }
        git::ensure_identity(g)?;
    }
    let path = repo.root.join(&change.rel);
    let moving = change.moved_from.is_some();
    write_atomic(&path, &change.text, !moving)?;
    if let Some(from) = &change.moved_from {
        std::fs::remove_file(repo.root.join(from))
            .with_context(|| format!("cannot remove {from}"))?;
    }
    let Some(g) = git else { return Ok(None) };
    match git::commit_paths(&g, &git_paths, message) {
        Ok(oid) => Ok(Some(oid.to_string())),
        Err(e) => {
            match &change.moved_from {
                Some(from) => {
                    let _ = write_atomic(&repo.root.join(from), original, true);
                    let _ = std::fs::remove_file(&path);
                }
                None => {
                    let _ = write_atomic(&path, original, true);
                }
            }
            Err(e.context("nothing was changed"))
        }
    }
}

/// Runs one in-place step on `key`: `edit` changes the document and says what it did.
fn step(
    ctx: &Ctx,
    verb: &str,
    key: &str,
    body: Option<String>,
    commit: &CommitArgs,
    edit: impl FnOnce(&mut DocumentMut, &Flag, &Repo) -> anyhow::Result<String>,
) -> Outcome {
    require_format(ctx, verb, &[Format::Human, Format::Json])?;
    let repo = ctx.load_for_change(verb)?;
    let (file, flag) = target(&repo, key)?;
    let mut doc: DocumentMut = file
        .source
        .text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.source.path))?;
    let done = edit(&mut doc, flag, &repo)?;
    let text = doc.to_string();
    if let Err(problems) = Flag::parse(
        &SourceFile::new(&file.source.path, text.as_str()),
        &repo.config,
    ) {
        bail!(
            "the edit would leave {} invalid: {}",
            file.source.path,
            problems[0].message
        );
    }
    let message = match &body {
        Some(body) => format!("flagctl {verb}: {key}\n\n{body}\n"),
        None => format!("flagctl {verb}: {key}\n"),
    };
    let change = Change {
        rel: file.source.path.clone(),
        text,
        moved_from: None,
    };
    let commit_id = write_and_commit(&repo, &change, &file.source.text, &message, commit)?;
    report(
        ctx,
        verb,
        key,
        &change.rel,
        &done,
        commit_id.as_deref(),
        commit.no_commit,
    )
}

/// What a lifecycle step did.
#[derive(serde::Serialize)]
struct StepDone<'a> {
    verb: &'a str,
    key: &'a str,
    path: &'a str,
    done: &'a str,
    commit: Option<&'a str>,
    #[serde(skip)]
    no_commit: bool,
}

impl Output for StepDone<'_> {
    fn human(&self, out: &mut dyn std::io::Write, _color: bool) -> std::io::Result<()> {
        let tail = match self.commit {
            Some(c) => format!("committed {}", &c[..7]),
            None if self.no_commit => "not committed".into(),
            None => "not a git repository: not committed".into(),
        };
        writeln!(out, "{}: {} ({tail})", self.key, self.done)
    }
}

fn report(
    ctx: &Ctx,
    verb: &str,
    key: &str,
    rel: &str,
    done: &str,
    commit: Option<&str>,
    no_commit: bool,
) -> Outcome {
    let result = StepDone {
        verb,
        key,
        path: rel,
        done,
        commit,
        no_commit,
    };
    emit(ctx, &result)?;
    Ok(ExitCode::SUCCESS)
}

pub fn expire(ctx: &Ctx, args: ExpireArgs) -> Outcome {
    let results = args.results.text()?;
    let body = Some(format!(
        "Winner: {}{}",
        args.winner,
        results
            .as_ref()
            .map(|r| format!("\n\n{r}"))
            .unwrap_or_default()
    ));
    step(
        ctx,
        "expire",
        &args.key,
        body,
        &args.commit,
        |doc, flag, repo| {
            let remove_by = lifecycle::expire(
                doc,
                flag,
                &repo.config,
                &args.winner,
                results.as_deref(),
                ctx.today,
            )?;
            Ok(format!(
                "concluded; serves `{}` to everyone; archive it by {remove_by}",
                args.winner
            ))
        },
    )
}

pub fn extend(ctx: &Ctx, args: ExtendArgs) -> Outcome {
    let body = Some(format!(
        "{}{}",
        args.reason,
        if args.force {
            "\n\nForced past the kind's maximum lifetime."
        } else {
            ""
        }
    ));
    step(
        ctx,
        "extend",
        &args.key,
        body,
        &args.commit,
        |doc, flag, repo| {
            let old =
                lifecycle::extend(doc, flag, &repo.config, args.until, args.force, ctx.today)?;
            Ok(format!("expires {old} → {}", args.until))
        },
    )
}

pub fn review(ctx: &Ctx, args: ReviewArgs) -> Outcome {
    step(
        ctx,
        "review",
        &args.key,
        args.note.clone(),
        &args.commit,
        |doc, flag, repo| {
            let next = lifecycle::review(doc, flag, &repo.config, ctx.today)?;
            Ok(format!("reviewed {}; next review by {next}", ctx.today))
        },
    )
}

pub fn kill(ctx: &Ctx, args: KillArgs) -> Outcome {
    step(
        ctx,
        "kill",
        &args.key,
        Some(args.reason.clone()),
        &args.commit,
        |doc, flag, repo| {
            lifecycle::set_state(doc, flag, true)?;
            let dependants = dependants(repo, &args.key);
            let note = if dependants.is_empty() {
                String::new()
            } else {
                format!("; {} fall back to their defaults", dependants.join(", "))
            };
            Ok(format!(
                "disabled: serves `{}` to everyone{note}",
                flag.default.get_ref()
            ))
        },
    )
}

pub fn restore(ctx: &Ctx, args: RestoreArgs) -> Outcome {
    step(
        ctx,
        "restore",
        &args.key,
        args.reason.clone(),
        &args.commit,
        |doc, flag, _| {
            lifecycle::set_state(doc, flag, false)?;
            Ok("enabled again".into())
        },
    )
}

/// Active flags that require `key`.
fn dependants(repo: &Repo, key: &str) -> Vec<String> {
    repo.flags()
        .filter(|(f, flag)| !f.archived && flag.requires.iter().any(|r| r.flag.get_ref() == key))
        .map(|(f, _)| f.key.clone())
        .collect()
}

pub fn archive(ctx: &Ctx, args: ArchiveArgs) -> Outcome {
    require_format(ctx, "archive", &[Format::Human, Format::Json])?;
    let results = args.results.text()?;
    let repo = ctx.load_for_change("archive")?;
    let (file, flag) = target(&repo, &args.key)?;
    let last_commit = git::open(&repo.root).and_then(|g| {
        g.head()
            .ok()?
            .peel_to_commit()
            .ok()
            .map(|c| c.id().to_string())
    });
    let mut doc: DocumentMut = file
        .source
        .text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.source.path))?;
    lifecycle::archive(
        &mut doc,
        flag,
        &repo.config,
        ctx.today,
        last_commit.as_deref(),
        results.as_deref(),
    )?;
    let rel = format!(
        "{}/_archive/{}/{}.toml",
        repo.config.flags_dir, file.service, file.key
    );
    if repo.root.join(&rel).exists() {
        bail!("{rel} already exists; remove or rename it first");
    }
    let mut body = match &flag.conclusion {
        Some(c) => format!("Concluded {} with winner {}.", c.date, c.winner),
        None => "Retired without a conclusion.".to_string(),
    };
    if let Some(r) = &results {
        body.push_str(&format!("\n\n{r}"));
    }
    let message = format!("flagctl archive: {}\n\n{body}\n", args.key);
    let change = Change {
        rel: rel.clone(),
        text: doc.to_string(),
        moved_from: Some(file.source.path.clone()),
    };
    let commit = write_and_commit(&repo, &change, &file.source.text, &message, &args.commit)?;
    let dependants = dependants(&repo, &args.key);
    if !dependants.is_empty() {
        eprintln!(
            "note: {} still require `{}`; `flagctl audit` reports them as missing-dependency",
            dependants.join(", "),
            args.key
        );
    }
    report(
        ctx,
        "archive",
        &args.key,
        &rel,
        &format!("moved to {rel}"),
        commit.as_deref(),
        args.commit.no_commit,
    )
}
