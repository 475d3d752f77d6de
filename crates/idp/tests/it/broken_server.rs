//! A small in-memory SCIM server that behaves correctly unless told to break one thing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};

pub const TOKEN: &str = "secret-token";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// More than this many requests in flight at once is answered with 429.
const MAX_IN_FLIGHT: usize = 20;

/// Each toggle breaks one behaviour.
#[derive(Debug, Clone, Copy, Default)]
pub struct Breaks {
    pub no_409: bool,
    pub zero_based: bool,
    pub server_error_not_found: bool,
    pub no_retry_after: bool,
    pub wrong_content_type: bool,
}

#[derive(Default)]
pub struct Store {
    pub users: BTreeMap<String, Value>,
    pub groups: BTreeMap<String, Value>,
    next: u64,
}

pub struct Fixture {
    pub store: Mutex<Store>,
    breaks: Breaks,
    in_flight: AtomicUsize,
    base: String,
}

/// Starts the server on 127.0.0.1:0; returns its SCIM base URL and state.
pub async fn spawn(breaks: Breaks) -> (String, Arc<Fixture>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/scim/v2", listener.local_addr().unwrap());
    let app = Arc::new(Fixture {
        store: Mutex::default(),
        breaks,
        in_flight: AtomicUsize::new(0),
        base: base.clone(),
    });
    let router = Router::new().fallback(handle).with_state(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, app)
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Fixture {
    fn reply(&self, status: u16, body: Option<Value>) -> Response {
        let ct = if self.breaks.wrong_content_type {
            "application/json"
        } else {
            "application/scim+json"
        };
        let mut r = match body {
            Some(b) => (StatusCode::from_u16(status).unwrap(), b.to_string()).into_response(),
            None => StatusCode::from_u16(status).unwrap().into_response(),
        };
        if status != 204 {
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static(ct));
        }
        r
    }

    fn error(&self, status: u16, scim_type: Option<&str>, detail: &str) -> Response {
        let status = if status == 404 && self.breaks.server_error_not_found {
            500
        } else {
            status
        };
        let mut b = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(), "detail": detail });
        if let Some(t) = scim_type {
            b["scimType"] = json!(t);
        }
        self.reply(status, Some(b))
    }
}

async fn handle(
    State(app): State<Arc<Fixture>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _guard = InFlight(&app.in_flight);
    let n = app.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    // Hold each request briefly so a burst overlaps.
    tokio::time::sleep(Duration::from_millis(3)).await;
    if n > MAX_IN_FLIGHT {
        let mut r = app.error(429, None, "too many requests");
        if !app.breaks.no_retry_after {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
        }
        return r;
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return app.error(401, None, "bad token");
    }
    let body: Option<Value> = if body.is_empty() {
        None
    } else {
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !(ct.starts_with("application/scim+json") || ct.starts_with("application/json")) {
            return app.error(415, None, "unsupported media type");
        }
        match serde_json::from_slice(&body) {
            Ok(v) => Some(v),
            Err(_) => return app.error(400, Some("invalidSyntax"), "bad json"),
        }
    };
    let path = uri.path().strip_prefix("/scim/v2").unwrap_or("");
    let query: BTreeMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["ServiceProviderConfig"]) => app.reply(200, Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": { "supported": true }, "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": 100 }, "changePassword": { "supported": false },
            "sort": { "supported": false }, "etag": { "supported": false },
            "authenticationSchemes": [{ "type": "oauthbearertoken", "name": "Bearer", "description": "token" }]
        }))),
        ("GET", ["Schemas"]) => app.reply(200, Some(list(vec![json!({ "id": USER }), json!({ "id": GROUP })], 1, 1))),
        ("GET", ["ResourceTypes"]) => app.reply(200, Some(list(vec![
            json!({ "name": "User", "endpoint": "/Users", "schema": USER }),
            json!({ "name": "Group", "endpoint": "/Groups", "schema": GROUP }),
        ], 1, 1))),
        (_, ["Bulk"]) => app.error(405, None, "bulk is not supported"),
        ("GET", [kind @ ("Users" | "Groups")]) => list_resources(&app, kind, &query),
        ("POST", ["Users"]) => create_user(&app, body.unwrap_or_default()),
        ("POST", ["Groups"]) => create_group(&app, body.unwrap_or_default()),
        (m, [kind @ ("Users" | "Groups"), id]) => one(&app, m, kind, id, body, &query),
        _ => app.error(404, None, "no such endpoint"),
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn list(resources: Vec<Value>, total: usize, start: i64) -> Value {
    json!({ "schemas": [LIST], "totalResults": total, "itemsPerPage": resources.len(), "startIndex": start, "Resources": resources })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn list_resources(app: &Fixture, kind: &str, q: &BTreeMap<String, String>) -> Response {
    let store = app.store.lock().unwrap();
    let all = if kind == "Users" {
        &store.users
    } else {
        &store.groups
    };
    let mut matched: Vec<Value> = all.values().cloned().collect();
    if let Some(f) = q.get("filter") {
        // Only `attr eq "value"`, which is all Okta and Entra send.
        let Some((attr, lit)) = f.split_once(" eq ") else {
            return app.error(400, Some("invalidFilter"), "unsupported filter");
        };
        let Ok(want) = serde_json::from_str::<String>(lit.trim()) else {
            return app.error(400, Some("invalidFilter"), "bad literal");
        };
        let attr = attr.trim();
        if !matches!(attr, "userName" | "externalId" | "displayName" | "id") {
            return app.error(400, Some("invalidFilter"), "unsupported attribute");
        }
        matched.retain(|r| match r.get(attr).and_then(Value::as_str) {
            Some(v) if attr == "userName" => v.eq_ignore_ascii_case(&want),
            Some(v) => v == want,
            None => false,
        });
    }
    let default_start = if app.breaks.zero_based { 0 } else { 1 };
    let start: i64 = q
        .get("startIndex")
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_start);
    let count: usize = q
        .get("count")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
        .min(100);
    let offset = if app.breaks.zero_based {
        start.max(0) as usize
    } else {
        (start.max(1) - 1) as usize
    };
    let total = matched.len();
    let mut page: Vec<Value> = matched.into_iter().skip(offset).take(count).collect();
    if q.get("excludedAttributes").is_some_and(|e| e == "members") {
        page.iter_mut()
            .for_each(|g| drop(g.as_object_mut().map(|o| o.remove("members"))));
    }
    app.reply(200, Some(list(page, total, start.max(default_start))))
}

fn stamp(app: &Fixture, kind: &str, id: &str, mut r: Value, created: Option<Value>) -> Value {
    let o = r.as_object_mut().unwrap();
    o.remove("password");
    o.insert("id".into(), json!(id));
    let created = created.unwrap_or_else(|| json!(now()));
    let rt = if kind == "Users" { "User" } else { "Group" };
    o.insert("meta".into(), json!({ "resourceType": rt, "created": created, "lastModified": now(), "location": format!("{}/{kind}/{id}", app.base) }));
    if kind == "Users" {
        let active = match o.get("active") {
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            Some(Value::Bool(b)) => *b,
            _ => true,
        };
        o.insert("active".into(), json!(active));
    }
    r
}

fn created(app: &Fixture, kind: &str, r: Value) -> Response {
    let mut resp = app.reply(201, Some(r.clone()));
    let loc = format!("{}/{kind}/{}", app.base, r["id"].as_str().unwrap());
    resp.headers_mut()
        .insert("location", HeaderValue::from_str(&loc).unwrap());
    resp
}

fn create_user(app: &Fixture, body: Value) -> Response {
    let mut store = app.store.lock().unwrap();
    let Some(name) = body
        .get("userName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return app.error(400, Some("invalidValue"), "userName is required");
    };
    let taken = store.users.values().any(|u| {
        u["userName"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(&name))
    });
    if taken && !app.breaks.no_409 {
        return app.error(409, Some("uniqueness"), "userName is taken");
    }
    store.next += 1;
    let id = format!("u{:06}", store.next);
    let mut body = body;
    body.as_object_mut().unwrap().remove("groups");
    let r = stamp(app, "Users", &id, body, None);
    store.users.insert(id, r.clone());
    created(app, "Users", r)
}

fn create_group(app: &Fixture, body: Value) -> Response {
    let mut store = app.store.lock().unwrap();
    if body.get("displayName").and_then(Value::as_str).is_none() {
        return app.error(400, Some("invalidValue"), "displayName is required");
    }
    store.next += 1;
    let id = format!("g{:06}", store.next);
    let mut body = body;
    body.as_object_mut()
        .unwrap()
        .entry("members")
        .or_insert(json!([]));
    let r = stamp(app, "Groups", &id, body, None);
    store.groups.insert(id, r.clone());
    created(app, "Groups", r)
}

fn one(
    app: &Fixture,
    method: &str,
    kind: &str,
    id: &str,
    body: Option<Value>,
    q: &BTreeMap<String, String>,
) -> Response {
    let mut store = app.store.lock().unwrap();
    let map = if kind == "Users" {
        &mut store.users
    } else {
        &mut store.groups
    };
    let Some(current) = map.get(id).cloned() else {
        return app.error(404, None, &format!("{kind}/{id} not found"));
    };
    match method {
        "GET" => {
            let mut r = current;
            if q.get("excludedAttributes").is_some_and(|e| e == "members") {
                r.as_object_mut().unwrap().remove("members");
            }
            app.reply(200, Some(r))
        }
        "DELETE" => {
            map.remove(id);
            app.reply(204, None)
        }
        "PUT" => {
            let r = stamp(
                app,
                kind,
                id,
                body.unwrap_or_default(),
                current.pointer("/meta/created").cloned(),
            );
            map.insert(id.to_string(), r.clone());
            app.reply(200, Some(r))
        }
        "PATCH" => {
            let mut r = current.clone();
            let ops = body
                .as_ref()
                .and_then(|b| b.get("Operations"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for op in ops {
                if let Err(e) = apply(&mut r, &op) {
                    return app.error(400, Some("invalidPath"), &e);
                }
            }
            let r = stamp(app, kind, id, r, current.pointer("/meta/created").cloned());
            map.insert(id.to_string(), r.clone());
            // Entra's docs ask for 204 on group PATCH; users get the resource back.
            if kind == "Groups" {
                app.reply(204, None)
            } else {
                app.reply(200, Some(r))
            }
        }
        _ => app.error(405, None, "method not allowed"),
    }
}

/// Sets `a.b` style paths and `urn:...:attr` extension paths.
fn set(r: &mut Value, path: &str, v: Value) {
    if path.starts_with("urn:") {
        if let Some((urn, attr)) = path.rsplit_once(':') {
            let ext = r.as_object_mut().unwrap().entry(urn).or_insert(json!({}));
            ext[attr] = v;
            return;
        }
    }
    match path.split_once('.') {
        Some((a, b)) => {
            let o = r.as_object_mut().unwrap().entry(a).or_insert(json!({}));
            o[b] = v;
        }
        None => r[path] = v,
    }
}

fn apply(r: &mut Value, op: &Value) -> Result<(), String> {
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let Some(path) = op.get("path").and_then(Value::as_str) else {
        let Value::Object(m) = value else {
            return Err("path-less op needs an object".into());
        };
        for (k, v) in m {
            if k != "id" {
                set(r, &k, v);
            }
        }
        return Ok(());
    };
    // members[value eq "x"] and emails[type eq "work"].value
    if let Some((attr, rest)) = path.split_once('[') {
        let (cond, sub) = rest.split_once(']').ok_or("unclosed [")?;
        let (key, lit) = cond.split_once(" eq ").ok_or("only eq in value paths")?;
        let want: String = serde_json::from_str(lit.trim()).map_err(|_| "bad literal")?;
        let arr = r.as_object_mut().unwrap().entry(attr).or_insert(json!([]));
        let items = arr.as_array_mut().ok_or("not multi-valued")?;
        let hit = |e: &Value| e.get(key.trim()).and_then(Value::as_str) == Some(want.as_str());
        if kind == "remove" {
            items.retain(|e| !hit(e));
            return Ok(());
        }
        let sub = sub.trim_start_matches('.');
        match items.iter_mut().find(|e| hit(e)) {
            Some(e) if !sub.is_empty() => e[sub] = value,
            Some(e) => *e = value,
            None => {
                let mut e = Map::new();
                e.insert(key.trim().into(), json!(want));
                if !sub.is_empty() {
                    e.insert(sub.into(), value);
                }
                items.push(Value::Object(e));
            }
        }
        return Ok(());
    }
    if path == "members" {
        let given: Vec<Value> = value.as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = given
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str))
            .collect();
        let members = r
            .as_object_mut()
            .unwrap()
            .entry("members")
            .or_insert(json!([]));
        let list = members.as_array_mut().unwrap();
        match kind.as_str() {
            "add" => {
                for m in &given {
                    if !list.iter().any(|e| e.get("value") == m.get("value")) {
                        let mut m = m.clone();
                        m.as_object_mut().map(|o| o.remove("$ref"));
                        list.push(m);
                    }
                }
            }
            // Entra's remove with a value array removes those members only.
            "remove" if !given.is_empty() => {
                list.retain(|e| !ids.contains(&e["value"].as_str().unwrap_or("")))
            }
            "remove" => list.clear(),
            _ => *list = given,
        }
        return Ok(());
    }
    if path == "active" {
        let b = match value {
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            Value::Bool(b) => b,
            _ => return Err("active must be boolean".into()),
        };
        r["active"] = json!(b);
        return Ok(());
    }
    if kind == "remove" {
        r.as_object_mut().unwrap().remove(path);
    } else {
        set(r, path, value);
    }
    Ok(())
}
