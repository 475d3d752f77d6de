// Entry point: resolves API address and secret, then mounts the console (or the "need a console link" screen).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MusterClient } from "./api/client";
import { resolveConfig } from "./api/config";
import { App } from "./App";
import { NoSecretScreen } from "./screens/NoSecretScreen";
import { SetupPage } from "./setup/SetupPage";
import "./styles/app.css";

// A shell that opens ".../index.html" gets the connections screen, not "not found".
if (window.location.pathname.endsWith("/index.html")) {
  window.history.replaceState(null, "", window.location.pathname.slice(0, -"index.html".length) + window.location.search + window.location.hash);
}

// A setup link (`/setup#msl_…`) opens the customer's IT admin's page: no console, no admin secret.
const onSetupPage = /\/setup\/?$/.test(window.location.pathname);
const config = onSetupPage ? null : resolveConfig();
if (!config && !onSetupPage) {
  // Pasting the console link into this same tab changes only the fragment: no reload happens by itself.
  window.addEventListener("hashchange", () => {
    if (window.location.hash.includes("secret=")) window.location.reload();
  });
}
const root = createRoot(document.getElementById("root") as HTMLElement);
root.render(
  <StrictMode>{onSetupPage ? <SetupPage /> : config ? <App client={new MusterClient(config)} /> : <NoSecretScreen reason="missing" />}</StrictMode>,
);
