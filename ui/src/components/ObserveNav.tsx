// Header links to the cross-connection screens (provisioning log, triage, readiness, evidence, audit, webhooks, and the team for owners) and the "/" shortcut to the triage search.
import { useEffect } from "react";
import { NavLink, useNavigate } from "react-router";
import { useCan } from "../auth/me";

export const TRIAGE_INPUT_ID = "triage-search";

function typingIn(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

export function ObserveNav() {
  const navigate = useNavigate();
  const canTeam = useCan("team");
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return;
      e.preventDefault();
      const input = document.getElementById(TRIAGE_INPUT_ID);
      if (input) input.focus();
      else void navigate("/triage", { state: { focus: true } });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);
  return (
    <nav className="topnav" aria-label="Console sections">
      <NavLink to="/" end className="topnav-link" data-testid="nav-connections">
        Connections
      </NavLink>
      <NavLink to="/log" className="topnav-link" data-testid="nav-log">
        Provisioning log
      </NavLink>
      <NavLink to="/triage" className="topnav-link" data-testid="nav-triage" title="Find out why a user is missing (press /)">
        Triage <kbd>/</kbd>
      </NavLink>
      <NavLink to="/demo" className="topnav-link" data-testid="nav-demo">
        Live demo
      </NavLink>
      <NavLink to="/readiness" className="topnav-link" data-testid="nav-readiness">
        Readiness
      </NavLink>
      <NavLink to="/evidence" className="topnav-link" data-testid="nav-evidence" title="Proof that access is removed when people leave">
        Evidence
      </NavLink>
      <NavLink to="/audit" className="topnav-link" data-testid="nav-audit" title="Every admin action: who, what, from where">
        Audit
      </NavLink>
      <NavLink to="/webhooks" className="topnav-link" data-testid="nav-webhooks" title="Webhook endpoints that receive every connection's changes">
        Webhooks
      </NavLink>
      {canTeam ? (
        <NavLink to="/team" className="topnav-link" data-testid="nav-team" title="The people who use this console, their roles and sessions">
          Team
        </NavLink>
      ) : null}
    </nav>
  );
}
