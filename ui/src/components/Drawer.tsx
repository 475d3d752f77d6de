// Right-hand detail drawer: labelled dialog region, focus moves in on open, Escape closes.
import { useEffect, useRef, type ReactNode } from "react";

export function Drawer({ title, onClose, children, testId }: { title: ReactNode; onClose: () => void; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLElement>(null);
  const closeRef = useRef(onClose);
  useEffect(() => {
    closeRef.current = onClose;
  });

  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !e.defaultPrevented) {
        e.preventDefault();
        closeRef.current();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title" tabIndex={-1} ref={ref} data-testid={testId ?? "drawer"}>
      <header className="drawer-head">
        <h2 id="drawer-title">{title}</h2>
        <button type="button" className="btn btn-ghost" onClick={onClose} aria-label="Close details" data-testid="drawer-close">
          ✕
        </button>
      </header>
      <div className="drawer-body">{children}</div>
    </aside>
  );
}
