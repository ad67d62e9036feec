//! The rules of `cleanup` as data: one TOML file a language family under `rules/` (how the
//! tree of the language looks, how an evaluation's result reaches the code, which local
//! variables hold a constant, and the simplifications as ast-grep patterns with a rewrite),
//! plus the `[[cleanup.rules]]` of `flagctl.toml` for in-house wrappers.

use ast_grep_core::Pattern;
use ast_grep_core::matcher::MatcherExt;
use ast_grep_core::meta_var::MetaVarEnv;
use ast_grep_core::tree_sitter::{LanguageExt, StrDoc};
use ast_grep_language::SupportLang;
use serde::Deserialize;

use crate::model::config::CleanupRule;
use crate::refs::Language;
use crate::refs::syntax::Node;

/// The rule file of a language family (JavaScript, TypeScript and TSX share one); None for
/// the languages cleanup does not rewrite (Kotlin).
fn rule_file(language: Language) -> Option<&'static str> {
    Some(match language {
        Language::Python => include_str!("rules/python.toml"),
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            include_str!("rules/javascript.toml")
        }
        Language::Go => include_str!("rules/go.toml"),
        Language::Java => include_str!("rules/java.toml"),
        Language::Rust => include_str!("rules/rust.toml"),
        Language::Kotlin => return None,
    })
}

/// The name `[[cleanup.rules]]` gives the family of `language`.
pub fn family(language: Language) -> Option<&'static str> {
    Some(match language {
        Language::Python => "python",
        Language::JavaScript | Language::TypeScript | Language::Tsx => "javascript",
        Language::Go => "go",
        Language::Java => "java",
        Language::Rust => "rust",
        Language::Kotlin => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    syntax: Syntax,
    #[serde(default)]
    results: Vec<ResultsSpec>,
    #[serde(default)]
    declarations: Vec<PatternSpec>,
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

/// How the tree of a language looks, as far as cleanup needs it: node kinds and fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Syntax {
    pub statement_lists: Vec<String>,
    pub blocks: Vec<String>,
    #[serde(default)]
    pub empty_block: Option<String>,
    pub expression_statements: Vec<String>,
    pub parentheses: Vec<String>,
    pub identifiers: Vec<String>,
    pub arguments: Vec<String>,
    pub functions: Vec<String>,
    pub pure: Vec<String>,
    pub scoped_declarations: Vec<String>,
    /// Statements after which nothing in their block runs.
    pub terminators: Vec<String>,
    pub operators: Vec<String>,
    pub boolean_operators: Vec<String>,
    pub comparisons: Vec<String>,
    #[serde(default)]
    comparison_patterns: Vec<String>,
    #[serde(default)]
    literal_wrappers: Vec<String>,
    /// Patterns ast-grep reads as something else alone, read in a context instead.
    #[serde(default)]
    pattern_contexts: Vec<PatternContext>,
    /// What a language refuses to leave unread (Go): locals and imports.
    #[serde(default)]
    pub unread: Option<Unread>,
    pub branches: Vec<Branch>,
    /// Loops whose body a false condition never runs.
    #[serde(default)]
    pub loops: Vec<Loop>,
    pub conditions: Vec<ConditionSpec>,
}

/// A pattern whose root ast-grep reads as `kind` is read as the `selector` node of
/// `context`, with the pattern in place of `$PATTERN`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct PatternContext {
    kind: String,
    context: String,
    selector: String,
}

/// The imports of a language that refuses unread ones, and the names that read a package.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Unread {
    pub imports: Vec<String>,
    pub import_lists: Vec<String>,
    pub package_names: Vec<String>,
}

/// A `while` loop: on a false condition, it goes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Loop {
    pub kind: String,
    pub condition: String,
}

/// An `if` whose condition may become constant.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Branch {
    pub kind: String,
    pub condition: String,
    pub consequence: String,
    pub alternative: String,
    /// Python's `elif` clause, an alternative with a condition of its own.
    #[serde(default)]
    pub elif: Option<String>,
    /// Nodes wrapping an else branch (`else_clause`); without them the alternative is the
    /// branch itself, after an `else` token.
    #[serde(default, rename = "else")]
    pub else_kinds: Vec<String>,
    /// A field that, when present, keeps the `if` as it is (Go's `if v := f(); v {`).
    #[serde(default)]
    pub initializer: Option<String>,
}

/// Where a value is read as a boolean: a field of a node, or its n-th operand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionSpec {
    pub kind: String,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub index: Option<usize>,
    /// Read as a condition for inlining a variable, but not a boolean context (JSX's
    /// `{on && <A />}` renders a value that is not a boolean).
    #[serde(default)]
    pub inline_only: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsSpec {
    methods: Vec<String>,
    #[serde(default)]
    shapes: Vec<ShapeSpec>,
    #[serde(default)]
    skip: Option<String>,
    #[serde(default)]
    otherwise: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeSpec {
    pattern: String,
    #[serde(default)]
    rewrite: Option<String>,
    #[serde(default)]
    declares: Option<String>,
    #[serde(default)]
    skip: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternSpec {
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    pattern: String,
    #[serde(default)]
    rewrite: Option<String>,
    #[serde(default)]
    fold: Option<Fold>,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    pure: Vec<String>,
    #[serde(default)]
    unless_parent: Vec<String>,
}

/// A comparison of two literals, computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Fold {
    Equal,
    NotEqual,
}

/// Where a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Context {
    /// Only where the matched expression is read as a boolean.
    Condition,
}

/// An ast-grep pattern, with its source to check that a match covers the whole node.
pub(crate) struct Pat {
    pattern: Pattern,
    template: Template,
}

pub(crate) type Env<'r> = MetaVarEnv<'r, StrDoc<SupportLang>>;

impl Pat {
    #[cfg(test)]
    fn new(source: &str, lang: SupportLang) -> Result<Pat, String> {
        Pat::in_context(source, lang, &[])
    }

    fn in_context(
        source: &str,
        lang: SupportLang,
        contexts: &[PatternContext],
    ) -> Result<Pat, String> {
        let mut pattern =
            Pattern::try_new(source, lang).map_err(|e| format!("pattern `{source}`: {e}"))?;
        let ts = lang.get_ts_language();
        let root_kind = pattern
            .dump(&|id| ts.node_kind_for_id(id).map(|k| k.to_string().into()))
            .and_then(|dump| dump.kind)
            .unwrap_or_default();
        if let Some(context) = contexts.iter().find(|c| c.kind == root_kind) {
            let text = context.context.replace("$PATTERN", source);
            pattern = Pattern::contextual(&text, &context.selector, lang)
                .map_err(|e| format!("pattern `{source}`: {e}"))?;
        }
        if pattern.has_error() {
            return Err(format!("pattern `{source}` does not parse"));
        }
        Ok(Pat {
            pattern,
            template: Template::parse(source),
        })
    }

    /// The metavariables of a match of `node`, when the pattern matches all of it: ast-grep
    /// also matches a node with more children than the pattern (`if (c) a` matches an `if`
    /// with an `else`), so the pattern, filled in with what it captured, must spell the
    /// node (white space and a final `;` aside).
    pub fn matches<'r>(&self, node: &Node<'r>, src: &str) -> Option<Env<'r>> {
        let found = self.pattern.match_node(node.clone())?;
        let env = found.get_env().clone();
        let spelled = self.template.fill(&env, src)?;
        let text = src.get(node.range())?;
        (squeeze(&spelled) == squeeze(text)).then_some(env)
    }
}

/// Text without white space and without a final `;`, to compare spellings.
fn squeeze(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if out.ends_with(';') {
        out.pop();
    }
    out
}

/// A rewrite: text with metavariables (`$X`, `$$$X`) and `$VALUE`, the winning value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Var(String),
    Multi(String),
}

impl Template {
    pub fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            let after = &rest[at..];
            let dollars = after.len() - after.trim_start_matches('$').len();
            let name_start = if dollars >= 3 { 3 } else { 1 };
            let name: String = after[name_start..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name.is_empty() || !(dollars == 1 || dollars == 3) {
                literal.push_str(&after[..dollars]);
                rest = &after[dollars..];
                continue;
            }
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(if dollars == 3 {
                Part::Multi(name.clone())
            } else {
                Part::Var(name.clone())
            });
            rest = &after[name_start + name.len()..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Template { parts }
    }

    /// The names of the metavariables the template copies.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name) | Part::Multi(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The template with every metavariable replaced by the text it captured.
    fn fill(&self, env: &Env<'_>, src: &str) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(name) => out.push_str(src.get(env.get_match(name)?.range())?),
                Part::Multi(name) => {
                    if let Some(range) = multi_range(env, name) {
                        out.push_str(src.get(range)?);
                    }
                }
            }
        }
        Some(out)
    }
}

/// The source range `$$$NAME` captured, from its first node to its last.
pub(crate) fn multi_range(env: &Env<'_>, name: &str) -> Option<std::ops::Range<usize>> {
    let nodes = env.get_multiple_matches(name);
    Some(nodes.first()?.range().start..nodes.last()?.range().end)
}

/// How the result of some SDK methods reaches the code.
pub(crate) struct Results {
    methods: Vec<String>,
    pub shapes: Vec<Shape>,
    pub skip: Option<String>,
    pub otherwise: Option<String>,
}

pub(crate) struct Shape {
    pub pattern: Pat,
    pub rewrite: Option<Template>,
    /// The metavariable the rewritten shape declares a local variable with (`$V := …`).
    pub declares: Option<String>,
    pub skip: Option<String>,
}

/// A simplification (or, from flagctl.toml with `$KEY`, a wrapper to rewrite).
pub(crate) struct Rule {
    pub name: String,
    pub pattern: Pat,
    pub action: Action,
    pub context: Option<Context>,
    pub pure: Vec<String>,
    pub unless_parent: Vec<String>,
}

pub(crate) enum Action {
    Rewrite(Template),
    Fold(Fold),
}

/// Everything cleanup knows about one language, compiled for its grammar.
pub(crate) struct Rules {
    pub language: Language,
    pub syntax: Syntax,
    pub results: Vec<Results>,
    pub declarations: Vec<Pat>,
    pub rules: Vec<Rule>,
    pub comparison_patterns: Vec<Pat>,
    pub literal_wrappers: Vec<Pat>,
    /// In-house wrappers from flagctl.toml: patterns with `$KEY`.
    pub wrappers: Vec<Rule>,
}

impl Rules {
    /// The built-in rules of `language` plus those of `extra` for its family; the error
    /// names the rule of flagctl.toml that does not compile.
    pub fn with_config(language: Language, extra: &[CleanupRule]) -> Result<Option<Rules>, String> {
        let Some(text) = rule_file(language) else {
            return Ok(None);
        };
        let mut rules = compile(language, text)?;
        let lang = language.support_lang();
        let contexts = rules.syntax.pattern_contexts.clone();
        for (index, spec) in extra.iter().enumerate() {
            if Some(spec.language.as_str()) != family(language) {
                continue;
            }
            let at = format!("[[cleanup.rules]] #{} of flagctl.toml", index + 1);
            let pattern = Pat::in_context(&spec.pattern, lang, &contexts)
                .map_err(|e| format!("{at}: {e}"))?;
            let is_wrapper = pattern.template.vars().any(|v| v == "KEY");
            let rewrite = match (&spec.rewrite, is_wrapper) {
                (Some(rewrite), _) => rewrite.clone(),
                (None, true) => "$VALUE".to_string(),
                (None, false) => {
                    return Err(format!(
                        "{at}: a rule without `$KEY` in its pattern needs a `rewrite`"
                    ));
                }
            };
            let template = Template::parse(&rewrite);
            if let Some(unknown) = template
                .vars()
                .find(|v| *v != "VALUE" && !pattern.template.vars().any(|p| p == *v))
            {
                return Err(format!(
                    "{at}: the rewrite uses `${unknown}`, which the pattern does not capture"
                ));
            }
            let rule = Rule {
                name: spec
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("flagctl.toml rule {}", index + 1)),
                pattern,
                action: Action::Rewrite(template),
                context: None,
                pure: Vec::new(),
                unless_parent: Vec::new(),
            };
            if is_wrapper {
                rules.wrappers.push(rule);
            } else {
                rules.rules.push(rule);
            }
        }
        Ok(Some(rules))
    }

    /// How the result of `method` reaches the code.
    pub fn results_of(&self, method: &str) -> Option<&Results> {
        self.results
            .iter()
            .find(|r| r.methods.iter().any(|glob| glob_matches(glob, method)))
    }

    pub fn is(&self, list: &[String], kind: &str) -> bool {
        list.iter().any(|k| k == kind)
    }
}

/// `*` stands for any text (at most one `*` a glob).
fn glob_matches(glob: &str, text: &str) -> bool {
    match glob.split_once('*') {
        None => glob == text,
        Some((prefix, suffix)) => {
            text.len() >= prefix.len() + suffix.len()
                && text.starts_with(prefix)
                && text.ends_with(suffix)
        }
    }
}

/// Compiles a rule file for `language`'s grammar. A pattern that does not parse in this
/// grammar (a TypeScript annotation in JavaScript) is left out for it; the tests check
/// that each parses in at least one grammar of its family.
fn compile(language: Language, text: &str) -> Result<Rules, String> {
    let file: RuleFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let lang = language.support_lang();
    let contexts = file.syntax.pattern_contexts.clone();
    let pat = |source: &str| Pat::in_context(source, lang, &contexts).ok();
    let results = file
        .results
        .into_iter()
        .map(|spec| Results {
            methods: spec.methods,
            shapes: spec
                .shapes
                .iter()
                .filter_map(|shape| {
                    Some(Shape {
                        pattern: pat(&shape.pattern)?,
                        rewrite: shape.rewrite.as_deref().map(Template::parse),
                        declares: shape.declares.clone(),
                        skip: shape.skip.clone(),
                    })
                })
                .collect(),
            skip: spec.skip,
            otherwise: spec.otherwise,
        })
        .collect();
    let declarations = file
        .declarations
        .iter()
        .filter_map(|d| pat(&d.pattern))
        .collect();
    let mut rules = Vec::new();
    for spec in file.rules {
        let action = match (spec.fold, &spec.rewrite) {
            (Some(fold), None) => Action::Fold(fold),
            (None, Some(rewrite)) => Action::Rewrite(Template::parse(rewrite)),
            _ => return Err(format!("rule {}: give `rewrite` or `fold`", spec.name)),
        };
        let Some(pattern) = pat(&spec.pattern) else {
            continue;
        };
        rules.push(Rule {
            name: spec.name,
            pattern,
            action,
            context: spec.context,
            pure: spec.pure,
            unless_parent: spec.unless_parent,
        });
    }
    let comparison_patterns = file
        .syntax
        .comparison_patterns
        .iter()
        .filter_map(|p| pat(p))
        .collect();
    let literal_wrappers = file
        .syntax
        .literal_wrappers
        .iter()
        .filter_map(|p| pat(p))
        .collect();
    Ok(Rules {
        language,
        syntax: file.syntax,
        results,
        declarations,
        rules,
        comparison_patterns,
        literal_wrappers,
        wrappers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern of every rule file, by family.
    fn patterns(text: &str) -> Vec<String> {
        let file: RuleFile = toml::from_str(text).unwrap();
        let mut all: Vec<String> = file.rules.iter().map(|r| r.pattern.clone()).collect();
        all.extend(file.declarations.iter().map(|d| d.pattern.clone()));
        for results in &file.results {
            all.extend(results.shapes.iter().map(|s| s.pattern.clone()));
        }
        all.extend(file.syntax.comparison_patterns.iter().cloned());
        all.extend(file.syntax.literal_wrappers.iter().cloned());
        all
    }

    #[test]
    fn every_pattern_parses_in_its_family() {
        for family in [
            &[Language::Python][..],
            &[Language::JavaScript, Language::TypeScript, Language::Tsx],
            &[Language::Go],
            &[Language::Java],
            &[Language::Rust],
        ] {
            let text = rule_file(family[0]).unwrap();
            for source in patterns(text) {
                let parses: Vec<bool> = family
                    .iter()
                    .map(|l| Pat::new(&source, l.support_lang()).is_ok())
                    .collect();
                assert!(
                    parses.iter().any(|p| *p),
                    "{}: `{source}` parses in no grammar of the family",
                    family[0].name()
                );
                // TypeScript and TSX read everything JavaScript does.
                if family.len() == 3 {
                    assert!(parses[1] && parses[2], "`{source}` in TypeScript and TSX");
                }
            }
            for language in family {
                let rules = Rules::with_config(*language, &[]).unwrap();
                assert!(rules.is_some(), "{}", language.name());
            }
        }
        assert!(Rules::with_config(Language::Kotlin, &[]).unwrap().is_none());
    }

    #[test]
    fn templates_read_metavariables() {
        let template = Template::parse("$V := $VALUE; $$$REST $ 5$");
        assert_eq!(
            template.parts,
            vec![
                Part::Var("V".into()),
                Part::Text(" := ".into()),
                Part::Var("VALUE".into()),
                Part::Text("; ".into()),
                Part::Multi("REST".into()),
                Part::Text(" $ 5$".into()),
            ]
        );
    }

    #[test]
    fn a_match_covers_the_whole_node() {
        let declaration = Pat::new("var $NAME = $VALUE", SupportLang::JavaScript).unwrap();
        let src = "var y = 1, z = 2;\nvar x = true;\n";
        let root =
            ast_grep_core::AstGrep::<StrDoc<SupportLang>>::try_new(src, SupportLang::JavaScript)
                .unwrap();
        let matched: Vec<String> = root
            .root()
            .dfs()
            .filter(|n| declaration.matches(n, src).is_some())
            .map(|n| n.text().to_string())
            .collect();
        assert_eq!(matched, ["var x = true;"]);
    }

    #[test]
    fn method_globs() {
        assert!(glob_matches("get_*_details", "get_boolean_details"));
        assert!(!glob_matches("get_*_details", "get_boolean_value"));
        assert!(glob_matches("*Value", "BooleanValue"));
        assert!(glob_matches("useFlag", "useFlag"));
        assert!(!glob_matches("get*Details", "getDetail"));
    }

    #[test]
    fn flagctl_toml_rules_join_their_family() {
        let extra = [
            CleanupRule {
                name: None,
                language: "python".into(),
                pattern: "flags.enabled($KEY)".into(),
                rewrite: None,
            },
            CleanupRule {
                name: Some("ours".into()),
                language: "go".into(),
                pattern: "flags.On($KEY)".into(),
                rewrite: None,
            },
        ];
        let rules = Rules::with_config(Language::Python, &extra)
            .unwrap()
            .unwrap();
        assert_eq!(rules.wrappers.len(), 1);
        let bad = [CleanupRule {
            name: None,
            language: "python".into(),
            pattern: "flags.enabled($X)".into(),
            rewrite: Some("$Y".into()),
        }];
        let error = Rules::with_config(Language::Python, &bad).err().unwrap();
        assert!(error.contains("`$Y`"), "{error}");
    }
}
