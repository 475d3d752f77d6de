//! What the report joins from beyond the log: names, sessions, feed acks, restores, purges.

use super::*;

/// A user's name and externalId from its newest named log row, else its record.
pub(super) fn identity(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
) -> Result<(Option<String>, Option<String>)> {
    let logged: Option<(Option<String>, Option<String>)> = db
        .prepare_cached(
            "SELECT user_name, external_id FROM provisioning_log
              WHERE resource_id = ?1 AND connection_id = ?2 AND user_name IS NOT NULL
              ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![user_id, connection_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some(found) = logged {
        return Ok(found);
    }
    Ok(crate::users::get(db, connection_id, user_id)?
        .map(|u| (Some(u.user_name), u.external_id))
        .unwrap_or((None, None)))
}

/// Sessions revoked by a SCIM deprovisioning in `[from, to)`.
pub(super) fn revoked_between(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<i64> {
    db
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM sessions
              WHERE (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1) AND revoked_at >= ?2 AND revoked_at < ?3
                AND {REVOKED_BY_SCIM}"
        ))?
        .query_row(params![connection_id, from, to], |r| r.get(0))
}

/// Each leaver's revoked sessions, its feed event and who acknowledged it.
pub(super) fn attach_sessions_and_feed(
    db: &Connection,
    leavers: &mut [EvidenceLeaver],
    existing: &[&str],
    covered_from: &str,
    to: &str,
) -> Result<()> {
    if leavers.is_empty() {
        return Ok(());
    }
    // The events of the deprovisionings, by (connection, user, kind), oldest first.
    let mut events: HashMap<(String, String, String), Vec<(i64, String)>> = HashMap::new();
    {
        let mut stmt = db.prepare(
            "SELECT seq, at, connection_id, user_id, kind FROM change_feed
              WHERE kind IN ('user.deactivated', 'user.deleted') AND at >= ?1 AND at <= ?2
                AND seq IS NOT NULL
              ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![covered_from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        for row in rows {
            let (seq, at, c, u, kind): (i64, String, String, Option<String>, String) = row?;
            if let Some(u) = u {
                events.entry((c, u, kind)).or_default().push((seq, at));
            }
        }
    }
    let consumers = feed::consumers(db)?;
    // Per user, the previous deprovisioning in time order bounds which sessions and event
    // belong to this one.
    let mut previous: HashMap<(String, String), String> = HashMap::new();
    let mut order: Vec<usize> = (0..leavers.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&leavers[*a], &leavers[*b]);
        (&a.committed_at, a.log_id).cmp(&(&b.committed_at, b.log_id))
    });
    for i in order {
        let l = &mut leavers[i];
        let key = (l.connection_id.clone(), l.user_id.clone());
        let lower = previous.insert(key, l.committed_at.clone());
        if existing.contains(&l.connection_id.as_str()) {
            let (n, at): (i64, Option<String>) = db
                .prepare_cached(&format!(
                    "SELECT COUNT(*), max(revoked_at) FROM sessions
                      WHERE connection_id = ?1 AND user_id = ?2 AND revoked_at <= ?3
                        AND (CAST(?4 AS TEXT) IS NULL OR revoked_at > ?4) AND revoked_at >= ?5 AND {REVOKED_BY_SCIM}"
                ))?
                .query_row(
                    params![l.connection_id, l.user_id, l.committed_at, lower, covered_from],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            // Stored to the millisecond: the request's arrival, floored, is the earliest.
            let arrived = micros(&l.received_at) / 1000 * 1000;
            l.revoked_in_same_transaction = at
                .as_deref()
                .is_some_and(|a| micros(a) >= arrived && *a <= *l.committed_at);
            l.sessions_revoked = Some(n);
            l.sessions_revoked_at = at;
        }
        let kind = match l.how {
            LeaverHow::Deactivated => feed::USER_DEACTIVATED,
            LeaverHow::Deleted => feed::USER_DELETED,
        };
        let event = events
            .get(&(l.connection_id.clone(), l.user_id.clone(), kind.to_string()))
            .and_then(|list| {
                list.iter().rev().find(|(_, at)| {
                    *at <= l.committed_at && lower.as_ref().is_none_or(|lo| at > lo)
                })
            })
            .map(|(seq, _)| *seq);
        l.consumption = match event {
            Some(seq) => consumption(db, &consumers, &l.connection_id, seq)?,
            None => EvidenceConsumption {
                status: if feed::pruned_through(db, Some(&l.connection_id))? > 0 {
                    ConsumptionStatus::FeedPruned
                } else {
                    ConsumptionStatus::NotInFeed
                },
                feed_seq: None,
                acknowledged_at: None,
                consumers: vec![],
            },
        };
    }
    Ok(())
}

pub(super) fn consumption(
    db: &Connection,
    consumers: &[feed::Consumer],
    connection_id: &str,
    seq: i64,
) -> Result<EvidenceConsumption> {
    let mut acks = vec![];
    for c in consumers
        .iter()
        .filter(|c| c.reads.iter().any(|r| r.is_empty() || r == connection_id))
    {
        let at = feed::acknowledged_at(db, &c.app_key_id, connection_id, seq)?;
        if c.revoked && at.is_none() {
            continue;
        }
        acks.push(EvidenceAck {
            app_key: format!("{} ({}…)", c.label, c.prefix),
            acknowledged_at: at,
        });
    }
    let (status, at) = if acks.is_empty() {
        (ConsumptionStatus::NoConsumer, None)
    } else if acks.iter().all(|a| a.acknowledged_at.is_some()) {
        let last = acks.iter().filter_map(|a| a.acknowledged_at.clone()).max();
        (ConsumptionStatus::Acknowledged, last)
    } else {
        (ConsumptionStatus::Pending, None)
    };
    Ok(EvidenceConsumption {
        status,
        feed_seq: Some(seq),
        acknowledged_at: at,
        consumers: acks,
    })
}

/// Deleted users an admin restored in the period (the audit trail, never pruned): the
/// matching leaver is marked, and each restore is a reactivation.
pub(super) fn restores(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
    leavers: &mut [EvidenceLeaver],
    out: &mut Vec<EvidenceReactivation>,
) -> Result<()> {
    let rows: Vec<(String, String, Option<String>)> = db
        .prepare_cached(
            "SELECT at, connection_id, detail FROM audit
              WHERE action = 'user_restored' AND at >= ?2 AND at < ?3
                AND connection_id IS NOT NULL AND (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1)
              ORDER BY at, id",
        )?
        .query_map(params![connection_id, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<crate::Result<_>>()?;
    for (at, c, name) in rows {
        let matched = leavers
            .iter_mut()
            .filter(|l| {
                l.connection_id == c
                    && l.how == LeaverHow::Deleted
                    && l.committed_at < at
                    && l.reactivated_at.is_none()
                    && l.user_name == name
            })
            .max_by(|a, b| a.committed_at.cmp(&b.committed_at));
        let (user_id, external_id, deprovisioned_at) = match matched {
            Some(l) => {
                l.reactivated_at = Some(at.clone());
                l.reactivated_by = Some(ReactivatedBy::Admin);
                (
                    Some(l.user_id.clone()),
                    l.external_id.clone(),
                    Some(l.committed_at.clone()),
                )
            }
            None => {
                let user: Option<(String, Option<String>)> = db
                    .prepare_cached(
                        "SELECT id, external_id FROM users WHERE connection_id = ?1 AND user_name = ?2",
                    )?
                    .query_row(params![c, name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                (
                    user.as_ref().map(|u| u.0.clone()),
                    user.and_then(|u| u.1),
                    None,
                )
            }
        };
        out.push(EvidenceReactivation {
            connection_id: c,
            user_id,
            user_name: name,
            external_id,
            deprovisioned_at,
            reactivated_at: at,
            by: ReactivatedBy::Admin,
            log_id: None,
            request_id: None,
        });
    }
    Ok(())
}

/// Users purged in `[from, to)`, Muster's own test users apart.
pub(super) fn purges(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<Vec<EvidencePurge>> {
    let rows = db
        .prepare_cached(&format!(
            "SELECT connection_id, resource_id, user_name, external_id, at FROM provisioning_log p
              WHERE outcome = 'purged' AND resource_type = 'User' AND at >= ?2 AND at < ?3
                AND connection_id IS NOT NULL AND (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1)
                AND NOT {OWN_TEST_TOMBSTONE}
              ORDER BY at, id"
        ))?
        .query_map(params![connection_id, from, to], |r| {
            Ok(EvidencePurge {
                connection_id: r.get(0)?,
                user_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                user_name: r.get(2)?,
                external_id: r.get(3)?,
                purged_at: r.get(4)?,
            })
        })?
        .collect::<crate::Result<_>>()?;
    Ok(rows)
}

/// Distinct test users of Muster's own runs the report leaves out: purged in `[from, to)`,
/// or deprovisioned by a run's request in the covered part `[covered_from, to)`.
pub(super) fn own_test_users(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    covered_from: &str,
    to: &str,
) -> Result<i64> {
    db
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM (
                SELECT connection_id, resource_id FROM provisioning_log p
                 WHERE outcome = 'purged' AND resource_type = 'User' AND at >= ?2 AND at < ?4
                   AND connection_id IS NOT NULL AND (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1)
                   AND {OWN_TEST_TOMBSTONE}
                UNION
                SELECT connection_id, resource_id FROM provisioning_log
                 WHERE traffic = 'check' AND resource_type = 'User' AND status < 400
                   AND outcome IN ('deactivated', 'deleted') AND at >= ?3 AND at < ?4
                   AND resource_id IS NOT NULL AND connection_id IS NOT NULL
                   AND (CAST(?1 AS TEXT) IS NULL OR connection_id = ?1)) AS leavers"
        ))?
        .query_row(params![connection_id, from, covered_from, to], |r| r.get(0))
}
