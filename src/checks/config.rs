//! `invalid-config`: a `flagctl.toml` that does not parse or fit, one finding per problem.

use super::{Finding, RuleId, Severities, Sink};
use crate::repo::ConfigError;

/// The problems of an invalid `flagctl.toml` as findings, always at error level: without
/// its configuration flagctl cannot check anything else.
pub fn config_findings(error: &ConfigError) -> Vec<Finding> {
    let severities = Severities::default();
    let mut sink = Sink::new(&severities);
    for problem in &error.problems {
        sink.push(
            Finding::in_source(
                RuleId::InvalidConfig,
                &error.file,
                problem.span.clone(),
                &problem.message,
            )
            .with_help(problem.help.clone()),
        );
    }
    sink.into_findings()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFile;
    use crate::model::config::Config;

    #[test]
    fn each_problem_is_a_finding_in_flagctl_toml() {
        let file = SourceFile::new("flagctl.toml", "[policy]\nwarn_dayz = 3\nflags_dir = 4\n");
        let problems = Config::parse(&file).unwrap_err();
        let findings = config_findings(&ConfigError { file, problems });
        assert!(!findings.is_empty());
        assert!(findings.iter().all(|f| f.rule == RuleId::InvalidConfig
            && f.severity == crate::checks::Severity::Error
            && f.path == "flagctl.toml"
            && f.flag.is_none()));
        assert_eq!((findings[0].line, findings[0].column), (2, 1));
        assert!(
            findings[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("warn_days")
        );
    }
}
