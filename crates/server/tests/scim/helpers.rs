//! spawn_app(): a real Muster server on a random loopback port over a fresh SQLite file (or,
//! with MUSTER_TEST_STORE=postgres, a fresh PostgreSQL database), with one connection and its
//! token created through the admin API, plus request helpers.

use directory::{Clock, SystemClock};
use muster_server::{RunningServer, ServerConfig};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SCIM_JSON: &str = "application/scim+json";

pub struct TestApp {
    server: Option<RunningServer>,
    /// A second instance on the same PostgreSQL database (`add_peer`): SCIM and admin
    /// requests then alternate between the two, as behind a load balancer.
    peer: Option<RunningServer>,
    turn: std::sync::atomic::AtomicUsize,
    /// Kept alive so the database outlives the test body.
    pub dir: tempfile::TempDir,
    pub db_path: PathBuf,
    /// The PostgreSQL database, when the run is on PostgreSQL (`on_postgres`).
    pub database: Option<String>,
    pub scim_base: String,
    pub admin: String,
    pub admin_secret: String,
    pub connection_id: String,
    /// `{scim_base}/{connection_id}`.
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("reqwest client")
}

async fn start_on(path: PathBuf, database: Option<String>) -> RunningServer {
    start_with(path, |c| {
        c.database = database.map(|url| (url, Default::default()))
    })
    .await
}

async fn start_with(path: PathBuf, configure: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut config = ServerConfig::new(path, "127.0.0.1:0".parse().unwrap());
    configure(&mut config);
    muster_server::start(config).await.expect("server starts")
}

/// Whether this run's servers store on PostgreSQL (MUSTER_TEST_STORE=postgres): scripts/test.sh
/// runs the SCIM suite on both stores.
#[allow(dead_code)]
pub fn on_postgres() -> bool {
    std::env::var("MUSTER_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// True, after saying so, when the test is about the SQLite store alone (its single writer's
/// queue, its files) and this run is on PostgreSQL.
#[allow(dead_code)]
pub fn sqlite_only(why: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {why}");
    }
    on_postgres()
}

/// A fresh, empty database on the cluster MUSTER_TEST_POSTGRES names; its URL.
pub async fn fresh_postgres() -> String {
    let base = std::env::var("MUSTER_TEST_POSTGRES")
        .expect("MUSTER_TEST_POSTGRES names the test cluster (scripts/test.sh starts one)");
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    tokio::spawn(connection);
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let (prefix, _) = base.rsplit_once('/').expect("a database URL");
    format!("{prefix}/{name}")
}

/// A server on a fresh database with one Okta connection.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with the server's configuration adjusted first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    spawn_app_on_clock(Arc::new(SystemClock), configure).await
}

/// Like `spawn_app_with`, on a clock the test moves (`ManualClock`).
pub async fn spawn_app_on_clock(
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    spawn_app_for(clock, "test", "okta", configure).await
}

/// When the tests on a manual clock start: 1 November 2026, 09:00 UTC.
#[allow(dead_code)]
pub fn clock_start() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

/// Like `spawn_app_on_clock`, with the first connection named `name` for `idp` (okta,
/// entra, google or generic).
pub async fn spawn_app_for(
    clock: Arc<dyn Clock>,
    name: &str,
    idp: &str,
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("muster.db");
    let mut config = ServerConfig::new(db_path.clone(), "127.0.0.1:0".parse().unwrap());
    let database = match on_postgres() {
        true => Some(fresh_postgres().await),
        false => None,
    };
    config.database = database.clone().map(|url| (url, Default::default()));
    configure(&mut config);
    let server = muster_server::start_with_clock(config, clock)
        .await
        .expect("server starts");
    let mut app = TestApp {
        scim_base: server.scim_base.clone(),
        admin: server.admin_base.clone(),
        admin_secret: server.admin_secret.clone(),
        server: Some(server),
        peer: None,
        turn: Default::default(),
        dir,
        db_path,
        database,
        connection_id: String::new(),
        base: String::new(),
        token: String::new(),
        client: client(),
    };
    let (id, token) = app.new_connection_for(name, idp).await;
    app.base = format!("{}/{}", app.scim_base, id);
    app.connection_id = id;
    app.token = token;
    app
}

impl TestApp {
    /// The running server.
    #[allow(dead_code)]
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    /// `http://127.0.0.1:PORT`: where the OAuth token endpoint and the app API live.
    #[allow(dead_code)]
    pub fn origin(&self) -> String {
        format!("http://{}", self.server().addr)
    }

    /// The second instance's origin and SCIM base for this connection (`add_peer`); the
    /// first instance's on SQLite, where there is one.
    #[allow(dead_code)]
    pub fn other_instance(&self) -> (String, String) {
        match &self.peer {
            Some(p) => (
                format!("http://{}", p.addr),
                format!("{}/{}", p.scim_base, self.connection_id),
            ),
            None => (self.origin(), self.base.clone()),
        }
    }

    /// A new app-API key (what an integrating application authenticates with).
    #[allow(dead_code)]
    pub async fn app_key(&self, label: &str) -> String {
        self.server()
            .dir
            .issue_app_key(label)
            .await
            .expect("app key")
            .0
    }

    /// The running server's store (the handle its requests use).
    pub fn db(&self) -> &directory::Db {
        self.server.as_ref().expect("server running").dir.db()
    }

    /// Creates another connection through the admin API: (id, token).
    pub async fn new_connection(&self, name: &str) -> (String, String) {
        self.new_connection_for(name, "okta").await
    }

    /// Creates another connection for `idp` through the admin API: (id, token).
    pub async fn new_connection_for(&self, name: &str, idp: &str) -> (String, String) {
        let r = self
            .admin_req(Method::POST, "/connections")
            .json(&json!({"name": name, "idp": idp}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "create connection");
        let v: Value = r.json().await.unwrap();
        let id = v["connection"]["id"].as_str().unwrap().to_string();
        let token = v["token"].as_str().unwrap().to_string();
        assert!(v["connection"]["scim_url"].as_str().unwrap().ends_with(&id));
        (id, token)
    }

    /// An admin API call with an optional JSON body: its status and JSON answer (Null if none).
    /// Used by the admin-API test binaries, not by the SCIM one.
    #[allow(dead_code)]
    pub async fn admin_json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.admin_req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.expect("admin request sent");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub fn admin_req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let admin = match self.next_peer() {
            Some(peer) => peer.admin_base.clone(),
            None => self.admin.clone(),
        };
        self.client
            .request(method, format!("{admin}{path}"))
            .bearer_auth(&self.admin_secret)
    }

    /// A SCIM request with this connection's token; `path` is relative to the connection.
    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let base = match self.next_peer() {
            Some(peer) => format!("{}/{}", peer.scim_base, self.connection_id),
            None => self.base.clone(),
        };
        self.client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.token)
    }

    /// The peer when it is its turn (every other request once `add_peer` ran).
    fn next_peer(&self) -> Option<&RunningServer> {
        let peer = self.peer.as_ref()?;
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (turn % 2 == 1).then_some(peer)
    }

    /// Starts a second instance on this app's PostgreSQL database (same admin secret);
    /// from now on requests alternate between the two. On SQLite it does nothing: one
    /// process owns the file.
    #[allow(dead_code)]
    pub async fn add_peer(&mut self) {
        let Some(url) = self.database.clone() else {
            return;
        };
        let path = self.dir.path().join("peer").join("muster.db");
        let secret = self.admin_secret.clone();
        let peer = start_with(path, |c| {
            c.database = Some((url, Default::default()));
            c.admin_secret = Some(secret);
        })
        .await;
        self.peer = Some(peer);
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r
                .header("content-type", SCIM_JSON)
                .body(serde_json::to_vec(b).unwrap());
        }
        r.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// GET that must answer 200; returns the JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub async fn create_user(&self, body: Value) -> Value {
        let r = self.post("/Users", &body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "POST /Users: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A minimal user named `name`; returns its id.
    pub async fn user(&self, name: &str) -> String {
        let u = self
            .create_user(json!({"schemas": [USER_URN], "userName": name}))
            .await;
        u["id"].as_str().unwrap().to_string()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self
            .post(
                "/Groups",
                &json!({"schemas": [GROUP_URN], "displayName": name, "members": members}),
            )
            .await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "POST /Groups: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Sorted member ids of a group.
    pub async fn member_ids(&self, group_id: &str) -> Vec<String> {
        let g = self.get_json(&format!("/Groups/{group_id}")).await;
        let mut ids: Vec<String> = g["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Every live user and group of the connection, as the SCIM API shows them.
    pub async fn dump(&self) -> Value {
        let users = self.get_json("/Users?count=1000").await;
        let groups = self.get_json("/Groups?count=1000").await;
        let mut all_groups = vec![];
        for g in groups["Resources"].as_array().unwrap() {
            // Lists show members too; read each by id so a member change is always seen.
            all_groups.push(
                self.get_json(&format!("/Groups/{}", g["id"].as_str().unwrap()))
                    .await,
            );
        }
        json!({"users": users["Resources"], "groups": all_groups})
    }

    /// Waits until every log row and dialect note queued before now is committed: the
    /// writer is one FIFO queue, so an acknowledged write (a throwaway connection, which
    /// adds no row to this connection's log) comes after all of them.
    pub async fn barrier(&self) {
        // Each instance orders its own detached writes: with a peer, one write on each.
        for _ in 0..if self.peer.is_some() { 2 } else { 1 } {
            let r = self
                .admin_req(Method::POST, "/connections")
                .json(&json!({"name": "barrier", "idp": "generic"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    }

    /// The connection's provisioning log, newest first, after a barrier.
    pub async fn log(&self) -> Vec<Value> {
        self.log_of(&self.connection_id.clone()).await
    }

    pub async fn log_of(&self, connection_id: &str) -> Vec<Value> {
        self.barrier().await;
        let r = self
            .admin_req(
                Method::GET,
                &format!("/connections/{connection_id}/log?limit=1000"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["items"].as_array().unwrap().clone()
    }

    pub async fn log_len(&self) -> usize {
        self.log().await.len()
    }

    /// The dialect the admin API reports for this connection.
    pub async fn dialect(&self) -> Option<String> {
        self.barrier().await;
        let r = self
            .admin_req(Method::GET, &format!("/connections/{}", self.connection_id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        v["connection"]["dialect"].as_str().map(str::to_string)
    }

    /// Stops the server and starts a new one on the same database file.
    pub async fn restart(&mut self) {
        let old_origin = self.scim_base.clone();
        self.server.take().unwrap().shutdown().await;
        let server = start_on(self.db_path.clone(), self.database.clone()).await;
        self.scim_base = server.scim_base.clone();
        self.admin = server.admin_base.clone();
        self.admin_secret = server.admin_secret.clone();
        self.base = format!("{}/{}", self.scim_base, self.connection_id);
        self.server = Some(server);
        self.client = client();
        let _ = old_origin;
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        if let Some(s) = self.peer.take() {
            s.shutdown().await;
        }
    }
}

/// Asserts a SCIM Error response (RFC 7644 §3.12) and returns its body.
pub async fn assert_scim_error(r: Response, status: u16, scim_type: Option<&str>) -> Value {
    let got = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "status; body: {text}");
    assert!(ct.starts_with(SCIM_JSON), "content-type {ct}; body {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["schemas"], json!([ERROR_URN]), "{text}");
    assert_eq!(v["status"], json!(status.to_string()), "{text}");
    assert_eq!(
        v.get("scimType").and_then(Value::as_str),
        scim_type,
        "scimType of {text}"
    );
    assert!(v["detail"].is_string(), "{text}");
    v
}

pub fn patch_op(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

/// Ids of a ListResponse's resources, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
