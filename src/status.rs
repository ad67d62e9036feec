//! The computed status of a flag on a given day, shared by `list`, `show` and the checks.

use chrono::NaiveDate;

use crate::model::Config;
use crate::model::Flag;
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

/// What a flag's next date is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueFor {
    Expiry,
    Review,
    Removal,
}

/// The date that matters next for a flag: removal for a concluded flag, else its expiry
/// (temporary kinds) or its review (permanent kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub what: DueFor,
    /// The field that holds the date.
    pub field: &'static str,
    pub date: NaiveDate,
}

pub fn due(flag: &Flag, config: &Config) -> Option<Due> {
    let make = |what, field, date: &toml::Spanned<NaiveDate>| Due {
        what,
        field,
        date: *date.get_ref(),
    };
    if let Some(conclusion) = &flag.conclusion {
        return Some(make(DueFor::Removal, "remove_by", &conclusion.remove_by));
    }
    let expiry = flag
        .expires
        .as_ref()
        .map(|d| make(DueFor::Expiry, "expires", d));
    let review = flag
        .review_by
        .as_ref()
        .map(|d| make(DueFor::Review, "review_by", d));
    match flag.kind_of(config) {
        Some(Kind::Temporary { .. }) => expiry,
        Some(Kind::Permanent { .. }) => review,
        None => expiry.or(review),
    }
}

pub fn status(file: &FlagFile, config: &Config, today: NaiveDate) -> Status {
    if file.archived {
        return Status::Archived;
    }
    let Some(flag) = file.flag() else {
        return Status::Invalid;
    };
    if flag.kind_of(config).is_none() {
        return Status::Invalid;
    }
    let Some(due) = due(flag, config) else {
        return Status::Live;
    };
    let days = days_until(today, due.date);
    let (overdue, soon) = match due.what {
        DueFor::Removal => {
            return if days < 0 {
                Status::RemovalOverdue
            } else {
                Status::Concluded
            };
        }
        DueFor::Expiry => (Status::Expired, Status::ExpiringSoon),
        DueFor::Review => (Status::ReviewOverdue, Status::ReviewDueSoon),
    };
    match days {
        days if days < 0 => overdue,
        _ if flag.state == crate::model::flag::State::Disabled => Status::Disabled,
        days if days <= i64::from(config.policy.warn_days) => soon,
        _ => Status::Live,
    }
}
