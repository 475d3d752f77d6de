// Sign-in (JIT) tab: the connection's precedence policy, sign-in toggles, OIDC verification, save; flagged sign-ins; stale accounts for JIT-only.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { JitSettings } from "../api/generated/JitSettings";
import { ErrorState, Skeleton } from "../components/States";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import "../styles/features.css";
import { SigninFlagged } from "./SigninFlagged";
import { SigninPolicy } from "./SigninPolicy";
import { SigninStale } from "./SigninStale";

export function SigninScreen() {
  const { id } = useConnection();
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.jitSettings(id, signal), [client, id]);
  const saved = useAsync(load, id);
  // Kept here: a save reloads the settings and remounts the form, which must still say "Saved.".
  const [flash, setFlash] = useState(false);
  if (saved.error && !saved.data) return <ErrorState error={saved.error} onRetry={saved.reload} what="the sign-in policy" />;
  if (!saved.data) return <Skeleton rows={4} cols={2} />;
  return (
    <SigninForm
      key={JSON.stringify(saved.data)}
      connectionId={id}
      initial={saved.data}
      flash={flash}
      onEdit={() => setFlash(false)}
      onSaved={() => {
        setFlash(true);
        saved.reload();
      }}
    />
  );
}

function SigninForm({ connectionId, initial, flash, onEdit, onSaved }: { connectionId: string; initial: JitSettings; flash: boolean; onEdit: () => void; onSaved: () => void }) {
  const client = useClient();
  const [s, setS] = useState<JitSettings>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const dirty = JSON.stringify(s) !== JSON.stringify(initial);
  const set = (patch: Partial<JitSettings>) => {
    setS((cur) => ({ ...cur, ...patch }));
    onEdit();
  };
  const text = (v: string): string | null => (v.trim() === "" ? null : v);

  const save = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await client.saveJitSettings(connectionId, s);
      onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin-screen" data-testid="signin-screen">
      <form
        className="card card-pad signin-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <SigninPolicy value={s.policy} onChange={(policy) => set({ policy })} resync={s.resync} onResync={(resync) => set({ resync })} />

        <fieldset className="signin-toggles">
          <legend className="section-title">At sign-in</legend>
          <label className="check-row">
            <input type="checkbox" checked={s.link_by_email} onChange={(e) => set({ link_by_email: e.target.checked })} data-testid="link-by-email" />
            <span>Link to an existing person by verified email when the subject is unknown</span>
          </label>
          {s.link_by_email ? (
            <p className="warning" data-testid="link-by-email-warning">
              Account takeover risk: anyone who can get an IdP to assert a verified email takes over the existing account with that email. Enable only when every IdP on this
              connection verifies email ownership.
            </p>
          ) : null}
          <label className="check-row">
            <input type="checkbox" checked={s.expect_groups_claim} onChange={(e) => set({ expect_groups_claim: e.target.checked })} data-testid="expect-groups" />
            <span>Expect a groups claim (a sign-in without one is flagged and keeps the current role)</span>
          </label>
        </fieldset>

        <fieldset className="signin-oidc">
          <legend className="section-title">OIDC token verification</legend>
          <div className="signin-oidc-grid">
            <label className="field">
              <span className="label">Issuer</span>
              <input type="url" value={s.oidc_issuer ?? ""} onChange={(e) => set({ oidc_issuer: text(e.target.value) })} placeholder="https://acme.okta.com" data-testid="oidc-issuer" />
            </label>
            <label className="field">
              <span className="label">Audience</span>
              <input type="text" value={s.oidc_audience ?? ""} onChange={(e) => set({ oidc_audience: text(e.target.value) })} placeholder="client id" data-testid="oidc-audience" />
            </label>
          </div>
          <label className="field">
            <span className="label">JWKS (JSON)</span>
            <textarea
              className="code-block jwks"
              rows={6}
              value={s.oidc_jwks ?? ""}
              onChange={(e) => set({ oidc_jwks: text(e.target.value) })}
              placeholder={'{"keys": [ … ]}'}
              spellCheck={false}
              data-testid="oidc-jwks"
            />
          </label>
        </fieldset>

        <div className="action-bar signin-actions">
          {error ? (
            <p className="form-error" role="alert" data-testid="signin-error">
              {error}
            </p>
          ) : flash && !dirty ? (
            <p className="ok-text" role="status" data-testid="signin-saved">
              Saved.
            </p>
          ) : dirty ? (
            <span className="badge unsaved">Unsaved changes</span>
          ) : null}
          <span className="topbar-spacer" />
          <button type="button" className="btn" disabled={!dirty || busy} onClick={() => setS(initial)} data-testid="signin-discard">
            Discard
          </button>
          <Can need="manage" explain="Saving the policy">
            <button type="submit" className="btn btn-primary" disabled={!dirty || busy} data-testid="signin-save">
              {busy ? "Saving…" : "Save"}
            </button>
          </Can>
        </div>
      </form>
      <SigninFlagged connectionId={connectionId} />
      {initial.policy === "jit_only" ? <SigninStale connectionId={connectionId} /> : null}
    </div>
  );
}
