// Ordered mapping → role list (groups and attribute = value alike): reorder by drag, by Alt+ArrowUp/Down on a focused row, or by the Move up/down buttons.
import { useEffect, useRef, useState } from "react";
import type { RoleInfo } from "../api/generated/RoleInfo";
import type { RoleMappingRow } from "../api/generated/RoleMappingRow";
import { EmptyState } from "../components/States";
import { Time } from "../components/Time";
import { mappingKey, mappingLabel } from "../lib/roleMapping";

function moved<T>(list: T[], from: number, to: number): T[] {
  const next = list.slice();
  next.splice(to, 0, ...next.splice(from, 1));
  return next;
}

export function RolesPrecedence({ mappings, roles, onChange }: { mappings: RoleMappingRow[]; roles: RoleInfo[]; onChange: (m: RoleMappingRow[]) => void }) {
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const [dragOver, setDragOver] = useState<number | null>(null);
  const [announce, setAnnounce] = useState("");
  // After a keyboard move, focus follows the row to its new place.
  const [focusId, setFocusId] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    if (focusId === null) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-mapping-key="${CSS.escape(focusId)}"]`);
    el?.focus();
  }, [focusId, mappings]);

  const move = (from: number, to: number, keepFocus: boolean) => {
    if (to < 0 || to >= mappings.length || from === to) return;
    const m = mappings.at(from);
    if (!m) return;
    onChange(moved(mappings, from, to));
    setAnnounce(`${mappingLabel(m)} moved to position ${to + 1} of ${mappings.length}`);
    setFocusId(keepFocus ? mappingKey(m) : null);
  };

  if (mappings.length === 0) {
    return (
      <EmptyState title="No mappings yet" testId="mappings-empty">
        <p>Everyone gets the default role. Add a mapping below to give a group's members, or users with an attribute value, a role.</p>
      </EmptyState>
    );
  }
  return (
    <>
      <p className="hint">Drag rows, or focus a row and press Alt+↑ / Alt+↓, to change which mapping wins.</p>
      <ol className="prec-list" ref={listRef} aria-label="Role mappings, highest precedence first" data-testid="mapping-list">
        {mappings.map((m, i) => {
          const label = mappingLabel(m);
          return (
            <li
              key={mappingKey(m)}
              className={`prec-row${dragFrom === i ? " dragging" : ""}${dragOver === i && dragFrom !== i ? " drop-target" : ""}`}
              tabIndex={0}
              draggable
              data-group-id={m.group_id ?? undefined}
              data-mapping-key={mappingKey(m)}
              data-kind={m.attribute ? "attribute" : "group"}
              data-testid="mapping-row"
              aria-label={`${i + 1}. ${label} gets ${m.role}`}
              onKeyDown={(e) => {
                if (e.target !== e.currentTarget || !e.altKey) return;
                if (e.key === "ArrowUp") {
                  e.preventDefault();
                  move(i, i - 1, true);
                } else if (e.key === "ArrowDown") {
                  e.preventDefault();
                  move(i, i + 1, true);
                }
              }}
              onDragStart={(e) => {
                e.dataTransfer.effectAllowed = "move";
                e.dataTransfer.setData("text/plain", mappingKey(m));
                setDragFrom(i);
              }}
              onDragOver={(e) => {
                if (dragFrom === null) return;
                e.preventDefault();
                e.dataTransfer.dropEffect = "move";
                if (dragOver !== i) setDragOver(i);
              }}
              onDrop={(e) => {
                e.preventDefault();
                if (dragFrom !== null) move(dragFrom, i, false);
                setDragFrom(null);
                setDragOver(null);
              }}
              onDragEnd={() => {
                setDragFrom(null);
                setDragOver(null);
              }}
            >
              <span className="prec-handle" aria-hidden="true" title="Drag to reorder">
                ⠿
              </span>
              <span className="prec-pos">{i + 1}</span>
              <div className="prec-main">
                <span className="strong" data-testid="mapping-group-name">
                  {label}
                </span>
                {m.attribute ? (
                  <span className="muted small" title={m.attribute.path} data-testid="mapping-attribute-note">
                    {" "}
                    · attribute, any case
                  </span>
                ) : m.group_deleted_at ? (
                  <p className="warning small" data-testid="mapping-group-deleted">
                    The group was deleted <Time value={m.group_deleted_at} />: this mapping matches nobody until the group is restored, then grants {m.role} again. It goes when the group is
                    purged.
                  </p>
                ) : (
                  <span className="muted small">
                    {" "}
                    · {m.direct_members} direct {m.direct_members === 1 ? "member" : "members"}
                  </span>
                )}
                {!m.attribute && !m.group_deleted_at && m.direct_members === 0 ? (
                  <p className="warning small" data-testid="nested-warning">
                    This group has no direct members. IdPs send nested groups flattened — or not at all — so a group with no direct members grants nothing.
                  </p>
                ) : null}
              </div>
              <span aria-hidden="true" className="muted">
                →
              </span>
              <select
                value={m.role}
                aria-label={`Role for ${label}`}
                data-testid="mapping-role-select"
                onChange={(e) => onChange(mappings.map((x, j) => (j === i ? { ...x, role: e.target.value } : x)))}
              >
                {roles.map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
              <div className="prec-buttons">
                <button type="button" className="btn btn-small" aria-label={`Move ${label} up`} title="Move up" disabled={i === 0} onClick={() => move(i, i - 1, false)} data-testid="move-up">
                  ↑
                </button>
                <button
                  type="button"
                  className="btn btn-small"
                  aria-label={`Move ${label} down`}
                  title="Move down"
                  disabled={i === mappings.length - 1}
                  onClick={() => move(i, i + 1, false)}
                  data-testid="move-down"
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="btn btn-small btn-danger-text"
                  aria-label={`Remove mapping for ${label}`}
                  onClick={() => {
                    onChange(mappings.filter((_, j) => j !== i));
                    setAnnounce(`Mapping for ${label} removed`);
                  }}
                  data-testid="mapping-remove"
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ol>
      <p className="sr-only" aria-live="polite">
        {announce}
      </p>
    </>
  );
}
