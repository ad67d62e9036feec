//! `flagctl refs [PATHS…]`: where code references each flag; and the scan `audit --refs`
//! runs.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::terminal::tell;
use super::{Ctx, Format, Outcome, require_format};
use flagctl::refs::{self, Options, Scan};
use flagctl::repo::{Repo, work_tree_prefix};
use flagctl::report::references;

#[derive(clap::Args)]
pub struct Args {
    /// Folders and files to scan (default: `paths` of [refs] in flagctl.toml, else the
    /// whole repository)
    paths: Vec<PathBuf>,
    /// Match text only: every key between delimiters counts as `text` (faster; finds no
    /// SDK calls, types, defaults or comments)
    #[arg(long)]
    no_parse: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(
        ctx,
        "refs",
        &[Format::Human, Format::Json, Format::Github, Format::Sarif],
    )?;
    let repo = ctx.load()?;
    let scan = scan(&repo, &args.paths, !args.no_parse)?;
    for skipped in &scan.skipped {
        tell!("note: {} left out: {}", skipped.path, skipped.reason);
    }
    let base = work_tree_prefix(&repo.root);
    let mut json = std::io::BufWriter::new(std::io::stdout().lock());
    let mut out = super::terminal::stdout(ctx.color, ctx.format() != Format::Github);
    match ctx.format() {
        Format::Json => references::json(&mut json, &scan, ctx.today)?,
        Format::Sarif => references::sarif(&mut json, &scan, &base, ctx.today)?,
        Format::Github => references::github(&mut out, &scan, &base)?,
        _ => references::human(&mut out, &scan)?,
    }
    out.flush()?;
    json.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Scans the work tree for references to every flag of `repo`: `paths` when given (each
/// inside the repository), else `[refs] paths`. A spinner shows on a terminal when the
/// scan takes a while.
pub fn scan(repo: &Repo, paths: &[PathBuf], parse: bool) -> anyhow::Result<Scan> {
    if repo.revision.is_some() {
        anyhow::bail!(
            "code references are read from the work tree; --rev reads flags from a commit (use `--base REV` to compare with a commit)"
        );
    }
    let paths = if paths.is_empty() {
        repo.config.refs.paths.clone()
    } else {
        refs::resolve_paths(&repo.root, paths)?
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("scanning code {spinner} {pos} files")
                .expect("a valid template"),
        );
        bar
    });
    let progress = |done: usize| {
        if let Some(bar) = &bar {
            if bar.is_hidden() && bar.elapsed() > Duration::from_millis(300) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_position(done as u64);
        }
    };
    let targets = refs::targets(repo);
    let skip = [
        repo.config.flags_dir.clone(),
        flagctl::model::config::CONFIG_FILE.to_string(),
    ];
    let scan = refs::scan(
        &targets,
        &Options {
            root: &repo.root,
            config: &repo.config.refs,
            paths: &paths,
            skip: &skip,
            parse,
            progress: &progress,
        },
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(scan)
}
