//! The team's commands: admin accounts and roles, enrolment, password (and TOTP) and
//! identity-provider sign-in, console sessions. Every refusal of a sign-in is audited.

use super::Directory;
use crate::access::Role;
use crate::admin_sessions::{self, IssuedSession, Refusal, SessionRecord};
use crate::admins::{self, totp, AdminRecord, IssuedEnrolment};
use crate::audit::{self, Actor};
use crate::oidc_logins::{self, OidcRefusal, PendingLogin, StartedLogin};
use crate::oidc_settings;
use crate::{Error, Result};

/// Why a sign-in was refused. The console shows the message; the audit trail keeps the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefused {
    /// Unknown email, wrong password, or an account with no password: one answer for all,
    /// so the answer does not tell which emails are on the team.
    BadCredentials,
    /// The password was right; the account also needs its TOTP code.
    TotpRequired,
    BadTotp,
    Disabled,
    /// The identity provider vouched for someone who is not on the team.
    NotOnTeam,
    /// The identity-provider sign-in itself failed (state, provider, ID token).
    Oidc(OidcRefusal),
}

impl SignInRefused {
    pub fn code(self) -> &'static str {
        match self {
            SignInRefused::BadCredentials => "bad_credentials",
            SignInRefused::TotpRequired => "totp_required",
            SignInRefused::BadTotp => "bad_totp",
            SignInRefused::Disabled => "disabled",
            SignInRefused::NotOnTeam => "not_on_team",
            SignInRefused::Oidc(why) => why.code(),
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            SignInRefused::BadCredentials => "the email or password is wrong",
            SignInRefused::TotpRequired => "enter the code from your authenticator app",
            SignInRefused::BadTotp => "the authenticator code is wrong or already used",
            SignInRefused::Disabled => "this account is disabled; ask an owner",
            SignInRefused::NotOnTeam => {
                "your identity provider signed you in, but you are not on this server's team; ask an owner to add you"
            }
            SignInRefused::Oidc(why) => why.message(),
        }
    }
}

/// A TOTP seed offered during enrolment, with its code proving the app has it.
pub struct TotpProof {
    pub seed: String,
    pub code: String,
}

impl Directory {
    /// The identity provider an owner saved for console sign-in, if any.
    pub async fn oidc_settings(&self) -> Result<Option<oidc_settings::SavedOidc>> {
        self.db.read(oidc_settings::get).await
    }

    /// Saves the identity provider for console sign-in (the caller has checked it answers).
    pub async fn save_oidc_settings(
        &self,
        issuer: &str,
        client_id: &str,
        actor: Actor,
    ) -> Result<oidc_settings::SavedOidc> {
        let (issuer, client_id, now) = (issuer.to_string(), client_id.to_string(), self.now());
        self.db
            .write(move |c| oidc_settings::save(c, &issuer, &client_id, &actor, now))
            .await
    }

    /// Turns identity-provider sign-in off; local accounts keep working.
    pub async fn clear_oidc_settings(&self, actor: Actor) -> Result<()> {
        let now = self.now();
        self.db
            .write(move |c| oidc_settings::clear(c, &actor, now))
            .await
    }

    pub async fn admins(&self) -> Result<Vec<AdminRecord>> {
        self.db.read(admins::list).await
    }

    pub async fn admin(&self, id: &str) -> Result<AdminRecord> {
        let id = id.to_string();
        self.db.read(move |c| admins::get(c, &id)).await
    }

    /// How many accounts the team has: none means the server still runs on the admin
    /// secret alone.
    pub async fn admin_count(&self) -> Result<i64> {
        self.db.read(admins::count).await
    }

    pub async fn add_admin(
        &self,
        email: &str,
        name: Option<&str>,
        role: Role,
        actor: Actor,
    ) -> Result<IssuedEnrolment> {
        let (email, name, now) = (email.to_string(), name.map(str::to_string), self.now());
        self.db
            .write(move |c| admins::add(c, &email, name.as_deref(), role, &actor, now))
            .await
    }

    pub async fn reissue_enrolment(&self, id: &str, actor: Actor) -> Result<IssuedEnrolment> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .write(move |c| admins::reissue(c, &id, &actor, now))
            .await
    }

    pub async fn set_admin_role(&self, id: &str, role: Role, actor: Actor) -> Result<AdminRecord> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .write(move |c| admins::set_role(c, &id, role, &actor, now))
            .await
    }

    /// Disables (ending every session at once) or re-enables an account.
    pub async fn set_admin_disabled(
        &self,
        id: &str,
        disabled: bool,
        actor: Actor,
    ) -> Result<AdminRecord> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .write(move |c| {
                let admin = admins::set_disabled(c, &id, disabled, &actor, now)?;
                // A disabled person is out at once, not when their session expires.
                if disabled {
                    admin_sessions::revoke_all(c, &id, now)?;
                }
                Ok(admin)
            })
            .await
    }

    /// The account an enrolment link is for, for the enrolment page to greet.
    pub async fn enrolment(&self, secret: &str) -> Result<AdminRecord> {
        let (secret, now) = (secret.to_string(), self.now());
        self.db
            .read(move |c| admins::enrolment_for(c, &secret, now))
            .await
    }

    /// Sets the password (and optionally TOTP) of the account an enrolment link is for,
    /// spending the link.
    pub async fn enrol_admin(
        &self,
        secret: &str,
        password: &str,
        totp_proof: Option<TotpProof>,
    ) -> Result<AdminRecord> {
        admins::check_password(password)?;
        // Refuse a dead link before spending a hash on it.
        self.enrolment(secret).await?;
        let sealed = match totp_proof {
            None => None,
            Some(p) => {
                let unix = self.now().timestamp().max(0) as u64;
                if totp::accepted_step(&p.seed, &p.code, unix)?.is_none() {
                    return Err(Error::Invalid(
                        "the authenticator code does not match the new seed; check the app's clock and try again".into(),
                    ));
                }
                Some(self.sealer.seal(&p.seed, "admin-totp")?)
            }
        };
        let pw = password.to_string();
        let hash = tokio::task::spawn_blocking(move || admins::hash_password(&pw))
            .await
            .map_err(|e| Error::Corrupt(format!("password hashing stopped: {e}")))??;
        let (secret, now) = (secret.to_string(), self.now());
        self.db
            .write(move |c| admins::enrol(c, &secret, &hash, sealed.as_deref(), now))
            .await
    }

    /// Signs a person in with their email and password (and TOTP code when their account
    /// has one). A refusal is audited as `signin.failed` with its reason.
    pub async fn sign_in_password(
        &self,
        email: &str,
        password: &str,
        totp_code: Option<&str>,
        actor: Actor,
    ) -> Result<std::result::Result<IssuedSession, SignInRefused>> {
        let e = email.trim().to_string();
        let creds = self.db.read(move |c| admins::by_email(c, &e)).await?;
        let (pw, hash) = (
            password.to_string(),
            creds.as_ref().and_then(|c| c.password_hash.clone()),
        );
        let matches =
            tokio::task::spawn_blocking(move || admins::verify_password(&pw, hash.as_deref()))
                .await
                .unwrap_or(false);
        let refuse = |why: SignInRefused, actor: Actor| async move {
            self.sign_in_failed(email, why, actor).await?;
            Ok(Err(why))
        };
        let Some(creds) = creds.filter(|_| matches) else {
            return refuse(SignInRefused::BadCredentials, actor).await;
        };
        if creds.admin.disabled_at.is_some() {
            return refuse(SignInRefused::Disabled, actor).await;
        }
        let mut method = "password";
        if let Some(sealed) = &creds.totp_sealed {
            let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
                return Ok(Err(SignInRefused::TotpRequired));
            };
            let seed = self.sealer.open(sealed, "admin-totp")?;
            let unix = self.now().timestamp().max(0) as u64;
            let step = totp::accepted_step(&seed, code, unix)?;
            let id = creds.admin.id.clone();
            let spent = match step {
                Some(step) => {
                    self.db
                        .write(move |c| admins::spend_totp_step(c, &id, step))
                        .await?
                }
                None => false,
            };
            if !spent {
                return refuse(SignInRefused::BadTotp, actor).await;
            }
            method = "password+totp";
        }
        let actor = with_person(actor, &creds.admin);
        let (id, now) = (creds.admin.id.clone(), self.now());
        let issued = self
            .db
            .write(move |c| admin_sessions::issue(c, &id, method, &actor, now))
            .await?;
        Ok(Ok(issued))
    }

    /// Signs in the team member an identity provider vouched for: the account already
    /// linked to (issuer, subject), or else the one with the verified email, which is then
    /// linked. Anyone else is refused; nothing is granted by default.
    pub async fn sign_in_oidc(
        &self,
        issuer: &str,
        subject: &str,
        verified_email: Option<&str>,
        actor: Actor,
    ) -> Result<std::result::Result<IssuedSession, SignInRefused>> {
        let (iss, sub, email) = (
            issuer.to_string(),
            subject.to_string(),
            verified_email.map(str::to_string),
        );
        let found = self
            .db
            .read(move |c| {
                if let Some(a) = admins::by_subject(c, &iss, &sub)? {
                    return Ok(Some(a));
                }
                let Some(email) = email else { return Ok(None) };
                // Only an account not yet linked to a subject at this issuer can be claimed by
                // email: one linked at an earlier issuer (an owner changed the provider) is
                // linked again here.
                Ok(admins::by_email(c, &email)?
                    .map(|c| c.admin)
                    .filter(|a| a.oidc_issuer.as_deref() != Some(iss.as_str())))
            })
            .await?;
        let who = verified_email.unwrap_or(subject);
        let Some(admin) = found else {
            self.sign_in_failed(who, SignInRefused::NotOnTeam, actor)
                .await?;
            return Ok(Err(SignInRefused::NotOnTeam));
        };
        if admin.disabled_at.is_some() {
            self.sign_in_failed(who, SignInRefused::Disabled, actor)
                .await?;
            return Ok(Err(SignInRefused::Disabled));
        }
        let (iss, sub, now) = (issuer.to_string(), subject.to_string(), self.now());
        let mut person = admin.clone();
        person.oidc_subject = Some(sub.clone());
        let actor = with_person(actor, &person);
        let issued = self
            .db
            .write(move |c| {
                if admin.oidc_issuer.as_deref() != Some(iss.as_str()) {
                    admins::link_subject(c, &admin.id, &iss, &sub, now)?;
                }
                admin_sessions::issue(c, &admin.id, "oidc", &actor, now)
            })
            .await?;
        Ok(Ok(issued))
    }

    /// Starts an identity-provider sign-in that will come back to `redirect_uri`.
    pub async fn start_oidc_login(&self, redirect_uri: &str) -> Result<StartedLogin> {
        let (uri, now) = (redirect_uri.to_string(), self.now());
        self.db
            .write(move |c| oidc_logins::start(c, &uri, now))
            .await
    }

    /// Spends the state an identity provider sent back; a refusal is audited.
    pub async fn take_oidc_login(
        &self,
        state: &str,
        actor: Actor,
    ) -> Result<std::result::Result<PendingLogin, SignInRefused>> {
        let (st, now) = (state.to_string(), self.now());
        let taken = self
            .db
            .write(move |c| oidc_logins::take(c, &st, now))
            .await?;
        match taken {
            Ok(p) => Ok(Ok(p)),
            Err(why) => {
                let why = SignInRefused::Oidc(why);
                self.sign_in_failed("identity provider", why, actor).await?;
                Ok(Err(why))
            }
        }
    }

    /// Audits a refused sign-in: who it claimed to be, why, from where.
    pub async fn sign_in_failed(&self, who: &str, why: SignInRefused, actor: Actor) -> Result<()> {
        let (detail, now) = (format!("{}: {}", why.code(), who.trim()), self.now());
        self.db
            .write(move |c| {
                audit::record(c, None, &actor, "signin.failed", None, Some(&detail), now)
            })
            .await
    }

    /// Audits an admin-API request refused for want of a permission.
    pub async fn record_denied(&self, actor: Actor, what: &str) -> Result<()> {
        let (detail, now) = (what.to_string(), self.now());
        self.db
            .write(move |c| {
                audit::record(c, None, &actor, "access.denied", None, Some(&detail), now)
            })
            .await
    }

    /// The person behind a presented session secret, now; last use recorded at most once
    /// a minute.
    pub async fn check_admin_session(
        &self,
        presented: &str,
    ) -> Result<std::result::Result<(SessionRecord, AdminRecord), Refusal>> {
        let (secret, now) = (presented.to_string(), self.now());
        let checked = self
            .db
            .read(move |c| admin_sessions::check(c, &secret, now))
            .await?;
        if let Ok((s, _)) = &checked {
            let due = s
                .last_seen_at
                .parse::<chrono::DateTime<chrono::Utc>>()
                .is_ok_and(|t| (now - t).num_seconds() >= admin_sessions::TOUCH_EVERY_SECS);
            if due {
                let id = s.id.clone();
                self.db
                    .write(move |c| admin_sessions::touch(c, &id, now))
                    .await?;
            }
        }
        Ok(checked)
    }

    /// Live sessions: one person's, or (None) everyone's.
    pub async fn admin_sessions(&self, admin_id: Option<&str>) -> Result<Vec<SessionRecord>> {
        let (id, now) = (admin_id.map(str::to_string), self.now());
        self.db
            .read(move |c| admin_sessions::list(c, id.as_deref(), now))
            .await
    }

    pub async fn admin_session(&self, id: &str) -> Result<SessionRecord> {
        let id = id.to_string();
        self.db.read(move |c| admin_sessions::get(c, &id)).await
    }

    /// Ends a session: `signout` for one's own, `session.revoke` for an owner's revocation.
    pub async fn end_admin_session(
        &self,
        id: &str,
        action: &'static str,
        actor: Actor,
    ) -> Result<SessionRecord> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .write(move |c| admin_sessions::revoke(c, &id, action, &actor, now))
            .await
    }
}

/// The request's actor, naming the person now known to be behind it.
fn with_person(actor: Actor, admin: &AdminRecord) -> Actor {
    match actor {
        Actor::Admin {
            source, user_agent, ..
        } => Actor::Admin {
            source,
            user_agent,
            person: Some(admin_sessions::person(admin)),
        },
        other => other,
    }
}
