// Small labels: connection health (reason on hover), identity provider, user status.
import type { HealthState } from "../api/generated/HealthState";
import type { Idp } from "../api/generated/Idp";
import type { UserStatus } from "../api/generated/UserStatus";
import { HEALTH_LABEL, IDP_LABEL, exactUtc } from "../lib/format";
import { Time } from "./Time";

export function HealthBadge({ health, reason }: { health: HealthState; reason: string }) {
  return (
    <span className={`badge health-${health}`} title={reason || HEALTH_LABEL[health]} data-testid="health-badge" data-health={health}>
      <span className="dot" aria-hidden="true" />
      {HEALTH_LABEL[health]}
    </span>
  );
}

export function IdpLabel({ idp }: { idp: Idp }) {
  return (
    <span className={`idp idp-${idp}`} data-testid="idp-label">
      {IDP_LABEL[idp]}
    </span>
  );
}

export function StatusBadge({ status, purgeAt }: { status: UserStatus; purgeAt: string | null }) {
  if (status === "deleted") {
    return (
      <span className="badge status-deleted" title={purgeAt ? `Purged on ${exactUtc(purgeAt)}` : "Deleted"}>
        Deleted{purgeAt ? <> · purge <Time value={purgeAt} /></> : null}
      </span>
    );
  }
  return <span className={`badge status-${status}`}>{status === "active" ? "Active" : "Deactivated"}</span>;
}
