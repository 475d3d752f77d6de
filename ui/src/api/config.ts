// Resolves where the admin API lives and which credential to send: the desktop shell's injection (its own
// server's admin secret, or a team server's address), the `#secret=` console link, or a signed-in session
// kept per server. Also takes a `#enrol=` link. Credentials leave the address bar at once and never go in a URL.

export type ConsoleConfig = {
  api: string;
  /** `Authorization: Bearer` value: the admin secret or a session (`mas_…`); null until signed in. */
  credential: string | null;
  /** An enrolment secret (`mae_…`) from a `#enrol=` link, to set a password with. */
  enrolment: string | null;
};

declare global {
  interface Window {
    __MUSTER__?: { api?: string; secret?: string };
  }
}

const SECRET_KEY = "muster.secret";
const sessionKey = (api: string) => `muster.session:${api}`;

/** Reads one parameter from the fragment, removes it from the address bar, and returns it. */
function takeFromFragment(name: string): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith("#")) return null;
  const params = new URLSearchParams(hash.slice(1));
  const value = params.get(name);
  if (!value) return null;
  params.delete(name);
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(window.history.state, "", url);
  return value;
}

function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // storage unavailable (private mode): the credential still works for this page load.
  }
}

export function forgetSecret(): void {
  write(() => sessionStorage, SECRET_KEY, null);
}

/** Keeps a signed-in session for this server, across reloads and restarts of the app (it expires on the server). */
export function rememberSession(api: string, session: string | null): void {
  write(() => localStorage, sessionKey(api), session);
}

export function resolveConfig(): ConsoleConfig {
  const enrolment = takeFromFragment("enrol");
  const injected = window.__MUSTER__;
  if (injected?.api) {
    const api = injected.api.replace(/\/+$/, "");
    return { api, credential: injected.secret ?? read(() => localStorage, sessionKey(api)), enrolment };
  }
  const api = `${window.location.origin}/api`;
  const secret = takeFromFragment("secret");
  if (secret) write(() => sessionStorage, SECRET_KEY, secret);
  const credential = secret ?? read(() => sessionStorage, SECRET_KEY) ?? read(() => localStorage, sessionKey(api));
  return { api, credential, enrolment };
}
