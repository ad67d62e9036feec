//! The layers hold: each folder of the library uses only the layers beneath it, git is
//! read in one place, and only the command line knows clap.

use std::path::{Path, PathBuf};

/// Every Rust file under `src/`, with its path relative to `src/` and its text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The library modules a file refers to as `crate::NAME`.
fn crate_uses(text: &str) -> Vec<String> {
    let mut uses: Vec<String> = text
        .match_indices("crate::")
        .map(|(at, _)| {
            text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    uses.sort();
    uses.dedup();
    uses
}

#[test]
fn git_is_read_only_under_repo_and_history() {
    for (path, text) in sources() {
        let allowed = path.starts_with("repo/") || path.starts_with("history/");
        assert!(allowed || !text.contains("git2"), "{path} uses git2");
    }
}

#[test]
fn only_the_command_line_knows_clap() {
    for (path, text) in sources() {
        let cli = path.starts_with("cli/") || path == "main.rs";
        assert!(cli || !text.contains("clap"), "{path} uses clap");
    }
}

#[test]
fn each_layer_uses_only_the_layers_beneath_it() {
    // What each folder of the library may refer to, besides itself.
    let layers: [(&str, &[&str]); 6] = [
        ("rules.rs", &[]),
        ("eval/", &["eval"]),
        ("model/", &["model", "eval", "rules"]),
        // The history reads git for whoever asks; the references ask it for code.
        ("history/", &["history", "repo", "model"]),
        ("refs/", &["refs", "history", "repo", "model"]),
        ("cleanup/", &["cleanup", "refs", "history", "repo", "model"]),
    ];
    for (path, text) in sources() {
        for (prefix, allowed) in layers {
            if !path.starts_with(prefix) {
                continue;
            }
            for used in crate_uses(&text) {
                assert!(
                    allowed.contains(&used.as_str()),
                    "{path} uses crate::{used}; {prefix} may use only {allowed:?}"
                );
            }
        }
    }
}
