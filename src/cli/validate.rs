//! `flagctl validate`: file-level checks only, for pre-commit hooks.

use std::process::ExitCode;

use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::checks::{Severities, Sink, Summary, check_files};

#[derive(clap::Args)]
pub struct Args {
    /// Check what is staged in git's index (what the next commit holds), not the work
    /// tree: for pre-commit hooks
    #[arg(long, conflicts_with = "rev")]
    staged: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "validate", &[Format::Human, Format::Json])?;
    let repo = match render::load_checked(ctx, &ctx.source_or_staged(args.staged), None)? {
        Ok(repo) => repo,
        Err(code) => return Ok(code),
    };
    let severities = Severities::from_config(&repo.config);
    let mut sink = Sink::new(&severities);
    check_files(&repo, &mut sink);
    let findings = sink.into_findings();
    render::findings(ctx, &repo, &findings, &[])?;
    Ok(exit_code(Summary::of(&findings)))
}

/// 1 when anything is at error level.
pub fn exit_code(summary: Summary) -> ExitCode {
    if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
