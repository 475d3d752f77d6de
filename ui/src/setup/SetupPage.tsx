// The page a setup link opens for the customer's IT admin: their IdP's steps with the exact
// field names, the SCIM credential revealed once, and the IdP's first requests and users live.
import { useCallback, useEffect, useState } from "react";
import type { SetupCredential } from "../api/generated/SetupCredential";
import type { SetupCredentialKind } from "../api/generated/SetupCredentialKind";
import type { SetupPage as SetupView } from "../api/generated/SetupPage";
import { SetupSteps, type OAuthCredential } from "../components/SetupSteps";
import { Time } from "../components/Time";
import { exactUtc } from "../lib/format";
import { SetupError, linkSecret, setupApi } from "./client";
import { SetupProgressPanel } from "./SetupProgress";

type Idp = SetupView["idp"];
const IDPS: { id: Idp; name: string }[] = [
  { id: "okta", name: "Okta" },
  { id: "entra", name: "Microsoft Entra ID" },
  { id: "google", name: "Google Workspace" },
  { id: "generic", name: "Other SCIM 2.0 client" },
];
/** How often the page asks what arrived: often enough to feel live, cheap for the server. */
const POLL_MS = 2000;

export function SetupPage() {
  const [secret] = useState(linkSecret);
  const [view, setView] = useState<SetupView | null>(null);
  const [failure, setFailure] = useState<SetupError | null>(
    secret ? null : new SetupError(404, "This address holds no setup link. Open the whole link you were sent."),
  );
  const [idp, setIdp] = useState<Idp | null>(null);
  const [credential, setCredential] = useState<SetupCredential | null>(null);
  const [revealing, setRevealing] = useState(false);
  const [revealError, setRevealError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    if (!secret) return;
    try {
      setView(await setupApi.view(secret));
    } catch (e) {
      // A link revoked or expired while open says so; a network blip keeps the last view.
      if (e instanceof SetupError && e.status !== 0) setFailure(e);
    }
  }, [secret]);

  useEffect(() => {
    if (failure) return;
    const first = window.setTimeout(() => void refresh(), 0);
    const timer = window.setInterval(() => void refresh(), POLL_MS);
    return () => {
      window.clearTimeout(first);
      window.clearInterval(timer);
    };
  }, [refresh, failure]);

  async function reveal(kind: SetupCredentialKind) {
    if (!secret) return;
    setRevealing(true);
    setRevealError(null);
    try {
      setCredential(await setupApi.reveal(secret, kind));
      await refresh();
    } catch (e) {
      setRevealError(e instanceof Error ? e.message : String(e));
    } finally {
      setRevealing(false);
    }
  }

  if (failure) return <SetupRefused failure={failure} />;
  if (!view) return <main className="setup-page" data-testid="setup-loading"><p className="muted">Opening your setup link…</p></main>;

  const chosen = idp ?? view.idp;
  const idpName = IDPS.find((i) => i.id === chosen)?.name ?? "your identity provider";
  return (
    <main className="setup-page" data-testid="setup-page">
      <header>
        <h1>Set up user provisioning for “{view.connection_name}”</h1>
        <p className="muted">
          Your identity provider will create, update and deactivate users here over SCIM 2.0. This link works until{" "}
          <span title={exactUtc(view.expires_at)}>{exactUtc(view.expires_at)}</span>; it shows only this setup.
        </p>
      </header>

      <section className="card">
        <h2>1. Your identity provider</h2>
        <div className="setup-idps" role="radiogroup" aria-label="Identity provider">
          {IDPS.map((i) => (
            <label key={i.id} className={`setup-idp${chosen === i.id ? " chosen" : ""}`}>
              <input type="radio" name="idp" value={i.id} checked={chosen === i.id} onChange={() => setIdp(i.id)} data-testid={`setup-idp-${i.id}`} />
              {i.name}
            </label>
          ))}
        </div>
      </section>

      <section className="card">
        <h2>2. The credential</h2>
        {credential ? (
          <p className="notice notice-warn" data-testid="setup-revealed">
            Shown this once: paste the {credential.kind === "oauth" ? "client secret" : "token"} into your identity provider now. Muster keeps only a
            fingerprint of it ({credential.prefix}…).
          </p>
        ) : view.configured_at ? (
          <p className="notice notice-warn" data-testid="setup-already-revealed">
            The {view.credential_kind === "oauth" ? "client secret" : "token"} was shown <Time value={view.configured_at} /> and is not shown again. If
            it was lost, ask for a new setup link.
          </p>
        ) : (
          <div>
            <p>
              The SCIM URL and a credential for your identity provider, shown once: a bearer token (every identity provider), or OAuth client
              credentials{chosen === "entra" ? ", which Microsoft recommends for Entra" : ""}.
            </p>
            <div className="toolbar">
              <button className="btn btn-primary" onClick={() => void reveal("bearer")} disabled={revealing} data-testid="setup-reveal">
                {revealing ? "Issuing…" : "Show the SCIM URL and token"}
              </button>
              {(chosen === "entra" || chosen === "generic") && (
                <button className="btn" onClick={() => void reveal("oauth")} disabled={revealing} data-testid="setup-reveal-oauth">
                  Show OAuth client credentials instead
                </button>
              )}
            </div>
          </div>
        )}
        {revealError && <p className="notice notice-error" data-testid="setup-reveal-error">{revealError}</p>}
      </section>

      <section className="card">
        <h2>3. Configure {idpName}</h2>
        <SetupSteps connection={{ idp: chosen, scim_url: view.scim_url }} token={credential?.token ?? undefined} oauth={oauthOf(credential)} />
      </section>

      <SetupProgressPanel view={view} idpName={idpName} />
    </main>
  );
}

/** The OAuth fields of a revealed credential, when it is one. */
function oauthOf(c: SetupCredential | null): OAuthCredential | undefined {
  if (!c?.token_endpoint || !c.client_id || !c.client_secret) return undefined;
  return { token_endpoint: c.token_endpoint, client_id: c.client_id, client_secret: c.client_secret };
}

function SetupRefused({ failure }: { failure: SetupError }) {
  const title = failure.status === 410 ? "This setup link no longer works" : failure.status === 0 ? "Muster cannot be reached" : "This is not a valid setup link";
  return (
    <main className="setup-page" data-testid="setup-refused">
      <h1>{title}</h1>
      <p className="notice notice-error" data-testid="setup-refused-reason">{failure.message}</p>
      <p className="muted">Ask whoever sent you the link for a new one.</p>
    </main>
  );
}
