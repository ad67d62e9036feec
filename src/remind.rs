//! Owner digests: for each owner, what needs action within a window (`flagctl remind`).
//!
//! A digest is the audit's lifecycle findings, grouped by owner, plus the deadlines still
//! ahead within the window that the audit does not report yet (it warns only within
//! `warn_days`). Each action is named as the audit rule, or as the status the flag has
//! when "soon" means the window, so remind speaks the words `audit` and `list` do.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::checks::{AuditCtx, Finding, RuleId, Severities, Sink, audit};
use crate::deadline::{Deadline, next_deadline};
use crate::repo::{FlagFile, Repo};

/// The audit rules whose findings are reminders.
const RULES: [RuleId; 6] = [
    RuleId::Expired,
    RuleId::ExpiringSoon,
    RuleId::ReviewOverdue,
    RuleId::ReviewDueSoon,
    RuleId::RemovalOverdue,
    RuleId::ServiceLimit,
];

/// One thing an owner has to do.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Action {
    /// The audit rule (`expired`, `expiring-soon`, `review-overdue`, `review-due-soon`,
    /// `removal-overdue`, `service-limit`), or `concluded` for a removal still ahead.
    pub action: &'static str,
    pub flag: Option<String>,
    pub service: String,
    pub path: Option<String>,
    pub due: Option<NaiveDate>,
    /// The field that holds `due`: `expires`, `review_by` or `remove_by`.
    pub due_field: Option<&'static str>,
    /// Days until `due`: negative when past.
    pub days: Option<i64>,
    /// `days` in words: "today", "tomorrow", "in 3 days", "2 days ago".
    pub due_relative: Option<String>,
    /// As `audit` words it.
    pub message: String,
    /// What resolves it.
    pub fix: String,
}

/// What one owner has to do, with where to reach them.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Digest {
    pub owner: String,
    pub contact: Option<String>,
    pub slack: Option<String>,
    pub actions: Vec<Action>,
}

/// Digests of every owner with something due within `within` days of `today`, by owner.
/// Severities come from `[severity]`: a rule that is off reminds nobody.
pub fn digests(repo: &Repo, today: NaiveDate, within: u32) -> Vec<Digest> {
    let severities = Severities::from_config(&repo.config);
    let mut sink = Sink::new(&severities);
    let ctx = AuditCtx {
        repo,
        today,
        history: None,
        refs: None,
        added: None,
    };
    audit(&ctx, &mut sink);
    let findings = sink.into_findings();

    let mut by_owner: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    let mut reported: HashSet<&str> = HashSet::new();
    for finding in findings.iter().filter(|f| RULES.contains(&f.rule)) {
        if finding.rule == RuleId::ServiceLimit {
            for owner in owners_in(repo, finding.service.as_deref().unwrap_or_default()) {
                by_owner
                    .entry(owner.to_string())
                    .or_default()
                    .push(service_action(finding));
            }
            continue;
        }
        let Some((file, owner, deadline)) = flag_deadline(repo, finding, today) else {
            continue;
        };
        reported.insert(&file.key);
        if deadline.days <= i64::from(within) {
            let message = finding.message.clone();
            let action = deadline_action(finding.rule.name(), file, &deadline, message);
            by_owner.entry(owner.to_string()).or_default().push(action);
        }
    }
    // Deadlines ahead within the window that no finding reports: beyond `warn_days`, or
    // removals (no rule warns of those before they are overdue).
    for (file, flag) in ctx
        .active()
        .filter(|(f, _)| !reported.contains(f.key.as_str()))
    {
        let Some(deadline) = next_deadline(flag, &repo.config, today) else {
            continue;
        };
        let owner = flag.owner.get_ref();
        if owner.is_empty() || deadline.is_overdue() || deadline.days > i64::from(within) {
            continue;
        }
        // `expiring-soon`, `review-due-soon` (unless that rule is off) or `concluded`.
        let status = deadline.status(within);
        if status
            .rule()
            .is_some_and(|rule| severities.of(rule).is_none())
        {
            continue;
        }
        let message = deadline.describe(flag);
        let action = deadline_action(status.name(), file, &deadline, message);
        by_owner.entry(owner.clone()).or_default().push(action);
    }

    by_owner
        .into_iter()
        .map(|(owner, mut actions)| {
            actions.sort_by_key(|a| (a.days.unwrap_or(i64::MIN), a.flag.clone()));
            let registry = repo.config.owners.get(&owner);
            Digest {
                contact: registry.and_then(|o| o.contact.clone()),
                slack: registry.and_then(|o| o.slack.clone()),
                owner,
                actions,
            }
        })
        .collect()
}

/// The flag a lifecycle finding is about, its owner and the deadline that raised it.
fn flag_deadline<'r>(
    repo: &'r Repo,
    finding: &Finding,
    today: NaiveDate,
) -> Option<(&'r FlagFile, &'r str, Deadline)> {
    let file = repo.find(finding.flag.as_deref()?)?;
    let flag = file.flag().filter(|f| !f.owner.get_ref().is_empty())?;
    let deadline = next_deadline(flag, &repo.config, today)?;
    Some((file, flag.owner.get_ref(), deadline))
}

fn deadline_action(
    action: &'static str,
    file: &FlagFile,
    deadline: &Deadline,
    message: String,
) -> Action {
    Action {
        action,
        flag: Some(file.key.clone()),
        service: file.service.clone(),
        path: Some(file.source.path.clone()),
        due: Some(deadline.date),
        due_field: Some(deadline.due.field()),
        days: Some(deadline.days),
        due_relative: Some(deadline.relative()),
        message,
        fix: deadline.fix(&file.key),
    }
}

/// A `service-limit` finding, for one of the service's owners: it names the newest flag.
fn service_action(finding: &Finding) -> Action {
    Action {
        action: finding.rule.name(),
        flag: finding.flag.clone(),
        service: finding.service.clone().unwrap_or_default(),
        path: Some(finding.path.clone()),
        due: None,
        due_field: None,
        days: None,
        due_relative: None,
        message: finding.message.clone(),
        fix: finding
            .help
            .clone()
            .unwrap_or_else(|| finding.rule.help().to_string()),
    }
}

/// The owners of the active flags of `service`.
fn owners_in<'r>(repo: &'r Repo, service: &str) -> BTreeSet<&'r str> {
    repo.flags()
        .filter(|(file, _)| !file.archived && file.service == service)
        .map(|(_, flag)| flag.owner.get_ref().as_str())
        .filter(|owner| !owner.is_empty())
        .collect()
}

/// A digest as markdown (also the `text` of a webhook message).
pub fn markdown(digest: &Digest, today: NaiveDate) -> String {
    render_text(digest, today, "**")
}

/// A digest in Slack's mrkdwn, the `text` of a webhook message: bold is `*…*` there.
pub fn mrkdwn(digest: &Digest, today: NaiveDate) -> String {
    render_text(digest, today, "*")
}

fn render_text(digest: &Digest, today: NaiveDate, bold: &str) -> String {
    let reach: Vec<String> = [&digest.contact, &digest.slack]
        .into_iter()
        .flatten()
        .map(|text| escape_markdown(text))
        .collect();
    let count = digest.actions.len();
    let mut text = format!(
        "{bold}flagctl: {count} flag action{} for {}{bold}",
        if count == 1 { "" } else { "s" },
        escape_markdown(&digest.owner)
    );
    if !reach.is_empty() {
        text.push_str(&format!(" ({})", reach.join(", ")));
    }
    text.push_str(&format!(" as of {today}\n"));
    for action in &digest.actions {
        text.push_str(&format!(
            "- `{}` {} — {}\n",
            action.action,
            escape_markdown(&action.subject()),
            escape_markdown(&action.fix)
        ));
    }
    text
}

/// Text from the repository made inert in Markdown and in Slack's message syntax: no
/// emphasis, links, tables or mentions (`<!channel>`), and on one line. A backtick can
/// only start code, which is harmless, and flagctl's own texts quote commands with it.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '*' | '~' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Action {
    /// "KEY: message", or the message alone when no flag is concerned.
    pub fn subject(&self) -> String {
        match &self.flag {
            Some(key) => format!("{key}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repository_text_is_inert_in_markdown_and_slack() {
        assert_eq!(
            super::escape_markdown("<!channel> *bold* [x](http://e) `c` a|b\nnext (5 days ago)"),
            "&lt;!channel&gt; \\*bold\\* \\[x\\](http://e) `c` a\\|b next (5 days ago)"
        );
    }
}
