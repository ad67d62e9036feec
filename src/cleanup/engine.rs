//! The rewrite of one source file: each SDK evaluation of a finished flag becomes the
//! literal of its winning value (a constant), then rounds of simplification run until
//! nothing changes: conditions on a constant lose their dead branch, boolean operators and
//! comparisons with a constant fold, a local variable holding a constant and read only in
//! conditions is inlined. Only code that holds a constant cleanup wrote is touched, and
//! the file is parsed again after every round.

use std::collections::HashMap;
use std::ops::Range;

use ast_grep_core::AstGrep;
use ast_grep_core::tree_sitter::{LanguageExt, StrDoc};
use ast_grep_language::SupportLang;
use serde_json::Value;

use super::Winner;
use super::literal::{self, Refusal};
use super::rules::{Action, Branch, Context, Env, Fold, Part, Rules, Template, multi_range};
use super::text::{
    Applied, Constant, Edit, Piece, alone_on_its_lines, apply, common_prefix, constant_at,
    disjoint, holds_constant, indentation, line_start, next_line_start,
};
use crate::refs::ValueType;
use crate::refs::syntax::{self, Node, SdkCall, literal_value};

pub(super) type Root = AstGrep<StrDoc<SupportLang>>;

/// The most rounds of simplification a file gets: each removes one level of nesting.
const MAX_ROUNDS: usize = 64;
/// How far up from a call its result shapes are looked for (`.await.unwrap_or(…)`).
const SHAPE_DEPTH: usize = 4;
/// The most nodes searched for the reads of a variable, or checked for side effects.
pub(super) const MAX_SCOPE_NODES: usize = 200_000;
const MAX_PURE_NODES: usize = 1_000;

/// One use of a flag in the file: the key's literal and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Site {
    pub key_span: Range<usize>,
    pub key: String,
    pub kind: SiteKind,
    /// The SDK method, the generated accessor, or the name of the wrapper rule.
    pub method: String,
    /// `Err` says why the use was left as it is.
    pub outcome: Result<(), String>,
}

/// What a site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteKind {
    /// An SDK evaluation call.
    Call,
    /// An accessor the OpenFeature CLI generates: left for a person.
    Accessor,
    /// A match of a `[[cleanup.rules]]` wrapper.
    Wrapper,
}

/// What the rewrite of a file did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rewrite {
    /// The new text, when it differs from the old.
    pub text: Option<String>,
    pub sites: Vec<Site>,
    /// The comments of the file as it was (a key there is no use).
    pub comments: Vec<Range<usize>>,
    /// Said when simplification stopped before it was done.
    pub note: Option<String>,
}

/// Why a whole file is left as it is.
pub(crate) type FileRefusal = String;

/// Rewrites the uses of `winners` in `src`, a file of `rules.language`.
pub(crate) fn rewrite(
    rules: &Rules,
    src: &str,
    winners: &[Winner],
) -> Result<Rewrite, FileRefusal> {
    if src.len() as u64 > super::MAX_SOURCE_BYTES {
        return Err(format!(
            "the file is {} bytes; cleanup rewrites files of at most {} bytes",
            src.len(),
            super::MAX_SOURCE_BYTES
        ));
    }
    let lang = rules.language.support_lang();
    let root = parse(src, lang)?;
    if let Some(line) = error_line(&root) {
        return Err(format!(
            "the file does not parse (a syntax error at line {line}): cleanup rewrites only files it reads whole"
        ));
    }
    let tree = Tree {
        rules,
        src,
        constants: &[],
    };
    let (mut edits, sites, comments) = tree.seeds(&root, winners);
    tree.fill_emptied_blocks(&root, &mut edits);
    if edits.is_empty() {
        return Ok(Rewrite {
            text: None,
            sites,
            comments,
            note: None,
        });
    }
    let applied = apply(src, &[], edits);
    let mut now = reparse(&root, src, &applied, rules)?;
    let (mut text, mut constants) = (applied.text, applied.constants);
    let mut note = None;
    for round in 0.. {
        // tree-sitter's incremental parse gives the tree a parse from scratch would.
        if let Some(line) = error_line(&now) {
            return Err(format!(
                "the rewritten file would not parse (line {line}); it is left as it is"
            ));
        }
        if round == MAX_ROUNDS {
            note = Some(format!(
                "simplification stopped after {MAX_ROUNDS} rounds: constants may be left in it"
            ));
            break;
        }
        let tree = Tree {
            rules,
            src: &text,
            constants: &constants,
        };
        let mut edits = tree.simplify(&now);
        if edits.is_empty() {
            break;
        }
        tree.fill_emptied_blocks(&now, &mut edits);
        let applied = apply(&text, &constants, edits);
        // Simplification shrinks code; a rule of flagctl.toml that copies what it matches
        // could double it each round.
        if applied.text.len() > 4 * src.len() + (256 << 10) {
            return Err(
                "the rewrite keeps growing the file (a [[cleanup.rules]] rule?); it is left as it is"
                    .to_string(),
            );
        }
        now = reparse(&now, &text, &applied, rules)?;
        (text, constants) = (applied.text, applied.constants);
    }
    if rules.syntax.unread.is_some() {
        text = super::unread::tidy(rules, (src, &root), (text, &now))?;
    }
    Ok(Rewrite {
        text: (text != src).then_some(text),
        sites,
        comments,
        note,
    })
}

thread_local! {
    /// One incremental parser a language on each thread.
    static PARSERS: std::cell::RefCell<HashMap<usize, tree_sitter::Parser>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The tree of `applied.text`, parsed incrementally: `old`'s tree of `old_text` is told
/// where the text changed, and tree-sitter parses again only around the changes.
fn reparse(
    old: &Root,
    old_text: &str,
    applied: &Applied,
    rules: &Rules,
) -> Result<Root, FileRefusal> {
    use tree_sitter::{InputEdit, Point};
    let mut tree = old.root().get_doc().tree.clone();
    let mut lines = vec![0];
    lines.extend(old_text.match_indices('\n').map(|(i, _)| i + 1));
    let point = |offset: usize| {
        let row = lines.partition_point(|&start| start <= offset) - 1;
        Point::new(row, offset - lines[row])
    };
    let mut shift = 0isize;
    let mut inputs = Vec::with_capacity(applied.changed.len());
    for (range, len) in &applied.changed {
        let new_start = range.start.saturating_add_signed(shift);
        let inserted = applied
            .text
            .get(new_start..new_start + len)
            .unwrap_or_default();
        let start = point(range.start);
        let new_end = match inserted.rfind('\n') {
            Some(last) => Point::new(
                start.row + inserted.matches('\n').count(),
                inserted.len() - last - 1,
            ),
            None => Point::new(start.row, start.column + inserted.len()),
        };
        inputs.push(InputEdit {
            start_byte: range.start,
            old_end_byte: range.end,
            new_end_byte: range.start + len,
            start_position: start,
            old_end_position: point(range.end),
            new_end_position: new_end,
        });
        shift += *len as isize - range.len() as isize;
    }
    // From the last change to the first: the offsets before each are still the old ones.
    for input in inputs.iter().rev() {
        tree.edit(input);
    }
    let lang = rules.language.support_lang();
    let parsed = PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = match parsers.entry(rules.language as usize) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&lang.get_ts_language()).ok()?;
                entry.insert(parser)
            }
        };
        parser.parse(applied.text.as_bytes(), Some(&tree))
    });
    let tree = parsed.ok_or_else(|| "tree-sitter cannot parse the rewritten file".to_string())?;
    Ok(AstGrep::doc(StrDoc {
        src: applied.text.clone(),
        lang,
        tree,
    }))
}

/// Why each use at `spans` that is no SDK call is left as it is: a key held in a name (a
/// dynamic key), the argument of a function cleanup does not know (a wrapper), another
/// string, or an alias; and whether it is in a string.
pub(crate) fn describe(rules: &Rules, src: &str, spans: &[Range<usize>]) -> Vec<(bool, String)> {
    if spans.is_empty() {
        return Vec::new();
    }
    let root = parse(src, rules.language.support_lang()).ok();
    let strings = root
        .as_ref()
        .map(|root| innermost_strings(root, spans))
        .unwrap_or_default();
    spans
        .iter()
        .map(|span| {
            let string = strings.get(span).cloned();
            let in_string = string.is_some();
            let why = match string {
                None => "an alias or a case form of the key, not an SDK call: edit it by hand"
                    .to_string(),
                Some(string) => {
                    let holder = string.ancestors().take(3).find(|a| {
                        let kind = a.kind();
                        ["declarat", "assignment", "_spec", "_item"]
                            .iter()
                            .any(|part| kind.contains(part))
                    });
                    let parent = string.parent();
                    if holder.is_some() {
                        "a dynamic key: the key is held in a name the SDK calls read it through; remove those uses by hand".to_string()
                    } else if let Some(call) = parent
                        .filter(|p| rules.is(&rules.syntax.arguments, &p.kind()))
                        .and_then(|p| p.parent())
                    {
                        let callee = call.children().next().map_or(String::new(), |c| {
                            shown(src.get(c.range()).unwrap_or_default())
                        });
                        format!(
                            "the key is an argument of `{callee}(…)`, which is no SDK method: an in-house wrapper? add a [[cleanup.rules]] rule for it"
                        )
                    } else {
                        "the key in a string that is no SDK call's key (a constant, a log line, a map key): edit it by hand".to_string()
                    }
                }
            };
            (in_string, why)
        })
        .collect()
}

/// The innermost string node holding each of `spans`, where one does: one walk of the
/// tree, into the nodes that hold a span (a node with thousands of children is walked
/// once, not once a span).
fn innermost_strings<'r>(
    root: &'r Root,
    spans: &[Range<usize>],
) -> HashMap<Range<usize>, Node<'r>> {
    let sorted = sorted_spans(spans);
    let mut found = HashMap::new();
    let mut stack = vec![root.root()];
    while let Some(node) = stack.pop() {
        let range = node.range();
        if within(&sorted, &range).next().is_none() {
            continue;
        }
        if is_string_kind(&node.kind()) {
            // Pre-order: a string inside this one is visited later and replaces it.
            for span in within(&sorted, &range) {
                found.insert(span.clone(), node.clone());
            }
        }
        let children: Vec<Node<'r>> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    found
}

fn is_string_kind(kind: &str) -> bool {
    kind.contains("string") || kind.contains("template")
}

pub(super) fn parse(src: &str, lang: SupportLang) -> Result<Root, FileRefusal> {
    AstGrep::<StrDoc<SupportLang>>::try_new(src, lang)
        .map_err(|_| "tree-sitter cannot parse the file".to_string())
}

/// The line (1-based) of the first syntax error, if any.
fn error_line(root: &Root) -> Option<usize> {
    if !root.root().get_inner_node().has_error() {
        return None;
    }
    let error = root.root().dfs().find(|n| n.is_error() || n.is_missing());
    Some(error.map_or(1, |n| n.start_pos().line() + 1))
}

/// The nodes from `node` down to the deepest one holding `range` (with `strict`, holding
/// it strictly inside).
fn path_down<'r>(node: Node<'r>, range: &Range<usize>, strict: bool) -> Vec<Node<'r>> {
    let mut path = vec![node];
    while let Some(next) = path.last().and_then(|last| {
        last.children().find(|child| {
            let r = child.range();
            if strict {
                r.start < range.start && range.end < r.end
            } else {
                r.start <= range.start && range.end <= r.end
            }
        })
    }) {
        path.push(next);
    }
    path
}

/// The deepest node spanning exactly each of `spans`, with its nearest ancestors (nearest
/// first): one walk of the tree, since tree-sitter finds a parent from the root down.
fn locate<'r>(
    root: &'r Root,
    spans: &[Range<usize>],
) -> HashMap<Range<usize>, (Node<'r>, Vec<Node<'r>>)> {
    let sorted = sorted_spans(spans);
    let wanted: std::collections::HashSet<&Range<usize>> = spans.iter().collect();
    let holds = |range: &Range<usize>| within(&sorted, range).next().is_some();
    let mut found = HashMap::new();
    let mut path: Vec<Node<'r>> = Vec::new();
    let mut stack = vec![(root.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        path.truncate(depth);
        let range = node.range();
        if wanted.contains(&range) {
            let ancestors = path.iter().rev().take(SHAPE_DEPTH + 2).cloned().collect();
            found.insert(range.clone(), (node.clone(), ancestors));
        }
        if holds(&range) {
            let children: Vec<Node<'r>> = node.children().collect();
            stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
        }
        path.push(node);
    }
    found
}

/// `spans` in the order [`within`] reads them.
fn sorted_spans(spans: &[Range<usize>]) -> Vec<&Range<usize>> {
    let mut sorted: Vec<&Range<usize>> = spans.iter().collect();
    sorted.sort_by_key(|s| (s.start, s.end));
    sorted
}

/// The spans of `sorted` (by start) that lie within `range`.
fn within<'s>(
    sorted: &'s [&'s Range<usize>],
    range: &Range<usize>,
) -> impl Iterator<Item = &'s Range<usize>> {
    let first = sorted.partition_point(|s| s.start < range.start);
    let end = range.end;
    sorted[first..]
        .iter()
        .copied()
        .take_while(move |s| s.start < end)
        .filter(move |s| s.end <= end)
}

/// The text of a node shortened for a message.
fn shown(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None if line.len() < text.trim().len() => format!("{line}…"),
        None => line.to_string(),
    }
}

/// A parsed text with the constants cleanup wrote in it.
pub(super) struct Tree<'a> {
    pub rules: &'a Rules,
    pub src: &'a str,
    pub constants: &'a [Constant],
}

impl<'a> Tree<'a> {
    pub(super) fn text(&self, node: &Node<'_>) -> &'a str {
        self.src.get(node.range()).unwrap_or_default()
    }

    pub(super) fn is(&self, list: &[String], node: &Node<'_>) -> bool {
        self.rules.is(list, &node.kind())
    }

    /// Named children, comments left out.
    pub(super) fn named<'r>(&self, node: &Node<'r>) -> Vec<Node<'r>> {
        syntax::operands(node).collect()
    }

    /// The statements of a block (Go keeps them in a statement list inside its braces).
    fn statements<'r>(&self, block: &Node<'r>) -> Vec<Node<'r>> {
        let syntax = &self.rules.syntax;
        let named = self.named(block);
        match named.as_slice() {
            [only] if self.is(&syntax.statement_lists, only) && !self.is(&syntax.blocks, only) => {
                self.named(only)
            }
            _ => named,
        }
    }

    /// The node inside any parentheses.
    fn unparenthesized<'r>(&self, node: &Node<'r>) -> Node<'r> {
        let mut node = node.clone();
        while self.is(&self.rules.syntax.parentheses, &node) {
            match self.named(&node).as_slice() {
                [only] => node = only.clone(),
                _ => break,
            }
        }
        node
    }

    /// The value of a constant cleanup wrote, a literal, or a literal in a wrapper such as
    /// `String::from("x")`.
    fn value(&self, node: &Node<'_>) -> Option<Value> {
        let node = self.unparenthesized(node);
        if let Some(constant) = constant_at(self.constants, &node.range()) {
            return Some(constant.value.clone());
        }
        if let Some(value) = literal_value(self.rules.language, &node, self.src) {
            return Some(value);
        }
        self.rules.literal_wrappers.iter().find_map(|wrapper| {
            let env = wrapper.matches(&node, self.src)?;
            literal_value(self.rules.language, env.get_match("L")?, self.src)
        })
    }

    /// The operator token of an operator expression (`&&`, `not`, `==`).
    fn operator(&self, node: &Node<'_>) -> String {
        node.children()
            .find(|c| !c.is_named() && !matches!(c.kind().as_ref(), "(" | ")"))
            .map(|c| self.text(&c).to_string())
            .unwrap_or_default()
    }

    /// Whether evaluating `node` has no side effects (by the language's `pure` kinds).
    pub(super) fn is_pure(&self, node: &Node<'_>) -> bool {
        let pure = &self.rules.syntax.pure;
        let mut seen = 0;
        for n in node.dfs() {
            seen += 1;
            if seen > MAX_PURE_NODES {
                return false;
            }
            if n.is_named() && !n.is_extra() && !self.is(pure, &n) {
                return false;
            }
        }
        true
    }

    /// The statement `node` is, or is wrapped in, when it stands in a statement list.
    pub(super) fn statement_of<'r>(&self, node: &Node<'r>) -> Option<Node<'r>> {
        let syntax = &self.rules.syntax;
        let parent = node.parent()?;
        if self.is(&syntax.statement_lists, &parent) {
            return Some(node.clone());
        }
        if self.is(&syntax.expression_statements, &parent)
            && self.named(&parent).len() == 1
            && parent
                .parent()
                .is_some_and(|p| self.is(&syntax.statement_lists, &p))
        {
            return Some(parent);
        }
        None
    }

    /// An edit removing the statement `statement` (its lines, when it has them alone).
    pub(super) fn remove(&self, statement: &Node<'_>) -> Option<Edit> {
        Some(self.remove_in(statement, &statement.parent()?))
    }

    /// [`Tree::remove`], with the statement's parent known.
    fn remove_in(&self, statement: &Node<'_>, parent: &Node<'_>) -> Edit {
        let range = statement.range();
        let cut = if alone_on_its_lines(self.src, &range) {
            line_start(self.src, range.start)..next_line_start(self.src, range.end)
        } else {
            let after = &self.src[range.end..];
            range.start..range.end + after.len() - after.trim_start_matches([' ', '\t']).len()
        };
        Edit {
            range: cut,
            pieces: Vec::new(),
            removes: self
                .is(&self.rules.syntax.blocks, parent)
                .then(|| (range, parent.range())),
        }
    }

    /// A block whose every statement this round removes gets the language's `empty_block`.
    fn fill_emptied_blocks(&self, root: &Root, edits: &mut [Edit]) {
        let Some(filler) = &self.rules.syntax.empty_block else {
            return;
        };
        let mut by_block: HashMap<Range<usize>, Vec<usize>> = HashMap::new();
        for (index, edit) in edits.iter().enumerate() {
            if let Some((_, block)) = &edit.removes {
                by_block.entry(block.clone()).or_default().push(index);
            }
        }
        for (block, removed) in by_block {
            let Some(node) = node_at_in(root, &block, &self.rules.syntax.blocks) else {
                continue;
            };
            if self.statements(&node).len() == removed.len() {
                let first = removed
                    .iter()
                    .copied()
                    .min_by_key(|&i| edits[i].range.start);
                if let Some(first) = first
                    && let Some((statement, _)) = edits[first].removes.clone()
                {
                    edits[first] = Edit::new(statement, vec![Piece::Text(filler.clone())]);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Seeds: the evaluations of the flags.

    /// The edits that write the winning values, what became of every use, and where the
    /// comments are.
    fn seeds(&self, root: &Root, winners: &[Winner]) -> (Vec<Edit>, Vec<Site>, Vec<Range<usize>>) {
        let accessors: HashMap<String, String> = winners
            .iter()
            .flat_map(|w| {
                syntax::accessor_names(&w.key)
                    .into_iter()
                    .map(|name| (name, w.key.clone()))
            })
            .collect();
        let syntax = syntax::read_parsed(self.rules.language, root, self.src, &accessors);
        let spans: Vec<Range<usize>> = syntax
            .calls
            .iter()
            .filter(|c| {
                !c.accessor
                    && c.key
                        .as_ref()
                        .is_some_and(|k| winners.iter().any(|w| &w.key == k))
            })
            .map(|c| c.span.clone())
            .collect();
        let located = locate(root, &spans);
        let mut edits: Vec<Edit> = Vec::new();
        let mut sites = Vec::new();
        // Each use offers its edits, best first (a variable inlined at once, else the value
        // in place of the call): the first that overlaps no other use's is taken.
        let mut accept =
            |groups: Result<Vec<Vec<Edit>>, String>, site: Site, edits: &mut Vec<Edit>| {
                let outcome = groups.and_then(|groups| {
                    let group = groups
                        .into_iter()
                        .find(|group| disjoint(edits, group))
                        .ok_or("it overlaps another use of a flag that is rewritten")?;
                    edits.extend(group);
                    Ok(())
                });
                sites.push(Site { outcome, ..site });
            };
        for call in &syntax.calls {
            let Some(key) = &call.key else { continue };
            let Some(winner) = winners.iter().find(|w| &w.key == key) else {
                continue;
            };
            let site = Site {
                key_span: call.key_span.clone(),
                key: key.clone(),
                kind: if call.accessor {
                    SiteKind::Accessor
                } else {
                    SiteKind::Call
                },
                method: call.method.clone(),
                outcome: Ok(()),
            };
            if call.accessor {
                let why = format!(
                    "a generated accessor (`{}`): generate the client again without the flag (`openfeature generate`), then remove its uses",
                    call.method
                );
                accept(Err(why), site, &mut edits);
                continue;
            }
            let group = match located.get(&call.span) {
                Some((node, ancestors)) => self.seed(node, ancestors, call, winner),
                None => Err("the call could not be found again".to_string()),
            };
            accept(group, site, &mut edits);
        }
        for rule in &self.rules.wrappers {
            for node in root.root().dfs() {
                let Some(env) = rule.pattern.matches(&node, self.src) else {
                    continue;
                };
                let Some(key_node) = env.get_match("KEY") else {
                    continue;
                };
                let Some(Value::String(key)) =
                    literal_value(self.rules.language, key_node, self.src)
                else {
                    continue;
                };
                let Some(winner) = winners.iter().find(|w| w.key == key) else {
                    continue;
                };
                let site = Site {
                    key_span: key_node.range(),
                    key,
                    kind: SiteKind::Wrapper,
                    method: rule.name.clone(),
                    outcome: Ok(()),
                };
                let Action::Rewrite(template) = &rule.action else {
                    continue;
                };
                let group = self.wrapper(&node, &env, key_node, template, winner);
                accept(group.map(|g| vec![g]), site, &mut edits);
            }
        }
        (edits, sites, syntax.comments)
    }

    /// The edit that writes `winner`'s value in place of `call`, or why it cannot.
    fn seed<'r>(
        &self,
        node: &Node<'r>,
        ancestors: &[Node<'r>],
        call: &SdkCall,
        winner: &Winner,
    ) -> Result<Vec<Vec<Edit>>, String> {
        let results = self.rules.results_of(&call.method);
        if let Some(skip) = results.and_then(|r| r.skip.as_ref()) {
            return Err(skip.clone());
        }
        let mut shape = None;
        if let Some(results) = results {
            'shapes: for candidate in &results.shapes {
                for (at, ancestor) in ancestors.iter().enumerate().take(SHAPE_DEPTH) {
                    if let Some(env) = candidate.pattern.matches(ancestor, self.src)
                        && env.get_match("CALL").map(|c| c.range()) == Some(node.range())
                    {
                        shape = Some((at + 1, candidate, env));
                        break 'shapes;
                    }
                }
            }
            if shape.is_none()
                && let Some(otherwise) = &results.otherwise
            {
                return Err(otherwise.clone());
            }
        }
        if let Some((_, candidate, _)) = &shape
            && let Some(skip) = &candidate.skip
        {
            return Err(skip.clone());
        }
        // What the value is decides first: a default matters only when it can be rewritten.
        let single = self.src[call.key_span.clone()].starts_with('\'');
        let literal = self.literal(winner, call.value_type, single, &call.method)?;
        if let Some(default) = &call.default_text
            && call.default.is_none()
        {
            let node = node
                .dfs()
                .skip(1)
                .find(|n| n.is_named() && self.text(n) == default.as_str());
            self.check_default(node.as_ref(), default)?;
        }
        if let Some((_, _, env)) = &shape
            && let Some(default) = env.get_match("DEFAULT")
        {
            self.check_default(Some(default), self.text(default))?;
        }
        let (at, template, env) = match &shape {
            Some((at, candidate, env)) => (*at, candidate.rewrite.as_ref(), Some(env)),
            None => (0, None, None),
        };
        let target = if at == 0 { node } else { &ancestors[at - 1] };
        let parents = &ancestors[at..];
        self.check_destination(parents)?;
        if let (Some(template), Some(env)) = (template, env) {
            let mut groups = Vec::new();
            // `v, _ := <evaluation>`: the shape declares `$V`, inlined now when it can be.
            if let Some((_, candidate, _)) = &shape
                && let Some(declared) = candidate.declares.as_deref().and_then(|v| env.get_match(v))
            {
                groups.extend(self.inline_name(
                    target,
                    declared,
                    literal.clone(),
                    winner.value.clone(),
                ));
            }
            let pieces = self.fill(template, env, Some((&literal, &winner.value)));
            groups.push(vec![Edit::new(target.range(), pieces)]);
            return Ok(groups);
        }
        let mut groups = Vec::new();
        // `x = <evaluation>` with x read only in conditions: inlined now, not a round later.
        for declaration in parents.iter().take(2) {
            let inlined = self.inline_as(declaration, |value| {
                (value.range() == target.range()).then(|| (literal.clone(), winner.value.clone()))
            });
            groups.extend(inlined);
        }
        groups.push(vec![self.place(target, parents, literal, &winner.value)?]);
        Ok(groups)
    }

    /// The edit for a match of a `[[cleanup.rules]]` wrapper.
    fn wrapper(
        &self,
        node: &Node<'_>,
        env: &Env<'_>,
        key: &Node<'_>,
        template: &Template,
        winner: &Winner,
    ) -> Result<Vec<Edit>, String> {
        if let Some(default) = env.get_match("DEFAULT") {
            self.check_default(Some(default), self.text(default))?;
        }
        let single = self.text(key).starts_with('\'');
        let literal = self.literal(winner, None, single, "")?;
        let parents: Vec<Node<'_>> = node.ancestors().take(3).collect();
        self.check_destination(&parents)?;
        if template.parts == [Part::Var("VALUE".into())] {
            return Ok(vec![self.place(node, &parents, literal, &winner.value)?]);
        }
        let pieces = self.fill(template, env, Some((&literal, &winner.value)));
        Ok(vec![Edit::new(node.range(), pieces)])
    }

    /// The winning value as a literal, or why it cannot be one.
    fn literal(
        &self,
        winner: &Winner,
        read: Option<ValueType>,
        single_quotes: bool,
        method: &str,
    ) -> Result<String, String> {
        literal::render(self.rules.language, &winner.value, read, single_quotes).map_err(|refusal| {
            match refusal {
                Refusal::Mismatch { read } => format!(
                    "`{method}` reads {} values, and the winner `{}` is {}: the code gets its default; fix the call by hand",
                    serde_json::to_value(read)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    winner.variant,
                    value_kind(&winner.value)
                ),
                Refusal::NoLiteral(why) => format!("the winner `{}`: {why}", winner.variant),
            }
        })
    }

    /// A default the rewrite drops must have no side effects.
    fn check_default(&self, node: Option<&Node<'_>>, text: &str) -> Result<(), String> {
        match node {
            Some(node) if self.value(node).is_some() || self.is_pure(node) => Ok(()),
            _ => Err(format!(
                "the default `{}` is not a literal: removing the call would drop what it computes",
                shown(text)
            )),
        }
    }

    /// A value passed straight to a function is left for a person: the callee decides.
    /// `parents` are the ancestors of the value, nearest first.
    fn check_destination(&self, parents: &[Node<'_>]) -> Result<(), String> {
        let arguments = &self.rules.syntax.arguments;
        // Python's keyword argument sits in the argument list.
        let inside = parents.iter().take_while(|p| self.is(arguments, p)).count();
        if inside == 0 {
            return Ok(());
        }
        let list = &parents[inside - 1];
        let callee = parents.get(inside).map_or(String::new(), |call| {
            let text = self.text(call);
            let end = list.range().start.saturating_sub(call.range().start);
            shown(text.get(..end).unwrap_or(text))
        });
        Err(format!(
            "the value flows into a function call (`{callee}(…)`): what the callee does with it needs a person"
        ))
    }

    /// `literal` in place of `target` (whose ancestors are `parents`, nearest first): an
    /// unused result's statement goes.
    fn place(
        &self,
        target: &Node<'_>,
        parents: &[Node<'_>],
        literal: String,
        value: &Value,
    ) -> Result<Edit, String> {
        let syntax = &self.rules.syntax;
        if let [parent, list, ..] = parents
            && self.is(&syntax.expression_statements, parent)
            && self.named(parent).len() == 1
            && self.is(&syntax.statement_lists, list)
        {
            return Ok(self.remove_in(parent, list));
        }
        let literal = match parents.first() {
            Some(parent) if value.is_object() && parent.kind() == "arrow_function" => {
                format!("({literal})")
            }
            _ => literal,
        };
        Ok(Edit::new(
            target.range(),
            vec![Piece::Constant(literal, value.clone())],
        ))
    }

    /// The pieces of `template` filled in from `env`; `$VALUE` is the winning value, and a
    /// boolean the template spells out is a constant too.
    fn fill(
        &self,
        template: &Template,
        env: &Env<'_>,
        value: Option<(&String, &Value)>,
    ) -> Vec<Piece> {
        let language = self.rules.language;
        let mut pieces = Vec::new();
        for part in &template.parts {
            match part {
                Part::Var(name) if name == "VALUE" => {
                    if let Some((literal, value)) = value {
                        pieces.push(Piece::Constant(literal.clone(), value.clone()));
                    }
                }
                Part::Var(name) => {
                    let Some(node) = env.get_match(name) else {
                        continue;
                    };
                    // A literal the simplification of a constant leaves (`true && true`)
                    // is a constant too.
                    let literal = (!self.is(&self.rules.syntax.parentheses, node))
                        .then(|| literal_value(language, node, self.src))
                        .flatten();
                    match literal {
                        Some(value) => {
                            pieces.push(Piece::Constant(self.text(node).to_string(), value))
                        }
                        None => pieces.push(Piece::Copy(node.range())),
                    }
                }
                Part::Multi(name) => {
                    if let Some(range) = multi_range(env, name) {
                        pieces.push(Piece::Copy(range));
                    }
                }
                Part::Text(text) => {
                    let word = text.trim();
                    let truth = [true, false]
                        .into_iter()
                        .find(|b| word == literal::boolean(language, *b));
                    match truth {
                        Some(truth) => {
                            let at = text.find(word).unwrap_or(0);
                            push_text(&mut pieces, &text[..at]);
                            pieces.push(Piece::Constant(word.to_string(), Value::Bool(truth)));
                            push_text(&mut pieces, &text[at + word.len()..]);
                        }
                        None => push_text(&mut pieces, text),
                    }
                }
            }
        }
        pieces
    }

    // ------------------------------------------------------------------------------------
    // Rounds: simplification around the constants.

    /// The edits of one round: at each node holding a constant, outermost first, the first
    /// simplification that applies.
    fn simplify(&self, root: &Root) -> Vec<Edit> {
        let mut edits: Vec<Edit> = Vec::new();
        let mut stack = vec![root.root()];
        while let Some(node) = stack.pop() {
            if !holds_constant(self.constants, &node.range()) {
                continue;
            }
            if let Some(group) = self.at(&node)
                && disjoint(&edits, &group)
            {
                edits.extend(group);
                continue;
            }
            let children: Vec<Node<'_>> = node.children().collect();
            stack.extend(children.into_iter().rev());
        }
        edits
    }

    fn at(&self, node: &Node<'_>) -> Option<Vec<Edit>> {
        let kind = node.kind();
        for branch in &self.rules.syntax.branches {
            if branch.kind == kind {
                if let Some(edits) = self.prune(node, branch) {
                    return Some(edits);
                }
            } else if branch.elif.as_deref() == Some(kind.as_ref())
                && let Some(edits) = self.prune_elif(node, branch)
            {
                return Some(edits);
            }
        }
        for lp in &self.rules.syntax.loops {
            if lp.kind == kind
                && self.truth(&node.field(&lp.condition)?) == Some(false)
                && let Some(statement) = self.statement_of(node)
            {
                return Some(vec![self.remove(&statement)?]);
            }
        }
        if let Some(edits) = self.inline(node) {
            return Some(edits);
        }
        self.rule(node)
    }

    /// The truth of a condition that is a boolean constant cleanup wrote.
    fn truth(&self, condition: &Node<'_>) -> Option<bool> {
        let inner = self.unparenthesized(condition);
        constant_at(self.constants, &inner.range())?.value.as_bool()
    }

    /// An `if` on a constant: the branch that runs replaces it.
    fn prune(&self, node: &Node<'_>, branch: &Branch) -> Option<Vec<Edit>> {
        if let Some(field) = &branch.initializer
            && node.field(field).is_some()
        {
            return None;
        }
        let truth = self.truth(&node.field(&branch.condition)?)?;
        let alternatives: Vec<Node<'_>> = node.field_children(&branch.alternative).collect();
        let first = alternatives.first();
        if truth {
            let kept = node.field(&branch.consequence)?;
            return self.keep(node, &kept, first);
        }
        let Some(alternative) = first else {
            return self.drop_branch(node, branch);
        };
        if branch.elif.as_deref() == Some(alternative.kind().as_ref()) {
            // `if False: … elif c:` → `if c:`
            let keyword = alternative.child(0)?;
            return Some(vec![Edit::new(
                node.range().start..keyword.range().end,
                vec![Piece::Text("if".into())],
            )]);
        }
        let kept = if self.rules.is(&branch.else_kinds, &alternative.kind()) {
            self.named(alternative).pop()?
        } else {
            alternative.clone()
        };
        if kept.kind() == node.kind() {
            // `if (false) … else if (c) …` → `if (c) …`
            return Some(vec![Edit::new(
                node.range(),
                vec![Piece::Copy(kept.range())],
            )]);
        }
        self.keep(node, &kept, None)
    }

    /// Python's `elif` on a constant: dropped when false; when true, it becomes the `else`.
    fn prune_elif(&self, node: &Node<'_>, branch: &Branch) -> Option<Vec<Edit>> {
        let condition = node.field(&branch.condition)?;
        let truth = self.truth(&condition)?;
        let parent = node.parent()?;
        if !truth {
            let range = node.range();
            return Some(vec![Edit::new(
                line_start(self.src, range.start)..next_line_start(self.src, range.end),
                Vec::new(),
            )]);
        }
        let mut edits = vec![Edit::new(
            node.range().start..condition.range().end,
            vec![Piece::Text("else".into())],
        )];
        if node.range().end < parent.range().end {
            edits.push(Edit::new(node.range().end..parent.range().end, Vec::new()));
        }
        Some(edits)
    }

    /// Whether `node` is the else branch of an `if` (`else if …`).
    fn is_else_branch(&self, node: &Node<'_>) -> bool {
        let Some(parent) = node.parent() else {
            return false;
        };
        self.rules.syntax.branches.iter().any(|branch| {
            self.rules.is(&branch.else_kinds, &parent.kind())
                || (parent.kind() == branch.kind.as_str()
                    && parent
                        .field(&branch.alternative)
                        .is_some_and(|a| a.range() == node.range()))
        })
    }

    /// A false `if` without an else goes: the statement, or the `else …` it stands in.
    fn drop_branch(&self, node: &Node<'_>, branch: &Branch) -> Option<Vec<Edit>> {
        if let Some(statement) = self.statement_of(node) {
            return Some(vec![self.remove(&statement)?]);
        }
        let parent = node.parent()?;
        if self.rules.is(&branch.else_kinds, &parent.kind()) {
            let before = parent.prev()?;
            return Some(vec![Edit::new(
                before.range().end..parent.range().end,
                Vec::new(),
            )]);
        }
        if parent.kind() == branch.kind.as_str()
            && parent
                .field(&branch.alternative)
                .is_some_and(|a| a.range() == node.range())
        {
            let before = node.prev()?.prev()?;
            return Some(vec![Edit::new(
                before.range().end..node.range().end,
                Vec::new(),
            )]);
        }
        None
    }

    /// The `if` `node` is replaced by the branch `kept`: its statements where the `if` was a
    /// statement, else the branch itself (an else branch), or its value (an expression).
    fn keep(&self, node: &Node<'_>, kept: &Node<'_>, next: Option<&Node<'_>>) -> Option<Vec<Edit>> {
        let syntax = &self.rules.syntax;
        let is_block = self.is(&syntax.blocks, kept);
        let Some(statement) = self.statement_of(node) else {
            if self.is_else_branch(node) {
                return Some(vec![Edit::new(
                    node.range(),
                    vec![Piece::Copy(kept.range())],
                )]);
            }
            let inner = self.statements(kept);
            let piece = match inner.as_slice() {
                [only] if is_block && !self.is_statement(only) => Piece::Copy(only.range()),
                _ => Piece::Copy(kept.range()),
            };
            return Some(vec![Edit::new(node.range(), vec![piece])]);
        };
        let keeps_scope = self
            .statements(kept)
            .iter()
            .any(|child| self.is(&syntax.scoped_declarations, child));
        if !is_block || keeps_scope {
            return Some(vec![Edit::new(
                statement.range(),
                vec![Piece::Copy(kept.range())],
            )]);
        }
        let body = self.body(kept, next)?;
        if self.src[body.clone()].trim().is_empty() {
            return Some(vec![self.remove(&statement)?]);
        }
        let indent = indentation(self.src, statement.range().start);
        let end = self
            .dead_after(&statement, kept)
            .unwrap_or(statement.range().end);
        Some(vec![Edit::new(
            statement.range().start..end,
            self.reindent(body, indent, kept),
        )])
    }

    /// Where the statements after `statement` end, when the kept branch ends in a return
    /// (or throw, break, …), so that they never run: they go with the `if`. None when
    /// nothing follows, or when one of them declares a name (a hoisted function).
    fn dead_after(&self, statement: &Node<'_>, kept: &Node<'_>) -> Option<usize> {
        let syntax = &self.rules.syntax;
        let last = self.statements(kept).pop()?;
        let ends = self.is(&syntax.terminators, &last)
            || (self.is(&syntax.expression_statements, &last)
                && self
                    .named(&last)
                    .first()
                    .is_some_and(|inner| self.is(&syntax.terminators, inner)));
        if !ends {
            return None;
        }
        let parent = statement.parent()?;
        let following: Vec<Node<'_>> = self
            .named(&parent)
            .into_iter()
            .filter(|n| n.range().start >= statement.range().end)
            .collect();
        if following
            .iter()
            .any(|n| self.is(&syntax.scoped_declarations, n) && !self.is(&syntax.terminators, n))
        {
            return None;
        }
        following.last().map(|n| n.range().end)
    }

    fn is_statement(&self, node: &Node<'_>) -> bool {
        let syntax = &self.rules.syntax;
        self.is(&syntax.expression_statements, node) || self.is(&syntax.scoped_declarations, node)
    }

    /// The text of a block's statements, with the comments among them: inside its braces,
    /// or (Python) from the line after its `:` to the clause that follows it.
    fn body(&self, block: &Node<'_>, next: Option<&Node<'_>>) -> Option<Range<usize>> {
        let src = self.src;
        let range = block.range();
        let text = &src[range.clone()];
        let (mut start, mut end) = if text.starts_with('{') && text.ends_with('}') {
            (range.start + 1, range.end - 1)
        } else {
            let colon = block.prev_all().find(|n| n.kind() == ":")?;
            let between = &src[colon.range().end..range.start];
            let start = if between.contains('\n') {
                next_line_start(src, colon.range().end)
            } else {
                range.start
            };
            let end = next.map_or(range.end, |n| {
                line_start(src, n.range().start).max(range.end)
            });
            (start, end)
        };
        // Drop the rest of the opening line and the white space before the close.
        if let Some(newline) = src[start..end].find('\n')
            && src[start..start + newline].trim().is_empty()
        {
            start += newline + 1;
        }
        end = start + src[start..end].trim_end().len();
        if !src[start..end].contains('\n') {
            // `{ a(); }`: the statement alone.
            start = end - src[start..end].trim_start().len();
        }
        // Trailing lines indented less than the body belong to what follows (Python).
        let first_indent = indentation(src, start.min(end)).len();
        while end > start {
            let last = line_start(src, end);
            if last <= start || indentation(src, last).len() >= first_indent {
                break;
            }
            end = start + src[start..last].trim_end().len();
        }
        Some(start..end)
    }

    /// The lines of `body` moved to `indent`: the common indentation of its lines is
    /// replaced, blank lines stay empty, lines inside a string are left as they are.
    fn reindent(&self, body: Range<usize>, indent: &str, block: &Node<'_>) -> Vec<Piece> {
        let src = self.src;
        let inline_start = body.start != line_start(src, body.start);
        let mut lines = Vec::new();
        let mut at = body.start;
        while at < body.end {
            let end = src[at..body.end]
                .find('\n')
                .map_or(body.end, |i| at + i + 1);
            lines.push(at..end);
            at = end;
        }
        let strings = multi_line_strings(block);
        let in_string: Vec<bool> = lines
            .iter()
            .map(|line| {
                let after = strings.partition_point(|s| s.start < line.start);
                after > 0 && strings[after - 1].end > line.start
            })
            .collect();
        let mut common: Option<&str> = None;
        for (i, line) in lines.iter().enumerate() {
            let text = &src[line.clone()];
            if (i == 0 && inline_start) || in_string[i] || text.trim().is_empty() {
                continue;
            }
            let own = &text[..text.len() - text.trim_start_matches([' ', '\t']).len()];
            common = Some(common.map_or(own, |c| common_prefix(c, own)));
        }
        let common = common.unwrap_or("");
        let mut pieces = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let text = &src[line.clone()];
            if (i == 0 && inline_start) || in_string[i] {
                pieces.push(Piece::Copy(line.clone()));
                continue;
            }
            if text.trim().is_empty() {
                let breaks = text.len() - text.trim_end_matches(['\r', '\n']).len();
                pieces.push(Piece::Copy(line.end - breaks..line.end));
                continue;
            }
            let strip = if text.starts_with(common) {
                common.len()
            } else {
                text.len() - text.trim_start_matches([' ', '\t']).len()
            };
            if i > 0 {
                pieces.push(Piece::Text(indent.to_string()));
            }
            pieces.push(Piece::Copy(line.start + strip..line.end));
        }
        pieces
    }

    /// A local variable that holds a constant and is read only in conditions: its reads
    /// become the constant, and its declaration goes.
    fn inline(&self, node: &Node<'_>) -> Option<Vec<Edit>> {
        self.inline_as(node, |value| {
            let constant = constant_at(self.constants, &value.range())?;
            Some((self.text(value).to_string(), constant.value.clone()))
        })
    }

    /// [`Tree::inline`] of the declaration `node` when `constant` says its value is one
    /// (its literal and value).
    fn inline_as(
        &self,
        node: &Node<'_>,
        constant: impl Fn(&Node<'_>) -> Option<(String, Value)>,
    ) -> Option<Vec<Edit>> {
        let env = self
            .rules
            .declarations
            .iter()
            .find_map(|d| d.matches(node, self.src))?;
        let (literal, value) = constant(env.get_match("VALUE")?)?;
        self.inline_name(node, env.get_match("NAME")?, literal, value)
    }

    /// Inlines the variable `name` that `node` declares holding `literal` (worth `value`),
    /// when every read of it is a condition.
    fn inline_name(
        &self,
        node: &Node<'_>,
        name: &Node<'_>,
        literal: String,
        value: Value,
    ) -> Option<Vec<Edit>> {
        let syntax = &self.rules.syntax;
        // Go's `$NAME := …` captures the expression list around the name.
        let name = &innermost(name);
        if !self.is(&syntax.identifiers, name) {
            return None;
        }
        let statement = match node.parent() {
            Some(p) if self.is(&syntax.expression_statements, &p) => p,
            _ => node.clone(),
        };
        if !statement
            .parent()
            .is_some_and(|p| self.is(&syntax.statement_lists, &p))
        {
            return None;
        }
        let scope = node.ancestors().find(|a| self.is(&syntax.functions, a))?;
        let wanted = self.text(name);
        // Every occurrence of the name as a word in the scope: an identifier read in a
        // condition, or a comment; anything else (a read in a macro's format string, a
        // write, a read elsewhere) keeps the variable.
        let base = scope.range().start;
        let mut reads = Vec::new();
        for (at, _) in self.text(&scope).match_indices(wanted) {
            let range = base + at..base + at + wanted.len();
            if !is_word(self.src, &range) || range == name.range() {
                continue;
            }
            let path = path_down(scope.clone(), &range, false);
            let found = path.last()?;
            if path.iter().any(|n| n.kind().contains("comment")) {
                continue;
            }
            if found.range() != range
                || !self.is(&syntax.identifiers, found)
                || range.start < statement.range().end
                || !self.read_as_condition(found)
            {
                return None;
            }
            reads.push(range);
            if reads.len() > MAX_SCOPE_NODES {
                return None;
            }
        }
        if reads.is_empty() {
            return None;
        }
        let mut edits = vec![self.remove(&statement)?];
        edits.extend(
            reads.into_iter().map(|range| {
                Edit::new(range, vec![Piece::Constant(literal.clone(), value.clone())])
            }),
        );
        Some(edits)
    }

    /// Whether `node` is read as a condition, through boolean operators and comparisons
    /// with a literal.
    fn read_as_condition(&self, node: &Node<'_>) -> bool {
        self.climb(node, true)
            .is_some_and(|top| self.is_condition(&top, true))
    }

    /// Up from `node` through parentheses and boolean operators (and, when `compare`,
    /// comparisons with a literal); None when it meets another operator.
    fn climb<'r>(&self, node: &Node<'r>, compare: bool) -> Option<Node<'r>> {
        let syntax = &self.rules.syntax;
        let mut node = node.clone();
        loop {
            let Some(parent) = node.parent() else {
                return Some(node);
            };
            if self.is(&syntax.parentheses, &parent) {
                node = parent;
                continue;
            }
            if self.is(&syntax.operators, &parent) {
                let operator = self.operator(&parent);
                if syntax.boolean_operators.contains(&operator) {
                    node = parent;
                    continue;
                }
                if compare && syntax.comparisons.contains(&operator) {
                    let operands = self.named(&parent);
                    let other = operands.iter().find(|o| o.range() != node.range());
                    if operands.len() == 2 && other.is_some_and(|o| self.value(o).is_some()) {
                        node = parent;
                        continue;
                    }
                }
                return None;
            }
            if compare
                && let Some(call) = self.comparison_call(&parent, &node).or_else(|| {
                    parent
                        .parent()
                        .and_then(|grand| self.comparison_call(&grand, &node))
                })
            {
                node = call;
                continue;
            }
            return Some(node);
        }
    }

    /// `call` when it compares `operand` with a literal (`"x".equals(v)`).
    fn comparison_call<'r>(&self, call: &Node<'r>, operand: &Node<'_>) -> Option<Node<'r>> {
        self.rules.comparison_patterns.iter().find_map(|pattern| {
            let env = pattern.matches(call, self.src)?;
            let (a, b) = (env.get_match("A")?, env.get_match("B")?);
            let other = if a.range() == operand.range() {
                b
            } else if b.range() == operand.range() {
                a
            } else {
                return None;
            };
            self.value(other).map(|_| call.clone())
        })
    }

    /// Whether `node` is where a branch, loop or conditional expression reads its condition
    /// (`for_inline`: or where a variable's read counts as one).
    fn is_condition(&self, node: &Node<'_>, for_inline: bool) -> bool {
        let Some(parent) = node.parent() else {
            return false;
        };
        self.rules.syntax.conditions.iter().any(|spec| {
            (for_inline || !spec.inline_only)
                && spec.kind == parent.kind()
                && match (&spec.field, spec.index) {
                    (Some(field), _) => parent
                        .field(field)
                        .is_some_and(|f| f.range() == node.range()),
                    (None, Some(index)) => self
                        .named(&parent)
                        .get(index)
                        .is_some_and(|n| n.range() == node.range()),
                    (None, None) => false,
                }
        })
    }

    /// The first simplification rule that applies at `node`.
    fn rule(&self, node: &Node<'_>) -> Option<Vec<Edit>> {
        for rule in &self.rules.rules {
            let Some(env) = rule.pattern.matches(node, self.src) else {
                continue;
            };
            // tree-sitter finds a parent from the root down: only for a match.
            if !rule.unless_parent.is_empty()
                && node
                    .parent()
                    .is_some_and(|p| rule.unless_parent.iter().any(|k| *k == p.kind()))
            {
                continue;
            }
            if rule.context == Some(Context::Condition)
                && !self
                    .climb(node, false)
                    .is_some_and(|top| self.is_condition(&top, false))
            {
                continue;
            }
            if rule
                .pure
                .iter()
                .any(|var| env.get_match(var).is_some_and(|n| !self.is_pure(n)))
            {
                continue;
            }
            match &rule.action {
                Action::Fold(fold) => {
                    let (Some(a), Some(b)) = (env.get_match("A"), env.get_match("B")) else {
                        continue;
                    };
                    let (Some(a), Some(b)) = (self.value(a), self.value(b)) else {
                        continue;
                    };
                    let Some(equal) = same(&a, &b) else { continue };
                    let truth = equal == (*fold == Fold::Equal);
                    let word = literal::boolean(self.rules.language, truth);
                    return Some(vec![Edit::new(
                        node.range(),
                        vec![Piece::Constant(word.to_string(), Value::Bool(truth))],
                    )]);
                }
                Action::Rewrite(template) => {
                    if !self.relevant(node, &env, template) {
                        continue;
                    }
                    return Some(vec![Edit::new(
                        node.range(),
                        self.fill(template, &env, None),
                    )]);
                }
            }
        }
        None
    }

    /// Whether a constant takes part in a match: one lies in it outside the metavariables
    /// the rewrite copies as they are.
    fn relevant(&self, node: &Node<'_>, env: &Env<'_>, template: &Template) -> bool {
        let copied: Vec<Range<usize>> = template
            .vars()
            .filter_map(|name| {
                env.get_match(name)
                    .map(|n| n.range())
                    .or_else(|| multi_range(env, name))
            })
            .collect();
        let range = node.range();
        let first = self
            .constants
            .partition_point(|c| c.range.start < range.start);
        self.constants[first..]
            .iter()
            .take_while(|c| c.range.start < range.end)
            .filter(|c| c.range.end <= range.end)
            .any(|c| {
                !copied
                    .iter()
                    .any(|r| r.start <= c.range.start && c.range.end <= r.end)
            })
    }
}

/// The deepest node spanning just what `node` spans.
pub(super) fn innermost<'r>(node: &Node<'r>) -> Node<'r> {
    let mut node = node.clone();
    loop {
        let mut children = syntax::operands(&node);
        match (children.next(), children.next()) {
            (Some(only), None) if only.range() == node.range() => node = only,
            _ => return node,
        }
    }
}

/// The deepest node of one of `kinds` spanning exactly `range`.
fn node_at_in<'r>(root: &'r Root, range: &Range<usize>, kinds: &[String]) -> Option<Node<'r>> {
    path_down(root.root(), range, false)
        .into_iter()
        .rev()
        .find(|n| n.range() == *range && kinds.iter().any(|k| *k == n.kind()))
}

/// The string literals in `node` that span lines, outermost, by start: their lines are
/// text, not code, and keep their indentation.
fn multi_line_strings(node: &Node<'_>) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut stack = vec![node.clone()];
    while let Some(n) = stack.pop() {
        if n.start_pos().line() == n.end_pos().line() {
            continue;
        }
        if is_string_kind(&n.kind()) {
            found.push(n.range());
            continue;
        }
        stack.extend(n.children());
    }
    found.sort_by_key(|r| r.start);
    found
}

/// Appends text, merged with the text before it.
fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Text(text.to_string()));
    }
}

/// Whether `range` of `text` is a whole identifier-like word.
fn is_word(text: &str, range: &Range<usize>) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let before = text[..range.start].chars().next_back();
    let after = text[range.end..].chars().next();
    !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
}

/// Whether two literal values are equal; None when their types differ (then the language
/// decides, and cleanup does not guess).
fn same(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(x.as_f64()? == y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x == y),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Null, Value::Null) => Some(true),
        _ => None,
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "a boolean",
        Value::String(_) => "a string",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::Object(_) | Value::Array(_) => "an object",
        Value::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::CleanupRule;
    use crate::refs::Language;

    fn winners() -> Vec<Winner> {
        vec![Winner {
            key: "new-ranker".into(),
            variant: "on".into(),
            value: Value::Bool(true),
        }]
    }

    fn run(language: Language, src: &str) -> Result<Rewrite, FileRefusal> {
        let rules = Rules::with_config(language, &[]).unwrap().unwrap();
        rewrite(&rules, src, &winners())
    }

    #[test]
    fn a_file_with_a_syntax_error_is_left_as_it_is() {
        let src = "def f(client):\n    if client.get_boolean_value(\"new-ranker\", False):\n        return (\n";
        let why = run(Language::Python, src).unwrap_err();
        assert!(why.contains("syntax error at line"), "{why}");
    }

    #[test]
    fn a_rewrite_that_would_not_parse_is_refused() {
        let extra = [CleanupRule {
            name: None,
            language: "python".into(),
            pattern: "feature_on($KEY)".into(),
            rewrite: Some("$VALUE )".into()),
        }];
        let rules = Rules::with_config(Language::Python, &extra)
            .unwrap()
            .unwrap();
        let why = rewrite(&rules, "x = feature_on(\"new-ranker\")\n", &winners()).unwrap_err();
        assert!(why.contains("would not parse"), "{why}");
    }

    #[test]
    fn a_rule_that_grows_the_file_is_stopped() {
        // Each round, every `(True, …)` becomes two of them: 2^64 without a bound.
        let doubling = [CleanupRule {
            name: None,
            language: "python".into(),
            pattern: "(True, $Y)".into(),
            rewrite: Some("(($Y, $Y), ($Y, $Y))".into()),
        }];
        let rules = Rules::with_config(Language::Python, &doubling)
            .unwrap()
            .unwrap();
        let src = "x = (client.get_boolean_value(\"new-ranker\", False), True)\n";
        let outcome = rewrite(&rules, src, &winners());
        let why = outcome
            .clone()
            .err()
            .unwrap_or_else(|| format!("{outcome:?}"));
        assert!(why.contains("keeps growing"), "{why}");
    }

    #[test]
    fn deep_nesting_takes_bounded_rounds() {
        let depth = 3_000;
        let mut src = String::from("function f(client) {\n");
        for _ in 0..depth {
            src.push_str("if (client.getBooleanValue(\"new-ranker\", false)) {\n");
        }
        src.push_str("work();\n");
        for _ in 0..depth {
            src.push_str("}\n");
        }
        src.push_str("}\n");
        let done = run(Language::JavaScript, &src).unwrap();
        assert_eq!(done.sites.len(), depth);
        assert!(done.sites.iter().all(|s| s.outcome.is_ok()));
        let note = done.note.expect("the rounds ran out");
        assert!(note.contains("stopped after 64 rounds"), "{note}");
        let text = done.text.unwrap();
        assert!(!text.contains("getBooleanValue"));
        assert_eq!(text.matches("if (true)").count(), depth - MAX_ROUNDS);
    }

    #[test]
    fn a_file_over_the_size_limit_is_left_as_it_is() {
        let line = "x = client.get_boolean_value(\"new-ranker\", False)\n";
        let src = line.repeat(super::super::MAX_SOURCE_BYTES as usize / line.len() + 1);
        let why = run(Language::Python, &src).unwrap_err();
        assert!(why.contains("at most"), "{why}");
    }

    #[test]
    fn many_uses_in_one_file() {
        let src: String = (0..2_000)
            .map(|i| format!("def f{i}(client):\n    if client.get_boolean_value(\"new-ranker\", False):\n        return {i}\n    return 0\n\n"))
            .collect();
        let done = run(Language::Python, &src).unwrap();
        assert_eq!(done.sites.len(), 2_000);
        let text = done.text.unwrap();
        assert_eq!(text.matches("    return 0\n").count(), 1, "only f0's");
        assert!(
            text.starts_with("def f0(client):\n    return 0\n\ndef f1"),
            "{}",
            &text[..80]
        );
    }

    #[test]
    fn code_the_flag_never_reached_is_left_alone() {
        let src = "function f(client) {\n  if (true) { a(); }\n  const x = !false;\n  if (client.getBooleanValue(\"new-ranker\", false) && true) { b(); }\n}\n";
        let text = run(Language::JavaScript, src).unwrap().text.unwrap();
        assert_eq!(
            text,
            "function f(client) {\n  if (true) { a(); }\n  const x = !false;\n  b();\n}\n"
        );
    }
}
