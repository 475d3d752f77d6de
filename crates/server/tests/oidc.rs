//! Black-box identity-provider sign-in: `/api/auth/providers`, `oidc/start` and
//! `oidc/finish` against an OpenID Provider served in the test on loopback (discovery,
//! JWKS and a token endpoint that checks the PKCE verifier): the state is spent once,
//! expires after 10 minutes on the server's clock, redirect URIs are checked, people not
//! on the team are refused, and every refusal is audited.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode as AxStatus;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use directory::{audit_search, ManualClock};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use muster_server::oidc::OidcConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::TestApp;

const CLIENT: &str = "muster-console";

/// An authorization the provider granted: the ID token's claims, the PKCE challenge and
/// what its UserInfo endpoint answers for the access token it issues.
#[derive(Clone)]
struct Grant {
    claims: Value,
    challenge: String,
    userinfo: Value,
}

#[derive(Clone)]
struct Provider {
    base: String,
    kid: String,
    jwk: Value,
    encoding: Arc<EncodingKey>,
    /// Extra keys published first in the JWKS (a rotation).
    extra: Arc<Mutex<Vec<Value>>>,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
    /// UserInfo answers by access token.
    userinfo: Arc<Mutex<HashMap<String, Value>>>,
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Exchanges a code when the verifier's S256 is the challenge it was granted with.
async fn token(State(p): State<Provider>, body: Bytes) -> (AxStatus, Json<Value>) {
    let form: HashMap<String, String> =
        reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(&body)))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    let grant = form
        .get("code")
        .and_then(|c| p.grants.lock().unwrap().remove(c));
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let Some(grant) = grant.filter(|g| b64(&Sha256::digest(verifier.as_bytes())) == g.challenge)
    else {
        return (
            AxStatus::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        );
    };
    if form.get("client_id").map(String::as_str) != Some(CLIENT) {
        return (
            AxStatus::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some(p.kid.clone());
    let id_token = encode(&h, &grant.claims, &p.encoding).unwrap();
    let access_token = format!("at-{}", uuid::Uuid::new_v4());
    p.userinfo
        .lock()
        .unwrap()
        .insert(access_token.clone(), grant.userinfo);
    (
        AxStatus::OK,
        Json(json!({"access_token": access_token, "token_type": "Bearer", "id_token": id_token})),
    )
}

/// OpenID Connect Core §5.3: the claims for the bearer access token, or 401.
async fn userinfo(
    State(p): State<Provider>,
    headers: axum::http::HeaderMap,
) -> (AxStatus, Json<Value>) {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match p.userinfo.lock().unwrap().get(token) {
        Some(claims) => (AxStatus::OK, Json(claims.clone())),
        None => (
            AxStatus::UNAUTHORIZED,
            Json(json!({"error": "invalid_token"})),
        ),
    }
}

async fn spawn_provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = pair.public_key_raw();
    let p = Provider {
        base: format!("http://{}", listener.local_addr().unwrap()),
        kid: "k1".into(),
        jwk: json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "k1",
                    "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
        encoding: Arc::new(EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap()),
        extra: Arc::new(Mutex::new(vec![])),
        grants: Arc::new(Mutex::new(HashMap::new())),
        userinfo: Arc::new(Mutex::new(HashMap::new())),
    };
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(p): State<Provider>| async move {
                Json(json!({
                    "issuer": p.base,
                    "authorization_endpoint": format!("{}/auth", p.base),
                    "token_endpoint": format!("{}/token", p.base),
                    "userinfo_endpoint": format!("{}/userinfo", p.base),
                    "jwks_uri": format!("{}/jwks", p.base),
                }))
            }),
        )
        .route(
            "/jwks",
            get(|State(p): State<Provider>| async move {
                let mut keys = p.extra.lock().unwrap().clone();
                keys.push(p.jwk.clone());
                Json(json!({ "keys": keys }))
            }),
        )
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(p.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    p
}

struct App {
    t: TestApp,
    clock: Arc<ManualClock>,
    idp: Provider,
}

async fn spawn() -> App {
    let idp = spawn_provider().await;
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let issuer = idp.base.clone();
    let t = helpers::spawn_app_for(clock.clone(), "Acme", "okta", move |c| {
        c.oidc = Some(OidcConfig {
            issuer,
            client_id: CLIENT.into(),
            client_secret: None,
        })
    })
    .await;
    App { t, clock, idp }
}

impl App {
    fn callback(&self) -> String {
        format!("{}/auth/callback", self.t.admin.trim_end_matches("/api"))
    }

    async fn public(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .t
            .client
            .request(method, format!("{}{path}", self.t.admin));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let s = resp.status();
        (s, resp.json().await.unwrap_or(Value::Null))
    }

    /// Starts a sign-in; returns the authorization URL's query.
    async fn start(&self) -> HashMap<String, String> {
        let (s, v) = self
            .public(
                Method::POST,
                "/auth/oidc/start",
                Some(json!({"redirect_uri": self.callback()})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let url = reqwest::Url::parse(v["authorization_url"].as_str().unwrap()).unwrap();
        assert!(url
            .as_str()
            .starts_with(&format!("{}/auth?", self.idp.base)));
        url.query_pairs().into_owned().collect()
    }

    /// The provider authenticates `email` for the started sign-in `q` and issues a code.
    fn grant(&self, q: &HashMap<String, String>, sub: &str, email: &str) -> String {
        let claims = json!({"email": email, "email_verified": true});
        self.grant_with(q, sub, claims, json!({"sub": sub}))
    }

    /// A code whose ID token carries `sub` and `id_claims`, and whose access token's UserInfo
    /// answer is `userinfo`.
    fn grant_with(
        &self,
        q: &HashMap<String, String>,
        sub: &str,
        id_claims: Value,
        userinfo: Value,
    ) -> String {
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["client_id"], CLIENT);
        assert_eq!(q["redirect_uri"], self.callback());
        let now = self.clock_now();
        let code = format!("code-{}", uuid::Uuid::new_v4());
        let mut claims = json!({"iss": self.idp.base, "sub": sub, "aud": CLIENT,
            "exp": now + 300, "iat": now, "nonce": q["nonce"]});
        if let (Some(c), Some(extra)) = (claims.as_object_mut(), id_claims.as_object()) {
            c.extend(extra.clone());
        }
        self.idp.grants.lock().unwrap().insert(
            code.clone(),
            Grant {
                claims,
                challenge: q["code_challenge"].clone(),
                userinfo,
            },
        );
        code
    }

    fn clock_now(&self) -> i64 {
        use directory::clock::Clock;
        self.clock.now().timestamp()
    }

    async fn finish(&self, state: &str, code: &str) -> (StatusCode, Value) {
        self.public(
            Method::POST,
            "/auth/oidc/finish",
            Some(json!({"state": state, "code": code})),
        )
        .await
    }

    async fn add(&self, email: &str, role: &str) -> String {
        let (s, v) = self
            .t
            .admin_json(
                Method::POST,
                "/team/admins",
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["admin"]["id"].as_str().unwrap_or_default().to_string()
    }

    async fn failed_sign_ins(&self) -> Vec<String> {
        let q = audit_search::AuditQuery {
            connection: Some("server".into()),
            ..Default::default()
        };
        self.t
            .db()
            .read(move |c| audit_search::page(c, &q, 1000))
            .await
            .unwrap()
            .entries
            .into_iter()
            .filter(|e| e.action == "signin.failed")
            .map(|e| e.detail.unwrap_or_default())
            .collect()
    }
}

fn code_of(v: &(StatusCode, Value)) -> (StatusCode, Option<&str>) {
    (v.0, v.1["code"].as_str())
}

#[tokio::test]
async fn a_team_member_signs_in_through_the_provider_once_per_state() {
    let app = spawn().await;
    let (s, v) = app.public(Method::GET, "/auth/providers", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"password": true, "oidc": {"issuer": app.idp.base}})
    );
    app.add("ada@example.com", "admin").await;

    let q = app.start().await;
    let code = app.grant(&q, "ada-sub", "ada@example.com");
    let (s, v) = app.finish(&q["state"], &code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["me"]["email"], "ada@example.com");
    assert_eq!(v["me"]["role"], "admin");
    let session = v["session"].as_str().unwrap().to_string();
    let me = app
        .t
        .client
        .get(format!("{}/auth/me", app.t.admin))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // The same state again (a replayed callback) is refused, even with a fresh code.
    let again = app.grant(&q, "ada-sub", "ada@example.com");
    let r = app.finish(&q["state"], &again).await;
    assert_eq!(
        code_of(&r),
        (StatusCode::BAD_REQUEST, Some("oidc_state_replayed"))
    );
    // A state this server never issued.
    let r = app.finish("made-up-state", &again).await;
    assert_eq!(
        code_of(&r),
        (StatusCode::BAD_REQUEST, Some("oidc_state_unknown"))
    );
    let failed = app.failed_sign_ins().await;
    assert!(
        failed.contains(&"oidc_state_replayed: identity provider".to_string())
            && failed.contains(&"oidc_state_unknown: identity provider".to_string()),
        "{failed:?}"
    );
    app.t.shutdown().await;
}

#[tokio::test]
async fn an_email_kept_out_of_the_id_token_is_read_from_userinfo_for_the_same_subject() {
    let app = spawn().await;
    app.add("ada@example.com", "support").await;
    let verified = json!({"sub": "ada-sub", "email": "ada@example.com", "email_verified": true});

    // The ID token names only the subject; UserInfo gives the verified email.
    let q = app.start().await;
    let code = app.grant_with(&q, "ada-sub", json!({}), verified.clone());
    let (s, v) = app.finish(&q["state"], &code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["me"]["email"], "ada@example.com");
    assert_eq!(v["me"]["role"], "support");

    // A UserInfo answer about another subject is refused (Core §5.3.2), and audited.
    let q = app.start().await;
    let other = json!({"sub": "mallory-sub", "email": "ada@example.com", "email_verified": true});
    let code = app.grant_with(&q, "bob-sub", json!({}), other);
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(code_of(&r), (StatusCode::UNAUTHORIZED, Some("oidc_token")));
    assert!(
        r.1["message"].as_str().unwrap_or("").contains("UserInfo"),
        "{}",
        r.1
    );

    // An email UserInfo does not call verified is not used: nobody to sign in.
    let q = app.start().await;
    let unverified = json!({"sub": "eve-sub", "email": "ada@example.com", "email_verified": false});
    let code = app.grant_with(&q, "eve-sub", json!({}), unverified);
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(code_of(&r), (StatusCode::FORBIDDEN, Some("not_on_team")));

    let failed = app.failed_sign_ins().await;
    assert!(
        failed.contains(&"oidc_token: identity provider".to_string())
            && failed.contains(&"not_on_team: eve-sub".to_string()),
        "{failed:?}"
    );
    app.t.shutdown().await;
}

async fn oidc_settings(t: &TestApp) -> Value {
    t.admin_json(Method::GET, "/team/oidc", None).await.1
}

async fn put_oidc(t: &TestApp, issuer: &str) -> (StatusCode, Value) {
    let body = json!({"issuer": issuer, "client_id": CLIENT});
    t.admin_json(Method::PUT, "/team/oidc", Some(body)).await
}

#[tokio::test]
async fn an_owner_sets_the_provider_in_the_console_checked_audited_and_kept_across_a_restart() {
    let idp = spawn_provider().await;
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let t = helpers::spawn_app_for(clock.clone(), "Acme", "okta", |_| {}).await;
    let mut app = App { t, clock, idp };
    assert_eq!(oidc_settings(&app.t).await["source"], Value::Null);

    // Not an https URL, and an issuer that does not answer: refused, nothing saved.
    let r = put_oidc(&app.t, "http://login.example.com").await;
    assert_eq!(r.0, StatusCode::BAD_REQUEST, "{}", r.1);
    let r = put_oidc(&app.t, "http://127.0.0.1:9").await;
    assert_eq!(
        code_of(&r),
        (StatusCode::BAD_REQUEST, Some("oidc_issuer_unusable"))
    );
    assert_eq!(oidc_settings(&app.t).await["source"], Value::Null);
    let (_, providers) = app.public(Method::GET, "/auth/providers", None).await;
    assert_eq!(providers["oidc"], Value::Null);

    // The provider: saved, in force at once, audited.
    let r = put_oidc(&app.t, &app.idp.base).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        r.1,
        json!({"source": "console", "issuer": app.idp.base, "client_id": CLIENT, "confidential": false})
    );
    app.add("ada@example.com", "admin").await;
    let q = app.start().await;
    let code = app.grant(&q, "ada-sub", "ada@example.com");
    assert_eq!(app.finish(&q["state"], &code).await.0, StatusCode::OK);
    let audit = app
        .t
        .admin_json(Method::GET, "/audit?action=oidc.settings", None)
        .await
        .1;
    assert_eq!(
        audit["rows"][0]["detail"],
        format!("issuer {}, client {CLIENT}", app.idp.base)
    );

    // Moved to another provider: Ada's account, linked at the first, is linked again at the
    // second by her verified email (a person linked at this issuer could not be claimed).
    app.idp = spawn_provider().await;
    assert_eq!(put_oidc(&app.t, &app.idp.base).await.0, StatusCode::OK);
    let q = app.start().await;
    let code = app.grant(&q, "ada-at-new-idp", "ada@example.com");
    let (s, v) = app.finish(&q["state"], &code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["me"]["email"], "ada@example.com");
    let q = app.start().await;
    let code = app.grant(&q, "someone-else", "ada@example.com");
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(code_of(&r), (StatusCode::FORBIDDEN, Some("not_on_team")));

    // Kept across a restart (the server restarts on the system clock).
    app.t.restart().await;
    let (_, providers) = app.public(Method::GET, "/auth/providers", None).await;
    assert_eq!(providers["oidc"]["issuer"], app.idp.base.as_str());

    // Turned off: local accounts only, audited.
    let (s, v) = app.t.admin_json(Method::DELETE, "/team/oidc", None).await;
    assert_eq!((s, &v["source"]), (StatusCode::OK, &Value::Null));
    let (_, providers) = app.public(Method::GET, "/auth/providers", None).await;
    assert_eq!(providers["oidc"], Value::Null);
    let audit = app
        .t
        .admin_json(Method::GET, "/audit?action=oidc.settings", None)
        .await
        .1;
    assert_eq!(audit["rows"][0]["detail"], "off");
    app.t.shutdown().await;

    // A provider set on the command line is shown, and changed only there.
    let app = spawn().await;
    let v = oidc_settings(&app.t).await;
    assert_eq!(v["source"], "command_line");
    let (s, v) = app.t.admin_json(Method::DELETE, "/team/oidc", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("oidc_from_command_line"))
    );
    app.t.shutdown().await;
}

#[tokio::test]
async fn a_state_expires_after_ten_minutes_on_the_servers_clock() {
    let app = spawn().await;
    app.add("ada@example.com", "owner").await;
    let q = app.start().await;
    app.clock
        .advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    let code = app.grant(&q, "ada-sub", "ada@example.com");
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(
        code_of(&r),
        (StatusCode::BAD_REQUEST, Some("oidc_state_expired"))
    );
    assert!(app
        .failed_sign_ins()
        .await
        .contains(&"oidc_state_expired: identity provider".to_string()));
    app.t.shutdown().await;
}

#[tokio::test]
async fn redirect_uris_other_than_the_console_or_loopback_are_refused() {
    let app = spawn().await;
    let start = |uri: &str| {
        let body = json!({"redirect_uri": uri});
        let app = &app;
        async move {
            app.public(Method::POST, "/auth/oidc/start", Some(body))
                .await
                .0
        }
    };
    for bad in [
        "https://evil.example/auth/callback",
        "http://localhost:1234/cb",
        "http://127.0.0.1/cb",
        &app.callback().replace("http://", "https://"),
        "http://127.0.0.1:45678/cb#fragment",
        "not a url",
    ] {
        assert_eq!(start(bad).await, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(start(&app.callback()).await, StatusCode::OK);
    assert_eq!(
        start("http://127.0.0.1:45678/callback").await,
        StatusCode::OK
    );
    assert_eq!(start("http://[::1]:45678/callback").await, StatusCode::OK);
    app.t.shutdown().await;
}

#[tokio::test]
async fn people_not_on_the_team_disabled_accounts_and_bad_codes_are_refused() {
    let app = spawn().await;
    let ada = app.add("ada@example.com", "admin").await;

    let q = app.start().await;
    let code = app.grant(&q, "zed-sub", "zed@example.com");
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(code_of(&r), (StatusCode::FORBIDDEN, Some("not_on_team")));

    // A code the provider does not know (or a wrong verifier) is the provider's refusal.
    let q = app.start().await;
    let r = app.finish(&q["state"], "no-such-code").await;
    assert_eq!(code_of(&r), (StatusCode::UNAUTHORIZED, Some("oidc_code")));

    let (s, v) = app
        .t
        .admin_json(
            Method::PATCH,
            &format!("/team/admins/{ada}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let q = app.start().await;
    let code = app.grant(&q, "ada-sub", "ada@example.com");
    let r = app.finish(&q["state"], &code).await;
    assert_eq!(code_of(&r), (StatusCode::FORBIDDEN, Some("disabled")));

    let failed = app.failed_sign_ins().await;
    for want in [
        "not_on_team: zed@example.com",
        "oidc_code: identity provider",
        "disabled: ada@example.com",
    ] {
        assert!(failed.contains(&want.to_string()), "{want} in {failed:?}");
    }
    app.t.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_provider_answers_503_and_no_provider_answers_404() {
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let t = helpers::spawn_app_for(clock.clone(), "Acme", "okta", |c| {
        c.oidc = Some(OidcConfig {
            // Nothing listens on port 9 of loopback.
            issuer: "http://127.0.0.1:9".into(),
            client_id: CLIENT.into(),
            client_secret: Some("s3cret".into()),
        })
    })
    .await;
    let r = t
        .client
        .post(format!("{}/auth/oidc/start", t.admin))
        .json(&json!({"redirect_uri": "http://127.0.0.1:4000/cb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "oidc_unavailable");
    t.shutdown().await;

    let t = helpers::spawn_app_for(clock, "Acme", "okta", |_| {}).await;
    let v: Value = t
        .client
        .get(format!("{}/auth/providers", t.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"password": true, "oidc": null}));
    let r = t
        .client
        .post(format!("{}/auth/oidc/finish", t.admin))
        .json(&json!({"state": "x", "code": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    t.shutdown().await;
}

/// A key made in the test, with its public JWK.
fn new_key(kid: &str) -> (EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = pair.public_key_raw();
    (
        EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap(),
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
               "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
    )
}

#[tokio::test]
async fn jit_sign_in_finds_the_issuers_keys_by_discovery_and_follows_a_rotation() {
    let app = spawn().await;
    let conn = app.t.connection_id.clone();
    let path = format!("/connections/{conn}/jit");
    let (s, mut v) = app.t.admin_json(Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["oidc_issuer"] = json!(app.idp.base);
    v["oidc_audience"] = json!("the-app");
    v["oidc_jwks"] = Value::Null;
    let (s, v) = app.t.admin_json(Method::PUT, &path, Some(v)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let key = app.t.app_key("test app").await;
    let now = app.clock_now();
    let claims = json!({"iss": app.idp.base, "sub": "u-1", "aud": "the-app", "exp": now + 300,
                        "iat": now, "email": "u1@example.com", "email_verified": true});
    let sign_in = |token: String| {
        let (app, key, conn) = (&app, key.clone(), conn.clone());
        async move {
            let r = app
                .t
                .client
                .post(format!(
                    "{}/app/v1/connections/{conn}/signin",
                    app.t.origin()
                ))
                .bearer_auth(key)
                .json(&json!({ "id_token": token }))
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let signed = |enc: &EncodingKey, kid: &str| {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        encode(&h, &claims, enc).unwrap()
    };
    // Signed with the provider's published key: verified (whatever the policy then decides).
    let (s, v) = sign_in(signed(&app.idp.encoding, "k1")).await;
    assert!(
        s == StatusCode::OK || (s == StatusCode::FORBIDDEN && v["decision"].is_object()),
        "{s} {v}"
    );
    // A key the provider does not publish: refused.
    let (forged, _) = new_key("k1");
    let (s, v) = sign_in(signed(&forged, "k1")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{v}"
    );
    // The provider rotates: a new key first in its JWKS, found without anyone pasting it.
    let (rotated, jwk) = new_key("k2");
    app.idp.extra.lock().unwrap().push(jwk);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (s, v) = sign_in(signed(&rotated, "k2")).await;
    assert!(
        s == StatusCode::OK || (s == StatusCode::FORBIDDEN && v["decision"].is_object()),
        "{s} {v}"
    );
    app.t.shutdown().await;
}
