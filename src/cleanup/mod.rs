//! `flagctl cleanup`: removes a finished flag from the code. Every SDK evaluation of the
//! flag becomes the literal of its winning value, and what became constant is simplified
//! away: negations, boolean operators, comparisons, conditional expressions, `if`s whose
//! dead branch goes, and local variables read only in conditions. The rules are data, one
//! file a language under `rules/`, and `[[cleanup.rules]]` of `flagctl.toml` adds rules
//! for in-house wrappers. Every rewritten file is parsed again; one that would not parse is
//! left as it is, with the reason.
//!
//! [`plan`] decides everything without writing: the table of every use (rewritten, or
//! skipped and why) and the new text of each file; `cleanup` applies it through the commit
//! transaction, and `report` shows it for the flags ready for removal.

mod engine;
mod literal;
mod rules;
mod text;
mod unread;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use anyhow::bail;
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::model::config::CleanupRule;
use crate::refs::{Language, RefKind, Reference, Scan};
use crate::repo::{FileChange, Repo, confine};

/// The largest source file cleanup rewrites: what the commit transaction reads back.
pub const MAX_SOURCE_BYTES: u64 = confine::MAX_FILE_BYTES;

/// The most uses of the flags cleaned up that one file may hold: each is placed in the
/// file's tree, so a generated file with tens of thousands of them would cost minutes;
/// such a file is left to be edited by hand.
pub const MAX_USES_PER_FILE: usize = 2_000;

/// A finished flag and the value every evaluation of it now returns.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Winner {
    #[serde(rename = "flag")]
    pub key: String,
    /// The variant served to everyone.
    pub variant: String,
    /// Its value, which replaces each evaluation in the code.
    pub value: Value,
}

/// The variant `key` serves to everyone, for cleanup: the winner of a concluded flag, or
/// the default of an archived flag that served nothing else. Refuses, naming what to do,
/// a live flag and one whose value depends on the context.
pub fn winner(repo: &Repo, key: &str) -> anyhow::Result<Winner> {
    let file = repo.lookup(key)?;
    let Some(flag) = file.flag() else {
        bail!(
            "{} does not fit the schema; fix it first (`flagctl validate`)",
            file.source.path
        );
    };
    let variant = match (&flag.conclusion, file.archived) {
        (Some(conclusion), _) => conclusion.winner.clone(),
        (None, true)
            if flag.state == crate::model::flag::State::Disabled || flag.rules.is_empty() =>
        {
            flag.default.get_ref().clone()
        }
        (None, true) => bail!(
            "`{key}` was archived without a conclusion, and its rules served more than one variant: \
             cleanup needs the one value the code keeps\n\
             help: remove its uses by hand"
        ),
        (None, false) => {
            let temporary = flag
                .kind_of(&repo.config)
                .is_some_and(crate::model::config::Kind::is_temporary);
            if temporary {
                bail!(
                    "`{key}` is live: cleanup removes a finished flag from the code\n\
                     help: conclude it first, `flagctl expire {key} --winner VARIANT`, then run cleanup"
                );
            }
            bail!(
                "`{key}` is a live permanent flag: cleanup removes a finished flag from the code\n\
                 help: retire it first (`flagctl archive {key}`), then run cleanup; a temporary flag is concluded with `flagctl expire`"
            );
        }
    };
    let Some(value) = flag.variants.get(&variant) else {
        bail!(
            "`{key}` serves `{variant}`, which is not one of its variants; fix it first (`flagctl validate`)"
        );
    };
    Ok(Winner {
        key: key.to_string(),
        variant,
        value: value.clone(),
    })
}

/// What became of a use of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Rewritten,
    Skipped,
}

/// One use of a flag in the code, and what cleanup does with it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Use {
    pub flag: String,
    /// Relative to the repository root, with `/`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub kind: RefKind,
    /// The SDK method, or the `[[cleanup.rules]]` rule, for a call.
    pub method: Option<String>,
    pub outcome: Outcome,
    /// Why a skipped use was left as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The line of code, without its indentation.
    pub text: String,
}

/// A source file as it is and as cleanup leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRewrite {
    pub path: String,
    pub before: String,
    pub after: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

impl FileRewrite {
    /// The change as a unified diff (`--- a/PATH`, `+++ b/PATH`, three lines of context).
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", self.path), &format!("b/{}", self.path))
            .to_string()
    }

    fn new(path: &str, before: String, after: String) -> FileRewrite {
        let diff = similar::TextDiff::from_lines(&before, &after);
        let (mut lines_added, mut lines_removed) = (0, 0);
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => lines_added += 1,
                similar::ChangeTag::Delete => lines_removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        FileRewrite {
            path: path.to_string(),
            before,
            after,
            lines_added,
            lines_removed,
        }
    }
}

/// What cleanup would do for one flag, in numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Summary {
    pub flag: String,
    pub variant: String,
    /// Uses in the code (comments are not uses).
    pub uses: usize,
    pub rewritten: usize,
    pub skipped: usize,
    /// Files cleanup changes (with every flag of the plan).
    pub files: usize,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// Everything cleanup decided, before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub flags: Vec<Winner>,
    /// Every use, by path, line and column.
    pub uses: Vec<Use>,
    /// The files that change, by path.
    pub files: Vec<FileRewrite>,
    /// What the rewrite of a file said beyond its uses.
    pub notes: Vec<String>,
}

impl Plan {
    /// The numbers of each flag.
    pub fn summaries(&self) -> Vec<Summary> {
        self.flags
            .iter()
            .map(|winner| {
                let uses: Vec<&Use> = self.uses.iter().filter(|u| u.flag == winner.key).collect();
                let rewritten_paths: Vec<&str> = uses
                    .iter()
                    .filter(|u| u.outcome == Outcome::Rewritten)
                    .map(|u| u.path.as_str())
                    .collect();
                let touched: Vec<usize> = self
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| rewritten_paths.contains(&f.path.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                let rewritten = rewritten_paths.len();
                Summary {
                    flag: winner.key.clone(),
                    variant: winner.variant.clone(),
                    uses: uses.len(),
                    rewritten,
                    skipped: uses.len() - rewritten,
                    files: touched.len(),
                    lines_added: touched.iter().map(|&i| self.files[i].lines_added).sum(),
                    lines_removed: touched.iter().map(|&i| self.files[i].lines_removed).sum(),
                }
            })
            .collect()
    }

    /// The file changes for the commit transaction.
    pub fn changes(&self) -> Vec<FileChange> {
        self.files
            .iter()
            .map(|f| FileChange {
                path: f.path.clone(),
                before: Some(f.before.clone()),
                after: Some(f.after.clone()),
            })
            .collect()
    }

    /// The commit message: `flagctl cleanup: KEY`, then the table of every use.
    pub fn message(&self) -> String {
        let keys: Vec<&str> = self.flags.iter().map(|w| w.key.as_str()).collect();
        let mut message = format!("flagctl cleanup: {}\n\n", keys.join(", "));
        for summary in self.summaries() {
            message.push_str(&format!(
                "{}: {} of {} uses rewritten to `{}`\n",
                summary.flag, summary.rewritten, summary.uses, summary.variant
            ));
        }
        message.push('\n');
        for line in self.table() {
            message.push_str(&line);
            message.push('\n');
        }
        message
    }

    /// One line a use: `PATH:LINE:COLUMN FLAG rewritten METHOD` or `… skipped: REASON`.
    pub fn table(&self) -> Vec<String> {
        self.uses
            .iter()
            .map(|u| {
                let what = u.method.as_deref().unwrap_or(u.kind.name());
                match (&u.outcome, &u.reason) {
                    (Outcome::Rewritten, _) => {
                        format!(
                            "{}:{}:{} {} rewritten ({what})",
                            u.path, u.line, u.column, u.flag
                        )
                    }
                    (Outcome::Skipped, reason) => format!(
                        "{}:{}:{} {} skipped ({what}): {}",
                        u.path,
                        u.line,
                        u.column,
                        u.flag,
                        reason.as_deref().unwrap_or_default()
                    ),
                }
            })
            .collect()
    }
}

/// Plans the cleanup of `flags` in the code `scan` found (a scan of the work tree that
/// targets at least these flags): reads each file holding a use, rewrites it in memory and
/// says what became of every use. Fails only when a `[[cleanup.rules]]` of flagctl.toml does
/// not compile.
pub fn plan(repo: &Repo, flags: Vec<Winner>, scan: &Scan) -> anyhow::Result<Plan> {
    plan_texts(flags, scan, &repo.config.cleanup.rules, &|path| {
        read_source(repo, path)
    })
}

/// [`plan`] over texts `read` gives by path (for tests, and for trees that are not a work
/// tree); `rules` are the `[[cleanup.rules]]` of flagctl.toml.
pub fn plan_texts(
    flags: Vec<Winner>,
    scan: &Scan,
    rules: &[CleanupRule],
    read: &(dyn Fn(&str) -> Result<String, String> + Sync),
) -> anyhow::Result<Plan> {
    let extra = rules;
    let mut rules: HashMap<Language, Option<rules::Rules>> = HashMap::new();
    for language in Language::ALL {
        let compiled =
            rules::Rules::with_config(language, extra).map_err(|e| anyhow::anyhow!("{e}"))?;
        rules.insert(language, compiled);
    }
    let mut by_path: BTreeMap<&str, Vec<(&str, &Reference)>> = BTreeMap::new();
    for winner in &flags {
        let Some(found) = scan.of(&winner.key) else {
            continue;
        };
        for reference in found.uses() {
            by_path
                .entry(reference.path.as_str())
                .or_default()
                .push((winner.key.as_str(), reference));
        }
    }
    let done: Vec<(Vec<Use>, Option<FileRewrite>, Option<String>)> = by_path
        .into_par_iter()
        .map(|(path, refs)| {
            let language = Language::of_path(path);
            let compiled = language.and_then(|l| rules.get(&l).and_then(Option::as_ref));
            file(read, path, language, compiled, &refs, &flags)
        })
        .collect();
    let mut plan = Plan {
        flags,
        uses: Vec::new(),
        files: Vec::new(),
        notes: Vec::new(),
    };
    for (uses, rewrite, note) in done {
        plan.uses.extend(uses);
        plan.files.extend(rewrite);
        plan.notes.extend(note);
    }
    plan.uses.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.flag).cmp(&(&b.path, b.line, b.column, &b.flag))
    });
    Ok(plan)
}

/// The uses of one file, its rewrite and a note.
fn file(
    read: &(dyn Fn(&str) -> Result<String, String> + Sync),
    path: &str,
    language: Option<Language>,
    rules: Option<&rules::Rules>,
    refs: &[(&str, &Reference)],
    flags: &[Winner],
) -> (Vec<Use>, Option<FileRewrite>, Option<String>) {
    let all_skipped = |why: &str| -> Vec<Use> {
        refs.iter()
            .map(|(flag, r)| make_use(flag, r, Err(why.to_string())))
            .collect()
    };
    let Some(rules) = rules else {
        let why = match language {
            Some(language) => {
                let name = language.name();
                let (first, rest) = name.split_at(1);
                format!(
                    "cleanup does not rewrite {}{rest} files",
                    first.to_uppercase()
                )
            }
            None => "the key in a file no parser reads: edit it by hand".to_string(),
        };
        return (all_skipped(&why), None, None);
    };
    if refs.len() > MAX_USES_PER_FILE {
        let why = format!(
            "the file names the flags {} times; cleanup rewrites files with at most {MAX_USES_PER_FILE}: edit it by hand",
            refs.len()
        );
        return (all_skipped(&why), None, None);
    }
    let text = match read(path) {
        Ok(text) => text,
        Err(why) => return (all_skipped(&why), None, None),
    };
    let rewrite = match engine::rewrite(rules, &text, flags) {
        Ok(rewrite) => rewrite,
        Err(why) => return (all_skipped(&why), None, None),
    };
    // A scan with or without the parsers: a reference is one of the file's sites (an
    // evaluation, an accessor, a wrapper), a comment, or some other text.
    let lines = LineIndex::new(&text);
    let mut claimed = vec![false; rewrite.sites.len()];
    let mut uses = Vec::new();
    let mut others: Vec<(&str, &Reference)> = Vec::new();
    for &(flag, r) in refs {
        let site = rewrite.sites.iter().position(|s| {
            s.key == flag && s.key_span.start <= r.span.start && r.span.end <= s.key_span.end
        });
        match site {
            Some(i) if claimed[i] => {}
            Some(i) => {
                claimed[i] = true;
                uses.push(site_use(
                    &rewrite.sites[i],
                    Some(r.kind),
                    &lines,
                    &text,
                    path,
                ));
            }
            None if in_ranges(&rewrite.comments, &r.span) => {}
            None => others.push((flag, r)),
        }
    }
    for (site, _) in rewrite.sites.iter().zip(&claimed).filter(|(_, c)| !**c) {
        uses.push(site_use(site, None, &lines, &text, path));
    }
    let spans: Vec<Range<usize>> = others.iter().map(|(_, r)| r.span.clone()).collect();
    for ((flag, r), (in_string, why)) in others.iter().zip(engine::describe(rules, &text, &spans)) {
        let mut made = make_use(flag, r, Err(why));
        if in_string && r.kind == RefKind::Text {
            made.kind = RefKind::String;
        }
        uses.push(made);
    }
    let note = rewrite.note.map(|note| format!("{path}: {note}"));
    let rewritten = rewrite
        .text
        .map(|after| FileRewrite::new(path, text, after));
    (uses, rewritten, note)
}

/// The use of a site: at its key, with its method.
fn site_use(
    site: &engine::Site,
    scanned: Option<RefKind>,
    lines: &LineIndex,
    text: &str,
    path: &str,
) -> Use {
    let at = crate::refs::key_text(text.as_bytes(), &site.key_span, &site.key).start;
    let (line, column) = lines.at(text, at);
    let kind = match (site.kind, scanned) {
        (engine::SiteKind::Call, _) => RefKind::Call,
        (engine::SiteKind::Accessor, _) => RefKind::Accessor,
        (engine::SiteKind::Wrapper, Some(RefKind::Pattern)) => RefKind::Pattern,
        (engine::SiteKind::Wrapper, _) => RefKind::String,
    };
    Use {
        flag: site.key.clone(),
        path: path.to_string(),
        line,
        column,
        kind,
        method: Some(site.method.clone()),
        outcome: if site.outcome.is_ok() {
            Outcome::Rewritten
        } else {
            Outcome::Skipped
        },
        reason: site.outcome.clone().err(),
        text: crate::refs::line_text(text.as_bytes(), at),
    }
}

/// Whether one of `ranges` (sorted, disjoint) holds `span`.
fn in_ranges(ranges: &[Range<usize>], span: &Range<usize>) -> bool {
    let after = ranges.partition_point(|r| r.start <= span.start);
    after > 0 && span.end <= ranges[after - 1].end
}

/// Line and column (1-based, in characters) of offsets in a text.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        // A byte order mark is no column of the first line, as for the scan.
        let mut starts = vec![if text.starts_with('\u{feff}') { 3 } else { 0 }];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    fn at(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.max(self.starts[0]);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = text.get(start..offset).map_or(0, |t| t.chars().count());
        (line + 1, column + 1)
    }
}

fn make_use(flag: &str, reference: &Reference, outcome: Result<(), String>) -> Use {
    Use {
        flag: flag.to_string(),
        path: reference.path.clone(),
        line: reference.line,
        column: reference.column,
        kind: reference.kind,
        method: reference.method.clone(),
        outcome: if outcome.is_ok() {
            Outcome::Rewritten
        } else {
            Outcome::Skipped
        },
        reason: outcome.err(),
        text: reference.text.clone(),
    }
}

/// A source file's text: a regular file inside the repository, reached through no
/// symlink (cleanup writes it back), of at most [`MAX_SOURCE_BYTES`], in UTF-8.
fn read_source(repo: &Repo, path: &str) -> Result<String, String> {
    let resolved = confine::resolve(&repo.root, path, true).map_err(|why| {
        if why.contains("symlink") {
            "a symlink, or in a symlinked folder: cleanup rewrites only regular files".to_string()
        } else {
            why
        }
    })?;
    confine::read_file(&resolved)
}
