//! Every key, alias, case form and SDK method name in one automaton, so each file is
//! read in one pass whatever the number of flags.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::Target;
use crate::model::config::{RefsConfig, compile_ref_pattern};

/// What a needle of the automaton stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Needle {
    /// A flag key (index into the targets): counts between delimiters.
    Key(usize),
    /// A string form of a key (kebab, dot): counts between delimiters, as an alias.
    DelimitedAlias(usize),
    /// An alias or identifier form of a key: counts as a whole identifier.
    Alias(usize),
    /// An SDK method or generated accessor name: the file is worth parsing.
    Method,
}

/// One textual occurrence worth classifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hit {
    pub start: usize,
    pub end: usize,
    pub target: usize,
    pub how: How,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum How {
    Key,
    Alias,
    Pattern,
}

/// A pattern match whose key is no flag (an in-house wrapper naming an unknown key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnknownHit {
    pub start: usize,
    pub end: usize,
    pub key: String,
}

/// What one file holds.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub hits: Vec<Hit>,
    pub unknown: Vec<UnknownHit>,
    /// An SDK method name occurs: the file is parsed even without a key, to find calls
    /// that name unknown keys.
    pub method: bool,
}

pub(super) struct Matcher {
    automaton: AhoCorasick,
    /// The needles of each pattern of the automaton (a string can stand for several).
    needles: Vec<Vec<Needle>>,
    delimiters: Vec<Vec<u8>>,
    patterns: Vec<regex::bytes::Regex>,
    keys: HashMap<String, usize>,
    /// identifier → key, for the parser to recognise typed accessors.
    pub accessors: HashMap<String, String>,
}

impl Matcher {
    /// With `parse`, SDK method names and accessor spellings are looked for too, to
    /// tell which files are worth parsing.
    pub fn new(targets: &[Target], config: &RefsConfig, parse: bool) -> anyhow::Result<Matcher> {
        let mut needles: Vec<(String, Needle)> = Vec::new();
        let keys: HashMap<String, usize> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.key.clone(), i))
            .collect();
        let mut accessors = HashMap::new();
        for (index, target) in targets.iter().enumerate() {
            needles.push((target.key.clone(), Needle::Key(index)));
            for form in &config.case_forms {
                if let Some(text) = form.apply(&target.key)
                    && text != target.key
                {
                    let needle = if form.is_identifier() {
                        Needle::Alias(index)
                    } else {
                        Needle::DelimitedAlias(index)
                    };
                    needles.push((text, needle));
                }
            }
            for alias in config.aliases.get(&target.key).into_iter().flatten() {
                needles.push((alias.clone(), Needle::Alias(index)));
            }
            if parse {
                // A generated accessor's name only makes the file worth parsing: the
                // parser says whether it is the accessor (`solo()` may be any function).
                // The prefilter looks for the key's core spellings, which every accessor
                // name contains (`useRankerV2`, `ranker_v2_details`), not for each name.
                let names = super::syntax::accessor_names(&target.key);
                let cores = core_spellings(&target.key);
                for name in &names {
                    accessors.insert(name.clone(), target.key.clone());
                    match cores.iter().find(|core| name.contains(core.as_str())) {
                        Some(core) => needles.push((core.clone(), Needle::Method)),
                        None => needles.push((name.clone(), Needle::Method)),
                    }
                }
            }
        }
        if parse {
            // Go's short forms (`client.String(ctx, key, …)`) are words of every Go file:
            // a misspelt key in one of them is found only in a file with another hit.
            for method in super::syntax::sdk_method_names()
                .iter()
                .filter(|m| !GO_SHORT_FORMS.contains(m))
            {
                needles.push((method.to_string(), Needle::Method));
            }
        }
        let mut strings: Vec<String> = Vec::new();
        let mut grouped: Vec<Vec<Needle>> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        for (text, needle) in needles {
            let i = *index_of.entry(text.clone()).or_insert_with(|| {
                strings.push(text);
                grouped.push(Vec::new());
                strings.len() - 1
            });
            if !grouped[i].contains(&needle) {
                grouped[i].push(needle);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&strings)?;
        let patterns = config
            .patterns
            .iter()
            .map(|p| {
                compile_ref_pattern(p)
                    .map_err(|why| anyhow::anyhow!("[refs] pattern {p:?}: {why}"))
                    .and_then(|r| {
                        regex::bytes::RegexBuilder::new(r.as_str())
                            .size_limit(crate::model::config::MAX_PATTERN_BYTES)
                            .build()
                            .map_err(anyhow::Error::from)
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Matcher {
            automaton,
            needles: grouped,
            delimiters: config
                .delimiters
                .iter()
                .map(|d| d.as_bytes().to_vec())
                .collect(),
            patterns,
            keys,
            accessors,
        })
    }

    /// Every occurrence in `bytes`, in order.
    pub fn find(&self, bytes: &[u8]) -> Found {
        let mut found = Found::default();
        for m in self.automaton.find_iter(bytes) {
            let (start, end) = (m.start(), m.end());
            let delimited = || self.delimited(bytes, start, end);
            let identifier = || whole_identifier(bytes, start, end);
            let needles = &self.needles[m.pattern().as_usize()];
            // A key between delimiters is that key, whatever else the text also spells.
            let hit = needles
                .iter()
                .find_map(|n| match *n {
                    Needle::Key(t) if delimited() => Some((t, How::Key)),
                    _ => None,
                })
                .or_else(|| {
                    needles.iter().find_map(|n| match *n {
                        Needle::DelimitedAlias(t) if delimited() => Some((t, How::Alias)),
                        Needle::Alias(t) if identifier() => Some((t, How::Alias)),
                        _ => None,
                    })
                });
            if let Some((target, how)) = hit {
                found.hits.push(Hit {
                    start,
                    end,
                    target,
                    how,
                });
            } else if needles.contains(&Needle::Method) {
                found.method = true;
            }
        }
        for pattern in &self.patterns {
            for captures in pattern.captures_iter(bytes) {
                let Some(key) = captures.name("key") else {
                    continue;
                };
                let text = String::from_utf8_lossy(key.as_bytes()).into_owned();
                match self.keys.get(&text) {
                    Some(&target) => found.hits.push(Hit {
                        start: key.start(),
                        end: key.end(),
                        target,
                        how: How::Pattern,
                    }),
                    None => found.unknown.push(UnknownHit {
                        start: key.start(),
                        end: key.end(),
                        key: text,
                    }),
                }
            }
        }
        if !self.patterns.is_empty() {
            // A pattern match of a key also found as text is one reference: the pattern's.
            found.hits.sort_by_key(|h| (h.start, h.how != How::Pattern));
            found
                .hits
                .dedup_by(|later, first| later.start == first.start && later.end == first.end);
        }
        found
    }

    fn delimited(&self, bytes: &[u8], start: usize, end: usize) -> bool {
        let before = &bytes[..start];
        let after = &bytes[end..];
        self.delimiters.iter().any(|d| before.ends_with(d))
            && self.delimiters.iter().any(|d| after.starts_with(d))
    }
}

/// The SDK methods of Go that are bare type names.
const GO_SHORT_FORMS: [&str; 5] = ["Boolean", "String", "Int", "Float", "Object"];

/// The spellings of a key that generated accessor names are built from: snake_case,
/// UPPER_SNAKE, camelCase and PascalCase, whatever the number of words.
fn core_spellings(key: &str) -> Vec<String> {
    let words: Vec<&str> = key
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let capital = |w: &str| {
        let mut chars = w.chars();
        chars.next().map_or(String::new(), |c| {
            c.to_ascii_uppercase().to_string() + chars.as_str()
        })
    };
    let pascal: String = words.iter().map(|w| capital(w)).collect();
    let camel = words.first().map_or(String::new(), |first| {
        first.to_string() + &words[1..].iter().map(|w| capital(w)).collect::<String>()
    });
    let snake = words.join("_");
    let mut forms = vec![snake.to_ascii_uppercase(), snake, camel, pascal];
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Whether `bytes[start..end]` stands alone: no identifier character joins it on
/// either side (where its own edge is an identifier character).
fn whole_identifier(bytes: &[u8], start: usize, end: usize) -> bool {
    let joins_before =
        start > 0 && is_identifier_byte(bytes[start]) && is_identifier_byte(bytes[start - 1]);
    let joins_after =
        end < bytes.len() && is_identifier_byte(bytes[end - 1]) && is_identifier_byte(bytes[end]);
    !joins_before && !joins_after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(keys: &[&str]) -> Vec<Target> {
        keys.iter()
            .map(|k| Target {
                key: k.to_string(),
                archived: false,
            })
            .collect()
    }

    fn hits(config: &RefsConfig, keys: &[&str], text: &str) -> Vec<(String, How)> {
        let targets = targets(keys);
        let matcher = Matcher::new(&targets, config, true).unwrap();
        matcher
            .find(text.as_bytes())
            .hits
            .into_iter()
            .map(|h| (text[h.start..h.end].to_string(), h.how))
            .collect()
    }

    #[test]
    fn a_key_counts_only_between_delimiters() {
        let config = RefsConfig::default();
        let found = hits(
            &config,
            &["ranker-v2", "ranker"],
            "a(\"ranker-v2\") b('ranker') c(`ranker`) ranker-v2 \"ranker-v2x\" \"xranker\"",
        );
        assert_eq!(
            found,
            vec![
                ("ranker-v2".into(), How::Key),
                ("ranker".into(), How::Key),
                ("ranker".into(), How::Key),
            ]
        );
    }

    #[test]
    fn case_forms_and_aliases_count_as_whole_identifiers() {
        let mut config = RefsConfig::default();
        config
            .aliases
            .insert("ranker-v2".into(), vec!["RANKING_NEXT".into()]);
        let found = hits(
            &config,
            &["ranker-v2", "solo"],
            "if RANKER_V2 or rankerV2 or RankerV2_old or ranker_v2x: RANKING_NEXT; 'ranker.v2'; solo",
        );
        assert_eq!(
            found,
            vec![
                ("RANKER_V2".into(), How::Alias),
                ("rankerV2".into(), How::Alias),
                ("RANKING_NEXT".into(), How::Alias),
                ("ranker.v2".into(), How::Alias),
            ]
        );
        config.case_forms.clear();
        assert_eq!(
            hits(&config, &["ranker-v2"], "RANKER_V2 RANKING_NEXT").len(),
            1
        );
    }

    #[test]
    fn patterns_find_keys_in_wrappers_and_unknown_keys() {
        let config = RefsConfig {
            patterns: vec![r"flag\((?P<key>[a-z0-9-]+)\)".into()],
            ..RefsConfig::default()
        };
        let targets = targets(&["ranker-v2"]);
        let matcher = Matcher::new(&targets, &config, true).unwrap();
        let found = matcher.find(b"flag(ranker-v2) flag(rankr-v2) get(\"ranker-v2\")");
        assert_eq!(found.hits.len(), 2);
        assert_eq!(found.hits[0].how, How::Pattern);
        assert_eq!(found.hits[1].how, How::Key);
        assert_eq!(found.unknown[0].key, "rankr-v2");
    }

    #[test]
    fn non_utf8_bytes_do_not_stop_the_match() {
        let config = RefsConfig::default();
        let targets = targets(&["ranker-v2"]);
        let matcher = Matcher::new(&targets, &config, true).unwrap();
        let found = matcher.find(b"\xff\xfe get(\"ranker-v2\") \xc3");
        assert_eq!(found.hits.len(), 1);
    }
}
