//! A flag file, parsed with spans and checked against the schema.

use std::ops::Range;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;
use toml::value::Datetime;

use super::condition::{Condition, RawCondition, parse_conditions};
use super::config::{Config, Kind};
use super::parse::{from_toml, local_date, toml_to_json};
use super::{Problem, SourceFile};

/// A flag that fits the schema. Positions are byte ranges into its file.
#[derive(Debug, Clone)]
pub struct Flag {
    pub description: String,
    pub kind: Spanned<String>,
    pub owner: Spanned<String>,
    pub created: Spanned<NaiveDate>,
    pub expires: Option<Spanned<NaiveDate>>,
    pub review_by: Option<Spanned<NaiveDate>>,
    pub reviewed: Option<Spanned<NaiveDate>>,
    pub state: State,
    pub tags: Vec<String>,
    pub ticket: Option<String>,
    pub controls: Vec<Spanned<String>>,
    pub conflicts_with: Vec<Spanned<String>>,
    pub requires: Vec<Requirement>,
    pub layer: Option<Layer>,
    pub default: Spanned<String>,
    pub variants: IndexMap<String, Value>,
    pub rules: Vec<Rule>,
    pub conclusion: Option<Conclusion>,
    pub archived: Option<Archived>,
}

pub use crate::eval::State;

#[derive(Debug, Clone)]
pub struct Requirement {
    pub flag: Spanned<String>,
    pub variant: Spanned<String>,
}

/// A mutually exclusive traffic slice: percent range `[from, to)` of a named layer.
/// Ranges outside [0, 100) are left to the `layer-overlap` rule.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub from: i64,
    pub to: i64,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: Option<String>,
    pub segment: Option<String>,
    pub when: Vec<Condition>,
    pub action: Action,
    pub bucket_by: Option<String>,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Serve(String),
    Rollout(Vec<(String, u32)>),
}

#[derive(Debug, Clone)]
pub struct Conclusion {
    pub date: NaiveDate,
    pub winner: String,
    pub remove_by: Spanned<NaiveDate>,
    pub results: Option<String>,
    pub span: Range<usize>,
}

/// Written by `flagctl archive`: when, the last commit that served the flag, and the
/// results of a flag that had no conclusion.
#[derive(Debug, Clone)]
pub struct Archived {
    pub date: NaiveDate,
    pub commit: Option<String>,
    pub results: Option<String>,
}

use super::schema::{Leaf, Shape};

/// The `kind` a flag file names, even when the file does not parse as a flag (so that an
/// undeclared kind is reported with the file's other problems); `None` when the text is
/// not TOML or names no kind.
pub fn named_kind(text: &str) -> Option<Spanned<String>> {
    let (table, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return None;
    }
    let (_, value) = table
        .get_ref()
        .iter()
        .find(|(key, _)| key.get_ref() == "kind")?;
    match value.get_ref() {
        toml::de::DeValue::String(kind) => Some(Spanned::new(value.span(), kind.to_string())),
        _ => None,
    }
}

/// The keys every flag file must have.
const REQUIRED: [&str; 6] = [
    "description",
    "kind",
    "owner",
    "created",
    "default",
    "variants",
];

static REQUIREMENT: Shape = Shape::Table(&[
    ("flag", Shape::Leaf(Leaf::Str)),
    ("variant", Shape::Leaf(Leaf::Str)),
]);
static WEIGHT: Shape = Shape::Table(&[("variant", Shape::Leaf(Leaf::Str)), ("weight", Shape::Any)]);
static RULE: Shape = Shape::Table(&[
    ("name", Shape::Leaf(Leaf::Str)),
    ("segment", Shape::Leaf(Leaf::Str)),
    ("when", Shape::Any),
    ("serve", Shape::Leaf(Leaf::Str)),
    ("rollout", Shape::List(&WEIGHT)),
    ("bucket_by", Shape::Leaf(Leaf::Str)),
]);
/// The keys of a flag file, at every level.
pub(super) static FLAG_SHAPE: Shape = Shape::Table(&[
    ("description", Shape::Leaf(Leaf::Str)),
    ("kind", Shape::Leaf(Leaf::Str)),
    ("owner", Shape::Leaf(Leaf::Str)),
    ("created", Shape::Leaf(Leaf::Date)),
    ("expires", Shape::Leaf(Leaf::Date)),
    ("review_by", Shape::Leaf(Leaf::Date)),
    ("reviewed", Shape::Leaf(Leaf::Date)),
    ("state", Shape::Leaf(Leaf::Str)),
    ("tags", Shape::Leaf(Leaf::Strs)),
    ("ticket", Shape::Leaf(Leaf::Str)),
    ("controls", Shape::Leaf(Leaf::Strs)),
    ("conflicts_with", Shape::Leaf(Leaf::Strs)),
    ("requires", Shape::List(&REQUIREMENT)),
    (
        "layer",
        Shape::Table(&[("name", Shape::Leaf(Leaf::Str)), ("range", Shape::Any)]),
    ),
    ("default", Shape::Leaf(Leaf::Str)),
    ("variants", Shape::Any),
    ("rules", Shape::List(&RULE)),
    (
        "conclusion",
        Shape::Table(&[
            ("date", Shape::Leaf(Leaf::Date)),
            ("winner", Shape::Leaf(Leaf::Str)),
            ("remove_by", Shape::Leaf(Leaf::Date)),
            ("results", Shape::Leaf(Leaf::Str)),
        ]),
    ),
    (
        "archived",
        Shape::Table(&[
            ("date", Shape::Leaf(Leaf::Date)),
            ("commit", Shape::Leaf(Leaf::Str)),
            ("results", Shape::Leaf(Leaf::Str)),
        ]),
    ),
]);

#[derive(Deserialize)]
struct RawFlag {
    description: Spanned<String>,
    kind: Spanned<String>,
    owner: Spanned<String>,
    created: Spanned<Datetime>,
    expires: Option<Spanned<Datetime>>,
    review_by: Option<Spanned<Datetime>>,
    reviewed: Option<Spanned<Datetime>>,
    #[serde(default)]
    state: State,
    #[serde(default)]
    tags: Vec<String>,
    ticket: Option<String>,
    #[serde(default)]
    controls: Vec<Spanned<String>>,
    #[serde(default)]
    conflicts_with: Vec<Spanned<String>>,
    #[serde(default)]
    requires: Vec<Spanned<RawRequirement>>,
    layer: Option<Spanned<RawLayer>>,
    default: Spanned<String>,
    variants: Spanned<IndexMap<String, Spanned<toml::Value>>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    conclusion: Option<Spanned<RawConclusion>>,
    archived: Option<Spanned<RawArchived>>,
}

#[derive(Deserialize)]
struct RawRequirement {
    flag: Spanned<String>,
    variant: Spanned<String>,
}

#[derive(Deserialize)]
struct RawLayer {
    name: String,
    range: Spanned<Vec<i64>>,
}

#[derive(Deserialize)]
struct RawRule {
    name: Option<String>,
    segment: Option<Spanned<String>>,
    #[serde(default)]
    when: Vec<RawCondition>,
    serve: Option<Spanned<String>>,
    rollout: Option<Vec<Spanned<RawWeight>>>,
    bucket_by: Option<String>,
}

#[derive(Deserialize)]
struct RawWeight {
    variant: Spanned<String>,
    weight: Spanned<i64>,
}

#[derive(Deserialize)]
struct RawConclusion {
    date: Spanned<Datetime>,
    winner: Spanned<String>,
    remove_by: Spanned<Datetime>,
    results: Option<String>,
}

#[derive(Deserialize)]
struct RawArchived {
    date: Spanned<Datetime>,
    commit: Option<String>,
    results: Option<String>,
}

impl Flag {
    /// Parses a flag file and checks it against the schema, reporting every problem found.
    /// Kinds and segments come from `config`; an undeclared kind is left to the
    /// `unknown-kind` rule.
    pub fn parse(file: &SourceFile, config: &Config) -> Result<Flag, Vec<Problem>> {
        let (raw, mut problems): (RawFlag, _) = from_toml(&file.text, &FLAG_SHAPE, &REQUIRED)?;
        let mut date = |value: &Spanned<Datetime>, key: &str| {
            local_date(value, key).map_err(|p| problems.push(p)).ok()
        };
        let created = date(&raw.created, "created");
        let expires = raw.expires.as_ref().and_then(|d| date(d, "expires"));
        let review_by = raw.review_by.as_ref().and_then(|d| date(d, "review_by"));
        let reviewed = raw.reviewed.as_ref().and_then(|d| date(d, "reviewed"));
        let conclusion = raw.conclusion.as_ref().and_then(|c| {
            let span = c.span();
            let c = c.get_ref();
            Some(Conclusion {
                date: date(&c.date, "date")?.into_inner(),
                winner: c.winner.get_ref().clone(),
                remove_by: date(&c.remove_by, "remove_by")?,
                results: c.results.clone(),
                span,
            })
        });
        let archived = raw.archived.as_ref().and_then(|a| {
            Some(Archived {
                date: date(&a.get_ref().date, "date")?.into_inner(),
                commit: a.get_ref().commit.clone(),
                results: a.get_ref().results.clone(),
            })
        });

        if raw.description.get_ref().trim().is_empty() {
            problems.push(
                Problem::new(raw.description.span(), "`description` is empty")
                    .with_help("say what the flag changes and why"),
            );
        }

        check_dates(
            &raw,
            created.as_ref(),
            expires.as_ref(),
            config,
            &mut problems,
        );

        let variants = parse_variants(&raw.variants, &mut problems);
        let declared = |name: &Spanned<String>, what: &str, problems: &mut Vec<Problem>| {
            if !variants.is_empty() && !variants.contains_key(name.get_ref()) {
                problems.push(
                    Problem::new(
                        name.span(),
                        format!("{what} `{}` is not a declared variant", name.get_ref()),
                    )
                    .with_help(format!(
                        "declared variants: {}",
                        variants.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        };
        declared(&raw.default, "default", &mut problems);
        if let Some(c) = &raw.conclusion {
            declared(&c.get_ref().winner, "winner", &mut problems);
        }

        let layer = raw
            .layer
            .as_ref()
            .and_then(|l| parse_layer(l, &mut problems));
        let mut rules: Vec<Rule> = raw
            .rules
            .iter()
            .filter_map(|rule| {
                parse_rule(rule, config, &mut problems, &mut |n, w, p| {
                    declared(n, w, p)
                })
            })
            .collect();
        // Held for every flag of the repository: no room for rules that are not there.
        rules.shrink_to_fit();
        let requires = raw
            .requires
            .iter()
            .map(|r| Requirement {
                flag: r.get_ref().flag.clone(),
                variant: r.get_ref().variant.clone(),
            })
            .collect();

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Flag {
            description: raw.description.into_inner(),
            kind: raw.kind,
            owner: raw.owner,
            created: created.expect("a date problem was reported"),
            expires,
            review_by,
            reviewed,
            state: raw.state,
            tags: raw.tags,
            ticket: raw.ticket,
            controls: raw.controls,
            conflicts_with: raw.conflicts_with,
            requires,
            layer,
            default: raw.default,
            variants: {
                let mut variants = variants;
                variants.shrink_to_fit();
                variants
            },
            rules,
            conclusion,
            archived,
        })
    }

    /// Whether the flag is of a temporary kind; `None` when the kind is undeclared.
    pub fn kind_of<'c>(&self, config: &'c Config) -> Option<&'c Kind> {
        config.kinds.get(self.kind.get_ref())
    }
}

fn check_dates(
    raw: &RawFlag,
    created: Option<&Spanned<NaiveDate>>,
    expires: Option<&Spanned<NaiveDate>>,
    config: &Config,
    problems: &mut Vec<Problem>,
) {
    if let (Some(created), Some(expires)) = (created, expires)
        && expires.get_ref() < created.get_ref()
    {
        problems.push(Problem::new(
            expires.span(),
            format!(
                "`expires` ({}) is before `created` ({})",
                expires.get_ref(),
                created.get_ref()
            ),
        ));
    }
    let kind = raw.kind.get_ref();
    match config.kinds.get(kind) {
        Some(Kind::Temporary { max_days }) => {
            if raw.expires.is_none() {
                problems.push(
                    Problem::new(raw.kind.span(), format!("kind `{kind}` needs `expires`"))
                        .with_help(format!(
                            "add `expires = <date>`, at most {max_days} days after `created`"
                        )),
                );
            }
            if let Some(review_by) = &raw.review_by {
                problems.push(
                    Problem::new(
                        review_by.span(),
                        format!("kind `{kind}` is temporary and has no `review_by`"),
                    )
                    .with_help("temporary flags expire; remove `review_by`"),
                );
            }
        }
        Some(Kind::Permanent { review_days }) => {
            if raw.review_by.is_none() {
                problems.push(
                    Problem::new(raw.kind.span(), format!("kind `{kind}` needs `review_by`"))
                        .with_help(format!(
                            "add `review_by = <date>`, at most {review_days} days after `created`"
                        )),
                );
            }
            if let Some(expires) = &raw.expires {
                problems.push(
                    Problem::new(
                        expires.span(),
                        format!("kind `{kind}` is permanent and does not expire"),
                    )
                    .with_help("remove `expires`; permanent flags are reviewed (`review_by`)"),
                );
            }
        }
        None => {}
    }
}

fn parse_variants(
    raw: &Spanned<IndexMap<String, Spanned<toml::Value>>>,
    problems: &mut Vec<Problem>,
) -> IndexMap<String, Value> {
    if raw.get_ref().is_empty() {
        problems.push(
            Problem::new(raw.span(), "`variants` is empty")
                .with_help("declare at least one variant, e.g. `on = true`"),
        );
    }
    let mut variants = IndexMap::new();
    let mut first_type: Option<(&str, &str)> = None;
    for (name, value) in raw.get_ref() {
        if let Some(why) = super::names::name_problem(name) {
            problems.push(Problem::new(
                value.span(),
                format!("variant name `{name}` is not valid: {why}"),
            ));
        }
        let type_name = value.get_ref().type_str();
        match first_type {
            None => first_type = Some((name, type_name)),
            Some((first, first_ty)) if first_ty != type_name => problems.push(
                Problem::new(
                    value.span(),
                    format!(
                        "variant `{name}` is {}, but `{first}` is {}",
                        super::names::with_article(type_name),
                        super::names::with_article(first_ty)
                    ),
                )
                .with_help("all variants of a flag hold values of one type"),
            ),
            Some(_) => {}
        }
        match toml_to_json(value.get_ref()) {
            Ok(json) => {
                variants.insert(name.clone(), json);
            }
            Err(message) => problems.push(Problem::new(value.span(), message)),
        }
    }
    variants
}

fn parse_layer(raw: &Spanned<RawLayer>, problems: &mut Vec<Problem>) -> Option<Layer> {
    let range = &raw.get_ref().range;
    match range.get_ref().as_slice() {
        &[from, to] if from < to => Some(Layer {
            name: raw.get_ref().name.clone(),
            from,
            to,
            span: range.span(),
        }),
        _ => {
            problems.push(
                Problem::new(range.span(), "`range` must be [from, to) with from < to")
                    .with_help("e.g. `range = [0, 20]` for the first fifth of the layer's traffic"),
            );
            None
        }
    }
}

type DeclaredCheck<'a> = dyn FnMut(&Spanned<String>, &str, &mut Vec<Problem>) + 'a;

fn parse_rule(
    raw: &Spanned<RawRule>,
    config: &Config,
    problems: &mut Vec<Problem>,
    declared: &mut DeclaredCheck<'_>,
) -> Option<Rule> {
    let rule = raw.get_ref();
    let before = problems.len();
    if let Some(segment) = &rule.segment
        && !config.segments.contains_key(segment.get_ref())
    {
        let names: Vec<&str> = config.segments.keys().map(String::as_str).collect();
        let problem = Problem::new(
            segment.span(),
            format!("unknown segment `{}`", segment.get_ref()),
        );
        problems.push(
            match super::names::did_you_mean(segment.get_ref(), names.iter().copied()) {
                Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                None if names.is_empty() => {
                    problem.with_help("declare it under [segments] in flagctl.toml")
                }
                None => {
                    problem.with_help(format!("segments in flagctl.toml: {}", names.join(", ")))
                }
            },
        );
    }
    let when = parse_conditions(&rule.when, problems);
    let action = match (&rule.serve, &rule.rollout) {
        (Some(serve), None) => {
            declared(serve, "serve", problems);
            Some(Action::Serve(serve.get_ref().clone()))
        }
        (None, Some(rollout)) => parse_rollout(raw.span(), rollout, problems, declared),
        _ => {
            problems.push(
                Problem::new(
                    raw.span(),
                    "a rule needs exactly one of `serve` or `rollout`",
                )
                .with_help(
                    "`serve = \"variant\"`, or `rollout = [{ variant = \"a\", weight = 10 }, …]`",
                ),
            );
            None
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(Rule {
        name: rule.name.clone(),
        segment: rule.segment.as_ref().map(|s| s.get_ref().clone()),
        when,
        action: action?,
        bucket_by: rule.bucket_by.clone(),
        span: raw.span(),
    })
}

fn parse_rollout(
    span: Range<usize>,
    raw: &[Spanned<RawWeight>],
    problems: &mut Vec<Problem>,
    declared: &mut DeclaredCheck<'_>,
) -> Option<Action> {
    let mut entries: Vec<(String, u32)> = Vec::new();
    for entry in raw {
        let RawWeight { variant, weight } = entry.get_ref();
        declared(variant, "rollout variant", problems);
        if raw
            .iter()
            .take_while(|e| !std::ptr::eq(*e, entry))
            .any(|e| e.get_ref().variant.get_ref() == variant.get_ref())
        {
            problems.push(
                Problem::new(
                    variant.span(),
                    format!(
                        "variant `{}` appears twice in the rollout",
                        variant.get_ref()
                    ),
                )
                .with_help("give each variant one entry, with its whole weight"),
            );
        }
        match u32::try_from(*weight.get_ref()) {
            Ok(w) => entries.push((variant.get_ref().clone(), w)),
            Err(_) => problems.push(
                Problem::new(
                    weight.span(),
                    format!("weight {} is not a non-negative integer", weight.get_ref()),
                )
                .with_help("weights are relative shares such as 10 and 90"),
            ),
        }
    }
    let total: u64 = entries.iter().map(|(_, w)| u64::from(*w)).sum();
    if entries.len() == raw.len() && total == 0 {
        problems.push(
            Problem::new(span.clone(), "the rollout's weights sum to 0")
                .with_help("give at least one variant a positive weight"),
        );
    }
    if total > crate::eval::MAX_TOTAL_WEIGHT {
        problems.push(
            Problem::new(
                span,
                format!(
                    "the rollout's weights sum to {total}, more than flagd accepts ({})",
                    crate::eval::MAX_TOTAL_WEIGHT
                ),
            )
            .with_help("weights are relative shares: scale them down, such as 10 and 90"),
        );
    }
    Some(Action::Rollout(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
description = "Route 10% of SG traffic to ranker v2"
kind = "experiment"
owner = "team-ranking"
created = 2026-11-01
expires = 2026-12-01
controls = ["model:ranker"]
requires = [{ flag = "ranker-kill-switch", variant = "on" }]
layer = { name = "ranking", range = [0, 20] }
default = "baseline"

[variants]
baseline = { model = "ranker", version = "1.4.0" }
candidate = { model = "ranker", version = "2.0.0" }

[[rules]]
name = "qa"
when = [{ attr = "email", ends_with = "@example.com" }]
serve = "candidate"

[[rules]]
name = "sg-10pct"
segment = "sg-users"
rollout = [{ variant = "candidate", weight = 10 }, { variant = "baseline", weight = 90 }]
bucket_by = "user_id"
"#;

    fn config() -> Config {
        let text = "[segments.sg-users]\nwhen = [{ attr = \"country\", in = [\"SG\"] }]\n";
        Config::parse(&SourceFile::new("flagctl.toml", text)).unwrap()
    }

    fn parse(text: &str) -> Result<Flag, Vec<Problem>> {
        Flag::parse(&SourceFile::new("flags/ranking/x.toml", text), &config())
    }

    fn messages(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn parses_the_readme_example() {
        let flag = parse(GOOD).unwrap();
        assert_eq!(flag.created.get_ref().to_string(), "2026-11-01");
        assert_eq!(flag.variants.len(), 2);
        assert_eq!(
            flag.rules[1].action,
            Action::Rollout(vec![("candidate".into(), 10), ("baseline".into(), 90)])
        );
        assert_eq!(flag.layer.as_ref().map(|l| (l.from, l.to)), Some((0, 20)));
        assert_eq!(flag.requires[0].variant.get_ref(), "on");
        assert_eq!(flag.state, State::Enabled);
    }

    #[test]
    fn reports_every_schema_problem_of_a_file() {
        let text = GOOD
            .replace("serve = \"candidate\"", "serve = \"champion\"")
            .replace("weight = 10", "weight = -1")
            .replace("segment = \"sg-users\"", "segment = \"sg-user\"")
            .replace("expires = 2026-12-01", "expires = 2026-10-01")
            .replace("ends_with = ", "endswith = ");
        let found = messages(&text);
        assert!(
            found.iter().any(|m| m.contains("before `created`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("unknown segment `sg-user`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("unknown operator `endswith`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("serve `champion` is not a declared variant")),
            "{found:?}"
        );
        assert!(found.iter().any(|m| m.contains("weight -1")), "{found:?}");
    }

    #[test]
    fn kind_decides_which_date_is_required() {
        let found = messages(&GOOD.replace("expires = 2026-12-01\n", ""));
        assert_eq!(found, ["kind `experiment` needs `expires`"]);
        let found = messages(&GOOD.replace("kind = \"experiment\"", "kind = \"kill-switch\""));
        assert!(
            found.iter().any(|m| m.contains("needs `review_by`")),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_and_mixed_variants_are_refused() {
        assert!(
            messages(&GOOD.replace("created = 2026-11-01", "created = \"2026-11-01\""))[0]
                .contains("`created` must be a date such as 2026-11-01, not a string")
        );
        let found = messages(&GOOD.replace("candidate = { model", "candidate = 3 #"));
        assert!(
            found[0].contains("variant `candidate` is an integer"),
            "{found:?}"
        );
        let found = messages(
            &GOOD
                .replace("weight = 10", "weight = 0")
                .replace("weight = 90", "weight = 0"),
        );
        assert_eq!(found, ["the rollout's weights sum to 0"]);
        let found = messages(
            &GOOD
                .replace("weight = 10", "weight = 4294967295")
                .replace("weight = 90", "weight = 4294967295"),
        );
        assert!(
            found
                .iter()
                .any(|m| m.contains("more than flagd accepts (2147483647)")),
            "{found:?}"
        );
        let found = messages(&GOOD.replace(
            "{ variant = \"baseline\", weight = 90 }",
            "{ variant = \"candidate\", weight = 90 }",
        ));
        assert_eq!(found, ["variant `candidate` appears twice in the rollout"]);
        let found = messages(&GOOD.replace("range = [0, 20]", "range = [30, 20]"));
        assert!(found[0].contains("`range` must be"), "{found:?}");
    }

    #[test]
    fn the_first_problem_points_at_its_line() {
        let text = "description = \"x\"\nkind = \"experiment\"\nowner = = 3\n";
        let problems = parse(text).unwrap_err();
        let file = SourceFile::new("x", text);
        assert_eq!(file.line_col(problems[0].span.start).0, 3);
    }
}
