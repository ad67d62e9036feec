//! Constructs of a flagd file whose result is not the same in every flagd engine: the Go
//! server (diegoholiveira/jsonlogic), and the in-process evaluators of JS
//! (`@openfeature/flagd-core`, json-logic-engine), Python (`openfeature-flagd-core`,
//! panzi-json-logic) and Java (json-logic-java).
//!
//! The portable subset is what `export` writes (the README's "Portable targeting"):
//! strict comparisons with literals, flagd's operators compared `=== true`, ordering and
//! `in` behind guards that hold alike in every engine. Anything else is reported, saying
//! which engines disagree and how. A guard is recognised where it protects: the earlier
//! operands of an `and`, and the condition of an `if` for its first branch.

use serde_json::Value;

/// One construct that differs between engines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unportable {
    /// A JSON Pointer (RFC 6901) to the construct in the file.
    pub pointer: String,
    /// The flag whose targeting holds it; `None` in `$evaluators`.
    pub flag: Option<String>,
    /// What differs, naming the engines.
    pub message: String,
    /// What to write instead.
    pub help: &'static str,
}

/// What is known about an attribute where an expression is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    /// `{"!==": [var, null]}` held.
    Present,
    /// `starts_with(var, "") === true` held.
    String,
    /// `starts_with(var, "") !== true` held.
    NotString,
    /// `var === number` held: a number everywhere, but possibly a boolean in Python.
    Number,
    /// The `and` holds the export's guard against Python's `1 === true` for a number.
    NotPythonBoolean,
    /// The `and` holds the export's guard against Python's `true === 1` for a boolean.
    NotPythonNumber,
}

type Facts = Vec<(String, Fact)>;

/// Every construct of a flagd document that differs between engines, in file order.
pub fn unportable(document: &Value) -> Vec<Unportable> {
    let mut found = Vec::new();
    if let Some(Value::Object(flags)) = document.get("flags") {
        for (key, definition) in flags {
            let Some(targeting) = definition.get("targeting") else {
                continue;
            };
            let pointer = format!("/flags/{}/targeting", escape(key));
            let mut walker = Walker {
                flag: Some(key),
                found: &mut found,
            };
            match targeting {
                Value::Null => {}
                Value::Object(members) if members.is_empty() => {}
                Value::Object(_) => walker.expression(targeting, &pointer, &mut Vec::new()),
                _ => walker.report(
                    &pointer,
                    "targeting that is not an object: the Python engine refuses the flag (PARSE_ERROR on every evaluation), Go, JS and Java serve it as a variant name, and flagd's schema wants an object".into(),
                    "wrap it: {\"if\": [true, VARIANT]}",
                ),
            }
        }
    }
    if let Some(Value::Object(evaluators)) = document.get("$evaluators") {
        for (name, expression) in evaluators {
            let pointer = format!("/$evaluators/{}", escape(name));
            let mut walker = Walker {
                flag: None,
                found: &mut found,
            };
            if contains_ref(expression) {
                walker.report(
                    &pointer,
                    "a `$ref` inside an evaluator resolves only when the engine substitutes the evaluators in the right order: Go visits them in random order, JS, Java and Python in file order".into(),
                    "refer only to evaluators from flags' targeting, or inline the inner one",
                );
            }
            walker.expression(expression, &pointer, &mut Vec::new());
        }
    }
    found
}

/// A JSON Pointer segment (RFC 6901).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn contains_ref(value: &Value) -> bool {
    match value {
        Value::Object(members) => {
            members.contains_key("$ref") || members.values().any(contains_ref)
        }
        Value::Array(items) => items.iter().any(contains_ref),
        _ => false,
    }
}

struct Walker<'a> {
    flag: Option<&'a String>,
    found: &'a mut Vec<Unportable>,
}

/// The operator and arguments of a JSONLogic operation: a one-member object.
fn operation(value: &Value) -> Option<(&str, Vec<&Value>)> {
    let Value::Object(members) = value else {
        return None;
    };
    if members.len() != 1 {
        return None;
    }
    let (op, args) = members.iter().next()?;
    let args = match args {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    Some((op.as_str(), args))
}

/// The path a `{"var": path}` reads, when it is a plain string without a default.
fn var_path(value: &Value) -> Option<&str> {
    match operation(value)? {
        ("var", args) if args.len() == 1 => args[0].as_str(),
        _ => None,
    }
}

/// The attribute and fact a guard establishes, when `value` is one.
fn guard(value: &Value) -> Option<(String, Fact)> {
    let (op, args) = operation(value)?;
    let [left, right] = args.as_slice() else {
        return None;
    };
    if let Some(path) = var_path(left) {
        return match (op, right) {
            ("!==", Value::Null) => Some((path.to_owned(), Fact::Present)),
            ("===", Value::Number(_)) => Some((path.to_owned(), Fact::Number)),
            _ => None,
        };
    }
    let (affix, affix_args) = operation(left)?;
    let path = match (affix, affix_args.as_slice()) {
        ("starts_with", [var, Value::String(prefix)]) if prefix.is_empty() => var_path(var)?,
        _ => return None,
    };
    match (op, right) {
        ("===", Value::Bool(true)) => Some((path.to_owned(), Fact::String)),
        ("!==", Value::Bool(true)) => Some((path.to_owned(), Fact::NotString)),
        _ => None,
    }
}

/// The export's guards against Python's `===` equating booleans with 0 and 1, which
/// follow the comparison in its `and`.
fn python_guard(value: &Value) -> Option<(String, Fact)> {
    let (op, args) = operation(value)?;
    match (op, args.as_slice()) {
        ("!", [inner]) => {
            let ("in", in_args) = operation(inner)? else {
                return None;
            };
            let (cat, cat_args) = operation(in_args.first()?)?;
            let [var] = cat_args.as_slice() else {
                return None;
            };
            if cat != "cat" {
                return None;
            }
            Some((var_path(var)?.to_owned(), Fact::NotPythonBoolean))
        }
        ("!==", [left, Value::Bool(true)]) => {
            let ("sem_ver", sem_args) = operation(left)? else {
                return None;
            };
            let path = var_path(sem_args.first()?)?;
            Some((path.to_owned(), Fact::NotPythonNumber))
        }
        _ => None,
    }
}

/// Guards that hold when `value` is truthy: itself, or each operand of an `and`.
fn guards(value: &Value) -> Facts {
    match operation(value) {
        Some(("and", args)) => args.into_iter().flat_map(guards).collect(),
        _ => guard(value).into_iter().collect(),
    }
}

fn knows(facts: &Facts, path: &str, fact: Fact) -> bool {
    facts.iter().any(|(p, f)| p == path && *f == fact)
}

/// Whether an expression yields true or false (never null, a number or an object) in
/// every engine, so that `and`, `or` and `!` treat it alike.
fn boolean(value: &Value) -> bool {
    if value.is_boolean() {
        return true;
    }
    match operation(value) {
        Some(("===" | "!==" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "!" | "!!" | "in", _)) => {
            true
        }
        Some(("and" | "or", args)) => args.into_iter().all(boolean),
        // An `if` whose results are all true or false: its branches, and its else.
        Some(("if" | "?:", args)) => {
            let count = args.len();
            count % 2 == 1
                && args
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| index % 2 == 1 || index + 1 == count)
                    .all(|(_, result)| boolean(result))
        }
        _ => false,
    }
}

fn literal(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_)) || operation(value).is_none()
}

const STRICT_HELP: &str =
    "compare with `===` to a value of the attribute's type (the README's \"Portable targeting\")";

impl Walker<'_> {
    fn report(&mut self, pointer: &str, message: String, help: &'static str) {
        self.found.push(Unportable {
            pointer: pointer.to_owned(),
            flag: self.flag.cloned(),
            message,
            help,
        });
    }

    /// Walks an expression at `pointer`, knowing `facts` about attributes there.
    fn expression(&mut self, value: &Value, pointer: &str, facts: &mut Facts) {
        let Some((op, args)) = operation(value) else {
            if let Value::Array(items) = value {
                for (index, item) in items.iter().enumerate() {
                    self.expression(item, &format!("{pointer}/{index}"), facts);
                }
            }
            return;
        };
        let here = format!("{pointer}/{}", escape(op));
        let arg_pointer = |index: usize| match value.as_object().and_then(|m| m.values().next()) {
            Some(Value::Array(_)) => format!("{here}/{index}"),
            _ => here.clone(),
        };
        self.check(op, &args, &here, facts);
        match op {
            // Each operand knows the guards before it.
            "and" => {
                let depth = facts.len();
                facts.extend(args.iter().filter_map(|arg| python_guard(arg)));
                for (index, arg) in args.iter().enumerate() {
                    self.expression(arg, &arg_pointer(index), facts);
                    facts.extend(guards(arg));
                }
                facts.truncate(depth);
            }
            // A branch knows its condition's guards.
            "if" | "?:" => {
                for (index, arg) in args.iter().enumerate() {
                    let depth = facts.len();
                    let is_branch = index % 2 == 1;
                    if is_branch {
                        facts.extend(guards(args[index - 1]));
                    }
                    self.expression(arg, &arg_pointer(index), facts);
                    facts.truncate(depth);
                }
            }
            _ => {
                for (index, arg) in args.iter().enumerate() {
                    self.expression(arg, &arg_pointer(index), facts);
                }
            }
        }
    }

    /// The portability of one operation.
    fn check(&mut self, op: &str, args: &[&Value], here: &str, facts: &Facts) {
        let guarded_var =
            |arg: &Value, fact: Fact| var_path(arg).is_some_and(|p| knows(facts, p, fact));
        match op {
            "==" | "!=" => {
                let message = if args.iter().any(|arg| arg.is_null()) {
                    format!(
                        "loose `{op}` against null: JS and Python treat 0 and false as equal to null, Go and Java do not"
                    )
                } else if args.iter().any(|arg| arg.is_number() || arg.is_boolean()) {
                    format!(
                        "loose `{op}` with a number or boolean converts text to numbers differently in each engine: \"\" equals 0 in Go, JS and Java but not in Python, \" 1\" equals 1 in JS, Python and Java but not in Go; JS and Python also read null as 0"
                    )
                } else {
                    format!(
                        "loose `{op}` of an attribute that may be an array or object: JS fails the evaluation (GENERAL), Python compares it as text, Go and Java as unequal"
                    )
                };
                let help = if args.iter().any(|arg| arg.is_null()) {
                    "use strict `!==` / `===` against null"
                } else {
                    STRICT_HELP
                };
                self.report(here, message, help);
            }
            "===" | "!==" => {
                let needs = args.iter().find_map(|arg| match arg {
                    Value::Bool(_) => Some(Fact::NotPythonNumber),
                    _ if arg.as_f64().is_some_and(|n| n == 0.0 || n == 1.0) => {
                        Some(Fact::NotPythonBoolean)
                    }
                    _ => None,
                });
                let compared = args.iter().find_map(|arg| var_path(arg));
                let unguarded = match (needs, compared) {
                    (Some(fact), Some(path)) => !knows(facts, path, fact),
                    _ => false,
                };
                if unguarded {
                    self.report(
                        here,
                        format!(
                            "`{op}` with 0, 1, true or false: the Python engine's `===` is Python's `==`, where true equals 1 and false equals 0; Go, JS and Java tell them apart"
                        ),
                        "add the export's guard: and-ed with {\"!\": [{\"in\": [{\"cat\": [VAR]}, [\"true\", \"false\", \"True\", \"False\"]]}]} for 0 and 1, with {\"!==\": [{\"sem_ver\": [VAR, \"=\", \"1.0.0\"]}, true]} for true (\"0.0.0\" for false)",
                    );
                }
            }
            "<" | "<=" | ">" | ">=" => {
                let guarded = args.iter().all(|arg| {
                    arg.is_number()
                        || (guarded_var(arg, Fact::Present) && guarded_var(arg, Fact::NotString))
                });
                if !guarded {
                    self.report(
                        here,
                        format!(
                            "`{op}` reads null as 0 in Go, JS and Python but never holds in Java, and booleans as 0 and 1 except in Java; text converts to numbers differently in each engine (JS fails the evaluation on text that is no number); JS fails on arrays and objects, and Python compares a one-element array as its element"
                        ),
                        "compare a number literal with an attribute guarded first by {\"!==\": [VAR, null]} and {\"!==\": [{\"starts_with\": [VAR, \"\"]}, true]} in the same `and`",
                    );
                }
            }
            "in" => self.check_in(args, here, facts),
            "cat" => {
                let safe = args.iter().all(|arg| {
                    arg.is_string() || guarded_var(arg, Fact::String) || guarded_var(arg, Fact::Number)
                });
                if !safe {
                    self.report(
                        here,
                        "`cat` of a value that may not be text: Go fails on booleans, arrays and objects and Java on null; numbers are written differently (Go writes 1e21 in full, Python keeps 15 digits of a float and writes true as True, Java writes whole doubles below 2^31 as integers)".into(),
                        "cat only strings: guard the attribute with {\"===\": [{\"starts_with\": [VAR, \"\"]}, true]}",
                    );
                }
            }
            "missing" | "missing_some" => self.report(
                here,
                format!(
                    "`{op}`: JS counts only an absent attribute as missing, Go also null, Python also null and \"\""
                ),
                "test presence with {\"!==\": [{\"var\": NAME}, null]}",
            ),
            "+" | "-" | "*" | "/" | "%" | "min" | "max" => self.report(
                here,
                format!(
                    "arithmetic (`{op}`) on context values: JS fails the evaluation on text that is no number, arrays and objects; Go fails on null, booleans, arrays and objects; Python and Java convert them differently"
                ),
                "keep arithmetic to literals, or compare attributes directly",
            ),
            "substr" => self.report(
                here,
                "`substr` counts UTF-16 code units in JS and Java, code points in Go and Python".into(),
                "compare with starts_with / ends_with instead",
            ),
            "map" | "filter" | "reduce" | "all" | "some" | "none" => self.report(
                here,
                format!(
                    "`{op}`: Go fails the evaluation when the subject is text or a number, and its `all`/`some` read the logic differently; the other engines give an empty result"
                ),
                "test array attributes with `in` against a `merge` of the attribute",
            ),
            "and" | "or" if !args.iter().all(|arg| boolean(arg)) => {
                self.report(
                    here,
                    format!(
                        "`{op}` of operands that are not all true or false: Go's `and` skips null and objects (so a null from starts_with, ends_with or sem_ver counts as true) and yields the largest of numbers; truthiness of {{}} differs (false in Go and JS, true in Python)"
                    ),
                    "compare each operand `=== true`, or use comparisons only",
                );
            }
            "if" | "?:" => {
                let conditions = args.iter().enumerate().filter(|(i, _)| {
                    i % 2 == 0 && i + 1 < args.len()
                });
                if conditions.clone().any(|(_, c)| var_path(c).is_some()) {
                    self.report(
                        here,
                        "a condition that is an attribute itself: truthiness differs, an empty object is false in Go and JS and true in Python, NaN-like text is read differently".into(),
                        "compare the attribute explicitly",
                    );
                }
            }
            "fractional" => {
                let explicit = args.first().filter(|first| operation(first).is_some());
                if let Some(first) = explicit
                    && var_path(first).is_some_and(|p| !knows(facts, p, Fact::String))
                {
                    self.report(
                        here,
                        "`fractional` on an attribute that may not be text: v2 engines (Go, JS, Java) bucket only strings and serve the default for other values, v3 (Python) hashes any value by its type".into(),
                        "bucket on a string: guard it with {\"===\": [{\"starts_with\": [VAR, \"\"]}, true]}, or join it to the flag key with `cat`",
                    );
                }
            }
            _ => {}
        }
    }

    fn check_in(&mut self, args: &[&Value], here: &str, facts: &Facts) {
        let [needle, haystack, ..] = args else {
            return;
        };
        match haystack {
            Value::Array(items) if operation(haystack).is_none() => {
                // The export's Python guard: cat(VAR) in a list of boolean texts.
                let guard_of_cat = matches!(operation(needle), Some(("cat", _)))
                    && items.iter().all(Value::is_string);
                if !guard_of_cat && !literal(needle) {
                    self.report(
                        here,
                        "`in` a list: Go compares a number with text loosely (0 matches \"abc\") and fails on an array or object, Python's true equals 1; JS and Java compare strictly".into(),
                        "use `or` of `===` comparisons",
                    );
                }
            }
            _ => {
                let text_haystack =
                    var_path(haystack).is_some_and(|p| knows(facts, p, Fact::String));
                let merged = matches!(operation(haystack), Some(("merge", _)));
                if !(needle.is_string() && (text_haystack || merged)) {
                    self.report(
                        here,
                        "`in` an attribute: JS fails the evaluation when it is neither text nor array (a number, boolean or object), Go fails on a needle that is not text and reads two-element arrays in the haystack as ranges".into(),
                        "look for a string in an attribute guarded as text, or in {\"merge\": [VAR]} otherwise",
                    );
                }
            }
        }
    }
}

/// The byte offset of the value a JSON Pointer names in `text`, for diagnostics.
pub fn locate(text: &str, pointer: &str) -> Option<usize> {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut scanner = Scanner { text, at: 0 };
    scanner.skip_space();
    for segment in &segments {
        scanner.enter(segment)?;
    }
    Some(scanner.at)
}

/// A cursor over JSON text, which has parsed already.
struct Scanner<'t> {
    text: &'t str,
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// Moves to the member or element `segment` of the value at the cursor.
    fn enter(&mut self, segment: &str) -> Option<()> {
        match self.peek()? {
            b'{' => {
                self.at += 1;
                loop {
                    self.skip_space();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.skip_space();
                    self.at += 1; // ':'
                    self.skip_space();
                    if key == segment {
                        return Some(());
                    }
                    self.skip_value()?;
                    self.skip_space();
                    if self.peek()? == b',' {
                        self.at += 1;
                    }
                }
            }
            b'[' => {
                let index: usize = segment.parse().ok()?;
                self.at += 1;
                for _ in 0..index {
                    self.skip_space();
                    self.skip_value()?;
                    self.skip_space();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.at += 1;
                }
                self.skip_space();
                Some(())
            }
            _ => None,
        }
    }

    /// A string at the cursor, unescaped enough to compare keys.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.skip_string()?;
        serde_json::from_str(self.text.get(start..self.at)?).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                _ => self.at += 1,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' if depth == 0 => return Some(()),
                _ => self.at += 1,
            }
            if depth == 0
                && !matches!(self.peek(), Some(b) if !b",}]".contains(&b) && !b.is_ascii_whitespace())
            {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(document: Value) -> Vec<(String, String)> {
        unportable(&document)
            .into_iter()
            .map(|found| (found.pointer, found.message))
            .collect()
    }

    #[test]
    fn loose_comparison_with_null_names_the_engines() {
        let found = messages(
            json!({"flags": {"f": {"state": "ENABLED", "variants": {"a": 1},
            "targeting": {"if": [{"!=": [{"var": "x"}, null]}, "a", null]}}}}),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "/flags/f/targeting/if/0/!=");
        assert!(
            found[0]
                .1
                .contains("JS and Python treat 0 and false as equal to null, Go and Java do not"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn non_object_targeting_is_reported() {
        let found = messages(
            json!({"flags": {"f": {"state": "ENABLED", "variants": {"on": true},
            "targeting": "on"}}}),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("Python engine refuses"), "{found:?}");
    }

    #[test]
    fn guarded_forms_are_portable_and_bare_ones_are_not() {
        let x = json!({"var": "x"});
        let present = json!({"!==": [x, null]});
        let not_string = json!({"!==": [{"starts_with": [x, ""]}, true]});
        let is_string = json!({"===": [{"starts_with": [x, ""]}, true]});
        let cases = [
            (json!({"and": [present, not_string, {"<": [x, 3]}]}), 0),
            (json!({"<": [x, 3]}), 1),
            (json!({"and": [{"<": [x, 3]}, present, not_string]}), 1),
            (
                json!({"if": [is_string, {"in": ["a", x]}, {"in": ["a", {"merge": [x]}]}]}),
                0,
            ),
            (json!({"in": ["a", x]}), 1),
            (
                json!({"and": [{"===": [x, 1]}, {"!": [{"in": [{"cat": [x]}, ["true", "false", "True", "False"]]}]}]}),
                0,
            ),
            (json!({"===": [x, 1]}), 1),
            (
                json!({"and": [{"===": [x, true]}, {"!==": [{"sem_ver": [x, "=", "1.0.0"]}, true]}]}),
                0,
            ),
            (json!({"===": [x, true]}), 1),
            (json!({"===": [x, "SG"]}), 0),
            (json!({"and": [{"starts_with": [x, "a"]}, true]}), 1),
            (json!({"missing": ["x"]}), 1),
            (json!({"cat": ["a", x]}), 1),
            (
                json!({"if": [is_string, {"fractional": [{"cat": ["f", x]}, ["a", 1]]}, null]}),
                0,
            ),
            (json!({"fractional": [x, ["a", 1]]}), 1),
            (json!({"in": [x, ["a", "b"]]}), 1),
            (json!({"+": [x, 1]}), 1),
        ];
        for (targeting, expected) in cases {
            let document = json!({"flags": {"f": {"state": "ENABLED", "variants": {"a": 1},
                "targeting": {"if": [targeting, "a", null]}}}});
            let found = messages(document);
            assert_eq!(found.len(), expected, "{targeting}: {found:?}");
        }
    }

    #[test]
    fn nested_refs_in_evaluators_are_reported() {
        let found = messages(json!({"flags": {}, "$evaluators": {
            "a": {"===": [{"$ref": "b"}, true]}, "b": {"===": [{"var": "x"}, "y"]}}}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "/$evaluators/a");
    }

    #[test]
    fn pointers_locate_their_json() {
        let text = "{\n  \"flags\": {\n    \"a/b\": {\"targeting\": {\"if\": [{\"!=\": [1, null]}, \"x\"]}}\n  }\n}\n";
        let at = locate(text, "/flags/a~1b/targeting/if/0/!=").unwrap();
        assert!(text[at..].starts_with("[1, null]"), "{}", &text[at..]);
        let at = locate(text, "/flags/a~1b/targeting/if/1").unwrap();
        assert!(text[at..].starts_with("\"x\""), "{}", &text[at..]);
        assert_eq!(locate(text, "/flags/nope"), None);
        assert_eq!(locate(text, "/flags/a~1b/targeting/if/7"), None);
    }
}
