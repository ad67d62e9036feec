//! `created-mismatch`: a flag dated after the commit that first added it.

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::history::History;

pub fn check(ctx: &AuditCtx, history: &History, sink: &mut Sink) {
    for (file, flag) in ctx.repo.flags() {
        let Some(added) = history.first_added(&file.key) else {
            continue; // not committed yet
        };
        let Some(added_on) = added.date() else {
            continue; // an unreadable date proves nothing; the history notes say so
        };
        let created = *flag.created.get_ref();
        if created > added_on {
            let id = &added.id;
            sink.push(
                Finding::at(
                    RuleId::CreatedMismatch,
                    file,
                    flag.created.span(),
                    format!(
                        "created {created} is later than {}, when commit {} first added the flag",
                        added_on,
                        crate::repo::short_id(id)
                    ),
                )
                .with_help(Some(format!(
                    "set `created = {added_on}`; a later date would stretch its expiry"
                ))),
            );
        }
    }
}
