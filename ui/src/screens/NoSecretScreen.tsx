// Shown when the console has no (or a rejected) admin secret: asks for the link printed by `muster serve`.
import { forgetSecret } from "../api/config";

export function NoSecretScreen({ reason }: { reason: "missing" | "rejected" }) {
  return (
    <main className="center-screen" data-testid="no-secret">
      <div className="card narrow">
        <div className="brand big">
          <span className="logo" aria-hidden="true">M</span> Muster
        </div>
        <h1>{reason === "missing" ? "Open the console link" : "This console link is no longer valid"}</h1>
        <p>
          The console needs the admin secret that <code>muster serve</code> prints when it starts. Open the
          <strong> console_url</strong> from its output — it looks like
        </p>
        <pre className="code-block">http://127.0.0.1:PORT/#secret=…</pre>
        <p className="muted">
          The secret is kept only for this browser tab and removed from the address bar. In the desktop app the console is
          connected automatically.
        </p>
        {reason === "rejected" ? (
          <button
            type="button"
            className="btn"
            onClick={() => {
              forgetSecret();
              window.location.reload();
            }}
          >
            Forget the old secret
          </button>
        ) : null}
      </div>
    </main>
  );
}
