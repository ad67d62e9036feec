//! `conflict` and `layer-overlap`.
//!
//! Two live temporary flags that control one resource (a model, a feature, a parameter)
//! change it at the same time, unless they split traffic in disjoint ranges of one layer:
//! the overlapping-experiments model, where a layer divides units into mutually
//! exclusive slices.

use std::collections::{BTreeMap, HashMap};

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::model::Flag;
use crate::model::flag::{Layer, State};
use crate::repo::FlagFile;

/// Live: active, not concluded, not killed.
fn is_live(flag: &Flag) -> bool {
    flag.conclusion.is_none() && flag.state == State::Enabled
}

fn disjoint(a: &Layer, b: &Layer) -> bool {
    a.name == b.name && (a.to <= b.from || b.to <= a.from)
}

pub fn check(ctx: &AuditCtx, sink: &mut Sink) {
    declared_conflicts(ctx, sink);
    shared_resources(ctx, sink);
    layers(ctx, sink);
}

fn declared_conflicts(ctx: &AuditCtx, sink: &mut Sink) {
    let live: HashMap<&str, &Flag> = ctx
        .active()
        .filter(|(_, f)| is_live(f))
        .map(|(file, flag)| (file.key.as_str(), flag))
        .collect();
    for (file, flag) in ctx.active().filter(|(_, f)| is_live(f)) {
        for other in &flag.conflicts_with {
            let other_key = other.get_ref().as_str();
            if other_key == file.key || !live.contains_key(other_key) {
                continue;
            }
            // Report a pair declared on both sides once, on the first key.
            let declared_back = live[other_key]
                .conflicts_with
                .iter()
                .any(|c| *c.get_ref() == file.key);
            if declared_back && other_key < file.key.as_str() {
                continue;
            }
            sink.push(
                Finding::at(
                    RuleId::Conflict,
                    file,
                    other.span(),
                    format!("`{}` and `{other_key}` are both live but declared to conflict", file.key),
                )
                .with_help(Some(format!("conclude or kill one of them before the other goes live (`flagctl expire {other_key}`)"))),
            );
        }
    }
}

fn shared_resources(ctx: &AuditCtx, sink: &mut Sink) {
    let mut by_resource: BTreeMap<&str, Vec<(&FlagFile, &Flag, usize)>> = BTreeMap::new();
    for (file, flag) in ctx
        .active()
        .filter(|(_, f)| is_live(f) && ctx.is_temporary(f))
    {
        for (index, resource) in flag.controls.iter().enumerate() {
            by_resource
                .entry(resource.get_ref())
                .or_default()
                .push((file, flag, index));
        }
    }
    for (resource, flags) in by_resource {
        for (i, (file_a, flag_a, _)) in flags.iter().enumerate() {
            for (file_b, flag_b, index_b) in &flags[i + 1..] {
                if file_a.key == file_b.key {
                    continue;
                }
                if let (Some(a), Some(b)) = (&flag_a.layer, &flag_b.layer)
                    && disjoint(a, b)
                {
                    continue;
                }
                let why = match (&flag_a.layer, &flag_b.layer) {
                    (Some(a), Some(b)) if a.name == b.name => format!(
                        "their ranges [{}, {}) and [{}, {}) of layer `{}` overlap",
                        a.from, a.to, b.from, b.to, a.name
                    ),
                    (Some(a), Some(b)) => {
                        format!("they sit in different layers (`{}`, `{}`)", a.name, b.name)
                    }
                    _ => "they do not split traffic in one layer".to_string(),
                };
                sink.push(
                    Finding::at(
                        RuleId::Conflict,
                        file_b,
                        flag_b.controls[*index_b].span(),
                        format!("`{}` and `{}` both change `{resource}` and {why}", file_a.key, file_b.key),
                    )
                    .with_help(Some(
                        "give both the same `layer` with disjoint ranges, or run them one after the other".into(),
                    )),
                );
            }
        }
    }
}

fn layers(ctx: &AuditCtx, sink: &mut Sink) {
    let mut by_layer: BTreeMap<&str, Vec<(&FlagFile, &Layer)>> = BTreeMap::new();
    for (file, flag) in ctx.active() {
        let Some(layer) = &flag.layer else { continue };
        if layer.from < 0 || layer.to > 100 {
            sink.push(
                Finding::at(
                    RuleId::LayerOverlap,
                    file,
                    layer.span.clone(),
                    format!(
                        "range [{}, {}) of layer `{}` falls outside [0, 100)",
                        layer.from, layer.to, layer.name
                    ),
                )
                .with_help(Some(
                    "layer ranges are percentages of traffic: 0 <= from < to <= 100".into(),
                )),
            );
        }
        if is_live(flag) {
            by_layer.entry(&layer.name).or_default().push((file, layer));
        }
    }
    for (name, mut members) in by_layer {
        members.sort_by_key(|(file, layer)| (layer.from, layer.to, file.source.path.clone()));
        for (i, (file_b, b)) in members.iter().enumerate() {
            if let Some((file_a, a)) = members[..i].iter().rev().find(|(_, a)| a.to > b.from) {
                sink.push(
                    Finding::at(
                        RuleId::LayerOverlap,
                        file_b,
                        b.span.clone(),
                        format!(
                            "range [{}, {}) of layer `{name}` overlaps [{}, {}) of `{}`",
                            b.from, b.to, a.from, a.to, file_a.key
                        ),
                    )
                    .with_help(Some(
                        "flags in one layer take disjoint slices of its traffic".into(),
                    )),
                );
            }
        }
    }
}
