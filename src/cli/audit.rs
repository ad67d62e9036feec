//! `flagctl audit`: every rule of the policy; the CI gate.

use super::validate::exit_code;
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::checks::{AuditCtx, RuleId, Severities, Severity, Sink, Summary, audit};

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
    let repo = ctx.load()?;
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
    let mut sink = Sink::new(&severities);
    audit(
        &AuditCtx {
            repo: &repo,
            today: ctx.today,
        },
        &mut sink,
    );
    let findings = sink.into_findings();
    render::findings(ctx, &repo, &findings, &[])?;
    Ok(exit_code(Summary::of(&findings)))
}
