//! Placeholder until the parser layer lands: no language is read by a parser yet.

use std::collections::HashMap;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    Kotlin,
    Rust,
}

impl Language {
    pub fn of_path(_path: &str) -> Option<Language> {
        None
    }
    pub fn name(self) -> &'static str {
        "none"
    }
}

pub fn sdk_method_names() -> &'static [&'static str] {
    &[]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    Boolean,
    String,
    Integer,
    Float,
    Number,
    Object,
}

pub struct SdkCall {
    pub method: String,
    pub accessor: bool,
    pub value_type: Option<ValueType>,
    pub key: Option<String>,
    pub key_span: Range<usize>,
    pub span: Range<usize>,
    pub default: Option<serde_json::Value>,
    pub default_text: Option<String>,
}

pub struct Syntax {
    pub comments: Vec<Range<usize>>,
    pub strings: Vec<Range<usize>>,
    pub calls: Vec<SdkCall>,
    pub has_errors: bool,
}

pub fn read(_language: Language, _source: &str, _accessors: &HashMap<String, String>) -> Syntax {
    Syntax {
        comments: Vec::new(),
        strings: Vec::new(),
        calls: Vec::new(),
        has_errors: false,
    }
}

pub fn accessor_names(_key: &str) -> Vec<String> {
    Vec::new()
}
