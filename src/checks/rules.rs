//! The catalogue of audit rules (SPEC §5): names, default severities and help.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    ($($variant:ident = $name:literal, $severity:ident, $summary:literal;)*) => {
        /// An audit rule, by its kebab-case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId { $($variant),* }

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
        }
    };
}

rules! {
    InvalidFlag = "invalid-flag", Error, "A flag file does not parse or does not fit the schema.";
    DuplicateKey = "duplicate-key", Error, "Two flag files share a key.";
    UnknownKind = "unknown-kind", Error, "The flag's `kind` is not declared.";
    MissingOwner = "missing-owner", Error, "The flag's `owner` is empty.";
    UnknownOwner = "unknown-owner", Error, "The owner is not declared in [owners] or not allowed in the service.";
    Expired = "expired", Error, "A live temporary flag is past its `expires` date.";
    ExpiryTooLong = "expiry-too-long", Error, "`expires` is more than the kind's `max_days` after `created`.";
    ExpiringSoon = "expiring-soon", Warning, "`expires` is within `warn_days`.";
    ReviewOverdue = "review-overdue", Error, "A permanent flag is past its `review_by` date.";
    ReviewTooFar = "review-too-far", Error, "`review_by` is more than `review_days` after `reviewed` (or `created`).";
    ReviewDueSoon = "review-due-soon", Warning, "`review_by` is within `warn_days`.";
    RemovalOverdue = "removal-overdue", Error, "A concluded flag is still active after `remove_by`.";
    ServiceLimit = "service-limit", Error, "A service has more active flags than its limit.";
    Conflict = "conflict", Error, "Two live flags conflict: declared, or controlling one resource without disjoint layer ranges.";
    LayerOverlap = "layer-overlap", Error, "Ranges in one layer overlap or leave part of [0, 100) uncovered.";
    MissingDependency = "missing-dependency", Error, "`requires` names an unknown or archived flag, or an undeclared variant.";
    DependencyCycle = "dependency-cycle", Error, "`requires` forms a cycle.";
    TemporaryDependency = "temporary-dependency", Warning, "A permanent flag requires a temporary one.";
    CreatedMismatch = "created-mismatch", Error, "`created` is later than the commit that first added the flag.";
    UnusedFlag = "unused-flag", Warning, "A live flag has no reference in the scanned code.";
    ArchivedFlagReferenced = "archived-flag-referenced", Error, "Code still references an archived flag.";
}

impl RuleId {
    pub fn from_name(name: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|rule| rule.name() == name)
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
