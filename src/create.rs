//! Rendering a new flag file from a template (`flagctl create`).

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use toml_edit::{DocumentMut, value};

use crate::edit::{date, replace_key, set};

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
    let mut doc: DocumentMut = text.parse().with_context(|| {
        format!(
            "template `{}` ({}) is not valid TOML",
            template.name, template.origin
        )
    })?;

    let (due_key, due) = match kind {
        Kind::Temporary { max_days } => ("expires", new.created + Days::new((*max_days).into())),
        Kind::Permanent { review_days } => {
            ("review_by", new.created + Days::new((*review_days).into()))
        }
    };
    let root = doc.as_table_mut();
    set(root, "description", value(new.description.as_str()), &[]);
    set(root, "kind", value(new.kind.as_str()), &["description"]);
    set(root, "owner", value(new.owner.as_str()), &["kind"]);
    set(root, "created", date(new.created)?, &["owner"]);
    root.remove("reviewed");
    root.remove("conclusion");
    root.remove("archived");
    let other = if due_key == "expires" {
        "review_by"
    } else {
        "expires"
    };
    replace_key(root, other, due_key, date(due)?);

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
            first
                .help
                .as_ref()
                .map(|h| format!("\nhelp: {h}"))
                .unwrap_or_default()
        );
    }
    Ok(rendered)
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
        Template {
            name: name.into(),
            text: text.into(),
            origin: "built-in".into(),
        }
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
        assert!(!text.contains("expires ="), "{text}");
        assert!(text.contains("description = 'Try \"v3\"'"), "{text}");
    }

    #[test]
    fn owners_are_checked_against_the_registry() {
        let mut config = Config::default();
        assert!(config.owner_problem("ml@example.com", "x").is_none());
        assert!(config.owner_problem("team", "x").is_some());
        config
            .owners
            .insert("team-ranking".into(), Default::default());
        assert!(config.owner_problem("team-ranking", "x").is_none());
        assert!(
            config
                .owner_problem("team-rankin", "x")
                .unwrap()
                .contains("did you mean `team-ranking`")
        );
    }
}
