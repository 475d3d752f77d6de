// The setup page's client for `/setup/v1`: every call carries the link's secret, nothing else.
import type { SetupCredential } from "../api/generated/SetupCredential";
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

async function call<T>(secret: string, method: "GET" | "POST", path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/setup/v1${path}`, { method, headers: { Authorization: `Bearer ${secret}` }, cache: "no-store" });
  } catch {
    throw new SetupError(0, "Muster cannot be reached; check your network and reload.");
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = body && typeof body === "object" && "message" in body ? String(body.message) : res.statusText;
    throw new SetupError(res.status, message);
  }
  return body as T;
}

export const setupApi = {
  view: (secret: string) => call<SetupPage>(secret, "GET", "/link"),
  reveal: (secret: string) => call<SetupCredential>(secret, "POST", "/link/reveal"),
};
