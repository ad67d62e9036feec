//! JSONLogic as flagd runs it: the operators of jsonlogic.com with JavaScript semantics,
//! plus flagd's `fractional`, `sem_ver`, `starts_with` and `ends_with`.
//!
//! An expression is compiled once into a tree of [`Node`]s; evaluation walks the tree
//! and borrows from the context wherever it can. A flagd file's `$evaluators` are
//! compiled once each ([`Evaluators`]) and shared: a `{"$ref": name}` is a node that
//! points at one, and evaluates it at most once per scope, so references that fan out
//! (each evaluator naming the next twice, thirty deep) cost their size, not 2^30.
//!
//! Not a well-kept crate: datalogic-rs (which flagd's Rust evaluator builds on) was
//! considered, but it accepts many operators flagd does not (flagd reports those as
//! `PARSE_ERROR`), its built-in `starts_with` / `ends_with` differ from flagd's
//! null-on-bad-input ones, and its API changed across three major versions in a year.
//! The operator set flagd supports is small enough to own.

mod custom;
mod eval;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::bucket::Fractional;
use super::context::Context;
use super::graph::{Analysis, Reach, cycle_text};
use eval::{Budget, Data, Env};

/// How long a chain of `$ref`s may be, from a flag's targeting down.
const MAX_REF_DEPTH: usize = 32;

/// How deep an expression may nest once its `$ref`s are followed: as deep as a JSON
/// document may nest for serde_json, which bounds the evaluator's recursion.
const MAX_NESTING: usize = 127;

/// How many JSON values a literal may expand to through the `$ref`s inside it.
const MAX_LITERAL_VALUES: usize = 10_000;

/// A compiled JSONLogic expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Logic {
    root: Node,
    /// The `$evaluators` of its file that `root` refers to by index.
    evaluators: Arc<[Node]>,
}

impl Logic {
    /// Compiles an expression. Fails on an operator flagd does not know, naming it.
    pub fn compile(expression: &Value) -> Result<Logic> {
        Evaluators::new(&Map::new()).compile(expression)
    }

    /// Evaluates the expression against a context. `flag_key` and `timestamp` (Unix
    /// seconds) are what `$flagd.flagKey` and `$flagd.timestamp` read; `fractional` is the
    /// bucketing of the `fractional` operator. An evaluation that runs out of its budget
    /// (see the `eval` module) yields null, so the flag serves its default rather than a
    /// variant chosen on a cut-short computation.
    pub fn evaluate<'a>(
        &'a self,
        context: &'a Context,
        flag_key: &'a str,
        timestamp: i64,
        fractional: Fractional,
    ) -> Cow<'a, Value> {
        let env = Env {
            root: context,
            flag_key,
            timestamp,
            fractional,
            evaluators: &self.evaluators,
            evaluated: RefCell::default(),
            budget: Budget::new(),
        };
        let result = eval::eval(&self.root, &env, Data::Root);
        if env.budget.is_exhausted() {
            return Cow::Owned(Value::Null);
        }
        result
    }
}

/// A flagd file's `$evaluators`, each compiled once, in an order where every evaluator
/// comes after those it refers to, so that compiling never recurses from one into
/// another.
pub(crate) struct Evaluators<'j> {
    json: Vec<&'j Value>,
    index: HashMap<&'j str, usize>,
    names: Vec<&'j str>,
    analysis: Analysis,
    /// Each evaluator's depth through its `$ref`s, or why it does not compile.
    compiled: Vec<Result<usize, String>>,
    nodes: Arc<[Node]>,
}

impl<'j> Evaluators<'j> {
    pub(crate) fn new(evaluators: &'j Map<String, Value>) -> Evaluators<'j> {
        let names: Vec<&str> = evaluators.keys().map(String::as_str).collect();
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let json: Vec<&Value> = evaluators.values().collect();
        let edges: Vec<Vec<usize>> = json.iter().map(|value| refs_in(value, &index)).collect();
        let uncompiled = "on or above a cycle of `$ref`s, or too deep in them".to_owned();
        let mut table = Evaluators {
            analysis: Analysis::of(&edges),
            compiled: vec![Err(uncompiled); names.len()],
            nodes: Arc::from([]),
            json,
            index,
            names,
        };
        let mut nodes = vec![Node::Literal(Value::Null); table.names.len()];
        for evaluator in table.analysis.sinks_first().to_vec() {
            // One on or above a cycle, or too deep, is never compiled: `targeting`
            // refuses a flag that refers to it.
            let Reach::Acyclic(below) = table.analysis.reach(evaluator) else {
                continue;
            };
            if below.depth >= MAX_REF_DEPTH {
                continue;
            }
            let compiled = table.compile_node(table.json[evaluator]).map(|node| {
                let depth = table.depth(&node);
                nodes[evaluator] = node;
                depth
            });
            table.compiled[evaluator] = compiled.map_err(|error| error.to_string());
        }
        table.nodes = Arc::from(nodes);
        table
    }

    /// Compiles a flag's targeting. The outer error stops the file from loading: a
    /// `$ref` cycle, too long a chain of `$ref`s, too deep a nesting through them. The
    /// inner one is targeting that does not compile, which flagd reports at evaluation.
    pub(crate) fn targeting(&self, expression: &Value) -> Result<Result<Logic, String>> {
        for evaluator in refs_in(expression, &self.index) {
            let name = |node: usize| self.names[node];
            match self.analysis.reach(evaluator) {
                Reach::Cycle(_) | Reach::LeadsToCycle { .. } => {
                    let cycle = self.analysis.cycle_of(evaluator).unwrap_or_default();
                    bail!(
                        "`$ref`s to \"{}\" form a cycle ({}) in $evaluators",
                        name(evaluator),
                        cycle_text(cycle, "evaluators", name)
                    );
                }
                Reach::Acyclic(below) if below.depth >= MAX_REF_DEPTH => bail!(
                    "`$ref`s nest more than {MAX_REF_DEPTH} deep from \"{}\" ({})",
                    name(evaluator),
                    self.analysis.chain_text(evaluator, "evaluators", name)
                ),
                Reach::Acyclic(_) => {}
            }
        }
        let logic = match self.compile(expression) {
            Ok(logic) => logic,
            Err(error) => return Ok(Err(error.to_string())),
        };
        let depth = self.depth(&logic.root);
        if depth > MAX_NESTING {
            bail!(
                "targeting nests {depth} levels deep through its `$ref`s, more than the {MAX_NESTING} flagctl evaluates"
            );
        }
        Ok(Ok(logic))
    }

    fn compile(&self, expression: &Value) -> Result<Logic> {
        Ok(Logic {
            root: self.compile_node(expression)?,
            evaluators: Arc::clone(&self.nodes),
        })
    }

    fn compile_node(&self, json: &Value) -> Result<Node> {
        match json {
            Value::Array(items) => {
                let nodes = items
                    .iter()
                    .map(|item| self.compile_node(item))
                    .collect::<Result<Vec<_>>>()?;
                if !nodes.iter().all(|node| matches!(node, Node::Literal(_))) {
                    return Ok(Node::Array(nodes));
                }
                let values = nodes.into_iter().map(|node| match node {
                    Node::Literal(value) => value,
                    _ => unreachable!("all literal"),
                });
                Ok(Node::Literal(Value::Array(values.collect())))
            }
            // An object is an operation only with exactly one key; otherwise it is data.
            Value::Object(members) if members.len() == 1 => {
                let (name, args) = members.iter().next().expect("one member");
                if name == "var" {
                    return self.compile_var(args);
                }
                if name == "$ref" {
                    return self.reference(args);
                }
                let Some(op) = Op::from_name(name) else {
                    bail!("unknown operator \"{name}\"");
                };
                let args = match args {
                    Value::Array(items) => items
                        .iter()
                        .map(|item| self.compile_node(item))
                        .collect::<Result<_>>()?,
                    single => vec![self.compile_node(single)?],
                };
                Ok(Node::Op(op, args))
            }
            Value::Object(_) => {
                if refs_in(json, &self.index).is_empty() {
                    return Ok(Node::Literal(json.clone()));
                }
                let mut budget = values(json) + MAX_LITERAL_VALUES;
                Ok(Node::Literal(self.expand(json, 0, &mut budget)?))
            }
            other => Ok(Node::Literal(other.clone())),
        }
    }

    /// `{"$ref": name}`: a node pointing at a compiled evaluator.
    fn reference(&self, name: &Value) -> Result<Node> {
        let Some(&evaluator) = name.as_str().and_then(|name| self.index.get(name)) else {
            bail!("no evaluator named {name} in $evaluators");
        };
        match &self.compiled[evaluator] {
            Ok(_) => Ok(Node::Ref(evaluator)),
            Err(why) => bail!("{why}"),
        }
    }

    fn compile_var(&self, args: &Value) -> Result<Node> {
        let (path, default) = match args {
            Value::Array(items) => (items.first().unwrap_or(&Value::Null), items.get(1)),
            single => (single, None),
        };
        let path = match path {
            Value::Null => Path::Static(Vec::new()),
            Value::String(text) if text.is_empty() => Path::Static(Vec::new()),
            Value::String(text) => Path::Static(text.split('.').map(str::to_owned).collect()),
            Value::Number(n) => Path::Static(vec![n.to_string()]),
            expression => Path::Dynamic(Box::new(self.compile_node(expression)?)),
        };
        let default = default
            .map(|default| self.compile_node(default))
            .transpose()?
            .map(Box::new);
        Ok(Node::Var { path, default })
    }

    /// A literal with each `{"$ref": name}` inside it replaced by that evaluator's JSON,
    /// as flagd substitutes them, within a budget of values and of nesting.
    fn expand(&self, json: &Value, nesting: usize, budget: &mut usize) -> Result<Value> {
        if *budget == 0 || nesting > MAX_NESTING {
            bail!(
                "a literal expands, through the `$ref`s in it, by more than {MAX_LITERAL_VALUES} values or beyond {MAX_NESTING} levels"
            );
        }
        *budget -= 1;
        Ok(match json {
            Value::Object(members) => {
                if let Some(evaluator) = reference_in(members, &self.index) {
                    return self.expand(self.json[evaluator], nesting, budget);
                }
                let members = members
                    .iter()
                    .map(|(key, member)| {
                        Ok((key.clone(), self.expand(member, nesting + 1, budget)?))
                    })
                    .collect::<Result<Map<_, _>>>()?;
                Value::Object(members)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.expand(item, nesting + 1, budget))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    /// How deep a node nests, counting each `$ref` as the evaluator it points at.
    fn depth(&self, node: &Node) -> usize {
        let below = match node {
            Node::Literal(_) => 0,
            Node::Ref(evaluator) => return *self.compiled[*evaluator].as_ref().unwrap_or(&0),
            Node::Array(items) | Node::Op(_, items) => {
                items.iter().map(|item| self.depth(item)).max().unwrap_or(0)
            }
            Node::Var { path, default } => {
                let path = match path {
                    Path::Static(_) => 0,
                    Path::Dynamic(expression) => self.depth(expression),
                };
                path.max(default.as_deref().map_or(0, |default| self.depth(default)))
            }
        };
        1 + below
    }
}

/// The evaluator a `{"$ref": name}` object names, when `members` is one.
fn reference_in(members: &Map<String, Value>, index: &HashMap<&str, usize>) -> Option<usize> {
    match (members.len(), members.get("$ref")) {
        (1, Some(Value::String(name))) => index.get(name.as_str()).copied(),
        _ => None,
    }
}

/// How many JSON values a value holds, itself included.
fn values(json: &Value) -> usize {
    1 + match json {
        Value::Object(members) => members.values().map(values).sum(),
        Value::Array(items) => items.iter().map(values).sum(),
        _ => 0,
    }
}

/// Every evaluator a JSON value refers to, in order, however deep inside.
fn refs_in(json: &Value, index: &HashMap<&str, usize>) -> Vec<usize> {
    fn collect(json: &Value, index: &HashMap<&str, usize>, refs: &mut Vec<usize>) {
        match json {
            Value::Object(members) => match reference_in(members, index) {
                Some(evaluator) => refs.push(evaluator),
                None => members
                    .values()
                    .for_each(|member| collect(member, index, refs)),
            },
            Value::Array(items) => items.iter().for_each(|item| collect(item, index, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    collect(json, index, &mut refs);
    refs
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    /// An array with at least one expression among its elements.
    Array(Vec<Node>),
    /// A `$evaluators` entry, by index.
    Ref(usize),
    Var {
        path: Path,
        default: Option<Box<Node>>,
    },
    Op(Op, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Path {
    /// Dotted path split at compile time; empty for the whole data.
    Static(Vec<String>),
    /// A path computed by an expression.
    Dynamic(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    If,
    Eq,
    StrictEq,
    Ne,
    StrictNe,
    Not,
    Truthy,
    And,
    Or,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Cat,
    Substr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Min,
    Max,
    Merge,
    Missing,
    MissingSome,
    Map,
    Filter,
    Reduce,
    All,
    None,
    Some,
    Fractional,
    SemVer,
    StartsWith,
    EndsWith,
}

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "if" | "?:" => Op::If,
            "==" => Op::Eq,
            "===" => Op::StrictEq,
            "!=" => Op::Ne,
            "!==" => Op::StrictNe,
            "!" => Op::Not,
            "!!" => Op::Truthy,
            "and" => Op::And,
            "or" => Op::Or,
            "<" => Op::Lt,
            "<=" => Op::Lte,
            ">" => Op::Gt,
            ">=" => Op::Gte,
            "in" => Op::In,
            "cat" => Op::Cat,
            "substr" => Op::Substr,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "min" => Op::Min,
            "max" => Op::Max,
            "merge" => Op::Merge,
            "missing" => Op::Missing,
            "missing_some" => Op::MissingSome,
            "map" => Op::Map,
            "filter" => Op::Filter,
            "reduce" => Op::Reduce,
            "all" => Op::All,
            "none" => Op::None,
            "some" => Op::Some,
            "fractional" => Op::Fractional,
            "sem_ver" => Op::SemVer,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_arrays_fold_into_one_value() {
        let logic = Logic::compile(&json!({"in": ["a", ["a", "b"]]})).unwrap();
        let Node::Op(Op::In, args) = &logic.root else {
            panic!("expected in: {:?}", logic.root)
        };
        assert_eq!(args[1], Node::Literal(json!(["a", "b"])));
    }

    #[test]
    fn unknown_operators_are_named() {
        let err = Logic::compile(&json!({"if": [{"frobnicate": [1]}, "a", "b"]})).unwrap_err();
        assert_eq!(err.to_string(), "unknown operator \"frobnicate\"");
        let err = Logic::compile(&json!({"$ref": "missing_evaluator"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no evaluator named \"missing_evaluator\" in $evaluators"
        );
    }

    #[test]
    fn multi_key_objects_are_data() {
        let logic = Logic::compile(&json!({"a": 1, "b": {"var": "x"}})).unwrap();
        assert_eq!(
            logic.root,
            Node::Literal(json!({"a": 1, "b": {"var": "x"}}))
        );
    }

    #[test]
    fn large_literals_compile_whole() {
        let big: Vec<u32> = (0..20_000).collect();
        let logic = Logic::compile(&json!({"a": big, "b": 1})).unwrap();
        assert_eq!(logic.root, Node::Literal(json!({"a": big, "b": 1})));
    }

    #[test]
    fn var_paths_split_at_compile_time() {
        let logic = Logic::compile(&json!({"var": ["user.name", "anon"]})).unwrap();
        assert_eq!(
            logic.root,
            Node::Var {
                path: Path::Static(vec!["user".into(), "name".into()]),
                default: Some(Box::new(Node::Literal(json!("anon")))),
            }
        );
    }
}
