//! Python (tree-sitter-python): `call`s with keyword arguments; strings with prefixes
//! (`r`, `b`, `f`, `u`), triple quotes and implicit concatenation.

use ast_grep_language::SupportLang;

use super::{
    Argument, BASE, C_ESCAPES, Escapes, Grammar, NO_ESCAPES, Node, Unknown, between, operands,
    text, unescape,
};

pub(super) static GRAMMAR: Grammar = Grammar {
    lang: SupportLang::Python,
    strings: &["string"],
    calls: &["call"],
    members: &["attribute"],
    nulls: &["none"],
    integers: &["integer"],
    floats: &["float"],
    objects: &["dictionary", "list"],
    signs: &["unary_operator"],
    member_fields: ("object", "attribute"),
    arguments,
    string,
    ..BASE
};

pub(super) static STRING_ESCAPES: Escapes = Escapes {
    simple: C_ESCAPES,
    unreadable: b"N",
    octal: 3,
    hex: true,
    unicode4: true,
    unicode8: true,
    continuation: true,
    unknown: Unknown::Keep,
    ..NO_ESCAPES
};

fn arguments<'r>(node: &Node<'r>) -> Vec<Argument<'r>> {
    let Some(list) = node
        .field("arguments")
        .filter(|l| l.kind() == "argument_list")
    else {
        return Vec::new();
    };
    operands(&list)
        .map(|argument| {
            if argument.kind() == "keyword_argument"
                && let (Some(name), Some(value)) = (argument.field("name"), argument.field("value"))
            {
                Argument {
                    name: Some(name),
                    value,
                }
            } else {
                Argument::positional(argument)
            }
        })
        .collect()
}

fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    match node.kind().as_ref() {
        "string" => Some(one_string(node, src)),
        "concatenated_string" => Some(
            node.children()
                .filter(|part| part.kind() == "string")
                .map(|part| one_string(&part, src))
                .collect(),
        ),
        _ => None,
    }
}

/// One string: `string_start` holds the prefix and the opening quotes.
fn one_string(node: &Node<'_>, src: &str) -> Option<String> {
    let mut start = None;
    for child in node.children() {
        match child.kind().as_ref() {
            "interpolation" => return None,
            "string_start" => start = Some(text(src, &child)),
            _ => {}
        }
    }
    let start = start?;
    let quotes = start.len() - start.trim_start_matches(char::is_alphabetic).len();
    let prefix = start[..quotes].to_ascii_lowercase();
    let quote_len = start.len() - quotes;
    let body = between(text(src, node), start.len(), quote_len)?;
    let value = if prefix.contains('r') {
        body.to_owned()
    } else {
        unescape(body, &STRING_ESCAPES)?
    };
    Some(if prefix.contains('f') || prefix.contains('t') {
        value.replace("{{", "{").replace("}}", "}")
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;

    const PY: Language = Language::Python;

    #[test]
    fn comments_and_strings() {
        let source =
            "# top\nx = 'a' \"b\" # tail\ny = f\"{z['k']}\" + r'''raw'''\n\"\"\"doc\"\"\"\n";
        let strings = [
            "'a'",
            "\"b\"",
            "f\"{z['k']}\"",
            "r'''raw'''",
            "\"\"\"doc\"\"\"",
        ];
        assert_comments_and_strings(PY, source, &["# top", "# tail"], &strings);
    }

    #[test]
    fn sdk_calls_positional_and_keyword() {
        let source = "v = client.get_boolean_value(\"new-checkout\", True, ctx)\n";
        let span = "client.get_boolean_value(\"new-checkout\", True, ctx)";
        assert_checkout_call(
            PY,
            source,
            "get_boolean_value",
            span,
            Some(serde_json::json!(true)),
        );
        let call = only_call(PY, source);
        assert_eq!(call.default_text.as_deref(), Some("True"));

        let call = only_call(
            PY,
            "await api.get_client().get_integer_details_async(\n  default_value=-3,\n  flag_key='n',\n)",
        );
        assert_eq!(call.method, "get_integer_details_async");
        assert_eq!(call.value_type, Some(ValueType::Integer));
        assert_eq!(call.key.as_deref(), Some("n"));
        assert_eq!(call.default, Some(serde_json::json!(-3)));

        let call = only_call(PY, "c.get_float_value('f', default_value=0.5)");
        assert_eq!(call.default, Some(serde_json::json!(0.5)));
        assert_eq!(call.value_type, Some(ValueType::Float));
        let call = only_call(PY, "c.get_object_value('o', None)");
        assert_eq!(call.default, Some(serde_json::Value::Null));
        assert_eq!(call.value_type, Some(ValueType::Object));
        let call = only_call(PY, "c.get_object_value('o', {'a': 1})");
        assert_eq!(
            (call.default, call.default_text.as_deref()),
            (None, Some("{'a': 1}"))
        );
        let call = only_call(PY, "c.get_string_value('s', 'it\\'s')");
        assert_eq!(call.default, Some(serde_json::json!("it's")));
        assert_eq!(call.value_type, Some(ValueType::String));
    }

    #[test]
    fn key_quote_forms() {
        for (source, key) in [
            ("c.get_boolean_value('single', False)", Some("single")),
            (
                "c.get_boolean_value(\"\"\"triple\"\"\", False)",
                Some("triple"),
            ),
            ("c.get_boolean_value(r'raw\\d', False)", Some("raw\\d")),
            (
                "c.get_boolean_value(u'esc\\x41\\u00e9', False)",
                Some("escAé"),
            ),
            ("c.get_boolean_value('a-' 'b', False)", Some("a-b")),
            (
                "c.get_boolean_value(f'plain{{x}}', False)",
                Some("plain{x}"),
            ),
            ("c.get_boolean_value(f'dyn-{name}', False)", None),
            ("c.get_boolean_value('a' + b, False)", None),
            ("c.get_boolean_value(KEY, False)", None),
            ("c.get_boolean_value('\\N{BULLET}', False)", None),
        ] {
            assert_eq!(only_call(PY, source).key.as_deref(), key, "{source}");
        }
    }

    #[test]
    fn not_calls() {
        let syntax = read_with(
            PY,
            "get = c.get_boolean_value\nc.get_boolean_value()\nc.other('k', 1)\n",
            &[],
        );
        assert!(syntax.calls.is_empty(), "{:?}", syntax.calls);
    }

    #[test]
    fn generated_accessors_and_key_constants() {
        let source = "a = flags.enable_feature_a()\nb = await flags.enable_feature_a_details_async(ctx, opts)\nk = FlagKeys.ENABLE_FEATURE_A\nc = enable_feature_a_extra()\nd = Other.ENABLE_FEATURE_A\n";
        let syntax = read_with(PY, source, &["enable-feature-a"]);
        let found: Vec<_> = syntax
            .calls
            .iter()
            .map(|c| {
                (
                    c.method.as_str(),
                    c.accessor,
                    c.key.as_deref(),
                    &source[c.key_span.clone()],
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "enable_feature_a",
                    true,
                    Some("enable-feature-a"),
                    "enable_feature_a"
                ),
                (
                    "enable_feature_a_details_async",
                    true,
                    Some("enable-feature-a"),
                    "enable_feature_a_details_async"
                ),
                (
                    "ENABLE_FEATURE_A",
                    true,
                    Some("enable-feature-a"),
                    "ENABLE_FEATURE_A"
                ),
            ]
        );
        assert_eq!(
            &source[syntax.calls[2].span.clone()],
            "FlagKeys.ENABLE_FEATURE_A"
        );
        // Too many arguments for the generated method; a camelCase name is another language's.
        let other = read_with(
            PY,
            "flags.enable_feature_a(1, 2, 3)\nflags.enableFeatureA()\n",
            &["enable-feature-a"],
        );
        assert!(other.calls.is_empty());
        assert!(read_with(PY, source, &[]).calls.is_empty());
    }
}
