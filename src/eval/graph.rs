//! References between named things — a flag's prerequisites, a flagd `$evaluators` entry's
//! `$ref`s — analysed in one pass, linear in nodes and edges and without recursion, so
//! that no shape of input (a chain of 10,000, a cycle, a diamond) costs more than its size:
//! the cycles, and for every node outside them the longest chain below it and how many
//! nodes its references unfold into when each is followed on its own.

/// Nodes are `0..edges.len()`; `edges[n]` are the nodes `n` refers to, in order (a node
/// named twice counts twice when unfolding).
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    reaches: Vec<Reach>,
    /// One cycle per strongly connected component that has one: the shortest path from
    /// its lowest node back to that node (the node is not repeated at the end).
    cycles: Vec<Vec<usize>>,
    /// Every node, each after all the nodes it refers to (but those on its own cycle).
    sinks_first: Vec<usize>,
}

/// What a node reaches through its references: a cycle, or only what lies below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// On a cycle: an index into [`Analysis::cycles`] (the cycle of its component, which
    /// may not pass through this very node).
    Cycle(usize),
    /// Not on a cycle, but it refers, through `via`, to nodes that are.
    LeadsToCycle { via: usize, cycle: usize },
    /// Nothing below it is on a cycle.
    Acyclic(Below),
}

/// What lies below a node outside any cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Below {
    /// Edges on the longest chain below the node: 0 when it refers to nothing.
    pub depth: usize,
    /// The next node on that chain.
    pub deepest: Option<usize>,
    /// The last node of that chain (the node itself when it refers to nothing).
    pub bottom: usize,
    /// Edges of the tree its references unfold into, each node counted once per path
    /// that reaches it (saturating).
    pub unfolded: u64,
}

impl Analysis {
    pub fn of(edges: &[Vec<usize>]) -> Analysis {
        let components = strongly_connected(edges);
        let mut component_of = vec![0; edges.len()];
        for (index, component) in components.iter().enumerate() {
            for &node in component {
                component_of[node] = index;
            }
        }
        let mut analysis = Analysis {
            reaches: vec![Reach::Cycle(usize::MAX); edges.len()],
            cycles: Vec::new(),
            sinks_first: components.iter().flatten().copied().collect(),
        };
        // Components come sinks first, so what a node refers to is settled before it.
        for (index, component) in components.iter().enumerate() {
            let cyclic = component.len() > 1 || edges[component[0]].contains(&component[0]);
            if cyclic {
                let cycle = analysis.cycles.len();
                analysis
                    .cycles
                    .push(shortest_cycle(edges, &component_of, index, component));
                for &node in component {
                    analysis.reaches[node] = Reach::Cycle(cycle);
                }
            } else {
                let node = component[0];
                analysis.reaches[node] = analysis.settle(node, &edges[node]);
            }
        }
        analysis
    }

    /// What a node reaches, from what the nodes it refers to reach.
    fn settle(&self, node: usize, targets: &[usize]) -> Reach {
        let mut below = Below {
            depth: 0,
            deepest: None,
            bottom: node,
            unfolded: 0,
        };
        for &target in targets {
            match self.reaches[target] {
                Reach::Cycle(cycle) | Reach::LeadsToCycle { cycle, .. } => {
                    return Reach::LeadsToCycle { via: target, cycle };
                }
                Reach::Acyclic(under) => {
                    if under.depth + 1 > below.depth {
                        below.depth = under.depth + 1;
                        below.deepest = Some(target);
                        below.bottom = under.bottom;
                    }
                    below.unfolded = below
                        .unfolded
                        .saturating_add(1)
                        .saturating_add(under.unfolded);
                }
            }
        }
        Reach::Acyclic(below)
    }

    pub fn reach(&self, node: usize) -> Reach {
        self.reaches[node]
    }

    pub fn cycles(&self) -> &[Vec<usize>] {
        &self.cycles
    }

    /// Every node, each after all the nodes it refers to, unless they share a cycle.
    pub fn sinks_first(&self) -> &[usize] {
        &self.sinks_first
    }

    /// The cycle a node is on or leads to.
    pub fn cycle_of(&self, node: usize) -> Option<&[usize]> {
        match self.reaches[node] {
            Reach::Cycle(cycle) | Reach::LeadsToCycle { cycle, .. } => Some(&self.cycles[cycle]),
            Reach::Acyclic(_) => None,
        }
    }

    /// The longest chain below an acyclic node, from the node down, as text: `a → b → c`,
    /// shortened in the middle when long, with its length in `noun`s.
    pub fn chain_text<'n>(
        &self,
        node: usize,
        noun: &str,
        name: impl Fn(usize) -> &'n str,
    ) -> String {
        let Reach::Acyclic(below) = self.reaches[node] else {
            return name(node).to_owned();
        };
        let length = below.depth + 1;
        let shown = if length <= SHOWN_WHOLE {
            length
        } else {
            SHOWN_AT_START
        };
        let mut path = vec![node];
        while path.len() < shown {
            match self.reaches[*path.last().expect("not empty")] {
                Reach::Acyclic(Below {
                    deepest: Some(next),
                    ..
                }) => path.push(next),
                _ => break,
            }
        }
        if length <= SHOWN_WHOLE {
            return joined(&path, name);
        }
        shortened(&path, below.bottom, length, noun, name)
    }
}

/// How many nodes a long path shows before the `…`.
const SHOWN_AT_START: usize = 3;

/// How many nodes a path may have and still be shown whole.
const SHOWN_WHOLE: usize = 6;

fn joined<'n>(path: &[usize], name: impl Fn(usize) -> &'n str) -> String {
    path.iter()
        .map(|&node| name(node))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// A long path: its start, `…`, its last node, and its length in `noun`s.
fn shortened<'n>(
    start: &[usize],
    last: usize,
    length: usize,
    noun: &str,
    name: impl Fn(usize) -> &'n str,
) -> String {
    let mut names: Vec<&str> = start.iter().map(|&node| name(node)).collect();
    names.push("…");
    names.push(name(last));
    format!("{} ({length} {noun})", names.join(" → "))
}

/// A cycle as text, back to where it starts (`a → b → a`), shortened in the middle when
/// long, with its length in `noun`s.
pub fn cycle_text<'n>(cycle: &[usize], noun: &str, name: impl Fn(usize) -> &'n str) -> String {
    let Some(&first) = cycle.first() else {
        return String::new();
    };
    if cycle.len() < SHOWN_WHOLE {
        let closed: Vec<usize> = cycle.iter().copied().chain([first]).collect();
        return joined(&closed, name);
    }
    shortened(&cycle[..SHOWN_AT_START], first, cycle.len(), noun, name)
}

/// Tarjan's strongly connected components, iteratively, in reverse topological order: a
/// component comes after every component it refers to.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let count = edges.len();
    let mut order = vec![UNVISITED; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..count {
        if order[root] != UNVISITED {
            continue;
        }
        // Each frame: a node and how many of its edges have been followed.
        let mut calls = vec![(root, 0)];
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((node, followed)) = calls.last_mut() {
            let node = *node;
            if let Some(&target) = edges[node].get(*followed) {
                *followed += 1;
                if order[target] == UNVISITED {
                    order[target] = next;
                    low[target] = next;
                    next += 1;
                    stack.push(target);
                    on_stack[target] = true;
                    calls.push((target, 0));
                } else if on_stack[target] {
                    low[node] = low[node].min(order[target]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(caller, _)) = calls.last() {
                low[caller] = low[caller].min(low[node]);
            }
            if low[node] == order[node] {
                let mut component = Vec::new();
                loop {
                    let member = stack.pop().expect("the node is on the stack");
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The shortest cycle from the lowest node of a component back to it, by breadth-first
/// search inside the component.
fn shortest_cycle(
    edges: &[Vec<usize>],
    component_of: &[usize],
    component: usize,
    members: &[usize],
) -> Vec<usize> {
    let start = *members.iter().min().expect("components are not empty");
    let mut parent: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &target in &edges[node] {
            if component_of[target] != component {
                continue;
            }
            if target == start {
                // Back along the parents to the start, which has none.
                let mut cycle = vec![node];
                while let Some(&before) = parent.get(cycle.last().expect("not empty")) {
                    cycle.push(before);
                }
                cycle.reverse();
                return cycle;
            }
            if target != start && !parent.contains_key(&target) {
                parent.insert(target, node);
                queue.push_back(target);
            }
        }
    }
    unreachable!("a cyclic component has a cycle through each of its nodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("f{i}")).collect()
    }

    #[test]
    fn chains_have_depth_and_unfold_once_per_path() {
        // 0 → 1 → 2, and 0 → 2 directly: 2 is reached along two paths.
        let analysis = Analysis::of(&[vec![1, 2], vec![2], vec![]]);
        assert_eq!(analysis.sinks_first(), [2, 1, 0]);
        let Reach::Acyclic(top) = analysis.reach(0) else {
            panic!("{:?}", analysis.reach(0))
        };
        assert_eq!((top.depth, top.deepest, top.bottom), (2, Some(1), 2));
        assert_eq!(top.unfolded, 3);
        let names = names(3);
        assert_eq!(
            analysis.chain_text(0, "flags", |i| &names[i]),
            "f0 → f1 → f2"
        );
        assert!(analysis.cycles().is_empty());
    }

    #[test]
    fn cycles_are_found_once_per_component_through_its_lowest_node() {
        // 1 → 2 → 3 → 1 and 3 → 2: one component, shortest cycle from 1.
        let edges = vec![vec![1], vec![2], vec![3], vec![2, 1], vec![4]];
        let analysis = Analysis::of(&edges);
        assert_eq!(analysis.cycles(), [vec![1, 2, 3], vec![4]]);
        assert_eq!(analysis.reach(2), Reach::Cycle(0));
        assert_eq!(analysis.reach(0), Reach::LeadsToCycle { via: 1, cycle: 0 });
        assert_eq!(analysis.reach(4), Reach::Cycle(1));
        let names = names(5);
        assert_eq!(
            cycle_text(&analysis.cycles()[0], "flags", |i| &names[i]),
            "f1 → f2 → f3 → f1"
        );
        assert_eq!(
            cycle_text(&analysis.cycles()[1], "flags", |i| &names[i]),
            "f4 → f4"
        );
    }

    #[test]
    fn long_shapes_are_linear_and_shown_short() {
        let n = 100_000;
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let analysis = Analysis::of(&chain);
        let names = names(n);
        assert_eq!(
            analysis.chain_text(0, "flags", |i| &names[i]),
            format!("f0 → f1 → f2 → … → f{} ({n} flags)", n - 1)
        );
        let cycle: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let analysis = Analysis::of(&cycle);
        assert_eq!(analysis.cycles().len(), 1);
        assert_eq!(
            cycle_text(&analysis.cycles()[0], "flags", |i| &names[i]),
            format!("f0 → f1 → f2 → … → f0 ({n} flags)")
        );
        // Each node refers to the next two: the unfolded tree is exponential, the count
        // saturates.
        let diamond: Vec<Vec<usize>> = (0..n).map(|i| (i + 1..n.min(i + 3)).collect()).collect();
        let Reach::Acyclic(top) = Analysis::of(&diamond).reach(0) else {
            panic!("acyclic")
        };
        assert_eq!((top.depth, top.unfolded), (n - 1, u64::MAX));
    }
}
