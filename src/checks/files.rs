//! File-level checks (`validate`): `invalid-flag`, `duplicate-key`, `unknown-kind`.

use std::collections::HashMap;

use super::{Finding, RuleId, Sink};
use crate::model::flag::named_kind;
use crate::model::names::did_you_mean;
use crate::repo::Repo;

pub fn check_files(repo: &Repo, sink: &mut Sink) {
    let mut by_key: HashMap<&str, Vec<&crate::repo::FlagFile>> = HashMap::new();
    for file in &repo.files {
        match &file.flag {
            Err(problems) => {
                for problem in problems {
                    sink.push(
                        Finding::at(
                            RuleId::InvalidFlag,
                            file,
                            problem.span.clone(),
                            &problem.message,
                        )
                        .with_help(problem.help.clone()),
                    );
                }
            }
            Ok(flag) => unknown_kind(repo, file, &flag.kind, sink),
        }
        // Only a file that does not parse is read again for its kind.
        if file.flag.is_err()
            && let Some(kind) = named_kind(&file.source.text)
        {
            unknown_kind(repo, file, &kind, sink);
        }
        if !file.key.is_empty() {
            by_key.entry(&file.key).or_default().push(file);
        }
    }
    for files in by_key.values().filter(|files| files.len() > 1) {
        for file in files {
            let others: Vec<&str> = files
                .iter()
                .filter(|o| o.source.path != file.source.path)
                .map(|o| o.source.path.as_str())
                .collect();
            sink.push(
                Finding::at(
                    RuleId::DuplicateKey,
                    file,
                    0..0,
                    format!("key `{}` is also used by {}", file.key, others.join(", ")),
                )
                .with_help(Some(
                    "flag keys are unique across services and the archive; rename one".into(),
                )),
            );
        }
    }
}

/// `unknown-kind` when `kind` is not declared.
fn unknown_kind(
    repo: &Repo,
    file: &crate::repo::FlagFile,
    kind: &toml::Spanned<String>,
    sink: &mut Sink,
) {
    let name = kind.get_ref();
    if repo.config.kinds.contains_key(name) {
        return;
    }
    let kinds = repo.config.kinds.keys().map(String::as_str);
    let help = match did_you_mean(name, kinds.clone()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!(
            "declared kinds: {}; declare new ones under [kinds] in flagctl.toml",
            kinds.collect::<Vec<_>>().join(", ")
        ),
    };
    sink.push(
        Finding::at(
            RuleId::UnknownKind,
            file,
            kind.span(),
            format!("unknown kind `{name}`"),
        )
        .with_help(Some(help)),
    );
}
