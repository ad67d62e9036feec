//! Evaluation of compiled JSONLogic, following json-logic-js (the reference of
//! jsonlogic.com). Evaluation never fails: operators given nonsense yield null, false or
//! an empty array as json-logic-js does, and flagd's operators yield null.
//!
//! Each evaluation has a budget ([`BUDGET`]): every expression evaluated and every
//! element, member and string byte of a value built or copied is paid for from it. A rule
//! built to grow without bound (a `reduce` that doubles its accumulator each step, a `cat`
//! of itself) runs out, and then the whole evaluation yields null.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Node, Op, Path, custom};
use crate::eval::bucket::Fractional;
use crate::eval::context::{self, Context};
use crate::eval::js;

/// The work one evaluation may do, in units of expressions evaluated plus elements,
/// members and string bytes of the values built or copied: about 4 million, some hundred
/// MB at most, far above what real targeting needs (a `map` over a 10,000-element
/// attribute takes some 30,000).
pub(super) const BUDGET: u64 = 1 << 22;

/// What an evaluation reads besides the current data, and what is left of its budget.
/// There is one per scope (the context, and each element that `map`, `filter`,
/// `reduce`, `all`, `none` and `some` visit); the budget is shared by all of them.
pub(super) struct Env<'a> {
    pub root: &'a Context,
    pub flag_key: &'a str,
    pub timestamp: i64,
    pub fractional: Fractional,
    /// The file's `$evaluators`, which `Node::Ref`s point at.
    pub evaluators: &'a [Node],
    /// The value of each `$evaluators` entry evaluated in this scope so far, by index.
    pub evaluated: RefCell<HashMap<usize, Value>>,
    /// What is left of the evaluation's [`BUDGET`], shared by every scope.
    pub budget: Rc<Budget>,
}

/// The work an evaluation may still do, and whether it ran out.
#[derive(Debug)]
pub(super) struct Budget {
    left: Cell<u64>,
    exhausted: Cell<bool>,
}

impl Budget {
    pub fn new() -> Rc<Budget> {
        Rc::new(Budget {
            left: Cell::new(BUDGET),
            exhausted: Cell::new(false),
        })
    }

    pub fn is_exhausted(&self) -> bool {
        self.exhausted.get()
    }
}

impl<'a> Env<'a> {
    /// The environment of an inner scope: the same context and budget, nothing
    /// evaluated yet.
    fn scope(&self) -> Env<'a> {
        Env {
            root: self.root,
            flag_key: self.flag_key,
            timestamp: self.timestamp,
            fractional: self.fractional,
            evaluators: self.evaluators,
            evaluated: RefCell::default(),
            budget: self.budget.clone(),
        }
    }

    /// Takes `units` from the budget. Once they are not there, the budget is spent: this
    /// and every later call fail.
    pub fn spend(&self, units: u64) -> bool {
        let budget = &self.budget;
        let left = budget.left.get();
        if budget.exhausted.get() || units > left {
            budget.exhausted.set(true);
            budget.left.set(0);
            return false;
        }
        budget.left.set(left - units);
        true
    }
}
/// A result as an owned value: a borrowed one is copied, and the copy paid for (null when
/// the budget does not cover it).
pub(super) fn owned(value: Cow<'_, Value>, env: &Env<'_>) -> Value {
    match value {
        Cow::Owned(value) => value,
        Cow::Borrowed(value) if env.spend(size(value)) => value.clone(),
        Cow::Borrowed(_) => Value::Null,
    }
}

/// What copying a value costs: one unit per value, plus the bytes of its strings and of
/// its members' names.
fn size(value: &Value) -> u64 {
    match value {
        Value::String(text) => 1 + text.len() as u64,
        Value::Array(items) => 1 + items.iter().map(size).sum::<u64>(),
        Value::Object(members) => 1 + members_size(members),
        _ => 1,
    }
}

fn members_size(members: &Map<String, Value>) -> u64 {
    members
        .iter()
        .map(|(name, value)| name.len() as u64 + size(value))
        .sum()
}

/// The data `var` reads: the context, or the element that `map`, `filter`, `reduce`,
/// `all`, `none` and `some` are visiting.
#[derive(Clone, Copy)]
pub(super) enum Data<'a> {
    Root,
    Item(&'a Value),
}

pub(super) fn eval<'a>(node: &'a Node, env: &Env<'a>, data: Data<'a>) -> Cow<'a, Value> {
    if !env.spend(1) {
        return null();
    }
    match node {
        Node::Literal(value) => Cow::Borrowed(value),
        Node::Array(items) => Cow::Owned(Value::Array(
            items
                .iter()
                .map(|item| owned(eval(item, env, data), env))
                .collect(),
        )),
        Node::Var { path, default } => {
            let found = match path {
                Path::Static(segments) => var(segments, env, data),
                Path::Dynamic(expression) => {
                    let path = eval(expression, env, data);
                    let path = js::to_js_string(&path);
                    if !env.spend(path.len() as u64) {
                        return null();
                    }
                    let segments: Vec<&str> = if path.is_empty() {
                        Vec::new()
                    } else {
                        path.split('.').collect()
                    };
                    var(&segments, env, data)
                }
            };
            match (found, default) {
                (Some(value), _) => value,
                (None, Some(default)) => eval(default, env, data),
                (None, None) => Cow::Owned(Value::Null),
            }
        }
        Node::Op(op, args) => apply(*op, args, env, data),
        Node::Ref(evaluator) => Cow::Owned(reference(*evaluator, env, data)),
    }
}

/// A `$evaluators` entry's value: evaluated once per scope, however often referred to.
fn reference<'a>(evaluator: usize, env: &Env<'a>, data: Data<'a>) -> Value {
    if let Some(value) = env.evaluated.borrow().get(&evaluator) {
        return value.clone();
    }
    let value = eval(&env.evaluators[evaluator], env, data).into_owned();
    env.evaluated.borrow_mut().insert(evaluator, value.clone());
    value
}

/// `var`: `None` when the path leads nowhere, so the default applies. A present null is
/// returned as null, as json-logic-js does.
fn var<'a, S: AsRef<str>>(segments: &[S], env: &Env<'a>, data: Data<'a>) -> Option<Cow<'a, Value>> {
    let (start, rest): (&'a Value, &[S]) = match data {
        Data::Item(item) => (item, segments),
        Data::Root => {
            let Some((first, rest)) = segments.split_first() else {
                if !env.spend(members_size(env.root)) {
                    return None;
                }
                let mut whole = env.root.clone();
                whole.insert("$flagd".to_owned(), flagd_properties(env));
                return Some(Cow::Owned(Value::Object(whole)));
            };
            if first.as_ref() == "$flagd" {
                let properties = flagd_properties(env);
                return walk(&properties, rest).map(|value| Cow::Owned(value.clone()));
            }
            (context::member(env.root, first.as_ref())?, rest)
        }
    };
    walk(start, rest).map(Cow::Borrowed)
}

fn walk<'v, S: AsRef<str>>(start: &'v Value, segments: &[S]) -> Option<&'v Value> {
    segments.iter().try_fold(start, |value, segment| {
        context::child(value, segment.as_ref())
    })
}

/// The `$flagd` object flagd adds to every context.
fn flagd_properties(env: &Env<'_>) -> Value {
    let mut properties = Map::new();
    properties.insert("flagKey".to_owned(), Value::from(env.flag_key));
    properties.insert("timestamp".to_owned(), Value::from(env.timestamp));
    Value::Object(properties)
}

fn bool_value<'a>(b: bool) -> Cow<'a, Value> {
    Cow::Owned(Value::Bool(b))
}

fn number<'a>(f: f64) -> Cow<'a, Value> {
    Cow::Owned(js::number_value(f))
}

fn null<'a>() -> Cow<'a, Value> {
    Cow::Owned(Value::Null)
}

fn apply<'a>(op: Op, args: &'a [Node], env: &Env<'a>, data: Data<'a>) -> Cow<'a, Value> {
    let arg = |i: usize| args.get(i).map_or_else(null, |node| eval(node, env, data));
    let all_args = || args.iter().map(|node| eval(node, env, data));
    match op {
        Op::If => {
            let mut pairs = args.chunks_exact(2);
            for pair in pairs.by_ref() {
                if js::truthy(&eval(&pair[0], env, data)) {
                    return eval(&pair[1], env, data);
                }
            }
            pairs
                .remainder()
                .first()
                .map_or_else(null, |otherwise| eval(otherwise, env, data))
        }
        Op::Eq => bool_value(js::loose_eq(&arg(0), &arg(1))),
        Op::Ne => bool_value(!js::loose_eq(&arg(0), &arg(1))),
        Op::StrictEq => bool_value(js::strict_eq(&arg(0), &arg(1))),
        Op::StrictNe => bool_value(!js::strict_eq(&arg(0), &arg(1))),
        Op::Not => bool_value(!js::truthy(&arg(0))),
        Op::Truthy => bool_value(js::truthy(&arg(0))),
        Op::And | Op::Or => {
            let stop_when = op == Op::Or;
            let mut last = null();
            for node in args {
                last = eval(node, env, data);
                if js::truthy(&last) == stop_when {
                    break;
                }
            }
            last
        }
        Op::Lt | Op::Lte => {
            let holds = if op == Op::Lt { js::lt } else { js::lte };
            let (a, b) = (arg(0), arg(1));
            // Three arguments test "between": a < b < c.
            bool_value(holds(&a, &b) && (args.len() < 3 || holds(&b, &arg(2))))
        }
        Op::Gt => bool_value(js::gt(&arg(0), &arg(1))),
        Op::Gte => bool_value(js::gte(&arg(0), &arg(1))),
        Op::In => bool_value(js::includes(&arg(1), &arg(0))),
        Op::Cat => {
            let mut text = String::new();
            for value in all_args() {
                let piece = js::to_js_string(&value);
                if !env.spend(piece.len() as u64) {
                    return null();
                }
                text.push_str(&piece);
            }
            Cow::Owned(Value::String(text))
        }
        Op::Substr => {
            let source = arg(0);
            let source = js::to_js_string(&source);
            if !env.spend(source.len() as u64) {
                return null();
            }
            let length = args.get(2).map(|_| arg(2));
            Cow::Owned(Value::String(substr(&source, &arg(1), length)))
        }
        Op::Add => number(all_args().map(|value| js::parse_float(&value)).sum()),
        Op::Mul => {
            if args.is_empty() {
                return null();
            }
            number(all_args().map(|value| js::parse_float(&value)).product())
        }
        Op::Sub => match args.len() {
            0 => null(),
            1 => number(-js::to_number(&arg(0))),
            _ => number(js::to_number(&arg(0)) - js::to_number(&arg(1))),
        },
        Op::Div => number(js::to_number(&arg(0)) / js::to_number(&arg(1))),
        Op::Mod => number(js::to_number(&arg(0)) % js::to_number(&arg(1))),
        Op::Min | Op::Max => {
            let numbers: Vec<f64> = all_args().map(|value| js::to_number(&value)).collect();
            if numbers.is_empty() || numbers.iter().any(|n| n.is_nan()) {
                return null();
            }
            let pick = if op == Op::Min { f64::min } else { f64::max };
            number(numbers.into_iter().reduce(pick).unwrap_or(f64::NAN))
        }
        Op::Merge => {
            let mut merged = Vec::new();
            for value in all_args() {
                match owned(value, env) {
                    Value::Array(items) => merged.extend(items),
                    other => merged.push(other),
                }
            }
            if !env.spend(merged.len() as u64) {
                return null();
            }
            Cow::Owned(Value::Array(merged))
        }
        Op::Missing => {
            // The keys are the arguments, or the first argument when it is an array.
            let mut values: Vec<Value> = all_args().map(|value| owned(value, env)).collect();
            let keys = match values.first_mut() {
                Some(Value::Array(keys)) => std::mem::take(keys),
                _ => values,
            };
            Cow::Owned(Value::Array(missing(keys, env, data)))
        }
        Op::MissingSome => {
            let need = js::to_number(&arg(0));
            let keys = match owned(arg(1), env) {
                Value::Array(keys) => keys,
                _ => Vec::new(),
            };
            let total = keys.len();
            let missing = missing(keys, env, data);
            if (total - missing.len()) as f64 >= need {
                Cow::Owned(Value::Array(Vec::new()))
            } else {
                Cow::Owned(Value::Array(missing))
            }
        }
        Op::Map | Op::Filter | Op::All | Op::None | Op::Some => {
            let items = arg(0);
            let logic = args.get(1);
            iterate(op, &items, logic, env)
        }
        Op::Reduce => {
            let items = arg(0);
            let mut accumulator = owned(arg(2), env);
            let (Value::Array(items), Some(logic)) = (&*items, args.get(1)) else {
                return Cow::Owned(accumulator);
            };
            for item in items {
                if env.budget.is_exhausted() {
                    return null();
                }
                let mut scope = Map::new();
                scope.insert("current".to_owned(), owned(Cow::Borrowed(item), env));
                scope.insert("accumulator".to_owned(), accumulator);
                let scope = Value::Object(scope);
                accumulator = owned(eval(logic, &env.scope(), Data::Item(&scope)), env);
            }
            Cow::Owned(accumulator)
        }
        Op::Fractional => custom::fractional(args, env, data),
        Op::SemVer => custom::sem_ver(&all_args().collect::<Vec<_>>()),
        Op::StartsWith => custom::affix(&all_args().collect::<Vec<_>>(), |text, affix| {
            text.starts_with(affix)
        }),
        Op::EndsWith => custom::affix(&all_args().collect::<Vec<_>>(), |text, affix| {
            text.ends_with(affix)
        }),
    }
}

/// JavaScript's `source.substr(start, length)`, where a negative length stops that many
/// characters before the end (json-logic-js).
fn substr(source: &str, start: &Value, length: Option<Cow<'_, Value>>) -> String {
    let chars: Vec<char> = source.chars().collect();
    let len = chars.len() as i64;
    let integer = |value: &Value| {
        let n = js::to_number(value);
        if n.is_nan() {
            0
        } else {
            n.trunc().clamp(-1e15, 1e15) as i64
        }
    };
    let start = integer(start);
    let begin = if start < 0 {
        (len + start).max(0)
    } else {
        start.min(len)
    };
    let end = match length.as_deref() {
        None | Some(Value::Null) => len,
        Some(length) => {
            let length = integer(length);
            if length < 0 {
                (len + length).max(begin)
            } else {
                (begin + length).min(len)
            }
        }
    };
    chars[begin as usize..end.max(begin) as usize]
        .iter()
        .collect()
}

/// The keys (of `missing`) whose value is absent, null or an empty string.
fn missing(keys: Vec<Value>, env: &Env<'_>, data: Data<'_>) -> Vec<Value> {
    keys.into_iter()
        .filter(|key| {
            let path = js::to_js_string(key);
            let segments: Vec<&str> = path.split('.').collect();
            match var(&segments, env, data).as_deref() {
                None | Some(Value::Null) => true,
                Some(Value::String(text)) => text.is_empty(),
                Some(_) => false,
            }
        })
        .collect()
}

/// `map`, `filter`, `all`, `none` and `some`: `logic` runs with each element as data.
fn iterate<'a>(op: Op, items: &Value, logic: Option<&Node>, env: &Env<'_>) -> Cow<'a, Value> {
    let Value::Array(items) = items else {
        return match op {
            Op::Map | Op::Filter => Cow::Owned(Value::Array(Vec::new())),
            Op::None => bool_value(true),
            _ => bool_value(false),
        };
    };
    let result = |item: &Value| match logic {
        Some(logic) => owned(eval(logic, &env.scope(), Data::Item(item)), env),
        None => Value::Null,
    };
    let passes = |item: &Value| js::truthy(&result(item));
    match op {
        Op::Map => Cow::Owned(Value::Array(items.iter().map(result).collect())),
        Op::Filter => Cow::Owned(Value::Array(
            items
                .iter()
                .filter(|item| passes(item))
                .map(|item| owned(Cow::Borrowed(item), env))
                .collect(),
        )),
        Op::All => bool_value(!items.is_empty() && items.iter().all(passes)),
        Op::None => bool_value(!items.iter().any(passes)),
        _ => bool_value(items.iter().any(passes)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::eval::bucket::Fractional;
    use crate::eval::logic::Logic;

    fn run(expression: Value, context: Value) -> Value {
        let logic = Logic::compile(&expression).unwrap();
        let context = context.as_object().cloned().unwrap_or_default();
        logic
            .evaluate(&context, "my-flag", 1_700_000_000, Fractional::V2)
            .into_owned()
    }

    fn cases(cases: &[(Value, Value, Value)]) {
        for (expression, context, expected) in cases {
            assert_eq!(
                &run(expression.clone(), context.clone()),
                expected,
                "{expression} with {context}"
            );
        }
    }

    #[test]
    fn var_reads_paths_defaults_and_flagd_properties() {
        let ctx = json!({"a": {"b": [10, 20]}, "n": null, "targetingKey": "u1"});
        cases(&[
            (json!({"var": "a.b.1"}), ctx.clone(), json!(20)),
            (json!({"var": ["a.c", "dflt"]}), ctx.clone(), json!("dflt")),
            (json!({"var": ["n", "dflt"]}), ctx.clone(), json!(null)),
            (json!({"var": "zzz"}), ctx.clone(), json!(null)),
            (json!({"var": ["targetingKey"]}), ctx.clone(), json!("u1")),
            (
                json!({"var": "$flagd.flagKey"}),
                ctx.clone(),
                json!("my-flag"),
            ),
            (
                json!({"var": "$flagd.timestamp"}),
                ctx.clone(),
                json!(1_700_000_000),
            ),
            (
                json!({"var": {"cat": ["a", ".b.", 0]}}),
                ctx.clone(),
                json!(10),
            ),
            (json!({"var": 1}), json!({"1": "one"}), json!("one")),
        ]);
        let whole = run(json!({"var": ""}), json!({"x": 1}));
        assert_eq!(whole["x"], json!(1));
        assert_eq!(whole["$flagd"]["flagKey"], json!("my-flag"));
    }

    #[test]
    fn if_chains_and_logic_short_circuit() {
        let none = json!({});
        cases(&[
            (
                json!({"if": [true, "yes", "no"]}),
                none.clone(),
                json!("yes"),
            ),
            (
                json!({"if": [false, "yes", "no"]}),
                none.clone(),
                json!("no"),
            ),
            (
                json!({"if": [false, "a", false, "b", "c"]}),
                none.clone(),
                json!("c"),
            ),
            (
                json!({"if": [false, "a", true, "b", "c"]}),
                none.clone(),
                json!("b"),
            ),
            (json!({"if": [false, "a"]}), none.clone(), json!(null)),
            (json!({"if": []}), none.clone(), json!(null)),
            (
                json!({"?:": [1, "one", "other"]}),
                none.clone(),
                json!("one"),
            ),
            (json!({"and": [1, "", 2]}), none.clone(), json!("")),
            (json!({"and": [1, 2]}), none.clone(), json!(2)),
            (json!({"or": [0, "", "x"]}), none.clone(), json!("x")),
            (json!({"or": [0, false]}), none.clone(), json!(false)),
            (json!({"!": [[]]}), none.clone(), json!(true)),
            (json!({"!": false}), none.clone(), json!(true)),
            (json!({"!!": ["0"]}), none.clone(), json!(true)),
        ]);
    }

    #[test]
    fn comparisons_follow_javascript() {
        let none = json!({});
        cases(&[
            (json!({"==": [1, "1"]}), none.clone(), json!(true)),
            (json!({"===": [1, "1"]}), none.clone(), json!(false)),
            (json!({"!=": [1, "2"]}), none.clone(), json!(true)),
            (json!({"!==": [1, 1.0]}), none.clone(), json!(false)),
            (
                json!({"==": [null, {"var": "missing"}]}),
                none.clone(),
                json!(true),
            ),
            (json!({"<": [1, 2]}), none.clone(), json!(true)),
            (json!({"<": [1, 2, 3]}), none.clone(), json!(true)),
            (json!({"<": [1, 3, 3]}), none.clone(), json!(false)),
            (json!({"<=": [1, 3, 3]}), none.clone(), json!(true)),
            (json!({">": ["b", "a"]}), none.clone(), json!(true)),
            (json!({">=": [2, "2"]}), none.clone(), json!(true)),
            (json!({">": ["x", 1]}), none.clone(), json!(false)),
        ]);
    }

    #[test]
    fn strings_and_arrays() {
        let none = json!({});
        cases(&[
            (
                json!({"in": ["Spring", "Springfield"]}),
                none.clone(),
                json!(true),
            ),
            (json!({"in": ["b", ["a", "b"]]}), none.clone(), json!(true)),
            (json!({"in": [1, ["1"]]}), none.clone(), json!(false)),
            (json!({"in": ["a", 5]}), none.clone(), json!(false)),
            (
                json!({"cat": ["I love", " pie", 1, null]}),
                none.clone(),
                json!("I love pie1null"),
            ),
            (
                json!({"substr": ["jsonlogic", 4]}),
                none.clone(),
                json!("logic"),
            ),
            (
                json!({"substr": ["jsonlogic", -5]}),
                none.clone(),
                json!("logic"),
            ),
            (
                json!({"substr": ["jsonlogic", 1, 3]}),
                none.clone(),
                json!("son"),
            ),
            (
                json!({"substr": ["jsonlogic", 4, -2]}),
                none.clone(),
                json!("log"),
            ),
            (
                json!({"merge": [[1, 2], 3, [[4]]]}),
                none.clone(),
                json!([1, 2, 3, [4]]),
            ),
        ]);
    }

    #[test]
    fn arithmetic() {
        let none = json!({});
        cases(&[
            (json!({"+": [1, "2", 3.5]}), none.clone(), json!(6.5)),
            (json!({"+": "2.5"}), none.clone(), json!(2.5)),
            (json!({"-": [5, 2]}), none.clone(), json!(3)),
            (json!({"-": 2}), none.clone(), json!(-2)),
            (json!({"*": [2, "3"]}), none.clone(), json!(6)),
            (json!({"/": [1, 4]}), none.clone(), json!(0.25)),
            (json!({"/": [1, 0]}), none.clone(), json!(null)),
            (json!({"%": [7, 3]}), none.clone(), json!(1)),
            (json!({"min": [3, 1, 2]}), none.clone(), json!(1)),
            (json!({"max": [3, "7", 2]}), none.clone(), json!(7)),
            (json!({"max": []}), none.clone(), json!(null)),
            (json!({"+": [1, "x"]}), none.clone(), json!(null)),
        ]);
    }

    #[test]
    fn missing_and_missing_some() {
        let ctx = json!({"a": 1, "b": "", "c": null});
        cases(&[
            (
                json!({"missing": ["a", "b", "c", "d"]}),
                ctx.clone(),
                json!(["b", "c", "d"]),
            ),
            (json!({"missing": [["a", "d"]]}), ctx.clone(), json!(["d"])),
            (
                json!({"missing_some": [1, ["a", "d"]]}),
                ctx.clone(),
                json!([]),
            ),
            (
                json!({"missing_some": [2, ["a", "d"]]}),
                ctx.clone(),
                json!(["d"]),
            ),
            (
                json!({"if": [{"missing": "a"}, "absent", "present"]}),
                ctx.clone(),
                json!("present"),
            ),
        ]);
    }

    #[test]
    fn array_operations_scope_var_to_the_element() {
        let ctx = json!({"xs": [1, 2, 3, 4]});
        cases(&[
            (
                json!({"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}),
                ctx.clone(),
                json!([2, 4, 6, 8]),
            ),
            (
                json!({"filter": [{"var": "xs"}, {"%": [{"var": ""}, 2]}]}),
                ctx.clone(),
                json!([1, 3]),
            ),
            (
                json!({"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}),
                ctx.clone(),
                json!(10),
            ),
            (
                json!({"all": [{"var": "xs"}, {">": [{"var": ""}, 0]}]}),
                ctx.clone(),
                json!(true),
            ),
            (json!({"all": [[], true]}), ctx.clone(), json!(false)),
            (
                json!({"none": [{"var": "xs"}, {">": [{"var": ""}, 3]}]}),
                ctx.clone(),
                json!(false),
            ),
            (
                json!({"some": [{"var": "xs"}, {">": [{"var": ""}, 3]}]}),
                ctx.clone(),
                json!(true),
            ),
            (json!({"map": [{"var": "nope"}, 1]}), ctx.clone(), json!([])),
            (
                json!({"reduce": [{"var": "nope"}, 1, 7]}),
                ctx.clone(),
                json!(7),
            ),
        ]);
    }

    #[test]
    fn growth_without_bound_runs_out_of_budget_and_yields_null() {
        let ones = json!(vec![1; 40]);
        let doubling = [
            json!({"reduce": [ones, {"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}, [0]]}),
            json!({"reduce": [ones, {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "x"]}),
            json!({"reduce": [ones, [{"var": "accumulator"}, {"var": "accumulator"}], 0]}),
            json!({"if": [{"reduce": [ones, {"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}, [0]]}, "grown", "small"]}),
        ];
        for expression in doubling {
            assert_eq!(
                run(expression.clone(), json!({})),
                json!(null),
                "{expression}"
            );
        }
    }

    #[test]
    fn the_budget_covers_real_targeting() {
        let items: Vec<u32> = (0..10_000).collect();
        let ctx = json!({"items": items, "user": "a".repeat(100_000)});
        let mapped = run(
            json!({"map": [{"var": "items"}, {"*": [{"var": ""}, 2]}]}),
            ctx.clone(),
        );
        assert_eq!(mapped.as_array().map(Vec::len), Some(10_000));
        let sum = run(
            json!({"reduce": [{"var": "items"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}),
            ctx.clone(),
        );
        assert_eq!(sum, json!(49_995_000));
        let text = run(json!({"cat": [{"var": "user"}, "!"]}), ctx);
        assert_eq!(text.as_str().map(str::len), Some(100_001));
    }

    #[test]
    fn arrays_evaluate_their_elements() {
        cases(&[(
            json!([{"var": "a"}, 2, {"cat": ["x", "y"]}]),
            json!({"a": 1}),
            json!([1, 2, "xy"]),
        )]);
    }
}
