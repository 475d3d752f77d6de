//! The readiness report's data, as JSON, the console and the renderers read it: each check
//! with its outcome, evidence and what it supports, the totals, and the IPSIE level verdict.
//! `check` fills it, `standards` judges the levels, `render` and the server's PDF draw it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a check ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    NotApplicable,
}

impl Outcome {
    /// The short label reports print ("N/A" is explained in each report's legend).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::NotApplicable => "N/A",
        }
    }
}

/// The request that decided a check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

/// The response that decided a check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceResponse {
    /// None when no response arrived.
    pub status: Option<u16>,
    pub headers: BTreeMap<String, String>,
    /// Truncated to 4 KB.
    pub body: String,
    pub latency_ms: u64,
}

/// One exchange, as shown in the report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub request: EvidenceRequest,
    pub response: EvidenceResponse,
}

/// One check's verdict.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub category: String,
    pub outcome: Outcome,
    pub reason: String,
    pub evidence: Option<Evidence>,
    /// The standards sections and IdP requirements this check backs (crate::standards).
    pub supports: Supports,
}

/// Totals by outcome.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: usize,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pass: usize,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub fail: usize,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub not_applicable: usize,
}

/// The readiness report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub generated_at: DateTime<Utc>,
    pub version: String,
    pub counts: Counts,
    pub checks: Vec<Check>,
    /// Resources the run could not delete again (ids), so an operator can remove them.
    pub leftovers: Vec<String>,
    /// The IPSIE SCIM profile levels the checks show the server meets.
    pub levels: LevelVerdict,
    /// Requirements no request from outside can prove; never counted as passed.
    pub not_tested: Vec<Untested>,
}

impl Report {
    /// True when no check failed.
    pub fn passed(&self) -> bool {
        self.counts.fail == 0
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// A level of the draft IPSIE SCIM profile. Levels are cumulative: AL2 includes AL1.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum IpsieLevel {
    #[serde(rename = "AL1")]
    Al1,
    #[serde(rename = "AL2")]
    Al2,
    #[serde(rename = "AL3")]
    Al3,
}

impl IpsieLevel {
    pub const ALL: [IpsieLevel; 3] = [IpsieLevel::Al1, IpsieLevel::Al2, IpsieLevel::Al3];

    pub fn label(self) -> &'static str {
        match self {
            IpsieLevel::Al1 => "AL1",
            IpsieLevel::Al2 => "AL2",
            IpsieLevel::Al3 => "AL3",
        }
    }

    /// What the level asks of a SCIM server, in a buyer's words.
    pub fn scope(self) -> &'static str {
        match self {
            IpsieLevel::Al1 => "deprovisioning: the identity provider can find, deactivate and delete users",
            IpsieLevel::Al2 => "the users-and-groups lifecycle: create, update, reactivate users and manage groups and memberships",
            IpsieLevel::Al3 => "roles and entitlements",
        }
    }
}

/// What one check supports. Empty lists mean the check backs no requirement of that source.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Supports {
    /// Sections, as "RFC 7644 §3.4.2.2".
    pub rfc: Vec<String>,
    /// Okta's requirements ("SPEC test: …" names a step of Okta's SCIM 2.0 SPEC Test).
    pub okta: Vec<String>,
    /// What Entra's provisioning service sends or needs.
    pub entra: Vec<String>,
    /// The IPSIE SCIM profile level this check counts towards, if any.
    pub ipsie: Option<IpsieLevel>,
}

impl Supports {
    /// One line: "RFC 7644 §3.6; Okta: …; Entra: …; IPSIE AL1".
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.rfc.is_empty() {
            parts.push(self.rfc.join(", "));
        }
        if !self.okta.is_empty() {
            parts.push(format!("Okta: {}", self.okta.join(", ")));
        }
        if !self.entra.is_empty() {
            parts.push(format!("Entra: {}", self.entra.join(", ")));
        }
        if let Some(l) = self.ipsie {
            parts.push(format!("IPSIE SCIM {}", l.label()));
        }
        if parts.is_empty() {
            "Muster's own check (no external requirement)".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Which IPSIE levels the server meets and what is missing for the next one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelVerdict {
    /// Levels met, lowest first: every check mapped to the level (and below) passed or did not apply.
    pub met: Vec<IpsieLevel>,
    /// The first level not met.
    pub next: Option<IpsieLevel>,
    /// What stands between the server and `next`: failing check titles, or what this report cannot test.
    pub missing: Vec<String>,
    /// The verdict as one sentence.
    pub summary: String,
}

/// A requirement no request from outside can prove, and what the operator shows instead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Untested {
    pub requirement: String,
    /// Who asks for it.
    pub source: String,
    /// The evidence an operator provides instead.
    pub show_instead: String,
}
