//! `POST /.search` at the root: users and groups in one page; and the ListResponse body
//! every list answers with.

use super::body::MAX_RESULTS;
use super::ctx::Ctx;
use super::reply::{to_scim, Reply};
use super::trace::Trace;
use scim::list::ListQuery;
use scim::ScimError;
use serde_json::Value;

/// `POST /.search` at the server root (RFC 7644 §3.4.3): Users, then Groups, as one list.
/// A filter that names an attribute only one type has matches nothing of the other; the
/// page (startIndex, count) runs over the concatenation.
pub(super) async fn root(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    q: ListQuery,
) -> Result<Reply, ScimError> {
    let conn = ctx.connection_id.clone();
    let with_members = !q.projection.excludes("members");
    let want = q
        .count
        .unwrap_or(scim::list::DEFAULT_COUNT)
        .min(MAX_RESULTS);
    let page = ctx
        .st
        .dir
        .scim_search_root(&conn, q.clone(), with_members, want)
        .await
        .map_err(to_scim)?;
    let (users_total, user_rows, groups_total, group_rows, next_cursor) = (
        page.users_total,
        page.users,
        page.groups_total,
        page.groups,
        page.next_cursor,
    );
    let mut resources: Vec<Value> = user_rows
        .iter()
        .map(|u| {
            let mut v = u.to_scim(&ctx.user_location(&u.id), None);
            q.projection.apply(&mut v);
            v
        })
        .collect();
    resources.extend(group_rows.iter().map(|(g, m)| {
        let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
        q.projection.apply(&mut v);
        v
    }));
    trace.resource_type = None;
    Ok(Reply::ok(list_body(
        &q,
        users_total + groups_total,
        resources,
        next_cursor,
    )))
}

/// The ListResponse for a query: index pages carry `startIndex` (RFC 7644 §3.4.2.4), cursor
/// pages `nextCursor` instead (RFC 9865 §2).
pub(super) fn list_body(
    q: &ListQuery,
    total: u64,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    match q.cursor {
        None => scim::list::list_response(total, q.start_index.max(1), resources),
        Some(_) => scim::list::cursor_list_response(total, resources, next_cursor),
    }
}
