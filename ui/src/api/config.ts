// Resolves where the admin API lives and which secret to send: Tauri injection, else URL fragment / sessionStorage.

export type ConsoleConfig = { api: string; secret: string };

declare global {
  interface Window {
    __MUSTER__?: { api?: string; secret?: string };
  }
}

const STORAGE_KEY = "muster.secret";

/** Reads `#secret=...` once, keeps it in sessionStorage and strips it from the address bar. */
function takeSecretFromFragment(): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith("#")) return null;
  const params = new URLSearchParams(hash.slice(1));
  const secret = params.get("secret");
  if (!secret) return null;
  try {
    sessionStorage.setItem(STORAGE_KEY, secret);
  } catch {
    // sessionStorage unavailable (private mode); the secret still works for this page load.
  }
  params.delete("secret");
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(window.history.state, "", url);
  return secret;
}

function storedSecret(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function forgetSecret(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/** Returns null when no secret is known: the console then asks for the link printed by `muster serve`. */
export function resolveConfig(): ConsoleConfig | null {
  const injected = window.__MUSTER__;
  if (injected?.api && injected.secret) {
    return { api: injected.api.replace(/\/+$/, ""), secret: injected.secret };
  }
  const secret = takeSecretFromFragment() ?? storedSecret();
  if (!secret) return null;
  return { api: `${window.location.origin}/api`, secret };
}
