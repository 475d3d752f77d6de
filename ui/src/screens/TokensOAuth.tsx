// Tokens tab, OAuth section: the connection's client id and token endpoint, client secrets (issue once-shown, list, revoke), token lifetime and federation.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { IssuedClientSecret } from "../api/generated/IssuedClientSecret";
import type { OAuthClientView } from "../api/generated/OAuthClientView";
import { CopyField } from "../components/CopyButton";
import { ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";

const LIFETIMES = [
  { secs: 3600, label: "1 hour" },
  { secs: 7200, label: "2 hours" },
  { secs: 14400, label: "4 hours" },
  { secs: 21600, label: "6 hours" },
];

const STATE_CLASS: Record<string, string> = { active: "status-active", expired: "", revoked: "status-deleted" };

function Settings({ id, view, onSaved }: { id: string; view: OAuthClientView; onSaved: () => void }) {
  const client = useClient();
  const [lifetime, setLifetime] = useState(view.settings.token_lifetime_secs);
  const [issuer, setIssuer] = useState(view.settings.federation_issuer ?? "");
  const [subject, setSubject] = useState(view.settings.federation_subject ?? "");
  const [audience, setAudience] = useState(view.settings.federation_audience ?? "");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const save = (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    client
      .saveOAuthSettings(id, {
        token_lifetime_secs: lifetime,
        federation_issuer: issuer.trim() || null,
        federation_subject: subject.trim() || null,
        federation_audience: audience.trim() || null,
      })
      .then(
        () => {
          setBusy(false);
          setMessage("Saved.");
          onSaved();
        },
        (err: unknown) => {
          setBusy(false);
          setMessage(err instanceof ApiError ? err.message : String(err));
        },
      );
  };
  return (
    <form onSubmit={save} data-testid="oauth-settings">
      <label className="field">
        <span className="label">Access token lifetime</span>
        <select value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))} data-testid="oauth-lifetime">
          {LIFETIMES.map((l) => (
            <option key={l.secs} value={l.secs}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="field">
        <legend className="label">Workload identity federation (optional)</legend>
        <p className="hint">Accept signed client assertions (RFC 7523) from this issuer instead of a client secret; its keys are read from its OpenID discovery document.</p>
        <label className="field">
          <span className="label">Issuer</span>
          <input type="url" value={issuer} onChange={(e) => setIssuer(e.target.value)} placeholder="https://login.microsoftonline.com/<tenant>/v2.0" data-testid="oauth-issuer" />
        </label>
        <label className="field">
          <span className="label">Subject</span>
          <input type="text" value={subject} onChange={(e) => setSubject(e.target.value)} data-testid="oauth-subject" />
        </label>
        <label className="field">
          <span className="label">Audience</span>
          <input type="text" value={audience} onChange={(e) => setAudience(e.target.value)} placeholder={view.token_endpoint} data-testid="oauth-audience" />
        </label>
      </fieldset>
      <Can need="manage">
        <button type="submit" className="btn" disabled={busy} data-testid="oauth-save">
          Save OAuth settings
        </button>
      </Can>
      {message ? (
        <span className="small" role="status" data-testid="oauth-settings-message">
          {" "}
          {message}
        </span>
      ) : null}
    </form>
  );
}

export function TokensOAuth({ id }: { id: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.oauthClient(id, signal), [client, id]);
  const oauth = useAsync(load, id);
  const reload = oauth.reload;
  useLiveRefresh(id, reload, { delayMs: 600 });
  // Held only while shown: dismissing it discards the secret for good.
  const [issued, setIssued] = useState<IssuedClientSecret | null>(null);
  const [error, setError] = useState<string | null>(null);

  const issue = () => {
    setError(null);
    client.issueClientSecret(id, 730).then(
      (s) => {
        setIssued(s);
        reload();
      },
      (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)),
    );
  };
  const revoke = (sid: string) => {
    setError(null);
    client.revokeClientSecret(id, sid).then(reload, (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  };

  let body;
  if (!oauth.data) {
    body = oauth.error ? <ErrorState error={oauth.error} onRetry={reload} what="OAuth client" /> : <Skeleton rows={2} cols={4} />;
  } else {
    const v = oauth.data;
    body = (
      <>
        <div className="field">
          <span className="label">Token endpoint</span>
          <CopyField value={v.token_endpoint} label="token endpoint" testId="oauth-token-endpoint" />
        </div>
        <div className="field">
          <span className="label">Client identifier</span>
          <CopyField value={v.client_id} label="client identifier" testId="oauth-client-id" />
        </div>
        {issued ? (
          <div className="warning" role="note" data-testid="oauth-issued">
            <span className="label">Client secret</span>
            <CopyField value={issued.secret} label="client secret" testId="oauth-secret" />
            <p>
              <strong>Copy the secret now.</strong> It is stored only as a hash and will not be shown again. It expires {new Date(issued.row.expires_at).toUTCString()}.
            </p>
            <button type="button" className="btn btn-small" onClick={() => setIssued(null)} data-testid="oauth-issued-done">
              I have copied it
            </button>
          </div>
        ) : null}
        {v.secrets.length === 0 ? (
          <p className="muted" data-testid="oauth-secrets-empty">
            No client secret yet.
          </p>
        ) : (
          <div className="card flush table-scroll">
            <table className="dense" data-testid="oauth-secrets">
              <thead>
                <tr>
                  <th>Secret</th>
                  <th>State</th>
                  <th>Created</th>
                  <th>Expires</th>
                  <th>Last used</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {v.secrets.map((s) => (
                  <tr key={s.id} data-testid="oauth-secret-row" data-state={s.state}>
                    <td>
                      <code>{s.prefix}…</code>
                    </td>
                    <td>
                      <span className={`badge ${STATE_CLASS[s.state] ?? ""}`}>{s.state}</span>
                    </td>
                    <td>
                      <Time value={s.created_at} />
                    </td>
                    <td>
                      <Time value={s.expires_at} />
                    </td>
                    <td>
                      <Time value={s.last_used_at} empty="never used" />
                    </td>
                    <td className="num">
                      {s.state === "active" ? (
                        <Can need="manage">
                          <button type="button" className="btn btn-small btn-danger-text" onClick={() => revoke(s.id)} aria-label={`Revoke client secret ${s.prefix}`} data-testid="oauth-secret-revoke">
                            Revoke
                          </button>
                        </Can>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Settings key={JSON.stringify(v.settings)} id={id} view={v} onSaved={reload} />
      </>
    );
  }

  return (
    <section className="card card-pad oauth-section" aria-labelledby="oauth-title" data-testid="oauth-section">
      <div className="toolbar">
        <h2 id="oauth-title">OAuth client credentials</h2>
        <span className="topbar-spacer" />
        <Can need="manage">
          <button type="button" className="btn btn-primary" onClick={issue} data-testid="oauth-issue-secret">
            Issue client secret
          </button>
        </Can>
      </div>
      <p className="muted small">
        IdPs that use OAuth 2.0 (Microsoft Entra gallery apps) get short-lived access tokens from the token endpoint with the client identifier and a client secret. Several secrets can be live
        at once: issue a new one, update the IdP, then revoke the old one.
      </p>
      {error ? (
        <div className="alert alert-danger" role="alert">
          {error}
        </div>
      ) : null}
      {body}
    </section>
  );
}
