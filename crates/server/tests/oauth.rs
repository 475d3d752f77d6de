//! Black-box OAuth for IdPs: client secrets issued over the admin API, the token endpoint's
//! client credentials grant (Basic and post), the access tokens on SCIM (scoped, expiring,
//! revoked with their secret), RFC 6749 §5.2 errors, and workload identity federation
//! against an issuer served in the test on loopback (discovery + JWKS, key rotation).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use directory::ManualClock;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[allow(dead_code)]
#[path = "scim/helpers.rs"]
mod helpers;

use helpers::TestApp;

/// A server on a manual clock with two Entra connections, A (the harness's own) and B.
struct App {
    t: TestApp,
    clock: Arc<ManualClock>,
    a: String,
    b: String,
}

async fn spawn() -> App {
    let clock = Arc::new(ManualClock::new(helpers::clock_start()));
    let t = helpers::spawn_app_for(clock.clone(), "Acme Entra", "entra", |_| {}).await;
    let (b, _) = t.new_connection_for("Globex Entra", "entra").await;
    App {
        a: t.connection_id.clone(),
        b,
        clock,
        t,
    }
}

/// What the token endpoint answered.
struct Answer {
    status: StatusCode,
    body: Value,
    cache_control: Option<String>,
    challenge: Option<String>,
}

fn form_encode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_string()
}

impl App {
    fn token_endpoint(&self) -> String {
        format!("{}/oauth/token", self.t.origin())
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.t.admin_req(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Issues a client secret for `conn`; returns (client id, secret, secret id).
    async fn issue_secret(&self, conn: &str) -> (String, String, String) {
        let (s, v) = self
            .admin(
                Method::POST,
                &format!("/connections/{conn}/oauth/secrets"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["client_id"].as_str().unwrap().to_string(),
            v["secret"].as_str().unwrap().to_string(),
            v["row"]["id"].as_str().unwrap().to_string(),
        )
    }

    async fn token_raw(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
        content_type: &str,
    ) -> Answer {
        let mut req = self
            .t
            .client
            .post(self.token_endpoint())
            .header("content-type", content_type)
            .body(serde_urlencoded::to_string(form).unwrap());
        if let Some((id, secret)) = basic {
            let raw = format!("{}:{}", form_encode(id), form_encode(secret));
            req = req.header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ),
            );
        }
        let resp = req.send().await.unwrap();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (cache_control, challenge) = (header("cache-control"), header("www-authenticate"));
        let status = resp.status();
        Answer {
            status,
            body: resp.json().await.unwrap_or(Value::Null),
            cache_control,
            challenge,
        }
    }

    async fn token(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Answer {
        self.token_raw(basic, form, "application/x-www-form-urlencoded")
            .await
    }

    /// A client credentials grant by HTTP Basic; panics unless it succeeds.
    async fn grant_basic(&self, client_id: &str, secret: &str) -> String {
        let a = self
            .token(
                Some((client_id, secret)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body["access_token"].as_str().unwrap().to_string()
    }

    async fn scim_users(&self, conn: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .t
            .client
            .get(format!("{}/{conn}/Users", self.t.scim_base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn assert_error(a: &Answer, status: StatusCode, error: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["error"], error, "{}", a.body);
    assert!(
        a.body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        a.body
    );
    assert_eq!(a.cache_control.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn client_credentials_by_basic_and_post_give_tokens_scoped_to_their_connection() {
    let app = spawn().await;
    let (client_id, secret, secret_id) = app.issue_secret(&app.a).await;
    assert!(client_id.starts_with("mc_"));

    let basic = app
        .token(
            Some((&client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK, "{}", basic.body);
    assert_eq!(basic.cache_control.as_deref(), Some("no-store"));
    assert_eq!(basic.body["token_type"], "Bearer");
    assert_eq!(basic.body["expires_in"], 3600);
    let token_basic = basic.body["access_token"].as_str().unwrap().to_string();

    let post = app
        .token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.body);
    let token_post = post.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(token_basic, token_post);

    for t in [&token_basic, &token_post] {
        let (s, v) = app.scim_users(&app.a, t).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["totalResults"], 0);
        // Connection A's token opens nothing of connection B.
        let (s, _) = app.scim_users(&app.b, t).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }

    // The secret's last use is recorded; access tokens stay out of the bearer-token list.
    let (_, view) = app
        .admin(Method::GET, &format!("/connections/{}/oauth", app.a), None)
        .await;
    assert_eq!(view["client_id"], client_id.as_str());
    assert_eq!(view["token_endpoint"], app.token_endpoint().as_str());
    assert_eq!(view["secrets"][0]["id"], secret_id.as_str());
    assert_eq!(view["secrets"][0]["state"], "active");
    assert!(view["secrets"][0]["last_used_at"].is_string(), "{view}");
    assert!(!view.to_string().contains(&secret));
    let (_, tokens) = app
        .admin(Method::GET, &format!("/connections/{}/tokens", app.a), None)
        .await;
    assert_eq!(
        tokens.as_array().unwrap().len(),
        1,
        "only the token the connection was created with: {tokens}"
    );

    // Issuing and using are audited, never with the secret.
    let (_, audit) = app
        .admin(Method::GET, &format!("/connections/{}/audit", app.a), None)
        .await;
    assert!(audit.to_string().contains("oauth_secret_issued"), "{audit}");
    assert!(!audit.to_string().contains(&secret));
    app.t.shutdown().await;
}

#[tokio::test]
async fn access_tokens_expire_after_the_configured_lifetime() {
    let app = spawn().await;
    let (client_id, secret, _) = app.issue_secret(&app.a).await;
    let path = format!("/connections/{}/oauth/settings", app.a);
    for bad in [3599, 21601, 0] {
        let (s, v) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"token_lifetime_secs": bad})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    let (s, v) = app
        .admin(
            Method::PUT,
            &path,
            Some(json!({"token_lifetime_secs": 7200})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let a = app
        .token(
            Some((&client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(a.body["expires_in"], 7200);
    let token = a.body["access_token"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::seconds(7199));
    assert_eq!(app.scim_users(&app.a, &token).await.0, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(2));
    let (s, v) = app.scim_users(&app.a, &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("access token expired"),
        "{v}"
    );
    // A new grant works again.
    let fresh = app.grant_basic(&client_id, &secret).await;
    assert_eq!(app.scim_users(&app.a, &fresh).await.0, StatusCode::OK);
    app.t.shutdown().await;
}

#[tokio::test]
async fn two_secrets_live_at_once_and_a_revoked_or_expired_one_is_refused() {
    let app = spawn().await;
    let (client_id, old, old_id) = app.issue_secret(&app.a).await;
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/oauth/secrets", app.a),
            Some(json!({"lifetime_days": 365})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let new = v["secret"].as_str().unwrap().to_string();
    for bad in [364, 1096] {
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/connections/{}/oauth/secrets", app.a),
                Some(json!({"lifetime_days": bad})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }

    let by_old = app.grant_basic(&client_id, &old).await;
    let by_new = app.grant_basic(&client_id, &new).await;

    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/connections/{}/oauth/secrets/{old_id}/revoke", app.a),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "revoked");
    let refused = app
        .token(
            Some((&client_id, &old)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(refused.body["error_description"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    // The revoked secret's access tokens die with it; the other secret's live on.
    assert_eq!(
        app.scim_users(&app.a, &by_old).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.scim_users(&app.a, &by_new).await.0, StatusCode::OK);
    app.grant_basic(&client_id, &new).await;

    // A year and a day later the new secret has expired too.
    app.clock.advance(chrono::Duration::days(366));
    let expired = app
        .token(
            Some((&client_id, &new)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_error(&expired, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(expired.body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let (_, audit) = app
        .admin(Method::GET, &format!("/connections/{}/audit", app.a), None)
        .await;
    assert!(
        audit.to_string().contains("oauth_secret_revoked"),
        "{audit}"
    );
    app.t.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = spawn().await;
    let (client_id, secret, _) = app.issue_secret(&app.a).await;
    let (_, b_secret, _) = app.issue_secret(&app.b).await;
    let cc = ("grant_type", "client_credentials");

    let a = app
        .token(Some((&client_id, &secret)), &[("grant_type", "password")])
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "unsupported_grant_type");

    let a = app.token(Some((&client_id, &secret)), &[]).await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_request");

    let a = app
        .token(
            Some((&client_id, &secret)),
            &[cc, ("client_id", &client_id), ("client_secret", &secret)],
        )
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_request");

    let a = app.token(Some((&client_id, &secret)), &[cc, cc]).await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_request");

    let a = app
        .token_raw(Some((&client_id, &secret)), &[cc], "application/json")
        .await;
    assert_error(&a, StatusCode::BAD_REQUEST, "invalid_request");

    // Wrong secret by Basic: 401 with a Basic challenge.
    let a = app
        .token(Some((&client_id, "mcs_not-the-secret")), &[cc])
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(a.challenge.as_deref().unwrap().starts_with("Basic"));

    // Another connection's secret is no secret of this client.
    let a = app.token(Some((&client_id, &b_secret)), &[cc]).await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");

    // Wrong secret by post: 401, no challenge (Basic was not used).
    let a = app
        .token(
            None,
            &[cc, ("client_id", &client_id), ("client_secret", "nope")],
        )
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(a.challenge, None);

    // Unknown clients, well formed or not.
    for id in [
        "mc_00000000000000000000000000000000".to_string(),
        "someone".to_string(),
    ] {
        let a = app.token(Some((&id, &secret)), &[cc]).await;
        assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    }

    // No client authentication at all.
    let a = app.token(None, &[cc]).await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");

    // A malformed Basic header.
    let resp = app
        .t
        .client
        .post(app.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", "Basic !!!")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // An unknown assertion type.
    let a = app
        .token(
            None,
            &[
                cc,
                ("client_id", &client_id),
                ("client_assertion_type", "urn:example:saml"),
                ("client_assertion", "x.y.z"),
            ],
        )
        .await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");

    // The secret still works after all that.
    app.grant_basic(&client_id, &secret).await;
    app.t.shutdown().await;
}

// ---- Workload identity federation ----

/// A signing key made in the test (ES256, P-256) with its public JWK.
struct TestKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn test_key(kid: &str) -> TestKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = pair.public_key_raw();
    assert_eq!(raw.len(), 65);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    TestKey {
        kid: kid.to_string(),
        encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap(),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
        }),
    }
}

#[derive(Clone)]
struct Issuer {
    base: String,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

/// A tiny OpenID issuer on loopback: discovery and the JWKS of `keys`.
async fn spawn_issuer() -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Issuer {
        base,
        keys: Arc::new(Mutex::new(vec![])),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(i): State<Issuer>| async move {
                Json(json!({"issuer": i.base, "jwks_uri": format!("{}/keys", i.base)}))
            }),
        )
        .route(
            "/keys",
            get(|State(i): State<Issuer>| async move {
                i.fetches.fetch_add(1, Ordering::SeqCst);
                let keys = i.keys.lock().unwrap().clone();
                Json(json!({ "keys": keys }))
            }),
        )
        .with_state(issuer.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    issuer
}

fn assertion(key: &TestKey, claims: Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some(key.kid.clone());
    encode(&h, &claims, &key.encoding).unwrap()
}

#[tokio::test]
async fn federation_assertions_are_verified_against_the_issuers_keys() {
    let app = spawn().await;
    let issuer = spawn_issuer().await;
    let key1 = test_key("k1");
    issuer.keys.lock().unwrap().push(key1.jwk.clone());
    let subject = "entra-provisioning-app";
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("/connections/{}/oauth/settings", app.a),
            Some(json!({
                "token_lifetime_secs": 3600,
                "federation_issuer": issuer.base,
                "federation_subject": subject,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let client_id = v["client_id"].as_str().unwrap().to_string();
    let now = app.clock_now();
    let aud = app.token_endpoint();
    let claims = |iss: &str, sub: &str, aud: &str, exp: i64| {
        json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp, "iat": now, "nbf": now,
               "jti": uuid::Uuid::new_v4().to_string()})
    };
    let send = |jwt: String| {
        let client_id = client_id.clone();
        let app = &app;
        async move {
            app.token(
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &jwt),
                ],
            )
            .await
        }
    };

    // A valid assertion: a token that works on SCIM.
    let ok = send(assertion(
        &key1,
        claims(&issuer.base, subject, &aud, now + 300),
    ))
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let token = ok.body["access_token"].as_str().unwrap();
    assert_eq!(app.scim_users(&app.a, token).await.0, StatusCode::OK);
    assert_eq!(
        app.scim_users(&app.b, token).await.0,
        StatusCode::UNAUTHORIZED
    );

    let refused = |a: &Answer, says: &str| {
        assert_error(a, StatusCode::UNAUTHORIZED, "invalid_client");
        let d = a.body["error_description"].as_str().unwrap();
        assert!(d.contains(says), "{d:?} should say {says:?}");
    };
    refused(
        &send(assertion(
            &key1,
            claims(
                &issuer.base,
                subject,
                "https://elsewhere/oauth/token",
                now + 300,
            ),
        ))
        .await,
        "aud",
    );
    refused(
        &send(assertion(
            &key1,
            claims(&issuer.base, "someone-else", &aud, now + 300),
        ))
        .await,
        "sub",
    );
    refused(
        &send(assertion(
            &key1,
            claims("https://evil.example", subject, &aud, now + 300),
        ))
        .await,
        "iss",
    );
    refused(
        &send(assertion(
            &key1,
            claims(&issuer.base, subject, &aud, now - 120),
        ))
        .await,
        "expired",
    );
    // Signed by a key the issuer never published, under a published kid.
    let impostor = test_key("k1");
    refused(
        &send(assertion(
            &impostor,
            claims(&issuer.base, subject, &aud, now + 300),
        ))
        .await,
        "signature",
    );
    // `alg: none` and HS256 never reach a key.
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": "k1"})),
        b64(claims(&issuer.base, subject, &aud, now + 300))
    );
    refused(&send(unsigned).await, "algorithm");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let hs_jwt = encode(
        &hs,
        &claims(&issuer.base, subject, &aud, now + 300),
        &EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    refused(&send(hs_jwt).await, "algorithm");

    // Key rotation: a new kid makes Muster fetch the keys again (throttled).
    let fetched_before = issuer.fetches.load(Ordering::SeqCst);
    assert_eq!(fetched_before, 1, "the keys are cached");
    let key2 = test_key("k2");
    issuer.keys.lock().unwrap().push(key2.jwk.clone());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let rotated = send(assertion(
        &key2,
        claims(&issuer.base, subject, &aud, now + 300),
    ))
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), fetched_before + 1);
    // An unknown kid right after a fetch is refused without another fetch.
    let key3 = test_key("k3");
    refused(
        &send(assertion(
            &key3,
            claims(&issuer.base, subject, &aud, now + 300),
        ))
        .await,
        "kid",
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), fetched_before + 1);

    // Federation off on connection B: its client cannot use assertions.
    let b_client = directory::oauth::client_id(&app.b);
    let a = app
        .token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &b_client),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                (
                    "client_assertion",
                    &assertion(&key1, claims(&issuer.base, subject, &aud, now + 300)),
                ),
            ],
        )
        .await;
    refused(&a, "not configured");
    app.t.shutdown().await;
}

impl App {
    fn clock_now(&self) -> i64 {
        use directory::Clock;
        self.clock.now().timestamp()
    }
}

#[tokio::test]
async fn readiness_oauth_checks_grant_a_token_and_see_a_wrong_secret_refused() {
    let app = spawn().await;
    let (client_id, secret, _) = app.issue_secret(&app.a).await;
    let client = idp::oauth_check::OAuthClient {
        token_endpoint: app.token_endpoint(),
        client_id: client_id.clone(),
        client_secret: secret.clone(),
    };
    let (token, checks) = idp::oauth_check::run(&client).await;
    let ids: Vec<(&str, idp::report::Outcome)> =
        checks.iter().map(|c| (c.id.as_str(), c.outcome)).collect();
    assert_eq!(
        ids,
        [
            ("oauth.token_endpoint", idp::report::Outcome::Pass),
            ("oauth.invalid_client", idp::report::Outcome::Pass)
        ],
        "{checks:?}"
    );
    assert!(!format!("{client:?}").contains(&secret));
    let token = token.unwrap();
    assert_eq!(app.scim_users(&app.a, &token).await.0, StatusCode::OK);

    // A secret the server does not know: the grant check fails and no token comes back.
    let (token, checks) = idp::oauth_check::run(&idp::oauth_check::OAuthClient {
        client_secret: "mcs_unknown".into(),
        ..client
    })
    .await;
    assert!(token.is_none());
    assert_eq!(checks[0].outcome, idp::report::Outcome::Fail);
    assert!(checks[0].reason.contains("401"), "{}", checks[0].reason);
    app.t.shutdown().await;
}
