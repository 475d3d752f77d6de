// The top bar's person: who the console is signed in as, their role, and signing out (or, with the admin
// secret, "This computer" as owner).
import { useState } from "react";
import { Link } from "react-router";
import { useMe, useSignOut } from "../auth/me";
import { useClient } from "../lib/context";

export function UserMenu() {
  const me = useMe();
  const client = useClient();
  const signOut = useSignOut();
  const [busy, setBusy] = useState(false);
  if (!me) return null;
  const who = me.email ?? "This computer";
  return (
    <span className="user-menu" data-testid="user-menu" data-role={me.role}>
      <Link
        to="/account"
        className="user-name"
        data-testid="nav-account"
        title={me.method === "secret" ? "Signed in with this server's admin secret — my account" : `Signed in (${me.method}) — my account and sessions`}
      >
        {who}
      </Link>
      <span className="badge" data-testid="user-role">
        {me.role}
      </span>
      {client.signedIn ? (
        <button
          type="button"
          className="btn btn-small"
          disabled={busy}
          data-testid="sign-out"
          onClick={() => {
            setBusy(true);
            client.signOut().then(
              () => signOut(null),
              () => signOut(null),
            );
          }}
        >
          Sign out
        </button>
      ) : null}
    </span>
  );
}
