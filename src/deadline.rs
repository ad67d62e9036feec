//! A flag's deadline on a day: which date comes next, how far off it is, and the status
//! that follows from it. `list`, `show`, the lifecycle checks of `audit`, `remind` and
//! `report` all read this one model, so they say the same thing about a flag on a day.

use std::ops::Range;

use chrono::NaiveDate;

use crate::model::config::Kind;
use crate::model::flag::State;
use crate::model::{Config, Flag};
use crate::repo::FlagFile;
use crate::rules::RuleId;

/// Where a flag stands on a day. The statuses that need action are spelled exactly like
/// the audit rule that reports them (see [`Status::rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The file does not fit the schema, or its kind is undeclared.
    Invalid,
    /// A live temporary flag past `expires`.
    Expired,
    /// A live temporary flag whose `expires` is within the warning window.
    ExpiringSoon,
    /// A permanent flag past `review_by`.
    ReviewOverdue,
    /// A permanent flag whose `review_by` is within the warning window.
    ReviewDueSoon,
    /// A concluded flag past `remove_by`, still active.
    RemovalOverdue,
    /// Killed, and no deadline near: serves `default` to everyone.
    Disabled,
    /// Serves its winner; to be archived by `remove_by`.
    Concluded,
    Live,
    Archived,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Invalid,
        Status::Expired,
        Status::ExpiringSoon,
        Status::ReviewOverdue,
        Status::ReviewDueSoon,
        Status::RemovalOverdue,
        Status::Disabled,
        Status::Concluded,
        Status::Live,
        Status::Archived,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Invalid => "invalid",
            Status::Expired => "expired",
            Status::ExpiringSoon => "expiring-soon",
            Status::ReviewOverdue => "review-overdue",
            Status::ReviewDueSoon => "review-due-soon",
            Status::RemovalOverdue => "removal-overdue",
            Status::Disabled => "disabled",
            Status::Concluded => "concluded",
            Status::Live => "live",
            Status::Archived => "archived",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.name() == name)
    }

    /// The audit rule that reports a flag in this status, for the statuses that need action.
    pub fn rule(self) -> Option<RuleId> {
        match self {
            Status::Expired => Some(RuleId::Expired),
            Status::ExpiringSoon => Some(RuleId::ExpiringSoon),
            Status::ReviewOverdue => Some(RuleId::ReviewOverdue),
            Status::ReviewDueSoon => Some(RuleId::ReviewDueSoon),
            Status::RemovalOverdue => Some(RuleId::RemovalOverdue),
            Status::Invalid
            | Status::Disabled
            | Status::Concluded
            | Status::Live
            | Status::Archived => None,
        }
    }
}

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// `expires` of a live temporary flag.
    Expiry,
    /// `review_by` of a permanent flag.
    Review,
    /// `remove_by` of a concluded flag.
    Removal,
}

impl Due {
    /// The field of the flag file that holds the date.
    pub fn field(self) -> &'static str {
        match self {
            Due::Expiry => "expires",
            Due::Review => "review_by",
            Due::Removal => "remove_by",
        }
    }
}

/// The date that matters next for a flag, seen from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub due: Due,
    pub date: NaiveDate,
    /// Days from today to `date`: 0 on the day, negative once it has passed.
    pub days: i64,
    /// Where `date` is written in the flag file.
    pub span: Range<usize>,
}

impl Deadline {
    pub fn is_overdue(&self) -> bool {
        self.days < 0
    }

    /// The status this deadline gives a flag when "soon" means within `window` days: the
    /// policy's `warn_days` for `list`, `show` and `audit`, `--within` for `remind`.
    pub fn status(&self, window: u32) -> Status {
        let soon = self.days <= i64::from(window);
        match self.due {
            Due::Expiry if self.is_overdue() => Status::Expired,
            Due::Expiry if soon => Status::ExpiringSoon,
            Due::Review if self.is_overdue() => Status::ReviewOverdue,
            Due::Review if soon => Status::ReviewDueSoon,
            Due::Removal if self.is_overdue() => Status::RemovalOverdue,
            Due::Removal => Status::Concluded,
            Due::Expiry | Due::Review => Status::Live,
        }
    }

    /// "today", "in 3 days", … for the date.
    pub fn relative(&self) -> String {
        relative_days(self.days)
    }

    /// What the deadline means for `flag`, as `audit` and `remind` say it: "experiment
    /// expires on 2026-12-01 (in 6 days)".
    pub fn describe(&self, flag: &Flag) -> String {
        let (date, when, kind) = (self.date, self.relative(), flag.kind.get_ref());
        let past = self.is_overdue();
        match self.due {
            Due::Expiry if past => format!("{kind} expired on {date} ({when})"),
            Due::Expiry => format!("{kind} expires on {date} ({when})"),
            Due::Review if past => format!("{kind} review was due on {date} ({when})"),
            Due::Review => format!("{kind} review is due on {date} ({when})"),
            Due::Removal => {
                let concluded = flag.conclusion.as_ref().map_or_else(
                    || "concluded".to_string(),
                    |c| format!("concluded on {} (winner `{}`)", c.date, c.winner),
                );
                if past {
                    format!(
                        "{concluded} but still active; it was due for removal on {date} ({when})"
                    )
                } else {
                    format!("{concluded}; it is due for removal on {date} ({when})")
                }
            }
        }
    }

    /// What resolves the deadline of the flag `key`.
    pub fn fix(&self, key: &str) -> String {
        match self.due {
            Due::Expiry => format!(
                "conclude it with `flagctl expire {key} --winner VARIANT`, or `flagctl extend` it with a reason"
            ),
            Due::Review => format!("review it with its owner, then `flagctl review {key}`"),
            Due::Removal => {
                format!("remove its uses from the code, then `flagctl archive {key}`")
            }
        }
    }
}

/// The next deadline of a flag of a declared kind: `remove_by` once it is concluded, else
/// `expires` (temporary kinds) or `review_by` (permanent kinds).
pub fn next_deadline(flag: &Flag, config: &Config, today: NaiveDate) -> Option<Deadline> {
    let (due, date) = match (flag.kind_of(config)?, &flag.conclusion) {
        (_, Some(conclusion)) => (Due::Removal, &conclusion.remove_by),
        (Kind::Temporary { .. }, None) => (Due::Expiry, flag.expires.as_ref()?),
        (Kind::Permanent { .. }, None) => (Due::Review, flag.review_by.as_ref()?),
    };
    Some(Deadline {
        due,
        date: *date.get_ref(),
        days: days_until(today, *date.get_ref()),
        span: date.span(),
    })
}

/// A flag's status on a day, with the deadline that decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub status: Status,
    /// `None` for archived and invalid flags.
    pub deadline: Option<Deadline>,
}

/// Where the flag of `file` stands on `today`. A deadline that needs action (overdue, or
/// within `warn_days`) outranks a kill: a disabled flag is `disabled` only while no
/// deadline is near, and a concluded flag is `concluded` whatever its state.
pub fn standing(file: &FlagFile, config: &Config, today: NaiveDate) -> Standing {
    let without_deadline = |status| Standing {
        status,
        deadline: None,
    };
    if file.archived {
        return without_deadline(Status::Archived);
    }
    let Some(flag) = file.flag().filter(|f| f.kind_of(config).is_some()) else {
        return without_deadline(Status::Invalid);
    };
    let deadline = next_deadline(flag, config, today);
    let status = match deadline.as_ref().map_or(Status::Live, |d| {
        d.status(config.warn_days_for(flag.kind.get_ref()))
    }) {
        Status::Live if flag.state == State::Disabled => Status::Disabled,
        status => status,
    };
    Standing { status, deadline }
}

/// Days from `today` to `date`: negative when `date` has passed.
pub fn days_until(today: NaiveDate, date: NaiveDate) -> i64 {
    (date - today).num_days()
}

/// Days from today in words, the same in every command: "today", "tomorrow",
/// "yesterday", "in 3 days", "5 days ago".
pub fn relative_days(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", n.unsigned_abs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFile;

    const TODAY: &str = "2026-11-25";

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// `today` + `days`, as TOML.
    fn offset(days: i64) -> String {
        (day(TODAY) + chrono::TimeDelta::days(days)).to_string()
    }

    fn experiment(expires_in: i64) -> String {
        format!(
            "description = \"x\"\nkind = \"experiment\"\nowner = \"a@b.c\"\ncreated = 2026-11-01\n\
             expires = {}\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n",
            offset(expires_in)
        )
    }

    fn switch(review_in: i64) -> String {
        format!(
            "description = \"x\"\nkind = \"kill-switch\"\nowner = \"a@b.c\"\ncreated = 2026-11-01\n\
             review_by = {}\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n",
            offset(review_in)
        )
    }

    fn concluded(remove_in: i64) -> String {
        format!(
            "{}\n[conclusion]\ndate = 2026-11-10\nwinner = \"on\"\nremove_by = {}\n",
            experiment(-20),
            offset(remove_in)
        )
    }

    fn disabled(text: &str) -> String {
        text.replace("default =", "state = \"disabled\"\ndefault =")
    }

    fn file(text: &str, archived: bool) -> FlagFile {
        let source = SourceFile::new("flags/s/k.toml", text);
        FlagFile {
            flag: Flag::parse(&source, &Config::default()),
            source,
            service: "s".into(),
            key: "k".into(),
            archived,
        }
    }

    fn standing_of(text: &str) -> Standing {
        standing(&file(text, false), &Config::default(), day(TODAY))
    }

    fn status_of(text: &str) -> Status {
        standing_of(text).status
    }

    /// A flag file whose deadline is the given number of days from today.
    type Template = fn(i64) -> String;

    #[test]
    fn every_deadline_on_the_boundary_days() {
        // Days from today: -1, 0, 1, warn_days and warn_days + 1 (warn_days is 7).
        assert_eq!(Config::default().policy.warn_days, 7);
        let days = [-1, 0, 1, 7, 8];
        use Status::{
            Concluded, Expired, ExpiringSoon, Live, RemovalOverdue, ReviewDueSoon, ReviewOverdue,
        };
        let cases: [(Template, [Status; 5]); 3] = [
            (
                experiment,
                [Expired, ExpiringSoon, ExpiringSoon, ExpiringSoon, Live],
            ),
            (
                switch,
                [
                    ReviewOverdue,
                    ReviewDueSoon,
                    ReviewDueSoon,
                    ReviewDueSoon,
                    Live,
                ],
            ),
            (
                concluded,
                [RemovalOverdue, Concluded, Concluded, Concluded, Concluded],
            ),
        ];
        for (text, statuses) in cases {
            for (days, status) in days.into_iter().zip(statuses) {
                let text = text(days);
                assert_eq!(status_of(&text), status, "{days} days:\n{text}");
            }
        }
    }

    #[test]
    fn a_concluded_flag_has_no_expiry_left_to_miss() {
        let standing = standing_of(&concluded(3));
        let deadline = standing.deadline.unwrap();
        assert_eq!((deadline.due, deadline.days), (Due::Removal, 3));
        assert_eq!(deadline.due.field(), "remove_by");
    }

    #[test]
    fn a_kill_shows_only_while_no_deadline_is_near() {
        assert_eq!(status_of(&disabled(&experiment(8))), Status::Disabled);
        assert_eq!(status_of(&disabled(&switch(30))), Status::Disabled);
        assert_eq!(status_of(&disabled(&experiment(7))), Status::ExpiringSoon);
        assert_eq!(status_of(&disabled(&switch(-1))), Status::ReviewOverdue);
        assert_eq!(status_of(&disabled(&concluded(5))), Status::Concluded);
    }

    #[test]
    fn archived_and_invalid_flags_have_no_deadline() {
        let config = Config::default();
        let archived = standing(&file(&experiment(-3), true), &config, day(TODAY));
        assert_eq!(
            (archived.status, archived.deadline),
            (Status::Archived, None)
        );
        for text in [
            "description = 1\n".to_string(),
            experiment(3).replace("\"experiment\"", "\"gadget\""),
        ] {
            let invalid = standing(&file(&text, false), &config, day(TODAY));
            assert_eq!((invalid.status, invalid.deadline), (Status::Invalid, None));
        }
    }

    #[test]
    fn the_deadline_points_at_its_date() {
        let text = experiment(1);
        let deadline = standing_of(&text).deadline.unwrap();
        assert_eq!(&text[deadline.span.clone()], offset(1));
        assert_eq!((deadline.due.field(), deadline.days), ("expires", 1));
    }

    #[test]
    fn a_wider_window_makes_more_deadlines_soon() {
        let deadline = standing_of(&experiment(20)).deadline.unwrap();
        assert_eq!(deadline.status(7), Status::Live);
        assert_eq!(deadline.status(20), Status::ExpiringSoon);
        assert_eq!(deadline.status(19), Status::Live);
    }

    #[test]
    fn relative_days_in_words() {
        let words: Vec<String> = [-20, -2, -1, 0, 1, 2, 7, 8]
            .into_iter()
            .map(relative_days)
            .collect();
        assert_eq!(
            words,
            [
                "20 days ago",
                "2 days ago",
                "yesterday",
                "today",
                "tomorrow",
                "in 2 days",
                "in 7 days",
                "in 8 days"
            ]
        );
    }

    #[test]
    fn descriptions_use_the_relative_words() {
        let describe = |text: &str| {
            let file = file(text, false);
            let flag = file.flag().unwrap();
            next_deadline(flag, &Config::default(), day(TODAY))
                .unwrap()
                .describe(flag)
        };
        assert_eq!(
            describe(&experiment(1)),
            format!("experiment expires on {} (tomorrow)", offset(1))
        );
        assert_eq!(
            describe(&experiment(-1)),
            format!("experiment expired on {} (yesterday)", offset(-1))
        );
        assert_eq!(
            describe(&switch(0)),
            format!("kill-switch review is due on {TODAY} (today)")
        );
        assert_eq!(
            describe(&switch(-3)),
            format!("kill-switch review was due on {} (3 days ago)", offset(-3))
        );
        assert_eq!(
            describe(&concluded(2)),
            format!(
                "concluded on 2026-11-10 (winner `on`); it is due for removal on {} (in 2 days)",
                offset(2)
            )
        );
        assert_eq!(
            describe(&concluded(-2)),
            format!(
                "concluded on 2026-11-10 (winner `on`) but still active; it was due for removal on {} (2 days ago)",
                offset(-2)
            )
        );
    }

    #[test]
    fn statuses_that_need_action_are_spelled_as_their_rules() {
        let ruled: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.rule().is_some())
            .collect();
        assert_eq!(ruled.len(), 5);
        for status in ruled {
            assert_eq!(status.rule().map(RuleId::name), Some(status.name()));
        }
        for status in Status::ALL {
            assert_eq!(Status::from_name(status.name()), Some(status));
        }
        assert_eq!(Status::from_name("expiring"), None);
    }
}
