//! Dates: `expired`, `expiry-too-long`, `expiring-soon`, `review-overdue`,
//! `review-too-far`, `review-due-soon`, `removal-overdue`.

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::model::config::Kind;
use crate::status::days_until;

/// "in 3 days", "today", "5 days ago".
pub fn relative_days(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}

/// A date a flag must keep: `expires` (temporary kinds) or `review_by` (permanent kinds).
struct Deadline {
    field: &'static str,
    date: toml::Spanned<chrono::NaiveDate>,
    /// The date the deadline is measured from, by name.
    since: (&'static str, chrono::NaiveDate),
    limit_days: u32,
    /// Too far from `since`, past, and within the warning window.
    rules: [RuleId; 3],
    /// "… on DATE" for a past and a coming deadline.
    words: [&'static str; 2],
    /// Whether the deadline still applies.
    live: bool,
    fix: String,
}

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    let warn = i64::from(ctx.repo.config.policy.warn_days);
    for (file, flag) in ctx.active() {
        let Some(kind) = flag.kind_of(&ctx.repo.config) else {
            continue;
        };
        let kind_name = flag.kind.get_ref();
        let created = *flag.created.get_ref();
        if let Some(conclusion) = &flag.conclusion {
            let remove_by = *conclusion.remove_by.get_ref();
            let days = days_until(ctx.today, remove_by);
            if days < 0 {
                sink.push(
                    Finding::at(
                        RuleId::RemovalOverdue,
                        file,
                        conclusion.remove_by.span(),
                        format!(
                            "concluded on {} (winner `{}`) but still active; it was due for removal on {remove_by} ({})",
                            conclusion.date,
                            conclusion.winner,
                            relative_days(days)
                        ),
                    )
                    .with_help(Some(format!(
                        "remove its uses from the code, then `flagctl archive {}`",
                        file.key
                    ))),
                );
            }
        }
        let deadline = match (kind, &flag.expires, &flag.review_by) {
            (Kind::Temporary { max_days }, Some(expires), _) => Deadline {
                field: "expires",
                date: expires.clone(),
                since: ("created", created),
                limit_days: *max_days,
                rules: [RuleId::ExpiryTooLong, RuleId::Expired, RuleId::ExpiringSoon],
                words: ["expired on", "expires on"],
                // A concluded flag serves its winner: it has no expiry left to miss.
                live: flag.conclusion.is_none(),
                fix: format!(
                    "conclude it with `flagctl expire {} --winner VARIANT`, or `flagctl extend` it with a reason",
                    file.key
                ),
            },
            (Kind::Permanent { review_days }, _, Some(review_by)) => Deadline {
                field: "review_by",
                date: review_by.clone(),
                since: flag
                    .reviewed
                    .as_ref()
                    .map_or(("created", created), |r| ("reviewed", *r.get_ref())),
                limit_days: *review_days,
                rules: [
                    RuleId::ReviewTooFar,
                    RuleId::ReviewOverdue,
                    RuleId::ReviewDueSoon,
                ],
                words: ["review was due on", "review is due on"],
                live: true,
                fix: format!(
                    "review it with its owner, then `flagctl review {}`",
                    file.key
                ),
            },
            _ => continue,
        };
        let [too_far, overdue, soon] = deadline.rules;
        let (date, span) = (*deadline.date.get_ref(), deadline.date.span());
        let (since_name, since) = deadline.since;
        let gap = (date - since).num_days();
        if gap > i64::from(deadline.limit_days) {
            sink.push(
                Finding::at(
                    too_far,
                    file,
                    span.clone(),
                    format!(
                        "`{}` is {gap} days after `{since_name}` ({since}); kind `{kind_name}` allows at most {} days",
                        deadline.field, deadline.limit_days
                    ),
                )
                .with_help(Some(format!(
                    "set `{}` on or before {}",
                    deadline.field,
                    since + chrono::Days::new(deadline.limit_days.into())
                ))),
            );
        }
        if !deadline.live {
            continue;
        }
        let days = days_until(ctx.today, date);
        let [past, coming] = deadline.words;
        if days < 0 {
            sink.push(
                Finding::at(
                    overdue,
                    file,
                    span,
                    format!("{kind_name} {past} {date} ({})", relative_days(days)),
                )
                .with_help(Some(deadline.fix)),
            );
        } else if days <= warn {
            sink.push(Finding::at(
                soon,
                file,
                span,
                format!("{kind_name} {coming} {date} ({})", relative_days(days)),
            ));
        }
    }
}
