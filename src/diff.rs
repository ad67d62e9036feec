//! The unified diff of the files a step would change, as `--dry-run` prints it: a file
//! moved (into the archive) shows as a rename with the lines that changed.

use similar::TextDiff;

use crate::repo::FileChange;

/// A unified diff of `changes`, with git's `a/` and `b/` prefixes.
pub fn unified(changes: &[FileChange]) -> String {
    let mut out = String::new();
    let mut used = vec![false; changes.len()];
    for (index, change) in changes.iter().enumerate() {
        if used[index] {
            continue;
        }
        used[index] = true;
        // A file created where another of the same name is deleted: a move.
        let moved_from = (change.before.is_none() && change.after.is_some())
            .then(|| {
                changes.iter().enumerate().position(|(other, c)| {
                    !used[other]
                        && c.after.is_none()
                        && c.before.is_some()
                        && file_name(&c.path) == file_name(&change.path)
                })
            })
            .flatten();
        let (old_path, old_text) = match moved_from {
            Some(other) => {
                used[other] = true;
                let from = &changes[other];
                out.push_str(&format!(
                    "diff --git a/{} b/{}\nrename from {}\nrename to {}\n",
                    from.path, change.path, from.path, change.path
                ));
                (Some(from.path.as_str()), from.before.as_deref())
            }
            None => (
                change.before.as_ref().map(|_| change.path.as_str()),
                change.before.as_deref(),
            ),
        };
        let new_path = change.after.as_ref().map(|_| change.path.as_str());
        let label = |prefix: &str, path: Option<&str>| {
            path.map_or_else(|| "/dev/null".to_string(), |p| format!("{prefix}{p}"))
        };
        let (old_text, new_text) = (
            old_text.unwrap_or(""),
            change.after.as_deref().unwrap_or(""),
        );
        let diff = TextDiff::from_lines(old_text, new_text);
        let hunks = diff
            .unified_diff()
            .context_radius(3)
            .missing_newline_hint(true)
            .header(&label("a/", old_path), &label("b/", new_path))
            .to_string();
        out.push_str(&hunks);
    }
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, before: Option<&str>, after: Option<&str>) -> FileChange {
        FileChange {
            path: path.into(),
            before: before.map(str::to_string),
            after: after.map(str::to_string),
        }
    }

    #[test]
    fn an_edit_shows_its_changed_lines() {
        let diff = unified(&[change(
            "flags/s/k.toml",
            Some("a = 1\nb = 2\n"),
            Some("a = 1\nb = 3\n"),
        )]);
        assert_eq!(
            diff,
            "--- a/flags/s/k.toml\n+++ b/flags/s/k.toml\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
        );
    }

    #[test]
    fn a_move_shows_as_a_rename() {
        let diff = unified(&[
            change("flags/_archive/s/k.toml", None, Some("a = 1\n[archived]\n")),
            change("flags/s/k.toml", Some("a = 1\n"), None),
        ]);
        assert_eq!(
            diff,
            "diff --git a/flags/s/k.toml b/flags/_archive/s/k.toml\nrename from flags/s/k.toml\n\
             rename to flags/_archive/s/k.toml\n--- a/flags/s/k.toml\n+++ b/flags/_archive/s/k.toml\n\
             @@ -1 +1,2 @@\n a = 1\n+[archived]\n"
        );
    }
}
