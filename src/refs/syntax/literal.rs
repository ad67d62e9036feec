//! What `cleanup` needs from the parser layer: each language's tree-sitter grammar, and the
//! value of a literal node (a string, a number, a boolean or null), read exactly as the SDK
//! calls' defaults are read.

use ast_grep_language::SupportLang;

use super::{Language, Node, Reader};

impl Language {
    /// The tree-sitter grammar the language is parsed with.
    pub fn support_lang(self) -> SupportLang {
        self.grammar().lang
    }
}

/// The value of `node` when it is a literal (a parenthesized or signed one too): a string
/// without interpolation, a number, a boolean or null; None for anything else.
pub fn literal_value(language: Language, node: &Node<'_>, src: &str) -> Option<serde_json::Value> {
    let reader = Reader {
        grammar: language.grammar(),
        sdk: language.sdk(),
        accessors: &NO_ACCESSORS,
        src,
    };
    reader.literal(node).json()
}

static NO_ACCESSORS: std::sync::LazyLock<std::collections::HashMap<String, String>> =
    std::sync::LazyLock::new(Default::default);

#[cfg(test)]
mod tests {
    use super::*;
    use ast_grep_core::AstGrep;
    use ast_grep_core::tree_sitter::StrDoc;
    use serde_json::json;

    /// The value of the last expression statement's expression.
    fn value(language: Language, source: &str) -> Option<serde_json::Value> {
        let root = AstGrep::<StrDoc<SupportLang>>::try_new(source, language.support_lang()).ok()?;
        let node = root
            .root()
            .dfs()
            .filter(|n| n.kind().ends_with("expression_statement"))
            .last()?;
        let inner = node.child(0)?;
        literal_value(language, &inner, source)
    }

    #[test]
    fn literals_are_read_with_their_language_rules() {
        assert_eq!(value(Language::Python, "'a\\x41'\n"), Some(json!("aA")));
        assert_eq!(value(Language::Python, "-(3)\n"), Some(json!(-3)));
        assert_eq!(value(Language::JavaScript, "0x10;"), Some(json!(16)));
        assert_eq!(value(Language::Java, "class A { void f() { x(); } }"), None);
        assert_eq!(value(Language::Python, "None\n"), Some(json!(null)));
        assert_eq!(value(Language::Python, "f'{x}'\n"), None);
        assert_eq!(value(Language::Python, "x\n"), None);
    }
}
