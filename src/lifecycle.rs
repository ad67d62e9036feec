//! The lifecycle steps as in-place edits of a flag file. Each checks that the
//! step applies to the flag and refuses (an `Err` naming what to do) when it does not.

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::edit::{date, set};
use crate::model::config::Kind;
use crate::model::flag::State;
use crate::model::{Config, Flag, SourceFile};
use crate::repo::{ARCHIVE_DIR, Applied, FileChange, Repo};

/// Keys after which a new date key reads naturally, nearest first.
const DATE_ANCHORS: [&str; 4] = ["reviewed", "review_by", "expires", "created"];

fn kind<'c>(flag: &Flag, config: &'c Config) -> anyhow::Result<&'c Kind> {
    match flag.kind_of(config) {
        Some(kind) => Ok(kind),
        None => bail!(
            "kind `{}` is not declared; fix the flag first (`flagctl validate`)",
            flag.kind.get_ref()
        ),
    }
}

/// A step dated before the flag existed would write an impossible history.
fn not_before_created(flag: &Flag, today: NaiveDate) -> anyhow::Result<()> {
    let created = *flag.created.get_ref();
    if today < created {
        bail!("{today} is before the flag was created ({created}); check --as-of");
    }
    Ok(())
}

fn check_variant(flag: &Flag, variant: &str) -> anyhow::Result<()> {
    if !flag.variants.contains_key(variant) {
        let names: Vec<&str> = flag.variants.keys().map(String::as_str).collect();
        bail!(
            "`{variant}` is not a variant of this flag; variants: {}",
            names.join(", ")
        );
    }
    Ok(())
}

/// `expire`: records the conclusion; the flag serves `winner` from `today` on.
pub fn expire(
    doc: &mut DocumentMut,
    flag: &Flag,
    config: &Config,
    winner: &str,
    results: Option<&str>,
    today: NaiveDate,
) -> anyhow::Result<NaiveDate> {
    if !kind(flag, config)?.is_temporary() {
        bail!(
            "kind `{}` is permanent and is not concluded; retire it with `flagctl archive`",
            flag.kind.get_ref()
        );
    }
    if let Some(c) = &flag.conclusion {
        bail!("already concluded on {} with winner `{}`", c.date, c.winner);
    }
    not_before_created(flag, today)?;
    check_variant(flag, winner)?;
    let remove_by = today + Days::new(config.policy.removal_grace_days.into());
    let mut conclusion = Table::new();
    conclusion.insert("date", date(today)?);
    conclusion.insert("winner", value(winner));
    conclusion.insert("remove_by", date(remove_by)?);
    if let Some(results) = results {
        conclusion.insert("results", value(results));
    }
    doc.as_table_mut()
        .insert("conclusion", Item::Table(conclusion));
    Ok(remove_by)
}

/// `extend`: moves `expires` to `until`, never past created + max_days without `force`.
pub fn extend(
    doc: &mut DocumentMut,
    flag: &Flag,
    config: &Config,
    until: NaiveDate,
    force: bool,
    today: NaiveDate,
) -> anyhow::Result<NaiveDate> {
    let Kind::Temporary { max_days } = kind(flag, config)? else {
        bail!(
            "kind `{}` is permanent and has no expiry; use `flagctl review`",
            flag.kind.get_ref()
        );
    };
    if let Some(c) = &flag.conclusion {
        bail!(
            "concluded on {}; a concluded flag is archived, not extended",
            c.date
        );
    }
    let current = flag.expires.as_ref().map(|e| *e.get_ref());
    if current.is_some_and(|c| until <= c) {
        bail!(
            "--until {until} is not after the current expiry ({})",
            current.expect("checked")
        );
    }
    if until < today {
        bail!("--until {until} is in the past");
    }
    let limit = *flag.created.get_ref() + Days::new((*max_days).into());
    if until > limit && !force {
        bail!(
            "--until {until} is past {limit}, the most {} may live (created {} + {max_days} days)\n\
             help: conclude it instead, or pass --force with a reason that justifies it",
            crate::model::names::with_article(flag.kind.get_ref()),
            flag.created.get_ref()
        );
    }
    set(doc.as_table_mut(), "expires", date(until)?, &["created"]);
    Ok(current.unwrap_or(until))
}

/// `review`: `reviewed = today`, `review_by = today + review_days`.
pub fn review(
    doc: &mut DocumentMut,
    flag: &Flag,
    config: &Config,
    today: NaiveDate,
) -> anyhow::Result<NaiveDate> {
    let Kind::Permanent { review_days } = kind(flag, config)? else {
        bail!(
            "kind `{}` is temporary and is not reviewed; use `flagctl extend` or `flagctl expire`",
            flag.kind.get_ref()
        );
    };
    not_before_created(flag, today)?;
    let review_by = today + Days::new((*review_days).into());
    let table = doc.as_table_mut();
    set(table, "reviewed", date(today)?, &["created"]);
    set(table, "review_by", date(review_by)?, &["reviewed"]);
    Ok(review_by)
}

/// `kill` (`disabled = true`) and `restore` (`false`).
pub fn set_state(doc: &mut DocumentMut, flag: &Flag, disabled: bool) -> anyhow::Result<()> {
    match (flag.state, disabled) {
        (State::Disabled, true) => bail!("already disabled; `flagctl restore` enables it"),
        (State::Enabled, false) => bail!("not disabled; nothing to restore"),
        (_, true) => set(
            doc.as_table_mut(),
            "state",
            value("disabled"),
            &DATE_ANCHORS,
        ),
        (_, false) => {
            doc.as_table_mut().remove("state");
        }
    }
    Ok(())
}

/// `archive`: records when and the last commit that served the flag; results go into the
/// conclusion when there is one, else into `[archived]`. A temporary flag is concluded
/// first, so that whoever removes it from the code knows which variant to keep.
pub fn archive(
    doc: &mut DocumentMut,
    flag: &Flag,
    config: &Config,
    today: NaiveDate,
    commit: Option<&str>,
    results: Option<&str>,
) -> anyhow::Result<()> {
    if flag.archived.is_some() {
        bail!("already archived");
    }
    // A launched flag is concluded in `doc` with the variant it serves to everyone.
    if kind(flag, config)?.is_temporary()
        && flag.conclusion.is_none()
        && !doc.contains_key("conclusion")
    {
        bail!(
            "kind `{}` is temporary and not concluded: which variant stays in the code?\n\
             help: `flagctl expire KEY --winner VARIANT` first, then archive it",
            flag.kind.get_ref()
        );
    }
    not_before_created(flag, today)?;
    let mut archived = Table::new();
    archived.insert("date", date(today)?);
    if let Some(commit) = commit {
        archived.insert("commit", value(commit));
    }
    match (
        results,
        doc.get_mut("conclusion").and_then(Item::as_table_mut),
    ) {
        (Some(results), Some(conclusion)) => set(conclusion, "results", value(results), &[]),
        (Some(results), None) => {
            archived.insert("results", value(results));
        }
        (None, _) => {}
    }
    doc.as_table_mut().insert("archived", Item::Table(archived));
    Ok(())
}

/// A lifecycle step, as asked for on the command line.
#[derive(Debug, Clone)]
pub enum Step {
    Expire {
        winner: String,
        results: Option<String>,
    },
    Extend {
        until: NaiveDate,
        reason: String,
        force: bool,
    },
    Review {
        note: Option<String>,
    },
    Kill {
        reason: String,
    },
    Restore {
        reason: Option<String>,
    },
    Archive {
        results: Option<String>,
        /// Archive even when active flags require it (they then fall back to their
        /// defaults, and `audit` reports them as `missing-dependency`).
        force: bool,
    },
}

impl Step {
    /// The command's verb, as in `flagctl VERB: KEY` commits.
    pub fn verb(&self) -> &'static str {
        match self {
            Step::Expire { .. } => "expire",
            Step::Extend { .. } => "extend",
            Step::Review { .. } => "review",
            Step::Kill { .. } => "kill",
            Step::Restore { .. } => "restore",
            Step::Archive { .. } => "archive",
        }
    }
}

/// What a step writes and commits, decided before anything is touched.
#[derive(Debug, Clone)]
pub struct Plan {
    pub verb: &'static str,
    pub key: String,
    /// Where the flag's file is after the step.
    pub path: String,
    pub changes: Vec<FileChange>,
    pub message: String,
    /// The commit message's body: the reason, or what the step recorded.
    pub body: Option<String>,
    /// What the step does, in a sentence.
    pub done: String,
    pub notes: Vec<String>,
    /// Each flag the step changes (several for `archive KEY…`).
    pub flags: Vec<Planned>,
}

/// One flag a step changes.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Planned {
    pub key: String,
    /// Where the flag's file is after the step.
    pub path: String,
    /// What the step does to it, in a sentence.
    pub done: String,
}

/// What `--dry-run` reports: what the step would write and commit. Nothing is written.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DryRun {
    pub verb: &'static str,
    /// Always true: nothing was written or committed.
    pub dry_run: bool,
    pub flags: Vec<Planned>,
    /// The commit message the step would use.
    pub message: String,
    /// The unified diff of the files it would change.
    pub diff: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What `archive KEY…` (several keys) and `archive --ready` did: every flag archived in
/// one commit.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ArchivedFlags {
    pub verb: &'static str,
    pub flags: Vec<Planned>,
    #[serde(flatten)]
    pub applied: Applied,
}

/// What a step did, as every output format reports it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Done {
    pub verb: &'static str,
    pub key: String,
    pub path: String,
    pub done: String,
    #[serde(flatten)]
    pub applied: Applied,
}

impl Plan {
    /// What the plan would do, without doing it.
    pub fn dry_run(self) -> DryRun {
        DryRun {
            verb: self.verb,
            dry_run: true,
            diff: crate::diff::unified(&self.changes),
            flags: self.flags,
            message: self.message,
            notes: self.notes,
        }
    }

    /// The report of several flags archived together once the transaction applied it.
    pub fn archived(self, mut applied: Applied) -> ArchivedFlags {
        applied.notes.extend(self.notes);
        ArchivedFlags {
            verb: self.verb,
            flags: self.flags,
            applied,
        }
    }

    /// The report of the plan once the transaction applied it.
    pub fn done(self, mut applied: Applied) -> Done {
        applied.notes.extend(self.notes);
        Done {
            verb: self.verb,
            key: self.key,
            path: self.path,
            done: self.done,
            applied,
        }
    }
}

/// Plans `step` on the active flag `key` of `repo` on `today`; `head` is the commit that
/// serves the flag now (recorded by `archive`). Refuses, naming what to do, when the step
/// does not apply.
pub fn plan(
    repo: &Repo,
    key: &str,
    step: &Step,
    today: NaiveDate,
    head: Option<&str>,
) -> anyhow::Result<Plan> {
    plan_among(repo, key, step, today, head, &[])
}

/// Plans archiving `keys` in one commit: each flag as [`plan`] archives it alone, except
/// that flags archived together may require each other. Refuses, naming the flag, when
/// any of them cannot be archived.
pub fn plan_archive(
    repo: &Repo,
    keys: &[String],
    step: &Step,
    today: NaiveDate,
    head: Option<&str>,
) -> anyhow::Result<Plan> {
    let mut plans = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        if keys[..index].contains(key) {
            bail!("`{key}` is named twice");
        }
        let plan = plan_among(repo, key, step, today, head, keys);
        let plan = if keys.len() > 1 {
            plan.with_context(|| format!("cannot archive `{key}`"))?
        } else {
            plan?
        };
        plans.push(plan);
    }
    let mut plans = plans.into_iter();
    let Some(first) = plans.next() else {
        bail!("no flag to archive");
    };
    let rest: Vec<Plan> = plans.collect();
    if rest.is_empty() {
        return Ok(first);
    }
    let all: Vec<Plan> = std::iter::once(first).chain(rest).collect();
    let keys: Vec<&str> = all.iter().map(|p| p.key.as_str()).collect();
    let subject = if keys.len() <= 3 {
        keys.join(", ")
    } else {
        format!("{} flags", keys.len())
    };
    let body: Vec<String> = all
        .iter()
        .map(|p| {
            let reason = p.body.as_deref().unwrap_or_default().replace("\n\n", " ");
            format!("- {}: {reason}", p.key)
        })
        .collect();
    let body = body.join("\n");
    Ok(Plan {
        verb: step.verb(),
        key: keys.join(", "),
        path: all[0].path.clone(),
        changes: all.iter().flat_map(|p| p.changes.iter().cloned()).collect(),
        message: format!("flagctl archive: {subject}\n\n{body}\n"),
        body: Some(body),
        done: format!("archived {}", keys.join(", ")),
        notes: all.iter().flat_map(|p| p.notes.iter().cloned()).collect(),
        flags: all.into_iter().flat_map(|p| p.flags).collect(),
    })
}

/// [`plan`], where the flags `together` are archived in the same commit.
fn plan_among(
    repo: &Repo,
    key: &str,
    step: &Step,
    today: NaiveDate,
    head: Option<&str>,
    together: &[String],
) -> anyhow::Result<Plan> {
    let file = repo.lookup(key)?;
    if file.archived {
        bail!(
            "`{key}` is archived ({}); archived flags do not change",
            file.source.path
        );
    }
    let flag = match &file.flag {
        Ok(flag) => flag,
        Err(problems) => bail!(
            "{} does not fit the schema ({}); fix it first (`flagctl validate`)",
            file.source.path,
            problems[0].message
        ),
    };
    let config = &repo.config;
    let mut doc: DocumentMut = file
        .source
        .text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.source.path))?;
    let verb = step.verb();
    let mut notes = Vec::new();
    let mut path = file.source.path.clone();
    let (done, body) = match step {
        Step::Expire { winner, results } => {
            let remove_by = expire(&mut doc, flag, config, winner, results.as_deref(), today)?;
            let body = match results {
                Some(r) => format!("Winner: {winner}\n\n{r}"),
                None => format!("Winner: {winner}"),
            };
            let done =
                format!("concluded; serves `{winner}` to everyone; archive it by {remove_by}");
            (done, Some(body))
        }
        Step::Extend {
            until,
            reason,
            force,
        } => {
            let old = extend(&mut doc, flag, config, *until, *force, today)?;
            let body = if *force {
                format!("{reason}\n\nForced past the kind's maximum lifetime.")
            } else {
                reason.clone()
            };
            (format!("expires {old} → {until}"), Some(body))
        }
        Step::Review { note } => {
            let next = review(&mut doc, flag, config, today)?;
            (
                format!("reviewed {today}; next review by {next}"),
                note.clone(),
            )
        }
        Step::Kill { reason } => {
            set_state(&mut doc, flag, true)?;
            let dependants = dependants(repo, key);
            let fall_back = if dependants.is_empty() {
                String::new()
            } else {
                format!("; {} fall back to their defaults", dependants.join(", "))
            };
            let done = format!(
                "disabled: serves `{}` to everyone{fall_back}",
                flag.default.get_ref()
            );
            (done, Some(reason.clone()))
        }
        Step::Restore { reason } => {
            set_state(&mut doc, flag, false)?;
            ("enabled again".into(), reason.clone())
        }
        Step::Archive { results, force } => {
            let dependants: Vec<String> = dependants(repo, key)
                .into_iter()
                .filter(|d| !together.contains(d))
                .collect();
            if !dependants.is_empty() && !force {
                bail!(
                    "{} require `{key}`; archived, it would no longer serve them and their evaluation would change\n\
                     help: remove those requirements first, or pass --force",
                    dependants.join(", ")
                );
            }
            // What a launched flag serves to everyone is its winner: it is known.
            let launched = match (&flag.conclusion, kind(flag, config)?.is_temporary()) {
                (None, true) => crate::readiness::launched(flag),
                _ => None,
            };
            if let Some(launched) = &launched {
                expire(&mut doc, flag, config, &launched.variant, None, today)?;
            }
            archive(&mut doc, flag, config, today, head, results.as_deref())?;
            path = format!(
                "{}/{ARCHIVE_DIR}/{}/{}.toml",
                config.flags_dir, file.service, file.key
            );
            if repo.root.join(&path).exists() {
                bail!("{path} already exists; remove or rename it first");
            }
            let mut body = match (&flag.conclusion, &launched) {
                (Some(c), _) => format!("Concluded {} with winner {}.", c.date, c.winner),
                (None, Some(l)) => format!(
                    "Concluded {today} with winner {}: it served it to everyone ({}).",
                    l.variant, l.how
                ),
                (None, None) => "Retired without a conclusion.".to_string(),
            };
            if let Some(r) = results {
                body.push_str(&format!("\n\n{r}"));
            }
            if !dependants.is_empty() {
                notes.push(format!(
                    "{} still require `{key}`; `flagctl audit` reports them as missing-dependency",
                    dependants.join(", ")
                ));
            }
            let done = match &launched {
                Some(l) => format!(
                    "concluded with winner `{}` (it served it to everyone) and moved to {path}",
                    l.variant
                ),
                None => format!("moved to {path}"),
            };
            (done, Some(body))
        }
    };
    let text = crate::edit::line_endings_of(&file.source.text, doc.to_string());
    if text == file.source.text {
        bail!(
            "{verb} changes nothing: {} already says so (an empty commit would record nothing)",
            file.source.path
        );
    }
    if let Err(problems) = Flag::parse(&SourceFile::new(&path, text.as_str()), config) {
        bail!(
            "the edit would leave {} invalid: {}",
            file.source.path,
            problems[0].message
        );
    }
    let mut changes = vec![FileChange {
        path: path.clone(),
        before: (path == file.source.path).then(|| file.source.text.clone()),
        after: Some(text),
    }];
    if path != file.source.path {
        changes.push(FileChange {
            path: file.source.path.clone(),
            before: Some(file.source.text.clone()),
            after: None,
        });
    }
    let message = match &body {
        Some(body) => format!("flagctl {verb}: {key}\n\n{body}\n"),
        None => format!("flagctl {verb}: {key}\n"),
    };
    Ok(Plan {
        verb,
        key: key.to_string(),
        flags: vec![Planned {
            key: key.to_string(),
            path: path.clone(),
            done: done.clone(),
        }],
        path,
        changes,
        message,
        body,
        done,
        notes,
    })
}

/// Active flags that require `key`.
fn dependants(repo: &Repo, key: &str) -> Vec<String> {
    repo.flags()
        .filter(|(f, flag)| !f.archived && flag.requires.iter().any(|r| r.flag.get_ref() == key))
        .map(|(f, _)| f.key.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPERIMENT: &str = "# why we run it\ndescription = \"x\"\nkind = \"experiment\"\nowner = \"a@b.c\"\n\
        created = 2026-11-01\nexpires = 2026-11-15 # first guess\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n";
    const SWITCH: &str = "description = \"x\"\nkind = \"kill-switch\"\nowner = \"a@b.c\"\ncreated = 2026-09-01\n\
        review_by = 2026-11-30\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n";

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn apply(
        text: &str,
        edit: impl FnOnce(&mut DocumentMut, &Flag, &Config) -> anyhow::Result<()>,
    ) -> anyhow::Result<String> {
        let config = Config::default();
        let flag = Flag::parse(&SourceFile::new("f.toml", text), &config).unwrap();
        let mut doc: DocumentMut = text.parse().unwrap();
        edit(&mut doc, &flag, &config)?;
        let out = doc.to_string();
        Flag::parse(&SourceFile::new("f.toml", out.as_str()), &config)
            .expect("the edit keeps the flag valid");
        Ok(out)
    }

    #[test]
    fn expire_adds_the_conclusion_and_keeps_comments() {
        let out = apply(EXPERIMENT, |d, f, c| {
            expire(d, f, c, "on", Some("AUC +0.8%"), day("2026-11-20")).map(drop)
        })
        .unwrap();
        assert!(out.starts_with("# why we run it\n"));
        assert!(out.contains("# first guess"));
        assert!(out.ends_with("[conclusion]\ndate = 2026-11-20\nwinner = \"on\"\nremove_by = 2026-12-20\nresults = \"AUC +0.8%\"\n"), "{out}");
        assert!(
            apply(EXPERIMENT, |d, f, c| expire(
                d,
                f,
                c,
                "maybe",
                None,
                day("2026-11-20")
            )
            .map(drop))
            .is_err()
        );
        assert!(
            apply(SWITCH, |d, f, c| expire(
                d,
                f,
                c,
                "on",
                None,
                day("2026-11-20")
            )
            .map(drop))
            .is_err()
        );
    }

    #[test]
    fn extend_stops_at_the_kinds_maximum() {
        let out = apply(EXPERIMENT, |d, f, c| {
            extend(d, f, c, day("2026-11-30"), false, day("2026-11-10")).map(drop)
        })
        .unwrap();
        assert!(out.contains("expires = 2026-11-30 # first guess"), "{out}");
        let err = apply(EXPERIMENT, |d, f, c| {
            extend(d, f, c, day("2026-12-02"), false, day("2026-11-10")).map(drop)
        })
        .unwrap_err();
        assert!(err.to_string().contains("past 2026-12-01"), "{err}");
        assert!(
            apply(EXPERIMENT, |d, f, c| extend(
                d,
                f,
                c,
                day("2026-12-02"),
                true,
                day("2026-11-10")
            )
            .map(drop))
            .is_ok()
        );
    }

    #[test]
    fn review_sets_both_dates() {
        let out = apply(SWITCH, |d, f, c| {
            review(d, f, c, day("2026-11-25")).map(drop)
        })
        .unwrap();
        assert!(
            out.contains("created = 2026-09-01\nreviewed = 2026-11-25\nreview_by = 2027-02-23\n"),
            "{out}"
        );
        assert!(
            apply(EXPERIMENT, |d, f, c| review(d, f, c, day("2026-11-25"))
                .map(drop))
            .is_err()
        );
    }

    #[test]
    fn kill_and_restore_toggle_the_state() {
        let killed = apply(SWITCH, |d, f, _| set_state(d, f, true)).unwrap();
        assert!(
            killed.contains("review_by = 2026-11-30\nstate = \"disabled\"\n"),
            "{killed}"
        );
        assert!(apply(&killed, |d, f, _| set_state(d, f, true)).is_err());
        let restored = apply(&killed, |d, f, _| set_state(d, f, false)).unwrap();
        assert_eq!(restored, SWITCH);
    }
}
