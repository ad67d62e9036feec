//! Rendering a new flag file from a template (`flagctl create`).

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::model::config::Kind;
use crate::model::{Config, Flag, SourceFile};
use crate::templates::Template;

/// What a new flag is made of.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub key: String,
    pub service: String,
    pub kind: String,
    pub owner: String,
    pub description: String,
    pub created: NaiveDate,
}

/// Renders `template` into the text of a flag file, filled in from `new`, and checks that
/// the result is a valid flag.
pub fn render(template: &Template, new: &NewFlag, config: &Config) -> anyhow::Result<String> {
    let kind = config
        .kinds
        .get(&new.kind)
        .with_context(|| format!("unknown kind `{}`", new.kind))?;
    let text = template
        .text
        .replace("{{service}}", &new.service)
        .replace("{{key}}", &new.key);
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("template `{}` ({}) is not valid TOML", template.name, template.origin))?;

    let (due_key, due) = match kind {
        Kind::Temporary { max_days } => ("expires", new.created + Days::new((*max_days).into())),
        Kind::Permanent { review_days } => ("review_by", new.created + Days::new((*review_days).into())),
    };
    let date = |d: NaiveDate| -> Item {
        value(d.to_string().parse::<toml_edit::Datetime>().expect("a date formats as a TOML date"))
    };
    let root = doc.as_table_mut();
    set(root, "description", value(new.description.as_str()));
    set(root, "kind", value(new.kind.as_str()));
    set(root, "owner", value(new.owner.as_str()));
    set(root, "created", date(new.created));
    root.remove("reviewed");
    root.remove("conclusion");
    root.remove("archived");
    let other = if due_key == "expires" { "review_by" } else { "expires" };
    rename_or_set(root, other, due_key, date(due));

    let rendered = doc.to_string();
    let path = format!("{}/{}/{}.toml", config.flags_dir, new.service, new.key);
    if let Err(problems) = Flag::parse(&SourceFile::new(&path, rendered.as_str()), config) {
        let first = &problems[0];
        bail!(
            "template `{}` ({}) does not make a valid {} flag: {}{}",
            template.name,
            template.origin,
            new.kind,
            first.message,
            first.help.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default()
        );
    }
    Ok(rendered)
}

/// Sets `key` keeping its place and comments when the template already has it.
fn set(table: &mut Table, key: &str, item: Item) {
    match table.get_mut(key) {
        Some(existing) if existing.is_value() => {
            let decor = existing.as_value().map(|v| v.decor().clone());
            *existing = item;
            if let (Some(decor), Some(v)) = (decor, existing.as_value_mut()) {
                *v.decor_mut() = decor;
            }
        }
        _ => {
            table.insert(key, item);
        }
    }
}

/// Puts `new_key = item` where `old_key` stood (or sets it), so the date sits in its place.
fn rename_or_set(table: &mut Table, old_key: &str, new_key: &str, item: Item) {
    if !table.contains_key(old_key) {
        set(table, new_key, item);
        return;
    }
    let entries: Vec<(toml_edit::Key, Item)> = table
        .iter()
        .map(|(k, v)| (table.key(k).expect("key of an entry").clone(), v.clone()))
        .collect();
    table.clear();
    for (key, entry) in entries {
        if key.get() == old_key {
            table.insert_formatted(&toml_edit::Key::new(new_key).with_leaf_decor(key.leaf_decor().clone()), item.clone());
        } else {
            table.insert_formatted(&key, entry);
        }
    }
}

/// Why `owner` may not own a flag in `service`, or `None` when it may.
pub fn owner_problem(owner: &str, service: &str, config: &Config) -> Option<String> {
    if owner.trim().is_empty() {
        return Some("the owner is empty".into());
    }
    if config.owners.is_empty() {
        let looks_like_contact = owner.starts_with('@') || owner.contains('@');
        return (!looks_like_contact)
            .then(|| format!("`{owner}` is neither an e-mail nor an @handle, and flagctl.toml declares no [owners]"));
    }
    if !config.owners.contains_key(owner) {
        let names: Vec<&str> = config.owners.keys().map(String::as_str).collect();
        let hint = crate::model::names::did_you_mean(owner, names.iter().copied())
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        return Some(format!("`{owner}` is not in [owners]; {hint}owners: {}", names.join(", ")));
    }
    let allowed = config.services.get(service).and_then(|s| s.owners.as_ref());
    match allowed {
        Some(allowed) if !allowed.iter().any(|o| o == owner) => Some(format!(
            "`{owner}` may not own flags in service `{service}`; allowed: {}",
            allowed.join(", ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::BUILT_IN;

    fn new_flag(kind: &str) -> NewFlag {
        NewFlag {
            key: "ranker-v3".into(),
            service: "ranking".into(),
            kind: kind.into(),
            owner: "ml@example.com".into(),
            description: "Try \"v3\"".into(),
            created: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        }
    }

    fn template(name: &str) -> Template {
        let text = BUILT_IN.iter().find(|(n, _)| *n == name).unwrap().1;
        Template { name: name.into(), text: text.into(), origin: "built-in".into() }
    }

    #[test]
    fn every_built_in_template_renders_a_valid_flag_for_its_kind() {
        let config = Config::default();
        for (name, kind) in [
            ("experiment", "experiment"),
            ("model-rollout", "release"),
            ("feature-pipeline", "operational"),
            ("parameter", "parameter"),
            ("kill-switch", "kill-switch"),
            ("regulatory", "regulatory"),
        ] {
            let text = render(&template(name), &new_flag(kind), &config).unwrap();
            assert!(text.contains("created = 2026-11-01"), "{name}: {text}");
            assert!(!text.contains("{{"), "{name}: {text}");
        }
    }

    #[test]
    fn dates_follow_the_kind() {
        let config = Config::default();
        let text = render(&template("experiment"), &new_flag("experiment"), &config).unwrap();
        assert!(text.contains("expires = 2026-12-01\n"), "{text}");
        let text = render(&template("experiment"), &new_flag("kill-switch"), &config).unwrap();
        assert!(text.contains("review_by = 2027-01-30\n"), "{text}");
        assert!(!text.contains("expires"), "{text}");
        assert!(text.contains("description = 'Try \"v3\"'"), "{text}");
    }

    #[test]
    fn owners_are_checked_against_the_registry() {
        let mut config = Config::default();
        assert!(owner_problem("ml@example.com", "x", &config).is_none());
        assert!(owner_problem("team", "x", &config).is_some());
        config.owners.insert("team-ranking".into(), Default::default());
        assert!(owner_problem("team-ranking", "x", &config).is_none());
        assert!(owner_problem("team-rankin", "x", &config).unwrap().contains("did you mean `team-ranking`"));
    }
}
