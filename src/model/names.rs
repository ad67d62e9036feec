//! Flag keys and service names: `^[a-z0-9][a-z0-9._-]{0,99}$`.

/// What [`name_problem`] accepts, as a regular expression (for the JSON Schemas).
pub const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,99}$";

/// Why a name is not a valid key or service name, or `None` when it is.
pub fn name_problem(name: &str) -> Option<String> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty() {
        Some("it is empty".into())
    } else if name.len() > 100 {
        Some(format!(
            "it is {} characters long; at most 100 are allowed",
            name.len()
        ))
    } else if !first_ok {
        Some("it must start with a lowercase letter or a digit".into())
    } else {
        name.chars().find(|&c| !valid_char(c)).map(|c| {
            format!("{c:?} is not allowed; use lowercase letters, digits, '.', '_' and '-'")
        })
    }
}

/// The flag key a file stands for: its name without the one `.toml` ending.
pub fn key_of_file(path: &str) -> Option<&str> {
    path.rsplit('/').next()?.strip_suffix(".toml")
}

/// The nearest of `candidates` to `word`, when one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(distance, c)| distance <= 2.max(c.len() / 3))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// `word` with its indefinite article: "an experiment", "a release", "an integer".
pub fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_pattern() {
        assert_eq!(name_problem("ranker-v2.1_b"), None);
        assert!(name_problem("Bad Key").is_some());
        assert!(name_problem("../x").is_some());
        assert!(name_problem("_archive").is_some());
        assert!(name_problem("").is_some());
        assert!(name_problem(&"a".repeat(101)).is_some());
        assert_eq!(name_problem(&"a".repeat(100)), None);
    }

    #[test]
    fn suggests_the_nearest_key() {
        let keys = ["owner", "kind", "description"];
        assert_eq!(did_you_mean("ownr", keys), Some("owner"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }
}
