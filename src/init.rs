//! `flagctl init`: a commented `flagctl.toml` with every default spelled out, and an empty
//! flags folder.

use std::path::Path;

use anyhow::{Context, bail};

use crate::fsio::write_atomic;
use crate::model::config::CONFIG_FILE;
use crate::repo::confine;

pub const CONFIG_TEMPLATE: &str = r##"# flagctl configuration. Every part is optional; the values shown are the defaults.
flags_dir = "flags"

[policy]
max_flags_per_service = 25   # flags a service may carry
warn_days = 7                # window for expiring-soon / review-due-soon
removal_grace_days = 30      # a concluded temporary flag must be archived within this

# Temporary kinds expire after max_days; permanent kinds are reviewed every review_days.
# A kind may set its own warn_days; by default it is the policy's, but at most half the
# kind's lifetime (an operational flag is expiring-soon 3 days before it expires).
[kinds.experiment]
temporary = true
max_days = 30
[kinds.release]
temporary = true
max_days = 30
[kinds.operational]
temporary = true
max_days = 7
[kinds.kill-switch]
review_days = 90
[kinds.regulatory]
review_days = 90
[kinds.parameter]
review_days = 90

# Owners: once any are declared, every flag's owner must be one of them.
# [owners.team-ranking]
# contact = "ranking@example.com"
# slack = "#ranking-alerts"

# Per-service limits and allowed owners.
# [services.ranking]
# max_flags = 30
# owners = ["team-ranking"]

# Named segments, usable in rules as `segment = "sg-users"`.
# [segments.sg-users]
# when = [{ attr = "country", in = ["SG"] }]

# Per-rule severity: "error", "warning" or "off".
# [severity]
# expiring-soon = "error"

# Where `refs` and `audit --refs` look for code that reads flags (default: everywhere).
# [refs]
# paths = ["src", "services"]
# exclude = ["**/testdata/**"]
# aliases = { ranker-v2 = ["RANKER_NEXT"] }
# patterns = ['flag\("(?P<key>[^"]+)"\)']

# When a launched flag is ready to conclude and remove (`report`, `archive --ready`).
# [cleanup]
# min_age_days = 30
# stable_days = 7

# The bucketing of the flagd release that serves the export: "v2" (today's), or "v3".
# [export]
# fractional = "v2"
"##;

/// Writes `flagctl.toml` and `flags/.gitkeep` into `root`, refusing when a configuration
/// is already there and never writing through a symlink; returns what it wrote.
pub fn init(root: &Path) -> anyhow::Result<Vec<String>> {
    let config =
        confine::resolve(root, CONFIG_FILE, true).map_err(|why| anyhow::anyhow!("{why}"))?;
    if std::fs::symlink_metadata(&config).is_ok() {
        bail!(
            "{} already exists; this is already a flag repository",
            config.display()
        );
    }
    let keep_rel = "flags/.gitkeep";
    let keep = confine::resolve(root, keep_rel, true).map_err(|why| anyhow::anyhow!("{why}"))?;
    write_atomic(&config, CONFIG_TEMPLATE, false)?;
    let mut written = vec![CONFIG_FILE.to_owned()];
    if std::fs::symlink_metadata(&keep).is_err() {
        let flags = keep.parent().context("flags/ has a parent")?;
        std::fs::create_dir_all(flags)
            .with_context(|| format!("cannot create {}", flags.display()))?;
        write_atomic(&keep, "", false)?;
        written.push(keep_rel.to_owned());
    }
    Ok(written)
}

#[cfg(all(test, unix))]
mod tests {
    /// Every commented example of the template, uncommented, is a valid configuration
    /// that means what it says.
    #[test]
    fn the_commented_examples_are_valid_when_uncommented() {
        let text: String = super::CONFIG_TEMPLATE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(key, _)| {
                            key.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
                        }) =>
                {
                    rest
                }
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let file = crate::model::SourceFile::new("flagctl.toml", text);
        let config = crate::model::Config::parse(&file).unwrap();
        assert_eq!(config.refs.paths, ["src", "services"]);
        assert_eq!(config.refs.patterns.len(), 1);
        assert_eq!(config.cleanup.min_age_days, 30);
        assert!(config.segments.contains_key("sg-users"));
    }

    #[test]
    fn writes_a_valid_config_and_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let written = super::init(dir.path()).unwrap();
        assert_eq!(written, ["flagctl.toml", "flags/.gitkeep"]);
        let text = std::fs::read_to_string(dir.path().join("flagctl.toml")).unwrap();
        let file = crate::model::SourceFile::new("flagctl.toml", text);
        assert!(crate::model::Config::parse(&file).is_ok());
        assert!(super::init(dir.path()).is_err());

        let other = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), other.path().join("flags")).unwrap();
        let error = super::init(other.path()).unwrap_err();
        assert!(error.to_string().contains("symlink"), "{error}");
        assert!(!other.path().join("flagctl.toml").exists());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
