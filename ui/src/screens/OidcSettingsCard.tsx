// The Team screen's identity-provider card (owners): which provider admins sign in with and where it was set; saving
// an issuer and client id (the server checks the issuer's discovery document first) or turning it off. A provider set
// on the server's command line is shown read-only.
import { useCallback, useState } from "react";
import type { OidcSettings } from "../api/generated/OidcSettings";
import { ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";

function Form({ current, onSaved }: { current: OidcSettings; onSaved: (s: OidcSettings) => void }) {
  const client = useClient();
  const [issuer, setIssuer] = useState(current.issuer ?? "");
  const [clientId, setClientId] = useState(current.client_id ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<OidcSettings>) => {
    setBusy(true);
    setError(null);
    try {
      onSaved(await action());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => client.saveOidcSettings({ issuer: issuer.trim(), client_id: clientId.trim() }));
      }}
    >
      <label>
        Issuer{" "}
        <input type="url" required placeholder="https://login.example.com" value={issuer} onChange={(e) => setIssuer(e.target.value)} data-testid="oidc-issuer" />
      </label>
      <label>
        Client id <input required value={clientId} onChange={(e) => setClientId(e.target.value)} data-testid="oidc-client-id" />
      </label>
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid="oidc-save">
        {busy ? "Checking…" : "Check and save"}
      </button>
      {current.source === "console" ? (
        <button type="button" className="btn" disabled={busy} onClick={() => void run(() => client.clearOidcSettings())} data-testid="oidc-off">
          Turn off
        </button>
      ) : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="oidc-settings-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}

export function OidcSettingsCard() {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.oidcSettings(signal), [client]);
  const settings = useAsync(load, "oidc settings");
  const [saved, setSaved] = useState<OidcSettings | null>(null);
  const current = saved ?? settings.data;
  if (!current) {
    return settings.error ? <ErrorState error={settings.error} onRetry={settings.reload} what="the identity provider" /> : <Skeleton rows={1} cols={3} />;
  }
  const origin = window.location.origin;
  return (
    <div className="card" data-testid="oidc-settings" data-source={current.source ?? "none"}>
      <p data-testid="oidc-source">
        {current.source === null
          ? "Off: people sign in with their email and password."
          : current.source === "command_line"
            ? `Set on the server's command line (--oidc-issuer): ${current.issuer ?? ""}. Change it there.`
            : `People sign in with ${current.issuer ?? ""}.`}
      </p>
      {current.source === "command_line" ? null : (
        <>
          <p className="muted small">
            Register Muster at your provider as a public client with PKCE, redirect URIs <code>{origin}/auth/callback</code> (the console) and{" "}
            <code>http://127.0.0.1/callback</code> (the desktop app, any port).
          </p>
          <Form current={current} onSaved={setSaved} />
        </>
      )}
    </div>
  );
}
