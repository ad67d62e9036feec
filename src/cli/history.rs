//! Reading git history for the commands that use it, and `flagctl history KEY`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use serde_json::json;

use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::history::{self, ChangeKind, History, field_changes};
use flagctl::repo::Repo;

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
    let mut entries = Vec::new();
    for change in changes.iter().rev() {
        let commit = &history.commits[change.commit];
        let (old, new) = history::texts(&repo, change);
        let fields = field_changes(old.as_deref(), new.as_deref());
        let what = match change.kind {
            ChangeKind::Added => format!("added at {}", change.new_path.as_deref().unwrap_or("?")),
            ChangeKind::Deleted => {
                format!("deleted from {}", change.old_path.as_deref().unwrap_or("?"))
            }
            ChangeKind::Moved => format!(
                "moved {} → {}",
                change.old_path.as_deref().unwrap_or("?"),
                change.new_path.as_deref().unwrap_or("?")
            ),
            ChangeKind::Modified => "changed".to_string(),
        };
        entries.push((commit, what, fields));
    }
    if ctx.format() == Format::Json {
        let items: Vec<_> = entries
            .iter()
            .map(|(c, what, fields)| {
                json!({
                    "commit": c.id.to_string(), "date": c.time.map(|t| t.to_rfc3339()), "author": c.author,
                    "verb": c.verb(), "subject": c.summary, "change": what, "fields": fields,
                })
            })
            .collect();
        render::json_out(&json!({ "flag": args.key, "commits": items }))?;
        return Ok(ExitCode::SUCCESS);
    }
    for (commit, what, fields) in entries {
        let id = commit.id.to_string();
        let label = commit
            .verb()
            .map_or_else(|| commit.summary.clone(), |v| format!("flagctl {v}"));
        println!(
            "{} {} {:<20} {label}",
            &id[..7],
            commit.time.map_or_else(
                || "(date unknown)  ".to_string(),
                |t| t.format("%Y-%m-%d %H:%M").to_string()
            ),
            commit.author
        );
        println!("    {what}");
        if !matches!(what.as_str(), w if w.starts_with("added")) {
            for field in fields {
                println!("    {field}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
