// "Add mapping" row: find a group (server-side search), pick a role, append it at the lowest precedence.
import { useCallback, useState } from "react";
import type { RoleInfo } from "../api/generated/RoleInfo";
import type { RoleMappingRow } from "../api/generated/RoleMappingRow";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";

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

  const taken = new Set(mapped.map((m) => m.group_id));
  const options = (groups.data?.items ?? []).filter((g) => !taken.has(g.id));
  const chosen = options.find((g) => g.id === groupId) ?? options.at(0);
  const chosenRole = roles.some((r) => r.name === role) ? role : (roles.at(0)?.name ?? "");

  let placeholder: string | null = null;
  if (groups.error) placeholder = `Could not load groups: ${groups.error.message}`;
  else if (!groups.data) placeholder = "Loading groups…";
  else if (options.length === 0) placeholder = query ? `No unmapped group matches “${query}”` : "Every group is already mapped (or none has been pushed)";

  return (
    <fieldset className="add-mapping" data-testid="add-mapping">
      <legend className="label">Add a mapping</legend>
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
      <select value={chosenRole} onChange={(e) => setRole(e.target.value)} aria-label="Role" data-testid="mapping-role">
        {roles.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="btn"
        disabled={!chosen || !chosenRole}
        data-testid="mapping-add"
        onClick={() => {
          if (!chosen) return;
          onAdd({ group_id: chosen.id, group_name: chosen.display_name, role: chosenRole, direct_members: chosen.member_count });
          setGroupId("");
          setQ("");
        }}
      >
        Add mapping
      </button>
    </fieldset>
  );
}
