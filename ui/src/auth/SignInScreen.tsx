// The console's sign-in: the identity provider when the server has one (in a browser through this page's
// /auth/callback; in the desktop app through the system browser and a loopback redirect, RFC 8252), or email and
// password, then the authenticator code when the account has TOTP.
import { useEffect, useRef, useState } from "react";
import { AuthError, describeProviderError, finishOidcSignIn, signInProviders, signInWithPassword, startOidcSignIn } from "./api";
import type { SignedIn } from "../api/generated/SignedIn";
import { ServerSwitcher } from "../desktop/ServerSwitcher";
import { currentServer, isDesktop, oidcLoopbackCancel, oidcLoopbackListen, oidcLoopbackWait, shellErrorMessage } from "../desktop/shell";

/** The desktop app's sign-in with the provider: listen on loopback, start, wait for the system browser, finish. */
async function signInThroughSystemBrowser(api: string, onWaiting: (w: { id: string; url: string } | null) => void): Promise<SignedIn> {
  const listening = await oidcLoopbackListen();
  try {
    const { authorization_url } = await startOidcSignIn(api, listening.redirect_uri);
    onWaiting({ id: listening.id, url: authorization_url });
    const back = await oidcLoopbackWait(listening.id, authorization_url);
    if (back.result === "error") throw new Error(describeProviderError(back.error, back.description));
    return await finishOidcSignIn(api, back.state, back.code);
  } catch (err) {
    void oidcLoopbackCancel(listening.id).catch(() => undefined);
    throw err instanceof Error ? err : new Error(shellErrorMessage(err));
  } finally {
    onWaiting(null);
  }
}

export function SignInScreen({
  api,
  notice,
  initialEmail,
  onSignedIn,
}: {
  api: string;
  /** Why the person is here again (their session ended), shown above the form. */
  notice?: string | null;
  initialEmail?: string;
  onSignedIn: (s: SignedIn) => void;
}) {
  const [email, setEmail] = useState(initialEmail ?? "");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [issuer, setIssuer] = useState<string | null>(null);
  /** The desktop app waits for the system browser: the provider's address, for when no browser opened. */
  const [waiting, setWaiting] = useState<{ id: string; url: string } | null>(null);
  const cancelled = useRef(false);
  const wasCancelled = () => cancelled.current;

  useEffect(() => {
    let live = true;
    void signInProviders(api).then((p) => {
      if (live) setIssuer(p.oidc?.issuer ?? null);
    });
    return () => {
      live = false;
    };
  }, [api]);

  const withProvider = async () => {
    setBusy(true);
    setError(null);
    if (isDesktop() && currentServer().kind === "remote") {
      cancelled.current = false;
      try {
        onSignedIn(await signInThroughSystemBrowser(api, setWaiting));
      } catch (err) {
        if (!wasCancelled()) setError(err instanceof Error ? err.message : String(err));
        setBusy(false);
      }
      return;
    }
    try {
      const { authorization_url } = await startOidcSignIn(api, `${window.location.origin}/auth/callback`);
      window.location.assign(authorization_url);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  const submit = async (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signInWithPassword(api, email.trim(), password, needCode ? code.trim() : undefined));
    } catch (err) {
      if (err instanceof AuthError && err.code === "totp_required") {
        setNeedCode(true);
      } else {
        setError(err instanceof Error ? err.message : String(err));
        if (err instanceof AuthError && err.code === "bad_totp") setCode("");
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="center-screen" data-testid="sign-in">
      {/* The desktop app: which server this is, and the way to another one (renders nothing in a browser). */}
      <div className="remote-server-top">
        <ServerSwitcher />
      </div>
      <form className="card narrow" onSubmit={(e) => void submit(e)}>
        <div className="brand big">
          <span className="logo" aria-hidden="true">M</span> Muster
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          to <code>{api.replace(/\/api$/, "")}</code>
        </p>
        {notice ? (
          <p className="warning" role="status" data-testid="sign-in-notice">
            {notice}
          </p>
        ) : null}
        {waiting ? (
          <div className="oidc-waiting" role="status" data-testid="oidc-waiting">
            <p>Finish signing in in your browser. If no browser opened, open this address:</p>
            <code data-testid="oidc-browser-url">
              {waiting.url}
            </code>
            <div className="modal-actions">
              <button
                type="button"
                className="btn"
                onClick={() => {
                  cancelled.current = true;
                  void oidcLoopbackCancel(waiting.id);
                }}
                data-testid="oidc-cancel"
              >
                Cancel
              </button>
            </div>
          </div>
        ) : null}
        {issuer ? (
          <div className="modal-actions">
            <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void withProvider()} data-testid="sign-in-oidc">
              Sign in with your identity provider
            </button>
            <span className="muted">or with a password:</span>
          </div>
        ) : null}
        <label className="field">
          <span className="label">Email</span>
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} data-testid="sign-in-email" />
        </label>
        <label className="field">
          <span className="label">Password</span>
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="sign-in-password"
          />
        </label>
        {needCode ? (
          <label className="field">
            <span className="label">Authenticator code</span>
            <input
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              required
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
              data-testid="sign-in-totp"
            />
          </label>
        ) : null}
        {error ? (
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="sign-in-submit">
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </div>
      </form>
    </main>
  );
}
