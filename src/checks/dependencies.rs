//! `missing-dependency`, `dependency-cycle`, `dependency-depth` and
//! `temporary-dependency`.

use std::collections::HashMap;

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::eval::{Analysis, Unbounded, cycle_text, out_of_bounds};
use crate::model::Flag;
use crate::repo::FlagFile;

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    let active: HashMap<&str, (&FlagFile, &Flag)> = ctx
        .active()
        .map(|(file, flag)| (file.key.as_str(), (file, flag)))
        .collect();
    let archived: HashMap<&str, &FlagFile> = ctx
        .repo
        .files
        .iter()
        .filter(|f| f.archived)
        .map(|f| (f.key.as_str(), f))
        .collect();
    let unparsed: Vec<&str> = ctx
        .repo
        .files
        .iter()
        .filter(|f| !f.archived && f.flag.is_err())
        .map(|f| f.key.as_str())
        .collect();

    for (file, flag) in ctx.active() {
        for requirement in &flag.requires {
            let target = requirement.flag.get_ref().as_str();
            let variant = requirement.variant.get_ref();
            match active.get(target) {
                Some((_, required)) => {
                    if !required.variants.contains_key(variant) {
                        sink.push(
                            Finding::at(
                                RuleId::MissingDependency,
                                file,
                                requirement.variant.span(),
                                format!("requires `{target}` = `{variant}`, but `{target}` has no variant `{variant}`"),
                            )
                            .with_help(Some(format!(
                                "variants of `{target}`: {}",
                                required.variants.keys().cloned().collect::<Vec<_>>().join(", ")
                            ))),
                        );
                    }
                    if !ctx.is_temporary(flag) && ctx.is_temporary(required) {
                        sink.push(
                            Finding::at(
                                RuleId::TemporaryDependency,
                                file,
                                requirement.flag.span(),
                                format!(
                                    "this permanent flag ({}) requires `{target}`, a temporary flag ({}) that will be removed",
                                    flag.kind.get_ref(),
                                    required.kind.get_ref()
                                ),
                            )
                            .with_help(Some("depend on a permanent flag, or make this one temporary".into())),
                        );
                    }
                }
                None if unparsed.contains(&target) => {}
                None => {
                    let message = match archived.get(target) {
                        Some(a) => {
                            format!("requires `{target}`, which is archived ({})", a.source.path)
                        }
                        None => format!("requires `{target}`, which does not exist"),
                    };
                    let near = crate::model::names::did_you_mean(target, active.keys().copied())
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    sink.push(
                        Finding::at(
                            RuleId::MissingDependency,
                            file,
                            requirement.flag.span(),
                            message,
                        )
                        .with_help(Some(format!(
                            "{near}remove the requirement or point it at an active flag"
                        ))),
                    );
                }
            }
        }
    }
    graph(&active, sink);
}

/// The shape of the `requires` graph, in one linear pass over it: each cycle once, on
/// its smallest key, with its path (`dependency-cycle`); each flag whose requirements
/// reach deeper or wider than the engine evaluates (`dependency-depth`). Every
/// requirement counts, a killed or concluded flag's too: restoring the flag, or
/// removing its conclusion, brings them back into play. A flag that leads into a cycle
/// is left to that cycle's finding.
fn graph(active: &HashMap<&str, (&FlagFile, &Flag)>, sink: &mut Sink) {
    let mut keys: Vec<&str> = active.keys().copied().collect();
    keys.sort_unstable();
    let index: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let edges: Vec<Vec<usize>> = keys
        .iter()
        .map(|key| {
            let requires = active[key].1.requires.iter();
            requires
                .filter_map(|r| index.get(r.flag.get_ref().as_str()).copied())
                .collect()
        })
        .collect();
    let analysis = Analysis::of(&edges);
    let name = |node: usize| keys[node];
    for cycle in analysis.cycles() {
        let next = cycle.get(1).unwrap_or(&cycle[0]);
        let text = cycle_text(cycle, "flags", name);
        report_cycle(active, keys[cycle[0]], keys[*next], &text, sink);
    }
    for (node, key) in keys.iter().enumerate() {
        let Some(out) = out_of_bounds(&analysis, node, name) else {
            continue;
        };
        if !matches!(out.why, Unbounded::TooDeep | Unbounded::TooWide) {
            continue;
        }
        let (file, flag) = active[key];
        let via = out.via.map(name);
        let span = flag
            .requires
            .iter()
            .find(|r| Some(r.flag.get_ref().as_str()) == via)
            .map_or(0..0, |r| r.flag.span());
        sink.push(
            Finding::at(RuleId::DependencyDepth, file, span, out.message).with_help(Some(
                "require the flag that decides directly rather than through a chain, or require fewer flags"
                    .into(),
            )),
        );
    }
}

/// A cycle, on its `first` flag's requirement of the `next` on the cycle.
fn report_cycle(
    active: &HashMap<&str, (&FlagFile, &Flag)>,
    first: &str,
    next: &str,
    text: &str,
    sink: &mut Sink,
) {
    let (file, flag) = active[first];
    let span = flag
        .requires
        .iter()
        .find(|r| r.flag.get_ref() == next)
        .map_or(0..0, |r| r.flag.span());
    sink.push(
        Finding::at(
            RuleId::DependencyCycle,
            file,
            span,
            format!("`requires` forms a cycle: {text}"),
        )
        .with_help(Some(
            "a flag cannot depend on itself, directly or through others; remove one requirement"
                .into(),
        )),
    );
}
