// "Add mapping" row, by group (server-side search) or by attribute (SCIM path = value, for IdPs that send no groups); pick a role, append it at the lowest precedence.
import { useCallback, useState } from "react";
import type { RoleInfo } from "../api/generated/RoleInfo";
import type { RoleMappingRow } from "../api/generated/RoleMappingRow";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";
import { COMMON_PATHS, mappingKey } from "../lib/roleMapping";

type Kind = "group" | "attribute";

export function RolesAddMapping({
  connectionId,
  roles,
  mapped,
  onAdd,
}: {
  connectionId: string;
  roles: RoleInfo[];
  mapped: RoleMappingRow[];
  onAdd: (m: RoleMappingRow) => void;
}) {
  const client = useClient();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 200);
  const load = useCallback((signal: AbortSignal) => client.groups(connectionId, { q: query || undefined, limit: 50, sort: "display_name" }, signal), [client, connectionId, query]);
  const groups = useAsync(load, `${connectionId}/${query}`);
  const [groupId, setGroupId] = useState("");
  const [role, setRole] = useState("");
  const [kind, setKind] = useState<Kind>("group");
  const [path, setPath] = useState(COMMON_PATHS[0]?.path ?? "");
  const [value, setValue] = useState("");

  const taken = new Set(mapped.map((m) => m.group_id));
  const options = (groups.data?.items ?? []).filter((g) => !taken.has(g.id));
  const chosen = options.find((g) => g.id === groupId) ?? options.at(0);
  const chosenRole = roles.some((r) => r.name === role) ? role : (roles.at(0)?.name ?? "");

  let placeholder: string | null = null;
  if (groups.error) placeholder = `Could not load groups: ${groups.error.message}`;
  else if (!groups.data) placeholder = "Loading groups…";
  else if (options.length === 0) placeholder = query ? `No unmapped group matches “${query}”` : "Every group is already mapped (or none has been pushed)";

  const attr = { path: path.trim(), value: value.trim() };
  const attrKey = mappingKey({ group_id: null, group_name: null, attribute: attr, role: "", direct_members: 0, group_deleted_at: null });
  const attrTaken = mapped.some((m) => mappingKey(m) === attrKey);
  let attrProblem: string | null = null;
  if (!attr.path) attrProblem = "Give a SCIM attribute path";
  else if (!attr.value) attrProblem = "Give the value to match";
  else if (attrTaken) attrProblem = "This attribute and value are already mapped";

  const roleSelect = (
    <select value={chosenRole} onChange={(e) => setRole(e.target.value)} aria-label="Role" data-testid="mapping-role">
      {roles.map((r) => (
        <option key={r.name} value={r.name}>
          {r.name}
        </option>
      ))}
    </select>
  );
  const kindSwitch = (
    <span className="segmented" role="radiogroup" aria-label="Map by">
      {(["group", "attribute"] as const).map((k) => (
        <button
          key={k}
          type="button"
          role="radio"
          aria-checked={kind === k}
          className={kind === k ? "btn btn-small active" : "btn btn-small"}
          onClick={() => setKind(k)}
          data-testid={`mapping-kind-${k}`}
        >
          {k === "group" ? "By group" : "By attribute"}
        </button>
      ))}
    </span>
  );

  if (kind === "attribute") {
    return (
      <fieldset className="add-mapping" data-testid="add-mapping">
        <legend className="label">Add a mapping</legend>
        {kindSwitch}
        <input
          type="text"
          list="mapping-attribute-paths"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="SCIM attribute path"
          aria-label="Attribute path"
          title={path}
          data-testid="mapping-attribute-path"
        />
        <datalist id="mapping-attribute-paths">
          {COMMON_PATHS.map((p) => (
            <option key={p.path} value={p.path}>
              {p.label}
            </option>
          ))}
        </datalist>
        <span aria-hidden="true" className="muted">
          =
        </span>
        <input type="text" value={value} onChange={(e) => setValue(e.target.value)} placeholder="Value, e.g. Finance" aria-label="Attribute value" data-testid="mapping-attribute-value" />
        <span aria-hidden="true" className="muted">
          →
        </span>
        {roleSelect}
        <button
          type="button"
          className="btn"
          disabled={attrProblem !== null || !chosenRole}
          title={attrProblem ?? undefined}
          data-testid="mapping-add"
          onClick={() => {
            if (attrProblem !== null) return;
            onAdd({ group_id: null, group_name: null, attribute: attr, role: chosenRole, direct_members: 0, group_deleted_at: null });
            setValue("");
          }}
        >
          Add mapping
        </button>
        {attrTaken ? (
          <p className="hint small" data-testid="mapping-attribute-problem">
            {attrProblem}
          </p>
        ) : null}
        <p className="hint small">Matches when the user's attribute equals the value, ignoring case; for multi-valued attributes, when any value does.</p>
      </fieldset>
    );
  }

  return (
    <fieldset className="add-mapping" data-testid="add-mapping">
      <legend className="label">Add a mapping</legend>
      {kindSwitch}
      <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Find a group" aria-label="Find a group" data-testid="mapping-group-search" />
      <select
        value={chosen?.id ?? ""}
        onChange={(e) => setGroupId(e.target.value)}
        aria-label="Group"
        disabled={placeholder !== null}
        data-testid="mapping-group"
      >
        {placeholder !== null ? <option value="">{placeholder}</option> : null}
        {options.map((g) => (
          <option key={g.id} value={g.id}>
            {g.display_name} ({g.member_count})
          </option>
        ))}
      </select>
      <span aria-hidden="true" className="muted">
        →
      </span>
      {roleSelect}
      <button
        type="button"
        className="btn"
        disabled={!chosen || !chosenRole}
        data-testid="mapping-add"
        onClick={() => {
          if (!chosen) return;
          onAdd({ group_id: chosen.id, group_name: chosen.display_name, attribute: null, role: chosenRole, direct_members: chosen.member_count, group_deleted_at: null });
          setGroupId("");
          setQ("");
        }}
      >
        Add mapping
      </button>
    </fieldset>
  );
}
