// My account: who the console is signed in as, their role and what it allows, and their own live sessions ("Sign out elsewhere").
import { useCallback } from "react";
import { SessionsTable } from "../components/SessionsTable";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useMe } from "../auth/me";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { ROLE_ALLOWS } from "../lib/roles";

export function AccountScreen() {
  const client = useClient();
  const me = useMe();
  const load = useCallback((signal: AbortSignal) => (client.signedIn ? client.mySessions(signal) : Promise.resolve([])), [client]);
  const sessions = useAsync(load, "mine");
  if (!me) return <Skeleton rows={2} cols={2} />;

  let live;
  if (!client.signedIn) {
    live = <p className="muted">This console uses the server&apos;s admin secret on this computer: there are no sessions to end.</p>;
  } else if (!sessions.data) {
    live = sessions.error ? <ErrorState error={sessions.error} onRetry={sessions.reload} what="your sessions" /> : <Skeleton rows={2} cols={5} />;
  } else if (sessions.data.length === 0) {
    live = <EmptyState title="No live sessions" />;
  } else {
    live = (
      <SessionsTable
        sessions={sessions.data}
        showPerson={false}
        revokeLabel="Sign out elsewhere"
        testId="account-sessions"
        onRevoke={async (s) => {
          await client.revokeMySession(s.id);
          sessions.reload();
        }}
      />
    );
  }

  return (
    <section className="page" aria-labelledby="account-title" data-testid="account-screen">
      <div className="page-head">
        <h1 id="account-title">My account</h1>
      </div>
      <dl className="kv card">
        <dt>Signed in as</dt>
        <dd data-testid="account-email">{me.email ?? "This computer (admin secret)"}</dd>
        {me.name ? (
          <>
            <dt>Name</dt>
            <dd>{me.name}</dd>
          </>
        ) : null}
        <dt>Role</dt>
        <dd>
          <span className="badge" data-testid="account-role">
            {me.role}
          </span>{" "}
          <span data-testid="account-allows">{ROLE_ALLOWS[me.role]}</span>
        </dd>
        <dt>Signed in with</dt>
        <dd>{me.method}</dd>
        {me.session_expires_at ? (
          <>
            <dt>This session ends</dt>
            <dd>
              <Time value={me.session_expires_at} />
            </dd>
          </>
        ) : null}
      </dl>
      <h2>My sessions</h2>
      {live}
    </section>
  );
}
