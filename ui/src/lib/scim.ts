// SCIM resource helpers: the enterprise extension URN and safe narrowing of untyped resource JSON.
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function asRecord(v: unknown): Record<string, unknown> | null {
  return isRecord(v) ? v : null;
}
