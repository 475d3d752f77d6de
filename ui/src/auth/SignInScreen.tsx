// The console's sign-in: email and password, then the authenticator code when the account has TOTP.
import { useState } from "react";
import { AuthError, signInWithPassword } from "./api";
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
