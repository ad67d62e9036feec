//! `unused-flag`, `archived-flag-referenced`, `unknown-flag-referenced`, `type-mismatch`
//! and `default-mismatch`: the flags against the code that reads them (`audit --refs`);
//! `finished-flag-referenced`: the uses a change adds (`audit --refs --base REV`).

use std::collections::HashMap;

use serde_json::Value;

use super::{AuditCtx, Finding, RuleId, Sink};
use crate::deadline::{Due, next_deadline};
use crate::model::Flag;
use crate::refs::diff::RefChange;
use crate::refs::{Reference, Scan, ValueType};
use crate::repo::FlagFile;

/// `finished-flag-referenced`: each use a change adds of a live flag that is past its
/// expiry or concluded. (Archived flags are `archived-flag-referenced`, wherever used.)
pub fn check_added(ctx: &AuditCtx, added: &[RefChange], sink: &mut Sink) {
    let live: HashMap<&str, (&FlagFile, &Flag)> = ctx
        .active()
        .map(|(file, flag)| (file.key.as_str(), (file, flag)))
        .collect();
    for change in added.iter().filter(|c| c.reference.kind.is_use()) {
        let Some(&(file, flag)) = live.get(change.flag.as_str()) else {
            continue;
        };
        // A flag of an undeclared kind has no deadline (`unknown-kind` reports it).
        let Some(deadline) = next_deadline(flag, &ctx.repo.config, ctx.today) else {
            continue;
        };
        let expired = deadline.due == Due::Expiry && deadline.is_overdue();
        if !(expired || deadline.due == Due::Removal) {
            continue;
        }
        let key = &file.key;
        let reference = &change.reference;
        let help = match &flag.conclusion {
            Some(conclusion) => format!(
                "remove this use: the flag serves its winner `{}` to everyone until it is removed; `flagctl cleanup {key}` rewrites its uses to the winner",
                conclusion.winner
            ),
            None => format!(
                "remove this use: the flag is due to be concluded and removed (`flagctl expire {key} --winner VARIANT`, then `flagctl cleanup {key}` rewrites its uses to the winner); if it goes on, `flagctl extend {key}` it with a reason"
            ),
        };
        sink.push(
            Finding::in_code(
                RuleId::FinishedFlagReferenced,
                file,
                reference,
                format!(
                    "this change adds a use of `{key}`{}, which is finished: {}",
                    how(reference),
                    deadline.describe(flag)
                ),
            )
            .with_help(Some(help)),
        );
    }
}

pub fn check(ctx: &AuditCtx, scan: &Scan, sink: &mut Sink) {
    for (file, flag) in ctx.repo.flags() {
        let Some(refs) = scan.of(&file.key) else {
            continue;
        };
        if file.archived {
            for reference in refs.uses() {
                sink.push(
                    Finding::in_code(
                        RuleId::ArchivedFlagReferenced,
                        file,
                        reference,
                        format!(
                            "code still reads `{}`, which was archived{}",
                            file.key,
                            how(reference)
                        ),
                    )
                    .with_help(Some(format!(
                        "remove this use: the flag is no longer served, so the code gets its own default{}",
                        winner(flag)
                    ))),
                );
            }
            continue;
        }
        // A concluded flag no code reads is ready to be archived: `readiness` says so.
        if refs.uses().next().is_none() && flag.conclusion.is_none() {
            let comments = refs.references.len();
            let note = if comments > 0 {
                format!(" (only {} in comments)", plural(comments, "mention"))
            } else {
                String::new()
            };
            sink.push(
                Finding::at(
                    RuleId::UnusedFlag,
                    file,
                    flag.kind.span(),
                    format!("no code reads `{}`{note}", file.key),
                )
                .with_help(Some(
                    "if the flag is finished, conclude and archive it (`flagctl expire`, `flagctl archive`); if code reads it under another name, add an alias under [refs]"
                        .into(),
                )),
            );
        }
        let Some(served) = served_type(flag) else {
            continue;
        };
        for reference in refs.uses() {
            let Some(read) = reference.value_type else {
                continue;
            };
            if !compatible(read, served) {
                sink.push(
                    Finding::in_code(
                        RuleId::TypeMismatch,
                        file,
                        reference,
                        format!(
                            "`{}` reads {} values, but `{}` serves {} values: this call always gets its own default",
                            reference.method.as_deref().unwrap_or("the call"),
                            type_name(read),
                            file.key,
                            type_name(served)
                        ),
                    )
                    .with_help(Some(format!(
                        "read the flag with the SDK's {} method",
                        type_name(served)
                    ))),
                );
                continue;
            }
            let default_value = flag.variants.get(flag.default.get_ref());
            if let (Some(code), Some(declared)) = (&reference.default, default_value)
                && !same_value(code, declared)
            {
                sink.push(
                    Finding::in_code(
                        RuleId::DefaultMismatch,
                        file,
                        reference,
                        format!(
                            "the code's default {} differs from the flag's default variant `{}` ({declared}): when flagd is unreachable the code serves another value than the flag's safe one",
                            reference.default_text.as_deref().unwrap_or("value"),
                            flag.default.get_ref(),
                        ),
                    )
                    .with_help(Some(format!(
                        "pass {declared} as the default, or make the flag's `default` the variant the code falls back to"
                    ))),
                );
            }
        }
    }
    let keys: Vec<&str> = ctx.repo.files.iter().map(|f| f.key.as_str()).collect();
    for unknown in &scan.unknown {
        let reference = &unknown.reference;
        let near = unknown
            .did_you_mean
            .as_deref()
            .or_else(|| crate::model::names::did_you_mean(&unknown.key, keys.iter().copied()));
        let (line, column) = (reference.line, reference.column);
        sink.push(
            Finding {
                rule: RuleId::UnknownFlagReferenced,
                severity: RuleId::UnknownFlagReferenced.default_severity(),
                flag: None,
                service: None,
                owner: None,
                path: reference.path.clone(),
                line,
                column,
                message: format!(
                    "`{}` is no flag{}",
                    crate::model::source::shown(&unknown.key),
                    how(reference)
                ),
                help: None,
                span: reference.span.clone(),
                code: Some(reference.text.clone()),
            }
            .with_help(Some(match near {
                Some(near) => format!("did you mean `{near}`?"),
                None => "create the flag (`flagctl create`) or fix the key".into(),
            })),
        );
    }
}

/// ": get_boolean_value(…)" for calls, empty otherwise.
fn how(reference: &Reference) -> String {
    match &reference.method {
        Some(method) => format!(" (`{method}`)"),
        None => String::new(),
    }
}

fn winner(flag: &Flag) -> String {
    match &flag.conclusion {
        Some(conclusion) => match flag.variants.get(&conclusion.winner) {
            Some(value) => format!("; the winner was `{}` ({value})", conclusion.winner),
            None => String::new(),
        },
        None => String::new(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The type of a flag's variant values, as an SDK method reads them.
fn served_type(flag: &Flag) -> Option<ValueType> {
    let first = flag.variants.values().next()?;
    Some(match first {
        Value::Bool(_) => ValueType::Boolean,
        Value::String(_) => ValueType::String,
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            if flag.variants.values().all(|v| v.is_i64() || v.is_u64()) {
                ValueType::Integer
            } else {
                ValueType::Float
            }
        }
        Value::Number(_) => ValueType::Float,
        Value::Object(_) | Value::Array(_) => ValueType::Object,
        Value::Null => return None,
    })
}

/// Whether a method reading `read` gets the values of a flag serving `served`. A float
/// method reads whole numbers too; an integer method does not read fractions.
fn compatible(read: ValueType, served: ValueType) -> bool {
    use ValueType::*;
    read == served
        || matches!(
            (read, served),
            (Float, Integer) | (Number, Integer) | (Number, Float)
        )
}

fn type_name(value: ValueType) -> &'static str {
    match value {
        ValueType::Boolean => "boolean",
        ValueType::String => "string",
        ValueType::Integer => "integer",
        ValueType::Float => "float",
        ValueType::Number => "number",
        ValueType::Object => "object",
    }
}

/// Equal values, numbers compared as numbers (`1` and `1.0` are one value).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Finding {
    /// A finding about a flag, pointing at a line of code that references it.
    pub fn in_code(
        rule: RuleId,
        file: &FlagFile,
        reference: &Reference,
        message: impl Into<String>,
    ) -> Finding {
        let mut finding = Finding::at(rule, file, 0..0, message);
        finding.path = reference.path.clone();
        finding.line = reference.line;
        finding.column = reference.column;
        finding.span = reference.span.clone();
        finding.code = Some(reference.text.clone());
        finding
    }
}
