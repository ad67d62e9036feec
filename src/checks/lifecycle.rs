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
        match kind {
            Kind::Temporary { max_days } => {
                let Some(expires) = &flag.expires else {
                    continue;
                };
                let date = *expires.get_ref();
                let lifetime = (date - created).num_days();
                if lifetime > i64::from(*max_days) {
                    sink.push(
                        Finding::at(
                            RuleId::ExpiryTooLong,
                            file,
                            expires.span(),
                            format!(
                                "expires {lifetime} days after it was created; a {kind_name} lives at most {max_days} days"
                            ),
                        )
                        .with_help(Some(format!(
                            "set `expires` on or before {}",
                            created + chrono::Days::new((*max_days).into())
                        ))),
                    );
                }
                if flag.conclusion.is_some() {
                    continue;
                }
                let days = days_until(ctx.today, date);
                if days < 0 {
                    sink.push(
                        Finding::at(
                            RuleId::Expired,
                            file,
                            expires.span(),
                            format!("{kind_name} expired on {date} ({})", relative_days(days)),
                        )
                        .with_help(Some(format!(
                            "conclude it with `flagctl expire {} --winner VARIANT`, or `flagctl extend` it with a reason",
                            file.key
                        ))),
                    );
                } else if days <= warn {
                    sink.push(Finding::at(
                        RuleId::ExpiringSoon,
                        file,
                        expires.span(),
                        format!("{kind_name} expires on {date} ({})", relative_days(days)),
                    ));
                }
            }
            Kind::Permanent { review_days } => {
                let Some(review_by) = &flag.review_by else {
                    continue;
                };
                let date = *review_by.get_ref();
                let (since_name, since) = match &flag.reviewed {
                    Some(r) => ("reviewed", *r.get_ref()),
                    None => ("created", created),
                };
                let gap = (date - since).num_days();
                if gap > i64::from(*review_days) {
                    sink.push(
                        Finding::at(
                            RuleId::ReviewTooFar,
                            file,
                            review_by.span(),
                            format!(
                                "review_by is {gap} days after `{since_name}` ({since}); a {kind_name} is reviewed every {review_days} days"
                            ),
                        )
                        .with_help(Some(format!(
                            "set `review_by` on or before {}",
                            since + chrono::Days::new((*review_days).into())
                        ))),
                    );
                }
                let days = days_until(ctx.today, date);
                if days < 0 {
                    sink.push(
                        Finding::at(
                            RuleId::ReviewOverdue,
                            file,
                            review_by.span(),
                            format!(
                                "{kind_name} review was due on {date} ({})",
                                relative_days(days)
                            ),
                        )
                        .with_help(Some(format!(
                            "review it with its owner, then `flagctl review {}`",
                            file.key
                        ))),
                    );
                } else if days <= warn {
                    sink.push(Finding::at(
                        RuleId::ReviewDueSoon,
                        file,
                        review_by.span(),
                        format!(
                            "{kind_name} review is due on {date} ({})",
                            relative_days(days)
                        ),
                    ));
                }
            }
        }
    }
}
