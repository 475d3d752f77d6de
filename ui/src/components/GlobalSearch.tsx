// One search across every connection (Ctrl+K / Cmd+K, or the top-bar button): users, groups and log rows grouped by connection and kind, arrows + Enter to open one.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import type { SearchResults } from "../api/generated/SearchResults";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";
import { Modal } from "./Modal";
import { ErrorState } from "./States";
import { Time } from "./Time";

/** The server refuses shorter queries (directory::search::MIN_QUERY_CHARS). */
const MIN_CHARS = 2;
const PER_KIND = 5;

type Kind = "users" | "groups" | "log";
const KIND_LABEL: Record<Kind, string> = { users: "Users", groups: "Groups", log: "Provisioning log" };

type Hit = { key: string; kind: Kind; href: string; label: string; detail: string; at?: string };
type Section = { connectionId: string; connectionName: string; kinds: { kind: Kind; hits: Hit[] }[] };

const enc = encodeURIComponent;

/** Results grouped by connection (in the order the server found them), then by kind. */
function sections(r: SearchResults): Section[] {
  const byConn = new Map<string, Section>();
  const add = (id: string, name: string, hit: Hit) => {
    const s = byConn.get(id) ?? { connectionId: id, connectionName: name, kinds: [] };
    byConn.set(id, s);
    let k = s.kinds.find((x) => x.kind === hit.kind);
    if (!k) {
      k = { kind: hit.kind, hits: [] };
      s.kinds.push(k);
    }
    k.hits.push(hit);
  };
  for (const u of r.users) {
    const status = u.status === "deleted" ? "&status=deleted" : "";
    add(u.connection_id, u.connection_name, {
      key: `u/${u.connection_id}/${u.id}`,
      kind: "users",
      href: `/connections/${enc(u.connection_id)}/users?user=${enc(u.id)}${status}`,
      label: u.user_name,
      detail: [u.display_name, u.email !== u.user_name ? u.email : null, u.external_id ? `externalId ${u.external_id}` : null, u.status !== "active" ? u.status : null]
        .filter(Boolean)
        .join(" · "),
    });
  }
  for (const g of r.groups) {
    add(g.connection_id, g.connection_name, {
      key: `g/${g.connection_id}/${g.id}`,
      kind: "groups",
      href: `/connections/${enc(g.connection_id)}/groups?group=${enc(g.id)}`,
      label: g.display_name,
      detail: g.external_id ? `externalId ${g.external_id}` : "",
    });
  }
  for (const l of r.log) {
    const conn = l.connection_id ?? "";
    add(conn, l.connection_name ?? "No connection", {
      key: `l/${l.id}`,
      kind: "log",
      href: conn ? `/connections/${enc(conn)}/log?entry=${l.id}` : `/log?entry=${l.id}`,
      label: `${l.method} ${l.path} → ${l.status} ${l.outcome}`,
      detail: l.user_name ?? "",
      at: l.at,
    });
  }
  return [...byConn.values()];
}

export function GlobalSearchButton() {
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key.toLowerCase() === "k" && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
        e.preventDefault();
        setOpen(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const mac = /Mac|iPhone|iPad/.test(navigator.userAgent);
  return (
    <>
      <button type="button" className="btn btn-ghost global-search-button" onClick={() => setOpen(true)} data-testid="global-search-open" title="Search users, groups and the log in every connection">
        Search <kbd>{mac ? "⌘K" : "Ctrl+K"}</kbd>
      </button>
      {open ? <GlobalSearchDialog onClose={() => setOpen(false)} /> : null}
    </>
  );
}

function GlobalSearchDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const navigate = useNavigate();
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 200);
  const ready = q.length >= MIN_CHARS;
  const load = useCallback((signal: AbortSignal) => (ready ? client.search(q, PER_KIND, signal) : Promise.resolve(null)), [client, q, ready]);
  const results = useAsync(load, ready ? `q:${q}` : "\u0000none");
  const groups = useMemo(() => (results.data ? sections(results.data) : []), [results.data]);
  const flat = useMemo(() => groups.flatMap((s) => s.kinds.flatMap((k) => k.hits)), [groups]);
  const [active, setActive] = useState(0);
  const [activeFor, setActiveFor] = useState(flat);
  if (activeFor !== flat) {
    setActiveFor(flat);
    setActive(0);
  }
  const listRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    listRef.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
  }, [active]);

  const open = (hit: Hit | undefined) => {
    if (!hit) return;
    onClose();
    void navigate(hit.href);
  };
  let body;
  if (!ready) {
    body = <p className="muted small">Type at least {MIN_CHARS} characters: part of a userName, email, name or externalId, a group name, or a log identity.</p>;
  } else if (results.error && !results.data) {
    body = <ErrorState error={results.error} onRetry={results.reload} what="the search" />;
  } else if (!results.data) {
    body = <p className="muted small">Searching…</p>;
  } else if (flat.length === 0) {
    body = (
      <p className="muted" data-testid="global-search-empty">
        Nothing in any connection matches “{results.data.query}”.
      </p>
    );
  } else {
    const r = results.data;
    const more = (["users", "groups", "log"] as const).filter((k) => r[`${k}_more`]);
    body = (
      <div className="global-search-results" ref={listRef} role="listbox" id="global-search-list" aria-label="Results" data-testid="global-search-results">
        {groups.map((s) => (
          <section key={s.connectionId || "none"} className="global-search-conn" data-testid="global-search-connection" data-connection={s.connectionId}>
            <h3 className="global-search-conn-name">{s.connectionName}</h3>
            {s.kinds.map((k) => (
              <div key={k.kind} className="global-search-kind" data-kind={k.kind}>
                <h4 className="muted small">{KIND_LABEL[k.kind]}</h4>
                {k.hits.map((h) => {
                  const i = flat.indexOf(h);
                  return (
                    <Link
                      key={h.key}
                      id={`gs-${i}`}
                      to={h.href}
                      role="option"
                      aria-selected={i === active}
                      className={`global-search-hit${i === active ? " active" : ""}`}
                      data-testid="global-search-hit"
                      data-kind={h.kind}
                      onMouseMove={() => setActive(i)}
                      onClick={onClose}
                    >
                      <span className="strong">{h.label}</span>
                      {h.detail ? <span className="muted small"> {h.detail}</span> : null}
                      {h.at ? (
                        <span className="muted small">
                          {" "}
                          · <Time value={h.at} />
                        </span>
                      ) : null}
                    </Link>
                  );
                })}
              </div>
            ))}
          </section>
        ))}
        {more.length > 0 ? (
          <p className="muted small" data-testid="global-search-more">
            Showing the first {r.limit} {more.map((k) => KIND_LABEL[k].toLowerCase()).join(", ")}; type more to narrow.
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <Modal title="Search every connection" onClose={onClose} testId="global-search">
      <input
        type="search"
        className="search global-search-input"
        autoFocus
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="jane.doe, 00u1abc, Engineering…"
        aria-label="Search users, groups and the provisioning log"
        aria-controls="global-search-list"
        aria-activedescendant={flat.length > 0 ? `gs-${active}` : undefined}
        data-testid="global-search-input"
        autoComplete="off"
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            if (flat.length === 0) return;
            const step = e.key === "ArrowDown" ? 1 : -1;
            setActive((a) => (a + step + flat.length) % flat.length);
          } else if (e.key === "Escape") {
            // A search input's own Escape only clears its text; here it closes the dialog.
            e.preventDefault();
            onClose();
          } else if (e.key === "Enter") {
            e.preventDefault();
            open(flat[active]);
          }
        }}
      />
      {body}
      <div className="modal-actions">
        <span className="muted small">
          <kbd>↑</kbd> <kbd>↓</kbd> to move, <kbd>Enter</kbd> to open, <kbd>Esc</kbd> to close
        </span>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
