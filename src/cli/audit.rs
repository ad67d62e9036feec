//! `flagctl audit`: every rule of the policy; the CI gate.

use anyhow::bail;

use std::collections::{HashMap, HashSet};

use super::refs::Plan;
use super::render::Detail;
use super::validate::exit_code;
use super::{Ctx, Format, Outcome, render, require_format};

use flagctl::checks::{AuditCtx, Finding, RuleId, Severities, Severity, Sink, Summary, audit};
use flagctl::refs::{self, Scan, diff::RefChange};
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
    /// Report only findings that the change since REV introduces (for pull requests);
    /// with --refs, the code at REV is scanned too
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
    /// type-mismatch, default-mismatch; with --base, finished-flag-referenced)
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
    let mut notes: Vec<String> = note.into_iter().collect();
    let plan = match &args.refs {
        Some(paths) => Some(Plan::new(&repo, paths)?),
        None => None,
    };
    let scan = plan.as_ref().map(Plan::scan).transpose()?;
    // With --base, the code at the base too: what the change adds, and the findings the
    // base already had.
    let base_scan = match (&plan, &args.base) {
        (Some(plan), Some(rev)) => Some(plan.scan_at("--base", rev)?),
        _ => None,
    };
    let added = match (&base_scan, &scan) {
        (Some(before), Some(after)) => Some(refs::diff::diff(&before.scan, after).added),
        _ => None,
    };
    notes.extend(base_scan.iter().flat_map(|b| b.notes.iter().cloned()));
    notes.extend(plan.iter().flat_map(|p| p.missing.iter().cloned()));
    // A file the scan could not read holds code no rule saw: the gate says so.
    notes.extend(scan.iter().flat_map(|s| &s.skipped).map(|s| s.note()));
    let run_audit = |repo: &Repo, refs: Option<&Scan>, added: Option<&[RefChange]>| {
        let mut sink = Sink::new(&severities);
        let history = history.as_ref();
        audit(
            &AuditCtx {
                repo,
                today: ctx.today,
                history,
                refs,
                added,
            },
            &mut sink,
        );
        sink.into_findings()
    };
    let mut findings = run_audit(&repo, scan.as_ref(), added.as_deref());
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
        let before = run_audit(
            &Repo::open_with_policy(&repo.root, &Source::Base(base.clone()), policy)?,
            base_scan.as_ref().map(|b| &b.scan),
            None,
        );
        let total = findings.len();
        findings = introduced(findings, &before);
        notes.push(format!(
            "--base {base}: {} pre-existing finding(s) left out; {} introduced since",
            total - findings.len(),
            findings.len()
        ));
    }
    render::findings_in_detail(ctx, &repo, &findings, &notes, detail)?;
    Ok(exit_code(Summary::of(&findings)))
}

/// The findings of `after` that `before` did not have. A finding about a flag file is
/// the same finding when its rule and flag are (or its path, for a file without a flag),
/// whatever its line: editing a file moves lines. A finding about code is the same when
/// its rule, flag, file and line of code are, counted: a second identical line that
/// reads an archived flag is a new finding.
fn introduced(after: Vec<Finding>, before: &[Finding]) -> Vec<Finding> {
    let subject = |f: &Finding| (f.rule, f.flag.clone().unwrap_or_else(|| f.path.clone()));
    let known: HashSet<_> = before
        .iter()
        .filter(|f| f.code.is_none())
        .map(subject)
        .collect();
    let code = |f: &Finding| {
        f.code
            .as_ref()
            .map(|line| (subject(f), f.path.clone(), line.clone()))
    };
    let mut in_code: HashMap<_, usize> = HashMap::new();
    for identity in before.iter().filter_map(code) {
        *in_code.entry(identity).or_default() += 1;
    }
    after
        .into_iter()
        .filter(|f| match code(f) {
            Some(identity) => match in_code.get_mut(&identity) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    false
                }
                _ => true,
            },
            None => !known.contains(&subject(f)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: RuleId, flag: &str, path: &str, line: usize, code: Option<&str>) -> Finding {
        Finding {
            rule,
            severity: rule.default_severity(),
            flag: Some(flag.into()),
            service: None,
            owner: None,
            path: path.into(),
            line,
            column: 1,
            message: String::new(),
            help: None,
            span: 0..0,
            code: code.map(str::to_string),
        }
    }

    fn lines(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{} {}:{}", f.rule.name(), f.path, f.line))
            .collect()
    }

    #[test]
    fn code_findings_are_new_by_file_and_line_of_code_counted() {
        let archived = RuleId::ArchivedFlagReferenced;
        let before = [
            finding(archived, "old", "a.py", 3, Some("get('old')")),
            finding(RuleId::Expired, "stale", "flags/s/stale.toml", 5, None),
        ];
        let after = vec![
            // Moved down, same line of code: not new.
            finding(archived, "old", "a.py", 9, Some("get('old')")),
            // The same line again: new.
            finding(archived, "old", "a.py", 10, Some("get('old')")),
            // Another file: new.
            finding(archived, "old", "b.py", 1, Some("get('old')")),
            // A flag file's finding on another line: not new.
            finding(RuleId::Expired, "stale", "flags/s/stale.toml", 6, None),
        ];
        assert_eq!(
            lines(&introduced(after, &before)),
            [
                "archived-flag-referenced a.py:10",
                "archived-flag-referenced b.py:1"
            ]
        );
    }
}
