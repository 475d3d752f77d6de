// Where the identity provider sends the browser back (`/auth/callback?code&state`, or `?error`): finishes the
// sign-in with the server, or shows why it was refused, then leaves the callback URL.
import { useEffect, useRef, useState } from "react";
import { describeProviderError, finishOidcSignIn } from "./api";
import type { SignedIn } from "../api/generated/SignedIn";

/** What the provider sent back: a code and state to finish with, or why there is nothing to finish. */
function readCallback(): { code: string; state: string } | { error: string } {
  const q = new URLSearchParams(window.location.search);
  const idpError = q.get("error");
  if (idpError) return { error: describeProviderError(idpError, q.get("error_description")) };
  const code = q.get("code");
  const state = q.get("state");
  if (!code || !state) return { error: "The identity provider sent the browser back without a sign-in code." };
  return { code, state };
}

export function OidcCallback({ api, onSignedIn, onBack }: { api: string; onSignedIn: (s: SignedIn) => void; onBack: () => void }) {
  const [sent] = useState(readCallback);
  const [refused, setRefused] = useState<string | null>(null);
  const once = useRef(false);
  const error = "error" in sent ? sent.error : refused;

  useEffect(() => {
    if (once.current) return;
    once.current = true;
    // The code and state are spent once: take them out of the address bar and the history now.
    window.history.replaceState(null, "", "/");
    if ("error" in sent) return;
    finishOidcSignIn(api, sent.state, sent.code).then(onSignedIn, (err: unknown) => setRefused(err instanceof Error ? err.message : String(err)));
  }, [api, onSignedIn, sent]);

  return (
    <main className="center-screen" data-testid="oidc-callback">
      <div className="card narrow">
        <div className="brand big">
          <span className="logo" aria-hidden="true">M</span> Muster
        </div>
        {error ? (
          <>
            <h1>Not signed in</h1>
            <p className="form-error" role="alert" data-testid="oidc-error">
              {error}
            </p>
            <div className="modal-actions">
              <button type="button" className="btn btn-primary" onClick={onBack} data-testid="oidc-back">
                Back to sign-in
              </button>
            </div>
          </>
        ) : (
          <p className="muted">Signing you in…</p>
        )}
      </div>
    </main>
  );
}
