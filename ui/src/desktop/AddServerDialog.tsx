// Desktop app only: add a team's Muster server by URL — the shell probes it first and shows why it cannot be added.
import { useState } from "react";
import { Modal } from "../components/Modal";
import { addServer, probeServer, shellErrorMessage, switchServer, type Probed } from "./shell";

const RESULT_TITLE = {
  ok: "Muster server found",
  unreachable: "Cannot reach the server",
  certificate: "Certificate problem",
  not_muster: "Not a Muster server",
  refused: "The server refuses this app",
} as const;

export function AddServerDialog({ onClose }: { onClose: () => void }) {
  const [url, setUrl] = useState("");
  const [name, setName] = useState("");
  const [probed, setProbed] = useState<Probed | null>(null);
  const [probedInput, setProbedInput] = useState<string | null>(null);
  const [busy, setBusy] = useState<"probe" | "add" | null>(null);
  const [error, setError] = useState<string | null>(null);

  // A result belongs to the URL that was checked; editing the URL asks for a new check.
  const fresh = probed !== null && probedInput === url.trim();
  const canAdd = fresh && probed.outcome.result === "ok";

  const check = () => {
    const text = url.trim();
    if (!text) {
      setError("Give the server's address, e.g. https://muster.example.com");
      return;
    }
    setBusy("probe");
    setError(null);
    setProbed(null);
    probeServer(text).then(
      (p) => {
        setBusy(null);
        setProbed(p);
        setProbedInput(text);
      },
      (e: unknown) => {
        setBusy(null);
        setError(shellErrorMessage(e));
      },
    );
  };

  const add = () => {
    if (!probed) return;
    setBusy("add");
    setError(null);
    addServer(probed.url, name)
      .then(() => switchServer(probed.url))
      .catch((e: unknown) => {
        setBusy(null);
        setError(shellErrorMessage(e));
      });
  };

  return (
    <Modal title="Add a Muster server" onClose={onClose} testId="add-server-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canAdd) add();
          else check();
        }}
      >
        <label className="field">
          <span className="label">Server URL</span>
          <input
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://muster.example.com"
            autoFocus
            spellCheck={false}
            data-testid="add-server-url"
          />
          <span className="muted server-hint">HTTPS; plain http:// only for a server on this computer.</span>
        </label>
        <label className="field">
          <span className="label">Name (optional)</span>
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme production" data-testid="add-server-name" />
        </label>
        {fresh ? (
          <div
            className={`probe-result probe-${probed.outcome.result}`}
            role={probed.outcome.result === "ok" ? "status" : "alert"}
            data-testid="add-server-probe-result"
            data-result={probed.outcome.result}
            data-problem={probed.outcome.result === "certificate" ? probed.outcome.problem : undefined}
          >
            <strong>{RESULT_TITLE[probed.outcome.result]}</strong>
            <p>{probed.outcome.message}</p>
          </div>
        ) : null}
        {error ? (
          <p className="form-error" role="alert" data-testid="add-server-error">
            {error}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn" onClick={check} disabled={busy !== null} data-testid="add-server-probe">
            {busy === "probe" ? "Checking…" : "Check"}
          </button>
          <button type="button" className="btn btn-primary" onClick={add} disabled={!canAdd || busy !== null} data-testid="add-server-submit">
            {busy === "add" ? "Adding…" : "Add and switch"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
