//! Checks turn a loaded repository into findings: data that each output format renders.
//!
//! Every check has the same shape, `check(ctx, sink)`, over data that is already loaded.

mod config;
mod conflicts;
mod dependencies;
mod files;
mod history;
mod launched;
mod lifecycle;
mod owners;
mod refs;
mod services;
#[cfg(test)]
mod tests;

pub use crate::rules::{RuleId, Severity};
pub use config::config_findings;
pub use files::check_files;

/// What the audit checks run over: the loaded repository and the day.
pub struct AuditCtx<'a> {
    pub repo: &'a crate::repo::Repo,
    pub today: chrono::NaiveDate,
    /// Git history, when there is one to read: enables `created-mismatch`.
    pub history: Option<&'a crate::history::History>,
    /// The code references, with `audit --refs`: enables the code rules.
    pub refs: Option<&'a crate::refs::Scan>,
    /// The references a change adds, with `audit --refs --base REV`: enables
    /// `finished-flag-referenced`.
    pub added: Option<&'a [crate::refs::diff::RefChange]>,
}

impl AuditCtx<'_> {
    /// Active (not archived) flags that fit the schema.
    pub fn active(&self) -> impl Iterator<Item = (&crate::repo::FlagFile, &crate::model::Flag)> {
        self.repo.flags().filter(|(file, _)| !file.archived)
    }

    pub fn is_temporary(&self, flag: &crate::model::Flag) -> bool {
        flag.kind_of(&self.repo.config)
            .is_some_and(|k| k.is_temporary())
    }
}

/// Every audit rule; those that need history or code references run when the context
/// carries them.
pub fn audit(ctx: &AuditCtx, sink: &mut Sink) {
    check_files(ctx.repo, sink);
    owners::check(ctx, sink);
    lifecycle::check(ctx, sink);
    launched::check(ctx, sink);
    services::check(ctx, sink);
    conflicts::check(ctx, sink);
    dependencies::check(ctx, sink);
    if let Some(history) = ctx.history {
        history::check(ctx, history, sink);
    }
    if let Some(scan) = ctx.refs {
        refs::check(ctx, scan, sink);
    }
    if let Some(added) = ctx.added {
        refs::check_added(ctx, added, sink);
    }
}

use std::ops::Range;

/// One problem found in the repository.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    /// The flag key, when the finding is about one flag.
    pub flag: Option<String>,
    pub service: Option<String>,
    pub owner: Option<String>,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Byte range in the file, for rendering the offending lines.
    #[serde(skip)]
    pub span: Range<usize>,
    /// The line of code a finding about code points at (trimmed): with the path, what
    /// tells it from another across a change (`audit --base`), whatever its line number.
    #[serde(skip)]
    pub code: Option<String>,
}

/// Collects findings, applying the configured severities.
pub struct Sink<'a> {
    severities: &'a Severities,
    findings: Vec<Finding>,
}

/// The severity of each rule after `[severity]` and command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct Severities {
    overrides: std::collections::HashMap<RuleId, Option<Severity>>,
    deny_warnings: bool,
}

impl Severities {
    /// The defaults with `[severity]` of `flagctl.toml` applied.
    pub fn from_config(config: &crate::model::Config) -> Severities {
        Severities {
            overrides: config
                .severity
                .iter()
                .map(|(rule, s)| (*rule, *s))
                .collect(),
            deny_warnings: false,
        }
    }

    /// `None` for a rule that is off.
    pub fn of(&self, rule: RuleId) -> Option<Severity> {
        let severity = self
            .overrides
            .get(&rule)
            .copied()
            .unwrap_or(Some(rule.default_severity()))?;
        Some(if self.deny_warnings {
            Severity::Error
        } else {
            severity
        })
    }

    pub fn set(&mut self, rule: RuleId, severity: Option<Severity>) {
        self.overrides.insert(rule, severity);
    }

    pub fn deny_warnings(&mut self) {
        self.deny_warnings = true;
    }
}

impl<'a> Sink<'a> {
    pub fn new(severities: &'a Severities) -> Self {
        Sink {
            severities,
            findings: Vec::new(),
        }
    }

    /// Records a finding unless its rule is off; `finding.severity` is set here.
    pub fn push(&mut self, mut finding: Finding) {
        if let Some(severity) = self.severities.of(finding.rule) {
            finding.severity = severity;
            self.findings.push(finding);
        }
    }

    /// The findings sorted by path, line, rule.
    pub fn into_findings(mut self) -> Vec<Finding> {
        self.findings.sort_by(|a, b| {
            (
                &a.path,
                a.line,
                a.rule.name(),
                a.column,
                &a.flag,
                &a.message,
            )
                .cmp(&(
                    &b.path,
                    b.line,
                    b.rule.name(),
                    b.column,
                    &b.flag,
                    &b.message,
                ))
        });
        self.findings.dedup();
        self.findings
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Summary {
            errors,
            warnings: findings.len() - errors,
        }
    }
}

impl Finding {
    /// A finding about one file, at a byte range of it.
    pub fn at(
        rule: RuleId,
        file: &crate::repo::FlagFile,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            flag: (!file.key.is_empty()).then(|| file.key.clone()),
            service: (!file.service.is_empty()).then(|| file.service.clone()),
            owner: file
                .flag()
                .map(|f| f.owner.get_ref().clone())
                .filter(|o| !o.is_empty()),
            ..Finding::in_source(rule, &file.source, span, message)
        }
    }

    /// A finding about a file that is no flag file (such as `flagctl.toml`).
    pub fn in_source(
        rule: RuleId,
        source: &crate::model::SourceFile,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Finding {
        let (line, column) = source.line_col(span.start);
        Finding {
            rule,
            severity: rule.default_severity(),
            flag: None,
            service: None,
            owner: None,
            path: source.path.clone(),
            line,
            column,
            message: message.into(),
            help: None,
            span,
            code: None,
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Finding {
        self.help = help;
        self
    }
}
