//! `flagctl cleanup KEY… [PATHS…] [--dry-run]`: removes finished flags from the code. Every
//! SDK evaluation of each flag is rewritten to its winning value and the dead branches go;
//! `--dry-run` prints the diff and the table of uses and writes nothing, else the touched
//! source files are written and committed in one transaction.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use schemars::JsonSchema;
use serde::Serialize;

use super::lifecycle::CommitArgs;
use super::output::{Output, emit};
use super::terminal::tell;
use super::{Ctx, Format, Outcome, require_format};
use flagctl::cleanup::{self, Plan, Summary, Use, Winner};
use flagctl::refs::{self, Options, Target};
use flagctl::repo::{Applied, Repo, Transaction, short_id};

#[derive(clap::Args)]
pub struct Args {
    /// The finished flags (concluded or archived) to remove from the code, then the folders
    /// and files to rewrite (default: `paths` of [refs] in flagctl.toml)
    #[arg(value_name = "KEY|PATH", required = true)]
    args: Vec<String>,
    /// `--dry-run` prints the diff and the table of uses, and writes nothing
    #[command(flatten)]
    commit: CommitArgs,
}

/// What cleanup did (or, with --dry-run, would do).
#[derive(Serialize, JsonSchema)]
pub struct Cleaned {
    pub dry_run: bool,
    /// Each flag with its winning value and what became of its uses.
    pub flags: Vec<FlagCleaned>,
    /// Every use of the flags in the code, by path, line and column.
    pub uses: Vec<Use>,
    /// The files rewritten (or that would be).
    pub files: Vec<FileCleaned>,
    #[serde(flatten)]
    pub applied: Applied,
    #[serde(skip)]
    diff: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct FlagCleaned {
    #[serde(flatten)]
    pub summary: Summary,
    /// The winning variant's value, which every rewritten use now reads.
    pub value: serde_json::Value,
}

#[derive(Serialize, JsonSchema)]
pub struct FileCleaned {
    pub path: String,
    pub lines_added: usize,
    pub lines_removed: usize,
    /// The unified diff, with --dry-run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "cleanup", &[Format::Human, Format::Json])?;
    let root = ctx.root_for_change("cleanup")?;
    let transaction = if args.commit.dry_run {
        None
    } else {
        Some(Transaction::begin(&root, args.commit.options()?)?)
    };
    let repo = Repo::load(&root)?;
    let (keys, paths) = keys_and_paths(&repo, &args.args)?;
    let winners = keys
        .iter()
        .map(|key| cleanup::winner(&repo, key))
        .collect::<anyhow::Result<Vec<Winner>>>()?;
    let scan = scan(&repo, &keys, &paths)?;
    for skipped in &scan.skipped {
        tell!("note: {} left out: {}", skipped.path, skipped.reason);
    }
    let plan = cleanup::plan(&repo, winners, &scan)?;
    let mut applied = match transaction {
        Some(transaction) if !plan.files.is_empty() => {
            transaction.apply(&plan.changes(), &plan.message())?
        }
        Some(_) => Applied {
            not_committed: Some("nothing to rewrite".into()),
            ..Applied::default()
        },
        None => Applied {
            not_committed: Some("dry run: nothing was written".into()),
            ..Applied::default()
        },
    };
    applied.notes.extend(plan.notes.iter().cloned());
    if ctx.format() == Format::Human {
        for note in &applied.notes {
            tell!("note: {note}");
        }
    }
    emit(ctx, &cleaned(plan, applied, args.commit.dry_run))?;
    Ok(ExitCode::SUCCESS)
}

/// The leading arguments that name flags, and the paths after them. An argument that is
/// neither a flag nor a path is refused with the nearest flag.
fn keys_and_paths(repo: &Repo, args: &[String]) -> anyhow::Result<(Vec<String>, Vec<PathBuf>)> {
    let mut keys: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    for arg in args {
        if paths.is_empty() && repo.find(arg).is_some() {
            if !keys.contains(arg) {
                keys.push(arg.clone());
            }
        } else if repo.root.join(arg).exists() || std::path::Path::new(arg).exists() {
            paths.push(PathBuf::from(arg));
        } else if !keys.is_empty() && (arg.contains('/') || arg.contains('.')) {
            // After a key, what looks like a path is one that is not there.
            bail!(
                "no file or folder `{}`\nhelp: paths are relative to the repository root, {}",
                arg.escape_debug(),
                repo.root.display()
            );
        } else {
            // Names the nearest flag.
            repo.lookup(arg)?;
        }
    }
    if keys.is_empty() {
        bail!("name at least one flag before the paths: `flagctl cleanup KEY… [PATHS…]`");
    }
    Ok((keys, paths))
}

/// The references to `keys` in `paths` (else `[refs] paths`): the files that name one of
/// them, by text alone (cleanup parses each file it rewrites once, and tells SDK calls,
/// comments and strings apart itself).
fn scan(repo: &Repo, keys: &[String], paths: &[PathBuf]) -> anyhow::Result<refs::Scan> {
    let paths = if paths.is_empty() {
        repo.config.refs.paths.clone()
    } else {
        refs::resolve_paths(&repo.root, paths)?
    };
    let mut targets: Vec<Target> = keys
        .iter()
        .map(|key| Target {
            key: key.clone(),
            archived: repo.find(key).is_some_and(|f| f.archived),
        })
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key));
    let skip = [
        repo.config.flags_dir.clone(),
        flagctl::model::config::CONFIG_FILE.to_string(),
    ];
    refs::scan_only(
        &targets,
        &Options {
            root: &repo.root,
            config: &repo.config.refs,
            paths: &paths,
            skip: &skip,
            parse: false,
            progress: &|_| {},
        },
    )
}

fn cleaned(plan: Plan, applied: Applied, dry_run: bool) -> Cleaned {
    let summaries = plan.summaries();
    let files = plan
        .files
        .iter()
        .map(|file| FileCleaned {
            path: file.path.clone(),
            lines_added: file.lines_added,
            lines_removed: file.lines_removed,
            diff: dry_run.then(|| file.diff()),
        })
        .collect::<Vec<_>>();
    Cleaned {
        dry_run,
        diff: files.iter().filter_map(|f| f.diff.clone()).collect(),
        flags: plan
            .flags
            .into_iter()
            .zip(summaries)
            .map(|(winner, summary)| FlagCleaned {
                summary,
                value: winner.value,
            })
            .collect(),
        uses: plan.uses,
        files,
        applied,
    }
}

impl Output for Cleaned {
    fn human(&self, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
        for diff in &self.diff {
            for line in diff.lines() {
                let painted = match line.as_bytes().first() {
                    _ if line.starts_with("+++") || line.starts_with("---") => {
                        paint(line, "1", color)
                    }
                    Some(b'+') => paint(line, "32", color),
                    Some(b'-') => paint(line, "31", color),
                    Some(b'@') => paint(line, "36", color),
                    _ => line.to_string(),
                };
                writeln!(out, "{painted}")?;
            }
        }
        if !self.diff.is_empty() {
            writeln!(out)?;
        }
        for flag in &self.flags {
            let s = &flag.summary;
            writeln!(
                out,
                "{}: {} of {} rewritten to `{}` ({}), {} skipped; {}, +{} −{} lines",
                s.flag,
                s.rewritten,
                plural(s.uses, "use"),
                s.variant,
                flag.value,
                s.skipped,
                plural(s.files, "file"),
                s.lines_added,
                s.lines_removed
            )?;
            let uses: Vec<&Use> = self.uses.iter().filter(|u| u.flag == s.flag).collect();
            let width = uses
                .iter()
                .map(|u| {
                    format!("{}:{}:{}", u.path, u.line, u.column)
                        .chars()
                        .count()
                })
                .max()
                .unwrap_or(0);
            for u in uses {
                let place = format!("{}:{}:{}", u.path, u.line, u.column);
                let what = u.method.as_deref().unwrap_or(u.kind.name());
                match &u.reason {
                    None => writeln!(
                        out,
                        "  {place:width$}  {}  {what}",
                        paint("rewritten", "32", color)
                    )?,
                    Some(reason) => writeln!(
                        out,
                        "  {place:width$}  {}    {what}: {reason}",
                        paint("skipped", "33", color)
                    )?,
                }
            }
        }
        match (&self.applied.commit, &self.applied.not_committed) {
            (Some(commit), _) => writeln!(
                out,
                "committed {} ({})",
                short_id(commit),
                plural(self.files.len(), "file")
            ),
            (None, Some(why)) => writeln!(out, "{why}"),
            (None, None) => Ok(()),
        }
    }
}

/// `text` in the SGR style `code` when colour is on (the terminal writer lets flagctl's own
/// colour sequences through).
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    } else {
        text.to_string()
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
