//! How far a flag's prerequisites may reach. Evaluating a flag evaluates its
//! prerequisites, and theirs in turn; exporting it inlines them into its targeting, since
//! flagd has no cross-flag references. Flag files come from pull requests, so both are
//! bounded by the shape of the `requires` graph, checked before anything is evaluated:
//!
//! - no cycle (a cycle has no value, and no finite export);
//! - at most [`MAX_PREREQUISITE_DEPTH`] levels of `requires` below a flag, which bounds
//!   the evaluator's recursion and the nesting of the exported JSON;
//! - at most [`MAX_PREREQUISITES`] prerequisites once a flag's `requires` are unfolded
//!   into a tree (a flag reached along two paths counts twice): what its export inlines,
//!   and at most what one evaluation of it evaluates.
//!
//! `flagctl audit` reports a flag beyond these as `dependency-cycle` or
//! `dependency-depth`; `eval` fails it with a `GENERAL` error and `export` refuses it.

use super::graph::{Analysis, Reach, cycle_text};

/// The most levels of `requires` below a flag.
pub const MAX_PREREQUISITE_DEPTH: usize = 16;

/// The most prerequisites a flag's `requires` may unfold into.
pub const MAX_PREREQUISITES: u64 = 64;

/// Why a flag's prerequisites cannot be evaluated in bounded time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbounded {
    /// The flag is on a cycle of prerequisites.
    Cycle,
    /// A prerequisite is on a cycle, or leads to one.
    LeadsToCycle,
    /// More than [`MAX_PREREQUISITE_DEPTH`] levels.
    TooDeep,
    /// More than [`MAX_PREREQUISITES`] prerequisites unfolded.
    TooWide,
}

/// A flag whose prerequisites are out of bounds: why, through which prerequisite (a node
/// of the analysed graph), and a message that names the flags involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfBounds {
    pub why: Unbounded,
    pub via: Option<usize>,
    pub message: String,
}

/// Whether `node` of a `requires` graph stays within the bounds; `name` gives each
/// node's key.
pub fn out_of_bounds<'n>(
    analysis: &Analysis,
    node: usize,
    name: impl Fn(usize) -> &'n str + Copy,
) -> Option<OutOfBounds> {
    let cycle = || cycle_text(analysis.cycle_of(node).unwrap_or_default(), "flags", name);
    let (why, via, message) = match analysis.reach(node) {
        Reach::Cycle(_) => (
            Unbounded::Cycle,
            None,
            format!("prerequisites form a cycle ({})", cycle()),
        ),
        Reach::LeadsToCycle { via, .. } => (
            Unbounded::LeadsToCycle,
            Some(via),
            format!(
                "prerequisite `{}` leads into a cycle ({})",
                name(via),
                cycle()
            ),
        ),
        Reach::Acyclic(below) if below.depth > MAX_PREREQUISITE_DEPTH => (
            Unbounded::TooDeep,
            below.deepest,
            format!(
                "its `requires` nest {} levels deep ({}); flagctl evaluates and exports at most {MAX_PREREQUISITE_DEPTH}",
                below.depth,
                analysis.chain_text(node, "flags", name)
            ),
        ),
        Reach::Acyclic(below) if below.unfolded > MAX_PREREQUISITES => {
            let count = if below.unfolded == u64::MAX {
                "more than 2^64".to_owned()
            } else {
                below.unfolded.to_string()
            };
            (
                Unbounded::TooWide,
                below.deepest,
                format!(
                    "its `requires` fan out into {count} prerequisites, counting a flag once for each path to it; flagctl evaluates and exports at most {MAX_PREREQUISITES}"
                ),
            )
        }
        Reach::Acyclic(_) => return None,
    };
    Some(OutOfBounds { why, via, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(edges: &[Vec<usize>], node: usize) -> Option<OutOfBounds> {
        let names: Vec<String> = (0..edges.len()).map(|i| format!("f{i}")).collect();
        out_of_bounds(&Analysis::of(edges), node, |i| &names[i])
    }

    fn chain(length: usize) -> Vec<Vec<usize>> {
        (0..length)
            .map(|i| if i + 1 < length { vec![i + 1] } else { vec![] })
            .collect()
    }

    #[test]
    fn depth_is_bounded_at_the_limit() {
        let edges = chain(MAX_PREREQUISITE_DEPTH + 2);
        assert_eq!(check(&edges, 1), None, "exactly the limit");
        let deep = check(&edges, 0).unwrap();
        assert_eq!((deep.why, deep.via), (Unbounded::TooDeep, Some(1)));
        assert!(
            deep.message.starts_with(
                "its `requires` nest 17 levels deep (f0 → f1 → f2 → … → f17 (18 flags))"
            ),
            "{}",
            deep.message
        );
    }

    #[test]
    fn fan_out_is_bounded_by_the_unfolded_tree() {
        // Each flag requires the next two: shallow enough, but the tree doubles per level.
        let edges: Vec<Vec<usize>> = (0..15).map(|i| (i + 1..15.min(i + 3)).collect()).collect();
        let wide = check(&edges, 0).unwrap();
        assert_eq!(wide.why, Unbounded::TooWide);
        assert!(
            wide.message.contains("fan out into 1595 prerequisites"),
            "{}",
            wide.message
        );
        assert_eq!(check(&edges, 10), None);
    }

    #[test]
    fn cycles_and_what_leads_to_them() {
        let edges = vec![vec![1], vec![2], vec![1]];
        let on = check(&edges, 2).unwrap();
        assert_eq!(on.why, Unbounded::Cycle);
        assert_eq!(on.message, "prerequisites form a cycle (f1 → f2 → f1)");
        let before = check(&edges, 0).unwrap();
        assert_eq!((before.why, before.via), (Unbounded::LeadsToCycle, Some(1)));
        assert_eq!(
            before.message,
            "prerequisite `f1` leads into a cycle (f1 → f2 → f1)"
        );
    }
}
