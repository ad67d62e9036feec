//! Java (tree-sitter-java): `method_invocation`s, `"…"` strings and `"""` text blocks.

use ast_grep_language::SupportLang;

use super::{BASE, Callee, Escapes, Grammar, NO_ESCAPES, Node, quoted_string, unescape};

pub(super) static GRAMMAR: Grammar = Grammar {
    lang: SupportLang::Java,
    comments: &["line_comment", "block_comment"],
    strings: &["string_literal"],
    calls: &["method_invocation"],
    members: &["field_access"],
    nulls: &["null_literal"],
    integers: &[
        "decimal_integer_literal",
        "hex_integer_literal",
        "octal_integer_literal",
        "binary_integer_literal",
    ],
    floats: &["decimal_floating_point_literal"],
    leading_zero_octal: true,
    member_fields: ("object", "field"),
    callee,
    string,
    ..BASE
};

pub(super) static ESCAPES: Escapes = Escapes {
    simple: &[
        (b'b', '\x08'),
        (b's', ' '),
        (b't', '\t'),
        (b'n', '\n'),
        (b'f', '\x0c'),
        (b'r', '\r'),
        (b'"', '"'),
        (b'\'', '\''),
        (b'\\', '\\'),
    ],
    octal: 3,
    unicode4: true,
    // Text blocks only; a `"…"` string cannot hold a line break.
    continuation: true,
    ..NO_ESCAPES
};

/// `object.name(…)`: the name and the object are fields of the invocation.
fn callee<'r>(_: &Grammar, node: &Node<'r>) -> Option<Callee<'r>> {
    Some((node.field("name")?, node.field("object")))
}

fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    quoted_string(node, src, &ESCAPES, text_block)
}

/// A text block's value (JLS 3.10.6): the content starts after the opening line; the
/// indentation common to its non-blank lines and the closing line is removed, and trailing
/// spaces; then escapes are read.
fn text_block(inside: &str) -> Option<String> {
    let (opening, content) = inside.split_once('\n')?;
    if !opening.trim().is_empty() {
        return None;
    }
    let lines: Vec<&str> = content
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let last = lines.len() - 1;
    let indent = |line: &str| line.len() - line.trim_start_matches([' ', '\t', '\x0c']).len();
    let common = lines
        .iter()
        .enumerate()
        .filter(|(i, line)| *i == last || !line.trim().is_empty())
        .map(|(_, line)| indent(line))
        .min()
        .unwrap_or(0);
    let mut value = String::with_capacity(content.len());
    for (i, line) in lines.iter().enumerate() {
        if !line.trim().is_empty() {
            value.push_str(
                line.get(common..)
                    .unwrap_or_default()
                    .trim_end_matches([' ', '\t', '\x0c']),
            );
        }
        if i < last {
            value.push('\n');
        }
    }
    unescape(&value, &ESCAPES)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;
    use super::text_block;
    use serde_json::json;

    const JAVA: Language = Language::Java;

    fn in_method(body: &str) -> String {
        format!("class A {{\n  void f() {{\n    {body}\n  }}\n}}\n")
    }

    #[test]
    fn comments_and_strings() {
        let source = in_method(
            "// a\n    String s = \"q\" /* b */ + \"\"\"\n      block\"\"\";\n    char c = 'c';",
        );
        let strings = ["\"q\"", "\"\"\"\n      block\"\"\""];
        assert_comments_and_strings(JAVA, &source, &["// a", "/* b */"], &strings);
        assert_comments_and_strings(JAVA, "/** doc */\nclass A {}\n", &["/** doc */"], &[]);
    }

    #[test]
    fn client_calls() {
        let source =
            in_method("boolean on = client.getBooleanValue(\"new-checkout\", false, ctx);");
        let span = "client.getBooleanValue(\"new-checkout\", false, ctx)";
        assert_checkout_call(JAVA, &source, "getBooleanValue", span, Some(json!(false)));

        let call = only_call(
            JAVA,
            &in_method(
                "var d = OpenFeatureAPI.getInstance().getClient().getIntegerDetails(\"i\", -1_000);",
            ),
        );
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Integer), Some(json!(-1000)))
        );
        let call = only_call(
            JAVA,
            &in_method("double d = c.getDoubleValue(\"d\", 0.5d);"),
        );
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Float), Some(json!(0.5)))
        );
        let call = only_call(
            JAVA,
            &in_method("String s = c.getStringValue(\"s\\u00e9\\t\", \"x\\\"y\");"),
        );
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("sé\t"), Some(json!("x\"y")))
        );
        let call = only_call(JAVA, &in_method("Value v = c.getObjectValue(\"o\", null);"));
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Object), Some(json!(null)))
        );
        let call = only_call(
            JAVA,
            &in_method("Value v = c.getObjectValue(\"o\", new Value(1));"),
        );
        assert_eq!(
            (call.default, call.default_text.as_deref()),
            (None, Some("new Value(1)"))
        );
        let call = only_call(
            JAVA,
            &in_method("boolean b = c.getBooleanValue(PREFIX + \"x\", true);"),
        );
        assert_eq!(call.key, None);
        let call = only_call(
            JAVA,
            &in_method("boolean b = c.getBooleanValue(\"\"\"\n        block-key\"\"\", true);"),
        );
        assert_eq!(call.key.as_deref(), Some("block-key"));
    }

    #[test]
    fn text_blocks() {
        assert_eq!(
            text_block("\n    a\n      b\n    ").as_deref(),
            Some("a\n  b\n")
        );
        assert_eq!(text_block("  \n  x  \n  y").as_deref(), Some("x\ny"));
        // Indentation goes before escapes are read: `\<line break>` joins "x" and "y".
        assert_eq!(text_block("\n  x\\\n  y").as_deref(), Some("xy"));
        assert_eq!(text_block("no line break"), None);
    }

    #[test]
    fn generated_accessors_and_key_constants() {
        let source = in_method(
            "boolean a = client.enableFeatureA(ctx);\n    var d = client.enableFeatureADetails(ctx);\n    String k = OpenFeature.FlagKeys.ENABLE_FEATURE_A;\n    client.enableFeatureA(ctx, more);",
        );
        let syntax = read_with(JAVA, &source, &["enable-feature-a"]);
        let methods: Vec<_> = syntax.calls.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                "enableFeatureA",
                "enableFeatureADetails",
                "ENABLE_FEATURE_A"
            ]
        );
        assert!(
            syntax
                .calls
                .iter()
                .all(|c| c.accessor && c.key.as_deref() == Some("enable-feature-a"))
        );
        assert_eq!(
            &source[syntax.calls[2].span.clone()],
            "OpenFeature.FlagKeys.ENABLE_FEATURE_A"
        );
    }
}
