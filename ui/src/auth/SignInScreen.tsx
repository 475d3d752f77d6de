// The console's sign-in: the identity provider when the server has one, or email and password, then the
// authenticator code when the account has TOTP.
import { useEffect, useState } from "react";
import { AuthError, signInProviders, signInWithPassword, startOidcSignIn } from "./api";
import type { SignedIn } from "../api/generated/SignedIn";
import { ServerSwitcher } from "../desktop/ServerSwitcher";

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
