//! `flagctl init`: a commented flagctl.toml and an empty flags/ folder.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, require_format};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> Outcome {
    require_format(ctx, "init", &[Format::Human, Format::Json])?;
    if ctx.global.rev.is_some() {
        bail!("`init` writes files; --rev is only for read-only commands");
    }
    let root = match &ctx.global.repo {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    let written = flagctl::init::init(&root)?;
    emit(
        ctx,
        &Initialised {
            root: root.display().to_string(),
            written,
            in_git: flagctl::repo::in_git(&root),
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `init`: where the repository was set up and what was written.
#[derive(Serialize, JsonSchema)]
pub struct Initialised {
    /// The repository root, as given (`--repo`) or the working directory.
    root: String,
    /// The files written, relative to the root.
    written: Vec<String>,
    /// Whether the root is inside a git work tree.
    in_git: bool,
}

impl Output for Initialised {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        writeln!(out, "Initialised a flag repository in {}", self.root)?;
        if !self.in_git {
            writeln!(
                out,
                "not a git repository: run `git init` first; flagctl commits every change it makes"
            )?;
        }
        writeln!(
            out,
            "commit it: git add flagctl.toml flags && git commit -m \"flagctl init\""
        )?;
        writeln!(
            out,
            "next: flagctl create KEY --kind experiment --service SERVICE --owner OWNER --description TEXT"
        )
    }
}
