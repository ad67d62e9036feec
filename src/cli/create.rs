//! `flagctl create`: a new flag from a template, asked for interactively in a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use dialoguer::{Input, Select, theme::ColorfulTheme};

use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::create::{NewFlag, render as render_flag};
use flagctl::model::names::name_problem;
use flagctl::repo::{Repo, git};
use flagctl::templates::{self, Template};

#[derive(clap::Args)]
pub struct Args {
    /// The flag key used in code (lowercase letters, digits, `.`, `_`, `-`)
    key: Option<String>,
    /// The kind (default: the template's)
    #[arg(long)]
    kind: Option<String>,
    /// The service folder under flags/
    #[arg(long)]
    service: Option<String>,
    /// The owner, from [owners] in flagctl.toml
    #[arg(long)]
    owner: Option<String>,
    /// What the flag changes and why
    #[arg(long)]
    description: Option<String>,
    /// The template (default: the one for the kind); see templates/ or the built-ins
    #[arg(long)]
    template: Option<String>,
    /// Write the file without committing it
    #[arg(long)]
    no_commit: bool,
}

/// Whether we may ask: both the keyboard and the prompt's screen are a terminal.
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

pub fn run(ctx: &Ctx, mut args: Args) -> Outcome {
    require_format(ctx, "create", &[Format::Human, Format::Json])?;
    let repo = ctx.load_for_change("create")?;
    let available = templates::available(&repo.root)?;
    if interactive() {
        ask_missing(&repo, &available, &mut args)?;
    } else {
        let mut missing = Vec::new();
        if args.key.is_none() {
            missing.push("KEY");
        }
        if args.kind.is_none() && args.template.is_none() {
            missing.push("--kind");
        }
        if args.service.is_none() {
            missing.push("--service");
        }
        if args.owner.is_none() {
            missing.push("--owner");
        }
        if args.description.is_none() {
            missing.push("--description");
        }
        if !missing.is_empty() {
            bail!(
                "missing {} (not a terminal, so nothing can be asked)\n\
                 usage: flagctl create KEY --kind KIND --service SERVICE --owner OWNER --description TEXT [--template T]\n\
                 kinds: {}",
                missing.join(", "),
                repo.config.kind_names()
            );
        }
    }
    let (key, service, owner, description) = (
        args.key.unwrap_or_default(),
        args.service.unwrap_or_default(),
        args.owner.unwrap_or_default(),
        args.description.unwrap_or_default(),
    );
    if let Some(why) = name_problem(&key) {
        bail!("`{key}` is not a valid flag key: {why}");
    }
    if let Some(why) = name_problem(&service) {
        bail!("`{service}` is not a valid service name: {why}");
    }
    if description.trim().is_empty() {
        bail!("the description is empty; say what the flag changes and why");
    }
    if let Some(existing) = repo.files.iter().find(|f| f.key == key) {
        bail!(
            "flag `{key}` already exists at {}; keys are unique across services and the archive",
            existing.source.path
        );
    }
    let template_name = args.template.clone();
    let kind = match (args.kind, &template_name) {
        (Some(kind), _) => kind,
        (None, Some(name)) => kind_of_template(find_template(&available, name)?)?,
        (None, None) => unreachable!("checked above"),
    };
    let Some(kind_def) = repo.config.kinds.get(&kind) else {
        bail!("unknown kind `{kind}`; kinds: {}", repo.config.kind_names());
    };
    if let Some(why) = repo.config.owner_problem(&owner, &service) {
        bail!("owner {why}");
    }
    let template_name = template_name.unwrap_or_else(|| {
        templates::default_for_kind(&kind, kind_def.is_temporary(), &available).to_string()
    });
    let template = find_template(&available, &template_name)?;
    let new = NewFlag {
        key: key.clone(),
        service: service.clone(),
        kind,
        owner,
        description: description.clone(),
        created: ctx.today,
    };
    let text = render_flag(template, &new, &repo.config)?;

    let rel = format!("{}/{service}/{key}.toml", repo.config.flags_dir);
    let path = repo.root.join(&rel);
    let git = if args.no_commit {
        None
    } else {
        git::open(&repo.root)
    };
    let git_path = match &git {
        Some(g) => {
            let p = git::git_path(g, &repo.root, &rel)?;
            git::ensure_nothing_else_staged(g, &[])?;
            git::ensure_identity(g)?;
            Some(p)
        }
        None => None,
    };
    flagctl::fsio::write_atomic(&path, &text, false)?;
    let commit = match (&git, &git_path) {
        (Some(g), Some(p)) => {
            let message = format!("flagctl create: {key}\n\n{description}\n");
            match git::commit_paths(g, std::slice::from_ref(p), &message) {
                Ok(oid) => Some(oid.to_string()),
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    return Err(e.context(format!("{rel} was not created")));
                }
            }
        }
        _ => None,
    };
    if ctx.format() == Format::Json {
        render::json_out(
            &serde_json::json!({ "key": key, "path": rel, "template": template.name, "commit": commit }),
        )?;
    } else {
        match &commit {
            Some(c) => println!(
                "Created {rel} from template `{}` and committed it ({})",
                template.name,
                &c[..7]
            ),
            None if args.no_commit => println!(
                "Created {rel} from template `{}` (not committed)",
                template.name
            ),
            None => println!(
                "Created {rel} from template `{}` (not a git repository: not committed)",
                template.name
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn find_template<'a>(available: &'a [Template], name: &str) -> anyhow::Result<&'a Template> {
    available.iter().find(|t| t.name == name).with_context(|| {
        let names: Vec<&str> = available.iter().map(|t| t.name.as_str()).collect();
        format!("no template `{name}`; templates: {}", names.join(", "))
    })
}

/// The kind a template declares (`kind = "…"`).
fn kind_of_template(template: &Template) -> anyhow::Result<String> {
    let doc: toml_edit::DocumentMut = template.text.parse().with_context(|| {
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

/// The first comment line of a template: what it is for.
fn blurb(template: &Template) -> String {
    let first = template.text.lines().next().unwrap_or_default();
    first
        .strip_prefix('#')
        .map(str::trim)
        .unwrap_or_default()
        .to_string()
}

fn ask_missing(repo: &Repo, available: &[Template], args: &mut Args) -> anyhow::Result<()> {
    let theme = ColorfulTheme::default();
    if args.kind.is_none() && args.template.is_none() {
        let items: Vec<String> = available
            .iter()
            .map(|t| format!("{} — {}", t.name, blurb(t)))
            .collect();
        let choice = Select::with_theme(&theme)
            .with_prompt("Template")
            .items(&items)
            .default(0)
            .interact()?;
        args.template = Some(available[choice].name.clone());
    }
    if args.service.is_none() {
        let services = repo.services();
        let mut items: Vec<String> = services.iter().map(|s| s.to_string()).collect();
        items.push("a new service…".into());
        let choice = Select::with_theme(&theme)
            .with_prompt("Service")
            .items(&items)
            .default(0)
            .interact()?;
        args.service = Some(if choice + 1 == items.len() {
            Input::<String>::with_theme(&theme)
                .with_prompt("New service name")
                .validate_with(|s: &String| name_problem(s).map_or(Ok(()), Err))
                .interact_text()?
        } else {
            items[choice].clone()
        });
    }
    if args.owner.is_none() {
        let owners: Vec<&String> = repo.config.owners.keys().collect();
        args.owner = Some(if owners.is_empty() {
            Input::<String>::with_theme(&theme)
                .with_prompt("Owner (e-mail or @handle)")
                .interact_text()?
        } else {
            let choice = Select::with_theme(&theme)
                .with_prompt("Owner")
                .items(&owners)
                .default(0)
                .interact()?;
            owners[choice].clone()
        });
    }
    if args.key.is_none() {
        let taken: Vec<String> = repo.files.iter().map(|f| f.key.clone()).collect();
        args.key = Some(
            Input::<String>::with_theme(&theme)
                .with_prompt("Flag key")
                .validate_with(move |k: &String| match name_problem(k) {
                    Some(why) => Err(why),
                    None if taken.contains(k) => Err(format!("`{k}` already exists")),
                    None => Ok(()),
                })
                .interact_text()?,
        );
    }
    if args.description.is_none() {
        args.description = Some(
            Input::<String>::with_theme(&theme)
                .with_prompt("Description")
                .validate_with(|d: &String| {
                    if d.trim().is_empty() {
                        Err("say what the flag changes and why")
                    } else {
                        Ok(())
                    }
                })
                .interact_text()?,
        );
    }
    Ok(())
}
