//! The team's admin accounts: who they are, their role, their Argon2id password hash and
//! sealed TOTP seed, one-time enrolment links, and the rule that a team always keeps an
//! active owner. Password hashing happens outside the writer (`service::team`).

use crate::access::Role;
use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension, Row};
use crate::tokens::{new_secret, TokenHash};
use chrono::{DateTime, Duration, Utc};

/// How long an enrolment link works.
pub const ENROLMENT_DAYS: i64 = 7;
/// Passwords shorter than this are refused (NIST SP 800-63B asks for at least 8; an admin
/// tool that can cut a company's access asks for more).
pub const MIN_PASSWORD: usize = 12;
/// Longer than this is refused before hashing, so a huge body cannot buy CPU.
pub const MAX_PASSWORD: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct AdminRecord {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub disabled_at: Option<String>,
    pub created_at: String,
    pub enrolled_at: Option<String>,
    pub last_sign_in_at: Option<String>,
    /// Whether a password is set (enrolled locally).
    pub has_password: bool,
    pub has_totp: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
}

/// What a password sign-in needs from an account, besides the record.
pub struct Credentials {
    pub admin: AdminRecord,
    pub password_hash: Option<String>,
    pub totp_sealed: Option<String>,
}

/// A freshly issued enrolment link's secret: it exists only here, to be sent once.
pub struct IssuedEnrolment {
    pub admin: AdminRecord,
    pub secret: String,
    pub expires_at: String,
}

const COLUMNS: &str = "id, email, name, role, disabled_at, created_at, enrolled_at,
    last_sign_in_at, password_hash IS NOT NULL, totp_sealed IS NOT NULL, oidc_issuer, oidc_subject";

fn from_row(r: &Row) -> crate::Result<AdminRecord> {
    let role: String = r.get(3)?;
    Ok(AdminRecord {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        // The column only ever holds what `Role::as_str` wrote; anything else is the least role.
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        disabled_at: r.get(4)?,
        created_at: r.get(5)?,
        enrolled_at: r.get(6)?,
        last_sign_in_at: r.get(7)?,
        has_password: r.get(8)?,
        has_totp: r.get(9)?,
        oidc_issuer: r.get(10)?,
        oidc_subject: r.get(11)?,
    })
}

/// A plausible email address: one `@`, something either side, no spaces, at most 254.
pub fn check_email(email: &str) -> Result<String> {
    let e = email.trim();
    let ok = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
    if ok {
        Ok(e.to_string())
    } else {
        Err(Error::Invalid(format!("{email:?} is not an email address")))
    }
}

pub fn list(db: &Connection) -> Result<Vec<AdminRecord>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM admins ORDER BY lower(email), email"
    ))?;
    let rows = stmt
        .query_map((), from_row)?
        .collect::<crate::Result<_>>()?;
    Ok(rows)
}

pub fn count(db: &Connection) -> Result<i64> {
    db.query_row("SELECT count(*) FROM admins", (), |r| r.get(0))
}

pub fn get(db: &Connection, id: &str) -> Result<AdminRecord> {
    db.prepare_cached(&format!("SELECT {COLUMNS} FROM admins WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no admin {id}")))
}

pub fn by_email(db: &Connection, email: &str) -> Result<Option<Credentials>> {
    let found = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash, totp_sealed FROM admins WHERE email = ?1"
        ))?
        .query_row([email.trim()], |r| {
            Ok(Credentials {
                admin: from_row(r)?,
                password_hash: r.get(12)?,
                totp_sealed: r.get(13)?,
            })
        })
        .optional()?;
    Ok(found)
}

/// The account an identity provider's (issuer, subject) was linked to.
pub fn by_subject(db: &Connection, issuer: &str, subject: &str) -> Result<Option<AdminRecord>> {
    db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM admins WHERE oidc_issuer = ?1 AND oidc_subject = ?2"
    ))?
    .query_row([issuer, subject], from_row)
    .optional()
}

/// Links an account to the identity provider's subject at its first sign-in with it.
pub fn link_subject(
    db: &Connection,
    id: &str,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    db.prepare_cached(
        "UPDATE admins SET oidc_issuer = ?2, oidc_subject = ?3, enrolled_at = coalesce(enrolled_at, ?4)
         WHERE id = ?1",
    )?
    .execute(params![id, issuer, subject, fmt_time(now)])?;
    Ok(())
}

/// Adds an account and its first enrolment link. An email already on the team is a conflict.
pub fn add(
    db: &Connection,
    email: &str,
    name: Option<&str>,
    role: Role,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedEnrolment> {
    let email = check_email(email)?;
    if by_email(db, &email)?.is_some() {
        return Err(Error::Conflict(format!("{email} is already on the team")));
    }
    let id = uuid::Uuid::new_v4().to_string();
    db.prepare_cached(
        "INSERT INTO admins (id, email, name, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, email, name, role.as_str(), fmt_time(now)])?;
    audit::record(
        db,
        None,
        actor,
        "admin.add",
        None,
        Some(&format!("{email} as {}", role.as_str())),
        now,
    )?;
    enrolment(db, &id, now)
}

/// A new enrolment link for an account; earlier unused links stop working.
pub fn reissue(
    db: &Connection,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IssuedEnrolment> {
    let admin = get(db, id)?;
    audit::record(
        db,
        None,
        actor,
        "admin.enrolment",
        None,
        Some(&admin.email),
        now,
    )?;
    enrolment(db, id, now)
}

fn enrolment(db: &Connection, id: &str, now: DateTime<Utc>) -> Result<IssuedEnrolment> {
    db.prepare_cached("DELETE FROM admin_enrolments WHERE admin_id = ?1 AND used_at IS NULL")?
        .execute([id])?;
    let secret = new_secret("mae_");
    let expires_at = fmt_time(now + Duration::days(ENROLMENT_DAYS));
    db.prepare_cached(
        "INSERT INTO admin_enrolments (hash, admin_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        TokenHash::of(&secret).as_bytes(),
        id,
        fmt_time(now),
        expires_at
    ])?;
    Ok(IssuedEnrolment {
        admin: get(db, id)?,
        secret,
        expires_at,
    })
}

/// The account an enrolment secret is for, if it is still usable. Unknown: `NotFound`;
/// used or expired: `Gone`.
pub fn enrolment_for(db: &Connection, secret: &str, now: DateTime<Utc>) -> Result<AdminRecord> {
    let row: Option<(String, String, Option<String>)> = db
        .prepare_cached(
            "SELECT admin_id, expires_at, used_at FROM admin_enrolments WHERE hash = ?1",
        )?
        .query_row([TokenHash::of(secret).as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((admin_id, expires_at, used_at)) = row else {
        return Err(Error::NotFound("no such enrolment link".into()));
    };
    if used_at.is_some() {
        return Err(Error::Gone("this enrolment link was already used".into()));
    }
    if expires_at <= fmt_time(now) {
        return Err(Error::Gone("this enrolment link has expired".into()));
    }
    let admin = get(db, &admin_id)?;
    if admin.disabled_at.is_some() {
        return Err(Error::Gone("this account is disabled".into()));
    }
    Ok(admin)
}

/// Completes an enrolment: the link is spent and the password (already hashed) and TOTP
/// seed (already sealed) are stored.
pub fn enrol(
    db: &Connection,
    secret: &str,
    password_hash: &str,
    totp_sealed: Option<&str>,
    now: DateTime<Utc>,
) -> Result<AdminRecord> {
    let admin = enrolment_for(db, secret, now)?;
    db.prepare_cached("UPDATE admin_enrolments SET used_at = ?2 WHERE hash = ?1")?
        .execute(params![TokenHash::of(secret).as_bytes(), fmt_time(now)])?;
    db.prepare_cached(
        "UPDATE admins SET password_hash = ?2, totp_sealed = ?3, enrolled_at = ?4 WHERE id = ?1",
    )?
    .execute(params![admin.id, password_hash, totp_sealed, fmt_time(now)])?;
    let actor = Actor::Admin {
        source: "enrolment".into(),
        person: Some(audit::Person {
            admin_id: admin.id.clone(),
            email: admin.email.clone(),
            subject: None,
            role: admin.role,
        }),
        user_agent: None,
    };
    let how = if totp_sealed.is_some() {
        "password and TOTP"
    } else {
        "password"
    };
    audit::record(db, None, &actor, "admin.enrol", None, Some(how), now)?;
    get(db, &admin.id)
}

fn active_owners(db: &Connection) -> Result<i64> {
    db.query_row(
        "SELECT count(*) FROM admins WHERE role = 'owner' AND disabled_at IS NULL",
        (),
        |r| r.get(0),
    )
}

/// Changes an account's role; it takes effect on the person's next request. The last
/// active owner cannot be demoted.
pub fn set_role(
    db: &Connection,
    id: &str,
    role: Role,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AdminRecord> {
    let admin = get(db, id)?;
    if admin.role == role {
        return Ok(admin);
    }
    if admin.role == Role::Owner && admin.disabled_at.is_none() && active_owners(db)? <= 1 {
        return Err(Error::Conflict(
            "this is the team's last owner; make someone else owner first".into(),
        ));
    }
    db.prepare_cached("UPDATE admins SET role = ?2 WHERE id = ?1")?
        .execute(params![id, role.as_str()])?;
    audit::record(
        db,
        None,
        actor,
        "admin.role",
        None,
        Some(&format!(
            "{}: {} → {}",
            admin.email,
            admin.role.as_str(),
            role.as_str()
        )),
        now,
    )?;
    get(db, id)
}

/// Disables or re-enables an account (the caller ends a disabled account's sessions in
/// the same transaction: `service::team`); the last active owner cannot be disabled.
pub fn set_disabled(
    db: &Connection,
    id: &str,
    disabled: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AdminRecord> {
    let admin = get(db, id)?;
    if disabled == admin.disabled_at.is_some() {
        return Ok(admin);
    }
    if disabled && admin.role == Role::Owner && active_owners(db)? <= 1 {
        return Err(Error::Conflict(
            "this is the team's last owner; make someone else owner first".into(),
        ));
    }
    let at = disabled.then(|| fmt_time(now));
    db.prepare_cached("UPDATE admins SET disabled_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    let action = if disabled {
        "admin.disable"
    } else {
        "admin.enable"
    };
    audit::record(db, None, actor, action, None, Some(&admin.email), now)?;
    get(db, id)
}

/// Stamps a successful sign-in.
pub fn signed_in(db: &Connection, id: &str, now: DateTime<Utc>) -> Result<()> {
    db.prepare_cached("UPDATE admins SET last_sign_in_at = ?2 WHERE id = ?1")?
        .execute(params![id, fmt_time(now)])?;
    Ok(())
}

/// The Argon2id hash (PHC string) of a password within the length limits.
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    check_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Corrupt(format!("password hashing failed: {e}")))
}

pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(Error::Invalid(format!(
            "the password must be at least {MIN_PASSWORD} characters"
        )));
    }
    if password.len() > MAX_PASSWORD {
        return Err(Error::Invalid(format!(
            "the password must be at most {MAX_PASSWORD} bytes"
        )));
    }
    Ok(())
}

/// Whether a password matches a stored hash (Argon2's comparison is constant-time). With
/// no hash, a dummy one is checked so that the answer takes as long either way.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if password.len() > MAX_PASSWORD {
        return false;
    }
    let dummy =
        DUMMY.get_or_init(|| hash_password("no account has this password").unwrap_or_default());
    let parsed = PasswordHash::new(hash.unwrap_or(dummy));
    let ok = parsed.is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    ok && hash.is_some()
}

/// TOTP (RFC 6238): SHA-1, six digits, 30-second steps, one step of drift either way, as
/// every authenticator app expects.
pub mod totp {
    use crate::error::{Error, Result};
    use rand::RngCore;
    use totp_rs::{Algorithm, Secret, TOTP};

    pub const STEP: u64 = 30;

    /// A new 160-bit seed, base32 as authenticator apps take it.
    pub fn new_seed() -> String {
        let mut raw = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        match Secret::Raw(raw.to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!("to_encoded encodes"),
        }
    }

    /// The `otpauth://` URI an authenticator app scans.
    pub fn uri(seed: &str, account: &str, issuer: &str) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={seed}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
            enc(issuer),
            enc(account),
            enc(issuer)
        )
    }

    fn totp(seed: &str) -> Result<TOTP> {
        let bytes = Secret::Encoded(seed.to_string())
            .to_bytes()
            .map_err(|_| Error::Invalid("the TOTP seed is not base32".into()))?;
        TOTP::new(Algorithm::SHA1, 6, 0, STEP, bytes)
            .map_err(|e| Error::Invalid(format!("the TOTP seed is unusable: {e}")))
    }

    /// The code an authenticator app shows at `unix_secs`.
    pub fn code(seed: &str, unix_secs: u64) -> Result<String> {
        Ok(totp(seed)?.generate(unix_secs))
    }

    /// The step a code is valid for at `unix_secs` (this step or one either side), if any.
    pub fn accepted_step(seed: &str, code: &str, unix_secs: u64) -> Result<Option<i64>> {
        let totp = totp(seed)?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let now = unix_secs / STEP;
        for step in [now, now.saturating_sub(1), now + 1] {
            if totp.check(code, step * STEP) {
                return Ok(Some(step as i64));
            }
        }
        Ok(None)
    }
}

/// Accepts a TOTP code once: the step must be later than the last one accepted.
pub fn spend_totp_step(db: &Connection, id: &str, step: i64) -> Result<bool> {
    let n = db
        .prepare_cached(
            "UPDATE admins SET totp_last_step = ?2 WHERE id = ?1
             AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        )?
        .execute(params![id, step])?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` in a write transaction on a fresh store.
    fn with_store(f: impl FnOnce(&Connection) + Send + 'static) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Db::open(&dir.path().join("t.db")).unwrap();
        store
            .write_blocking(move |db| {
                f(db);
                Ok(())
            })
            .unwrap();
    }

    fn now() -> DateTime<Utc> {
        "2026-12-07T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_last_owner_can_be_neither_demoted_nor_disabled() {
        with_store(|c| {
            let a = add(c, "ada@example.com", None, Role::Owner, &Actor::Cli, now()).unwrap();
            let err = set_role(c, &a.admin.id, Role::Viewer, &Actor::Cli, now()).unwrap_err();
            assert!(matches!(err, Error::Conflict(_)), "{err}");
            let err = set_disabled(c, &a.admin.id, true, &Actor::Cli, now()).unwrap_err();
            assert!(matches!(err, Error::Conflict(_)), "{err}");
            let b = add(c, "bob@example.com", None, Role::Owner, &Actor::Cli, now()).unwrap();
            assert_eq!(
                set_role(c, &a.admin.id, Role::Support, &Actor::Cli, now())
                    .unwrap()
                    .role,
                Role::Support
            );
            assert!(set_disabled(c, &b.admin.id, true, &Actor::Cli, now()).is_err());
        });
    }

    #[test]
    fn an_enrolment_link_works_once_and_not_after_it_expires() {
        with_store(|c| {
            let a = add(c, "Ada@Example.com", None, Role::Admin, &Actor::Cli, now()).unwrap();
            assert!(matches!(
                add(c, "ada@example.COM", None, Role::Admin, &Actor::Cli, now()),
                Err(Error::Conflict(_))
            ));
            let late = now() + Duration::days(ENROLMENT_DAYS) + Duration::seconds(1);
            assert!(matches!(
                enrol(c, &a.secret, "h", None, late),
                Err(Error::Gone(_))
            ));
            let rec = enrol(c, &a.secret, "h", None, now()).unwrap();
            assert!(rec.has_password && rec.enrolled_at.is_some());
            assert!(matches!(
                enrol(c, &a.secret, "h2", None, now()),
                Err(Error::Gone(_))
            ));
            assert!(matches!(
                enrol(c, "mae_nope", "h", None, now()),
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        assert!(hash_password("short").is_err());
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("correct horse batterz", Some(&h)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn totp_codes_from_the_rfc_6238_vectors_are_accepted_in_their_step_only() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", T = 59 → 94287082 (8
        // digits); six digits are its last six.
        let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp::accepted_step(seed, "287082", 59).unwrap(), Some(1));
        assert_eq!(
            totp::accepted_step(seed, "287082", 59 + 30).unwrap(),
            Some(1)
        );
        assert_eq!(totp::accepted_step(seed, "287082", 59 + 90).unwrap(), None);
        assert_eq!(totp::accepted_step(seed, "28708", 59).unwrap(), None);
        assert!(totp::uri(seed, "ada@example.com", "Muster").starts_with(
            "otpauth://totp/Muster:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Muster"
        ));
    }

    #[test]
    fn bad_emails_are_refused() {
        for e in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "ada@localhost",
        ] {
            assert!(check_email(e).is_err(), "{e:?}");
        }
        assert_eq!(check_email(" ada@example.com ").unwrap(), "ada@example.com");
    }
}
