//! What a commit changed in a flag file, field by field.

use toml::{Table, Value};

/// One field's change: `expires 2026-11-10 → 2026-11-14`, `rules added: sg-10pct`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl std::fmt::Display for FieldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => write!(f, "{} {old} → {new}", self.field),
            (None, Some(new)) => write!(f, "{} added: {new}", self.field),
            (Some(old), None) => write!(f, "{} removed: {old}", self.field),
            (None, None) => write!(f, "{}", self.field),
        }
    }
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

fn named(value: Option<&Value>, name_key: &str) -> Vec<(String, Value)> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = item
                .get(name_key)
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", i + 1), str::to_string);
            (name, item.clone())
        })
        .collect()
}

/// The fields that differ between two versions of a flag file. Texts that do not parse
/// are compared as a whole.
pub fn field_changes(old: Option<&str>, new: Option<&str>) -> Vec<FieldChange> {
    let parse = |text: Option<&str>| text.map(|t| t.parse::<Table>());
    let (old, new) = match (parse(old), parse(new)) {
        (Some(Ok(old)), Some(Ok(new))) => (old, new),
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return vec![FieldChange {
                field: "file (not valid TOML)".into(),
                old: None,
                new: None,
            }];
        }
        _ => return Vec::new(),
    };
    let mut changes = Vec::new();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a == b {
            continue;
        }
        match key.as_str() {
            "rules" => list_changes("rules", named(a, "name"), named(b, "name"), &mut changes),
            "variants" => {
                let entries = |v: Option<&Value>| -> Vec<(String, Value)> {
                    v.and_then(Value::as_table)
                        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default()
                };
                list_changes("variants", entries(a), entries(b), &mut changes);
            }
            "conclusion" | "archived" => match (a, b) {
                (None, Some(table)) => changes.push(FieldChange {
                    field: key.clone(),
                    old: None,
                    new: Some(
                        table
                            .as_table()
                            .map(|t| {
                                t.iter()
                                    .filter(|(k, _)| k.as_str() != "results")
                                    .map(|(k, v)| format!("{k} {}", short(v)))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                    ),
                }),
                _ => changes.push(FieldChange {
                    field: key.clone(),
                    old: a.map(short),
                    new: b.map(short),
                }),
            },
            _ => changes.push(FieldChange {
                field: key.clone(),
                old: a.map(short),
                new: b.map(short),
            }),
        }
    }
    changes
}

fn list_changes(
    field: &str,
    old: Vec<(String, Value)>,
    new: Vec<(String, Value)>,
    changes: &mut Vec<FieldChange>,
) {
    let names = |items: &[(String, Value)], other: &[(String, Value)], same: bool| -> Vec<String> {
        items
            .iter()
            .filter(
                |(name, value)| match other.iter().find(|(n, _)| n == name) {
                    None => !same,
                    Some((_, v)) => same && v != value,
                },
            )
            .map(|(name, _)| name.clone())
            .collect()
    };
    let before = changes.len();
    let (added, removed, changed) = (
        names(&new, &old, false),
        names(&old, &new, false),
        names(&new, &old, true),
    );
    for (list, what) in [(added, "added"), (removed, "removed"), (changed, "changed")] {
        if !list.is_empty() {
            changes.push(FieldChange {
                field: format!("{field} {what}: {}", list.join(", ")),
                old: None,
                new: None,
            });
        }
    }
    if changes.len() == before {
        changes.push(FieldChange {
            field: format!("{field} reordered"),
            old: None,
            new: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_changed_field() {
        let old = "expires = 2026-11-10\nstate = \"enabled\"\n[variants]\na = 1\nb = 2\n[[rules]]\nname = \"x\"\nserve = \"a\"\n";
        let new = "expires = 2026-11-14\nstate = \"disabled\"\n[variants]\na = 1\nc = 3\n[[rules]]\nname = \"y\"\nserve = \"a\"\n";
        let changes: Vec<String> = field_changes(Some(old), Some(new))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            changes,
            [
                "expires 2026-11-10 → 2026-11-14",
                "rules added: y",
                "rules removed: x",
                "state enabled → disabled",
                "variants added: c",
                "variants removed: b",
            ]
        );
    }
}
