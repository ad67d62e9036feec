//! `missing-dependency`, `dependency-cycle` and `temporary-dependency`.

use std::collections::HashMap;

use super::{AuditCtx, Finding, RuleId, Sink};
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
    cycles(&active, sink);
}

/// Reports each cycle of `requires` once, on its smallest key, with its path.
fn cycles(active: &HashMap<&str, (&FlagFile, &Flag)>, sink: &mut Sink) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnStack,
        Done,
    }
    let mut keys: Vec<&str> = active.keys().copied().collect();
    keys.sort_unstable();
    let mut marks: HashMap<&str, Mark> = keys.iter().map(|k| (*k, Mark::Unvisited)).collect();
    let edges = |key: &str| -> Vec<&str> {
        let mut next: Vec<&str> = active[key]
            .1
            .requires
            .iter()
            .map(|r| r.flag.get_ref().as_str())
            .filter(|k| active.contains_key(k))
            .collect();
        next.sort_unstable();
        next.dedup();
        next
    };
    let mut reported: Vec<Vec<&str>> = Vec::new();
    for &start in &keys {
        if marks[start] != Mark::Unvisited {
            continue;
        }
        // Iterative depth-first search; `path` is the current chain of requirements.
        let mut path: Vec<&str> = vec![start];
        let mut pending: Vec<Vec<&str>> = vec![edges(start)];
        marks.insert(start, Mark::OnStack);
        while let Some(next) = pending.last_mut() {
            let Some(target) = next.pop() else {
                let done = path.pop().expect("path and pending move together");
                marks.insert(done, Mark::Done);
                pending.pop();
                continue;
            };
            match marks[target] {
                Mark::Unvisited => {
                    marks.insert(target, Mark::OnStack);
                    path.push(target);
                    pending.push(edges(target));
                }
                Mark::OnStack => {
                    let from = path
                        .iter()
                        .position(|k| *k == target)
                        .expect("on the stack");
                    let mut cycle: Vec<&str> = path[from..].to_vec();
                    let smallest = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, k)| **k)
                        .map(|(i, _)| i)
                        .unwrap_or(0);
                    cycle.rotate_left(smallest);
                    if !reported.contains(&cycle) {
                        report_cycle(active, &cycle, sink);
                        reported.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
    }
}

fn report_cycle(active: &HashMap<&str, (&FlagFile, &Flag)>, cycle: &[&str], sink: &mut Sink) {
    let (file, flag) = active[cycle[0]];
    let next = cycle.get(1).copied().unwrap_or(cycle[0]);
    let span = flag
        .requires
        .iter()
        .find(|r| r.flag.get_ref() == next)
        .map_or(0..0, |r| r.flag.span());
    let mut path: Vec<&str> = cycle.to_vec();
    path.push(cycle[0]);
    sink.push(
        Finding::at(
            RuleId::DependencyCycle,
            file,
            span,
            format!("`requires` forms a cycle: {}", path.join(" → ")),
        )
        .with_help(Some(
            "a flag cannot depend on itself, directly or through others; remove one requirement"
                .into(),
        )),
    );
}
