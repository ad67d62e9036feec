//! `flagctl.toml`: policy, kinds, owners, services, segments and severities.
//!
//! Every part is optional; what is missing takes its default. Declared kinds
//! are added to (or replace) the default kinds of the same name.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::condition::{Condition, RawCondition, parse_conditions};
use super::names::name_problem;
use super::parse::from_toml;
use super::schema::{Leaf, Shape};
use super::{Problem, SourceFile};
use crate::eval::Fractional;
use crate::rules::{RuleId, Severity};

pub const CONFIG_FILE: &str = "flagctl.toml";

/// The longest period, in days, a setting may name: a century.
pub(super) const MAX_DAYS: u32 = 36_500;

/// The validated configuration of a flag repository.
#[derive(Debug, Clone)]
pub struct Config {
    pub flags_dir: String,
    pub policy: Policy,
    pub kinds: IndexMap<String, Kind>,
    /// `warn_days` declared per kind; other kinds take [`Config::warn_days_for`]'s default.
    pub kind_warn_days: IndexMap<String, u32>,
    pub owners: IndexMap<String, Owner>,
    pub services: IndexMap<String, ServiceConfig>,
    pub segments: IndexMap<String, Vec<Condition>>,
    pub severity: IndexMap<RuleId, Option<Severity>>,
    pub refs: RefsConfig,
    pub cleanup: CleanupConfig,
    pub export: Export,
}

/// `[export]`: how flags are exported to flagd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Export {
    /// The bucketing of the flagd release that serves the export; rollouts and layers are
    /// evaluated with it too.
    pub fractional: Fractional,
}

/// `[policy]`: the limits every service and flag is held to.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Policy {
    /// How many active flags a service may carry, unless `[services.NAME] max_flags` says otherwise.
    pub max_flags_per_service: usize,
    /// Days before `expires` or `review_by` that a flag is reported as `expiring-soon` or `review-due-soon`.
    #[schemars(range(max = MAX_DAYS))]
    pub warn_days: u32,
    /// Days a concluded flag may stay active before it must be archived (`remove_by` = conclusion date + this).
    #[schemars(range(max = MAX_DAYS))]
    pub removal_grace_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_flags_per_service: 25,
            warn_days: 7,
            removal_grace_days: 30,
        }
    }
}

/// A kind of flag: temporary ones expire after `max_days`, permanent ones are reviewed
/// every `review_days`.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Temporary { max_days: u32 },
    Permanent { review_days: u32 },
}

impl Kind {
    pub fn is_temporary(&self) -> bool {
        matches!(self, Kind::Temporary { .. })
    }
}

/// `[owners.NAME]`: a team that may own flags, and how to reach it.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Owner {
    /// An e-mail address, shown in reminders.
    pub contact: Option<String>,
    /// A Slack channel or handle, shown in reminders.
    pub slack: Option<String>,
}

/// `[services.NAME]`: limits of one service (a folder under the flags folder).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ServiceConfig {
    /// How many active flags the service may carry (default: `max_flags_per_service`).
    pub max_flags: Option<usize>,
    /// The owners allowed to own flags in this service (default: any declared owner).
    pub owners: Option<Vec<String>>,
}

/// `[refs]`: where and how `refs`, `audit --refs`, `report` and `cleanup` find code
/// references to flags.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct RefsConfig {
    /// Folders and files to scan, relative to the repository root (default: the whole
    /// repository; `refs PATHS…` replaces them).
    pub paths: Vec<String>,
    /// Globs of paths to leave out, on top of `.gitignore` and `.ignore`, such as
    /// `**/testdata/**`.
    pub exclude: Vec<String>,
    /// What must stand right before and right after a key for it to count (1 to 8
    /// characters each).
    pub delimiters: Vec<String>,
    /// Other names a flag goes by in code, by flag key: matched as whole identifiers.
    pub aliases: IndexMap<String, Vec<String>>,
    /// The forms of each key of two or more words that count as aliases (`ranker-v2` →
    /// `ranker_v2`, `RANKER_V2`, `rankerV2`, `RankerV2`, `ranker-v2`, `ranker.v2`);
    /// `[]` turns them off.
    pub case_forms: Vec<CaseForm>,
    /// Regular expressions with a named group `key`, for in-house wrappers such as
    /// `flag\("(?P<key>[^"]+)"\)`.
    pub patterns: Vec<String>,
}

impl Default for RefsConfig {
    fn default() -> Self {
        RefsConfig {
            paths: vec![".".into()],
            exclude: Vec::new(),
            delimiters: ["\"", "'", "`"].map(String::from).to_vec(),
            aliases: IndexMap::new(),
            case_forms: CaseForm::ALL.to_vec(),
            patterns: Vec::new(),
        }
    }
}

/// A generated spelling of a flag key in code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
pub enum CaseForm {
    #[serde(rename = "snake_case")]
    Snake,
    #[serde(rename = "UPPER_SNAKE")]
    UpperSnake,
    #[serde(rename = "camelCase")]
    Camel,
    #[serde(rename = "PascalCase")]
    Pascal,
    #[serde(rename = "kebab-case")]
    Kebab,
    #[serde(rename = "dot.case")]
    Dot,
}

impl CaseForm {
    pub const ALL: [CaseForm; 6] = [
        CaseForm::Snake,
        CaseForm::UpperSnake,
        CaseForm::Camel,
        CaseForm::Pascal,
        CaseForm::Kebab,
        CaseForm::Dot,
    ];

    /// The key in this form, when the key has two or more words (split at `-`, `_`
    /// and `.`); one word would match every identifier of that name.
    pub fn apply(self, key: &str) -> Option<String> {
        let words: Vec<&str> = key
            .split(['-', '_', '.'])
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() < 2 {
            return None;
        }
        let capital = |w: &str| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        };
        Some(match self {
            CaseForm::Snake => words.join("_"),
            CaseForm::UpperSnake => words.join("_").to_ascii_uppercase(),
            CaseForm::Camel => {
                words[0].to_string() + &words[1..].iter().map(|w| capital(w)).collect::<String>()
            }
            CaseForm::Pascal => words.iter().map(|w| capital(w)).collect(),
            CaseForm::Kebab => words.join("-"),
            CaseForm::Dot => words.join("."),
        })
    }

    /// Whether the form is an identifier (matched at word boundaries) rather than a
    /// string (matched between delimiters, like a key).
    pub fn is_identifier(self) -> bool {
        !matches!(self, CaseForm::Kebab | CaseForm::Dot)
    }
}

/// `[cleanup]`: when a finished flag is ready to be removed.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct CleanupConfig {
    /// The youngest a temporary flag may be, in days, to be ready for removal.
    #[schemars(range(max = MAX_DAYS))]
    pub min_age_days: u32,
    /// Days without a change to a flag's targeting before it is ready for removal.
    #[schemars(range(max = MAX_DAYS))]
    pub stable_days: u32,
    /// Rules `flagctl cleanup` adds to those of a language: an in-house wrapper to rewrite
    /// (a pattern with `$KEY`), or another simplification.
    #[schemars(length(max = MAX_CLEANUP_RULES))]
    pub rules: Vec<CleanupRule>,
}

/// A rule of `[[cleanup.rules]]`: an ast-grep pattern of a language and its rewrite.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CleanupRule {
    /// A name for messages (default: `flagctl.toml rule N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The language family the pattern is written in.
    #[schemars(extend("enum" = CLEANUP_LANGUAGES))]
    pub language: String,
    /// An ast-grep pattern: `$KEY` (the flag key's string literal) makes it a wrapper whose
    /// match is replaced by the flag's value; `$X` stands for any node, `$$$X` for several.
    #[schemars(length(min = 1, max = MAX_CLEANUP_RULE_BYTES))]
    pub pattern: String,
    /// What replaces a match: `$VALUE` is the winning value, `$X` what `$X` matched
    /// (default for a wrapper: `$VALUE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_CLEANUP_RULE_BYTES))]
    pub rewrite: Option<String>,
}

/// The language families `[[cleanup.rules]]` may name (JavaScript covers TypeScript).
pub const CLEANUP_LANGUAGES: [&str; 5] = ["python", "javascript", "go", "java", "rust"];
/// The most `[[cleanup.rules]]`, and the longest pattern or rewrite.
pub const MAX_CLEANUP_RULES: usize = 64;
pub const MAX_CLEANUP_RULE_BYTES: usize = 2_000;

impl Default for CleanupConfig {
    fn default() -> Self {
        CleanupConfig {
            min_age_days: 30,
            stable_days: 7,
            rules: Vec::new(),
        }
    }
}

/// The most patterns `[refs]` may hold, and the largest compiled size of one: a
/// hostile `flagctl.toml` must not make every scan slow.
pub const MAX_REF_PATTERNS: usize = 64;
pub const MAX_PATTERN_BYTES: usize = 1 << 20;

/// Compiles a `[refs]` pattern: bounded in size, with a named group `key`.
pub fn compile_ref_pattern(pattern: &str) -> Result<regex::Regex, String> {
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(MAX_PATTERN_BYTES)
        .build()
        .map_err(|e| {
            // A syntax error quotes the pattern with a caret over lines of its own; the
            // last line says what is wrong, and the message stays on one line.
            let text = e.to_string();
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            last.map_or(text.clone(), |l| {
                l.trim().trim_start_matches("error: ").to_string()
            })
        })?;
    if !regex.capture_names().any(|name| name == Some("key")) {
        return Err("it has no named group `key`, such as `(?P<key>[a-z0-9._-]+)`".into());
    }
    Ok(regex)
}

/// Compiles the `exclude` globs of `[refs]`.
pub fn compile_excludes(globs: &[String]) -> Result<globset::GlobSet, String> {
    let mut set = globset::GlobSetBuilder::new();
    for glob in globs {
        set.add(globset::Glob::new(glob).map_err(|e| format!("`{glob}`: {e}"))?);
    }
    set.build().map_err(|e| e.to_string())
}

/// The levels a rule may be set to under `[severity]`: `off` turns it off.
pub(super) const SEVERITY_LEVELS: [(&str, Option<Severity>); 3] = [
    ("error", Some(Severity::Error)),
    ("warning", Some(Severity::Warning)),
    ("off", None),
];

/// The keys of `flagctl.toml`, at every level.
pub(super) static CONFIG_SHAPE: Shape = Shape::Table(&[
    ("flags_dir", Shape::Leaf(Leaf::Str)),
    (
        "policy",
        Shape::Table(&[
            ("max_flags_per_service", Shape::Leaf(Leaf::Count)),
            ("warn_days", Shape::Leaf(Leaf::Count)),
            ("removal_grace_days", Shape::Leaf(Leaf::Count)),
        ]),
    ),
    (
        "kinds",
        Shape::Map(&Shape::Table(&[
            ("temporary", Shape::Leaf(Leaf::Bool)),
            ("max_days", Shape::Leaf(Leaf::Count)),
            ("review_days", Shape::Leaf(Leaf::Count)),
            ("warn_days", Shape::Leaf(Leaf::Count)),
        ])),
    ),
    (
        "owners",
        Shape::Map(&Shape::Table(&[
            ("contact", Shape::Leaf(Leaf::Str)),
            ("slack", Shape::Leaf(Leaf::Str)),
        ])),
    ),
    (
        "services",
        Shape::Map(&Shape::Table(&[
            ("max_flags", Shape::Leaf(Leaf::Count)),
            ("owners", Shape::Leaf(Leaf::Strs)),
        ])),
    ),
    (
        "segments",
        Shape::Map(&Shape::Table(&[("when", Shape::Any)])),
    ),
    ("severity", Shape::Map(&Shape::Leaf(Leaf::Str))),
    (
        "refs",
        Shape::Table(&[
            ("paths", Shape::Leaf(Leaf::Strs)),
            ("exclude", Shape::Leaf(Leaf::Strs)),
            ("delimiters", Shape::Leaf(Leaf::Strs)),
            ("aliases", Shape::Map(&Shape::Leaf(Leaf::Strs))),
            ("case_forms", Shape::Leaf(Leaf::Strs)),
            ("patterns", Shape::Leaf(Leaf::Strs)),
        ]),
    ),
    (
        "cleanup",
        Shape::Table(&[
            ("min_age_days", Shape::Leaf(Leaf::Count)),
            ("stable_days", Shape::Leaf(Leaf::Count)),
            (
                "rules",
                Shape::List(&Shape::Table(&[
                    ("name", Shape::Leaf(Leaf::Str)),
                    ("language", Shape::Leaf(Leaf::Str)),
                    ("pattern", Shape::Leaf(Leaf::Str)),
                    ("rewrite", Shape::Leaf(Leaf::Str)),
                ])),
            ),
        ]),
    ),
    (
        "export",
        Shape::Table(&[("fractional", Shape::Leaf(Leaf::Str))]),
    ),
]);

#[derive(Deserialize)]
struct RawConfig {
    flags_dir: Option<Spanned<String>>,
    policy: Option<Spanned<Policy>>,
    #[serde(default)]
    kinds: IndexMap<String, Spanned<RawKind>>,
    #[serde(default)]
    owners: IndexMap<String, Owner>,
    #[serde(default)]
    services: IndexMap<String, Spanned<ServiceConfig>>,
    #[serde(default)]
    segments: IndexMap<String, Spanned<RawSegment>>,
    #[serde(default)]
    severity: IndexMap<Spanned<String>, Spanned<String>>,
    refs: Option<Spanned<RefsConfig>>,
    cleanup: Option<Spanned<CleanupConfig>>,
    export: Option<RawExport>,
}

#[derive(Deserialize)]
struct RawExport {
    fractional: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct RawKind {
    #[serde(default)]
    temporary: bool,
    max_days: Option<u32>,
    review_days: Option<u32>,
    warn_days: Option<u32>,
}

#[derive(Deserialize)]
struct RawSegment {
    when: Vec<RawCondition>,
}

impl Default for Config {
    fn default() -> Self {
        let temporary = |max_days| Kind::Temporary { max_days };
        let permanent = |review_days| Kind::Permanent { review_days };
        let kinds = [
            ("experiment", temporary(30)),
            ("release", temporary(30)),
            ("operational", temporary(7)),
            ("kill-switch", permanent(90)),
            ("regulatory", permanent(90)),
            ("parameter", permanent(90)),
        ];
        Config {
            flags_dir: "flags".into(),
            policy: Policy::default(),
            kinds: kinds.into_iter().map(|(n, k)| (n.to_string(), k)).collect(),
            kind_warn_days: IndexMap::new(),
            owners: IndexMap::new(),
            services: IndexMap::new(),
            segments: IndexMap::new(),
            severity: IndexMap::new(),
            refs: RefsConfig::default(),
            cleanup: CleanupConfig::default(),
            export: Export::default(),
        }
    }
}

impl Config {
    /// Parses and validates `flagctl.toml`, reporting every problem found.
    pub fn parse(file: &SourceFile) -> Result<Config, Vec<Problem>> {
        let (raw, mut problems): (RawConfig, _) = from_toml(&file.text, &CONFIG_SHAPE, &[])?;
        let mut config = Config::default();

        if let Some(dir) = raw.flags_dir {
            let path = std::path::Path::new(dir.get_ref());
            let escapes = path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if escapes {
                problems.push(
                    Problem::new(
                        dir.span(),
                        "`flags_dir` must be a folder inside the repository",
                    )
                    .with_help("use a relative path such as \"flags\""),
                );
            }
            let normal: Vec<&str> = dir
                .get_ref()
                .split('/')
                .filter(|part| !part.is_empty() && *part != ".")
                .collect();
            if !escapes && normal.iter().any(|part| part.eq_ignore_ascii_case(".git")) {
                problems.push(
                    Problem::new(dir.span(), "`flags_dir` must not be inside `.git`")
                        .with_help("flags live in the work tree; use a folder such as \"flags\""),
                );
            }
            if normal.is_empty() && !escapes {
                problems.push(
                    Problem::new(dir.span(), "`flags_dir` must be a folder below the repository root")
                        .with_help("the root holds flagctl.toml and templates/; use a folder such as \"flags\""),
                );
            }
            config.flags_dir = normal.join("/");
        }
        let policy_span = raw.policy.as_ref().map_or(0..0, |p| p.span());
        config.policy = raw.policy.map(Spanned::into_inner).unwrap_or_default();
        let policy = &config.policy;
        for (name, days) in [
            ("warn_days", policy.warn_days),
            ("removal_grace_days", policy.removal_grace_days),
        ] {
            if days > MAX_DAYS {
                problems.push(Problem::new(
                    policy_span.clone(),
                    format!("`{name}` = {days} is more than {MAX_DAYS} days (a century)"),
                ));
            }
        }

        for (name, kind) in raw.kinds {
            let span = kind.span();
            let kind = kind.into_inner();
            let parsed = match (kind.temporary, kind.max_days, kind.review_days) {
                (true, Some(max_days), None) => Ok(Kind::Temporary { max_days }),
                (false, None, Some(review_days)) => Ok(Kind::Permanent { review_days }),
                (true, _, _) => Err("a temporary kind needs `max_days` and no `review_days`"),
                (false, _, _) => Err(
                    "a permanent kind needs `review_days` (or `temporary = true` with `max_days`)",
                ),
            };
            let days = kind.max_days.or(kind.review_days).unwrap_or(0);
            let parsed = parsed.and_then(|k| {
                if days > MAX_DAYS {
                    Err("`max_days` and `review_days` are at most 36500 (a century)")
                } else {
                    Ok(k)
                }
            });
            let parsed = parsed.and_then(|k| match kind.warn_days {
                Some(warn) if warn > days => {
                    Err("`warn_days` is at most the kind's `max_days` or `review_days`")
                }
                _ => Ok(k),
            });
            match parsed {
                Ok(parsed) => {
                    match kind.warn_days {
                        Some(warn) => config.kind_warn_days.insert(name.clone(), warn),
                        None => config.kind_warn_days.shift_remove(&name),
                    };
                    config.kinds.insert(name, parsed);
                }
                Err(message) => {
                    problems.push(Problem::new(span, format!("kind `{name}`: {message}")))
                }
            }
        }

        config.owners = raw.owners;
        for (name, service) in raw.services {
            if let Some(why) = name_problem(&name) {
                problems.push(Problem::new(
                    service.span(),
                    format!("service name `{name}` is not valid: {why}"),
                ));
            }
            for owner in service.get_ref().owners.iter().flatten() {
                if !config.owners.is_empty() && !config.owners.contains_key(owner) {
                    problems.push(
                        Problem::new(
                            service.span(),
                            format!(
                                "service `{name}` allows owner `{owner}`, who is not in [owners]"
                            ),
                        )
                        .with_help("declare the owner under [owners] or fix the name"),
                    );
                }
            }
            config.services.insert(name, service.into_inner());
        }

        for (name, segment) in raw.segments {
            let conditions = parse_conditions(&segment.get_ref().when, &mut problems);
            config.segments.insert(name, conditions);
        }

        for (rule, level) in raw.severity {
            let (rule_span, rule) = (rule.span(), rule.into_inner());
            let Some(id) = RuleId::from_name(&rule) else {
                let names = RuleId::ALL.map(RuleId::name);
                let problem = Problem::new(rule_span, format!("unknown rule `{rule}`"));
                problems.push(match super::names::did_you_mean(&rule, names) {
                    Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                    None => problem.with_help(format!("rules: {}", names.join(", "))),
                });
                continue;
            };
            match SEVERITY_LEVELS
                .iter()
                .find(|(name, _)| name == level.get_ref())
            {
                Some((_, severity)) => {
                    config.severity.insert(id, *severity);
                }
                None => problems.push(
                    Problem::new(
                        level.span(),
                        format!("unknown severity {:?}", level.get_ref()),
                    )
                    .with_help("use \"error\", \"warning\" or \"off\""),
                ),
            }
        }

        if let Some(refs) = raw.refs {
            let span = refs.span();
            config.refs = refs.into_inner();
            for (field, problem) in refs_problems(&config.refs) {
                let at = field_in_table(&file.text, &span, field).unwrap_or(span.clone());
                problems.push(Problem::new(at, problem));
            }
        }
        if let Some(cleanup) = raw.cleanup {
            let span = cleanup.span();
            config.cleanup = cleanup.into_inner();
            let cleanup = &config.cleanup;
            for (name, days) in [
                ("min_age_days", cleanup.min_age_days),
                ("stable_days", cleanup.stable_days),
            ] {
                if days > MAX_DAYS {
                    problems.push(Problem::new(
                        span.clone(),
                        format!(
                            "[cleanup] `{name}` = {days} is more than {MAX_DAYS} days (a century)"
                        ),
                    ));
                }
            }
            for problem in cleanup_rule_problems(&cleanup.rules) {
                problems.push(Problem::new(span.clone(), problem));
            }
        }
        if let Some(fractional) = raw.export.and_then(|export| export.fractional) {
            match Fractional::from_name(fractional.get_ref()) {
                Some(version) => config.export.fractional = version,
                None => problems.push(
                    Problem::new(
                        fractional.span(),
                        format!("unknown fractional version {:?}", fractional.get_ref()),
                    )
                    .with_help(
                        "use \"v2\" (flagd's bucketing since open-feature/flagd#1909, the default) or \"v3\" (canonical CBOR, as openfeature-flagd-core 2.0.0 buckets)",
                    ),
                ),
            }
        }

        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Why `owner` may not own a flag in `service`, or `None` when it may.
    pub fn owner_problem(&self, owner: &str, service: &str) -> Option<String> {
        let config = self;
        if owner.trim().is_empty() {
            return Some("the owner is empty".into());
        }
        if config.owners.is_empty() {
            let looks_like_contact = owner.starts_with('@') || owner.contains('@');
            return (!looks_like_contact)
                .then(|| format!("`{owner}` is neither an e-mail nor an @handle, and flagctl.toml declares no [owners]"));
        }
        if !config.owners.contains_key(owner) {
            let names: Vec<&str> = config.owners.keys().map(String::as_str).collect();
            let hint = crate::model::names::did_you_mean(owner, names.iter().copied())
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Some(format!(
                "`{owner}` is not in [owners]; {hint}owners: {}",
                names.join(", ")
            ));
        }
        let allowed = config.services.get(service).and_then(|s| s.owners.as_ref());
        match allowed {
            Some(allowed) if !allowed.iter().any(|o| o == owner) => Some(format!(
                "`{owner}` may not own flags in service `{service}`; allowed: {}",
                allowed.join(", ")
            )),
            _ => None,
        }
    }

    /// How many days before a deadline a flag of `kind` is `expiring-soon` or
    /// `review-due-soon`: the kind's own `warn_days`, else the policy's, but at most half
    /// the kind's lifetime, so that a 7-day kind is not "soon" from the day it is made.
    pub fn warn_days_for(&self, kind: &str) -> u32 {
        if let Some(days) = self.kind_warn_days.get(kind) {
            return *days;
        }
        match self.kinds.get(kind) {
            Some(Kind::Temporary { max_days: days } | Kind::Permanent { review_days: days }) => {
                self.policy.warn_days.min(days / 2)
            }
            None => self.policy.warn_days,
        }
    }

    /// The declared kinds, for messages: `experiment, release, …`.
    pub fn kind_names(&self) -> String {
        self.kinds.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// The flag limit of a service: its own `max_flags`, else the policy's.
    pub fn service_limit(&self, service: &str) -> usize {
        self.services
            .get(service)
            .and_then(|s| s.max_flags)
            .unwrap_or(self.policy.max_flags_per_service)
    }
}

/// What is wrong with `[[cleanup.rules]]`, one message each (a pattern is compiled when
/// `cleanup` runs, by the language's grammar).
fn cleanup_rule_problems(rules: &[CleanupRule]) -> Vec<String> {
    let mut problems = Vec::new();
    if rules.len() > MAX_CLEANUP_RULES {
        problems.push(format!(
            "[cleanup] has {} rules; at most {MAX_CLEANUP_RULES} are allowed",
            rules.len()
        ));
    }
    for (index, rule) in rules.iter().enumerate().take(MAX_CLEANUP_RULES) {
        let at = format!("[[cleanup.rules]] #{}", index + 1);
        if !CLEANUP_LANGUAGES.contains(&rule.language.as_str()) {
            let near = crate::model::names::did_you_mean(&rule.language, CLEANUP_LANGUAGES)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            problems.push(format!(
                "{at}: unknown language {:?}{near}; use one of {}",
                rule.language,
                CLEANUP_LANGUAGES.join(", ")
            ));
        }
        if rule.pattern.trim().is_empty() {
            problems.push(format!("{at}: the pattern is empty"));
        }
        let longest = rule
            .pattern
            .len()
            .max(rule.rewrite.as_ref().map_or(0, String::len));
        if longest > MAX_CLEANUP_RULE_BYTES {
            problems.push(format!(
                "{at}: a pattern or rewrite is at most {MAX_CLEANUP_RULE_BYTES} bytes"
            ));
        }
    }
    problems
}

/// Where `field = …` starts on a line of its own in the table whose header (or inline
/// value) is at `table` in `text`: up to the next table header. A problem then points at
/// the line at fault rather than at the table.
fn field_in_table(
    text: &str,
    table: &std::ops::Range<usize>,
    field: &str,
) -> Option<std::ops::Range<usize>> {
    let mut offset = table.end;
    for line in text.get(table.end..)?.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') && offset > table.end {
            return None;
        }
        if let Some(rest) = trimmed.strip_prefix(field)
            && rest.trim_start().starts_with('=')
        {
            let start = offset + (line.len() - trimmed.len());
            return Some(start..start + field.len());
        }
        offset += line.len();
    }
    None
}

/// What is wrong with a `[refs]` table, one message each, with the field at fault.
fn refs_problems(refs: &RefsConfig) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    for path in &refs.paths {
        let p = std::path::Path::new(path);
        if path.is_empty()
            || p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            problems.push(("paths", format!(
                "[refs] path {path:?} must be a folder or file inside the repository (relative, without `..`)"
            )));
        }
    }
    if let Err(why) = compile_excludes(&refs.exclude) {
        problems.push(("exclude", format!("[refs] exclude: {why}")));
    }
    for delimiter in &refs.delimiters {
        if delimiter.is_empty() || delimiter.len() > 8 || delimiter.trim().is_empty() {
            problems.push((
                "delimiters",
                format!(
                    "[refs] delimiter {delimiter:?} must be 1 to 8 characters, not only spaces"
                ),
            ));
        }
    }
    for (key, aliases) in &refs.aliases {
        for alias in aliases {
            if alias.trim().is_empty() || alias.len() > 200 {
                problems.push((
                    "aliases",
                    format!(
                        "[refs] alias {alias:?} of `{key}` must be 1 to 200 characters, not only spaces"
                    ),
                ));
            }
        }
    }
    if refs.patterns.len() > MAX_REF_PATTERNS {
        problems.push((
            "patterns",
            format!(
                "[refs] has {} patterns; at most {MAX_REF_PATTERNS} are allowed",
                refs.patterns.len()
            ),
        ));
    }
    for pattern in refs.patterns.iter().take(MAX_REF_PATTERNS) {
        if let Err(why) = compile_ref_pattern(pattern) {
            problems.push((
                "patterns",
                format!("[refs] pattern {pattern:?} is not usable: {why}"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<Problem>> {
        Config::parse(&SourceFile::new(CONFIG_FILE, text))
    }

    #[test]
    fn a_refs_problem_points_at_its_field() {
        let text = "# c\n\n[refs]\nexclude = []\npaths = [\"src\", \"../x\"]\n[policy]\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span.start, text.find("paths").unwrap());
        // A regex's error is one line: what is wrong, not the pattern drawn again.
        let problems = parse("[refs]\npatterns = [\"(x\"]\n").unwrap_err();
        assert!(
            problems[0].message.ends_with("unclosed group"),
            "{problems:?}"
        );
        // An inline table: the table.
        let problems = parse("refs = { paths = [\"../x\"] }\n").unwrap_err();
        assert_eq!(problems[0].span.start, "refs = ".len());
    }

    #[test]
    fn an_empty_file_takes_every_default() {
        let config = parse("").unwrap();
        assert_eq!(config.flags_dir, "flags");
        assert_eq!(config.policy.max_flags_per_service, 25);
        assert_eq!(config.kinds["experiment"], Kind::Temporary { max_days: 30 });
        assert_eq!(
            config.kinds["kill-switch"],
            Kind::Permanent { review_days: 90 }
        );
        assert_eq!(config.service_limit("any"), 25);
    }

    #[test]
    fn declared_parts_override_defaults() {
        let config = parse(
            "[policy]\nwarn_days = 3\n[kinds.experiment]\ntemporary = true\nmax_days = 14\n\
             [kinds.canary]\ntemporary = true\nmax_days = 2\n[services.ranking]\nmax_flags = 30\n\
             [segments.sg]\nwhen = [{ attr = \"country\", in = [\"SG\"] }]\n[severity]\nexpiring-soon = \"error\"\n",
        )
        .unwrap();
        assert_eq!(config.policy.warn_days, 3);
        assert_eq!(config.policy.removal_grace_days, 30);
        assert_eq!(config.kinds["experiment"], Kind::Temporary { max_days: 14 });
        assert_eq!(config.kinds["canary"], Kind::Temporary { max_days: 2 });
        assert_eq!(config.service_limit("ranking"), 30);
        assert_eq!(config.segments["sg"].len(), 1);
        assert_eq!(
            config.severity[&RuleId::ExpiringSoon],
            Some(Severity::Error)
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = "[kinds.odd]\nmax_days = 3\n[severity]\nexpird = \"error\"\n[segments.x]\nwhen = [{ attr = \"a\", equals = 1 }]\n";
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].message.contains("kind `odd`"));
        assert!(problems[1].message.contains("unknown operator `equals`"));
        assert!(problems[2].message.contains("unknown rule `expird`"));
        assert_eq!(problems[2].help.as_deref(), Some("did you mean `expired`?"));
    }

    #[test]
    fn flags_dir_is_a_normalised_folder_below_the_root() {
        assert_eq!(
            parse("flags_dir = \"./flags/\"\n").unwrap().flags_dir,
            "flags"
        );
        assert_eq!(
            parse("flags_dir = \"config/flags\"\n").unwrap().flags_dir,
            "config/flags"
        );
        for bad in [".", "", "../flags", "/etc/flags", ".git/refs", "x/.GIT"] {
            let problems = parse(&format!("flags_dir = \"{bad}\"\n")).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        }
        let problems = parse("[policy]\nremoval_grace_days = 4000000000\n").unwrap_err();
        assert!(problems[0].message.contains("a century"), "{problems:?}");
    }

    #[test]
    fn the_warning_window_fits_each_kind() {
        let config =
            parse("[kinds.canary]\ntemporary = true\nmax_days = 2\nwarn_days = 2\n").unwrap();
        assert_eq!(config.warn_days_for("experiment"), 7);
        assert_eq!(config.warn_days_for("operational"), 3);
        assert_eq!(config.warn_days_for("canary"), 2);
        assert_eq!(config.warn_days_for("undeclared"), 7);
        let problems =
            parse("[kinds.canary]\ntemporary = true\nmax_days = 2\nwarn_days = 3\n").unwrap_err();
        assert!(
            problems[0].message.contains("at most the kind's"),
            "{problems:?}"
        );
    }

    #[test]
    fn export_names_a_fractional_version() {
        assert_eq!(parse("").unwrap().export.fractional, Fractional::V2);
        let v3 = parse("[export]\nfractional = \"v3\"\n").unwrap();
        assert_eq!(v3.export.fractional, Fractional::V3);
        let problems = parse("[export]\nfractional = \"v4\"\n").unwrap_err();
        assert_eq!(problems[0].message, "unknown fractional version \"v4\"");
        assert!(problems[0].help.as_deref().unwrap_or("").contains("\"v3\""));
        let problems = parse("[export]\nfractional = 3\n").unwrap_err();
        assert!(
            problems[0].message.contains("must be a string"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_sections_are_refused() {
        let problems = parse("[polcy]\nwarn_days = 3\n").unwrap_err();
        assert_eq!(problems[0].help.as_deref(), Some("did you mean `policy`?"));
    }
}
