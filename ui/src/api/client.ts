// The one typed client for the admin API (docs/admin-api.md); every screen fetches through it.
import type { ApiError as ApiErrorBody } from "./generated/ApiError";
import type { ConnectionDetail } from "./generated/ConnectionDetail";
import type { OidcSettings } from "./generated/OidcSettings";
import type { OidcSettingsInput } from "./generated/OidcSettingsInput";
import type { ConnectionSummary } from "./generated/ConnectionSummary";
import type { CreateConnectionRequest } from "./generated/CreateConnectionRequest";
import type { CreatedConnection } from "./generated/CreatedConnection";
import type { GroupDetail } from "./generated/GroupDetail";
import type { GroupMemberPage } from "./generated/GroupMemberPage";
import type { StoryPage } from "./generated/StoryPage";
import type { GroupPage } from "./generated/GroupPage";
import type { GroupRow } from "./generated/GroupRow";
import type { LogPage } from "./generated/LogPage";
import type { ServerInfo } from "./generated/ServerInfo";
import type { UserDetail } from "./generated/UserDetail";
import type { UserPage } from "./generated/UserPage";
import type { AttributeMappingRow } from "./generated/AttributeMappingRow";
import type { AttributePreview } from "./generated/AttributePreview";
import type { AuditPage } from "./generated/AuditPage";
import type { AuditRow } from "./generated/AuditRow";
import type { IssuedToken } from "./generated/IssuedToken";
import type { ClientSecretRow } from "./generated/ClientSecretRow";
import type { IssuedClientSecret } from "./generated/IssuedClientSecret";
import type { OAuthClientView } from "./generated/OAuthClientView";
import type { OAuthSettingsBody } from "./generated/OAuthSettingsBody";
import type { RoleChangeRow } from "./generated/RoleChangeRow";
import type { RoleInfo } from "./generated/RoleInfo";
import type { RolesView } from "./generated/RolesView";
import type { SaveMappingsRequest } from "./generated/SaveMappingsRequest";
import type { TokenRow } from "./generated/TokenRow";
import type { SetupLinkRow } from "./generated/SetupLinkRow";
import type { CreatedSetupLink } from "./generated/CreatedSetupLink";
import type { UserRow } from "./generated/UserRow";
import type { ActivityBucket } from "./generated/ActivityBucket";
import type { SyncActivity } from "./generated/SyncActivity";
import type { LogDetail } from "./generated/LogDetail";
import type { TriageReport } from "./generated/TriageReport";
import type { SearchResults } from "./generated/SearchResults";
import type { DemoState } from "./generated/DemoState";
import type { CheckRequest } from "./generated/CheckRequest";
import type { Report } from "./generated/Report";
import type { JitSettings } from "./generated/JitSettings";
import type { StaleAccount } from "./generated/StaleAccount";
import type { FlaggedSignIns } from "./generated/FlaggedSignIns";
import type { CadenceSetting } from "./generated/CadenceSetting";
import type { RetentionSetting } from "./generated/RetentionSetting";
import type { ConnectionDeletion } from "./generated/ConnectionDeletion";
import type { ConnectionTestResult } from "./generated/ConnectionTestResult";
import type { EvidenceReport } from "./generated/EvidenceReport";
import type { WebhookEndpoints } from "./generated/WebhookEndpoints";
import type { WebhookEndpoint } from "./generated/WebhookEndpoint";
import type { WebhookSecret } from "./generated/WebhookSecret";
import type { WebhookDelivery } from "./generated/WebhookDelivery";
import type { CreateWebhookRequest } from "./generated/CreateWebhookRequest";
import type { UpdateWebhookRequest } from "./generated/UpdateWebhookRequest";
import type { Requeued } from "./generated/Requeued";
import type { Me } from "./generated/Me";
import type { ConsoleSessionRow } from "./generated/ConsoleSessionRow";
import type { AdminRow } from "./generated/AdminRow";
import type { NewAdmin } from "./generated/NewAdmin";
import type { AdminChange } from "./generated/AdminChange";
import type { EnrolmentIssued } from "./generated/EnrolmentIssued";
import { fetchEventSource } from "@microsoft/fetch-event-source";

export type ErrorCode = "not_found" | "bad_request" | "unauthorized" | "forbidden" | "conflict" | "gone" | "internal" | "network";

/** Every failed call rejects with this: the server's `{code, message}` or a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  constructor(status: number, code: ErrorCode, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export type SortOrder = "asc" | "desc";
export type UserStatusFilter = "active" | "deactivated" | "deleted" | "all";
export type UserSort = "user_name" | "display_name" | "primary_email" | "last_synced_at" | "updated_at";
export type GroupSort = "display_name" | "member_count" | "last_synced_at";

export type UserQuery = {
  q?: string;
  status?: UserStatusFilter;
  sort?: UserSort;
  order?: SortOrder;
  offset?: number;
  limit?: number;
};
/** Groups listed: live ones when absent, deleted ones awaiting purge, or both. */
export type GroupStatusFilter = "present" | "deleted" | "all";
export type GroupQuery = { q?: string; status?: GroupStatusFilter; sort?: GroupSort; order?: SortOrder; offset?: number; limit?: number };
export type LogQuery = { outcome?: string; status?: "success" | "failure"; q?: string; before_id?: number; limit?: number };
/** A connection id (absent: every connection) and a period: dates (YYYY-MM-DD, UTC, both days included) or RFC 3339 times. */
export type EvidenceQuery = { connection?: string; from: string; to: string };
export type EvidenceFormat = "csv" | "json" | "pdf";
export type GlobalLogQuery = { connection?: string; outcome?: string; status?: "success" | "failure"; q?: string; since?: string; until?: string; before_id?: number; limit?: number };

/** The Audit screen's filters (crates/server/src/api/audit.rs): connection is an id or "server"; action ending in * or . is a prefix. */
export type AuditQuery = { connection?: string; actor?: string; email?: string; action?: string; q?: string; since?: string; until?: string; before?: number; limit?: number };

type Query = Record<string, string | number | undefined>;

export class MusterClient {
  readonly api: string;
  /** The admin secret or a session; sent only as `Authorization: Bearer`, never in a URL. */
  private readonly credential: string;
  private readonly unauthorized = new Set<() => void>();

  constructor(config: { api: string; credential: string }) {
    this.api = config.api;
    this.credential = config.credential;
  }

  private auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.credential}` };
  }

  /** Whether this console holds a signed-in session (not the admin secret). */
  get signedIn(): boolean {
    return this.credential.startsWith("mas_");
  }

  private async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    let url = `${this.api}${path}`;
    if (opts.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) {
        if (v !== undefined && v !== "") qs.set(k, String(v));
      }
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    const headers: Record<string, string> = { ...this.auth(), Accept: "application/json" };
    const init: RequestInit = { method, headers };
    if (opts.signal) init.signal = opts.signal;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, "network", `Cannot reach the Muster server at ${this.api}`);
    }
    if (!res.ok) {
      let code: ErrorCode = res.status === 404 ? "not_found" : res.status === 401 ? "unauthorized" : "internal";
      let message = `${method} ${path} failed with HTTP ${res.status}`;
      try {
        const body = (await res.json()) as Partial<ApiErrorBody>;
        if (body.code) code = body.code as ErrorCode;
        if (body.message) message = body.message;
      } catch {
        // not JSON; keep the generic message
      }
      if (res.status === 401) this.unauthorized.forEach((l) => l());
      throw new ApiError(res.status, code, message);
    }
    if (res.status === 204) return undefined as T; // no body (e.g. a save)
    return (await res.json()) as T;
  }

  /** Notified on any 401 so the app can ask for a fresh console link. */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorized.add(listener);
    return () => this.unauthorized.delete(listener);
  }

  info(signal?: AbortSignal): Promise<ServerInfo> {
    return this.request("GET", "/info", { signal });
  }
  listConnections(signal?: AbortSignal): Promise<ConnectionSummary[]> {
    return this.request("GET", "/connections", { signal });
  }
  createConnection(body: CreateConnectionRequest): Promise<CreatedConnection> {
    return this.request("POST", "/connections", { body });
  }
  connection(id: string, signal?: AbortSignal): Promise<ConnectionDetail> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}`, { signal });
  }
  // A connection's lifecycle (crates/server/src/api/lifecycle.rs); each change is audited.
  /** 1 to 100 characters, trimmed; 400 otherwise. */
  renameConnection(id: string, name: string): Promise<ConnectionSummary> {
    return this.request("PATCH", `/connections/${encodeURIComponent(id)}`, { body: { name } });
  }
  /** SCIM answers 503 with Retry-After until resumed; the IdP retries later. */
  pauseConnection(id: string): Promise<ConnectionSummary> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/pause`);
  }
  resumeConnection(id: string): Promise<ConnectionSummary> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/resume`);
  }
  /** A SCIM round trip with a temporary token and a test user, nothing left behind. */
  testConnection(id: string): Promise<ConnectionTestResult> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/test`);
  }
  /** What deleting would do, counted now. */
  connectionDeletion(id: string, signal?: AbortSignal): Promise<ConnectionDeletion> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/deletion`, { signal });
  }
  /** `confirm` must be the connection's name; 400 otherwise, and nothing is deleted. */
  deleteConnection(id: string, confirm: string): Promise<ConnectionDeletion> {
    return this.request("DELETE", `/connections/${encodeURIComponent(id)}`, { body: { confirm } });
  }
  users(id: string, query: UserQuery, signal?: AbortSignal): Promise<UserPage> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/users`, { query, signal });
  }
  user(id: string, uid: string, signal?: AbortSignal): Promise<UserDetail> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/users/${encodeURIComponent(uid)}`, { signal });
  }
  groups(id: string, query: GroupQuery, signal?: AbortSignal): Promise<GroupPage> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/groups`, { query, signal });
  }
  group(id: string, gid: string, signal?: AbortSignal): Promise<GroupDetail> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/groups/${encodeURIComponent(gid)}`, { signal });
  }
  /** A user's history, newest first; `before` is the previous page's `next_before`. */
  userTimeline(id: string, uid: string, query: { before?: number; limit?: number }, signal?: AbortSignal): Promise<StoryPage> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/users/${encodeURIComponent(uid)}/timeline`, { query, signal });
  }
  /** A page of a group's members by userName; `cursor` is the previous page's `next_cursor`. */
  groupMembers(id: string, gid: string, query: { q?: string; cursor?: string; limit?: number }, signal?: AbortSignal): Promise<GroupMemberPage> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/groups/${encodeURIComponent(gid)}/members`, { query, signal });
  }
  log(id: string, query: LogQuery, signal?: AbortSignal): Promise<LogPage> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/log`, { query, signal });
  }
  // Lifecycle and token hardening (crates/server/src/api/manage.rs).
  roles(id: string, signal?: AbortSignal): Promise<RolesView> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/roles`, { signal });
  }
  addRole(id: string, body: RoleInfo): Promise<void> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/roles`, { body });
  }
  previewRoleMappings(id: string, body: SaveMappingsRequest, signal?: AbortSignal): Promise<RoleChangeRow[]> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/roles/preview`, { body, signal });
  }
  saveRoleMappings(id: string, body: SaveMappingsRequest): Promise<RoleChangeRow[]> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/roles/mappings`, { body });
  }
  tokens(id: string, signal?: AbortSignal): Promise<TokenRow[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/tokens`, { signal });
  }
  rotateToken(id: string, graceSeconds: number): Promise<IssuedToken> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/tokens/rotate`, { body: { grace_seconds: graceSeconds } });
  }
  revokeToken(id: string, tid: string): Promise<TokenRow> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/tokens/${encodeURIComponent(tid)}/revoke`);
  }
  // Setup links for the customer's IT admin (crates/server/src/api/setup_links.rs).
  setupLinks(id: string, signal?: AbortSignal): Promise<SetupLinkRow[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/setup-links`, { signal });
  }
  /** A new link; its URL (with the secret) is in this answer only. */
  createSetupLink(id: string, expiresInHours: number): Promise<CreatedSetupLink> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/setup-links`, { body: { expires_in_hours: expiresInHours } });
  }
  revokeSetupLink(id: string, linkId: string): Promise<SetupLinkRow> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/setup-links/${encodeURIComponent(linkId)}/revoke`);
  }
  oauthClient(id: string, signal?: AbortSignal): Promise<OAuthClientView> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/oauth`, { signal });
  }
  saveOAuthSettings(id: string, body: OAuthSettingsBody): Promise<OAuthClientView> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/oauth/settings`, { body });
  }
  issueClientSecret(id: string, lifetimeDays: number): Promise<IssuedClientSecret> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/oauth/secrets`, { body: { lifetime_days: lifetimeDays } });
  }
  revokeClientSecret(id: string, sid: string): Promise<ClientSecretRow> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/oauth/secrets/${encodeURIComponent(sid)}/revoke`);
  }
  webhooks(id: string, signal?: AbortSignal): Promise<WebhookEndpoints> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/webhooks`, { signal });
  }
  createWebhook(id: string, body: CreateWebhookRequest): Promise<WebhookSecret> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/webhooks`, { body });
  }
  /** Server-wide endpoints: every connection's events. */
  serverWebhooks(signal?: AbortSignal): Promise<WebhookEndpoints> {
    return this.request("GET", "/webhooks", { signal });
  }
  createServerWebhook(body: CreateWebhookRequest): Promise<WebhookSecret> {
    return this.request("POST", "/webhooks", { body });
  }
  updateWebhook(wid: string, body: UpdateWebhookRequest): Promise<WebhookEndpoint> {
    return this.request("PATCH", `/webhooks/${encodeURIComponent(wid)}`, { body });
  }
  deleteWebhook(wid: string): Promise<void> {
    return this.request("DELETE", `/webhooks/${encodeURIComponent(wid)}`);
  }
  rotateWebhookSecret(wid: string, overlapSeconds: number): Promise<WebhookSecret> {
    return this.request("POST", `/webhooks/${encodeURIComponent(wid)}/rotate`, { body: { overlap_seconds: overlapSeconds } });
  }
  webhookDeliveries(wid: string, signal?: AbortSignal): Promise<WebhookDelivery[]> {
    return this.request("GET", `/webhooks/${encodeURIComponent(wid)}/deliveries`, { signal });
  }
  resendWebhook(wid: string, deliveryId: number): Promise<Requeued> {
    return this.request("POST", `/webhooks/${encodeURIComponent(wid)}/deliveries/${deliveryId}/resend`);
  }
  replayWebhooks(wid: string, fromSeq: number): Promise<Requeued> {
    return this.request("POST", `/webhooks/${encodeURIComponent(wid)}/replay`, { body: { from_seq: fromSeq } });
  }
  audit(id: string, signal?: AbortSignal): Promise<AuditRow[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/audit`, { signal });
  }
  /** The audit trail across the server and every connection, newest first; pass next_before back as before. */
  auditPage(query: AuditQuery, signal?: AbortSignal): Promise<AuditPage> {
    return this.request("GET", "/audit", { query, signal });
  }
  /** The filtered audit trail as a file (an audited action): the Blob and the server's file name. */
  exportAudit(query: AuditQuery, format: "csv" | "json"): Promise<{ blob: Blob; filename: string }> {
    const q: Query = { ...query, format, before: undefined, limit: undefined };
    return this.download("GET", "/audit/export", { query: q, fallbackName: `muster-audit.${format}`, what: "The export" });
  }
  restoreUser(id: string, uid: string): Promise<UserRow> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/users/${encodeURIComponent(uid)}/restore`);
  }
  /** Brings a deleted group back with its members; 409 if its name is taken, 410 once purged. */
  restoreGroup(id: string, gid: string): Promise<GroupRow> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/groups/${encodeURIComponent(gid)}/restore`);
  }
  attributeMappings(id: string, signal?: AbortSignal): Promise<AttributeMappingRow[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/attribute-mappings`, { signal });
  }
  saveAttributeMappings(id: string, rows: AttributeMappingRow[]): Promise<void> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/attribute-mappings`, { body: rows });
  }
  /** Checks each edited mapping as save would and, given a user, what each yields for them (a missing value is a row too). */
  previewAttributeMappings(id: string, userId: string | null, mappings: AttributeMappingRow[], signal?: AbortSignal): Promise<AttributePreview> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/attribute-mappings/preview`, { body: { user_id: userId, mappings }, signal });
  }
  // Observing provisioning (crates/server/src/api/observe.rs): log across connections, export, activity, triage.
  allLog(query: GlobalLogQuery, signal?: AbortSignal): Promise<LogPage> {
    return this.request("GET", "/log", { query, signal });
  }
  logEntry(rowId: number, signal?: AbortSignal): Promise<LogDetail> {
    return this.request("GET", `/log/${rowId}`, { signal });
  }
  activity(id: string, range: "24h" | "7d", signal?: AbortSignal): Promise<ActivityBucket[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/activity`, { query: { range }, signal });
  }
  /** The sync cycle the IdP is pushing now, if any, and the last ended cycles (crates/server/src/api/sync.rs). */
  syncActivity(id: string, signal?: AbortSignal): Promise<SyncActivity> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/sync`, { signal });
  }
  /** The cadence health's idle rule expects; null minutes = the IdP's default. */
  cadence(id: string, signal?: AbortSignal): Promise<CadenceSetting> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/health/cadence`, { signal });
  }
  /** 1 to 10080 minutes, or null for the IdP's default; anything else is refused with 400. */
  setCadence(id: string, minutes: number | null): Promise<CadenceSetting> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/health/cadence`, { body: { expected_sync_minutes: minutes } });
  }
  /** Days a deleted user or group stays restorable before purge. */
  retention(id: string, signal?: AbortSignal): Promise<RetentionSetting> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/retention`, { signal });
  }
  /** 1 to 90 days; applies to deletions from now on; anything else is refused with 400. */
  setRetention(id: string, days: number): Promise<RetentionSetting> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/retention`, { body: { days } });
  }
  /** One search across every connection (users, groups, log rows); q is 2 to 256 characters, limit 1 to 20 per kind. */
  search(q: string, limit?: number, signal?: AbortSignal): Promise<SearchResults> {
    return this.request("GET", "/search", { query: { q, limit }, signal });
  }
  triage(q: string, connection?: string, signal?: AbortSignal): Promise<TriageReport> {
    return this.request("GET", "/triage", { query: { q, connection }, signal });
  }
  /** The log as a file (an attachment behind the bearer credential, so fetched here). */
  async exportLog(query: GlobalLogQuery & { format: "csv" | "json" }): Promise<Blob> {
    return (await this.download("GET", "/log/export", { query, fallbackName: `muster-log.${query.format}`, what: "The export" })).blob;
  }
  // Deprovisioning evidence (crates/directory/src/evidence.rs, docs/evidence.md).
  evidence(query: EvidenceQuery, signal?: AbortSignal): Promise<EvidenceReport> {
    return this.request("GET", "/evidence", { query, signal });
  }
  /** The report as a file (a plain link cannot send the credential): the Blob and the server's file name. */
  evidenceFile(query: EvidenceQuery, format: EvidenceFormat): Promise<{ blob: Blob; filename: string }> {
    return this.download("GET", "/evidence", { query: { ...query, format }, fallbackName: `muster-evidence.${format}`, what: `The ${format.toUpperCase()} download` });
  }
  // Live demo (crates/server/src/demo.rs): the scripted story, its pace, and its removal.
  demo(signal?: AbortSignal): Promise<DemoState> {
    return this.request("GET", "/demo", { signal });
  }
  startDemo(speed: number): Promise<DemoState> {
    return this.request("POST", "/demo/start", { body: { speed } });
  }
  pauseDemo(): Promise<DemoState> {
    return this.request("POST", "/demo/pause");
  }
  resumeDemo(): Promise<DemoState> {
    return this.request("POST", "/demo/resume");
  }
  demoSpeed(speed: number): Promise<DemoState> {
    return this.request("POST", "/demo/speed", { body: { speed } });
  }
  resetDemo(): Promise<DemoState> {
    return this.request("POST", "/demo/reset");
  }
  // Readiness report (crates/idp/src/check.rs): 5–30 s against a connection or any SCIM URL with its token.
  check(body: CheckRequest, signal?: AbortSignal): Promise<Report> {
    return this.request("POST", "/check", { body, signal });
  }
  // Sign-in (JIT) policy per connection (crates/directory/src/jit.rs).
  jitSettings(id: string, signal?: AbortSignal): Promise<JitSettings> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/jit`, { signal });
  }
  saveJitSettings(id: string, body: JitSettings): Promise<JitSettings> {
    return this.request("PUT", `/connections/${encodeURIComponent(id)}/jit`, { body });
  }
  /** Recent sign-ins whose group claims were not applied, and the count of the last 7 days (`limit: 0` for the count only). */
  flaggedSignins(id: string, limit: number, signal?: AbortSignal): Promise<FlaggedSignIns> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/jit/flagged`, { query: { limit }, signal });
  }
  staleAccounts(id: string, days: number, signal?: AbortSignal): Promise<StaleAccount[]> {
    return this.request("GET", `/connections/${encodeURIComponent(id)}/jit/stale`, { query: { days }, signal });
  }
  deactivateStale(id: string, userIds: string[]): Promise<{ deactivated: number }> {
    return this.request("POST", `/connections/${encodeURIComponent(id)}/jit/deactivate`, { body: { user_ids: userIds } });
  }
  /** The HTML readiness report is a download behind the bearer secret, fetched here and handed back as a Blob. */
  checkHtml(body: CheckRequest): Promise<Blob> {
    return this.checkFile(body, "html");
  }
  /** The readiness report as a PDF (server, date, version, IPSIE level verdict, references per check). */
  checkPdf(body: CheckRequest): Promise<Blob> {
    return this.checkFile(body, "pdf");
  }
  private async checkFile(body: CheckRequest, format: "html" | "pdf"): Promise<Blob> {
    const accept = format === "pdf" ? "application/pdf" : "text/html";
    return (await this.download("POST", `/check/${format}`, { body, accept, fallbackName: `readiness.${format}`, what: `The ${format.toUpperCase()} report` })).blob;
  }
  /** A file behind the credential (exports, reports): fetched here, handed back as a Blob with the server's file name. */
  private async download(
    method: "GET" | "POST",
    path: string,
    opts: { query?: Query; body?: unknown; accept?: string; fallbackName: string; what: string },
  ): Promise<{ blob: Blob; filename: string }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== "") qs.set(k, String(v));
    const headers: Record<string, string> = { ...this.auth(), Accept: opts.accept ?? "*/*" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      const q = qs.toString();
      res = await fetch(`${this.api}${path}${q ? `?${q}` : ""}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch {
      throw new ApiError(0, "network", `Cannot reach the Muster server at ${this.api}`);
    }
    if (!res.ok) {
      if (res.status === 401) this.unauthorized.forEach((l) => l());
      let message = `${opts.what} failed with HTTP ${res.status}`;
      let code: ErrorCode = res.status === 401 ? "unauthorized" : res.status === 404 ? "not_found" : res.status >= 500 ? "internal" : "bad_request";
      try {
        const b = (await res.json()) as Partial<ApiErrorBody>;
        if (b.message) message = b.message;
        if (b.code) code = b.code as ErrorCode;
      } catch {
        // not JSON; keep the generic message
      }
      throw new ApiError(res.status, code, message);
    }
    const named = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "");
    return { blob: await res.blob(), filename: named?.[1] ?? opts.fallbackName };
  }
  /**
   * Opens the live change stream with the credential in a header (EventSource cannot send one, and a
   * credential in a URL ends up in proxy logs). Reconnects by itself; returns a function that closes it.
   */
  openEvents(handlers: { onOpen: () => void; onEvent: (name: string, data: string) => void; onDown: () => void }): () => void {
    const ctrl = new AbortController();
    void fetchEventSource(`${this.api}/events`, {
      headers: { ...this.auth(), Accept: "text/event-stream" },
      signal: ctrl.signal,
      openWhenHidden: true,
      onopen: (res) => {
        if (res.ok) {
          handlers.onOpen();
          return Promise.resolve();
        }
        if (res.status === 401) this.unauthorized.forEach((l) => l());
        // A refusal will not change by retrying: stop, and let the screens poll.
        return Promise.reject(new Error(`events: HTTP ${res.status}`));
      },
      onmessage: (msg) => handlers.onEvent(msg.event || "message", msg.data),
      onerror: (err: unknown) => {
        handlers.onDown();
        if (err instanceof Error && err.message.startsWith("events: HTTP")) throw err;
        return 2000; // retry in 2 s
      },
    }).catch(() => handlers.onDown());
    return () => ctrl.abort();
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.request("GET", "/auth/me", { signal });
  }
  signOut(): Promise<void> {
    return this.request("POST", "/auth/signout");
  }
  mySessions(signal?: AbortSignal): Promise<ConsoleSessionRow[]> {
    return this.request("GET", "/auth/sessions", { signal });
  }
  revokeMySession(id: string): Promise<ConsoleSessionRow> {
    return this.request("POST", `/auth/sessions/${encodeURIComponent(id)}/revoke`);
  }
  listAdmins(signal?: AbortSignal): Promise<AdminRow[]> {
    return this.request("GET", "/team/admins", { signal });
  }
  addAdmin(body: NewAdmin): Promise<EnrolmentIssued> {
    return this.request("POST", "/team/admins", { body });
  }
  changeAdmin(id: string, body: AdminChange): Promise<AdminRow> {
    return this.request("PATCH", `/team/admins/${encodeURIComponent(id)}`, { body });
  }
  reissueEnrolment(id: string): Promise<EnrolmentIssued> {
    return this.request("POST", `/team/admins/${encodeURIComponent(id)}/enrolment`);
  }
  allSessions(signal?: AbortSignal): Promise<ConsoleSessionRow[]> {
    return this.request("GET", "/team/sessions", { signal });
  }
  revokeSession(id: string): Promise<ConsoleSessionRow> {
    return this.request("POST", `/team/sessions/${encodeURIComponent(id)}/revoke`);
  }
  oidcSettings(signal?: AbortSignal): Promise<OidcSettings> {
    return this.request("GET", "/team/oidc", { signal });
  }
  saveOidcSettings(body: OidcSettingsInput): Promise<OidcSettings> {
    return this.request("PUT", "/team/oidc", { body });
  }
  clearOidcSettings(): Promise<OidcSettings> {
    return this.request("DELETE", "/team/oidc");
  }
}
