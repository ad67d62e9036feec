//! Every key, alias, case form and SDK method name in one automaton, so each file is
//! read in one pass whatever the number of flags; the SDK method names, whose first bytes
//! are many, apart, read only in the files that can hold one.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;

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
#[derive(Debug, Default, PartialEq)]
pub(super) struct Found {
    pub hits: Vec<Hit>,
    pub unknown: Vec<UnknownHit>,
    /// An SDK method name occurs: the file is parsed even without a key, to find calls
    /// that name unknown keys.
    pub method: bool,
    /// Where SDK method names (and the spellings of accessors) that are no hit start: the
    /// parser reads the code around them as around hits.
    pub methods: Vec<usize>,
}

pub(super) struct Matcher {
    /// Every needle but the SDK method names: keys, aliases, case forms, the spellings of
    /// accessors. These start with few distinct bytes, which the search skips to.
    keys: Part,
    /// The SDK method names (with parse): read only in a file that holds one of `MARKS`,
    /// which each of them contains.
    methods: Option<Part>,
    marks: Marks,
    /// Every needle in one automaton, which decides what a file where a method name and
    /// another needle overlap holds (built the first time one does).
    all: std::sync::OnceLock<Part>,
    delimiters: Vec<Vec<u8>>,
    patterns: Vec<regex::bytes::Regex>,
    key_targets: HashMap<String, usize>,
    /// identifier → key, for the parser to recognise typed accessors.
    pub accessors: HashMap<String, String>,
}

impl Matcher {
    /// With `parse`, SDK method names and accessor spellings are looked for too, to
    /// tell which files are worth parsing.
    pub fn new(targets: &[Target], config: &RefsConfig, parse: bool) -> anyhow::Result<Matcher> {
        let key_targets: HashMap<String, usize> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.key.clone(), i))
            .collect();
        // The needles of each flag, on every core.
        let per_target: Vec<Vec<(String, Needle)>> = targets
            .par_iter()
            .enumerate()
            .map(|(index, target)| {
                let mut needles = vec![(target.key.clone(), Needle::Key(index))];
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
                    // parser says whether it is the accessor (`solo()` may be any
                    // function). Every accessor name holds one of the key's stems
                    // (`useRankerV2`, `ranker_v2_details`); the prefilter looks for the
                    // key's core spelling within each stem where there is one (they are
                    // needles already), else for the stem (`model_v_2`, as strcase splits
                    // digits off).
                    let cores = core_spellings(&target.key);
                    for stem in super::syntax::accessor_stems(&target.key) {
                        let within = cores.iter().find(|core| stem.contains(core.as_str()));
                        let text = within.cloned().unwrap_or(stem);
                        if !needles
                            .iter()
                            .any(|(t, n)| *t == text && *n == Needle::Method)
                        {
                            needles.push((text, Needle::Method));
                        }
                    }
                }
                needles
            })
            .collect();
        let mut needles: Vec<(String, Needle)> = per_target.into_iter().flatten().collect();
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
        let all = Needles::group(needles);
        let (parts, accessors) = rayon::join(
            || Self::parts(all, parse),
            || {
                // identifier → key, for the parser; a name two flags share is the later
                // one's, as a map filled in order.
                let names: Vec<Vec<String>> = if parse {
                    targets
                        .par_iter()
                        .map(|target| super::syntax::accessor_names(&target.key))
                        .collect()
                } else {
                    Vec::new()
                };
                let mut accessors = HashMap::with_capacity(names.iter().map(Vec::len).sum());
                for (names, target) in names.into_iter().zip(targets) {
                    for name in names {
                        accessors.insert(name, target.key.clone());
                    }
                }
                accessors
            },
        );
        let (keys, methods) = parts?;
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
            keys,
            methods,
            marks: match aho_corasick::packed::Searcher::new(MARKS) {
                Some(searcher) => Marks::Packed(searcher),
                None => Marks::Automaton(AhoCorasick::new(MARKS)?),
            },
            all: std::sync::OnceLock::new(),
            delimiters: config
                .delimiters
                .iter()
                .map(|d| d.as_bytes().to_vec())
                .collect(),
            patterns,
            key_targets,
            accessors,
        })
    }

    /// The automaton of every needle but the SDK method names, and theirs (with `parse`,
    /// when every method name holds a mark); else the automaton of every needle.
    fn parts(all: Needles, parse: bool) -> anyhow::Result<(Part, Option<Part>)> {
        let method_names: std::collections::HashSet<&str> = if parse {
            super::syntax::sdk_method_names()
                .iter()
                .copied()
                .filter(|m| !GO_SHORT_FORMS.contains(m))
                .collect()
        } else {
            Default::default()
        };
        // Split only when every method name holds a mark: a file without one holds none.
        let split = parse
            && method_names
                .iter()
                .all(|m| MARKS.iter().any(|mark| m.contains(mark)));
        if !split {
            return Ok((Part::new(all)?, None));
        }
        let (methods, keys) = all.partition(|text| method_names.contains(text));
        Ok((Part::new(keys)?, Some(Part::new(methods)?)))
    }

    /// The automaton of every needle, built the first time it is needed.
    fn all(&self) -> &Part {
        self.all.get_or_init(|| {
            let mut all = self.keys.needles.clone();
            if let Some(methods) = &self.methods {
                all.extend(&methods.needles);
            }
            Part::new(all).expect("the needles of two automata build one")
        })
    }

    /// Every occurrence in `bytes`, in order.
    pub fn find(&self, bytes: &[u8]) -> Found {
        let mut found = Found::default();
        let methods = self.methods.as_ref().filter(|_| self.marks.is_match(bytes));
        match methods {
            None => self.read(&self.keys, bytes, &mut found),
            Some(methods) => {
                // The two automata find what the one of all needles finds when no match of
                // one overlaps a match of the other.
                let keys: Vec<_> = self.keys.automaton.find_iter(bytes).collect();
                let names: Vec<_> = methods.automaton.find_iter(bytes).collect();
                if overlap(&keys, &names) {
                    self.read(self.all(), bytes, &mut found);
                } else {
                    let mut merged: Vec<(aho_corasick::Match, &Part)> = keys
                        .into_iter()
                        .map(|m| (m, &self.keys))
                        .chain(names.into_iter().map(|m| (m, methods)))
                        .collect();
                    merged.sort_by_key(|(m, _)| m.start());
                    for (m, part) in merged {
                        self.found(part, bytes, m, &mut found);
                    }
                }
            }
        }
        self.patterns(bytes, &mut found);
        found
    }

    /// What the automaton of every needle finds (what `find` must agree with).
    #[cfg(test)]
    pub fn find_in_one(&self, bytes: &[u8]) -> Found {
        let mut found = Found::default();
        self.read(self.all(), bytes, &mut found);
        self.patterns(bytes, &mut found);
        found
    }

    fn read(&self, part: &Part, bytes: &[u8], found: &mut Found) {
        for m in part.automaton.find_iter(bytes) {
            self.found(part, bytes, m, found);
        }
    }

    /// What a match of the automaton of `part` is.
    fn found(&self, part: &Part, bytes: &[u8], m: aho_corasick::Match, found: &mut Found) {
        let (start, end) = (m.start(), m.end());
        let delimited = || self.delimited(bytes, start, end);
        let identifier = || whole_identifier(bytes, start, end);
        let needles = part.needles.of(m.pattern().as_usize());
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
            found.methods.push(start);
        }
    }

    fn patterns(&self, bytes: &[u8], found: &mut Found) {
        for pattern in &self.patterns {
            for captures in pattern.captures_iter(bytes) {
                let Some(key) = captures.name("key") else {
                    continue;
                };
                let text = String::from_utf8_lossy(key.as_bytes()).into_owned();
                match self.key_targets.get(&text) {
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
    }

    fn delimited(&self, bytes: &[u8], start: usize, end: usize) -> bool {
        let before = &bytes[..start];
        let after = &bytes[end..];
        self.delimiters.iter().any(|d| before.ends_with(d))
            && self.delimiters.iter().any(|d| after.starts_with(d))
    }
}

/// One automaton and what each of its patterns stands for.
struct Part {
    automaton: AhoCorasick,
    /// The strings of the patterns, and what each stands for.
    needles: Needles,
}

impl Part {
    fn new(needles: Needles) -> anyhow::Result<Part> {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles.texts)?;
        Ok(Part { automaton, needles })
    }
}

/// Strings to look for, each once, and the needles each stands for (a string can stand
/// for several: the key of one flag and an alias of another), in one table.
#[derive(Debug, Clone, Default, PartialEq)]
struct Needles {
    texts: Vec<String>,
    /// The needles of `texts[i]` are `needles[starts[i]..starts[i + 1]]`.
    needles: Vec<Needle>,
    starts: Vec<usize>,
}

impl Needles {
    /// One string per text, in the order they first came, with its needles in the order
    /// they came, each once.
    fn group(pairs: Vec<(String, Needle)>) -> Needles {
        let mut group_of: HashMap<&str, usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(pairs.len(), Default::default());
        let mut first = Vec::new();
        let groups: Vec<usize> = pairs
            .iter()
            .enumerate()
            .map(|(at, (text, _))| {
                *group_of.entry(text.as_str()).or_insert_with(|| {
                    first.push(at);
                    first.len() - 1
                })
            })
            .collect();
        drop(group_of);
        // Counting sort of the needles by group, keeping their order.
        let mut starts = vec![0; first.len() + 1];
        for &group in &groups {
            starts[group + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut filled = starts.clone();
        let mut needles = vec![Needle::Method; pairs.len()];
        let mut texts: Vec<Option<String>> = vec![None; first.len()];
        for ((text, needle), group) in pairs.into_iter().zip(groups) {
            needles[filled[group]] = needle;
            filled[group] += 1;
            texts[group].get_or_insert(text);
        }
        // A needle twice in a group is once.
        let mut out = Needles {
            texts: texts.into_iter().flatten().collect(),
            needles: Vec::with_capacity(needles.len()),
            starts: Vec::with_capacity(starts.len()),
        };
        for group in starts.windows(2) {
            let from = out.needles.len();
            out.starts.push(from);
            for needle in &needles[group[0]..group[1]] {
                if !out.needles[from..].contains(needle) {
                    out.needles.push(*needle);
                }
            }
        }
        out.starts.push(out.needles.len());
        out
    }

    fn of(&self, pattern: usize) -> &[Needle] {
        &self.needles[self.starts[pattern]..self.starts[pattern + 1]]
    }

    /// The strings `pick` says yes to, and the others, each with its needles.
    fn partition(self, pick: impl Fn(&str) -> bool) -> (Needles, Needles) {
        let (mut yes, mut no) = (Needles::default(), Needles::default());
        for (pattern, text) in self.texts.into_iter().enumerate() {
            let side = if pick(&text) { &mut yes } else { &mut no };
            side.starts.push(side.needles.len());
            side.needles
                .extend_from_slice(&self.needles[self.starts[pattern]..self.starts[pattern + 1]]);
            side.texts.push(text);
        }
        for side in [&mut yes, &mut no] {
            side.starts.push(side.needles.len());
        }
        (yes, no)
    }

    /// `other`'s strings after these (none of them among these).
    fn extend(&mut self, other: &Needles) {
        self.starts.pop();
        let offset = self.needles.len();
        self.texts.extend(other.texts.iter().cloned());
        self.needles.extend_from_slice(&other.needles);
        self.starts.extend(other.starts.iter().map(|s| s + offset));
    }
}

/// A search for the marks: with SIMD instructions where the processor has them.
enum Marks {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Marks {
    fn is_match(&self, bytes: &[u8]) -> bool {
        match self {
            Marks::Packed(searcher) => searcher.find(bytes).is_some(),
            Marks::Automaton(automaton) => automaton.is_match(bytes),
        }
    }
}

/// What every SDK method name holds one of (`getBooleanValue`, `get_string_details`,
/// `useFlag`, `BooleanFeatureFlag`): a file without any holds no method name, and is read
/// without them, the more quickly as the other needles start with few distinct bytes.
const MARKS: [&str; 5] = ["Value", "value", "Details", "details", "Flag"];

/// Whether a match of `a` overlaps a match of `b` (both in order, each without overlaps).
fn overlap(a: &[aho_corasick::Match], b: &[aho_corasick::Match]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].end() <= b[j].start() {
            i += 1;
        } else if b[j].end() <= a[i].start() {
            j += 1;
        } else {
            return true;
        }
    }
    false
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
    fn needles_are_grouped_by_string_in_the_order_they_came() {
        let pair = |text: &str, needle| (text.to_string(), needle);
        let needles = Needles::group(vec![
            pair("b", Needle::Key(0)),
            pair("a", Needle::Alias(1)),
            pair("b", Needle::Alias(2)),
            pair("b", Needle::Key(0)),
            pair("a", Needle::Method),
        ]);
        assert_eq!(needles.texts, ["b", "a"]);
        assert_eq!(needles.of(0), [Needle::Key(0), Needle::Alias(2)]);
        assert_eq!(needles.of(1), [Needle::Alias(1), Needle::Method]);
        // Split and joined again, each string keeps its needles.
        let (a, mut b) = needles.clone().partition(|text| text == "a");
        assert_eq!(
            (a.texts.as_slice(), a.of(0)),
            (&["a".to_string()][..], needles.of(1))
        );
        b.extend(&a);
        assert_eq!(b.texts, ["b", "a"]);
        assert_eq!(b.of(0), needles.of(0));
        assert_eq!(b.of(1), needles.of(1));
        assert_eq!(Needles::group(Vec::new()).texts.len(), 0);
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
    fn method_names_read_apart_find_what_one_automaton_finds() {
        let mut config = RefsConfig::default();
        config.aliases.insert(
            "get-flag".into(),
            vec!["getBooleanValue".into(), "Value".into()],
        );
        let targets = targets(&["ranker-v2", "get-flag", "boolean-value", "value"]);
        let matcher = Matcher::new(&targets, &config, true).unwrap();
        assert!(matcher.methods.is_some());
        for text in [
            "client.getBooleanValue(\"ranker-v2\", false)",
            "getBooleanValue getBooleanValueDetails get_flag(\"get-flag\") GetFlag",
            "x.BooleanValue(ctx, \"boolean-value\") \"value\" 'Value' useFlag(\"value\")",
            "ranker_v2 RankerV2 useRankerV2() \"ranker-v2\" no marks at all",
            "get_boolean_value(\"x\") get_flag_details value_value Valueranker-v2",
        ] {
            assert_eq!(
                matcher.find(text.as_bytes()),
                matcher.find_in_one(text.as_bytes()),
                "{text}"
            );
        }
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
