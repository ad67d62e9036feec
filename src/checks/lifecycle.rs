//! Dates: `expired`, `expiry-too-long`, `expiring-soon`, `review-overdue`,
//! `review-too-far`, `review-due-soon`, `removal-overdue`.

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::deadline::next_deadline;
use crate::model::Flag;
use crate::model::config::Kind;
use crate::repo::FlagFile;

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    let config = &ctx.repo.config;
    for (file, flag) in ctx.active() {
        let Some(kind) = flag.kind_of(config) else {
            continue;
        };
        if let Some(finding) = too_far(file, flag, kind) {
            sink.push(finding);
        }
        let Some(deadline) = next_deadline(flag, config, ctx.today) else {
            continue;
        };
        // A deadline that needs action puts the flag in a status named as its rule.
        let warn = config.warn_days_for(flag.kind.get_ref());
        let Some(rule) = deadline.status(warn).rule() else {
            continue;
        };
        let help = deadline.is_overdue().then(|| deadline.fix(&file.key));
        sink.push(
            Finding::at(rule, file, deadline.span.clone(), deadline.describe(flag)).with_help(help),
        );
    }
}

/// `expiry-too-long` and `review-too-far`: a date set further from where it is measured
/// (`created`, or the last review) than the kind allows.
fn too_far(file: &FlagFile, flag: &Flag, kind: &Kind) -> Option<Finding> {
    let created = ("created", *flag.created.get_ref());
    let (rule, field, date, (since_name, since), limit_days) =
        match (kind, &flag.expires, &flag.review_by) {
            (Kind::Temporary { max_days }, Some(expires), _) => (
                RuleId::ExpiryTooLong,
                "expires",
                expires,
                created,
                *max_days,
            ),
            (Kind::Permanent { review_days }, _, Some(review_by)) => (
                RuleId::ReviewTooFar,
                "review_by",
                review_by,
                flag.reviewed
                    .as_ref()
                    .map_or(created, |r| ("reviewed", *r.get_ref())),
                *review_days,
            ),
            _ => return None,
        };
    let gap = (*date.get_ref() - since).num_days();
    (gap > i64::from(limit_days)).then(|| {
        Finding::at(
            rule,
            file,
            date.span(),
            format!(
                "`{field}` is {gap} days after `{since_name}` ({since}); kind `{}` allows at most {limit_days} days",
                flag.kind.get_ref()
            ),
        )
        .with_help(Some(format!(
            "set `{field}` on or before {}",
            since + chrono::Days::new(limit_days.into())
        )))
    })
}
