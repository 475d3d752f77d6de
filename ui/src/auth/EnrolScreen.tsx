// Enrolment from a one-time link: the person chooses their password and may turn on an authenticator app.
import { useEffect, useState } from "react";
import { AuthError, enrol, lookUpEnrolment } from "./api";
import type { EnrolmentView } from "../api/generated/EnrolmentView";

export function EnrolScreen({ api, enrolment, onEnrolled }: { api: string; enrolment: string; onEnrolled: (email: string) => void }) {
  const [view, setView] = useState<EnrolmentView | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [useTotp, setUseTotp] = useState(false);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    lookUpEnrolment(api, enrolment).then(setView, (e: unknown) => setFatal(e instanceof Error ? e.message : String(e)));
  }, [api, enrolment]);

  const submit = async (e: { preventDefault: () => void }) => {
    e.preventDefault();
    if (!view) return;
    if (password !== again) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await enrol(api, { enrolment, password, ...(useTotp ? { totp_seed: view.totp_seed, totp_code: code.trim() } : {}) });
      onEnrolled(view.email);
    } catch (err) {
      setError(err instanceof AuthError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  if (fatal) {
    return (
      <main className="center-screen" data-testid="enrol">
        <div className="card narrow">
          <h1>This enrolment link does not work</h1>
          <p className="form-error" role="alert" data-testid="enrol-error">
            {fatal}
          </p>
          <p className="muted">Ask an owner of this Muster server for a new link.</p>
        </div>
      </main>
    );
  }
  if (!view) return <main className="center-screen">Loading…</main>;
  return (
    <main className="center-screen" data-testid="enrol">
      <form className="card narrow" onSubmit={(e) => void submit(e)}>
        <h1>Welcome to Muster</h1>
        <p>
          You join as <strong data-testid="enrol-email">{view.email}</strong> with the role <strong>{view.role}</strong>. Choose a password
          (at least 12 characters).
        </p>
        <label className="field">
          <span className="label">Password</span>
          <input type="password" autoComplete="new-password" minLength={12} required value={password} onChange={(e) => setPassword(e.target.value)} data-testid="enrol-password" />
        </label>
        <label className="field">
          <span className="label">The same password again</span>
          <input type="password" autoComplete="new-password" minLength={12} required value={again} onChange={(e) => setAgain(e.target.value)} data-testid="enrol-password-again" />
        </label>
        <label className="check">
          <input type="checkbox" checked={useTotp} onChange={(e) => setUseTotp(e.target.checked)} data-testid="enrol-totp-toggle" /> Also ask for a code from an
          authenticator app when I sign in
        </label>
        {useTotp ? (
          <div className="field">
            <span className="label">Add this key to your authenticator app</span>
            <code className="code-block" data-testid="enrol-totp-seed">
              {view.totp_seed}
            </code>
            <a href={view.totp_uri} className="muted">
              Open in an authenticator app on this device
            </a>
            <label className="field">
              <span className="label">The code it shows now</span>
              <input inputMode="numeric" pattern="[0-9]{6}" required value={code} onChange={(e) => setCode(e.target.value)} data-testid="enrol-totp-code" />
            </label>
          </div>
        ) : null}
        {error ? (
          <p className="form-error" role="alert" data-testid="enrol-form-error">
            {error}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="enrol-submit">
            Set my password
          </button>
        </div>
      </form>
    </main>
  );
}
