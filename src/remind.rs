//! Owner digests: for each owner, what needs action within a window (`flagctl remind`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::checks::relative_days;
use crate::repo::Repo;
use crate::status::{DueFor, days_until, due};

/// One thing an owner has to do.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// `expired`, `expiring`, `review-overdue`, `review-due`, `removal-overdue`,
    /// `removal-due` or `service-over-limit`.
    pub action: &'static str,
    pub flag: Option<String>,
    pub service: String,
    pub path: Option<String>,
    pub due: Option<NaiveDate>,
    /// Days until `due`: negative when past.
    pub days: Option<i64>,
    pub message: String,
    /// The command that resolves it.
    pub fix: String,
}

/// What one owner has to do, with where to reach them.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub owner: String,
    pub contact: Option<String>,
    pub slack: Option<String>,
    pub actions: Vec<Action>,
}

/// Digests of every owner with something due within `within` days of `today`, by owner.
pub fn digests(repo: &Repo, today: NaiveDate, within: u32) -> Vec<Digest> {
    let within = i64::from(within);
    let mut by_owner: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    let mut services_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, flag) in repo.flags().filter(|(f, _)| !f.archived) {
        let owner = flag.owner.get_ref().clone();
        services_of
            .entry(owner.clone())
            .or_default()
            .push(file.service.clone());
        let Some(due) = due(flag, &repo.config) else {
            continue;
        };
        let (past, soon, [past_text, soon_text], fix) = match due.what {
            DueFor::Removal => (
                "removal-overdue",
                "removal-due",
                ["was due for removal on", "is due for removal on"],
                format!(
                    "remove its uses from code, then `flagctl archive {}`",
                    file.key
                ),
            ),
            DueFor::Expiry => (
                "expired",
                "expiring",
                ["expired on", "expires on"],
                format!(
                    "`flagctl expire {} --winner VARIANT` or `flagctl extend`",
                    file.key
                ),
            ),
            DueFor::Review => (
                "review-overdue",
                "review-due",
                ["was due for review on", "is due for review on"],
                format!("review it, then `flagctl review {}`", file.key),
            ),
        };
        let due = due.date;
        let days = days_until(today, due);
        if days > within {
            continue;
        }
        let (action, what) = if days < 0 {
            (past, past_text)
        } else {
            (soon, soon_text)
        };
        by_owner.entry(owner).or_default().push(Action {
            action,
            flag: Some(file.key.clone()),
            service: file.service.clone(),
            path: Some(file.source.path.clone()),
            due: Some(due),
            days: Some(days),
            message: format!("{} {what} {due} ({})", file.key, relative_days(days)),
            fix,
        });
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for file in repo
        .files
        .iter()
        .filter(|f| !f.archived && !f.service.is_empty())
    {
        *counts.entry(&file.service).or_default() += 1;
    }
    for (service, count) in counts {
        let limit = repo.config.service_limit(service);
        if count <= limit {
            continue;
        }
        for (owner, services) in &services_of {
            if services.iter().any(|s| s == service) {
                by_owner.entry(owner.clone()).or_default().push(Action {
                    action: "service-over-limit",
                    flag: None,
                    service: service.to_string(),
                    path: None,
                    due: None,
                    days: None,
                    message: format!(
                        "service {service} has {count} active flags; its limit is {limit}"
                    ),
                    fix: format!(
                        "archive flags you no longer need (`flagctl list --service {service}`)"
                    ),
                });
            }
        }
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

/// A digest as markdown (also the `text` of a webhook message).
pub fn markdown(digest: &Digest, today: NaiveDate) -> String {
    let reach: Vec<&str> = [&digest.contact, &digest.slack]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let mut text = format!(
        "**flagctl: {} flag action(s) for {}**",
        digest.actions.len(),
        digest.owner
    );
    if !reach.is_empty() {
        text.push_str(&format!(" ({})", reach.join(", ")));
    }
    text.push_str(&format!(" as of {today}\n"));
    for action in &digest.actions {
        text.push_str(&format!(
            "- `{}` {} — {}\n",
            action.action, action.message, action.fix
        ));
    }
    text
}
