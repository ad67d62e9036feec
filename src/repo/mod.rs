//! A flag repository: its root, its configuration and its flag files, loaded once.

pub mod confine;
mod discover;
pub mod git;
mod memory;
mod transaction;
mod tree;
mod walk;

pub use discover::discover_root;
pub use transaction::{Applied, CommitOptions, FileChange, Identity, Transaction};
pub use walk::ARCHIVE_DIR;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rayon::prelude::*;

use crate::model::config::CONFIG_FILE;
use crate::model::{Config, Flag, Problem, SourceFile};

/// A loaded repository. Loading never stops at a bad flag file: its problems are kept
/// beside it for the checks to report.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    pub config: Config,
    /// `flagctl.toml`, when the repository has one.
    pub config_file: Option<SourceFile>,
    pub files: Vec<FlagFile>,
    /// The commit the files were read from (`--rev`), or `None` for the work tree.
    pub revision: Option<Revision>,
}

/// A commit that a repository was read from.
#[derive(Debug, Clone)]
pub struct Revision {
    /// What the user asked for (`HEAD~3`, `main`, `@2026-11-20T12:00:00Z`, …).
    pub spec: String,
    /// The full commit id.
    pub id: String,
    /// Author time, in the author's offset.
    pub time: chrono::DateTime<chrono::FixedOffset>,
    pub summary: String,
    pub(crate) oid: git2::Oid,
}

impl Revision {
    fn of(spec: &str, commit: &git2::Commit) -> Revision {
        Revision {
            spec: spec.to_string(),
            id: commit.id().to_string(),
            time: git::commit_time(commit),
            summary: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_string(),
            oid: commit.id(),
        }
    }
}

/// Where a command reads the flags from.
#[derive(Debug, Clone, Default)]
pub enum Source {
    /// The work tree, as it is on disk.
    #[default]
    WorkTree,
    /// A commit: any revspec (`--rev`).
    Rev(String),
    /// A commit to compare with (`audit --base`): read as `Rev`, named as `--base`.
    Base(String),
    /// What is staged in git's index (`--staged`): what the next commit will hold.
    Staged,
    /// The last first-parent commit at or before a time, walking back from `from` (a
    /// revspec) or HEAD (`--at`).
    At {
        time: chrono::DateTime<chrono::FixedOffset>,
        from: Option<String>,
    },
}

/// Whether `root` is inside a git work tree.
pub fn in_git(root: &Path) -> bool {
    git::open(root).is_some()
}

/// Where the flag repository at `root` sits in its git work tree, as a path prefix
/// (`platform/`), or empty at the work tree's root or outside git.
pub fn work_tree_prefix(root: &Path) -> String {
    let Some(git) = git::open(root) else {
        return String::new();
    };
    match git::git_path(&git, root, "") {
        Ok(prefix) if !prefix.is_empty() => format!("{}/", prefix.trim_end_matches('/')),
        _ => String::new(),
    }
}

/// Shortens a commit id for people: its first seven characters.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// One file under the flags folder.
#[derive(Debug)]
pub struct FlagFile {
    pub source: SourceFile,
    pub service: String,
    pub key: String,
    /// Under `flags/_archive/`.
    pub archived: bool,
    pub flag: Result<Flag, Vec<Problem>>,
}

impl FlagFile {
    /// The parsed flag, when the file fits the schema.
    pub fn flag(&self) -> Option<&Flag> {
        self.flag.as_ref().ok()
    }
}

/// `flagctl.toml` does not fit: every command stops (exit 2) with these problems.
#[derive(Debug)]
pub struct ConfigError {
    pub file: SourceFile,
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not valid", self.file.path)
    }
}

impl std::error::Error for ConfigError {}

impl Repo {
    /// Reads the configuration and every flag file of the work tree at `root`.
    pub fn load(root: &Path) -> anyhow::Result<Repo> {
        Repo::load_work_tree(root, None)
    }

    fn load_work_tree(root: &Path, policy: Option<Option<String>>) -> anyhow::Result<Repo> {
        let (config, config_file, entries) = Repo::work_tree_entries(root, policy)?;
        Ok(Repo::assemble(root, config, config_file, entries, None))
    }

    /// The configuration and the flag files of the work tree at `root`, listed as a load
    /// lists them but not read: for a command that needs only which flags exist.
    pub fn list(root: &Path) -> anyhow::Result<Listing> {
        let (config, _, entries) = Repo::work_tree_entries(root, None)?;
        Ok(Listing {
            root: root.to_path_buf(),
            config,
            files: entries.into_iter().map(|e| (e.path, e.archived)).collect(),
        })
    }

    /// Each flag file's path and whether it is archived.
    pub fn flag_files(&self) -> impl Iterator<Item = (&str, bool)> {
        self.files
            .iter()
            .map(|file| (file.source.path.as_str(), file.archived))
    }

    fn work_tree_entries(
        root: &Path,
        policy: Option<Option<String>>,
    ) -> anyhow::Result<(Config, Option<SourceFile>, Vec<Entry>)> {
        let config_text = match policy {
            Some(text) => text,
            None => confine::read_text(root, CONFIG_FILE).map_err(|why| ConfigError {
                file: SourceFile::new(CONFIG_FILE, String::new()),
                problems: vec![Problem::new(0..0, why)],
            })?,
        };
        let (config, config_file) = parse_config(config_text)?;
        if config_file.is_none() && !root.join(&config.flags_dir).is_dir() {
            bail!("{}", not_a_flag_repository(root, &config.flags_dir));
        }
        let entries = walk::flag_files(root, &config.flags_dir)?;
        Ok((config, config_file, entries))
    }

    /// Reads the repository from `source`: the work tree, or a commit straight from git's
    /// object database (no checkout; the work tree is not looked at).
    pub fn open(root: &Path, source: &Source) -> anyhow::Result<Repo> {
        Repo::open_with_policy(root, source, None)
    }

    /// As [`Repo::open`], with `flagctl.toml` (the policy, and where the flags live) read
    /// from the commit `policy` names instead: a pull request then cannot loosen the rules
    /// it is checked by (`audit --policy-from main`).
    pub fn open_with_policy(
        root: &Path,
        source: &Source,
        policy: Option<&str>,
    ) -> anyhow::Result<Repo> {
        let policy = match policy {
            Some(rev) => {
                let git = git::open(root).with_context(|| {
                    format!(
                        "--policy-from {rev}: {} is not in a git repository",
                        root.display()
                    )
                })?;
                let commit = git::resolve(&git, "--policy-from", rev)?;
                let prefix = git::git_path(&git, root, "")?;
                let path = tree::join(&prefix, CONFIG_FILE);
                Some(tree::read_text(&git, &commit.tree()?, &path)?)
            }
            None => None,
        };
        let (flag, spec) = match source {
            Source::WorkTree => return Repo::load_work_tree(root, policy),
            Source::Staged => return Repo::load_staged(root, policy),
            Source::Rev(rev) => ("--rev", rev.clone()),
            Source::Base(rev) => ("--base", rev.clone()),
            Source::At { time, .. } => ("--at", time.to_rfc3339()),
        };
        let git = git::open(root).with_context(|| {
            format!(
                "{flag} {spec}: {} is not in a git repository",
                root.display()
            )
        })?;
        let commit = match source {
            Source::At { time, from } => {
                let tip = match from {
                    Some(rev) => git::resolve(&git, "--rev", rev)?,
                    None => git
                        .head()
                        .ok()
                        .and_then(|head| head.peel_to_commit().ok())
                        .context("--at: the repository has no commits yet")?,
                };
                let Some(id) = crate::history::commit_at(&git, tip.id(), *time)? else {
                    bail!("--at {spec}: no commit at or before that time");
                };
                git.find_commit(id)?
            }
            _ => git::resolve(&git, flag, &spec)?,
        };
        Repo::load_commit(root, &git, Revision::of(&spec, &commit), policy)
    }

    /// Reads what git's index holds: the blobs staged for the next commit, whatever the
    /// work tree says since (a pre-commit hook checks what will be committed).
    fn load_staged(root: &Path, policy: Option<Option<String>>) -> anyhow::Result<Repo> {
        let git = git::open(root)
            .with_context(|| format!("--staged: {} is not in a git repository", root.display()))?;
        // The index as a tree (as `git write-tree` makes it): objects only, no ref moves.
        let mut index = git.index().context("cannot read the git index")?;
        let tree = git.find_tree(
            index
                .write_tree()
                .context("the git index has unmerged paths; resolve them first")?,
        )?;
        Repo::load_tree(root, &git, &tree, "the index", None, policy)
    }

    /// Reads the repository at `root` as it was in `revision`; `policy` replaces the
    /// commit's own `flagctl.toml`.
    fn load_commit(
        root: &Path,
        git: &git2::Repository,
        revision: Revision,
        policy: Option<Option<String>>,
    ) -> anyhow::Result<Repo> {
        let tree = git.find_commit(revision.oid)?.tree()?;
        let place = format!("commit {}", revision.spec);
        Repo::load_tree(root, git, &tree, &place, Some(revision), policy)
    }

    /// Reads the flag repository at `root` from a git tree (`place` names it in messages).
    fn load_tree(
        root: &Path,
        git: &git2::Repository,
        tree: &git2::Tree,
        place: &str,
        revision: Option<Revision>,
        policy: Option<Option<String>>,
    ) -> anyhow::Result<Repo> {
        let tree = tree.clone();
        let prefix = git::git_path(git, root, "")?;
        let config_text = match policy {
            Some(text) => text,
            None => tree::read_text(git, &tree, &tree::join(&prefix, CONFIG_FILE))?,
        };
        let (config, config_file) = parse_config(config_text)?;
        let flags_dir = tree::join(&prefix, &config.flags_dir);
        if config_file.is_none() && tree.get_path(Path::new(&flags_dir)).is_err() {
            bail!(
                "{} (in {place})",
                not_a_flag_repository(root, &config.flags_dir),
            );
        }
        let entries = tree::flag_files(git, &tree, &flags_dir, &prefix)?;
        Ok(Repo::assemble(root, config, config_file, entries, revision))
    }

    fn assemble(
        root: &Path,
        config: Config,
        config_file: Option<SourceFile>,
        entries: Vec<Entry>,
        revision: Option<Revision>,
    ) -> Repo {
        // Reading and parsing dominate loading a large repository; files are independent.
        let files = entries
            .into_par_iter()
            .map(|entry| entry.into_flag_file(&config))
            .collect();
        Repo {
            root: root.to_path_buf(),
            config,
            config_file,
            files,
            revision,
        }
    }

    /// Files that parsed, with their flags.
    pub fn flags(&self) -> impl Iterator<Item = (&FlagFile, &Flag)> {
        self.files.iter().filter_map(|f| Some((f, f.flag()?)))
    }

    /// The active (not archived) file of `key`, if any, else the archived one.
    pub fn find(&self, key: &str) -> Option<&FlagFile> {
        self.files
            .iter()
            .find(|f| f.key == key && !f.archived)
            .or_else(|| self.files.iter().find(|f| f.key == key))
    }

    /// The file of `key` (active first, else archived), or an error that names the
    /// nearest key.
    pub fn lookup(&self, key: &str) -> anyhow::Result<&FlagFile> {
        if let Some(file) = self.find(key) {
            return Ok(file);
        }
        let near =
            crate::model::names::did_you_mean(key, self.files.iter().map(|f| f.key.as_str()))
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
        bail!("no flag `{key}`{near}")
    }

    /// The version of the flag set that is served: the commit it was read from (`--rev`),
    /// else HEAD's id with `-dirty` appended (as `git describe --dirty` does) when
    /// `flagctl.toml` or the flags folder has uncommitted changes, else `worktree` outside
    /// git or before the first commit. The note says why the version is not a plain commit.
    pub fn version(&self) -> anyhow::Result<(String, Option<String>)> {
        if let Some(revision) = &self.revision {
            return Ok((revision.id.clone(), None));
        }
        let Some(git) = git::open(&self.root) else {
            let note = "not a git repository: the flag set's version is \"worktree\"";
            return Ok(("worktree".into(), Some(note.into())));
        };
        let Some(head) = git.head().ok().and_then(|head| head.target()) else {
            let note = "no commits yet: the flag set's version is \"worktree\"";
            return Ok(("worktree".into(), Some(note.into())));
        };
        let paths = [CONFIG_FILE, self.config.flags_dir.as_str()];
        if git::has_changes(&git, &self.root, &paths)? {
            let note = format!(
                "flag files have uncommitted changes: the version is {head}-dirty; commit them for a version that names what is served"
            );
            return Ok((format!("{head}-dirty"), Some(note)));
        }
        Ok((head.to_string(), None))
    }

    /// The commit the files were read from (`--rev`), else HEAD, when there is one.
    pub fn tip(&self) -> Option<String> {
        match &self.revision {
            Some(revision) => Some(revision.id.clone()),
            None => git::open(&self.root)?
                .head()
                .ok()?
                .target()
                .map(|id| id.to_string()),
        }
    }

    /// Service names that hold active flags, sorted.
    pub fn services(&self) -> Vec<&str> {
        let mut services: Vec<&str> = self
            .files
            .iter()
            .filter(|f| !f.archived)
            .map(|f| f.service.as_str())
            .collect();
        services.sort_unstable();
        services.dedup();
        services
    }
}

fn parse_config(text: Option<String>) -> anyhow::Result<(Config, Option<SourceFile>)> {
    let Some(text) = text else {
        return Ok((Config::default(), None));
    };
    let file = SourceFile::new(CONFIG_FILE, text);
    match Config::parse(&file) {
        Ok(config) => Ok((config, Some(file))),
        Err(problems) => Err(ConfigError { file, problems }.into()),
    }
}

/// The flag files of a work tree, listed and not read (see [`Repo::list`]).
#[derive(Debug)]
pub struct Listing {
    pub root: PathBuf,
    pub config: Config,
    /// Each flag file's path, relative to the root with `/`, and whether it is archived.
    files: Vec<(String, bool)>,
}

impl Listing {
    /// Each flag file's path and whether it is archived, as [`Repo::flag_files`] has them.
    pub fn flag_files(&self) -> impl Iterator<Item = (&str, bool)> {
        self.files
            .iter()
            .map(|(path, archived)| (path.as_str(), *archived))
    }
}

/// A file found under the flags folder, before parsing.
pub(crate) struct Entry {
    pub path: String,
    pub service: String,
    pub key: String,
    pub archived: bool,
    /// Where the text is, or why it cannot be read.
    pub body: Result<Body, String>,
}

/// The text of an entry: a file of the work tree, read when parsed, or a blob's text.
pub(crate) enum Body {
    Disk(PathBuf),
    Text(String),
}

impl Entry {
    fn into_flag_file(self, config: &Config) -> FlagFile {
        // A misplaced file has no key or service to judge; its body says where it belongs.
        let path_problem = if self.key.is_empty() {
            None
        } else {
            layout_problem(&self.service, &self.key)
        };
        let text = self.body.and_then(|body| match body {
            Body::Disk(path) => confine::read_file(&path),
            Body::Text(text) => Ok(text),
        });
        let (text, read_problem) = match text {
            Ok(text) => (text, None),
            Err(why) => (String::new(), Some(why)),
        };
        let source = SourceFile::new(self.path, text);
        let flag = match (path_problem, read_problem) {
            (None, None) => Flag::parse(&source, config),
            (path, read) => Err(path
                .into_iter()
                .chain(read.map(|why| Problem::new(0..0, why)))
                .collect()),
        };
        FlagFile {
            source,
            service: self.service,
            key: self.key,
            archived: self.archived,
            flag,
        }
    }
}

/// Why `root` holds no flags: neither `flagctl.toml` nor a flags folder. A gate that
/// passed here would pass for the wrong reason (a monorepo root, or `--repo` pointed at
/// the flags folder itself), so every command stops.
fn not_a_flag_repository(root: &Path, flags_dir: &str) -> String {
    let mut text = format!(
        "no flags folder: {} has neither {CONFIG_FILE} nor {flags_dir}/\n\
         help: run `flagctl init` to start a flag repository here, or pass --repo DIR",
        root.display()
    );
    // Pointed at the flags folder (or a service in it): the repository is above.
    if let Some(parent) = root
        .ancestors()
        .skip(1)
        .take(2)
        .find(|dir| dir.join(CONFIG_FILE).is_file() || dir.join(flags_dir) == root)
    {
        text.push_str(&format!(
            "; this looks like a flags folder: did you mean --repo {}?",
            parent.display()
        ));
    }
    text
}

/// A problem with where the file sits: its key or service name.
fn layout_problem(service: &str, key: &str) -> Option<Problem> {
    use crate::model::names::name_problem;
    if let Some(why) = name_problem(key) {
        return Some(
            Problem::new(0..0, format!("`{key}` is not a valid flag key: {why}"))
                .with_help("rename the file: keys match ^[a-z0-9][a-z0-9._-]{0,99}$"),
        );
    }
    let why = name_problem(service)?;
    Some(
        Problem::new(
            0..0,
            format!("`{service}` is not a valid service name: {why}"),
        )
        .with_help("rename the folder: services match ^[a-z0-9][a-z0-9._-]{0,99}$"),
    )
}
