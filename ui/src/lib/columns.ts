// Which columns a table shows: TanStack Table's column-visibility state, defaulted by window width until the admin chooses, then kept per table in localStorage.
import type { ColumnDef, OnChangeFn, VisibilityState } from "@tanstack/react-table";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { ColumnMeta } from "../components/VirtualTable";

const storageKey = (tableId: string) => `muster.columns.${tableId}`;

function readChoice(tableId: string): VisibilityState | null {
  try {
    const raw = localStorage.getItem(storageKey(tableId));
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, boolean] => typeof e[1] === "boolean"));
  } catch {
    return null;
  }
}

function writeChoice(tableId: string, choice: VisibilityState | null) {
  try {
    if (choice === null) localStorage.removeItem(storageKey(tableId));
    else localStorage.setItem(storageKey(tableId), JSON.stringify(choice));
  } catch {
    // no storage: the choice lasts until reload
  }
}

function subscribeWidth(cb: () => void) {
  window.addEventListener("resize", cb);
  return () => window.removeEventListener("resize", cb);
}

/** What a column is called in the menu: its `label`, else its header when that is text. */
export function columnLabel<T>(c: ColumnDef<T>): string {
  const meta = c.meta as ColumnMeta | undefined;
  return meta?.label ?? (typeof c.header === "string" ? c.header : (c.id ?? ""));
}

export type ColumnChoice = {
  visibility: VisibilityState;
  onChange: OnChangeFn<VisibilityState>;
  /** Whether the admin has chosen (else the defaults for the window's width apply). */
  chosen: boolean;
  reset: () => void;
};

/**
 * The visibility of `columns` in the table `tableId`. Until the admin chooses, a column whose meta has `hideBelow`
 * is hidden while the window is narrower than that many pixels; a choice is stored and wins at every width.
 */
export function useColumnChoice<T>(tableId: string, columns: ColumnDef<T>[]): ColumnChoice {
  const [choice, setChoice] = useState<VisibilityState | null>(() => readChoice(tableId));
  const width = useSyncExternalStore(subscribeWidth, () => window.innerWidth);
  const defaults: VisibilityState = {};
  for (const c of columns) {
    const below = (c.meta as ColumnMeta | undefined)?.hideBelow;
    if (c.id && below !== undefined) defaults[c.id] = width >= below;
  }
  const visibility = choice ? { ...defaults, ...choice } : defaults;
  const latest = useRef(visibility);
  useEffect(() => {
    latest.current = visibility;
  });
  const onChange: OnChangeFn<VisibilityState> = useCallback(
    (updater) => {
      const next = typeof updater === "function" ? updater(latest.current) : updater;
      writeChoice(tableId, next);
      setChoice(next);
    },
    [tableId],
  );
  const reset = useCallback(() => {
    writeChoice(tableId, null);
    setChoice(null);
  }, [tableId]);
  return { visibility, onChange, chosen: choice !== null, reset };
}
