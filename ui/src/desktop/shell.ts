// The desktop shell's side of the console: which server the window is on, and the shell's commands behind the server switcher.

export type ServerKind = "local" | "remote";
/** `window.__MUSTER__.server`: the server the window is on (absent from an older shell: This computer). */
export type CurrentServer = { kind: ServerKind; name: string; url: string | null };
export type ServerEntry = { id: string; kind: ServerKind; name: string; url: string | null; current: boolean };
export type ServerList = { current: string; servers: ServerEntry[] };
export type CertProblem = "expired" | "not_yet_valid" | "unknown_issuer" | "name_mismatch" | "revoked" | "other";
export type ProbeOutcome =
  | { result: "ok"; version: string; message: string }
  | { result: "unreachable"; message: string }
  | { result: "certificate"; problem: CertProblem; message: string }
  | { result: "not_muster"; message: string }
  | { result: "refused"; message: string };
export type Probed = { url: string; outcome: ProbeOutcome };

export const LOCAL_ID = "local";
const LOCAL_NAME = "This computer";

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
type DesktopHandoff = { api?: string; server?: CurrentServer; switchServer?: (id: string) => Promise<unknown> };

/** Tauri's IPC bridge, present only inside the desktop app's window. */
function tauriInvoke(): Invoke | null {
  const internals = (window as unknown as { __TAURI_INTERNALS__?: { invoke?: Invoke } }).__TAURI_INTERNALS__;
  return typeof internals?.invoke === "function" ? internals.invoke.bind(internals) : null;
}

function handoff(): DesktopHandoff | undefined {
  return (window as unknown as { __MUSTER__?: DesktopHandoff }).__MUSTER__;
}

/** True in the desktop app (the shell injected its handoff and Tauri's IPC is there). */
export function isDesktop(): boolean {
  return tauriInvoke() !== null && handoff() !== undefined;
}

export function currentServer(): CurrentServer {
  return handoff()?.server ?? { kind: "local", name: LOCAL_NAME, url: null };
}

function hostOf(url: string | null): string {
  if (!url) return "";
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What the window title says: "Muster — This computer", "Muster — muster.example.com". */
export function serverTitle(server: CurrentServer): string {
  return `Muster — ${server.kind === "local" ? LOCAL_NAME : hostOf(server.url)}`;
}

/** A shell command's failure (`{code, message}`) or any other rejection, as one sentence. */
export function shellErrorMessage(err: unknown): string {
  if (err && typeof err === "object" && "message" in err) return String(err.message);
  return String(err);
}

function invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const call = tauriInvoke();
  if (!call) return Promise.reject(new Error("only the desktop app can switch servers"));
  return call<T>(cmd, args);
}

export const listServers = () => invoke<ServerList>("list_servers");
export const probeServer = (url: string) => invoke<Probed>("probe_server", { url });
export const addServer = (url: string, name: string) => invoke<ServerList>("add_server", { url, name: name.trim() || null });
export const removeServer = (url: string) => invoke<ServerList>("remove_server", { url });

/** A loopback listener for the identity provider's redirect (RFC 8252), from `oidc_loopback_listen`. */
export type LoopbackListening = { id: string; redirect_uri: string };
/** What the provider sent the system browser back with. */
export type LoopbackCallback =
  | { result: "code"; code: string; state: string }
  | { result: "error"; error: string; description: string | null };

export const oidcLoopbackListen = () => invoke<LoopbackListening>("oidc_loopback_listen");
/** Opens the system browser at the provider and resolves when it comes back (or rejects: cancelled, timeout). */
export const oidcLoopbackWait = (id: string, authorizationUrl: string) => invoke<LoopbackCallback>("oidc_loopback_wait", { id, authorizationUrl });
export const oidcLoopbackCancel = (id: string) => invoke<null>("oidc_loopback_cancel", { id });

/** Puts the window on a server and reloads the console against it. */
export async function switchServer(id: string): Promise<void> {
  const h = handoff();
  // The shell's own helper also keeps the new handoff for the reload.
  if (h?.switchServer) await h.switchServer(id);
  else await invoke("switch_server", { id });
  window.location.reload();
}
