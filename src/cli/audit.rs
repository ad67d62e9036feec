//! `flagctl audit`: every rule of the policy; the CI gate.

use anyhow::bail;

use super::render::Detail;
use super::validate::exit_code;
use super::{Ctx, Format, Outcome, render, require_format};
use std::collections::HashSet;

use flagctl::checks::{AuditCtx, Finding, RuleId, Severities, Severity, Sink, Summary, audit};
use flagctl::repo::{Repo, Source};

#[derive(clap::Args)]
pub struct Args {
    /// Treat RULE as an error (repeatable)
    #[arg(long, value_name = "RULE", value_parser = parse_rule)]
    deny: Vec<RuleId>,
    /// Treat RULE as a warning (repeatable)
    #[arg(long, value_name = "RULE", value_parser = parse_rule)]
    warn: Vec<RuleId>,
    /// Turn RULE off (repeatable)
    #[arg(long, value_name = "RULE", value_parser = parse_rule)]
    allow: Vec<RuleId>,
    /// Treat every warning as an error
    #[arg(long)]
    deny_warnings: bool,
    /// Report only findings that the change since REV introduces (for pull requests)
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Read flagctl.toml (the policy, and where the flags live) from REV, so that a pull
    /// request cannot loosen the rules it is checked by
    #[arg(long, value_name = "REV")]
    policy_from: Option<String>,
    /// Check what is staged in git's index (what the next commit holds), not the work tree
    #[arg(long, conflicts_with = "rev")]
    staged: bool,
    /// Also check the code against the flags: scan PATHS (default: `[refs] paths`) for
    /// references (unused-flag, archived-flag-referenced, unknown-flag-referenced,
    /// type-mismatch, default-mismatch)
    #[arg(long, value_name = "PATHS", num_args = 0..)]
    refs: Option<Vec<std::path::PathBuf>>,
    /// Print only the summary line, and no notes on stderr; the exit code says the rest
    /// (json, github, sarif and junit still print their whole document)
    #[arg(long, short = 'q', conflicts_with = "statistics")]
    quiet: bool,
    /// Instead of the diagnostics, print how many findings each rule has, most first, then
    /// the summary line (human format only)
    #[arg(long)]
    statistics: bool,
}

fn parse_rule(name: &str) -> Result<RuleId, String> {
    RuleId::from_name(name).ok_or_else(|| {
        let names = RuleId::ALL.map(RuleId::name);
        match flagctl::model::names::did_you_mean(name, names) {
            Some(near) => format!("unknown rule `{name}`; did you mean `{near}`?"),
            None => format!("unknown rule `{name}`; rules: {}", names.join(", ")),
        }
    })
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(
        ctx,
        "audit",
        &[
            Format::Human,
            Format::Json,
            Format::Github,
            Format::Sarif,
            Format::Junit,
        ],
    )?;
    if args.statistics && ctx.format() != Format::Human {
        bail!(
            "--statistics counts findings for people (--format human); the other formats list every finding with its rule"
        );
    }
    let detail = if args.quiet {
        Detail::Quiet
    } else if args.statistics {
        Detail::Statistics
    } else {
        Detail::Diagnostics
    };
    let policy = args.policy_from.as_deref();
    let repo = match render::load_checked(ctx, &ctx.source_or_staged(args.staged), policy)? {
        Ok(repo) => repo,
        Err(code) => return Ok(code),
    };
    let mut severities = Severities::from_config(&repo.config);
    for (rules, severity) in [
        (&args.deny, Some(Severity::Error)),
        (&args.warn, Some(Severity::Warning)),
        (&args.allow, None),
    ] {
        for rule in rules {
            severities.set(*rule, severity);
        }
    }
    if args.deny_warnings {
        severities.deny_warnings();
    }
    let (history, note) = super::history::load(&repo)?;
    let scan = match &args.refs {
        Some(paths) => Some(super::refs::scan(&repo, paths, true)?),
        None => None,
    };
    let run_audit = |repo: &Repo| {
        let mut sink = Sink::new(&severities);
        let history = history.as_ref();
        audit(
            &AuditCtx {
                repo,
                today: ctx.today,
                history,
                refs: scan.as_ref(),
            },
            &mut sink,
        );
        sink.into_findings()
    };
    let mut findings = run_audit(&repo);
    let mut notes: Vec<String> = note.into_iter().collect();
    notes.extend(history.iter().flat_map(|h| h.notes.iter().cloned()));
    if let Some(rev) = policy {
        notes.push(format!(
            "--policy-from {rev}: flagctl.toml was read from {rev}"
        ));
    }
    if repo.revision.is_none() && !repo.root.join(&repo.config.flags_dir).is_dir() {
        notes.push(format!(
            "the flags folder `{}` does not exist: no flag was checked",
            repo.config.flags_dir
        ));
    }
    if let Some(base) = &args.base {
        let before = run_audit(&Repo::open_with_policy(
            &repo.root,
            &Source::Base(base.clone()),
            policy,
        )?);
        let identity = |f: &Finding| (f.rule, f.flag.clone().unwrap_or_else(|| f.path.clone()));
        let known: HashSet<_> = before.iter().map(identity).collect();
        let total = findings.len();
        findings.retain(|f| !known.contains(&identity(f)));
        notes.push(format!(
            "--base {base}: {} pre-existing finding(s) left out; {} introduced since",
            total - findings.len(),
            findings.len()
        ));
    }
    render::findings_in_detail(ctx, &repo, &findings, &notes, detail)?;
    Ok(exit_code(Summary::of(&findings)))
}
