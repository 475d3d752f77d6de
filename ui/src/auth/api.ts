// The admin API's public calls, made before anyone is signed in: password sign-in and enrolment.
import type { ApiError as ApiErrorBody } from "../api/generated/ApiError";
import type { AdminRow } from "../api/generated/AdminRow";
import type { EnrolmentView } from "../api/generated/EnrolmentView";
import type { SignedIn } from "../api/generated/SignedIn";

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
