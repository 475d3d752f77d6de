// Role mappings as the console shows and sends them: a stable key, a readable label ("department = Finance"), and the request shape.
import type { MappingInput } from "../api/generated/MappingInput";
import type { RoleMappingRow } from "../api/generated/RoleMappingRow";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";
const MUSTER = "urn:ietf:params:scim:schemas:extension:muster:2.0:User:";

/** Attribute paths offered in the add-mapping dialog (any SCIM path may be typed). */
export const COMMON_PATHS: { path: string; label: string }[] = [
  { path: `${ENTERPRISE}department`, label: "department (enterprise)" },
  { path: "title", label: "title" },
  { path: `${MUSTER}role`, label: "role (Muster extension)" },
  { path: `${MUSTER}team`, label: "team (Muster extension)" },
  { path: `${ENTERPRISE}costCenter`, label: "costCenter (enterprise)" },
  { path: `${ENTERPRISE}division`, label: "division (enterprise)" },
  { path: "userType", label: "userType" },
];

/** The attribute part of a schema-qualified path: `urn:…:enterprise:2.0:User:department` → `department` (as the server's AttributeMatch::label). */
export function shortPath(path: string): string {
  const at = path.toLowerCase().lastIndexOf(":user:");
  return at < 0 ? path : path.slice(at + ":user:".length);
}

/** Unique within one precedence list (the server refuses duplicates). */
export function mappingKey(m: RoleMappingRow): string {
  if (m.attribute) return `attr:${m.attribute.path.toLowerCase()}=${m.attribute.value.toLowerCase()}`;
  return `group:${m.group_id ?? ""}`;
}

/** What a mapping matches, for people: the group's name, or `department = Finance`. */
export function mappingLabel(m: RoleMappingRow): string {
  if (m.attribute) return attributeLabel(m.attribute.path, m.attribute.value);
  return m.group_name ?? m.group_id ?? "(group)";
}

export function attributeLabel(path: string, value: string): string {
  return `${shortPath(path)} = ${value}`;
}

/** Role changes summed by old → new role, largest first: "412 member → admin, 30 admin → member". */
export type RoleShift = { from: string | null; to: string; count: number };

export function roleShifts(rows: { old_role: string | null; new_role: string }[]): RoleShift[] {
  const by = new Map<string, RoleShift>();
  for (const r of rows) {
    const key = `${r.old_role ?? ""}\u0000${r.new_role}`;
    const s = by.get(key);
    if (s) s.count += 1;
    else by.set(key, { from: r.old_role, to: r.new_role, count: 1 });
  }
  return [...by.values()].sort((a, b) => b.count - a.count || (a.from ?? "").localeCompare(b.from ?? "") || a.to.localeCompare(b.to));
}

export function toInput(m: RoleMappingRow): MappingInput {
  return m.attribute ? { attribute: m.attribute, role: m.role } : { group_id: m.group_id ?? "", role: m.role };
}
