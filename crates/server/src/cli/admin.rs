//! `muster admin`: the team's accounts from the server's own machine, notably the first
//! owner, whose one-time enrolment link it prints.

use super::{fail, open};
use clap::Subcommand;
use directory::access::Role;
use directory::admins::{AdminRecord, IssuedEnrolment};
use directory::Actor;
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Add a person to the team with a role (owner, admin, support, viewer); prints their
    /// one-time enrolment link (valid 7 days). Audited.
    Add {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// The console's public URL, for the printed link.
        #[arg(
            long,
            env = "MUSTER_PUBLIC_URL",
            default_value = "http://127.0.0.1:8737"
        )]
        url: String,
    },
    /// List the team's accounts.
    List {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
    },
    /// Change a person's role; takes effect on their next request. Audited.
    SetRole {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Disable a person: their sessions end at once. Audited.
    Disable {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled person again. Audited.
    Enable {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        email: String,
    },
    /// A new enrolment link for a person (a forgotten password, a lost authenticator);
    /// earlier links stop working. Audited.
    Enrolment {
        #[arg(long, env = "MUSTER_DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        email: String,
        #[arg(
            long,
            env = "MUSTER_PUBLIC_URL",
            default_value = "http://127.0.0.1:8737"
        )]
        url: String,
    },
}

fn parse_role(text: &str) -> Result<Role, i32> {
    Role::parse(text).ok_or_else(|| {
        fail(format!(
            "--role takes owner, admin, support or viewer, not {text:?}"
        ))
    })
}

fn row(a: &AdminRecord) -> serde_json::Value {
    json!({
        "id": a.id, "email": a.email, "name": a.name, "role": a.role.as_str(),
        "disabled": a.disabled_at.is_some(), "enrolled": a.enrolled_at.is_some(),
        "totp": a.has_totp, "oidc_linked": a.oidc_subject.is_some(),
        "last_sign_in_at": a.last_sign_in_at,
    })
}

fn issued(e: &IssuedEnrolment, url: &str) -> serde_json::Value {
    json!({
        "admin": row(&e.admin),
        "enrolment_url": crate::api::team::enrolment_url(url, &e.secret),
        "expires_at": e.expires_at,
    })
}

pub fn run(cmd: AdminCommand) -> i32 {
    let result = match cmd {
        AdminCommand::Add {
            db,
            email,
            role,
            name,
            url,
        } => (|| {
            let role = parse_role(&role)?;
            let l = open(db)?;
            l.block(l.dir.add_admin(&email, name.as_deref(), role, Actor::Cli))
                .map(|e| issued(&e, &url))
                .map_err(fail)
        })(),
        AdminCommand::List { db } => (|| {
            let l = open(db)?;
            l.block(l.dir.admins())
                .map(|list| json!(list.iter().map(row).collect::<Vec<_>>()))
                .map_err(fail)
        })(),
        AdminCommand::SetRole { db, email, role } => (|| {
            let role = parse_role(&role)?;
            let l = open(db)?;
            let id = find(&l, &email)?;
            l.block(l.dir.set_admin_role(&id, role, Actor::Cli))
                .map(|a| row(&a))
                .map_err(fail)
        })(),
        AdminCommand::Disable { db, email } => set_disabled(db, &email, true),
        AdminCommand::Enable { db, email } => set_disabled(db, &email, false),
        AdminCommand::Enrolment { db, email, url } => (|| {
            let l = open(db)?;
            let id = find(&l, &email)?;
            l.block(l.dir.reissue_enrolment(&id, Actor::Cli))
                .map(|e| issued(&e, &url))
                .map_err(fail)
        })(),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(code) => code,
    }
}

fn set_disabled(
    db: Option<PathBuf>,
    email: &str,
    disabled: bool,
) -> Result<serde_json::Value, i32> {
    let l = open(db)?;
    let id = find(&l, email)?;
    l.block(l.dir.set_admin_disabled(&id, disabled, Actor::Cli))
        .map(|a| row(&a))
        .map_err(fail)
}

fn find(l: &super::Local, email: &str) -> Result<String, i32> {
    let list = l.block(l.dir.admins()).map_err(fail)?;
    list.into_iter()
        .find(|a| a.email.eq_ignore_ascii_case(email.trim()))
        .map(|a| a.id)
        .ok_or_else(|| fail(format!("{email} is not on the team")))
}
