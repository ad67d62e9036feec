//! Rendering a new flag file from a template (`flagctl create`).

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use toml_edit::{DocumentMut, value};

use crate::edit::{date, replace_key, set};

use crate::model::config::Kind;
use crate::model::names::name_problem;
use crate::model::{Config, Flag, SourceFile};
use crate::repo::{Applied, FileChange, Repo};
use crate::templates::{self, Template};

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

/// What `flagctl create` is asked for; `kind` may come from the template instead.
#[derive(Debug, Clone)]
pub struct Request {
    pub key: String,
    pub service: String,
    pub kind: Option<String>,
    pub owner: String,
    pub description: String,
    pub template: Option<String>,
}

/// A new flag, decided before anything is written.
#[derive(Debug, Clone)]
pub struct Planned {
    pub key: String,
    pub path: String,
    pub template: String,
    pub change: FileChange,
    pub message: String,
}

/// What `create` did, as every output format reports it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Created {
    pub key: String,
    pub path: String,
    pub template: String,
    #[serde(flatten)]
    pub applied: Applied,
}

impl Planned {
    pub fn done(self, applied: Applied) -> Created {
        Created {
            key: self.key,
            path: self.path,
            template: self.template,
            applied,
        }
    }
}

/// Checks `request` against the repository and renders the flag file it asks for, on
/// `today`; refuses, naming what to do, when a name is invalid, the key is taken (also in
/// the archive), the kind or template is unknown, or the owner is not allowed.
pub fn plan(
    repo: &Repo,
    templates: &[Template],
    request: &Request,
    today: NaiveDate,
) -> anyhow::Result<Planned> {
    let Request {
        key,
        service,
        owner,
        description,
        ..
    } = request;
    if let Some(why) = name_problem(key) {
        bail!("`{key}` is not a valid flag key: {why}");
    }
    if let Some(why) = name_problem(service) {
        bail!("`{service}` is not a valid service name: {why}");
    }
    if description.trim().is_empty() {
        bail!("the description is empty; say what the flag changes and why");
    }
    if let Some(existing) = repo.files.iter().find(|f| &f.key == key) {
        bail!(
            "flag `{key}` already exists at {}; keys are unique across services and the archive",
            existing.source.path
        );
    }
    let kind = match (&request.kind, &request.template) {
        (Some(kind), _) => kind.clone(),
        (None, Some(name)) => kind_of_template(find_template(templates, name)?)?,
        (None, None) => bail!("pass --kind or --template"),
    };
    let Some(kind_def) = repo.config.kinds.get(&kind) else {
        bail!("unknown kind `{kind}`; kinds: {}", repo.config.kind_names());
    };
    if let Some(why) = repo.config.owner_problem(owner, service) {
        bail!("owner {why}");
    }
    let template_name = request.template.clone().unwrap_or_else(|| {
        templates::default_for_kind(&kind, kind_def.is_temporary(), templates).to_string()
    });
    let template = find_template(templates, &template_name)?;
    let new = NewFlag {
        key: key.clone(),
        service: service.clone(),
        kind,
        owner: owner.clone(),
        description: description.clone(),
        created: today,
    };
    let text = render(template, &new, &repo.config)?;
    let path = format!("{}/{service}/{key}.toml", repo.config.flags_dir);
    Ok(Planned {
        key: key.clone(),
        path: path.clone(),
        template: template.name.clone(),
        change: FileChange {
            path,
            before: None,
            after: Some(text),
        },
        message: format!("flagctl create: {key}\n\n{description}\n"),
    })
}

/// The template called `name`, or an error listing them.
pub fn find_template<'a>(available: &'a [Template], name: &str) -> anyhow::Result<&'a Template> {
    available.iter().find(|t| t.name == name).with_context(|| {
        let names: Vec<&str> = available.iter().map(|t| t.name.as_str()).collect();
        format!("no template `{name}`; templates: {}", names.join(", "))
    })
}

/// The `kind` a template declares.
fn kind_of_template(template: &Template) -> anyhow::Result<String> {
    let doc: DocumentMut = template.text.parse().with_context(|| {
        format!(
            "template `{}` ({}) is not valid TOML",
            template.name, template.origin
        )
    })?;
    doc.get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string)
        .with_context(|| {
            format!(
                "template `{}` declares no `kind`; pass --kind",
                template.name
            )
        })
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
