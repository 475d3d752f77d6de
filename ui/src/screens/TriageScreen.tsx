// Missing-user triage: one search across every connection, findings grouped by connection, near matches for never-received users.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useLocation } from "react-router";
import type { Candidate } from "../api/generated/Candidate";
import type { Finding } from "../api/generated/Finding";
import type { TriageReport } from "../api/generated/TriageReport";
import type { NearMatch } from "../api/generated/NearMatch";
import { TRIAGE_INPUT_ID } from "../components/ObserveNav";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useUrlState } from "../lib/search";
import { TriageFinding } from "./TriageFinding";

function groupByConnection(findings: Finding[]): { id: string; name: string; items: Finding[] }[] {
  const groups = new Map<string, { id: string; name: string; items: Finding[] }>();
  for (const f of findings) {
    const g = groups.get(f.connection_id) ?? { id: f.connection_id, name: f.connection_name, items: [] };
    g.items.push(f);
    groups.set(f.connection_id, g);
  }
  return [...groups.values()];
}

export function TriageScreen() {
  const client = useClient();
  const [params, setParams] = useUrlState();
  const q = (params.get("q") ?? "").trim();
  const location = useLocation();
  const inputRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(q);
  const [synced, setSynced] = useState(q);
  if (q !== synced) {
    setSynced(q);
    setText(q);
  }

  useEffect(() => {
    const st = location.state as { focus?: boolean } | null;
    if (st?.focus || !q) inputRef.current?.focus();
  }, [location.state, q]);

  // No query, no request: the server refuses an empty one (400), and the start state needs no data.
  const load = useCallback((signal: AbortSignal) => (q ? client.triage(q, undefined, signal) : Promise.resolve(null)), [client, q]);
  const report = useAsync(load, q ? `q:${q}` : "\u0000none");
  const names = useAsync(
    useCallback((signal: AbortSignal) => client.listConnections(signal), [client]),
    "connections",
  );
  const nameOf = (id: string) => names.data?.find((c) => c.id === id)?.name ?? id;

  let body;
  if (!q) {
    body = (
      <EmptyState title="Find out why a user is missing" testId="triage-start">
        <p className="muted">
          Type the email, userName, externalId or name the customer gave you. Muster looks in every connection, ignoring case, spaces and plus-addressing, and says what
          happened: never sent, rejected, deactivated, deleted — and what to do next.
        </p>
      </EmptyState>
    );
  } else if (report.error && !report.data) {
    body = <ErrorState error={report.error} onRetry={report.reload} what="the triage" />;
  } else if (!report.data || report.loading) {
    // report.data is null only without a query, handled above.
    body = <Skeleton rows={5} cols={3} />;
  } else {
    const r = report.data;
    const groups = groupByConnection(r.findings);
    body = (
      <div className="triage-results" data-testid="triage-results">
        <p className="muted small" data-testid="triage-normalized">
          Searched for <code>{r.normalized}</code>
          {r.normalized !== r.query ? <> (normalised from “{r.query}”)</> : null} across every connection.
        </p>
        {r.candidates.length > 0 ? <Candidates report={r} onPick={(c) => setParams({ q: c.user_name }, false)} /> : null}
        {r.partial && r.findings.length > 0 && r.candidates.length === 0 ? (
          <p className="muted small" data-testid="triage-partial">
            No identifier is exactly “{r.query}”; this is the one user with an identifier containing it.
          </p>
        ) : null}
        {groups.length === 0 && r.candidates.length === 0 ? (
          <EmptyState title="No connection knows this user" testId="triage-empty">
            <p className="muted">No user, no log entry and no near match for “{r.query}”. Check the spelling, or that the user is assigned to the app in the identity provider.</p>
          </EmptyState>
        ) : null}
        {groups.map((g) => (
          <section className="triage-group" key={g.id} aria-labelledby={`tg-${g.id}`} data-testid="triage-group" data-connection={g.id}>
            <h2 id={`tg-${g.id}`}>
              {g.id === "*" ? <span className="capitalize">{g.name}</span> : <Link to={`/connections/${encodeURIComponent(g.id)}`}>{g.name}</Link>} <span className="muted small">{g.items.length === 1 ? "1 finding" : `${g.items.length} findings`}</span>
            </h2>
            {g.items.map((f, i) => (
              <TriageFinding key={`${f.user_id ?? "none"}-${i}`} finding={f} onChanged={report.reload} />
            ))}
          </section>
        ))}
        {r.near_matches.length > 0 ? <NearMatches items={r.near_matches} nameOf={nameOf} /> : null}
      </div>
    );
  }

  return (
    <section className="page triage" aria-labelledby="triage-title" data-testid="triage-screen">
      <div className="page-head">
        <h1 id="triage-title">Triage a missing user</h1>
        <span className="muted">
          Press <kbd>/</kbd> anywhere to search.
        </span>
      </div>
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ q: text.trim() }, false);
        }}
      >
        <input
          ref={inputRef}
          id={TRIAGE_INPUT_ID}
          type="search"
          className="search triage-search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="jane.doe@acme.com, jdoe, 00u1abc or Jane Doe"
          aria-label="Email, userName, externalId or name"
          data-testid="triage-search"
          autoComplete="off"
        />
        <button type="submit" className="btn btn-primary" data-testid="triage-submit" disabled={!text.trim()}>
          Triage
        </button>
      </form>
      {body}
    </section>
  );
}

function NearMatches({ items, nameOf }: { items: NearMatch[]; nameOf: (id: string) => string }) {
  return (
    <section className="card triage-near" aria-labelledby="near-title" data-testid="triage-near">
      <h2 id="near-title">Did you mean</h2>
      <p className="muted small">Users whose identifiers are a few characters away — a typo in the IdP or in the ticket is a common cause.</p>
      <ul className="near-list">
        {items.map((m) => (
          <li key={`${m.connection_id}/${m.user_id}`}>
            <Link to={`/connections/${encodeURIComponent(m.connection_id)}/users?user=${encodeURIComponent(m.user_id)}`} data-testid="near-match">
              {m.user_name}
            </Link>{" "}
            <span className="muted small">
              in {nameOf(m.connection_id)} · {m.distance === 1 ? "1 character" : `${m.distance} characters`} away
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Candidates({ report, onPick }: { report: TriageReport; onPick: (c: Candidate) => void }) {
  return (
    <section className="card triage-candidates" aria-labelledby="candidates-title" data-testid="triage-candidates">
      <h2 id="candidates-title">Which user do you mean?</h2>
      <p className="muted small">
        No identifier is exactly “{report.query}”, and {report.more_candidates ? `more than ${report.candidates.length}` : report.candidates.length} users have one containing it. Pick
        one to triage it{report.more_candidates ? ", or type more of the identifier" : ""}.
      </p>
      <table className="dense">
        <thead>
          <tr>
            <th scope="col">userName</th>
            <th scope="col">Name</th>
            <th scope="col">externalId</th>
            <th scope="col">Connection</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {report.candidates.map((c) => (
            <tr key={`${c.connection_id}/${c.user_id}`} data-testid="triage-candidate" data-user={c.user_id}>
              <td>
                <button type="button" className="link-button" onClick={() => onPick(c)} data-testid="triage-candidate-pick">
                  {c.user_name}
                </button>
              </td>
              <td>{c.display_name ?? <span className="muted">—</span>}</td>
              <td>{c.external_id ? <code>{c.external_id}</code> : <span className="muted">—</span>}</td>
              <td>{c.connection_name}</td>
              <td>{c.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
