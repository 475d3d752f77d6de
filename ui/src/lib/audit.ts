// The audit trail's actor kinds as the Audit screen names them (crates/directory/src/audit.rs `Actor::name`).
export const ACTOR_KINDS = ["admin", "cli", "demo", "system", "setup_link"] as const;
export const ACTOR_LABEL: Record<string, string> = {
  admin: "Admin (console or API)",
  cli: "CLI on the server",
  demo: "Live demo",
  system: "Muster itself",
  setup_link: "Setup link",
};
