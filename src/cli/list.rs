//! `flagctl list` and `flagctl show`.

use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Value, json};

use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::model::flag::{Action, State};
use flagctl::repo::{FlagFile, Repo};
use flagctl::status::{Status, days_until, due, status};

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only flags of this service
    #[arg(long)]
    service: Option<String>,
    /// Only flags of this owner
    #[arg(long)]
    owner: Option<String>,
    /// Only flags of this kind
    #[arg(long)]
    kind: Option<String>,
    /// Only flags with this status (archived flags are listed only with `--status archived`)
    #[arg(long, value_enum)]
    status: Option<Status>,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The flag key
    key: String,
}

fn summary_json(ctx: &Ctx, repo: &Repo, file: &FlagFile) -> Value {
    let status = status(file, &repo.config, ctx.today);
    let flag = file.flag();
    let due = flag.and_then(|f| due(f, &repo.config));
    json!({
        "key": file.key,
        "service": file.service,
        "path": file.source.path,
        "status": status.name(),
        "kind": flag.map(|f| f.kind.get_ref()),
        "owner": flag.map(|f| f.owner.get_ref()),
        "description": flag.map(|f| &f.description),
        "state": flag.map(|f| f.state),
        "created": flag.map(|f| f.created.get_ref().to_string()),
        "due": due.map(|d| d.date.to_string()),
        "due_field": due.map(|d| d.field),
        "days_left": due.map(|d| days_until(ctx.today, d.date)),
    })
}

pub fn list(ctx: &Ctx, args: ListArgs) -> Outcome {
    require_format(ctx, "list", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    if let Some(kind) = &args.kind
        && !repo.config.kinds.contains_key(kind)
    {
        bail!(
            "--kind {kind}: no such kind; kinds: {}",
            repo.config.kind_names()
        );
    }
    let selected: Vec<(&FlagFile, Status)> = repo
        .files
        .iter()
        .map(|f| (f, status(f, &repo.config, ctx.today)))
        .filter(|(f, s)| match args.status {
            Some(wanted) => *s == wanted,
            None => !f.archived,
        })
        .filter(|(f, _)| args.service.as_ref().is_none_or(|s| *s == f.service))
        .filter(|(f, _)| {
            let flag = f.flag();
            args.owner
                .as_ref()
                .is_none_or(|o| flag.is_some_and(|fl| fl.owner.get_ref() == o))
                && args
                    .kind
                    .as_ref()
                    .is_none_or(|k| flag.is_some_and(|fl| fl.kind.get_ref() == k))
        })
        .collect();

    if ctx.format() == Format::Json {
        let flags: Vec<Value> = selected
            .iter()
            .map(|(f, _)| summary_json(ctx, &repo, f))
            .collect();
        render::json_out(&json!({ "schema": 1, "as_of": ctx.today.to_string(), "flags": flags }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = render::table(&["KEY", "SERVICE", "KIND", "OWNER", "STATUS", "DUE", "DAYS"]);
    for (file, status) in &selected {
        let flag = file.flag();
        let due = flag.and_then(|f| due(f, &repo.config));
        table.add_row(vec![
            file.key.clone(),
            file.service.clone(),
            flag.map_or("?".into(), |f| f.kind.get_ref().clone()),
            flag.map_or("?".into(), |f| f.owner.get_ref().clone()),
            status.name().to_string(),
            due.map_or(String::new(), |d| format!("{} {}", d.field, d.date)),
            due.map_or(String::new(), |d| days_until(ctx.today, d.date).to_string()),
        ]);
    }
    if repo.files.is_empty() && !repo.root.join(&repo.config.flags_dir).is_dir() {
        eprintln!(
            "no {} folder in {}: run `flagctl init`, or pass --repo DIR",
            repo.config.flags_dir,
            repo.root.display()
        );
    } else if selected.is_empty() {
        eprintln!("no flags match");
    } else {
        render::print_table(&table)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(ctx: &Ctx, args: ShowArgs) -> Outcome {
    require_format(ctx, "show", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    let Some(file) = repo.find(&args.key) else {
        let keys = repo.files.iter().map(|f| f.key.as_str());
        let hint = flagctl::model::names::did_you_mean(&args.key, keys)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        bail!("no flag `{}` in {}{hint}", args.key, repo.config.flags_dir);
    };
    let Some(flag) = file.flag() else {
        let findings = invalid_findings(&repo, file);
        render::findings(ctx, &repo, &findings, &[])?;
        return Ok(ExitCode::from(1));
    };
    let status = status(file, &repo.config, ctx.today);
    let provenance = provenance(&repo, &file.key)?;
    if ctx.format() == Format::Json {
        let mut value = summary_json(ctx, &repo, file);
        let extra = json!({
            "expires": flag.expires.as_ref().map(|d| d.get_ref().to_string()),
            "review_by": flag.review_by.as_ref().map(|d| d.get_ref().to_string()),
            "reviewed": flag.reviewed.as_ref().map(|d| d.get_ref().to_string()),
            "tags": flag.tags,
            "ticket": flag.ticket,
            "controls": flag.controls.iter().map(|c| c.get_ref()).collect::<Vec<_>>(),
            "conflicts_with": flag.conflicts_with.iter().map(|c| c.get_ref()).collect::<Vec<_>>(),
            "requires": flag.requires.iter().map(|r| json!({"flag": r.flag.get_ref(), "variant": r.variant.get_ref()})).collect::<Vec<_>>(),
            "layer": flag.layer.as_ref().map(|l| json!({"name": l.name, "range": [l.from, l.to]})),
            "default": flag.default.get_ref(),
            "variants": flag.variants,
            "rules": flag.rules.iter().map(|r| json!({"name": r.name, "segment": r.segment, "conditions": r.when.len(), "action": action_text(&r.action)})).collect::<Vec<_>>(),
            "conclusion": flag.conclusion.as_ref().map(|c| json!({"date": c.date.to_string(), "winner": c.winner, "remove_by": c.remove_by.get_ref().to_string(), "results": c.results})),
            "history": provenance.as_ref().map(|p| json!({
                "created_by": p.created_by, "created_in": p.created_in, "last_changed": p.last_changed,
                "last_commit": p.last_commit, "extensions": p.extensions,
            })),
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut value, extra) {
            base.extend(extra);
        }
        render::json_out(&value)?;
        return Ok(ExitCode::SUCCESS);
    }

    let owner = flag.owner.get_ref();
    let contact = repo
        .config
        .owners
        .get(owner)
        .and_then(|o| o.contact.clone().or(o.slack.clone()));
    let kind = match flag.kind_of(&repo.config) {
        Some(flagctl::model::config::Kind::Temporary { max_days }) => format!(
            "{} (temporary, at most {max_days} days)",
            flag.kind.get_ref()
        ),
        Some(flagctl::model::config::Kind::Permanent { review_days }) => format!(
            "{} (permanent, reviewed every {review_days} days)",
            flag.kind.get_ref()
        ),
        None => format!("{} (undeclared kind)", flag.kind.get_ref()),
    };
    let mut lines: Vec<(&str, String)> = vec![
        ("key", file.key.clone()),
        ("path", file.source.path.clone()),
        ("description", flag.description.clone()),
        ("service", file.service.clone()),
        ("kind", kind),
        (
            "owner",
            contact.map_or(owner.clone(), |c| format!("{owner} ({c})")),
        ),
        ("status", status.name().to_string()),
        (
            "state",
            if flag.state == State::Disabled {
                "disabled (serves the default to everyone)".into()
            } else {
                "enabled".into()
            },
        ),
        ("created", flag.created.get_ref().to_string()),
    ];
    let dated = |d: chrono::NaiveDate| {
        let days = days_until(ctx.today, d);
        match days {
            0 => format!("{d} (today)"),
            n if n > 0 => format!("{d} (in {n} days)"),
            n => format!("{d} ({} days ago)", -n),
        }
    };
    if let Some(d) = &flag.expires {
        lines.push(("expires", dated(*d.get_ref())));
    }
    if let Some(d) = &flag.reviewed {
        lines.push(("reviewed", d.get_ref().to_string()));
    }
    if let Some(d) = &flag.review_by {
        lines.push(("review_by", dated(*d.get_ref())));
    }
    if !flag.tags.is_empty() {
        lines.push(("tags", flag.tags.join(", ")));
    }
    if let Some(t) = &flag.ticket {
        lines.push(("ticket", t.clone()));
    }
    let join = |items: &[toml::Spanned<String>]| {
        items
            .iter()
            .map(|i| i.get_ref().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !flag.controls.is_empty() {
        lines.push(("controls", join(&flag.controls)));
    }
    if !flag.conflicts_with.is_empty() {
        lines.push(("conflicts_with", join(&flag.conflicts_with)));
    }
    if !flag.requires.is_empty() {
        let text = flag
            .requires
            .iter()
            .map(|r| format!("{} = {}", r.flag.get_ref(), r.variant.get_ref()))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(("requires", text));
    }
    if let Some(l) = &flag.layer {
        lines.push(("layer", format!("{} [{}, {})", l.name, l.from, l.to)));
    }
    lines.push(("default", flag.default.get_ref().clone()));
    if let Some(c) = &flag.conclusion {
        lines.push((
            "concluded",
            format!(
                "{} — winner `{}`, remove by {}",
                c.date,
                c.winner,
                dated(*c.remove_by.get_ref())
            ),
        ));
        if let Some(r) = &c.results {
            lines.push(("results", r.clone()));
        }
    }
    match &provenance {
        Some(p) => {
            lines.push((
                "created by",
                format!("{} in {}", p.created_by, &p.created_in[..7]),
            ));
            lines.push((
                "last changed",
                format!("{} in {}", p.last_changed, &p.last_commit[..7]),
            ));
            lines.push(("extensions", p.extensions.to_string()));
        }
        None => lines.push((
            "history",
            "not committed yet, or no git history here".into(),
        )),
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, value) in &lines {
        text.push_str(&format!("{name:width$}  {value}\n"));
    }
    text.push_str("\nvariants\n");
    for (name, value) in &flag.variants {
        let marker = if name == flag.default.get_ref() {
            " (default)"
        } else {
            ""
        };
        text.push_str(&format!("  {name}{marker} = {value}\n"));
    }
    if !flag.rules.is_empty() {
        text.push_str("\nrules (first match wins)\n");
        for (i, rule) in flag.rules.iter().enumerate() {
            let name = rule.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let mut when: Vec<String> = rule
                .segment
                .iter()
                .map(|s| format!("segment {s}"))
                .collect();
            when.extend(
                rule.when
                    .iter()
                    .map(|c| format!("{} {} {}", c.attr, c.op.name(), c.value)),
            );
            let when = if when.is_empty() {
                "everyone".to_string()
            } else {
                when.join(" and ")
            };
            text.push_str(&format!(
                "  {}. {name}: {when} → {}\n",
                i + 1,
                action_text(&rule.action)
            ));
        }
    }
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Who added a flag, when it last changed and how often it was extended, from git.
struct Provenance {
    created_by: String,
    created_in: String,
    last_changed: String,
    last_commit: String,
    extensions: usize,
}

fn provenance(repo: &Repo, key: &str) -> anyhow::Result<Option<Provenance>> {
    let (Some(history), _) = super::history::load(repo)? else {
        return Ok(None);
    };
    let (Some(first), Some(last)) = (history.first_added(key), history.last_changed(key)) else {
        return Ok(None);
    };
    Ok(Some(Provenance {
        created_by: first.author.clone(),
        created_in: first.id.to_string(),
        last_changed: last.date().to_string(),
        last_commit: last.id.to_string(),
        extensions: flagctl::history::extensions(repo, history.changes(key)),
    }))
}

fn action_text(action: &Action) -> String {
    match action {
        Action::Serve(v) => format!("serve {v}"),
        Action::Rollout(entries) => {
            let total: u64 = entries.iter().map(|(_, w)| u64::from(*w)).sum();
            let parts: Vec<String> = entries
                .iter()
                .map(|(v, w)| format!("{v} {:.0}%", f64::from(*w) * 100.0 / total.max(1) as f64))
                .collect();
            format!("rollout {}", parts.join(" / "))
        }
    }
}

fn invalid_findings(repo: &Repo, file: &FlagFile) -> Vec<flagctl::checks::Finding> {
    let severities = flagctl::checks::Severities::from_config(&repo.config);
    let mut sink = flagctl::checks::Sink::new(&severities);
    flagctl::checks::check_files(repo, &mut sink);
    sink.into_findings()
        .into_iter()
        .filter(|f| f.path == file.source.path)
        .collect()
}
