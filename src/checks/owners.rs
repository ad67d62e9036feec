//! `missing-owner` and `unknown-owner`.

use super::{AuditCtx, Finding, RuleId, Sink};

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    for (file, flag) in ctx.active() {
        let owner = flag.owner.get_ref();
        if owner.trim().is_empty() {
            sink.push(
                Finding::at(
                    RuleId::MissingOwner,
                    file,
                    flag.owner.span(),
                    "the flag has no owner",
                )
                .with_help(Some(
                    "name the team that answers for it: `owner = \"team-…\"`".into(),
                )),
            );
        } else if let Some(why) = ctx.repo.config.owner_problem(owner, &file.service) {
            sink.push(Finding::at(
                RuleId::UnknownOwner,
                file,
                flag.owner.span(),
                format!("owner {why}"),
            ));
        }
    }
}
