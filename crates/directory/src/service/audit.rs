//! The audit trail as the console's Audit screen reads it: filtered pages across the server
//! and every connection, and exports, each export audited itself as `audit.export`.

use super::Directory;
use crate::audit::{self, Actor, AuditEntry};
use crate::audit_search::{self, AuditPage, AuditQuery, SERVER};
use crate::Result;

impl Directory {
    /// One page of the audit trail matching `q`, newest first (`limit` 1 to 1000).
    pub async fn audit_page(&self, q: AuditQuery, limit: u32) -> Result<AuditPage> {
        let q = q.normalized();
        q.check()?;
        self.db
            .read(move |c| audit_search::page(c, &q, limit))
            .await
    }

    /// Every row matching `q` (at most `audit_search::MAX_EXPORT`), newest first, for an
    /// export in `format`. The export is recorded as `audit.export` with its filters as
    /// JSON, on the connection it was filtered to (else on the server's trail); the rows are
    /// only handed out once that row is committed.
    pub async fn audit_export(
        &self,
        q: AuditQuery,
        format: &str,
        actor: Actor,
    ) -> Result<Vec<AuditEntry>> {
        let q = q.normalized();
        q.check()?;
        let read = q.clone();
        let rows = self
            .db
            .read(move |c| audit_search::export(c, &read))
            .await?;
        let mut detail = serde_json::to_value(&q)?;
        detail["format"] = format.into();
        detail["rows"] = rows.len().into();
        let detail = detail.to_string();
        let connection = q.connection.filter(|c| c != SERVER);
        let now = self.now();
        self.db
            .write(move |c| {
                audit::record(
                    c,
                    connection.as_deref(),
                    &actor,
                    "audit.export",
                    None,
                    Some(&detail),
                    now,
                )
            })
            .await?;
        Ok(rows)
    }
}
