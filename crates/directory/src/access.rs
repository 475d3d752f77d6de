//! Who may do what in the console: the four roles a team's admins hold and the permission
//! each admin-API route declares. The server refuses; the console only hides.

use serde::{Deserialize, Serialize};

/// A person's role on this Muster server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only; no export of personal data.
    Viewer,
    /// Reads everything, triages and exports; changes nothing and sees no secret.
    Support,
    /// Connections, tokens, mappings, policies, webhooks, restores, demo and readiness runs.
    Admin,
    /// Everything, including the team's admins, their roles and their sessions.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Support, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether this role holds a permission. Roles are nested: each holds what the one
    /// below it holds.
    pub fn allows(self, p: Permission) -> bool {
        self >= p.least_role()
    }

    /// Every permission this role holds, for the console to hide what it cannot do.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

/// What an admin-API route needs. Every route declares exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Anyone signed in: their own identity and sessions, signing out.
    Session,
    /// Read connections, users, groups, the log, health, triage, the audit trail.
    Read,
    /// Download personal data in bulk: log and audit exports, evidence reports.
    Export,
    /// Change the directory's configuration and run what writes: connections, tokens,
    /// mappings, policies, webhooks, setup links, restores, purges, demo, readiness checks.
    Manage,
    /// The team itself: admins, roles, other people's sessions.
    Team,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::Session,
        Permission::Read,
        Permission::Export,
        Permission::Manage,
        Permission::Team,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Session => "session",
            Permission::Read => "read",
            Permission::Export => "export",
            Permission::Manage => "manage",
            Permission::Team => "team",
        }
    }

    /// The least role that holds it.
    pub fn least_role(self) -> Role {
        match self {
            Permission::Session | Permission::Read => Role::Viewer,
            Permission::Export => Role::Support,
            Permission::Manage => Role::Admin,
            Permission::Team => Role::Owner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_hold_what_the_issue_grants_them() {
        use Permission::*;
        let matrix = [
            (Role::Owner, [true, true, true, true, true]),
            (Role::Admin, [true, true, true, true, false]),
            (Role::Support, [true, true, true, false, false]),
            (Role::Viewer, [true, true, false, false, false]),
        ];
        for (role, expect) in matrix {
            let got: Vec<bool> = [Session, Read, Export, Manage, Team]
                .into_iter()
                .map(|p| role.allows(p))
                .collect();
            assert_eq!(got, expect, "{role:?}");
        }
    }

    #[test]
    fn role_names_round_trip_and_unknown_is_none() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse(" Owner "), Some(Role::Owner));
        assert_eq!(Role::parse("root"), None);
    }
}
