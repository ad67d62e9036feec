//! JavaScript, TypeScript, JSX and TSX (tree-sitter-javascript, tree-sitter-typescript):
//! `call_expression`s (also in decorators), `'…'`, `"…"` and template strings.

use ast_grep_language::SupportLang;

use super::{
    BASE, C_ESCAPES, Escapes, Grammar, NO_ESCAPES, Node, Unknown, between, plain_arguments, text,
    unescape,
};

const fn grammar(lang: SupportLang) -> Grammar {
    Grammar {
        lang,
        comments: &["comment", "html_comment", "hash_bang_line"],
        strings: &["string", "template_string"],
        members: &["member_expression"],
        nulls: &["null"],
        integers: &["number"],
        objects: &["object", "array"],
        // A tagged template (`` tag`…` ``) has a template string for arguments: none of ours.
        arguments: |node| {
            plain_arguments(node.field("arguments").filter(|l| l.kind() == "arguments"))
        },
        string,
        field,
        ..BASE
    }
}

pub(super) static JAVASCRIPT: Grammar = grammar(SupportLang::JavaScript);
pub(super) static TYPESCRIPT: Grammar = grammar(SupportLang::TypeScript);
pub(super) static TSX: Grammar = grammar(SupportLang::Tsx);

pub(super) static ESCAPES: Escapes = Escapes {
    // C's but `\a`; `\0` and the legacy octal escapes (sloppy mode) as octal.
    simple: C_ESCAPES.split_at(1).1,
    octal: 3,
    hex: true,
    unicode4: true,
    unicode_braced: true,
    continuation: true,
    unknown: Unknown::Drop,
    ..NO_ESCAPES
};

fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    match node.kind().as_ref() {
        "string" => {}
        "template_string" if node.children().any(|c| c.kind() == "template_substitution") => {
            return Some(None);
        }
        "template_string" => {}
        _ => return None,
    }
    Some(between(text(src, node), 1, 1).and_then(|body| unescape(body, &ESCAPES)))
}

/// `{ flagKey: "k" }`: the value of the pair whose key is `name`.
fn field<'r>(node: &Node<'r>, src: &str, name: &str) -> Option<Node<'r>> {
    if node.kind() != "object" {
        return None;
    }
    node.children().find_map(|pair| match pair.kind().as_ref() {
        "pair" => {
            let key = pair.field("key")?;
            let key_name = match key.kind().as_ref() {
                "string" => string(&key, src).flatten(),
                _ => Some(text(src, &key).to_owned()),
            };
            (key_name.as_deref() == Some(name))
                .then(|| pair.field("value"))
                .flatten()
        }
        "shorthand_property_identifier" if text(src, &pair) == name => Some(pair),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;
    use serde_json::json;

    const JS: Language = Language::JavaScript;
    const TS: Language = Language::TypeScript;

    #[test]
    fn comments_and_strings() {
        for language in [JS, TS, Language::Tsx] {
            let source = "// a\n/* b */ const x = 'q' + \"d\" + `t${f(\"in\")}`;\n/** doc */\n";
            let comments = ["// a", "/* b */", "/** doc */"];
            let strings = ["'q'", "\"d\"", "`t${f(\"in\")}`"];
            assert_comments_and_strings(language, source, &comments, &strings);
            let jsx = "#!/usr/bin/env node\nconst e = <div title=\"t\">{/* c */}text</div>;\n";
            let comments = ["#!/usr/bin/env node", "/* c */"];
            assert_comments_and_strings(language, jsx, &comments, &["\"t\""]);
        }
    }

    #[test]
    fn client_calls() {
        let source = "const v = await client.getBooleanValue('new-checkout', false, ctx);";
        let span = "client.getBooleanValue('new-checkout', false, ctx)";
        assert_checkout_call(TS, source, "getBooleanValue", span, Some(json!(false)));

        let call = only_call(JS, "OpenFeature.getClient().getNumberDetails(\"n\", -0.5)");
        assert_eq!(call.value_type, Some(ValueType::Number));
        assert_eq!(call.default, Some(json!(-0.5)));
        let call = only_call(TS, "client?.getStringValue<Color>(`plain`, 'red')");
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("plain"), Some(json!("red")))
        );
        let call = only_call(JS, "c.getObjectValue('o', null)");
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Object), Some(json!(null)))
        );
        let call = only_call(JS, "c.getNumberValue('n', 3)");
        assert_eq!(call.default, Some(json!(3)));
        let call = only_call(JS, "c.getObjectValue('o', { a: 1 })");
        assert_eq!(
            (call.default, call.default_text.as_deref()),
            (None, Some("{ a: 1 }"))
        );
    }

    #[test]
    fn key_quote_forms() {
        for (source, key) in [
            ("c.getBooleanValue('s', false)", Some("s")),
            (
                "c.getBooleanValue(\"d\\u0041\\x42\\u{43}\", false)",
                Some("dABC"),
            ),
            ("c.getBooleanValue(`t\\``, false)", Some("t`")),
            ("c.getBooleanValue('\\101\\a\\0', false)", Some("Aa\0")),
            ("c.getBooleanValue(`t-${x}`, false)", None),
            ("c.getBooleanValue('a' + b, false)", None),
            ("c.getBooleanValue(KEY, false)", None),
        ] {
            assert_eq!(only_call(JS, source).key.as_deref(), key, "{source}");
        }
    }

    #[test]
    fn react_hooks_and_nest_decorators() {
        let call = only_call(Language::Tsx, "const on = useBooleanFlagValue('k', true);");
        assert_eq!(
            (call.method.as_str(), call.value_type),
            ("useBooleanFlagValue", Some(ValueType::Boolean))
        );
        let call = only_call(
            Language::Tsx,
            "const { value } = useStringFlagDetails('k', 'a');",
        );
        assert_eq!(call.value_type, Some(ValueType::String));
        for (source, value_type) in [
            ("useFlag('k', true)", Some(ValueType::Boolean)),
            ("useFlag('k', 1.5)", Some(ValueType::Number)),
            ("useSuspenseFlag('k', 'x')", Some(ValueType::String)),
            ("useFlag('k', { a: 1 })", Some(ValueType::Object)),
            ("useFlag('k', fallback)", None),
        ] {
            assert_eq!(
                only_call(Language::Tsx, source).value_type,
                value_type,
                "{source}"
            );
        }
        let source =
            "class C { handle(@BooleanFeatureFlag({ flagKey: 'nest', defaultValue: true }) f) {} }";
        let call = only_call(TS, source);
        assert_eq!(call.method, "BooleanFeatureFlag");
        assert_eq!(call.key.as_deref(), Some("nest"));
        assert_eq!(&source[call.key_span.clone()], "'nest'");
        assert_eq!(call.default, Some(json!(true)));
        let call = only_call(
            TS,
            "NumberFeatureFlag({ 'flagKey': \"q\", defaultValue: 2 })",
        );
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("q"), Some(json!(2)))
        );
        let call = only_call(TS, "StringFeatureFlag({ flagKey, defaultValue: 'x' })");
        assert_eq!(call.key, None);
        assert!(
            read_with(TS, "BooleanFeatureFlag({ defaultValue: true })", &[])
                .calls
                .is_empty()
        );
    }

    #[test]
    fn generated_accessors() {
        let source = "const a = useEnableFeatureA();\nconst b = await flags.enableFeatureADetails(ctx);\nthis.svc.getEnableFeatureA().subscribe();\nconst k = FlagKeys.ENABLE_FEATURE_A;\n";
        let syntax = read_with(Language::Tsx, source, &["enable-feature-a"]);
        let methods: Vec<_> = syntax
            .calls
            .iter()
            .map(|c| (c.method.as_str(), c.accessor))
            .collect();
        assert_eq!(
            methods,
            [
                ("useEnableFeatureA", true),
                ("enableFeatureADetails", true),
                ("getEnableFeatureA", true),
                ("ENABLE_FEATURE_A", true),
            ]
        );
        assert!(
            syntax
                .calls
                .iter()
                .all(|c| c.key.as_deref() == Some("enable-feature-a"))
        );
        assert_eq!(
            &source[syntax.calls[1].key_span.clone()],
            "enableFeatureADetails"
        );
        let nest = "class C { h(@EnableFeatureA() f) {} }";
        assert_eq!(read_with(TS, nest, &["enable-feature-a"]).calls.len(), 1);
        // Python's form of the name is not JavaScript's.
        assert!(
            read_with(JS, "flags.enable_feature_a()", &["enable-feature-a"])
                .calls
                .is_empty()
        );
    }
}
