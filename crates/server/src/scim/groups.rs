//! `/Groups`: list, read, create, replace, patch (204 unless attributes are asked for) and
//! delete, each through `directory::Directory`.

use super::ctx::{note_body_identity, note_target, written, Ctx};
use super::reply::{to_scim, Reply};
use super::trace::Trace;
use axum::http::StatusCode;
use directory::groups::GroupRecord;
use directory::log;
use directory::service::{Update, WriteOutcome};
use scim::list::{ListQuery, Projection};
use scim::schema::GroupResource;
use scim::ScimError;
use serde_json::Value;

pub(super) async fn list(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    q: ListQuery,
) -> Result<Reply, ScimError> {
    trace.resource_type = Some("Group");
    let with_members = !q.projection.excludes("members");
    let page = ctx
        .st
        .dir
        .scim_groups(&ctx.connection_id, q.clone(), with_members)
        .await
        .map_err(to_scim)?;
    let resources = page
        .items
        .iter()
        .map(|(g, m)| {
            let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
            q.projection.apply(&mut v);
            v
        })
        .collect();
    Ok(Reply::ok(super::search::list_body(
        &q,
        page.total,
        resources,
        page.next_cursor,
    )))
}

pub(super) async fn get(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    projection: &Projection,
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let with_members = !projection.excludes("members");
    let (g, m) = ctx
        .st
        .dir
        .scim_group(&ctx.connection_id, id, with_members)
        .await
        .map_err(to_scim)?;
    trace.user_name = Some(g.display_name.clone());
    let mut v = g.to_scim(&ctx.group_location(&g.id), &ctx.base, m.as_deref());
    projection.apply(&mut v);
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(v),
        location: None,
        etag: Some(g.etag()),
    })
}

/// Group writes answer with the group; members are read only when the answer needs them.
pub(super) async fn group_reply(
    ctx: &Ctx<'_>,
    g: &GroupRecord,
    status: StatusCode,
) -> Result<Reply, ScimError> {
    let members = ctx
        .st
        .dir
        .scim_group_members(&ctx.connection_id, &g.id)
        .await
        .map_err(to_scim)?;
    let location = ctx.group_location(&g.id);
    Ok(Reply {
        status,
        body: Some(g.to_scim(&location, &ctx.base, Some(&members))),
        location: (status == StatusCode::CREATED).then_some(location),
        etag: Some(g.etag()),
    })
}

pub(super) async fn create(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    body: Value,
) -> Result<Reply, ScimError> {
    note_body_identity(trace, "Group", &body);
    // Parsed here, at the edge: storage gets a validated resource, never raw JSON.
    let resource = GroupResource::parse(&body)?;
    let w = ctx
        .st
        .dir
        .scim_create_group(&ctx.connection_id, resource, ctx.entry(trace, 201))
        .await
        .map_err(to_scim)?;
    let w = written(trace, w);
    group_reply(ctx, &w.group, StatusCode::CREATED).await
}

pub(super) async fn replace(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    note_body_identity(trace, "Group", &body);
    let resource = GroupResource::parse(&body)?;
    let w = update(ctx, trace, id, Update::Replace(resource), 200).await?;
    group_reply(ctx, &w.group, StatusCode::OK).await
}

/// A PUT or PATCH, parsed, committed with its log row (`status` is the answer's).
async fn update(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    update: Update<GroupResource>,
    status: u16,
) -> Result<WriteOutcome, ScimError> {
    let w = ctx
        .st
        .dir
        .scim_update_group(
            &ctx.connection_id,
            id,
            update,
            ctx.if_match.clone(),
            ctx.entry(trace, status),
        )
        .await
        .map_err(to_scim)?;
    Ok(written(trace, w))
}

/// PATCH answers 204 (RFC 7644 §3.5.2 allows it) unless attributes were asked for, so a
/// member added to a 10,000-member group is not followed by reading all 10,000.
pub(super) async fn patch(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
    pairs: &[(String, String)],
) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let req = scim::patch::parse_patch(&body)?;
    let projection = Projection::from_params(pairs)?;
    let wants_body = pairs.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes")
    });
    let status = if wants_body { 200 } else { 204 };
    let w = update(ctx, trace, id, Update::Patch(req), status).await?;
    if wants_body {
        let mut reply = if projection.excludes("members") {
            let location = ctx.group_location(&w.group.id);
            Reply {
                status: StatusCode::OK,
                body: Some(w.group.to_scim(&location, &ctx.base, None)),
                location: None,
                etag: Some(w.group.etag()),
            }
        } else {
            group_reply(ctx, &w.group, StatusCode::OK).await?
        };
        if let Some(b) = reply.body.as_mut() {
            projection.apply(b);
        }
        return Ok(reply);
    }
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
        etag: Some(w.group.etag()),
    })
}

pub(super) async fn delete(ctx: &Ctx<'_>, trace: &mut Trace, id: &str) -> Result<Reply, ScimError> {
    note_target(trace, "Group", id);
    let check = trace.traffic == Some(log::traffic::CHECK);
    let w = ctx
        .st
        .dir
        .scim_delete_group(
            &ctx.connection_id,
            id,
            ctx.if_match.clone(),
            check,
            ctx.entry(trace, 204),
        )
        .await
        .map_err(to_scim)?;
    written(trace, w);
    Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
        etag: None,
    })
}
