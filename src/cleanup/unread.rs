//! Go refuses a local variable or an import that nothing reads, so a rewrite that removed
//! the last read of one removes it too: a declaration whose value has no side effects, and
//! an import no code uses any more. A declaration with side effects leaves the file as it
//! is, with the reason. Only what the rewrite left unread is touched: what was unread
//! before stays.

use std::collections::HashMap;

use super::engine::{MAX_SCOPE_NODES, Root, Tree, innermost, parse};
use super::rules::Rules;
use super::text::{Edit, alone_on_its_lines, apply, line_start, next_line_start};
use crate::refs::syntax::Node;

/// The most rounds of removal: each can leave another declaration unread.
const MAX_ROUNDS: usize = 8;

/// `after` without the locals and imports the rewrite of `before` left unread (each text
/// with its tree).
pub(super) fn tidy(
    rules: &Rules,
    (before, old): (&str, &Root),
    (mut after, parsed): (String, &Root),
) -> Result<String, String> {
    let lang = rules.language.support_lang();
    let old_tree = Tree {
        rules,
        src: before,
        constants: &[],
    };
    let mut unread_before: HashMap<String, usize> = HashMap::new();
    for (statement, _, _) in unread_locals(&old_tree, old) {
        *unread_before.entry(statement).or_default() += 1;
    }
    let imports_before = unused_imports(&old_tree, old);
    let mut reparsed: Option<Root> = None;
    for _ in 0..MAX_ROUNDS {
        let root = reparsed.as_ref().unwrap_or(parsed);
        let tree = Tree {
            rules,
            src: &after,
            constants: &[],
        };
        let mut edits = Vec::new();
        let mut allowed = unread_before.clone();
        for (text, name, (statement, value)) in unread_locals(&tree, root) {
            if let Some(left) = allowed.get_mut(&text).filter(|n| **n > 0) {
                *left -= 1;
                continue;
            }
            if !tree.is_pure(&value) {
                return Err(format!(
                    "the rewrite would leave `{name}` declared and not used, which Go refuses, and its value has side effects: remove its uses by hand"
                ));
            }
            edits.extend(tree.remove(&statement));
        }
        for (spec, name) in unused_imports(&tree, root) {
            if imports_before.iter().any(|(_, n)| *n == name) {
                continue;
            }
            edits.push(remove_import(&tree, &spec));
        }
        if edits.is_empty() {
            return Ok(after);
        }
        after = apply(&after, &[], edits).text;
        reparsed = Some(parse(&after, lang)?);
    }
    Ok(after)
}

type Local<'r> = (String, String, (Node<'r>, Node<'r>));

/// The local declarations of one name that nothing reads: the statement's text, the name,
/// and the statement and value nodes.
fn unread_locals<'r>(tree: &Tree<'_>, root: &'r Root) -> Vec<Local<'r>> {
    let syntax = &tree.rules.syntax;
    let mut found = Vec::new();
    let mut reads: HashMap<std::ops::Range<usize>, HashMap<&str, usize>> = HashMap::new();
    for node in root.root().dfs() {
        let Some(env) = tree
            .rules
            .declarations
            .iter()
            .find_map(|d| d.matches(&node, tree.src))
        else {
            continue;
        };
        let (Some(name), Some(value)) = (env.get_match("NAME"), env.get_match("VALUE")) else {
            continue;
        };
        let name = innermost(name);
        let wanted = tree.text(&name);
        if !tree.is(&syntax.identifiers, &name) || wanted == "_" {
            continue;
        }
        let Some(scope) = node.ancestors().find(|a| tree.is(&syntax.functions, a)) else {
            continue;
        };
        let counts = reads.entry(scope.range()).or_insert_with(|| {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for n in scope.dfs().take(MAX_SCOPE_NODES) {
                if tree.is(&syntax.identifiers, &n) {
                    *counts.entry(tree.text(&n)).or_default() += 1;
                }
            }
            counts
        });
        // The declaration's own name is one occurrence.
        if counts.get(wanted).copied().unwrap_or(0) <= 1 {
            found.push((
                tree.text(&node).to_string(),
                wanted.to_string(),
                (node.clone(), value.clone()),
            ));
        }
    }
    found
}

/// The imports whose package no code names.
fn unused_imports<'r>(tree: &Tree<'_>, root: &'r Root) -> Vec<(Node<'r>, String)> {
    let Some(unread) = &tree.rules.syntax.unread else {
        return Vec::new();
    };
    let mut imports = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut stack = vec![root.root()];
    while let Some(node) = stack.pop() {
        if tree.is(&unread.imports, &node) {
            imports.push(node);
            continue;
        }
        if node.kind() == "package_clause" {
            continue;
        }
        if tree.is(&unread.package_names, &node) {
            *names.entry(tree.text(&node)).or_default() += 1;
        }
        stack.extend(node.children());
    }
    imports
        .into_iter()
        .filter_map(|spec| {
            let name = match spec.field("name") {
                Some(alias) => tree.text(&alias).to_string(),
                None => package_name(tree.text(&spec.field("path")?)),
            };
            (name != "_" && name != "." && !names.contains_key(name.as_str()))
                .then_some((spec, name))
        })
        .collect()
}

/// The name a Go import path gives its package: its last element, or the one before a
/// major version (`…/v2`).
fn package_name(path: &str) -> String {
    let path = path.trim_matches(['"', '`']);
    let mut parts = path.rsplit('/');
    let last = parts.next().unwrap_or_default();
    let versioned =
        last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
    let name = if versioned {
        parts.next().unwrap_or(last)
    } else {
        last
    };
    name.replace('-', "_")
}

/// Removes an import: its line in a list of several, else the whole declaration.
fn remove_import(tree: &Tree<'_>, spec: &Node<'_>) -> Edit {
    let lists = &tree.rules.syntax.unread.as_ref().map(|u| &u.import_lists);
    let in_list = spec
        .parent()
        .filter(|p| lists.is_some_and(|l| tree.is(l, p)));
    let target = match in_list {
        Some(list) if tree.named(&list).len() > 1 => spec.clone(),
        Some(list) => list.parent().unwrap_or(list),
        None => spec.parent().unwrap_or_else(|| spec.clone()),
    };
    let range = target.range();
    let cut = if alone_on_its_lines(tree.src, &range) {
        line_start(tree.src, range.start)..next_line_start(tree.src, range.end)
    } else {
        range
    };
    Edit::new(cut, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_of_import_paths() {
        assert_eq!(package_name("\"context\""), "context");
        assert_eq!(
            package_name("\"github.com/open-feature/go-sdk/openfeature\""),
            "openfeature"
        );
        assert_eq!(package_name("\"example.com/flags/v2\""), "flags");
    }
}
