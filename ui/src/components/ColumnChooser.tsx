// The "Columns" menu of a table: a button opening a checkbox per column, editing the visibility from lib/columns.
import type { ColumnDef } from "@tanstack/react-table";
import { useEffect, useId, useRef, useState } from "react";
import { columnLabel, type ColumnChoice } from "../lib/columns";

/** The "Columns" button and its checkbox list; columns with `enableHiding: false` are listed but cannot be unticked. */
export function ColumnChooser<T>({ columns, choice, testId = "column-chooser" }: { columns: ColumnDef<T>[]; choice: ColumnChoice; testId?: string }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const menuId = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);
  const shown = columns.filter((c) => c.id && choice.visibility[c.id] !== false).length;
  return (
    <div
      className="column-chooser"
      ref={ref}
      data-testid={testId}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.preventDefault();
          e.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <button type="button" className="btn" aria-expanded={open} aria-controls={menuId} onClick={() => setOpen((o) => !o)} data-testid={`${testId}-button`}>
        Columns <span className="muted small">{shown}/{columns.length}</span>
      </button>
      {open ? (
        <div className="column-menu" id={menuId} role="group" aria-label="Columns shown">
          {columns.map((c) => {
            const id = c.id ?? "";
            const fixed = c.enableHiding === false;
            return (
              <label key={id} className={fixed ? "muted" : undefined}>
                <input
                  type="checkbox"
                  checked={choice.visibility[id] !== false}
                  disabled={fixed}
                  onChange={(e) => choice.onChange((v) => ({ ...v, [id]: e.target.checked }))}
                  data-testid={`column-toggle-${id}`}
                />
                {columnLabel(c)}
              </label>
            );
          })}
          <button type="button" className="btn btn-small btn-ghost" onClick={choice.reset} disabled={!choice.chosen} data-testid={`${testId}-reset`}>
            Reset to default
          </button>
        </div>
      ) : null}
    </div>
  );
}
