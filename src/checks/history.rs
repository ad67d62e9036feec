//! `created-mismatch`: a flag dated after the commit that first added it.

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::history::History;

pub fn check(ctx: &AuditCtx, history: &History, sink: &mut Sink) {
    for (file, flag) in ctx.repo.flags() {
        let Some(added) = history.first_added(&file.key) else {
            continue; // not committed yet
        };
        let created = *flag.created.get_ref();
        if created > added.date() {
            let id = added.id.to_string();
            sink.push(
                Finding::at(
                    RuleId::CreatedMismatch,
                    file,
                    flag.created.span(),
                    format!(
                        "created {created} is later than {}, when commit {} first added the flag",
                        added.date(),
                        &id[..7]
                    ),
                )
                .with_help(Some(format!(
                    "set `created = {}`; a later date would stretch its expiry",
                    added.date()
                ))),
            );
        }
    }
}
