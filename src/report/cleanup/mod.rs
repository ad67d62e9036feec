//! The sprint cleanup report (`flagctl report`): per owner and per service, what to
//! remove (with the code that reads it), what is ready to archive, which reviews are due
//! and which flags expire within the window; service limits; the age of live flags by
//! kind; and the trend of flag debt from git history. One model, built here, rendered by
//! one renderer per format: [`markdown`], [`html`] and JSON (the model serialised).

mod charts;
mod html;
mod markdown;
mod trend;

pub use html::render as html;
pub use markdown::render as markdown;
pub use trend::{TREND_WEEKS, Trend, Week, trend};

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::deadline::{Due as DueField, Status, next_deadline};
use crate::history::{History, Unavailable};
use crate::model::{Config, Flag};
use crate::readiness::{Evidence, FlagReadiness, Readiness, assess, launched};
use crate::refs::{Reference, Scan};
use crate::repo::{FlagFile, Repo};

/// Everything `report` shows.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CleanupReport {
    /// Reviews and expiries due within this many days are listed.
    pub within_days: u32,
    pub totals: Totals,
    /// Whether the code was scanned for references (`--refs`), and how many files were read.
    pub code: CodeScan,
    /// One section per owner of an active flag (or of an archived flag that code still reads).
    pub owners: Vec<OwnerSection>,
    /// Every service with active flags, against its limit.
    pub services: Vec<ServiceSection>,
    /// The age of live flags, by kind.
    pub ages: Vec<KindAge>,
    /// Flag debt over the last weeks, from git history; `null` without history.
    pub trend: Option<Trend>,
    /// The removal readiness of every active flag, in path order.
    pub readiness: Vec<FlagReadiness>,
    /// What `flagctl cleanup KEY` would change in the code of each flag ready for code
    /// removal (and of each archived flag code still reads), by key; empty without a code
    /// scan of the work tree.
    pub cleanup: Vec<CleanupPreview>,
    /// What the reader should know: evidence that was missing, files left out.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Totals {
    /// Active flags that fit the schema.
    pub active: usize,
    pub temporary: usize,
    pub permanent: usize,
    pub to_remove: usize,
    pub ready_to_archive: usize,
    pub ready_for_code_removal: usize,
    pub reviews: usize,
    pub expiring: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CodeScan {
    pub scanned: bool,
    /// Files read by the scan.
    pub files: usize,
}

/// What one owner has to do this sprint.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OwnerSection {
    pub owner: String,
    pub contact: Option<String>,
    pub slack: Option<String>,
    /// Active flags this owner has.
    pub active: usize,
    pub remove: Vec<Removal>,
    pub ready_to_archive: Vec<Ready>,
    pub reviews: Vec<DueItem>,
    pub expiring: Vec<DueItem>,
}

/// Why a flag is on the list of flags to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RemovalReason {
    /// Concluded, and still active after `remove_by`.
    RemovalOverdue,
    /// A live temporary flag past `expires`.
    Expired,
    /// A live temporary flag that serves one variant to everyone.
    Launched,
    /// Archived, but code still reads it.
    ArchivedReferenced,
}

impl RemovalReason {
    pub fn name(self) -> &'static str {
        match self {
            RemovalReason::RemovalOverdue => "removal-overdue",
            RemovalReason::Expired => "expired",
            RemovalReason::Launched => "launched",
            RemovalReason::ArchivedReferenced => "archived-referenced",
        }
    }
}

/// A flag to remove, with the code that reads it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Removal {
    pub flag: String,
    pub service: String,
    pub path: String,
    pub reason: RemovalReason,
    /// What is wrong, as `audit` words it.
    pub message: String,
    /// What to do next.
    pub fix: String,
    /// The variant the code keeps, when it is known.
    pub keep: Option<String>,
    /// Its removal readiness (`null` for an archived flag).
    pub readiness: Option<Readiness>,
    /// The code that reads it (with a code scan).
    pub references: Vec<Reference>,
}

/// What `flagctl cleanup KEY` would change, planned and not written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CleanupPreview {
    pub flag: String,
    pub owner: String,
    /// The variant the code keeps, when cleanup can rewrite the flag.
    pub variant: Option<String>,
    /// Its value, which replaces each evaluation.
    pub value: Option<serde_json::Value>,
    /// Why cleanup cannot rewrite the flag (yet), and what to do.
    pub refused: Option<String>,
    /// Uses in the code (comments are not uses).
    pub uses: usize,
    pub rewritten: usize,
    pub skipped: usize,
    pub lines_added: usize,
    pub lines_removed: usize,
    /// The files cleanup would change.
    pub files: Vec<PreviewFile>,
    /// Every use and what would become of it (skipped ones with why), by path and line.
    pub changes: Vec<crate::cleanup::Use>,
}

/// A file `cleanup` would change.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PreviewFile {
    pub path: String,
    pub lines_added: usize,
    pub lines_removed: usize,
    /// The unified diff, for the markdown and HTML renderers (the JSON has the uses).
    #[serde(skip)]
    #[schemars(skip)]
    pub diff: String,
}

/// A flag ready to archive.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Ready {
    pub flag: String,
    pub service: String,
    pub path: String,
    pub keep: Option<String>,
}

/// A review or an expiry within the window (or past, for reviews).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DueItem {
    pub flag: String,
    pub service: String,
    pub path: String,
    pub due: NaiveDate,
    /// `expires` or `review_by`.
    pub due_field: &'static str,
    /// Days until `due`: negative when past.
    pub days: i64,
    pub due_relative: String,
    pub status: Status,
    pub message: String,
    pub fix: String,
}

/// One service against its limit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceSection {
    pub service: String,
    pub active: usize,
    pub limit: usize,
    pub over_limit: bool,
    pub owners: Vec<String>,
    pub to_remove: usize,
    pub ready_to_archive: usize,
    pub reviews: usize,
    pub expiring: usize,
}

/// The age of the live flags of one kind.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KindAge {
    pub kind: String,
    pub temporary: bool,
    pub live: usize,
    /// Median days since `created`.
    pub median_days: i64,
    /// The oldest flag of the kind and its age in days.
    pub oldest: String,
    pub oldest_days: i64,
    /// How many are younger than 30 days, 30 to 89, 90 to 179, and 180 or older.
    pub buckets: [usize; 4],
}

/// The labels of [`KindAge::buckets`].
pub const AGE_BUCKETS: [&str; 4] = ["< 30 days", "30–89 days", "90–179 days", "≥ 180 days"];

fn bucket(days: i64) -> usize {
    match days {
        ..30 => 0,
        30..90 => 1,
        90..180 => 2,
        _ => 3,
    }
}

/// What the report is built from.
pub struct Inputs<'a> {
    pub repo: &'a Repo,
    pub today: NaiveDate,
    pub within: u32,
    pub history: Result<&'a History, Unavailable>,
    pub refs: Option<&'a Scan>,
}

/// Builds the report.
pub fn build(inputs: &Inputs) -> CleanupReport {
    let repo = inputs.repo;
    let readiness = assess(&Evidence {
        repo,
        today: inputs.today,
        history: inputs.history,
        refs: inputs.refs,
    });
    let mut owners: BTreeMap<String, OwnerSection> = BTreeMap::new();
    let by_path: HashMap<&str, (&FlagFile, &Flag)> = repo
        .flags()
        .map(|(file, flag)| (file.source.path.as_str(), (file, flag)))
        .collect();
    for flag in &readiness {
        let Some(&(file, model)) = by_path.get(flag.path.as_str()) else {
            continue;
        };
        let owner = section(&mut owners, &repo.config, &flag.owner);
        owner.active += 1;
        if let Some(removal) = removal(file, model, flag, &repo.config, inputs.today) {
            owner.remove.push(removal);
        }
        if flag.readiness == Readiness::ReadyToArchive {
            owner.ready_to_archive.push(Ready {
                flag: flag.flag.clone(),
                service: flag.service.clone(),
                path: flag.path.clone(),
                keep: flag.keep.clone(),
            });
        }
        if let Some(due) = due(file, model, repo, inputs.today, inputs.within) {
            match due.due_field {
                "review_by" => owner.reviews.push(due),
                _ => owner.expiring.push(due),
            }
        }
    }
    if let Some(scan) = inputs.refs {
        for (file, model) in repo.flags().filter(|(f, _)| f.archived) {
            let Some(refs) = scan.of(&file.key) else {
                continue;
            };
            let references: Vec<Reference> = refs.uses().cloned().collect();
            if references.is_empty() {
                continue;
            }
            let archived = model
                .archived
                .as_ref()
                .map_or_else(String::new, |a| format!(" on {}", a.date));
            section(&mut owners, &repo.config, model.owner.get_ref())
                .remove
                .push(Removal {
                flag: file.key.clone(),
                service: file.service.clone(),
                path: file.source.path.clone(),
                reason: RemovalReason::ArchivedReferenced,
                message: format!(
                    "archived{archived}, but code still reads it in {}",
                    places(references.len())
                ),
                fix: "remove these uses: the flag is no longer served, so the code gets its own default"
                    .to_string(),
                keep: model.conclusion.as_ref().map(|c| c.winner.clone()),
                readiness: None,
                references,
            });
        }
    }
    let mut owners: Vec<OwnerSection> = owners.into_values().collect();
    for owner in &mut owners {
        owner
            .remove
            .sort_by(|a, b| (a.reason, &a.flag).cmp(&(b.reason, &b.flag)));
        owner
            .reviews
            .sort_by(|a, b| (a.days, &a.flag).cmp(&(b.days, &b.flag)));
        owner
            .expiring
            .sort_by(|a, b| (a.days, &a.flag).cmp(&(b.days, &b.flag)));
    }
    let services = services(repo, &owners);
    let totals = Totals {
        active: readiness.len(),
        temporary: readiness
            .iter()
            .filter(|r| {
                repo.config
                    .kinds
                    .get(&r.kind)
                    .is_some_and(|k| k.is_temporary())
            })
            .count(),
        permanent: 0,
        to_remove: owners.iter().map(|o| o.remove.len()).sum(),
        ready_to_archive: owners.iter().map(|o| o.ready_to_archive.len()).sum(),
        ready_for_code_removal: readiness
            .iter()
            .filter(|r| r.readiness == Readiness::ReadyForCodeRemoval)
            .count(),
        reviews: owners.iter().map(|o| o.reviews.len()).sum(),
        expiring: owners.iter().map(|o| o.expiring.len()).sum(),
    };
    let totals = Totals {
        permanent: totals.active - totals.temporary,
        ..totals
    };
    let mut notes = Vec::new();
    let invalid = repo
        .files
        .iter()
        .filter(|f| !f.archived && f.flag().is_none_or(|f| f.kind_of(&repo.config).is_none()))
        .count();
    if invalid > 0 {
        notes.push(format!(
            "{invalid} flag {} not fit the schema and {} left out (`flagctl validate` shows why)",
            if invalid == 1 {
                "file does"
            } else {
                "files do"
            },
            if invalid == 1 { "is" } else { "are" }
        ));
    }
    if inputs.refs.is_none() {
        notes.push(
            "code not scanned: pass --refs (default: [refs] paths) to see where flags are read and which are ready to archive"
                .to_string(),
        );
    }
    let trend = match inputs.history {
        Ok(history) => Some(trend(history, inputs.today)),
        Err(why) => {
            notes.push(format!(
                "no trend and no stability check without git history: {}",
                why.reason()
            ));
            None
        }
    };
    let cleanup = match inputs.refs {
        Some(_) if repo.revision.is_some() => {
            notes.push(
                "what cleanup would change is planned on the work tree only, not with --rev"
                    .to_string(),
            );
            Vec::new()
        }
        Some(scan) => previews(repo, scan, &readiness, &owners),
        None => Vec::new(),
    };
    CleanupReport {
        within_days: inputs.within,
        totals,
        code: CodeScan {
            scanned: inputs.refs.is_some(),
            files: inputs.refs.map_or(0, |s| s.files),
        },
        owners,
        services,
        ages: ages(&repo.config, &by_path, &readiness, inputs.today),
        trend,
        readiness,
        cleanup,
        notes,
    }
}

/// The plan of `flagctl cleanup KEY`, one flag at a time, for each flag ready for code
/// removal and each archived flag code still reads.
fn previews(
    repo: &Repo,
    scan: &Scan,
    readiness: &[FlagReadiness],
    owners: &[OwnerSection],
) -> Vec<CleanupPreview> {
    let mut flags: Vec<(&str, &str)> = readiness
        .iter()
        .filter(|r| r.readiness == Readiness::ReadyForCodeRemoval)
        .map(|r| (r.flag.as_str(), r.owner.as_str()))
        .collect();
    flags.extend(owners.iter().flat_map(|o| {
        o.remove
            .iter()
            .filter(|r| r.reason == RemovalReason::ArchivedReferenced)
            .map(|r| (r.flag.as_str(), o.owner.as_str()))
    }));
    flags.sort_unstable();
    flags.dedup();
    flags
        .into_iter()
        .map(|(flag, owner)| preview(repo, scan, flag, owner))
        .collect()
}

fn preview(repo: &Repo, scan: &Scan, flag: &str, owner: &str) -> CleanupPreview {
    let mut preview = CleanupPreview {
        flag: flag.to_string(),
        owner: owner.to_string(),
        variant: None,
        value: None,
        refused: None,
        uses: 0,
        rewritten: 0,
        skipped: 0,
        lines_added: 0,
        lines_removed: 0,
        files: Vec::new(),
        changes: Vec::new(),
    };
    let planned = crate::cleanup::winner(repo, flag)
        .and_then(|winner| crate::cleanup::plan(repo, vec![winner], scan));
    let plan = match planned {
        Ok(plan) => plan,
        Err(why) => {
            preview.refused = Some(format!("{why:#}"));
            return preview;
        }
    };
    if let Some(winner) = plan.flags.first() {
        preview.variant = Some(winner.variant.clone());
        preview.value = Some(winner.value.clone());
    }
    if let Some(summary) = plan.summaries().into_iter().next() {
        preview.uses = summary.uses;
        preview.rewritten = summary.rewritten;
        preview.skipped = summary.skipped;
        preview.lines_added = summary.lines_added;
        preview.lines_removed = summary.lines_removed;
    }
    preview.files = plan
        .files
        .iter()
        .map(|file| PreviewFile {
            path: file.path.clone(),
            lines_added: file.lines_added,
            lines_removed: file.lines_removed,
            diff: file.diff(),
        })
        .collect();
    preview.changes = plan.uses;
    preview
}

/// The section of `owner`, added when it is not there yet.
fn section<'m>(
    owners: &'m mut BTreeMap<String, OwnerSection>,
    config: &Config,
    owner: &str,
) -> &'m mut OwnerSection {
    owners
        .entry(owner.to_string())
        .or_insert_with(|| OwnerSection {
            owner: owner.to_string(),
            contact: config.owners.get(owner).and_then(|o| o.contact.clone()),
            slack: config.owners.get(owner).and_then(|o| o.slack.clone()),
            active: 0,
            remove: Vec::new(),
            ready_to_archive: Vec::new(),
            reviews: Vec::new(),
            expiring: Vec::new(),
        })
}

/// "3 places", "1 place".
fn places(n: usize) -> String {
    format!("{n} {}", if n == 1 { "place" } else { "places" })
}

/// Why an active flag is to be removed, if it is: past `remove_by`, expired, or launched.
fn removal(
    file: &FlagFile,
    flag: &Flag,
    readiness: &FlagReadiness,
    config: &Config,
    today: NaiveDate,
) -> Option<Removal> {
    let key = &file.key;
    let (reason, message, fix) = match readiness.status {
        Status::RemovalOverdue | Status::Expired => {
            let deadline =
                next_deadline(flag, config, today).filter(|d| d.due != DueField::Review)?;
            let reason = if readiness.status == Status::Expired {
                RemovalReason::Expired
            } else {
                RemovalReason::RemovalOverdue
            };
            let fix = match (&readiness.keep, reason) {
                (Some(winner), RemovalReason::Expired) => format!(
                    "it serves `{winner}` to everyone: conclude it (`flagctl expire {key} --winner {winner}`), then remove it from the code"
                ),
                _ => deadline.fix(key),
            };
            (reason, deadline.describe(flag), fix)
        }
        _ => {
            let launched = launched(flag).filter(|_| {
                flag.conclusion.is_none()
                    && readiness
                        .check(crate::readiness::CheckName::Temporary)
                        .is_some_and(|c| c.verdict == crate::readiness::Verdict::Pass)
            })?;
            (
                RemovalReason::Launched,
                format!(
                    "serves `{}` to everyone: {}",
                    launched.variant, launched.how
                ),
                format!(
                    "conclude it with `flagctl expire {key} --winner {}`, then remove it from the code",
                    launched.variant
                ),
            )
        }
    };
    Some(Removal {
        flag: key.clone(),
        service: file.service.clone(),
        path: file.source.path.clone(),
        reason,
        message,
        fix,
        keep: readiness.keep.clone(),
        readiness: Some(readiness.readiness),
        references: readiness.references.clone(),
    })
}

/// A review due within the window (or overdue), or an expiry within it that has not passed.
fn due(
    file: &FlagFile,
    flag: &Flag,
    repo: &Repo,
    today: NaiveDate,
    within: u32,
) -> Option<DueItem> {
    let deadline = next_deadline(flag, &repo.config, today)?;
    let listed = match deadline.due {
        DueField::Review => deadline.days <= i64::from(within),
        DueField::Expiry => (0..=i64::from(within)).contains(&deadline.days),
        DueField::Removal => false,
    };
    listed.then(|| DueItem {
        flag: file.key.clone(),
        service: file.service.clone(),
        path: file.source.path.clone(),
        due: deadline.date,
        due_field: deadline.due.field(),
        days: deadline.days,
        due_relative: deadline.relative(),
        status: deadline.status(within),
        message: deadline.describe(flag),
        fix: deadline.fix(&file.key),
    })
}

fn services(repo: &Repo, owners: &[OwnerSection]) -> Vec<ServiceSection> {
    repo.services()
        .into_iter()
        .map(|service| {
            let active: Vec<&Flag> = repo
                .flags()
                .filter(|(f, _)| !f.archived && f.service == service)
                .map(|(_, flag)| flag)
                .collect();
            let mut flag_owners: Vec<String> =
                active.iter().map(|f| f.owner.get_ref().clone()).collect();
            flag_owners.sort();
            flag_owners.dedup();
            let count = |pick: &dyn Fn(&OwnerSection) -> Vec<&str>| {
                owners
                    .iter()
                    .flat_map(pick)
                    .filter(|s| *s == service)
                    .count()
            };
            let limit = repo.config.service_limit(service);
            let files = repo
                .files
                .iter()
                .filter(|f| !f.archived && f.service == service)
                .count();
            ServiceSection {
                service: service.to_string(),
                active: files,
                limit,
                over_limit: files > limit,
                owners: flag_owners,
                to_remove: count(&|o| o.remove.iter().map(|r| r.service.as_str()).collect()),
                ready_to_archive: count(&|o| {
                    o.ready_to_archive
                        .iter()
                        .map(|r| r.service.as_str())
                        .collect()
                }),
                reviews: count(&|o| o.reviews.iter().map(|r| r.service.as_str()).collect()),
                expiring: count(&|o| o.expiring.iter().map(|r| r.service.as_str()).collect()),
            }
        })
        .collect()
}

fn ages(
    config: &Config,
    by_path: &HashMap<&str, (&FlagFile, &Flag)>,
    readiness: &[FlagReadiness],
    today: NaiveDate,
) -> Vec<KindAge> {
    config
        .kinds
        .iter()
        .filter_map(|(kind, declared)| {
            let mut flags: Vec<(i64, &str)> = readiness
                .iter()
                .filter(|r| &r.kind == kind)
                .filter_map(|r| {
                    let created = *by_path.get(r.path.as_str())?.1.created.get_ref();
                    Some(((today - created).num_days(), r.flag.as_str()))
                })
                .collect();
            if flags.is_empty() {
                return None;
            }
            flags.sort();
            let (oldest_days, oldest) = *flags.last().expect("not empty");
            let middle = flags.len() / 2;
            let median_days = if flags.len() % 2 == 1 {
                flags[middle].0
            } else {
                (flags[middle - 1].0 + flags[middle].0) / 2
            };
            let mut buckets = [0; 4];
            for (days, _) in &flags {
                buckets[bucket(*days)] += 1;
            }
            Some(KindAge {
                kind: kind.clone(),
                temporary: declared.is_temporary(),
                live: flags.len(),
                median_days,
                oldest: oldest.to_string(),
                oldest_days,
                buckets,
            })
        })
        .collect()
}
