//! Flag templates: built into the binary, overridden by a repository's `templates/`.

use std::path::Path;

use anyhow::Context;

pub const TEMPLATES_DIR: &str = "templates";

/// The built-in templates, by name.
pub const BUILT_IN: [(&str, &str); 6] = [
    ("experiment", include_str!("../templates/experiment.toml")),
    (
        "model-rollout",
        include_str!("../templates/model-rollout.toml"),
    ),
    (
        "feature-pipeline",
        include_str!("../templates/feature-pipeline.toml"),
    ),
    ("parameter", include_str!("../templates/parameter.toml")),
    ("kill-switch", include_str!("../templates/kill-switch.toml")),
    ("regulatory", include_str!("../templates/regulatory.toml")),
];

/// A template's name and text.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub text: String,
    /// Where it came from: `built-in` or the path of the override.
    pub origin: String,
}

/// Every template available in the repository at `root`: built-ins, then the
/// repository's own, which replace built-ins of the same name.
pub fn available(root: &Path) -> anyhow::Result<Vec<Template>> {
    let mut templates: Vec<Template> = BUILT_IN
        .iter()
        .map(|(name, text)| Template {
            name: name.to_string(),
            text: text.to_string(),
            origin: "built-in".into(),
        })
        .collect();
    let dir = crate::repo::confine::resolve(root, TEMPLATES_DIR, false)
        .map_err(|why| anyhow::anyhow!("{why}"))?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(templates);
    };
    let mut own = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {TEMPLATES_DIR}/"))?
            .path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        let rel = format!("{TEMPLATES_DIR}/{name}.toml");
        let text = crate::repo::confine::read_text(root, &rel)
            .map_err(|why| anyhow::anyhow!("template {why}"))?
            .with_context(|| format!("cannot read template {rel}"))?;
        own.push(Template {
            name: name.to_string(),
            text,
            origin: rel,
        });
    }
    own.sort_by(|a, b| a.name.cmp(&b.name));
    for template in own {
        match templates.iter_mut().find(|t| t.name == template.name) {
            Some(built_in) => *built_in = template,
            None => templates.push(template),
        }
    }
    Ok(templates)
}

/// The template a kind uses when none is named: the one named after the kind, else the
/// built-in that fits the kind's lifetime.
pub fn default_for_kind<'a>(kind: &'a str, temporary: bool, available: &[Template]) -> &'a str {
    if available.iter().any(|t| t.name == kind) {
        return kind;
    }
    match kind {
        "release" => "model-rollout",
        "operational" => "feature-pipeline",
        _ if temporary => "experiment",
        _ => "parameter",
    }
}
