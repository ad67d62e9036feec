//! `flagctl create`: a new flag from a template, asked for interactively in a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::bail;
use dialoguer::{Input, Select, theme::ColorfulTheme};

use super::lifecycle::CommitArgs;
use super::output::{Output, emit};
use super::terminal::tell;
use super::{Ctx, Format, Outcome, require_format};
use flagctl::create::{Created, Request, plan};
use flagctl::model::names::name_problem;
use flagctl::repo::{Repo, Transaction, short_id};
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
    #[command(flatten)]
    commit: CommitArgs,
}

/// Whether we may ask: both the keyboard and the prompt's screen are a terminal.
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

pub fn run(ctx: &Ctx, mut args: Args) -> Outcome {
    require_format(ctx, "create", &[Format::Human, Format::Json])?;
    let root = ctx.root_for_change("create")?;
    if interactive() {
        // The answers are checked again below, under the lock, against what is there then.
        let repo = Repo::load(&root)?;
        let asked = ask_missing(&repo, &templates::available(&root)?, &mut args);
        if asked.is_err() {
            // A selection prompt hides the cursor, and Ctrl-C there ends it with an error:
            // show the cursor again before saying why.
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(b"\x1b[?25h");
        }
        asked?;
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
            let kinds = Repo::load(&root)
                .map(|repo| repo.config.kind_names())
                .unwrap_or_default();
            bail!(
                "missing {} (not a terminal, so nothing can be asked)\n\
                 usage: flagctl create KEY --kind KIND --service SERVICE --owner OWNER --description TEXT [--template T]\n\
                 kinds: {kinds}",
                missing.join(", "),
            );
        }
    }
    if args.commit.dry_run {
        bail!(
            "`create` has no --dry-run\nhelp: `flagctl create … --no-commit` writes the file without committing it, to look at first"
        );
    }
    let request = Request {
        key: args.key.unwrap_or_default(),
        service: args.service.unwrap_or_default(),
        kind: args.kind,
        owner: args.owner.unwrap_or_default(),
        description: args.description.unwrap_or_default(),
        template: args.template,
    };
    if ctx.today > ctx.clock_today && !args.commit.no_commit {
        bail!(
            "--as-of {} is after today ({}): the flag's `created` would be later than the commit that adds it, which `audit` reports as created-mismatch\n\
             help: create it on or before today, or pass --no-commit",
            ctx.today,
            ctx.clock_today
        );
    }
    let transaction = Transaction::begin(&root, args.commit.options()?)?;
    let repo = Repo::load(&root)?;
    let planned = plan(&repo, &templates::available(&root)?, &request, ctx.today)?;
    let applied = transaction.apply(std::slice::from_ref(&planned.change), &planned.message)?;
    let created = planned.done(applied);
    if ctx.format() == Format::Human {
        for note in &created.applied.notes {
            tell!("note: {note}");
        }
    }
    emit(ctx, &created)?;
    Ok(ExitCode::SUCCESS)
}

impl Output for Created {
    fn human(&self, out: &mut dyn std::io::Write, _color: bool) -> std::io::Result<()> {
        let tail = match (&self.applied.commit, &self.applied.not_committed) {
            (Some(c), _) => format!(" and committed it ({})", short_id(c)),
            (None, Some(why)) => format!(" ({why})"),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "Created {} from template `{}`{tail}",
            self.path, self.template
        )
    }
}

fn blurb(template: &Template) -> String {
    let first = template.text.lines().next().unwrap_or_default();
    first
        .strip_prefix('#')
        .map(str::trim)
        .unwrap_or_default()
        .to_string()
}

fn ask_missing(repo: &Repo, available: &[Template], args: &mut Args) -> anyhow::Result<()> {
    // A selection prompt hides the cursor; Ctrl-C (SIGINT) must not leave the terminal
    // without one.
    let _ = ctrlc::set_handler(|| {
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(b"\x1b[?25h\n");
        std::process::exit(130);
    });
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
        // Services with flags, and those declared in flagctl.toml that have none yet.
        let mut items: Vec<String> = repo.services().iter().map(|s| s.to_string()).collect();
        for declared in repo.config.services.keys() {
            if !items.contains(declared) {
                items.push(declared.clone());
            }
        }
        items.sort();
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
        // Only the owners the chosen service allows, each answer checked at its prompt.
        let service = args.service.clone().unwrap_or_default();
        let owners: Vec<&String> = repo
            .config
            .owners
            .keys()
            .filter(|owner| repo.config.owner_problem(owner, &service).is_none())
            .collect();
        args.owner = Some(if owners.is_empty() {
            Input::<String>::with_theme(&theme)
                .with_prompt("Owner (e-mail or @handle)")
                .validate_with(
                    |owner: &String| match repo.config.owner_problem(owner, &service) {
                        Some(why) => Err(format!("owner {why}")),
                        None => Ok(()),
                    },
                )
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
