//! `launched`: a live temporary flag that serves one variant to everyone is finished.

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::readiness::launched;

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    for (file, flag) in ctx.active() {
        if !ctx.is_temporary(flag) || flag.conclusion.is_some() {
            continue;
        }
        let Some(launched) = launched(flag) else {
            continue;
        };
        sink.push(
            Finding::at(
                RuleId::Launched,
                file,
                launched.span,
                format!(
                    "{} serves `{}` to everyone: {}",
                    flag.kind.get_ref(),
                    launched.variant,
                    launched.how
                ),
            )
            .with_help(Some(format!(
                "it is finished: conclude it with `flagctl expire {} --winner {}`",
                file.key, launched.variant
            ))),
        );
    }
}
