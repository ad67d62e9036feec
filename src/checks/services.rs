//! `service-limit`: a service carries more active flags than its limit.

use std::collections::BTreeMap;

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::repo::FlagFile;

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    let mut by_service: BTreeMap<&str, Vec<&FlagFile>> = BTreeMap::new();
    for file in ctx
        .repo
        .files
        .iter()
        .filter(|f| !f.archived && !f.service.is_empty())
    {
        by_service.entry(&file.service).or_default().push(file);
    }
    for (service, mut files) in by_service {
        let limit = ctx.repo.config.service_limit(service);
        if files.len() <= limit {
            continue;
        }
        // The newest flag is the one that broke the limit.
        files.sort_by_key(|f| {
            (
                f.flag().map(|fl| *fl.created.get_ref()),
                f.source.path.clone(),
            )
        });
        let newest = files.last().expect("over a limit means at least one file");
        sink.push(
            Finding::at(
                RuleId::ServiceLimit,
                newest,
                0..0,
                format!(
                    "service `{service}` has {} active flags; its limit is {limit} (this is the newest)",
                    files.len()
                ),
            )
            .with_help(Some(format!(
                "archive concluded and unused flags first (`flagctl list --service {service}`), or raise `max_flags` under [services.{}] with a reason",
                // Bare when it can be: a `.` in a name would otherwise nest a table.
                toml_edit::Key::new(service).display_repr()
            ))),
        );
    }
}
