//! `flagctl list` and `flagctl show`.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use comfy_table::{Cell, Color};
use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::terminal::tell;
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::deadline::{Status, days_until, relative_days, standing};
use flagctl::model::config::Kind;
use flagctl::model::flag::{Action, State};
use flagctl::model::names::did_you_mean;
use flagctl::model::{Config, Flag};
use flagctl::repo::{FlagFile, Repo};

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
    /// Only flags with one of these statuses: `--status expired,review-overdue`, or the option
    /// repeated (archived flags are listed only when `archived` is one of them)
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = status_parser())]
    status: Vec<Status>,
    /// The order of the rows (default: by path, that is by service, then key)
    #[arg(long, value_enum)]
    sort: Option<SortKey>,
    /// Only flags that need action: a status an audit rule reports (expired, expiring-soon,
    /// review-overdue, review-due-soon, removal-overdue), invalid, or launched (a live
    /// temporary flag serving one variant to everyone)
    #[arg(long)]
    needs_action: bool,
}

/// `list --sort`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum SortKey {
    /// The next deadline, soonest (most overdue) first; flags without one last
    Due,
    /// The flag key
    Key,
    /// The service, then the key
    Service,
    /// The status, in the order of the status table (needs action first), then the due date
    Status,
}

impl SortKey {
    fn sort(self, flags: &mut [Summary]) {
        let status_rank = |s: &Summary| Status::ALL.iter().position(|&status| status == s.status);
        // Stable: ties keep the order of the paths.
        match self {
            SortKey::Due => flags.sort_by_key(|s| (s.due.is_none(), s.due)),
            SortKey::Key => flags.sort_by(|a, b| a.key.cmp(b.key)),
            SortKey::Service => flags.sort_by(|a, b| (a.service, a.key).cmp(&(b.service, b.key))),
            SortKey::Status => flags.sort_by_key(|s| (status_rank(s), s.due.is_none(), s.due)),
        }
    }
}

/// `--status NAME`: one of the statuses, listed by clap when the name is not one.
fn status_parser() -> impl TypedValueParser<Value = Status> {
    PossibleValuesParser::new(Status::ALL.map(Status::name))
        .map(|name| Status::from_name(&name).expect("a possible value is a status"))
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The flag key
    key: String,
}

/// A flag on the day: a row of `list`, and the head of `show --format json`.
#[derive(Serialize, JsonSchema)]
struct Summary<'a> {
    key: &'a str,
    service: &'a str,
    path: &'a str,
    status: Status,
    kind: Option<&'a str>,
    owner: Option<&'a str>,
    description: Option<&'a str>,
    state: Option<State>,
    created: Option<NaiveDate>,
    /// The next deadline: its date, field, days from today and those days in words.
    due: Option<NaiveDate>,
    due_field: Option<&'static str>,
    days_left: Option<i64>,
    due_relative: Option<String>,
}

impl<'a> Summary<'a> {
    fn of(file: &'a FlagFile, config: &Config, today: NaiveDate) -> Summary<'a> {
        let standing = standing(file, config, today);
        let flag = file.flag();
        let deadline = standing.deadline.as_ref();
        Summary {
            key: &file.key,
            service: &file.service,
            path: &file.source.path,
            status: standing.status,
            kind: flag.map(|f| f.kind.get_ref().as_str()),
            owner: flag.map(|f| f.owner.get_ref().as_str()),
            description: flag.map(|f| f.description.as_str()),
            state: flag.map(|f| f.state),
            created: flag.map(|f| *f.created.get_ref()),
            due: deadline.map(|d| d.date),
            due_field: deadline.map(|d| d.due.field()),
            days_left: deadline.map(|d| d.days),
            due_relative: deadline.map(|d| d.relative()),
        }
    }
}

/// What `list` prints.
#[derive(Serialize, JsonSchema)]
pub(super) struct FlagList<'a> {
    flags: Vec<Summary<'a>>,
}

impl Output for FlagList<'_> {
    fn human(&self, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
        if self.flags.is_empty() {
            return Ok(());
        }
        let mut table =
            render::table(&["KEY", "SERVICE", "KIND", "OWNER", "STATUS", "DUE", "WHEN"]);
        render::allow_colour(&mut table, color);
        for flag in &self.flags {
            let text = |value: Option<&str>| value.unwrap_or("?").to_string();
            let mut status = Cell::new(flag.status.name());
            if let Some(colour) = status_colour(flag.status).filter(|_| color) {
                status = status.fg(colour);
            }
            table.add_row(vec![
                Cell::new(flag.key),
                Cell::new(flag.service),
                Cell::new(text(flag.kind)),
                Cell::new(text(flag.owner)),
                status,
                Cell::new(
                    flag.due_field
                        .zip(flag.due)
                        .map_or(String::new(), |(field, date)| format!("{field} {date}")),
                ),
                Cell::new(flag.due_relative.as_deref().unwrap_or_default()),
            ]);
        }
        // Keys and owners are cut first, then KIND, SERVICE and WHEN left out.
        use render::Give::{Cut, Hide, Keep};
        render::fit(
            &mut table,
            &[Cut(20), Hide(2), Hide(1), Cut(12), Keep, Keep, Hide(3)],
        );
        render::write_table(out, &table)
    }
}

/// The colour of a status that needs action: red past a deadline (or invalid), yellow
/// when one is near.
fn status_colour(status: Status) -> Option<Color> {
    match status {
        Status::Invalid | Status::Expired | Status::ReviewOverdue | Status::RemovalOverdue => {
            Some(Color::Red)
        }
        Status::ExpiringSoon | Status::ReviewDueSoon => Some(Color::Yellow),
        Status::Disabled | Status::Concluded | Status::Live | Status::Archived => None,
    }
}

pub fn list(ctx: &Ctx, args: ListArgs) -> Outcome {
    require_format(ctx, "list", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    if let Some(kind) = &args.kind
        && !repo.config.kinds.contains_key(kind)
    {
        let near = did_you_mean(kind, repo.config.kinds.keys().map(String::as_str))
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        bail!(
            "--kind {kind}: no such kind; {near}kinds: {}",
            repo.config.kind_names()
        );
    }
    let all: Vec<Summary> = repo
        .files
        .iter()
        .map(|f| Summary::of(f, &repo.config, ctx.today))
        .collect();
    let launched: HashSet<&str> = repo
        .flags()
        .filter(|(file, flag)| {
            !file.archived
                && flag.conclusion.is_none()
                && flag.kind_of(&repo.config).is_some_and(Kind::is_temporary)
                && flagctl::readiness::launched(flag).is_some()
        })
        .map(|(file, _)| file.source.path.as_str())
        .collect();
    let needs_action = |s: &Summary| {
        s.status.rule().is_some() || s.status == Status::Invalid || launched.contains(s.path)
    };
    let wanted = |s: &Summary| {
        if args.needs_action && !needs_action(s) {
            return false;
        }
        let status = if args.status.is_empty() {
            s.status != Status::Archived
        } else {
            args.status.contains(&s.status)
        };
        let is = |filter: &Option<String>, value: Option<&str>| {
            filter.as_deref().is_none_or(|wanted| Some(wanted) == value)
        };
        status
            && is(&args.service, Some(s.service))
            && is(&args.owner, s.owner)
            && is(&args.kind, s.kind)
    };
    if !all.iter().any(wanted) {
        if repo.files.is_empty() && !repo.root.join(&repo.config.flags_dir).is_dir() {
            tell!(
                "no {} folder in {}: run `flagctl init`, or pass --repo DIR",
                repo.config.flags_dir,
                repo.root.display()
            );
        } else {
            let why = unmatched(&args, &repo.config, &all);
            if why.is_empty() {
                tell!("no flags match");
            } else {
                tell!("no flags match: {}", why.join("; "));
            }
        }
    }
    let mut flags: Vec<Summary> = all.into_iter().filter(wanted).collect();
    if let Some(order) = args.sort {
        order.sort(&mut flags);
    }
    emit(ctx, &FlagList { flags })?;
    Ok(ExitCode::SUCCESS)
}

/// Each filter of `list` that no flag of the repository matches on its own, with the
/// nearest other value that flags have (or `flagctl.toml` declares): ``no flag has
/// service `serach` (did you mean `search`?)``.
fn unmatched(args: &ListArgs, config: &Config, all: &[Summary]) -> Vec<String> {
    fn names<V>(map: &indexmap::IndexMap<String, V>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }
    let statuses: Vec<&str> = all.iter().map(|s| s.status.name()).collect();
    // What each filter asked for, the values flags have, and those flagctl.toml declares.
    let mut filters: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = Vec::new();
    if let Some(service) = &args.service {
        let present = all.iter().map(|s| s.service).collect();
        filters.push(("service", service, present, names(&config.services)));
    }
    if let Some(owner) = &args.owner {
        let present = all.iter().filter_map(|s| s.owner).collect();
        filters.push(("owner", owner, present, names(&config.owners)));
    }
    if let Some(kind) = &args.kind {
        let present = all.iter().filter_map(|s| s.kind).collect();
        filters.push(("kind", kind, present, names(&config.kinds)));
    }
    for status in &args.status {
        filters.push(("status", status.name(), statuses.clone(), Vec::new()));
    }
    filters
        .into_iter()
        .filter(|(_, wanted, present, _)| !present.contains(wanted))
        .map(|(what, wanted, present, declared)| {
            let others = present.into_iter().chain(declared).filter(|&v| v != wanted);
            let near = did_you_mean(wanted, others)
                .map(|near| format!(" (did you mean `{near}`?)"))
                .unwrap_or_default();
            format!("no flag has {what} `{wanted}`{near}")
        })
        .collect()
}

/// What `show` prints: the flag's summary on the day and everything in its file.
#[derive(Serialize, JsonSchema)]
pub(super) struct Details<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    expires: Option<NaiveDate>,
    review_by: Option<NaiveDate>,
    reviewed: Option<NaiveDate>,
    tags: &'a [String],
    ticket: Option<&'a str>,
    controls: Vec<&'a str>,
    conflicts_with: Vec<&'a str>,
    requires: Vec<Requirement<'a>>,
    layer: Option<LayerRange<'a>>,
    default: &'a str,
    variants: &'a indexmap::IndexMap<String, serde_json::Value>,
    rules: Vec<RuleSummary>,
    conclusion: Option<ConclusionDates<'a>>,
    /// `[archived]`: when the flag was archived and the last commit that served it.
    archived: Option<ArchivedAt<'a>>,
    history: Option<Provenance>,
    #[serde(skip)]
    flag: &'a Flag,
    #[serde(skip)]
    config: &'a Config,
    #[serde(skip)]
    today: NaiveDate,
}

#[derive(Serialize, JsonSchema)]
struct Requirement<'a> {
    flag: &'a str,
    variant: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct LayerRange<'a> {
    name: &'a str,
    range: [i64; 2],
}

#[derive(Serialize, JsonSchema)]
struct RuleSummary {
    name: Option<String>,
    segment: Option<String>,
    /// How many conditions of `when` it has.
    conditions: usize,
    action: String,
}

#[derive(Serialize, JsonSchema)]
struct ConclusionDates<'a> {
    date: NaiveDate,
    winner: &'a str,
    remove_by: NaiveDate,
    results: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct ArchivedAt<'a> {
    date: NaiveDate,
    commit: Option<&'a str>,
    /// The results of a flag archived without a conclusion.
    results: Option<&'a str>,
}

/// The strings of a list of spanned strings.
fn texts(items: &[toml::Spanned<String>]) -> Vec<&str> {
    items.iter().map(|i| i.get_ref().as_str()).collect()
}

impl<'a> Details<'a> {
    fn of(
        repo: &'a Repo,
        file: &'a FlagFile,
        flag: &'a Flag,
        today: NaiveDate,
    ) -> anyhow::Result<Self> {
        Ok(Details {
            summary: Summary::of(file, &repo.config, today),
            expires: flag.expires.as_ref().map(|d| *d.get_ref()),
            review_by: flag.review_by.as_ref().map(|d| *d.get_ref()),
            reviewed: flag.reviewed.as_ref().map(|d| *d.get_ref()),
            tags: &flag.tags,
            ticket: flag.ticket.as_deref(),
            controls: texts(&flag.controls),
            conflicts_with: texts(&flag.conflicts_with),
            requires: flag
                .requires
                .iter()
                .map(|r| Requirement {
                    flag: r.flag.get_ref(),
                    variant: r.variant.get_ref(),
                })
                .collect(),
            layer: flag.layer.as_ref().map(|l| LayerRange {
                name: &l.name,
                range: [l.from, l.to],
            }),
            default: flag.default.get_ref(),
            variants: &flag.variants,
            rules: flag
                .rules
                .iter()
                .map(|r| RuleSummary {
                    name: r.name.clone(),
                    segment: r.segment.clone(),
                    conditions: r.when.len(),
                    action: action_text(&r.action),
                })
                .collect(),
            conclusion: flag.conclusion.as_ref().map(|c| ConclusionDates {
                date: c.date,
                winner: &c.winner,
                remove_by: *c.remove_by.get_ref(),
                results: c.results.as_deref(),
            }),
            archived: flag.archived.as_ref().map(|a| ArchivedAt {
                date: a.date,
                commit: a.commit.as_deref(),
                results: a.results.as_deref(),
            }),
            history: provenance(repo, &file.key)?,
            flag,
            config: &repo.config,
            today,
        })
    }

    /// `2026-12-01 (in 6 days)`.
    fn dated(&self, date: NaiveDate) -> String {
        format!("{date} ({})", relative_days(days_until(self.today, date)))
    }

    /// The `name  value` lines above the variants.
    fn lines(&self) -> Vec<(&'static str, String)> {
        let (flag, summary) = (self.flag, &self.summary);
        let owner = flag.owner.get_ref();
        let contact = self
            .config
            .owners
            .get(owner)
            .and_then(|o| o.contact.clone().or(o.slack.clone()));
        let kind = match flag.kind_of(self.config) {
            Some(Kind::Temporary { max_days }) => format!(
                "{} (temporary, at most {max_days} days)",
                flag.kind.get_ref()
            ),
            Some(Kind::Permanent { review_days }) => format!(
                "{} (permanent, reviewed every {review_days} days)",
                flag.kind.get_ref()
            ),
            None => format!("{} (undeclared kind)", flag.kind.get_ref()),
        };
        let mut lines: Vec<(&str, String)> = vec![
            ("key", summary.key.to_string()),
            ("path", summary.path.to_string()),
            ("description", flag.description.clone()),
            ("service", summary.service.to_string()),
            ("kind", kind),
            (
                "owner",
                contact.map_or(owner.clone(), |c| format!("{owner} ({c})")),
            ),
            ("status", summary.status.name().to_string()),
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
        if let Some(d) = self.expires {
            lines.push(("expires", self.dated(d)));
        }
        if let Some(d) = self.reviewed {
            lines.push(("reviewed", d.to_string()));
        }
        if let Some(d) = self.review_by {
            lines.push(("review_by", self.dated(d)));
        }
        if !self.tags.is_empty() {
            lines.push(("tags", self.tags.join(", ")));
        }
        if let Some(t) = self.ticket {
            lines.push(("ticket", t.to_string()));
        }
        if !self.controls.is_empty() {
            lines.push(("controls", self.controls.join(", ")));
        }
        if !self.conflicts_with.is_empty() {
            lines.push(("conflicts_with", self.conflicts_with.join(", ")));
        }
        if !self.requires.is_empty() {
            let text = self
                .requires
                .iter()
                .map(|r| format!("{} = {}", r.flag, r.variant))
                .collect::<Vec<_>>()
                .join(", ");
            lines.push(("requires", text));
        }
        if let Some(l) = &self.layer {
            lines.push((
                "layer",
                format!("{} [{}, {})", l.name, l.range[0], l.range[1]),
            ));
        }
        lines.push(("default", self.default.to_string()));
        if let Some(c) = &self.conclusion {
            lines.push((
                "concluded",
                format!(
                    "{} — winner `{}`, remove by {}",
                    c.date,
                    c.winner,
                    self.dated(c.remove_by)
                ),
            ));
            if let Some(r) = c.results {
                lines.push(("results", r.to_string()));
            }
        }
        if let Some(a) = &self.archived {
            let commit = a
                .commit
                .map(|commit| format!(" — last served by commit {commit}"))
                .unwrap_or_default();
            lines.push(("archived", format!("{}{commit}", self.dated(a.date))));
            if let Some(r) = a.results.filter(|_| self.conclusion.is_none()) {
                lines.push(("results", r.to_string()));
            }
        }
        match &self.history {
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
        lines
    }
}

impl Output for Details<'_> {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        let lines = self.lines();
        let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (name, value) in &lines {
            writeln!(out, "{name:width$}  {value}")?;
        }
        writeln!(out, "\nvariants")?;
        for (name, value) in self.variants {
            let marker = if name == self.default {
                " (default)"
            } else {
                ""
            };
            writeln!(out, "  {name}{marker} = {value}")?;
        }
        if !self.flag.rules.is_empty() {
            writeln!(out, "\nrules (first match wins)")?;
            for (i, rule) in self.flag.rules.iter().enumerate() {
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
                writeln!(
                    out,
                    "  {}. {name}: {when} → {}",
                    i + 1,
                    action_text(&rule.action)
                )?;
            }
        }
        Ok(())
    }
}

pub fn show(ctx: &Ctx, args: ShowArgs) -> Outcome {
    require_format(ctx, "show", &[Format::Human, Format::Json])?;
    let repo = ctx.load()?;
    let Some(file) = repo.find(&args.key) else {
        let keys = repo.files.iter().map(|f| f.key.as_str());
        let hint = did_you_mean(&args.key, keys)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        bail!("no flag `{}` in {}{hint}", args.key, repo.config.flags_dir);
    };
    let Some(flag) = file.flag() else {
        let findings = invalid_findings(&repo, file);
        render::findings(ctx, &repo, &findings, &[])?;
        return Ok(ExitCode::from(1));
    };
    emit(ctx, &Details::of(&repo, file, flag, ctx.today)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Who added a flag, when it last changed and how often it was extended, from git.
#[derive(Serialize, JsonSchema)]
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
        last_changed: last
            .date()
            .map_or_else(|| "unknown".to_string(), |d| d.to_string()),
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
