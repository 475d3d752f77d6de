// Entry point: resolves the API address and credential, then mounts the console (sign-in, enrolment or the console itself).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { resolveConfig } from "./api/config";
import { ConsoleRoot } from "./auth/ConsoleRoot";
import { SetupPage } from "./setup/SetupPage";
import "./styles/app.css";

// A shell that opens ".../index.html" gets the connections screen, not "not found".
if (window.location.pathname.endsWith("/index.html")) {
  window.history.replaceState(null, "", window.location.pathname.slice(0, -"index.html".length) + window.location.search + window.location.hash);
}

// A setup link (`/setup#msl_…`) opens the customer's IT admin's page: no console, no admin secret.
const onSetupPage = /\/setup\/?$/.test(window.location.pathname);
const config = onSetupPage ? null : resolveConfig();
if (!onSetupPage) {
  // Pasting a console or enrolment link into this same tab changes only the fragment: no reload happens by itself.
  window.addEventListener("hashchange", () => {
    if (/(secret|enrol)=/.test(window.location.hash)) window.location.reload();
  });
}
const root = createRoot(document.getElementById("root") as HTMLElement);
root.render(
  <StrictMode>{config ? <ConsoleRoot config={config} /> : <SetupPage />}</StrictMode>,
);
