//! `flagctl report`: the sprint cleanup report, in Markdown, HTML or JSON.

use std::io::Write;
use std::process::ExitCode;

use super::terminal::{self, tell};
use super::{Ctx, Format, Outcome, output, require_format};
use flagctl::report::cleanup::{self, Inputs};

#[derive(clap::Args)]
pub struct Args {
    /// List reviews and expiries due within this many days, at most 36500 (default: the
    /// policy's warn_days)
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(..=36_500))]
    within: Option<u32>,
    /// Scan PATHS (default: `[refs] paths`) for the code that reads each flag: where to
    /// remove it, and which flags no code reads (ready to archive)
    #[arg(long, value_name = "PATHS", num_args = 0..)]
    refs: Option<Vec<std::path::PathBuf>>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(
        ctx,
        "report",
        &[Format::Markdown, Format::Html, Format::Json, Format::Human],
    )?;
    let repo = ctx.load()?;
    let history = super::history::read(&repo)?;
    let scan = match &args.refs {
        Some(paths) => Some(super::refs::scan(&repo, paths, true)?),
        None => None,
    };
    let mut report = cleanup::build(&Inputs {
        repo: &repo,
        today: ctx.today,
        within: args.within.unwrap_or(repo.config.policy.warn_days),
        history: history.as_ref().map_err(|why| *why),
        refs: scan.as_ref(),
    });
    if let Ok(history) = &history {
        report.notes.extend(history.notes.iter().cloned());
    }
    if let Some(scan) = &scan {
        report.notes.extend(
            scan.skipped
                .iter()
                .map(|s| format!("{} left out of the code scan: {}", s.path, s.reason)),
        );
    }
    for note in &report.notes {
        tell!("note: {note}");
    }
    let text = match ctx.format() {
        Format::Json => return output::json(ctx, &report).map(|()| ExitCode::SUCCESS),
        Format::Html => cleanup::html(&report, ctx.today),
        _ => cleanup::markdown(&report, ctx.today),
    };
    let mut out = terminal::stdout(false, true);
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
