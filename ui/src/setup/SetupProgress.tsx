// The setup page's live panel: the IdP's test and first requests as they arrive, then the users and groups received.
import type { SetupPage } from "../api/generated/SetupPage";
import { Time } from "../components/Time";
import { formatCount } from "../lib/format";

export function SetupProgressPanel({ view, idpName }: { view: SetupPage; idpName: string }) {
  const p = view.progress;
  const latest = p.recent[0];
  const refusedLast = latest && (latest.status === 401 || latest.status === 403);
  return (
    <section className="card" data-testid="setup-progress">
      <h2>4. Test the connection</h2>
      {!latest ? (
        <p className="muted" data-testid="setup-waiting">
          Waiting for {idpName}’s first request. Use its connection test (Okta: “Test Connector Configuration”; Entra: “Test Connection”) once the
          fields are saved.
        </p>
      ) : refusedLast ? (
        <p className="notice notice-error" data-testid="setup-test-refused">
          {idpName} reached Muster, but its token was refused ({latest.status}): paste the token shown above, without spaces.
        </p>
      ) : (
        <p className="notice notice-ok" data-testid="setup-test-ok">
          {idpName} reached Muster: {formatCount(p.requests)} request{p.requests === 1 ? "" : "s"} so far, the latest <Time value={latest.at} />.
        </p>
      )}
      {p.recent.length > 0 && (
        <table className="setup-requests" data-testid="setup-requests">
          <tbody>
            {p.recent.map((r, i) => (
              <tr key={`${r.at}-${i}`}>
                <td><Time value={r.at} /></td>
                <td><code>{r.method} {r.path}</code></td>
                <td className={r.status >= 400 ? "bad" : "good"}>{r.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>5. Users arriving</h2>
      {p.users + p.groups === 0 ? (
        <p className="muted" data-testid="setup-arrivals-none">No users yet: assign users (and groups) to the app in {idpName} and start provisioning.</p>
      ) : (
        <p className="setup-arrivals" data-testid="setup-arrivals">
          <strong data-testid="setup-users">{formatCount(p.users)} user{p.users === 1 ? "" : "s"} received</strong>
          {p.groups > 0 && <>, {formatCount(p.groups)} group{p.groups === 1 ? "" : "s"}</>}, last <Time value={p.last_received_at} />
        </p>
      )}
    </section>
  );
}
