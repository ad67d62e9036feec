//! `flagctl refs [PATHS…]`: where code references each flag, and when the unused ones
//! lost their last use; `refs --base REV`: what a change adds and removes; and the scans
//! `audit --refs` runs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::terminal::tell;
use super::{Ctx, Format, Outcome, require_format};
use flagctl::model::Config;
use flagctl::model::config::RefsConfig;
use flagctl::refs::diff::BaseScan;
use flagctl::refs::history::LastUses;
use flagctl::refs::{self, Options, Scan, Target};
use flagctl::repo::{Repo, work_tree_prefix};
use flagctl::report::references::{self, Compared};

#[derive(clap::Args)]
pub struct Args {
    /// Folders and files to scan (default: `paths` of [refs] in flagctl.toml, else the
    /// whole repository)
    paths: Vec<PathBuf>,
    /// Match text only: every key between delimiters counts as `text` (faster; finds no
    /// SDK calls, accessors, types, defaults or comments)
    #[arg(long)]
    no_parse: bool,
    /// Show the references the change since REV adds and removes: the code of commit REV,
    /// read from git, against the work tree's
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Do not read git history for when each flag without a use lost its last one (only
    /// human and json show it)
    #[arg(long, conflicts_with = "base")]
    no_history: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(
        ctx,
        "refs",
        &[Format::Human, Format::Json, Format::Github, Format::Sarif],
    )?;
    let (plan, scan) = list_and_scan(ctx, &args.paths, !args.no_parse)?;
    for note in &plan.missing {
        tell!("note: {note}");
    }
    for skipped in &scan.skipped {
        tell!("note: {}", skipped.note());
    }
    let base = work_tree_prefix(&plan.root);
    let mut json = std::io::BufWriter::new(std::io::stdout().lock());
    let mut out = super::terminal::stdout(ctx.color, ctx.format() != Format::Github);
    if let Some(rev) = &args.base {
        let before = plan.scan_at("--base", rev)?;
        for note in &before.notes {
            tell!("note: {note}");
        }
        let diff = refs::diff::diff(&before.scan, &scan);
        let compared = Compared {
            rev,
            commit: &before.commit,
            diff: &diff,
            notes: &before.notes,
        };
        match ctx.format() {
            Format::Json => references::diff_json(&mut json, &compared, ctx.today)?,
            Format::Sarif => references::diff_sarif(&mut json, &compared, &base, ctx.today)?,
            Format::Github => references::diff_github(&mut out, &compared, &base)?,
            _ => references::diff_human(&mut out, &compared)?,
        }
    } else {
        // The annotations of github and sarif are about lines of code: they show no history.
        let shown = matches!(ctx.format(), Format::Human | Format::Json);
        let last_uses = if args.no_history || !shown {
            LastUses::default()
        } else {
            plan.last_uses(&scan)?
        };
        for note in &last_uses.notes {
            tell!("note: {note}");
        }
        match ctx.format() {
            Format::Json => references::json(&mut json, &scan, &last_uses, ctx.today)?,
            Format::Sarif => references::sarif(&mut json, &scan, &base, ctx.today)?,
            Format::Github => references::github(&mut out, &scan, &base)?,
            _ => references::human(&mut out, &scan, &last_uses)?,
        }
    }
    out.flush()?;
    json.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Lists the flags of the work tree and scans its code. A flag's key is its file's name,
/// so the flag files are listed, not read: `refs` reports on code, and `validate` on the
/// flag files.
fn list_and_scan(ctx: &Ctx, paths: &[PathBuf], parse: bool) -> anyhow::Result<(Plan, Scan)> {
    if ctx.global.rev.is_some() {
        anyhow::bail!("{FROM_WORK_TREE}");
    }
    let listing = Repo::list(&ctx.root()?)?;
    let targets = refs::targets(listing.flag_files());
    let mut plan = Plan::of(&listing.root, &listing.config, targets, paths)?;
    plan.parse = parse;
    let scan = plan.scan()?;
    Ok((plan, scan))
}

const FROM_WORK_TREE: &str = "code references are read from the work tree; --rev reads flags from a commit (use `--base REV` to compare with a commit)";

/// What a scan of the code looks for and where: every flag of the repository, in
/// `paths` when given (each inside the repository), else in `[refs] paths`, never in the
/// flags folder.
pub struct Plan {
    root: PathBuf,
    config: RefsConfig,
    targets: Vec<Target>,
    paths: Vec<String>,
    skip: Vec<String>,
    parse: bool,
    /// Notes on the configured paths that do not exist.
    pub missing: Vec<String>,
}

impl Plan {
    /// The plan for every flag of a loaded repository.
    pub fn new(repo: &Repo, paths: &[PathBuf]) -> anyhow::Result<Plan> {
        if repo.revision.is_some() {
            anyhow::bail!("{FROM_WORK_TREE}");
        }
        Plan::of(
            &repo.root,
            &repo.config,
            refs::targets(repo.flag_files()),
            paths,
        )
    }

    fn of(
        root: &Path,
        config: &Config,
        targets: Vec<Target>,
        paths: &[PathBuf],
    ) -> anyhow::Result<Plan> {
        let (paths, missing) = if paths.is_empty() {
            // A folder of `[refs] paths` that is not there is a note, not an error: a
            // service may not have its code yet.
            let missing = config
                .refs
                .paths
                .iter()
                .filter(|path| std::fs::symlink_metadata(root.join(path)).is_err())
                .map(|path| {
                    format!("[refs] paths: `{path}` does not exist; no code was read there")
                })
                .collect();
            (config.refs.paths.clone(), missing)
        } else {
            (refs::resolve_paths(root, paths)?, Vec::new())
        };
        Ok(Plan {
            root: root.to_path_buf(),
            config: config.refs.clone(),
            targets,
            paths,
            missing,
            skip: skipped_folders(root, config),
            parse: true,
        })
    }

    fn options<'a>(&'a self, progress: &'a (dyn Fn(usize) + Sync)) -> Options<'a> {
        Options {
            root: &self.root,
            config: &self.config,
            paths: &self.paths,
            skip: &self.skip,
            parse: self.parse,
            progress,
        }
    }

    /// Scans the work tree. A spinner shows on a terminal when the scan takes a while.
    pub fn scan(&self) -> anyhow::Result<Scan> {
        let bar = spinner("scanning code {spinner} {pos} files");
        let progress = |done: usize| tick(&bar, done);
        let scan = refs::scan(&self.targets, &self.options(&progress))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok(scan)
    }

    /// Scans the code of the commit `rev` (given as `option REV`), read from git.
    pub fn scan_at(&self, option: &str, rev: &str) -> anyhow::Result<BaseScan> {
        refs::diff::scan_at(option, rev, &self.targets, &self.options(&|_| {}))
    }

    /// When each flag `scan` found no use of lost its last one, from git history.
    pub fn last_uses(&self, scan: &Scan) -> anyhow::Result<LastUses> {
        let bar = spinner("reading history {spinner} {pos} commits with changes");
        let mut progress = |done: usize| tick(&bar, done);
        let found =
            refs::history::last_uses(scan, &self.targets, &self.options(&|_| {}), &mut progress);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        found
    }
}

/// What is never code: the flags folder, where a symlink leads it too, and
/// `flagctl.toml`.
fn skipped_folders(root: &Path, config: &Config) -> Vec<String> {
    let mut skip = vec![
        config.flags_dir.clone(),
        flagctl::model::config::CONFIG_FILE.to_string(),
    ];
    if let Ok(real) = refs::resolve_paths(root, &[root.join(&config.flags_dir)])
        && let Some(real) = real.into_iter().next()
        && real != "."
        && !skip.contains(&real)
    {
        skip.push(real);
    }
    skip
}

/// A spinner for stderr on a terminal, shown only once the work takes a while.
fn spinner(template: &str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::hidden();
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    })
}

fn tick(bar: &Option<indicatif::ProgressBar>, done: usize) {
    if let Some(bar) = bar {
        if bar.is_hidden() && bar.elapsed() > Duration::from_millis(300) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_position(done as u64);
    }
}

/// Scans the work tree for references to every flag of `repo`, in `paths` when given,
/// else in `[refs] paths` (for the commands that read code: `report`, `archive --ready`).
pub fn scan(repo: &Repo, paths: &[PathBuf], parse: bool) -> anyhow::Result<Scan> {
    let mut plan = Plan::new(repo, paths)?;
    plan.parse = parse;
    plan.scan()
}
