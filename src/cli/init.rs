//! `flagctl init`: a commented flagctl.toml and an empty flags/ folder.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, require_format};
use flagctl::model::config::CONFIG_FILE;

#[derive(clap::Args)]
pub struct Args {}

const CONFIG_TEMPLATE: &str = r##"# flagctl configuration. Every part is optional; the values shown are the defaults.
flags_dir = "flags"

[policy]
max_flags_per_service = 25   # flags a service may carry
warn_days = 7                # window for expiring-soon / review-due-soon
removal_grace_days = 30      # a concluded temporary flag must be archived within this

# Temporary kinds expire after max_days; permanent kinds are reviewed every review_days.
[kinds.experiment]
temporary = true
max_days = 30
[kinds.release]
temporary = true
max_days = 30
[kinds.operational]
temporary = true
max_days = 7
[kinds.kill-switch]
review_days = 90
[kinds.regulatory]
review_days = 90
[kinds.parameter]
review_days = 90

# Owners: once any are declared, every flag's owner must be one of them.
# [owners.team-ranking]
# contact = "ranking@example.com"
# slack = "#ranking-alerts"

# Per-service limits and allowed owners.
# [services.ranking]
# max_flags = 30
# owners = ["team-ranking"]

# Named segments, usable in rules as `segment = "sg-users"`.
# [segments.sg-users]
# when = [{ attr = "country", in = ["SG"] }]

# Per-rule severity: "error", "warning" or "off".
# [severity]
# expiring-soon = "error"
"##;

pub fn run(ctx: &Ctx, _args: Args) -> Outcome {
    require_format(ctx, "init", &[Format::Human, Format::Json])?;
    if ctx.global.rev.is_some() {
        bail!("`init` writes files; --rev is only for read-only commands");
    }
    let root = match &ctx.global.repo {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    let config = root.join(CONFIG_FILE);
    if config.exists() {
        bail!(
            "{} already exists; this is already a flag repository",
            config.display()
        );
    }
    flagctl::fsio::write_atomic(&config, CONFIG_TEMPLATE, false)?;
    let flags = root.join("flags");
    std::fs::create_dir_all(&flags)
        .with_context(|| format!("cannot create {}", flags.display()))?;
    let keep = flags.join(".gitkeep");
    let mut written = vec![CONFIG_FILE.to_owned()];
    if !keep.exists() {
        std::fs::write(&keep, "").with_context(|| format!("cannot write {}", keep.display()))?;
        written.push("flags/.gitkeep".to_owned());
    }
    emit(
        ctx,
        &Initialised {
            root: root.display().to_string(),
            written,
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
}

impl Output for Initialised {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        writeln!(out, "Initialised a flag repository in {}", self.root)?;
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
