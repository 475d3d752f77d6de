// Readiness target form: one of Muster's connections, or an external SCIM URL with a bearer token kept only in memory.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import type { CheckRequest } from "../api/generated/CheckRequest";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";

const EXTERNAL = "\u0000external";

export function ReadinessTarget({ running, onRun }: { running: boolean; onRun: (r: CheckRequest) => void }) {
  const client = useClient();
  const conns = useAsync(
    useCallback((signal: AbortSignal) => client.listConnections(signal), [client]),
    "connections",
  );
  const [choice, setChoice] = useState<string>("");
  const [url, setUrl] = useState("");
  const [token, setToken] = useState("");
  const list = conns.data ?? [];
  const selected = choice || (list[0]?.id ?? EXTERNAL);
  const external = selected === EXTERNAL;
  const ready = external ? /^https?:\/\/\S+$/.test(url.trim()) && token.trim() !== "" : selected !== "";

  return (
    <form
      className="card card-pad readiness-target"
      data-testid="readiness-target"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready || running) return;
        onRun(external ? { connection_id: null, url: url.trim(), token: token.trim() } : { connection_id: selected, url: null, token: null });
      }}
    >
      <label className="field">
        <span className="label">Target</span>
        <select value={selected} onChange={(e) => setChoice(e.target.value)} data-testid="readiness-connection" disabled={running}>
          {list.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
              {c.demo ? " (DEMO)" : ""}
            </option>
          ))}
          <option value={EXTERNAL}>External SCIM server…</option>
        </select>
      </label>
      {conns.error ? <p className="form-error small">Could not list connections: {conns.error.message}</p> : null}
      {external ? (
        <>
          <label className="field">
            <span className="label">SCIM base URL</span>
            <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://app.example.com/scim/v2" data-testid="readiness-url" disabled={running} autoComplete="off" />
          </label>
          <label className="field">
            <span className="label">Bearer token</span>
            <input type="password" value={token} onChange={(e) => setToken(e.target.value)} data-testid="readiness-token" disabled={running} autoComplete="off" spellCheck={false} />
            <span className="hint">Used for this run only; never stored or shown in the report.</span>
          </label>
        </>
      ) : (
        <p className="hint readiness-hint">Muster issues itself a short-lived token for the connection and removes its test data afterwards.</p>
      )}
      <Can need="manage" explain="Running checks">
        <button type="submit" className="btn btn-primary" disabled={!ready || running} data-testid="readiness-run">
          {running ? "Running…" : "Run checks"}
        </button>
      </Can>
    </form>
  );
}
