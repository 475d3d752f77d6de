// The setup page's client for `/setup/v1`: every call carries the link's secret, nothing else.
import type { SetupCredential } from "../api/generated/SetupCredential";
import type { SetupCredentialKind } from "../api/generated/SetupCredentialKind";
import type { SetupPage } from "../api/generated/SetupPage";

/** A refusal the page explains: 404 not a link, 409 already shown, 410 revoked or expired. */
export class SetupError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "SetupError";
    this.status = status;
  }
}

/** The link's secret from the address's fragment (`/setup#msl_…`), which browsers never send to a server. */
export function linkSecret(): string | null {
  const fragment = window.location.hash.replace(/^#/, "");
  return /^msl_[0-9a-f]{64}$/.test(fragment) ? fragment : null;
}

async function call<T>(secret: string, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  const headers: Record<string, string> = { Authorization: `Bearer ${secret}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    res = await fetch(`/setup/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    throw new SetupError(0, "Muster cannot be reached; check your network and reload.");
  }
  const answer: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = answer && typeof answer === "object" && "message" in answer ? String(answer.message) : res.statusText;
    throw new SetupError(res.status, message);
  }
  return answer as T;
}

export const setupApi = {
  view: (secret: string) => call<SetupPage>(secret, "GET", "/link"),
  reveal: (secret: string, kind: SetupCredentialKind) => call<SetupCredential>(secret, "POST", "/link/reveal", { kind }),
};
