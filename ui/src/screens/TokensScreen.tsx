// Tokens tab: the connection's bearer tokens (state, grace countdown, last use), rotate and revoke, its OAuth client, then the audit trail.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import type { TokenRow } from "../api/generated/TokenRow";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { exactUtc } from "../lib/format";
import { useAsync, useNow } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { TokensAudit } from "./TokensAudit";
import { TokensOAuth } from "./TokensOAuth";
import { TokensRevokeDialog } from "./TokensRevokeDialog";
import { TokensRotateDialog } from "./TokensRotateDialog";

const STATE_LABEL: Record<string, string> = { live: "Live", in_grace: "In grace", expired: "Expired", revoked: "Revoked" };
const STATE_CLASS: Record<string, string> = { live: "status-active", in_grace: "status-deactivated", expired: "", revoked: "status-deleted" };
const WARN_WINDOW_MS = 2 * 3600 * 1000;

/** "23 h 12 min", "4 min", "40 s". */
function countdown(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d >= 2) return `${d} d ${h} h`;
  if (d > 0) return `${d * 24 + h} h ${m} min`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

const t = (iso: string | null) => (iso ? new Date(iso).getTime() : null);

/**
 * Which token the IdP should hold: the newest live one is "current"; older tokens that still work are
 * "previous" (until their grace ends, or until revoked when they have no expiry). Expired and revoked ones say nothing.
 */
function TokenRole({ token, current }: { token: TokenRow; current: boolean }) {
  if (current) {
    return (
      <span className="chip chip-accent" title="The token the IdP should be using" data-testid="token-role" data-role="current">
        current
      </span>
    );
  }
  if (token.state !== "live" && token.state !== "in_grace") return null;
  return (
    <span className="chip" data-testid="token-role" data-role="previous">
      previous, valid {token.expires_at ? `until ${exactUtc(token.expires_at)}` : "until revoked"}
    </span>
  );
}

export function TokensScreen() {
  const client = useClient();
  const { id, detail } = useConnection();
  const load = useCallback((signal: AbortSignal) => client.tokens(id, signal), [client, id]);
  const tokens = useAsync(load, id);
  const loadAudit = useCallback((signal: AbortSignal) => client.audit(id, signal), [client, id]);
  const audit = useAsync(loadAudit, id);
  const reloadTokens = tokens.reload;
  const reloadAudit = audit.reload;
  const reloadAll = useCallback(() => {
    reloadTokens();
    reloadAudit();
  }, [reloadTokens, reloadAudit]);
  useLiveRefresh(id, reloadAll, { delayMs: 600 });
  const now = useNow();
  const [rotating, setRotating] = useState(false);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);

  const list = tokens.data ?? [];
  const valid = list.filter((x) => x.state === "live" || x.state === "in_grace");
  // The newest live token is the one the IdP should be using.
  const newest = list.filter((x) => x.state === "live").sort((a, b) => b.created_at.localeCompare(a.created_at)).at(0);
  const newestCreated = t(newest?.created_at ?? null);
  const newestUsed = newest ? (t(newest.last_used_at) ?? 0) > (newestCreated ?? 0) : false;
  const graceTokens = list.filter((x) => x.state === "in_grace");
  const stillOld = graceTokens.filter((x) => !newestUsed || (newestCreated !== null && (t(x.last_used_at) ?? 0) > newestCreated));
  const urgent = stillOld.filter((x) => {
    const exp = t(x.expires_at);
    return exp !== null && exp - now <= WARN_WINDOW_MS;
  });

  let body;
  if (!tokens.data) {
    body = tokens.error ? <ErrorState error={tokens.error} onRetry={tokens.reload} what="tokens" /> : <Skeleton rows={3} cols={6} />;
  } else if (list.length === 0) {
    body = (
      <EmptyState title="No tokens" testId="tokens-empty">
        <p>This connection has no bearer token. Rotate to issue one, or give the IdP OAuth client credentials below.</p>
      </EmptyState>
    );
  } else {
    body = (
      <div className="card flush table-scroll">
        <table className="dense" data-testid="tokens-table">
          <thead>
            <tr>
              <th>Token</th>
              <th>State</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              <th>From</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((x) => {
              const exp = t(x.expires_at);
              const isNewest = newest?.id === x.id;
              return (
                <tr key={x.id} data-testid="token-row" data-token-prefix={x.prefix} data-state={x.state}>
                  <td>
                    <code data-testid="token-prefix">{x.prefix}…</code>
                    <TokenRole token={x} current={isNewest} />
                    <div className="muted small">{x.label}</div>
                  </td>
                  <td>
                    <span className={`badge ${STATE_CLASS[x.state] ?? ""}`} data-testid="token-state">
                      {STATE_LABEL[x.state] ?? x.state}
                    </span>
                    {isNewest && graceTokens.length > 0 ? (
                      <div className={`small ${newestUsed ? "ok-text" : "warn-text"}`} data-testid="new-token-used">
                        {newestUsed ? "IdP is using the new token" : "Not used by the IdP yet"}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <Time value={x.created_at} />
                  </td>
                  <td data-testid="token-expires">
                    {x.revoked_at ? (
                      <>
                        revoked <Time value={x.revoked_at} />
                      </>
                    ) : exp === null ? (
                      <span className="muted">never</span>
                    ) : exp > now ? (
                      <span className={exp - now <= WARN_WINDOW_MS ? "warn-text strong" : ""} title={x.expires_at ?? ""}>
                        expires in {countdown(exp - now)}
                      </span>
                    ) : (
                      <>
                        expired <Time value={x.expires_at} />
                      </>
                    )}
                  </td>
                  <td data-testid="token-last-used">
                    <Time value={x.last_used_at} empty="never used" />
                  </td>
                  <td className="small">
                    {x.last_used_addr ? <code>{x.last_used_addr}</code> : <span className="muted">—</span>}
                    {x.last_used_agent ? (
                      <div className="muted ellipsis" title={x.last_used_agent}>
                        {x.last_used_agent}
                      </div>
                    ) : null}
                  </td>
                  <td className="num">
                    {x.state === "live" || x.state === "in_grace" ? (
                      <Can need="manage">
                        <button type="button" className="btn btn-small btn-danger-text" onClick={() => setRevoking(x)} aria-label={`Revoke token ${x.prefix}`} data-testid="token-revoke">
                          Revoke
                        </button>
                      </Can>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <div className="tokens-screen" data-testid="tokens-screen">
      <div className="toolbar">
        <p className="muted small tokens-intro">
          The IdP authenticates with a bearer token; only a short prefix is kept in clear. Rotate to issue a new one — old tokens keep working for the grace
          period you choose, so the IdP can be updated without a gap.
        </p>
        <span className="topbar-spacer" />
        <Can need="manage" explain="Rotating the token">
          <button type="button" className="btn btn-primary" onClick={() => setRotating(true)} data-testid="rotate-token">
            Rotate token
          </button>
        </Can>
      </div>
      {urgent.map((x) => (
        <div className="alert alert-danger" role="alert" key={x.id} data-testid="old-token-warning">
          <strong>The IdP is still using the old token {x.prefix}…</strong> and it stops working in {countdown((t(x.expires_at) ?? now) - now)}.{" "}
          {newestUsed ? "It was used after the new token was issued." : "The new token has not been used yet."} Paste the new token into the IdP now, or
          provisioning will fail.
        </div>
      ))}
      {valid.length === 0 && tokens.data && list.length > 0 ? (
        <div className="alert alert-danger" role="alert" data-testid="no-valid-token">
          No token is valid: every SCIM request from the IdP is being rejected. Rotate to issue a new one.
        </div>
      ) : null}
      {body}
      <TokensOAuth id={id} />
      <TokensAudit audit={audit} />
      {rotating ? (
        <TokensRotateDialog
          connectionId={id}
          idp={detail.connection.idp}
          onClose={() => setRotating(false)}
          onRotated={reloadAll}
        />
      ) : null}
      {revoking ? (
        <TokensRevokeDialog
          connectionId={id}
          token={revoking}
          onlyValid={valid.length === 1}
          onClose={() => setRevoking(null)}
          onRevoked={reloadAll}
        />
      ) : null}
    </div>
  );
}
