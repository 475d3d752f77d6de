// Virtualised, server-sorted data grid (TanStack Table + Virtual): sticky sortable headers, column visibility, roving row focus, Enter opens.
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type OnChangeFn, type SortingState, type Table, type VisibilityState } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from "react";
import type { SortOrder } from "../api/client";

/**
 * `width` is the column's CSS grid track; `hideBelow` hides the column by default while the window is narrower
 * (px) than that, until the admin chooses columns (lib/columns); `label` names it in the column menu when the
 * header is not plain text.
 */
export type ColumnMeta = { width: string; align?: "right"; hideBelow?: number; label?: string };

export type VirtualTableProps<T> = {
  label: string;
  columns: ColumnDef<T>[];
  total: number;
  rowAt: (index: number) => T | undefined;
  getRowId: (row: T) => string;
  onRangeChange: (start: number, end: number) => void;
  sort: { key: string; order: SortOrder };
  onSort: (key: string) => void;
  onOpen: (row: T) => void;
  selectedId: string | null;
  rowTestId?: string;
  footer?: ReactNode;
  /** TanStack's column-visibility state (lib/columns useColumnChoice); every column shows without it. */
  columnVisibility?: VisibilityState;
  onColumnVisibilityChange?: OnChangeFn<VisibilityState>;
};

const ROW_HEIGHT = 34;

type RowProps<T> = {
  table: Table<T>;
  /** Part of the memo key: cells close over what the columns were built from (e.g. a name map that loads later). */
  columns: ColumnDef<T>[];
  /** Part of the memo key too: the ids of the columns shown, which change when the admin hides one. */
  shown: string;
  id: string;
  data: T;
  index: number;
  start: number;
  template: string;
  selected: boolean;
  focusable: boolean;
  testId: string | undefined;
  onActivate: (index: number) => void;
  onFocusIndex: (index: number) => void;
};

/**
 * One data row. Memoised on its data object and position, so scrolling renders only rows that
 * newly enter the window, not the ~50 already on screen.
 */
function DataRowInner<T>(props: RowProps<T>) {
  // `props.data` and `props.columns` are not read here but are part of the memo key: new data for the same id,
  // or new column definitions (the table object itself stays the same), re-render the row.
  const { table, id, index, start, template, selected, focusable, testId, onActivate, onFocusIndex } = props;
  const row = table.getRow(id, true) as ReturnType<Table<T>["getRow"]> | undefined;
  const style: CSSProperties = { transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: template };
  return (
    <div
      className={`vt-row${selected ? " selected" : ""}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      style={style}
      data-row-index={index}
      data-testid={testId}
      data-id={id}
      tabIndex={focusable ? 0 : -1}
      onClick={() => onActivate(index)}
      onFocus={() => onFocusIndex(index)}
    >
      {row?.getVisibleCells().map((cell) => {
        const meta = cell.column.columnDef.meta as ColumnMeta | undefined;
        return (
          <div className={`vt-td${meta?.align === "right" ? " num" : ""}`} role="gridcell" key={cell.id}>
            {flexRender(cell.column.columnDef.cell, cell.getContext())}
          </div>
        );
      })}
    </div>
  );
}
const DataRow = memo(DataRowInner) as typeof DataRowInner;

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const { columns, total, rowAt, getRowId, onRangeChange, sort, onSort, onOpen, selectedId } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [focusIndex, setFocusIndex] = useState(0);
  const wantFocus = useRef(false);

  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual returns fresh functions by design
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    onRangeChange(first, last);
  }, [first, last, onRangeChange]);

  // Only the rows on screen go through TanStack Table; the full set lives on the server.
  const visibleRows = useMemo(() => {
    const out: T[] = [];
    for (let i = first; i <= last && i < total; i++) {
      const r = rowAt(i);
      if (r !== undefined) out.push(r);
    }
    return out;
  }, [first, last, total, rowAt]);

  const sorting: SortingState = useMemo(() => [{ id: sort.key, desc: sort.order === "desc" }], [sort.key, sort.order]);
  const table = useReactTable({
    data: visibleRows,
    columns,
    getRowId,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    state: { sorting, columnVisibility: props.columnVisibility ?? {} },
    onColumnVisibilityChange: props.onColumnVisibilityChange,
  });
  const visibleColumns = table.getVisibleLeafColumns();
  const shown = visibleColumns.map((c) => c.id).join(",");
  // The row is as wide as its columns' minimums add up to (the first px of each track); below that the table scrolls inside itself, never the page.
  const minWidth = visibleColumns.reduce((sum, c) => sum + Number(/(\d+)px/.exec((c.columnDef.meta as ColumnMeta | undefined)?.width ?? "")?.[1] ?? 60), 0);
  const template = visibleColumns.map((c) => (c.columnDef.meta as ColumnMeta | undefined)?.width ?? "1fr").join(" ");
  const clampedFocus = Math.min(focusIndex, Math.max(total - 1, 0));

  useEffect(() => {
    if (!wantFocus.current) return;
    const el = scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${clampedFocus}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      wantFocus.current = false;
    }
  });

  // When the drawer closes, give focus back to the row it was opened from.
  const prevSelected = useRef(selectedId);
  useEffect(() => {
    if (prevSelected.current && !selectedId) {
      wantFocus.current = true;
      scrollRef.current?.querySelector<HTMLElement>(`[data-row-index="${clampedFocus}"]`)?.focus({ preventScroll: true });
    }
    prevSelected.current = selectedId;
  }, [selectedId, clampedFocus]);

  // Stable callbacks for the memoised rows; they read the latest props through a ref.
  const latest = useRef({ rowAt, onOpen });
  useEffect(() => {
    latest.current = { rowAt, onOpen };
  });
  const onActivate = useCallback((i: number) => {
    setFocusIndex(i);
    const r = latest.current.rowAt(i);
    if (r !== undefined) latest.current.onOpen(r);
  }, []);

  const moveTo = (i: number) => {
    const next = Math.max(0, Math.min(total - 1, i));
    wantFocus.current = true;
    setFocusIndex(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if ((e.target as HTMLElement).getAttribute("role") !== "row") return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const map: Record<string, number> = {
      ArrowDown: clampedFocus + 1,
      ArrowUp: clampedFocus - 1,
      PageDown: clampedFocus + page,
      PageUp: clampedFocus - page,
      Home: 0,
      End: total - 1,
    };
    const target = map[e.key];
    if (target !== undefined) {
      e.preventDefault();
      moveTo(target);
    } else if (e.key === "Enter" || e.key === " ") {
      const row = rowAt(clampedFocus);
      if (row) {
        e.preventDefault();
        onOpen(row);
      }
    }
  };

  return (
    <div className="vt" role="grid" aria-label={props.label} aria-rowcount={total + 1} aria-colcount={visibleColumns.length} data-testid="virtual-table">
      <div className="vt-scroll" ref={scrollRef} onKeyDown={onKeyDown}>
        {table.getHeaderGroups().map((hg) => (
          <div className="vt-head" role="row" aria-rowindex={1} key={hg.id} style={{ gridTemplateColumns: template, minWidth }}>
            {hg.headers.map((h) => {
              // Sorting is server-side and columns have no accessors, so TanStack's getCanSort() would say no.
              const sortable = h.column.columnDef.enableSorting !== false;
              const active = sort.key === h.column.id;
              const ariaSort = active ? (sort.order === "asc" ? "ascending" : "descending") : sortable ? "none" : undefined;
              const meta = h.column.columnDef.meta as ColumnMeta | undefined;
              const label = flexRender(h.column.columnDef.header, h.getContext());
              return (
                <div role="columnheader" aria-sort={ariaSort} key={h.id} className={`vt-th${meta?.align === "right" ? " num" : ""}`}>
                  {sortable ? (
                    <button type="button" className="th-sort" onClick={() => onSort(h.column.id)} data-testid={`sort-${h.column.id}`}>
                      {label}
                      <span className="sort-arrow" aria-hidden="true">{active ? (sort.order === "asc" ? "▲" : "▼") : "↕"}</span>
                    </button>
                  ) : (
                    label
                  )}
                </div>
              );
            })}
          </div>
        ))}
        <div className="vt-body" style={{ height: virtualizer.getTotalSize(), minWidth }} role="rowgroup">
          {items.map((vi) => {
            const data = rowAt(vi.index);
            const style = { transform: `translateY(${vi.start}px)`, height: ROW_HEIGHT, gridTemplateColumns: template };
            if (data === undefined) {
              return (
                <div className="vt-row loading" role="row" aria-rowindex={vi.index + 2} key={`s${vi.index}`} style={style} data-row-index={vi.index} tabIndex={vi.index === clampedFocus ? 0 : -1}>
                  {visibleColumns.map((_, c) => (
                    <div className="vt-td" role="gridcell" key={c}>
                      <span className="skeleton-bar" style={{ width: `${35 + ((vi.index * 7 + c * 17) % 45)}%` }} />
                    </div>
                  ))}
                </div>
              );
            }
            const id = getRowId(data);
            return (
              <DataRow
                key={id}
                table={table}
                columns={columns}
                shown={shown}
                id={id}
                data={data}
                index={vi.index}
                start={vi.start}
                template={template}
                selected={id === selectedId}
                focusable={vi.index === clampedFocus}
                testId={props.rowTestId}
                onActivate={onActivate}
                onFocusIndex={setFocusIndex}
              />
            );
          })}
        </div>
      </div>
      {props.footer}
    </div>
  );
}
