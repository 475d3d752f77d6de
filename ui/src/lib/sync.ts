// Sync cycles in words: which IdP habit a cycle is (an Entra cycle, an Okta push), rates, durations and clock times.
import type { SyncCycle } from "../api/generated/SyncCycle";

/** The detected dialect as the admin knows the IdP, and what one of its runs is called. */
export function cycleKind(dialect: string | null): { idp: string; run: string } {
  switch (dialect) {
    case "okta":
      return { idp: "Okta", run: "push" };
    case "entra":
      return { idp: "Entra ID", run: "cycle" };
    case "entra-aadOptscim062020":
      return { idp: "Entra ID (aadOptscim062020)", run: "cycle" };
    case "google":
      return { idp: "Google Workspace", run: "sync" };
    default:
      return { idp: "IdP", run: "sync" };
  }
}

/** 38 req/s, 2.4 req/s, 0.05 req/s. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 10) return `${Math.round(perSecond).toLocaleString("en-US")} req/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(1)} req/s`;
  return `${perSecond.toFixed(2)} req/s`;
}

/** A span of seconds: 45 s, 12 min, 1 h 5 min, 2 d 3 h. */
export function formatSpan(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) {
    const m = Math.round((s % 3600) / 60);
    return m ? `${Math.floor(s / 3600)} h ${m} min` : `${Math.floor(s / 3600)} h`;
  }
  const h = Math.round((s % 86400) / 3600);
  return h ? `${Math.floor(s / 86400)} d ${h} h` : `${Math.floor(s / 86400)} d`;
}

/** Seconds from a cycle's first request to its newest. */
export function cycleSeconds(c: SyncCycle): number {
  return (new Date(c.last_at).getTime() - new Date(c.started_at).getTime()) / 1000;
}

/** The time of day of an instant in UTC, "14:02 UTC", as the console shows times (the exact time goes in a title). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(11, 16)} UTC`;
}

/** The log screen filtered to one cycle's requests (its range filter takes UTC times without the Z). */
export function cycleLogLink(connectionId: string, c: SyncCycle, failuresOnly = false): string {
  const q = new URLSearchParams({ range: "custom", since: c.started_at.replace(/Z$/, ""), until: c.last_at.replace(/Z$/, "") });
  if (failuresOnly) q.set("status", "failure");
  return `/connections/${encodeURIComponent(connectionId)}/log?${q.toString()}`;
}
