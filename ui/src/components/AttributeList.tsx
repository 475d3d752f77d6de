// Renders a SCIM resource's attributes (nested objects and multi-valued lists) as a readable definition list.
import type { ReactNode } from "react";

import { ENTERPRISE, isRecord } from "../lib/scim";

const SKIP_KEYS = new Set(["schemas", "meta", ENTERPRISE]);

function renderValue(v: unknown): ReactNode {
  if (v === null || v === undefined) return <span className="muted">null</span>;
  if (typeof v === "boolean") return <code>{String(v)}</code>;
  if (typeof v === "string" || typeof v === "number") return <span className="break">{String(v)}</span>;
  if (Array.isArray(v)) {
    if (v.length === 0) return <span className="muted">none</span>;
    return (
      <ul className="multi">
        {v.map((item, i) => (
          <li key={i}>{isRecord(item) ? <Inline obj={item} /> : renderValue(item)}</li>
        ))}
      </ul>
    );
  }
  if (isRecord(v)) return <Inline obj={v} />;
  return <code>{JSON.stringify(v)}</code>;
}

/** One complex value on a line: `value` first, flags like primary as chips. */
function Inline({ obj }: { obj: Record<string, unknown> }) {
  const { value, display, primary, type, ...rest } = obj;
  const head = value ?? display;
  return (
    <span className="inline-obj">
      {head !== undefined ? <span className="break">{typeof head === "string" || typeof head === "number" ? String(head) : JSON.stringify(head)}</span> : null}
      {typeof type === "string" ? <span className="chip">{type}</span> : null}
      {primary === true ? <span className="chip chip-accent">primary</span> : null}
      {Object.entries(rest).map(([k, val]) => (
        <span key={k} className="sub-attr">
          <span className="muted">{k}:</span> {isRecord(val) || Array.isArray(val) ? JSON.stringify(val) : String(val)}
        </span>
      ))}
    </span>
  );
}

export function AttributeList({ obj, skip = SKIP_KEYS, testId }: { obj: Record<string, unknown>; skip?: Set<string>; testId?: string }) {
  const entries = Object.entries(obj).filter(([k]) => !skip.has(k));
  if (entries.length === 0) return <p className="muted">No attributes.</p>;
  return (
    <dl className="kv attrs" data-testid={testId}>
      {entries.map(([k, v]) => (
        <div key={k} className="kv-row" data-attr={k}>
          <dt>{k}</dt>
          <dd>{renderValue(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
