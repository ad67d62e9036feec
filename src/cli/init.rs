//! `flagctl init`: a commented flagctl.toml and an empty flags/ folder.

use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{Ctx, Outcome};
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
    if !keep.exists() {
        std::fs::write(&keep, "").with_context(|| format!("cannot write {}", keep.display()))?;
    }
    println!("Initialised a flag repository in {}", root.display());
    println!("commit it: git add flagctl.toml flags && git commit -m \"flagctl init\"");
    println!(
        "next: flagctl create KEY --kind experiment --service SERVICE --owner OWNER --description TEXT"
    );
    Ok(ExitCode::SUCCESS)
}
