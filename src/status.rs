//! The computed status of a flag on a given day, shared by `list`, `show` and the checks.

use chrono::NaiveDate;

use crate::model::Config;
use crate::model::config::Kind;
use crate::repo::FlagFile;

/// Where a flag stands on a day, most urgent first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The file does not fit the schema, or its kind is undeclared.
    Invalid,
    /// A live temporary flag past `expires`.
    Expired,
    /// A permanent flag past `review_by`.
    ReviewOverdue,
    /// A concluded flag past `remove_by`, still active.
    RemovalOverdue,
    /// Killed: serves `default` to everyone.
    Disabled,
    ExpiringSoon,
    ReviewDueSoon,
    /// Serves its winner; to be archived by `remove_by`.
    Concluded,
    Live,
    Archived,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Invalid => "invalid",
            Status::Expired => "expired",
            Status::ReviewOverdue => "review-overdue",
            Status::RemovalOverdue => "removal-overdue",
            Status::Disabled => "disabled",
            Status::ExpiringSoon => "expiring-soon",
            Status::ReviewDueSoon => "review-due-soon",
            Status::Concluded => "concluded",
            Status::Live => "live",
            Status::Archived => "archived",
        }
    }

    /// Whether someone has to act on the flag now.
    pub fn needs_action(self) -> bool {
        self <= Status::RemovalOverdue
    }
}

/// Days from `today` to `date`: negative when `date` has passed.
pub fn days_until(today: NaiveDate, date: NaiveDate) -> i64 {
    (date - today).num_days()
}

pub fn status(file: &FlagFile, config: &Config, today: NaiveDate) -> Status {
    if file.archived {
        return Status::Archived;
    }
    let Some(flag) = file.flag() else {
        return Status::Invalid;
    };
    let Some(kind) = flag.kind_of(config) else {
        return Status::Invalid;
    };
    let warn = i64::from(config.policy.warn_days);
    if let Some(conclusion) = &flag.conclusion {
        return if today > *conclusion.remove_by.get_ref() {
            Status::RemovalOverdue
        } else {
            Status::Concluded
        };
    }
    let (due, overdue, soon) = match kind {
        Kind::Temporary { .. } => (flag.expires.as_ref(), Status::Expired, Status::ExpiringSoon),
        Kind::Permanent { .. } => (
            flag.review_by.as_ref(),
            Status::ReviewOverdue,
            Status::ReviewDueSoon,
        ),
    };
    let days_left = due.map(|d| days_until(today, *d.get_ref()));
    match days_left {
        Some(days) if days < 0 => overdue,
        _ if flag.state == crate::model::flag::State::Disabled => Status::Disabled,
        Some(days) if days <= warn => soon,
        _ => Status::Live,
    }
}
