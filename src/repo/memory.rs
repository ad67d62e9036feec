//! A repository built from texts in memory: no disk, no git. Check tests write their
//! repository inline; the texts go through the same parsing as a loaded work tree.

use std::path::PathBuf;

use super::walk::{Placement, misplaced};
use super::{Body, Entry, Repo, parse_config};

impl Repo {
    /// A repository whose `flagctl.toml` is `config` (defaults when `None`) and whose files
    /// are `(path, text)` pairs, paths relative to the root with `/`. As when loading a work
    /// tree, only `.toml` files up to three levels below the flags folder are read, hidden
    /// ones are skipped, and one at the wrong depth is kept as a misplaced file. The root is
    /// empty: nothing is on disk.
    pub fn from_texts(config: Option<&str>, files: &[(&str, &str)]) -> anyhow::Result<Repo> {
        let (config, config_file) = parse_config(config.map(str::to_string))?;
        let flags_dir = config.flags_dir.clone();
        let mut entries: Vec<Entry> = files
            .iter()
            .filter_map(|&(path, text)| {
                let below = path.strip_prefix(&flags_dir)?.strip_prefix('/')?;
                let parts: Vec<&str> = below.split('/').collect();
                let walked = path.ends_with(".toml")
                    && parts.len() <= 3
                    && parts.iter().all(|part| !part.starts_with('.'));
                if !walked {
                    return None;
                }
                Some(match Placement::of(&parts) {
                    Some(place) => place.entry(path.to_string(), Ok(Body::Text(text.to_string()))),
                    None => misplaced(path.to_string(), &flags_dir),
                })
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Repo::assemble(
            &PathBuf::new(),
            config,
            config_file,
            entries,
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG: &str = "description = \"d\"\nkind = \"experiment\"\nowner = \"@a\"\n\
                        created = 2026-11-01\nexpires = 2026-11-20\ndefault = \"off\"\n\n\
                        [variants]\noff = false\non = true\n";

    #[test]
    fn files_are_placed_as_the_walk_places_them() {
        let repo = Repo::from_texts(
            None,
            &[
                ("flags/search/b.toml", FLAG),
                ("flags/_archive/search/a.toml", FLAG),
                ("flags/stray.toml", FLAG),
                ("flags/search/.hidden.toml", FLAG),
                ("flags/search/notes.md", "not a flag"),
                ("flags/a/b/c/d.toml", FLAG),
                ("templates/experiment.toml", FLAG),
            ],
        )
        .unwrap();
        let placed: Vec<(&str, &str, &str, bool, bool)> = repo
            .files
            .iter()
            .map(|f| {
                (
                    f.source.path.as_str(),
                    f.service.as_str(),
                    f.key.as_str(),
                    f.archived,
                    f.flag.is_ok(),
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                ("flags/_archive/search/a.toml", "search", "a", true, true),
                ("flags/search/b.toml", "search", "b", false, true),
                ("flags/stray.toml", "", "", false, false),
            ]
        );
        assert!(repo.config_file.is_none());
        assert!(repo.revision.is_none());
    }

    /// Each file's path, service, key, place and problems, as text.
    fn outline(repo: &Repo) -> Vec<String> {
        repo.files
            .iter()
            .map(|f| {
                let problems: Vec<&str> = match &f.flag {
                    Ok(_) => Vec::new(),
                    Err(problems) => problems.iter().map(|p| p.message.as_str()).collect(),
                };
                let (path, service, key) = (&f.source.path, &f.service, &f.key);
                format!("{path} {service} {key} {} {problems:?}", f.archived)
            })
            .collect()
    }

    #[test]
    fn texts_load_as_the_same_files_on_disk_do() {
        let config = "[owners.team-a]\n";
        let files = [
            ("flags/search/a.toml", FLAG),
            ("flags/search/owned.toml", &FLAG.replace("@a", "team-a")),
            ("flags/_archive/ranking/old.toml", FLAG),
            ("flags/search/broken.toml", "kind = \n"),
            ("flags/search/Bad.toml", FLAG),
            ("flags/stray.toml", FLAG),
            ("flags/_archive/loose.toml", FLAG),
        ];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flagctl.toml"), config).unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let on_disk = Repo::load(dir.path()).unwrap();
        let in_memory = Repo::from_texts(Some(config), &files).unwrap();
        assert_eq!(outline(&in_memory), outline(&on_disk));
    }

    #[test]
    fn the_config_moves_the_flags_folder_and_must_be_valid() {
        let repo = Repo::from_texts(
            Some("flags_dir = \"ml/flags\"\n"),
            &[
                ("ml/flags/search/a.toml", FLAG),
                ("flags/search/b.toml", FLAG),
            ],
        )
        .unwrap();
        assert_eq!(repo.files.len(), 1);
        assert_eq!(repo.files[0].key, "a");
        assert_eq!(
            repo.config_file.as_ref().unwrap().text,
            "flags_dir = \"ml/flags\"\n"
        );

        let err = Repo::from_texts(Some("[policy]\nwarn_dayz = 3\n"), &[]).unwrap_err();
        assert!(err.downcast_ref::<super::super::ConfigError>().is_some());
    }

    #[test]
    fn a_bad_key_in_the_path_is_a_problem_of_the_file() {
        let repo = Repo::from_texts(None, &[("flags/search/Bad_Key.toml", FLAG)]).unwrap();
        let problems = repo.files[0].flag.as_ref().unwrap_err();
        assert!(problems[0].message.contains("not a valid flag key"));
    }
}
