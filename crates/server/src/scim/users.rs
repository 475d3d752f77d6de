//! `/Users`: list, read, create, replace, patch and delete, each through `directory::Directory`.

use super::ctx::{note_body_identity, note_target, written, Ctx};
use super::reply::{to_scim, Reply};
use super::trace::Trace;
use axum::http::StatusCode;
use directory::log;
use directory::service::Update;
use directory::users::UserRecord;
use scim::list::{ListQuery, Projection};
use scim::schema::UserResource;
use scim::ScimError;
use serde_json::Value;

pub(super) fn note_user(trace: &mut Trace, u: &UserRecord) {
    trace.resource_type = Some("User");
    trace.resource_id = Some(u.id.clone());
    trace.user_name = Some(u.user_name.clone());
    trace.external_id = u.external_id.clone();
}

pub(super) async fn list(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    q: ListQuery,
) -> Result<Reply, ScimError> {
    trace.resource_type = Some("User");
    let page = ctx
        .st
        .dir
        .scim_users(&ctx.connection_id, q.clone())
        .await
        .map_err(to_scim)?;
    let resources = page
        .items
        .iter()
        .map(|u| {
            let mut v = u.to_scim(&ctx.user_location(&u.id), None);
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
    note_target(trace, "User", id);
    let groups_base = (!projection.excludes("groups")).then(|| ctx.base.clone());
    let (u, groups) = ctx
        .st
        .dir
        .scim_user(&ctx.connection_id, id, groups_base)
        .await
        .map_err(to_scim)?;
    note_user(trace, &u);
    let mut v = u.to_scim(&ctx.user_location(&u.id), groups);
    projection.apply(&mut v);
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(v),
        location: None,
        etag: Some(u.etag()),
    })
}

pub(super) fn user_reply(ctx: &Ctx<'_>, u: &UserRecord, status: StatusCode) -> Reply {
    let location = ctx.user_location(&u.id);
    Reply {
        status,
        body: Some(u.to_scim(&location, None)),
        location: (status == StatusCode::CREATED).then_some(location),
        etag: Some(u.etag()),
    }
}

pub(super) async fn create(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    body: Value,
) -> Result<Reply, ScimError> {
    note_body_identity(trace, "User", &body);
    // Parsed here, at the edge: storage gets a validated resource, never raw JSON.
    let resource = UserResource::parse(&body)?;
    let w = ctx
        .st
        .dir
        .scim_create_user(&ctx.connection_id, resource, ctx.entry(trace, 201))
        .await
        .map_err(to_scim)?;
    let u = written(trace, w);
    Ok(user_reply(ctx, &u, StatusCode::CREATED))
}

pub(super) async fn replace(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    note_body_identity(trace, "User", &body);
    let resource = UserResource::parse(&body)?;
    update(ctx, trace, id, Update::Replace(resource)).await
}

pub(super) async fn patch(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    body: Value,
) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    let req = scim::patch::parse_patch(&body)?;
    update(ctx, trace, id, Update::Patch(req)).await
}

/// A PUT or PATCH, parsed: both answer 200 with the user as it is now.
async fn update(
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    id: &str,
    update: Update<UserResource>,
) -> Result<Reply, ScimError> {
    let w = ctx
        .st
        .dir
        .scim_update_user(
            &ctx.connection_id,
            id,
            update,
            ctx.if_match.clone(),
            ctx.entry(trace, 200),
        )
        .await
        .map_err(to_scim)?;
    let u = written(trace, w);
    Ok(user_reply(ctx, &u, StatusCode::OK))
}

pub(super) async fn delete(ctx: &Ctx<'_>, trace: &mut Trace, id: &str) -> Result<Reply, ScimError> {
    note_target(trace, "User", id);
    // A readiness run's test user is gone at once, not restorable for weeks.
    let check = trace.traffic == Some(log::traffic::CHECK);
    let w = ctx
        .st
        .dir
        .scim_delete_user(
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
