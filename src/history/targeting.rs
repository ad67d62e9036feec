//! When a flag's targeting last changed: the commits whose edit of the flag's file changed
//! who gets which variant, as removal readiness asks ("no targeting change for
//! `stable_days`").

use chrono::NaiveDate;
use git2::Repository;
use toml::{Table, Value};

use super::{ChangeKind, History, blob_text};
use crate::repo::{Repo, git};

/// The fields of a flag file that decide what it serves to whom. The conclusion's winner
/// counts too: concluding a flag serves the winner to everyone from then on.
const FIELDS: [&str; 6] = ["state", "default", "variants", "rules", "requires", "layer"];

/// A commit that changed a flag's targeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetingChange {
    /// The full commit id.
    pub commit: String,
    /// The date the commit proves; `None` when its dates cannot be read.
    pub date: Option<NaiveDate>,
    /// The targeting fields it changed (`added` for the commit that added the flag).
    pub fields: Vec<String>,
}

/// Reads the flag files' past versions from git's object database, opened once.
pub struct Targeting {
    git: Option<Repository>,
}

impl Targeting {
    pub fn open(repo: &Repo) -> Targeting {
        Targeting {
            git: git::open(&repo.root),
        }
    }

    /// The newest change to the targeting of `key` dated after `after`, looking back only
    /// as far as the first change dated on or before `after` (a commit without a readable
    /// date counts as recent: it proves nothing). `None` when no such change exists.
    pub fn changed_after(
        &self,
        history: &History,
        key: &str,
        after: NaiveDate,
    ) -> Option<TargetingChange> {
        for change in history.changes(key).iter().rev() {
            let commit = &history.commits[change.commit];
            let date = commit.date();
            if date.is_some_and(|d| d <= after) {
                return None;
            }
            let fields = match change.kind {
                ChangeKind::Added => vec!["added".to_string()],
                ChangeKind::Deleted => continue,
                ChangeKind::Modified | ChangeKind::Moved => {
                    let text = |blob| self.git.as_ref().and_then(|g| blob_text(g, blob));
                    changed_fields(
                        text(change.old_blob).as_deref(),
                        text(change.new_blob).as_deref(),
                    )
                }
            };
            if !fields.is_empty() {
                return Some(TargetingChange {
                    commit: commit.id.clone(),
                    date,
                    fields,
                });
            }
        }
        None
    }
}

/// The targeting fields that differ between two versions of a flag file; a version that
/// cannot be read or parsed differs in everything (`file`).
fn changed_fields(old: Option<&str>, new: Option<&str>) -> Vec<String> {
    let parse = |text: Option<&str>| text.and_then(|t| t.parse::<Table>().ok());
    let (Some(old), Some(new)) = (parse(old), parse(new)) else {
        return vec!["file".to_string()];
    };
    let winner = |table: &Table| -> Option<Value> {
        table.get("conclusion")?.as_table()?.get("winner").cloned()
    };
    let mut fields: Vec<String> = FIELDS
        .into_iter()
        .filter(|field| old.get(*field) != new.get(*field))
        .map(str::to_string)
        .collect();
    if winner(&old) != winner(&new) {
        fields.push("conclusion".to_string());
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::changed_fields;

    #[test]
    fn only_what_decides_the_served_variant_counts() {
        let old = "description = \"a\"\nexpires = 2026-11-10\ndefault = \"off\"\n[[rules]]\nserve = \"on\"\n";
        let dates_only = old
            .replace("2026-11-10", "2026-11-20")
            .replace("\"a\"", "\"b\"");
        assert_eq!(
            changed_fields(Some(old), Some(&dates_only)),
            Vec::<String>::new()
        );
        let rolled = old.replace("serve = \"on\"", "serve = \"off\"");
        assert_eq!(changed_fields(Some(old), Some(&rolled)), ["rules"]);
        let concluded = format!("{old}[conclusion]\nwinner = \"on\"\ndate = 2026-11-20\n");
        assert_eq!(changed_fields(Some(old), Some(&concluded)), ["conclusion"]);
        let archived = format!("{concluded}[archived]\ndate = 2026-11-25\n");
        assert!(changed_fields(Some(&concluded), Some(&archived)).is_empty());
        assert_eq!(changed_fields(Some(old), Some("not = [toml")), ["file"]);
        assert_eq!(changed_fields(None, Some(old)), ["file"]);
    }

    #[test]
    fn a_hostile_old_version_is_a_change_not_a_crash() {
        let deep = format!("rules = {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
        let plain = "rules = []\n";
        assert!(!changed_fields(Some(plain), Some(&deep)).is_empty());
    }
}
