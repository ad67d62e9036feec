//! Removal readiness: whether a flag is finished and safe to take out of the code and
//! the repository, worked out offline from the flag files, git history and the code.
//!
//! Each flag gets every check with its verdict and the reason for it, and one overall
//! answer: ready to archive (nothing reads it any more), ready for code removal (finished,
//! but code still reads it: remove those uses, keeping [`FlagReadiness::keep`]), or not
//! ready. `report`, `archive --ready` and the `launched` rule read this one model.

use chrono::{Days, NaiveDate};
use schemars::JsonSchema;
use serde::Serialize;

use crate::deadline::{Status, standing};
use crate::history::{History, Targeting, Unavailable};
use crate::model::flag::{Action, State};
use crate::model::{Config, Flag};
use crate::refs::{Reference, Scan};
use crate::repo::{FlagFile, Repo};

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The evidence is missing: no git history, or the code was not scanned.
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The checks, in the order they are made and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    /// The flag's kind is temporary: permanent flags are retired by a decision.
    Temporary,
    /// The flag is at least `[cleanup] min_age_days` old.
    Age,
    /// Concluded, or launched: it serves one variant to everyone.
    Finished,
    /// No targeting change for `[cleanup] stable_days` (from git history).
    Stable,
    /// No live flag requires it.
    NotRequired,
    /// Code references: none means the flag can be archived as it is.
    Code,
}

impl CheckName {
    pub const ALL: [CheckName; 6] = [
        CheckName::Temporary,
        CheckName::Age,
        CheckName::Finished,
        CheckName::Stable,
        CheckName::NotRequired,
        CheckName::Code,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CheckName::Temporary => "temporary",
            CheckName::Age => "age",
            CheckName::Finished => "finished",
            CheckName::Stable => "stable",
            CheckName::NotRequired => "not-required",
            CheckName::Code => "code",
        }
    }
}

/// One check of a flag, with its verdict and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Check {
    pub check: CheckName,
    pub verdict: Verdict,
    pub reason: String,
}

/// Whether a flag can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Readiness {
    /// Finished and read by no code: `flagctl archive KEY` (or `archive --ready`).
    ReadyToArchive,
    /// Finished, but code still reads it (or the code was not scanned): remove those
    /// uses, keeping the variant it serves, then archive it.
    ReadyForCodeRemoval,
    NotReady,
}

impl Readiness {
    pub fn name(self) -> &'static str {
        match self {
            Readiness::ReadyToArchive => "ready to archive",
            Readiness::ReadyForCodeRemoval => "ready for code removal",
            Readiness::NotReady => "not ready",
        }
    }
}

/// The removal readiness of one active flag.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FlagReadiness {
    pub flag: String,
    pub service: String,
    pub owner: String,
    pub kind: String,
    pub description: String,
    pub path: String,
    /// Its status on the day, as `list` shows it.
    pub status: Status,
    pub readiness: Readiness,
    /// The variant the code keeps when the flag goes: the conclusion's winner, or the one
    /// variant a launched flag serves.
    pub keep: Option<String>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The code that reads the flag (with a code scan): what to remove.
    pub references: Vec<Reference>,
}

impl FlagReadiness {
    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == name)
    }
}

/// What readiness is worked out from.
pub struct Evidence<'a> {
    pub repo: &'a Repo,
    pub today: NaiveDate,
    /// Git history, or why there is none.
    pub history: Result<&'a History, Unavailable>,
    /// The code references, when the code was scanned.
    pub refs: Option<&'a Scan>,
}

/// The readiness of every active flag that fits the schema, in path order.
pub fn assess(evidence: &Evidence) -> Vec<FlagReadiness> {
    let targeting = evidence
        .history
        .is_ok()
        .then(|| Targeting::open(evidence.repo));
    evidence
        .repo
        .flags()
        .filter(|(file, flag)| !file.archived && flag.kind_of(&evidence.repo.config).is_some())
        .map(|(file, flag)| assess_one(evidence, targeting.as_ref(), file, flag))
        .collect()
}

fn assess_one(
    evidence: &Evidence,
    targeting: Option<&Targeting>,
    file: &FlagFile,
    flag: &Flag,
) -> FlagReadiness {
    let config = &evidence.repo.config;
    let launched = launched(flag);
    let (code, references) = code(evidence.refs, &file.key);
    let checks = vec![
        temporary(flag, config),
        age(flag, config, evidence.today),
        finished(flag, launched.as_ref(), config),
        stable(evidence, targeting, &file.key),
        not_required(evidence.repo, &file.key),
        code,
    ];
    let finished = checks
        .iter()
        .filter(|c| c.check != CheckName::Code)
        .all(|c| c.verdict == Verdict::Pass);
    let readiness = match checks.last().map(|c| c.verdict) {
        _ if !finished => Readiness::NotReady,
        Some(Verdict::Pass) => Readiness::ReadyToArchive,
        _ => Readiness::ReadyForCodeRemoval,
    };
    let keep = match (&flag.conclusion, launched) {
        (Some(conclusion), _) => Some(conclusion.winner.clone()),
        (None, Some(launched)) if flag.state == State::Enabled => Some(launched.variant),
        _ => None,
    };
    FlagReadiness {
        flag: file.key.clone(),
        service: file.service.clone(),
        owner: flag.owner.get_ref().clone(),
        kind: flag.kind.get_ref().clone(),
        description: flag.description.clone(),
        path: file.source.path.clone(),
        status: standing(file, config, evidence.today).status,
        readiness,
        keep,
        checks,
        references,
    }
}

fn check(check: CheckName, verdict: Verdict, reason: impl Into<String>) -> Check {
    Check {
        check,
        verdict,
        reason: reason.into(),
    }
}

fn pass_if(condition: bool) -> Verdict {
    if condition {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

fn temporary(flag: &Flag, config: &Config) -> Check {
    let kind = flag.kind.get_ref();
    let temporary = flag.kind_of(config).is_some_and(|k| k.is_temporary());
    let reason = if temporary {
        format!("`{kind}` is a temporary kind")
    } else {
        format!("`{kind}` is a permanent kind: it is retired by a decision, not when it is done")
    };
    check(CheckName::Temporary, pass_if(temporary), reason)
}

fn age(flag: &Flag, config: &Config, today: NaiveDate) -> Check {
    let created = *flag.created.get_ref();
    let days = (today - created).num_days();
    let min = config.cleanup.min_age_days;
    let reason = if days >= i64::from(min) {
        format!("created {created}, {days} days ago (at least {min})")
    } else {
        format!("created {created}, {days} days ago: younger than min_age_days ({min})")
    };
    check(CheckName::Age, pass_if(days >= i64::from(min)), reason)
}

fn finished(flag: &Flag, launched: Option<&Launched>, config: &Config) -> Check {
    let verdict = |reason: String, done: bool| check(CheckName::Finished, pass_if(done), reason);
    if let Some(conclusion) = &flag.conclusion {
        return verdict(
            format!(
                "concluded on {}: serves `{}` to everyone",
                conclusion.date, conclusion.winner
            ),
            true,
        );
    }
    if flag.state == State::Disabled {
        let default = flag.default.get_ref();
        let temporary = flag.kind_of(config).is_some_and(|k| k.is_temporary());
        let or_conclude = if temporary {
            format!(", or conclude it with `--winner {default}`")
        } else {
            String::new()
        };
        return verdict(
            format!(
                "disabled (killed): serves its default `{default}` only while the kill lasts; restore it{or_conclude}"
            ),
            false,
        );
    }
    if let Some(launched) = launched {
        return verdict(format!("launched: {}", launched.how), true);
    }
    let served = served(flag);
    if flag.rules.is_empty() {
        return verdict(
            format!(
                "not concluded, and it has no rules: it serves its default `{}`, so nothing was rolled out",
                flag.default.get_ref()
            ),
            false,
        );
    }
    verdict(
        format!(
            "not concluded, and it serves {} variants: {}",
            served.len(),
            quoted(&served)
        ),
        false,
    )
}

fn stable(evidence: &Evidence, targeting: Option<&Targeting>, key: &str) -> Check {
    let days = evidence.repo.config.cleanup.stable_days;
    let unknown = |why: &str| check(CheckName::Stable, Verdict::Unknown, why);
    let (history, targeting) = match (evidence.history, targeting) {
        (Ok(history), Some(targeting)) => (history, targeting),
        (Err(why), _) => {
            return unknown(match why {
                Unavailable::NotGit => {
                    "not a git repository: no history shows when its targeting last changed"
                }
                Unavailable::NoCommits => {
                    "no commits yet: no history shows when its targeting last changed"
                }
                Unavailable::Shallow => {
                    "shallow clone: fetch the full history (`git fetch --unshallow`) to see when its targeting last changed"
                }
            });
        }
        (Ok(_), None) => return unknown("git history could not be read"),
    };
    let Some(last) = history.last_changed(key) else {
        return check(
            CheckName::Stable,
            Verdict::Fail,
            "not committed yet: git has no history of it",
        );
    };
    let after = evidence.today - Days::new(days.into());
    match targeting.changed_after(history, key, after) {
        None => {
            let last = last
                .date()
                .map_or_else(String::new, |d| format!("; its file last changed on {d}"));
            check(
                CheckName::Stable,
                Verdict::Pass,
                format!("no targeting change in the last {days} days{last}"),
            )
        }
        Some(change) => {
            let when = change.date.map_or_else(
                || "in a commit without a readable date".to_string(),
                |d| {
                    format!(
                        "on {d} ({}); stable from {}",
                        crate::deadline::relative_days((d - evidence.today).num_days()),
                        d + Days::new(days.into())
                    )
                },
            );
            check(
                CheckName::Stable,
                Verdict::Fail,
                format!(
                    "targeting changed {when} ({} in commit {})",
                    change.fields.join(", "),
                    crate::repo::short_id(&change.commit)
                ),
            )
        }
    }
}

fn not_required(repo: &Repo, key: &str) -> Check {
    let dependants: Vec<String> = repo
        .flags()
        .filter(|(f, flag)| !f.archived && flag.requires.iter().any(|r| r.flag.get_ref() == key))
        .map(|(f, _)| f.key.clone())
        .collect();
    if dependants.is_empty() {
        check(
            CheckName::NotRequired,
            Verdict::Pass,
            "no live flag requires it",
        )
    } else {
        check(
            CheckName::NotRequired,
            Verdict::Fail,
            format!(
                "required by {}: archived, it would no longer serve {}",
                quoted(&dependants),
                if dependants.len() == 1 { "it" } else { "them" }
            ),
        )
    }
}

fn code(scan: Option<&Scan>, key: &str) -> (Check, Vec<Reference>) {
    let Some(scan) = scan else {
        return (
            check(
                CheckName::Code,
                Verdict::Unknown,
                "code not scanned: pass --refs (default: [refs] paths) to find its uses",
            ),
            Vec::new(),
        );
    };
    let Some(refs) = scan.of(key) else {
        return (
            check(CheckName::Code, Verdict::Pass, "no code reads it"),
            Vec::new(),
        );
    };
    let uses: Vec<Reference> = refs.uses().cloned().collect();
    let comments = refs.references.len() - uses.len();
    if uses.is_empty() {
        let note = match comments {
            0 => String::new(),
            1 => " (one mention in a comment)".to_string(),
            n => format!(" ({n} mentions in comments)"),
        };
        return (
            check(
                CheckName::Code,
                Verdict::Pass,
                format!("no code reads it{note}"),
            ),
            uses,
        );
    }
    let mut files: Vec<&str> = uses.iter().map(|r| r.path.as_str()).collect();
    files.dedup();
    let places: Vec<String> = uses
        .iter()
        .take(3)
        .map(|r| format!("{}:{}", r.path, r.line))
        .collect();
    let more = if uses.len() > 3 { ", …" } else { "" };
    let reason = format!(
        "read in {} {} of {} {}: {}{more}",
        uses.len(),
        if uses.len() == 1 { "place" } else { "places" },
        files.len(),
        if files.len() == 1 { "file" } else { "files" },
        places.join(", ")
    );
    (check(CheckName::Code, Verdict::Fail, reason), uses)
}

/// `a`, `b`, `c`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The variants a flag's rules and default can serve, in the order they are first reached:
/// each rule's variant or the variants its rollout gives a positive weight, up to the
/// first rule without conditions or segment (it catches everyone, so later rules are never
/// reached); the default too when no rule catches everyone, or when a `layer` leaves
/// units outside its range.
///
/// Prerequisites are left out: when one fails the flag serves its default, but that is
/// a safety net, not targeting. So is a missing bucketing attribute.
pub fn served(flag: &Flag) -> Vec<String> {
    let mut variants: Vec<String> = Vec::new();
    let mut add = |variant: &str| {
        if !variants.iter().any(|v| v == variant) {
            variants.push(variant.to_string());
        }
    };
    let mut catches_everyone = false;
    for rule in &flag.rules {
        match &rule.action {
            Action::Serve(variant) => add(variant),
            Action::Rollout(weights) => weights
                .iter()
                .filter(|(_, weight)| *weight > 0)
                .for_each(|(variant, _)| add(variant)),
        }
        if rule.when.is_empty() && rule.segment.is_none() {
            catches_everyone = true;
            break;
        }
    }
    let partial_layer = flag
        .layer
        .as_ref()
        .is_some_and(|l| l.from > 0 || l.to < 100);
    if !catches_everyone || partial_layer {
        add(flag.default.get_ref());
    }
    variants
}

/// A flag that serves one variant to everyone, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub variant: String,
    /// How, in words: "rule `canary` rolls out `candidate` at 100%".
    pub how: String,
    /// Where, in the flag's file: the rule that decides it.
    pub span: std::ops::Range<usize>,
}

/// The one variant the rules of a flag serve to everyone, by static analysis
/// ([`served`]): a rollout at 100/0, or rules that all serve the same variant. A flag
/// without rules serves its default, but nothing was rolled out, so it is not launched;
/// nor is a disabled flag, whose kill may end.
pub fn launched(flag: &Flag) -> Option<Launched> {
    if flag.rules.is_empty() || flag.state == State::Disabled {
        return None;
    }
    let [variant] = <[String; 1]>::try_from(served(flag)).ok()?;
    let catch_all = flag
        .rules
        .iter()
        .position(|r| r.when.is_empty() && r.segment.is_none());
    let name = |index: usize| {
        flag.rules[index]
            .name
            .as_ref()
            .map_or_else(|| format!("#{}", index + 1), |n| format!("`{n}`"))
    };
    let how = match catch_all {
        Some(0) => match &flag.rules[0].action {
            Action::Rollout(_) => format!("rule {} rolls out `{variant}` at 100%", name(0)),
            Action::Serve(_) => format!("rule {} serves `{variant}` to everyone", name(0)),
        },
        Some(last) => format!(
            "rules {} to {} all serve `{variant}`, the last to everyone",
            name(0),
            name(last)
        ),
        None => format!("every rule and the default serve `{variant}`"),
    };
    let rule = &flag.rules[catch_all.unwrap_or(0)];
    Some(Launched {
        variant,
        how,
        span: rule.span.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFile;

    fn flag(rules: &str) -> Flag {
        let text = format!(
            "description = \"x\"\nkind = \"experiment\"\nowner = \"@ml\"\ncreated = 2026-11-01\n\
             expires = 2026-11-30\ndefault = \"off\"\n[variants]\noff = false\non = true\n{rules}"
        );
        Flag::parse(
            &SourceFile::new("flags/s/k.toml", text.as_str()),
            &Config::default(),
        )
        .expect("a valid flag")
    }

    fn launched_variant(rules: &str) -> Option<String> {
        launched(&flag(rules)).map(|l| l.variant)
    }

    #[test]
    fn a_full_rollout_or_rules_agreeing_on_one_variant_is_launched() {
        let full = "[[rules]]\nname = \"canary\"\nrollout = [{ variant = \"on\", weight = 100 }, { variant = \"off\", weight = 0 }]\n";
        assert_eq!(launched_variant(full), Some("on".into()));
        assert_eq!(
            launched(&flag(full)).unwrap().how,
            "rule `canary` rolls out `on` at 100%"
        );
        let split = full
            .replace("100 }", "90 }")
            .replace("weight = 0", "weight = 10");
        assert_eq!(launched_variant(&split), None);
        // A rule with conditions leaves everyone else to the default.
        let qa =
            "[[rules]]\nwhen = [{ attr = \"email\", ends_with = \"@x.com\" }]\nserve = \"on\"\n";
        assert_eq!(launched_variant(qa), None);
        assert_eq!(served(&flag(qa)), ["on", "off"]);
        // … unless a later rule catches everyone with the same variant.
        let both = format!("{qa}[[rules]]\nname = \"all\"\nserve = \"on\"\n");
        assert_eq!(launched_variant(&both), Some("on".into()));
        // Rules after a catch-all are never reached.
        let shadowed = format!("{full}[[rules]]\nserve = \"off\"\n");
        assert_eq!(launched_variant(&shadowed), Some("on".into()));
        // Rolled back: every rule serves the default.
        let back = "[[rules]]\nwhen = [{ attr = \"a\", eq = \"b\" }]\nserve = \"off\"\n";
        assert_eq!(launched_variant(back), Some("off".into()));
    }

    #[test]
    fn no_rules_a_kill_or_a_partial_layer_is_not_launched() {
        assert_eq!(launched_variant(""), None);
        let full = "[[rules]]\nserve = \"on\"\n";
        let killed = flag(full);
        let killed = Flag {
            state: State::Disabled,
            ..killed
        };
        assert_eq!(launched(&killed), None);
        let with_layer = Flag::parse(
            &SourceFile::new(
                "flags/s/k.toml",
                format!(
                    "layer = {{ name = \"l\", range = [0, 20] }}\ndescription = \"x\"\nkind = \"experiment\"\n\
                     owner = \"@ml\"\ncreated = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n\
                     [variants]\noff = false\non = true\n{full}"
                )
                .as_str(),
            ),
            &Config::default(),
        )
        .expect("a valid flag");
        assert_eq!(launched(&with_layer), None);
        assert_eq!(served(&with_layer), ["on", "off"]);
    }
}
