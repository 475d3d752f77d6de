//! JIT sign-in against the store: every policy × (new user, existing SCIM user, existing
//! JIT user, deactivated user, email collision, groups overage), ID-token verification
//! with keys made in the test, and the JIT-then-SCIM merge.

#[path = "support/store.rs"]
mod store;

use base64::Engine;
use chrono::{TimeZone, Utc};
use directory::jit::{self, Decision, GroupsFlag, JitSettings, Policy, SignIn};
use directory::{connections, lifecycle, roles, sessions, users, Db};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()
}

fn db() -> (store::TestStore, String) {
    let db = store::open();
    let id = db
        .write_blocking(|c| {
            Ok(connections::create(c, "Acme", connections::Idp::Entra, false, now())?.id)
        })
        .unwrap();
    (db, id)
}

fn set_policy(db: &Db, conn: &str, policy: Policy, expect_groups: bool) {
    let conn = conn.to_string();
    db.write_blocking(move |c| {
        let mut s = jit::settings(c, &conn)?;
        s.policy = policy;
        s.expect_groups_claim = expect_groups;
        jit::save_settings(c, &conn, &s)
    })
    .unwrap();
}

fn scim_user(db: &Db, conn: &str, name: &str, ext: &str, active: bool) -> String {
    let (conn, body) = (
        conn.to_string(),
        json!({"userName": name, "externalId": ext, "active": active, "emails": [{"value": name, "primary": true}]}),
    );
    db.write_blocking(move |c| {
        Ok(lifecycle::create_user(
            c,
            &conn,
            &scim::schema::UserResource::parse(&body).unwrap(),
            "SCIM POST",
            now(),
        )?
        .id)
    })
    .unwrap()
}

fn signin(sub: &str, email: &str) -> SignIn {
    SignIn {
        subject: sub.into(),
        email: Some(email.into()),
        email_verified: true,
        given_name: Some("Jo".into()),
        family_name: Some("Claims".into()),
        groups: Some(vec![]),
        ..Default::default()
    }
}

fn run(db: &Db, conn: &str, s: SignIn) -> (Decision, Vec<String>, Option<String>) {
    let conn = conn.to_string();
    let out = db
        .write_blocking(move |c| jit::sign_in(c, &conn, &s, chrono::Duration::hours(1), now()))
        .unwrap();
    (out.decision, out.warnings, out.user.map(|u| u.id))
}

#[test]
fn every_policy_in_every_situation() {
    let refused = |d: &Decision| matches!(d, Decision::Refuse(_));
    for policy in [
        Policy::JitOnly,
        Policy::ScimAuthoritative,
        Policy::ScimFirst,
        Policy::JitOverwrites,
    ] {
        let (db, conn) = db();
        set_policy(&db, &conn, policy, false);
        scim_user(&db, &conn, "scim@acme.test", "sub-scim", true);
        scim_user(&db, &conn, "off@acme.test", "sub-off", false);

        // New user.
        let (d, _, uid) = run(&db, &conn, signin("sub-new", "new@acme.test"));
        if policy == Policy::ScimAuthoritative {
            assert!(refused(&d), "{policy:?}: new user refused");
        } else {
            assert_eq!(d, Decision::Create, "{policy:?}");
            assert!(uid.is_some());
        }
        // Existing SCIM user: matched by subject = externalId, never by email alone.
        let (d, _, uid) = run(&db, &conn, signin("sub-scim", "scim@acme.test"));
        let want = match policy {
            Policy::JitOnly | Policy::JitOverwrites => Decision::Update,
            _ => Decision::Allow,
        };
        assert_eq!(d, want, "{policy:?}: existing SCIM user");
        let u = db
            .read_blocking(|c| users::get(c, &conn, uid.as_deref().unwrap()))
            .unwrap()
            .unwrap();
        let overwritten = u.family_name.as_deref() == Some("Claims");
        assert_eq!(
            overwritten,
            want == Decision::Update,
            "{policy:?}: SCIM attributes touched only when the policy says so"
        );
        // Existing JIT user (created above, except under SCIM authoritative).
        if policy != Policy::ScimAuthoritative {
            let (d, _, _) = run(&db, &conn, signin("sub-new", "new@acme.test"));
            let want = match policy {
                Policy::JitOnly | Policy::ScimFirst | Policy::JitOverwrites => Decision::Update,
                Policy::ScimAuthoritative => unreachable!(),
            };
            assert_eq!(d, want, "{policy:?}: existing JIT user");
        }
        // Deactivated by SCIM: never signed in, never reactivated.
        let (d, _, _) = run(&db, &conn, signin("sub-off", "off@acme.test"));
        assert!(refused(&d), "{policy:?}: deactivated");
        let still_off = db
            .read_blocking(|c| {
                Ok(users::list(
                    c,
                    &conn,
                    &scim::list::ListQuery::from_params(
                        &[("filter".into(), "userName eq \"off@acme.test\"".into())],
                        10,
                    )?,
                )?
                .1[0]
                    .active)
            })
            .unwrap();
        assert!(!still_off);
        // Email collision: another subject with an existing account's email.
        let (d, w, _) = run(&db, &conn, signin("sub-other", "scim@acme.test"));
        if policy == Policy::ScimAuthoritative {
            assert!(refused(&d));
        } else {
            assert!(refused(&d), "{policy:?}: no duplicate by email");
            assert!(w.iter().any(|w| w.contains("not linked")), "{w:?}");
        }
        // Overage: the role is kept and the sign-in flagged.
        let mut s = signin("sub-scim", "scim@acme.test");
        s.groups = None;
        s.groups_overage = true;
        let (d, w, _) = run(&db, &conn, s);
        assert!(!refused(&d), "{policy:?}: overage does not refuse");
        assert!(w.iter().any(|w| w.contains("overage")), "{policy:?}: {w:?}");
    }
}

#[test]
fn group_claims_resolve_roles_and_overage_keeps_them() {
    let (db, conn) = db();
    set_policy(&db, &conn, Policy::JitOnly, true);
    let c2 = conn.clone();
    db.write_blocking(move |c| {
        roles::save(
            c,
            &c2,
            &[roles::RoleMapping::group("7d3e-entra-object-id", "admin")],
            "member",
            &directory::Actor::Cli,
            now(),
        )
    })
    .unwrap();
    let mut s = signin("sub-a", "a@acme.test");
    s.groups = Some(vec!["7d3e-entra-object-id".into()]);
    let conn2 = conn.clone();
    let out = db
        .write_blocking(move |c| jit::sign_in(c, &conn2, &s, chrono::Duration::hours(1), now()))
        .unwrap();
    assert_eq!(out.role.as_deref(), Some("admin"));
    // Next sign-in carries no groups claim where one is expected: role kept, flagged.
    let mut s = signin("sub-a", "a@acme.test");
    s.groups = None;
    let conn2 = conn.clone();
    let out = db
        .write_blocking(move |c| jit::sign_in(c, &conn2, &s, chrono::Duration::hours(1), now()))
        .unwrap();
    assert_eq!(out.role.as_deref(), Some("admin"));
    assert!(out.warnings.iter().any(|w| w.contains("No groups claim")));
}

#[test]
fn jit_then_scim_merges_into_one_account_scim_wins_sessions_kept() {
    let (db, conn) = db();
    set_policy(&db, &conn, Policy::ScimFirst, false);
    let conn2 = conn.clone();
    let out = db
        .write_blocking(move |c| {
            jit::sign_in(
                c,
                &conn2,
                &signin("00u-123", "jo@acme.test"),
                chrono::Duration::hours(8),
                now(),
            )
        })
        .unwrap();
    let (jit_id, token) = (out.user.unwrap().id, out.session_token.unwrap());
    let id = scim_user(&db, &conn, "jo@acme.test", "00u-123", true);
    assert_eq!(id, jit_id, "merged, not duplicated");
    let all = db
        .read_blocking(|c| users::list(c, &conn, &scim::list::ListQuery::from_params(&[], 100)?))
        .unwrap();
    assert_eq!(all.0, 1);
    let u = &all.1[0];
    assert_ne!(
        u.family_name.as_deref(),
        Some("Claims"),
        "SCIM's attributes win"
    );
    let check = db
        .read_blocking(|c| sessions::check(c, &token, now()))
        .unwrap();
    assert!(check.valid, "the JIT session survives the merge");
    // From now on SCIM owns the attributes under scim_first.
    let conn2 = conn.clone();
    let out = db
        .write_blocking(move |c| {
            jit::sign_in(
                c,
                &conn2,
                &signin("00u-123", "jo@acme.test"),
                chrono::Duration::hours(8),
                now(),
            )
        })
        .unwrap();
    assert_eq!(out.decision, Decision::Allow);
}

/// An ES256 key made here, its JWKS, and a signer.
struct Key {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
        Key {
            pair,
            pkcs8,
            kid: kid.into(),
        }
    }
    fn jwk(&self) -> serde_json::Value {
        let p = self.pair.public_key().as_ref();
        let b = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
        json!({"kty": "EC", "crv": "P-256", "x": b(&p[1..33]), "y": b(&p[33..65]), "kid": self.kid, "alg": "ES256", "use": "sig"})
    }
    fn sign(&self, claims: &serde_json::Value, kid: Option<&str>) -> String {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = kid.map(str::to_string);
        jsonwebtoken::encode(
            &h,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8),
        )
        .unwrap()
    }
}

#[test]
fn id_token_verification() {
    let key = Key::new("k1");
    let other = Key::new("k1");
    let settings = JitSettings {
        policy: Policy::JitOnly,
        resync: true,
        link_by_email: false,
        expect_groups_claim: false,
        oidc_issuer: Some("https://login.example/tenant".into()),
        oidc_audience: Some("muster-app".into()),
        oidc_jwks: Some(json!({"keys": [key.jwk()]}).to_string()),
    };
    let t = now().timestamp();
    let claims = |iss: &str, aud: &str, exp: i64| json!({"iss": iss, "aud": aud, "sub": "sub-1", "exp": exp, "iat": t - 10, "email": "a@acme.test", "nonce": "n-1", "groups": ["g1"]});
    let good = claims("https://login.example/tenant", "muster-app", t + 600);
    let ok =
        jit::verify_id_token(&key.sign(&good, Some("k1")), &settings, Some("n-1"), now()).unwrap();
    assert_eq!(ok.subject, "sub-1");
    assert_eq!(ok.groups, Some(vec!["g1".to_string()]));
    // Small skew tolerated, not more.
    assert!(jit::verify_id_token(
        &key.sign(
            &claims("https://login.example/tenant", "muster-app", t - 30),
            Some("k1")
        ),
        &settings,
        None,
        now()
    )
    .is_ok());
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "expired",
            key.sign(
                &claims("https://login.example/tenant", "muster-app", t - 3600),
                Some("k1"),
            ),
            None,
        ),
        (
            "wrong issuer",
            key.sign(
                &claims("https://evil.example", "muster-app", t + 600),
                Some("k1"),
            ),
            None,
        ),
        (
            "wrong audience",
            key.sign(
                &claims("https://login.example/tenant", "other-app", t + 600),
                Some("k1"),
            ),
            None,
        ),
        ("bad signature", other.sign(&good, Some("k1")), None),
        ("unknown kid", key.sign(&good, Some("k9")), None),
        ("wrong nonce", key.sign(&good, Some("k1")), Some("n-2")),
    ];
    for (name, token, nonce) in cases {
        assert!(
            jit::verify_id_token(&token, &settings, nonce, now()).is_err(),
            "{name} must be refused"
        );
    }
    // alg none: header {"alg":"none"}, no signature.
    let b = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b(json!({"alg": "none", "typ": "JWT"})),
        b(good.clone())
    );
    assert_eq!(
        jit::verify_id_token(&none, &settings, None, now()),
        Err(jit::TokenError::Unsigned)
    );
    // Overage indicator from Entra.
    let mut over = good.clone();
    over.as_object_mut().unwrap().remove("groups");
    over["_claim_names"] = json!({"groups": "src1"});
    let s = jit::verify_id_token(&key.sign(&over, Some("k1")), &settings, None, now()).unwrap();
    assert!(s.groups.is_none());
    assert_eq!(
        jit::groups_flag(&s, false),
        Some(GroupsFlag::EntraClaimNames)
    );
    let mut implicit = good.clone();
    implicit.as_object_mut().unwrap().remove("groups");
    implicit["hasgroups"] = json!(true);
    let s = jit::verify_id_token(&key.sign(&implicit, Some("k1")), &settings, None, now()).unwrap();
    assert_eq!(
        jit::groups_flag(&s, false),
        Some(GroupsFlag::EntraHasgroups)
    );
    let s = jit::verify_id_token(&key.sign(&good, Some("k1")), &settings, None, now()).unwrap();
    assert_eq!(
        jit::groups_flag(&s, true),
        None,
        "groups present: nothing to flag"
    );
}

#[test]
fn groups_flag_says_which_indicator() {
    let base = signin("sub-1", "a@acme.test");
    let with = |f: &dyn Fn(&mut SignIn)| {
        let mut s = base.clone();
        f(&mut s);
        s
    };
    // (sign-in, expect a groups claim, flag)
    let table: Vec<(SignIn, bool, Option<GroupsFlag>)> = vec![
        (base.clone(), true, None),
        (
            with(&|s| {
                s.groups = None;
                s.claim_names = Some(json!({"groups": "src1"}));
            }),
            false,
            Some(GroupsFlag::EntraClaimNames),
        ),
        // _claim_names for another claim is not a groups overage.
        (
            with(&|s| s.claim_names = Some(json!({"roles": "src2"}))),
            false,
            None,
        ),
        (
            with(&|s| {
                s.groups = None;
                s.hasgroups = Some(true);
            }),
            false,
            Some(GroupsFlag::EntraHasgroups),
        ),
        (with(&|s| s.hasgroups = Some(false)), false, None),
        (
            with(&|s| s.groups_overage = true),
            false,
            Some(GroupsFlag::Overage),
        ),
        (
            with(&|s| s.groups = None),
            true,
            Some(GroupsFlag::ClaimMissing),
        ),
        (with(&|s| s.groups = None), false, None),
    ];
    for (s, expect, want) in table {
        assert_eq!(jit::groups_flag(&s, expect), want, "{s:?} expect={expect}");
    }
    for f in [
        GroupsFlag::EntraClaimNames,
        GroupsFlag::EntraHasgroups,
        GroupsFlag::Overage,
        GroupsFlag::ClaimMissing,
    ] {
        assert_eq!(GroupsFlag::parse(f.as_str()), Some(f));
        assert_eq!(serde_json::to_value(f).unwrap(), json!(f.as_str()));
        assert!(f.explain().ends_with("roles kept as they were"));
    }
    assert_eq!(GroupsFlag::parse("nonsense"), None);
}

/// The identity body of the app API passes Entra's indicators through as the token had them.
#[test]
fn entra_indicators_deserialize_from_the_identity_body() {
    let s: SignIn = serde_json::from_value(json!({
        "subject": "sub-1",
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}
    }))
    .unwrap();
    assert_eq!(
        jit::groups_flag(&s, false),
        Some(GroupsFlag::EntraClaimNames)
    );
    let s: SignIn = serde_json::from_value(json!({"subject": "sub-1", "hasgroups": true})).unwrap();
    assert_eq!(
        jit::groups_flag(&s, false),
        Some(GroupsFlag::EntraHasgroups)
    );
}

fn flagged(db: &Db, conn: &str, limit: u32, at: chrono::DateTime<Utc>) -> jit::FlaggedSignIns {
    let conn = conn.to_string();
    db.read_blocking(move |c| jit::flagged_signins(c, &conn, limit, at))
        .unwrap()
}

#[test]
fn flagged_signins_keep_the_role_and_stay_in_their_connection() {
    let (db, a) = db();
    let b = db
        .write_blocking(|c| {
            Ok(connections::create(c, "Other", connections::Idp::Entra, false, now())?.id)
        })
        .unwrap();
    set_policy(&db, &a, Policy::ScimFirst, false);
    set_policy(&db, &b, Policy::ScimFirst, true);
    // A: a sign-in with groups, then an overage sign-in that keeps the role; a clean
    // sign-in and a refused one with an overage.
    let mut s = signin("sub-a", "a@acme.test");
    s.groups = Some(vec!["grp-admins".into()]);
    assert_eq!(run(&db, &a, s).0, Decision::Create);
    let mut s = signin("sub-a", "a@acme.test");
    s.groups = None;
    s.claim_names = Some(json!({"groups": "src1"}));
    run(&db, &a, s);
    run(&db, &a, signin("sub-clean", "clean@acme.test"));
    scim_user(&db, &a, "off@acme.test", "sub-off", false);
    let mut s = signin("sub-off", "off@acme.test");
    s.hasgroups = Some(true);
    s.groups = None;
    assert!(matches!(run(&db, &a, s).0, Decision::Refuse(_)));
    // B: one sign-in without the groups claim B expects.
    let mut s = signin("sub-b", "b@other.test");
    s.groups = None;
    run(&db, &b, s);

    let fa = flagged(&db, &a, 50, now());
    assert_eq!(fa.last_7_days, 2);
    let got: Vec<(&str, GroupsFlag, &str, Option<&str>)> = fa
        .items
        .iter()
        .map(|i| {
            (
                i.user_name.as_str(),
                i.flag,
                i.decision.as_str(),
                i.role.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("off@acme.test", GroupsFlag::EntraHasgroups, "refused", None),
            (
                "a@acme.test",
                GroupsFlag::EntraClaimNames,
                "updated",
                Some("member")
            ),
        ]
    );
    assert_eq!(
        fa.items[0].reason.as_deref(),
        Some("the account is deactivated")
    );
    assert!(fa.items[1].why.contains("_claim_names instead of groups"));
    let fb = flagged(&db, &b, 50, now());
    assert_eq!(fb.last_7_days, 1);
    assert_eq!(fb.items.len(), 1);
    assert_eq!(fb.items[0].flag, GroupsFlag::ClaimMissing);
    assert_eq!(fb.items[0].subject, "sub-b");
    // limit, and the 7-day window (the list keeps older ones).
    assert_eq!(flagged(&db, &a, 1, now()).items.len(), 1);
    assert_eq!(flagged(&db, &a, 0, now()).items.len(), 0);
    let later = flagged(&db, &a, 50, now() + chrono::Duration::days(8));
    assert_eq!((later.last_7_days, later.items.len()), (0, 2));
    assert_eq!(flagged(&db, "no-such-connection", 50, now()).items.len(), 0);
}

#[test]
fn flagged_signin_queries_read_the_partial_index() {
    if store::sqlite_only(
        "reads SQLite's EXPLAIN QUERY PLAN (its INDEXED BY hint); PostgreSQL's planner takes \
         no hints, and the statements drop it there",
    ) {
        return;
    }
    let (db, _) = db();
    // Both queries search the partial index, never scan the table.
    for sql in [jit::FLAGGED_LIST_SQL, jit::FLAGGED_COUNT_SQL] {
        let plan = db
            .read_blocking(move |c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt
                    .query_map(rusqlite::params!["x", 1], |r| r.get::<_, String>(3))?
                    .collect::<directory::Result<Vec<_>>>()?;
                Ok(rows.join(" | "))
            })
            .unwrap();
        assert!(
            plan.contains("USING INDEX signins_flagged")
                || plan.contains("USING COVERING INDEX signins_flagged"),
            "{plan}"
        );
        assert!(
            !plan.contains("SCAN s ") && !plan.contains("SCAN signins"),
            "{plan}"
        );
    }
}

/// A database from before migration 7 keeps its flagged sign-ins: the flag is read back
/// from the warning text they were stored with.
#[test]
fn migration_backfills_flags_from_old_warnings() {
    if store::sqlite_only(
        "builds a SQLite file from before migration 7 with rusqlite; the PostgreSQL schema \
         starts at SQLite's version 22, the flag column included, so it has no such backfill",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        c.execute_batch(include_str!("../migrations/0002_lifecycle.sql"))
            .unwrap();
        c.execute_batch(include_str!("../migrations/0003_jit.sql"))
            .unwrap();
        c.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1), (2), (3);",
        )
        .unwrap();
        c.execute(
            "INSERT INTO connections (id, name, idp, created_at) VALUES ('c1', 'Old', 'entra', '2026-11-01T00:00:00Z')",
            (),
        )
        .unwrap();
        for (sub, warning) in [
            (
                "s1",
                Some("groups overage: the token did not carry the groups; current roles kept"),
            ),
            (
                "s2",
                Some("no groups claim where one was expected; current roles kept"),
            ),
            (
                "s3",
                Some("linked by verified email (the connection allows it)"),
            ),
            ("s4", None),
        ] {
            c.execute(
                "INSERT INTO signins (at, connection_id, subject, decision, warning) VALUES ('2026-11-05T11:00:00Z', 'c1', ?1, 'allowed', ?2)",
                rusqlite::params![sub, warning],
            )
            .unwrap();
        }
    }
    let db = Db::open(&path).unwrap();
    let f = flagged(&db, "c1", 50, now());
    let got: Vec<(&str, GroupsFlag)> = f
        .items
        .iter()
        .map(|i| (i.subject.as_str(), i.flag))
        .collect();
    assert_eq!(
        got,
        vec![
            ("s2", GroupsFlag::ClaimMissing),
            ("s1", GroupsFlag::Overage)
        ]
    );
    assert_eq!(f.last_7_days, 2);
}
