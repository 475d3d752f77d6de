// The admin API's public calls, made before anyone is signed in: the sign-in methods offered, password and
// identity-provider sign-in, and enrolment.
import type { ApiError as ApiErrorBody } from "../api/generated/ApiError";
import type { AdminRow } from "../api/generated/AdminRow";
import type { EnrolmentView } from "../api/generated/EnrolmentView";
import type { OidcStarted } from "../api/generated/OidcStarted";
import type { SignedIn } from "../api/generated/SignedIn";
import type { SignInProviders } from "../api/generated/SignInProviders";

/** A refused call: the server's code (e.g. `totp_required`, `bad_credentials`) and its message. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function post<T>(api: string, path: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${api}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new AuthError(0, "network", `Cannot reach the Muster server at ${api}`);
  }
  if (!res.ok) {
    let err: Partial<ApiErrorBody> = {};
    try {
      err = (await res.json()) as Partial<ApiErrorBody>;
    } catch {
      // not JSON
    }
    throw new AuthError(res.status, err.code ?? "internal", err.message ?? `HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

export function signInWithPassword(api: string, email: string, password: string, totp?: string): Promise<SignedIn> {
  return post(api, "/auth/password", { email, password, totp: totp || null });
}

export function lookUpEnrolment(api: string, enrolment: string): Promise<EnrolmentView> {
  return post(api, "/auth/enrolment", { enrolment });
}

export function enrol(api: string, body: { enrolment: string; password: string; totp_seed?: string; totp_code?: string }): Promise<AdminRow> {
  return post(api, "/auth/enrol", body);
}

/** How this server lets people sign in; a server that cannot say offers passwords only. */
export async function signInProviders(api: string): Promise<SignInProviders> {
  try {
    const res = await fetch(`${api}/auth/providers`, { headers: { Accept: "application/json" } });
    if (res.ok) return (await res.json()) as SignInProviders;
  } catch {
    // an older server, or unreachable: the password form still works
  }
  return { password: true, oidc: null };
}

/** Starts an identity-provider sign-in that comes back to `redirectUri`; the answer is where to send the browser. */
export function startOidcSignIn(api: string, redirectUri: string): Promise<OidcStarted> {
  return post(api, "/auth/oidc/start", { redirect_uri: redirectUri });
}

export function finishOidcSignIn(api: string, state: string, code: string): Promise<SignedIn> {
  return post(api, "/auth/oidc/finish", { state, code });
}

/** The provider's `error` (RFC 6749 §4.1.2.1) as a sentence. */
export function describeProviderError(error: string, described: string | null): string {
  return error === "access_denied"
    ? `Your identity provider did not sign you in${described ? `: ${described}` : "."}`
    : `Your identity provider refused the sign-in (${error})${described ? `: ${described}` : ""}`;
}
