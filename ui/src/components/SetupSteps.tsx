// IdP-specific setup instructions naming the exact fields to fill in the IdP's admin console.
import type { ReactNode } from "react";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { entraTenantUrl } from "../lib/format";
import { CopyField } from "./CopyButton";

function Step({ field, children }: { field: string; children: ReactNode }) {
  return (
    <li>
      <span className="field-name">“{field}”</span>
      <div>{children}</div>
    </li>
  );
}

/** The OAuth token endpoint, on the same origin as the SCIM base URL. */
function tokenEndpoint(scimUrl: string): string {
  return scimUrl.replace(/\/scim\/v2\/.*$/, "/oauth/token");
}

/** The connection's OAuth client identifier: `mc_` and its id without hyphens. */
function clientId(connectionId: string): string {
  return `mc_${connectionId.replace(/-/g, "")}`;
}

const TOKEN_NOTE = "the bearer token shown when this connection was created (rotate it if it was lost)";
const TOKEN_SENTENCE = "The bearer token shown once when this connection was created (rotate it if it was lost).";

/**
 * The steps for one IdP. `token`, when given (the setup page's one reveal), is shown in the
 * token fields; otherwise they point at the token shown when the connection was created. Entra's
 * OAuth client-credentials fields show `oauth` when given (the setup page), else the connection's
 * client identifier from its id (the console).
 */
/** OAuth client credentials revealed on the setup page, shown in Entra's OAuth fields. */
export type OAuthCredential = { token_endpoint: string; client_id: string; client_secret: string };

export function SetupSteps({
  connection,
  token,
  oauth,
}: {
  connection: Pick<ConnectionSummary, "idp" | "scim_url"> & { id?: string };
  token?: string;
  oauth?: OAuthCredential;
}) {
  const url = connection.scim_url;
  const tokenField = (label: string) => (token ? <CopyField value={token} label={label} testId="setup-token" /> : null);
  const tokenNote = token ? "the token below" : TOKEN_NOTE;
  switch (connection.idp) {
    case "okta":
      return (
        <div data-testid="setup-okta">
          <p>
            In Okta: <em>Applications → your app → General → App Settings</em>, enable SCIM provisioning, then on the
            <em> Provisioning</em> tab set:
          </p>
          <ol className="steps">
            <Step field="SCIM connector base URL">
              <CopyField value={url} label="SCIM connector base URL" />
            </Step>
            <Step field="Unique identifier field for users">
              <code>userName</code>
            </Step>
            <Step field="Supported provisioning actions">
              Push New Users, Push Profile Updates, Push Groups
            </Step>
            <Step field="Authentication Mode">
              HTTP Header — <code>Authorization: Bearer &lt;token&gt;</code>, with {tokenNote}. (Okta’s “OAuth 2” mode uses the authorization code grant, which
              Muster does not offer; its token endpoint serves the client credentials grant.)
              {tokenField("Okta bearer token")}
            </Step>
          </ol>
          <p className="muted">Then <em>Test Connector Configuration</em>, save, and enable “Create Users”, “Update User Attributes” and “Deactivate Users” under <em>To App</em>.</p>
        </div>
      );
    case "entra":
      return (
        <div data-testid="setup-entra">
          <p>
            In Microsoft Entra ID: <em>Enterprise applications → your app → Provisioning</em>, mode <em>Automatic</em>, then under
            <em> Admin Credentials</em>:
          </p>
          <ol className="steps">
            <Step field="Tenant URL">
              <CopyField value={entraTenantUrl(url)} label="Entra tenant URL" testId="entra-tenant-url" />
              <p className="hint">
                Recommended: the <code>?aadOptscim062020</code> flag makes Entra send RFC 7644-compliant PATCH requests
                (proper <code>op</code> casing, boolean <code>active</code>, standard remove-member paths) instead of its legacy shapes. Muster
                accepts both, but the compliant shape is the one Microsoft keeps supporting. Without the flag, use <code>{url}</code>.
              </p>
            </Step>
            <Step field="Secret Token">{tokenField("Entra secret token") ?? TOKEN_SENTENCE}</Step>
          </ol>
          {oauth || (connection.id && !token) ? (
            <>
              <p data-testid="setup-entra-oauth">
                Or, with <em>OAuth 2.0 client credentials</em> (what Microsoft requires of gallery apps), set:
              </p>
              <ol className="steps">
                <Step field="Tenant URL">
                  <CopyField value={entraTenantUrl(url)} label="Entra tenant URL" />
                </Step>
                <Step field="Token endpoint">
                  <CopyField value={oauth?.token_endpoint ?? tokenEndpoint(url)} label="token endpoint" testId="entra-token-endpoint" />
                </Step>
                <Step field="Client identifier">
                  <CopyField value={oauth?.client_id ?? clientId(connection.id ?? "")} label="client identifier" testId="entra-client-id" />
                </Step>
                <Step field="Client secret">
                  {oauth ? (
                    <CopyField value={oauth.client_secret} label="client secret" testId="entra-client-secret" />
                  ) : (
                    "A client secret issued under Tokens → OAuth client credentials (shown once)."
                  )}
                </Step>
              </ol>
            </>
          ) : null}
          <p className="muted">Then <em>Test Connection</em>, save, review the attribute mappings and turn provisioning <em>On</em>.</p>
        </div>
      );
    case "google":
      return (
        <div data-testid="setup-google">
          <p>
            In the Google Admin console: <em>Apps → Web and mobile apps → your app → Auto-provisioning</em>. Google Workspace provisions
            <strong> users only — no groups</strong>.
          </p>
          <ol className="steps">
            <Step field="Endpoint URL">
              <CopyField value={url} label="SCIM endpoint URL" />
            </Step>
            <Step field="Access token">{tokenField("Google access token") ?? TOKEN_SENTENCE}</Step>
          </ol>
          <p className="muted">Map userName to the primary email, then turn auto-provisioning on.</p>
        </div>
      );
    case "generic":
      return (
        <div data-testid="setup-generic">
          <p>Any SCIM 2.0 client works. Configure:</p>
          <ol className="steps">
            <Step field="Base URL">
              <CopyField value={url} label="SCIM base URL" />
            </Step>
            <Step field="Authentication">
              Bearer token: <code>Authorization: Bearer &lt;token&gt;</code>, with {tokenNote}.
              {tokenField("SCIM bearer token")}
            </Step>
          </ol>
          <p className="muted">
            Resources live at <code>/Users</code> and <code>/Groups</code>; discovery at <code>/ServiceProviderConfig</code>, <code>/ResourceTypes</code>,{" "}
            <code>/Schemas</code>. Send <code>Content-Type: application/scim+json</code>.
          </p>
        </div>
      );
  }
}
