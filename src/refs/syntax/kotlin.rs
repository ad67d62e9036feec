//! Kotlin (tree-sitter-kotlin): `call_expression`s with `call_suffix`es and named arguments,
//! `"…"` strings and raw `"""` strings, either with `$` templates.

use ast_grep_language::SupportLang;

use super::{Argument, BASE, Callee, Escapes, Grammar, NO_ESCAPES, Node, operands, quoted_string};

pub(super) static GRAMMAR: Grammar = Grammar {
    lang: SupportLang::Kotlin,
    comments: &["line_comment", "multiline_comment"],
    strings: &["string_literal"],
    members: &["navigation_expression"],
    names: &["simple_identifier"],
    booleans: &["boolean_literal"],
    nulls: &["null_literal"],
    integers: &[
        "integer_literal",
        "long_literal",
        "hex_literal",
        "bin_literal",
        "unsigned_literal",
    ],
    floats: &["real_literal"],
    signs: &["prefix_expression"],
    callee,
    arguments,
    member,
    string,
    ..BASE
};

pub(super) static ESCAPES: Escapes = Escapes {
    simple: &[
        (b't', '\t'),
        (b'b', '\x08'),
        (b'n', '\n'),
        (b'r', '\r'),
        (b'\'', '\''),
        (b'"', '"'),
        (b'\\', '\\'),
        (b'$', '$'),
    ],
    unicode4: true,
    ..NO_ESCAPES
};

/// `a.b(…)`: the callee is the call's first child, a name or a navigation expression.
fn callee<'r>(grammar: &Grammar, node: &Node<'r>) -> Option<Callee<'r>> {
    let function = node.child(0)?;
    match function.kind().as_ref() {
        "simple_identifier" => Some((function, None)),
        "navigation_expression" => {
            member(grammar, &function).map(|(receiver, name)| (name, Some(receiver)))
        }
        _ => None,
    }
}

/// `a.b` and `a?.b`: the receiver, then a `navigation_suffix` holding the name.
fn member<'r>(_: &Grammar, node: &Node<'r>) -> Option<(Node<'r>, Node<'r>)> {
    let receiver = node.child(0)?;
    let suffix = node.children().find(|c| c.kind() == "navigation_suffix")?;
    let name = suffix
        .children()
        .find(|c| c.kind() == "simple_identifier")?;
    Some((receiver, name))
}

/// `(key = "k", defaultValue = true)`: a `value_argument` is `name = value` or a value.
fn arguments<'r>(node: &Node<'r>) -> Vec<Argument<'r>> {
    let Some(list) = node
        .children()
        .find(|c| c.kind() == "call_suffix")
        .and_then(|suffix| suffix.children().find(|c| c.kind() == "value_arguments"))
    else {
        return Vec::new();
    };
    operands(&list)
        .filter_map(|argument| {
            let parts: Vec<Node<'r>> = argument.children().collect();
            match parts.as_slice() {
                [name, equals, .., value]
                    if equals.kind() == "=" && name.kind() == "simple_identifier" =>
                {
                    Some(Argument {
                        name: Some(name.clone()),
                        value: value.clone(),
                    })
                }
                _ => operands(&argument).last().map(Argument::positional),
            }
        })
        .collect()
}

/// Raw strings (`"""…"""`) have no escapes.
fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    quoted_string(node, src, &ESCAPES, |raw| Some(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;
    use serde_json::json;

    const KT: Language = Language::Kotlin;

    #[test]
    fn comments_and_strings() {
        let source =
            "// a\nval s = \"q\" /* b */ + \"\"\"raw\"\"\" + \"t$x\"\n/** doc */\nval c = 'c'\n";
        let comments = ["// a", "/* b */", "/** doc */"];
        let strings = ["\"q\"", "\"\"\"raw\"\"\"", "\"t$x\""];
        assert_comments_and_strings(KT, source, &comments, &strings);
    }

    #[test]
    fn client_calls() {
        let source = "val on = client.getBooleanValue(\"new-checkout\", false)\n";
        let span = "client.getBooleanValue(\"new-checkout\", false)";
        assert_checkout_call(KT, source, "getBooleanValue", span, Some(json!(false)));

        let call = only_call(
            KT,
            "val d = OpenFeatureAPI.getClient().getStringDetails(defaultValue = \"x\", key = \"s\\n\", options = o)",
        );
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("s\n"), Some(json!("x")))
        );
        let call = only_call(KT, "val i = client?.getIntegerValue(\"i\", -1)");
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Integer), Some(json!(-1)))
        );
        let call = only_call(KT, "val l = client.getIntegerValue(\"l\", 5L)");
        assert_eq!(call.default, Some(json!(5)));
        let call = only_call(KT, "val d = client.getDoubleValue(\"\"\"raw\\n\"\"\", 0.5)");
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("raw\\n"), Some(json!(0.5)))
        );
        let call = only_call(KT, "val o = client.getObjectValue(\"o\", null)");
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Object), Some(json!(null)))
        );
        for dynamic in [
            "\"a$b\"",
            "\"a${b}\"",
            "\"\"\"a$b\"\"\"",
            "PREFIX + \"x\"",
            "key",
        ] {
            let call = only_call(KT, &format!("val x = c.getBooleanValue({dynamic}, true)"));
            assert_eq!(call.key, None, "{dynamic}");
        }
    }

    #[test]
    fn no_accessors() {
        let syntax = read_with(
            KT,
            "val a = flags.enableFeatureA()\nval b = FlagKeys.ENABLE_FEATURE_A\n",
            &["enable-feature-a"],
        );
        assert!(syntax.calls.is_empty());
    }
}
