//! The catalogue of audit rules: names, default severities and help.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! rules {
    ($($variant:ident = $name:literal, $severity:ident, $summary:literal $help:literal;)*) => {
        /// An audit rule, by its kebab-case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
        pub enum RuleId { $(#[doc = $summary] #[serde(rename = $name)] $variant),* }

        impl RuleId {
            pub const ALL: [RuleId; [$($name),*].len()] = [$(RuleId::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(RuleId::$variant => $name),* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $(RuleId::$variant => Severity::$severity),* }
            }

            /// When the rule fires, in one sentence.
            pub fn summary(self) -> &'static str {
                match self { $(RuleId::$variant => $summary),* }
            }

            /// What to do about a finding of the rule.
            pub fn help(self) -> &'static str {
                match self { $(RuleId::$variant => $help),* }
            }
        }
    };
}

rules! {
    InvalidFlag = "invalid-flag", Error, "A flag file does not parse or does not fit the schema." "Fix the file at the line shown: `flagctl validate` explains each problem, and the README's \"File format\" the schema.";
    DuplicateKey = "duplicate-key", Error, "Two flag files share a key." "Rename one of the flags; keys are unique across services and the archive because code refers to them.";
    UnknownKind = "unknown-kind", Error, "The flag's `kind` is not declared." "Use a declared kind (experiment, release, operational, kill-switch, regulatory, parameter) or declare it under [kinds].";
    MissingOwner = "missing-owner", Error, "The flag's `owner` is empty." "Set `owner` to the team that answers for the flag.";
    UnknownOwner = "unknown-owner", Error, "The owner is not declared in [owners] or not allowed in the service." "Use an owner declared under [owners] and allowed by [services.NAME].owners.";
    Expired = "expired", Error, "A live temporary flag is past its `expires` date." "Conclude it (`flagctl expire KEY --winner V`) and remove it, or `flagctl extend` it with a reason.";
    ExpiryTooLong = "expiry-too-long", Error, "`expires` is more than the kind's `max_days` after `created`." "Move `expires` within the kind's `max_days` of `created`; extend later with `flagctl extend` if needed.";
    ExpiringSoon = "expiring-soon", Warning, "`expires` is within `warn_days`." "Decide now: conclude, or extend with a reason.";
    ReviewOverdue = "review-overdue", Error, "A permanent flag is past its `review_by` date." "Review the flag with its owner and run `flagctl review KEY`.";
    ReviewTooFar = "review-too-far", Error, "`review_by` is more than `review_days` after `reviewed` (or `created`)." "Move `review_by` within `review_days` of the last review.";
    ReviewDueSoon = "review-due-soon", Warning, "`review_by` is within `warn_days`." "Plan the review with the flag's owner.";
    RemovalOverdue = "removal-overdue", Error, "A concluded flag is still active after `remove_by`." "Remove the flag's uses from code and `flagctl archive KEY`.";
    ServiceLimit = "service-limit", Error, "A service has more active flags than its limit." "Archive concluded and unused flags of the service, or raise its `max_flags` with a reason.";
    Conflict = "conflict", Error, "Two live flags conflict: declared, or controlling one resource without disjoint layer ranges." "Run the flags one after the other, or give them disjoint ranges of one `layer`.";
    LayerOverlap = "layer-overlap", Error, "Ranges in one layer overlap or fall outside [0, 100)." "Give each flag of the layer a disjoint range within [0, 100).";
    MissingDependency = "missing-dependency", Error, "`requires` names an unknown or archived flag, or an undeclared variant." "Point `requires` at an active flag and one of its declared variants, or remove it.";
    DependencyCycle = "dependency-cycle", Error, "`requires` forms a cycle." "Remove one requirement of the cycle.";
    DependencyDepth = "dependency-depth", Error, "A `requires` chain is deeper, or fans out wider, than flagctl evaluates in bounded time." "Require fewer flags: at most 16 levels of `requires` below a flag, and at most 64 prerequisites once its `requires` are unfolded (a flag required along two paths counts twice). Require the flag that decides directly rather than through a chain.";
    TemporaryDependency = "temporary-dependency", Warning, "A permanent flag requires a temporary one." "Make the permanent flag depend only on permanent flags.";
    CreatedMismatch = "created-mismatch", Error, "`created` is later than the commit that first added the flag." "Set `created` to the day the flag was first committed.";
    UnusedFlag = "unused-flag", Warning, "A live flag has no reference in the scanned code (`audit --refs`)." "If the flag is finished, conclude and archive it; if code reads it under another name, add an alias under [refs].";
    ArchivedFlagReferenced = "archived-flag-referenced", Error, "Code still references an archived flag (`audit --refs`)." "Remove the use: an archived flag is not served, so the code gets its own default (`flagctl cleanup KEY` rewrites it to the winner).";
    FinishedFlagReferenced = "finished-flag-referenced", Error, "A change adds code that reads an expired or concluded flag (`audit --refs --base REV`)." "Remove the new use: the flag is finished. `flagctl cleanup KEY` rewrites a concluded flag's uses to its winner; an expired flag is concluded first (`flagctl expire KEY --winner V`), or extended with a reason if it goes on.";
    UnknownFlagReferenced = "unknown-flag-referenced", Error, "An SDK evaluation call names a key that is no flag (`audit --refs`)." "Fix the key in the code (a typo serves the code's default to everyone), or create the flag.";
    TypeMismatch = "type-mismatch", Error, "Code reads a flag with an SDK method of another type than its variants (`audit --refs`)." "Read the flag with the method of its variants' type: a mismatched call always gets its own default.";
    DefaultMismatch = "default-mismatch", Warning, "The code's default differs from the flag's `default` variant (`audit --refs`)." "Make the code's default the value of the flag's `default` variant, so both agree on the safe value when flagd is unreachable.";
    Portability = "portability", Warning, "A construct of a flagd file gives different results in different flagd engines (`validate --flagd`, `eval --flagd`)." "Write the portable form the help names (the README's \"Portable targeting\"), or export from TOML flags with `flagctl export`, which writes only portable targeting.";
    Launched = "launched", Warning, "A live temporary flag serves one variant to everyone: it is finished." "Conclude it with `flagctl expire KEY --winner V` (V: the variant it serves), then remove it from the code and archive it.";
    InvalidConfig = "invalid-config", Error, "`flagctl.toml` does not parse or does not fit its schema: no flag can be checked." "Fix flagctl.toml at the line shown; every command needs it (the README's \"File format\" lists its sections).";
}

impl RuleId {
    pub fn from_name(name: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|rule| rule.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::RuleId;

    #[test]
    fn rules_serialize_by_name() {
        for rule in RuleId::ALL {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.name());
        }
    }
}
