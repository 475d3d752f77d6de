// Provisioning-log vocabulary: outcomes in admin words, success/failure, time ranges, PATCH operations as lines.
import type { LogOutcome } from "../api/generated/LogOutcome";
import type { LogRow } from "../api/generated/LogRow";
import type { Verdict } from "../api/generated/Verdict";

/** Every outcome the server logs (`directory::log::LogOutcome`), in the words an admin uses. */
export const ACTION_LABEL: Record<LogOutcome, string> = {
  created: "Created",
  updated: "Updated",
  unchanged: "No change",
  deactivated: "Deactivated",
  reactivated: "Reactivated",
  deleted: "Deleted",
  restored: "Restored",
  purged: "Purged",
  membership_added: "Membership added",
  membership_removed: "Membership removed",
  membership_changed: "Membership changed",
  read: "Read",
  auth_failed: "Auth failure",
  conflict: "Conflict",
  not_found: "Not found",
  invalid: "Invalid request",
  precondition_failed: "Version mismatch",
  rate_limited: "Rate limited",
  too_large: "Too large",
  unsupported_media_type: "Wrong content type",
  error: "Server error",
};

/** The filter dropdown's choices, in the order an admin scans them. */
export const ACTION_CHOICES: readonly LogOutcome[] = [
  "created",
  "updated",
  "deactivated",
  "reactivated",
  "deleted",
  "membership_added",
  "membership_removed",
  "membership_changed",
  "read",
  "auth_failed",
  "invalid",
  "conflict",
  "not_found",
  "rate_limited",
  "error",
];

export function actionLabel(outcome: LogOutcome): string {
  return ACTION_LABEL[outcome];
}

export type RowStatus = { ok: boolean; label: string };

/** 2xx success; 401 failure (auth); any other 4xx/5xx failure. */
export function rowStatus(r: Pick<LogRow, "status">): RowStatus {
  if (r.status < 400) return { ok: true, label: "Success" };
  if (r.status === 401) return { ok: false, label: "Failure · auth" };
  return { ok: false, label: "Failure" };
}

export const RANGES = ["1h", "24h", "7d", "custom"] as const;
export type Range = (typeof RANGES)[number] | "all";
export const RANGE_LABEL: Record<Range, string> = { all: "All time", "1h": "Last 1 hour", "24h": "Last 24 hours", "7d": "Last 7 days", custom: "Custom range" };
export function pickRange(v: string | null): Range {
  return (RANGES as readonly string[]).includes(v ?? "") ? (v as Range) : "all";
}
const RANGE_MS: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };

/** Server times are RFC 3339 with milliseconds and Z, compared as strings; toISOString has the same shape. */
export function rangeBounds(range: Range, since: string, until: string, now: number): { since?: string; until?: string } {
  const ms = RANGE_MS[range];
  if (ms !== undefined) return { since: new Date(now - ms).toISOString() };
  if (range === "custom") {
    const out: { since?: string; until?: string } = {};
    const s = localToIso(since);
    const u = localToIso(until);
    if (s) out.since = s;
    if (u) out.until = u;
    return out;
  }
  return {};
}

/** `<input type="datetime-local">` values are read as UTC: the console shows UTC everywhere. */
export function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(`${v}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** `/scim/v2/<connection>/Users/…` → `/Users/…`: the part an admin compares with the IdP's own log. */
export function scimPath(r: Pick<LogRow, "path" | "connection_id">): string {
  if (!r.connection_id) return r.path;
  const i = r.path.indexOf(`/${r.connection_id}`);
  return i >= 0 ? r.path.slice(i + r.connection_id.length + 1) || "/" : r.path;
}

export type PatchLine = { op: string; path: string; value: string };

function show(v: unknown): string {
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * The operations of a SCIM PATCH body as "op path: value" lines. A path-less operation
 * (Okta's `{"op":"replace","value":{"active":false}}`) is spread into one line per attribute.
 */
export function patchLines(body: unknown): PatchLine[] | null {
  if (!body || typeof body !== "object") return null;
  const ops = (body as Record<string, unknown>).Operations ?? (body as Record<string, unknown>).operations;
  if (!Array.isArray(ops)) return null;
  const out: PatchLine[] = [];
  for (const raw of ops as unknown[]) {
    if (!raw || typeof raw !== "object") continue;
    const o = raw as Record<string, unknown>;
    const op = typeof o.op === "string" ? o.op.toLowerCase() : "?";
    const path = typeof o.path === "string" ? o.path : "";
    if (!path && o.value && typeof o.value === "object" && !Array.isArray(o.value)) {
      for (const [k, v] of Object.entries(o.value as Record<string, unknown>)) out.push({ op, path: k, value: show(v) });
    } else {
      out.push({ op, path: path || "(whole resource)", value: o.value === undefined ? "" : show(o.value) });
    }
  }
  return out;
}

export function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Splits the server's "reason. next step." health text at the first sentence end. */
export function splitHealthReason(text: string): { reason: string; next: string } {
  const m = /^(.+?[.!?])\s+(?=[A-Z])(.*)$/s.exec(text.trim());
  return m ? { reason: m[1] ?? text, next: m[2] ?? "" } : { reason: text, next: "" };
}

export const VERDICT_HEADLINE: Record<Verdict, string> = {
  active_and_fine: "Active and provisioned — nothing is wrong on Muster's side",
  only_default_role: "Provisioned, but only with the default role",
  deactivated: "Deactivated by the identity provider",
  deleted: "Deleted by the identity provider",
  rejected: "The identity provider sent this user, but Muster rejected it",
  sign_in_refused: "Never provisioned — their sign-in was refused",
  other_connection: "Provisioned through a different connection",
  never_received: "Never received from the identity provider",
};

export const VERDICT_TONE: Record<Verdict, "ok" | "warn" | "bad" | "neutral"> = {
  active_and_fine: "ok",
  only_default_role: "warn",
  deactivated: "warn",
  deleted: "bad",
  rejected: "bad",
  sign_in_refused: "bad",
  other_connection: "neutral",
  never_received: "bad",
};
