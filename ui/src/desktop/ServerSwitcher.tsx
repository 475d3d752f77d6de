// Desktop app only: the header's server menu — which server the window is on, the others to switch to, add and remove.
import { useEffect, useRef, useState } from "react";
import { AddServerDialog } from "./AddServerDialog";
import {
  LOCAL_ID,
  currentServer,
  isDesktop,
  listServers,
  removeServer,
  serverTitle,
  shellErrorMessage,
  switchServer,
  type ServerList,
} from "./shell";
import "../styles/desktop.css";

export function ServerSwitcher() {
  if (!isDesktop()) return null;
  return <Switcher />;
}

function Switcher() {
  const current = currentServer();
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<ServerList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = serverTitle(current);
  }, [current]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    listServers().then(
      (l) => live && setList(l),
      (e: unknown) => live && setError(shellErrorMessage(e)),
    );
    const outside = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    document.addEventListener("keydown", escape);
    return () => {
      live = false;
      document.removeEventListener("mousedown", outside);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);

  const go = (id: string) => {
    setBusy(true);
    setError(null);
    switchServer(id).catch((e: unknown) => {
      setBusy(false);
      setError(shellErrorMessage(e));
    });
  };

  const remove = (url: string) => {
    setError(null);
    removeServer(url).then(
      (l) => {
        setList(l);
        // The window was on it: back to This computer.
        if (l.current === LOCAL_ID && current.kind === "remote" && current.url === url) go(LOCAL_ID);
      },
      (e: unknown) => setError(shellErrorMessage(e)),
    );
  };

  const currentId = current.kind === "local" ? LOCAL_ID : (current.url ?? "");
  return (
    <div className="server-switcher" ref={ref}>
      <button
        type="button"
        className="btn btn-ghost server-switcher-button"
        aria-haspopup="menu"
        aria-expanded={open}
        title={current.url ?? current.name}
        onClick={() => setOpen((o) => !o)}
        data-testid="server-switcher"
        data-current={currentId}
        data-kind={current.kind}
      >
        <span className={`server-kind server-kind-${current.kind}`} aria-hidden="true" />
        <span className="server-switcher-name">{current.name}</span>
        <span aria-hidden="true">▾</span>
      </button>
      {open ? (
        <div className="server-menu" role="menu" data-testid="server-menu">
          {list === null && !error ? <p className="muted server-menu-note">Loading…</p> : null}
          {list?.servers.map((s) => (
            <div key={s.id} className={`server-menu-row${s.current ? " current" : ""}`}>
              <button
                type="button"
                role="menuitemradio"
                aria-checked={s.current}
                className="server-menu-item"
                disabled={busy || s.current}
                onClick={() => go(s.id)}
                data-testid="server-option"
                data-id={s.id}
                data-current={s.current}
              >
                <span className="server-check" aria-hidden="true">
                  {s.current ? "✓" : ""}
                </span>
                <span className="server-menu-text">
                  <span className="server-menu-name">{s.name}</span>
                  <span className="server-menu-url muted">{s.kind === "local" ? "Built-in server" : s.url}</span>
                </span>
              </button>
              {s.kind === "remote" && s.url ? (
                <button
                  type="button"
                  className="btn btn-ghost server-remove"
                  aria-label={`Remove ${s.name}`}
                  title={`Remove ${s.name}`}
                  onClick={() => remove(s.url as string)}
                  data-testid="server-remove"
                  data-id={s.id}
                >
                  ×
                </button>
              ) : null}
            </div>
          ))}
          {error ? (
            <p className="form-error server-menu-note" role="alert">
              {error}
            </p>
          ) : null}
          <button
            type="button"
            role="menuitem"
            className="server-menu-item server-menu-add"
            onClick={() => {
              setOpen(false);
              setAdding(true);
            }}
            data-testid="server-add"
          >
            Add server…
          </button>
        </div>
      ) : null}
      {adding ? <AddServerDialog onClose={() => setAdding(false)} /> : null}
    </div>
  );
}
