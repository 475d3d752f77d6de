// Formatting helpers: relative times, exact UTC stamps, IdP and health labels, Entra tenant URL.
import type { HealthState } from "../api/generated/HealthState";
import type { Idp } from "../api/generated/Idp";

export function exactUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function relativeTime(iso: string, now: number): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  let text: string;
  if (a < 10) return "just now";
  else if (a < 60) text = `${a} s`;
  else if (a < 3600) text = `${Math.floor(a / 60)} min`;
  else if (a < 86400) text = `${Math.floor(a / 3600)} h`;
  else if (a < 86400 * 30) text = `${Math.floor(a / 86400)} d`;
  else return exactUtc(iso).slice(0, 10);
  return future ? `in ${text}` : `${text} ago`;
}

export const IDP_LABEL: Record<Idp, string> = {
  okta: "Okta",
  entra: "Entra ID",
  google: "Google Workspace",
  generic: "Generic SCIM",
};

export const HEALTH_LABEL: Record<HealthState, string> = {
  never_connected: "Never connected",
  healthy: "Healthy",
  idle: "Idle",
  failing: "Failing",
  degraded: "Degraded",
  misconfigured: "Misconfigured",
  no_live_token: "No live token",
  paused: "Paused",
};

/** Entra's flag that makes it send RFC-compliant PATCH bodies. */
export function entraTenantUrl(scimUrl: string): string {
  return scimUrl.includes("?") ? `${scimUrl}&aadOptscim062020` : `${scimUrl}?aadOptscim062020`;
}

export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Axis labels that fit a narrow axis: 950, 1.5k, 12k, 2.3M. */
export function compactCount(n: number): string {
  const a = Math.abs(n);
  const short = (v: number, unit: string) => `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}${unit}`;
  if (a >= 999_500) return short(n / 1_000_000, "M");
  if (a >= 1_000) return short(n / 1_000, "k");
  return String(n);
}
