// Team screen (owners): the accounts with their role and status, adding a person (enrolment link shown once), role changes,
// disabling, fresh enrolment links, every live console session with Revoke, and the identity provider people sign in with.
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { AdminRow } from "../api/generated/AdminRow";
import type { EnrolmentIssued } from "../api/generated/EnrolmentIssued";
import type { Role } from "../api/generated/Role";
import { CopyButton } from "../components/CopyButton";
import { SessionsTable } from "../components/SessionsTable";
import { OidcSettingsCard } from "./OidcSettingsCard";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useCan } from "../auth/me";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { ROLES, needsRole } from "../lib/roles";

function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 409) return `Refused: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

function status(a: AdminRow): "invited" | "active" | "disabled" {
  if (a.disabled) return "disabled";
  return a.enrolled ? "active" : "invited";
}

/** An enrolment link: shown this once, with a copy button and its expiry. */
function EnrolmentOnce({ issued, onDone }: { issued: EnrolmentIssued; onDone: () => void }) {
  return (
    <div className="alert" role="status" data-testid="enrolment-once">
      <p>
        <strong>Enrolment link for {issued.admin.email}</strong> — send it to them; Muster will not show it again. It works once and expires{" "}
        <Time value={issued.expires_at} testId="enrolment-expires" />.
      </p>
      <p>
        <code data-testid="enrolment-url">{issued.url}</code> <CopyButton text={issued.url} label="enrolment link" testId="enrolment-copy" />
      </p>
      <button type="button" className="btn btn-small" onClick={onDone} data-testid="enrolment-done">
        Done
      </button>
    </div>
  );
}

function AddPerson({ onIssued }: { onIssued: (e: EnrolmentIssued) => void }) {
  const client = useClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onIssued(await client.addAdmin({ email: email.trim(), name: name.trim() || null, role }));
      setEmail("");
      setName("");
      setRole("viewer");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="toolbar" onSubmit={(e) => void submit(e)} data-testid="team-add">
      <label>
        Email <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} data-testid="team-add-email" />
      </label>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} data-testid="team-add-name" />
      </label>
      <label>
        Role{" "}
        <select value={role} onChange={(e) => setRole(e.target.value as Role)} data-testid="team-add-role">
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid="team-add-submit">
        Add person
      </button>
      {error ? (
        <span className="form-error" role="alert" data-testid="team-add-error">
          {error}
        </span>
      ) : null}
    </form>
  );
}

function AccountRow({ a, onChanged, onIssued, onError }: { a: AdminRow; onChanged: () => void; onIssued: (e: EnrolmentIssued) => void; onError: (m: string | null) => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const run = (p: Promise<unknown>) => {
    setBusy(true);
    onError(null);
    p.then(
      () => {
        setBusy(false);
        onChanged();
      },
      (e: unknown) => {
        setBusy(false);
        onError(`${a.email}: ${errorText(e)}`);
        onChanged();
      },
    );
  };
  const st = status(a);
  return (
    <tr data-testid="team-row" data-email={a.email} data-role={a.role} data-status={st}>
      <td>{a.email}</td>
      <td>{a.name ?? <span className="muted">—</span>}</td>
      <td>
        <select
          value={a.role}
          disabled={busy}
          aria-label={`Role of ${a.email}`}
          data-testid="team-role"
          onChange={(e) => {
            const role = e.target.value as Role;
            if (a.role === "owner" && role !== "owner" && !window.confirm(`Make ${a.email} ${role}? They will no longer manage the team.`)) {
              e.target.value = a.role;
              return;
            }
            run(client.changeAdmin(a.id, { role, disabled: null }));
          }}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td>
        <span className={`badge badge-${st}`} data-testid="team-status">
          {st}
        </span>
      </td>
      <td>{a.totp ? "yes" : <span className="muted">no</span>}</td>
      <td>{a.oidc_linked ? "linked" : <span className="muted">no</span>}</td>
      <td>
        <Time value={a.last_sign_in_at} />
      </td>
      <td className="actions">
        <button type="button" className="btn btn-small" disabled={busy} data-testid={a.disabled ? "team-enable" : "team-disable"} onClick={() => run(client.changeAdmin(a.id, { role: null, disabled: !a.disabled }))}>
          {a.disabled ? "Enable" : "Disable"}
        </button>{" "}
        <button
          type="button"
          className="btn btn-small"
          disabled={busy || a.disabled}
          title="A fresh one-time link to set a password (the old one stops working)"
          data-testid="team-reissue"
          onClick={() => run(client.reissueEnrolment(a.id).then(onIssued))}
        >
          New enrolment link
        </button>
      </td>
    </tr>
  );
}

export function TeamScreen() {
  const client = useClient();
  const canTeam = useCan("team");
  const loadAdmins = useCallback((signal: AbortSignal) => client.listAdmins(signal), [client]);
  const loadSessions = useCallback((signal: AbortSignal) => client.allSessions(signal), [client]);
  const admins = useAsync(loadAdmins, "admins");
  const sessions = useAsync(loadSessions, "sessions");
  const [issued, setIssued] = useState<EnrolmentIssued | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = () => {
    admins.reload();
    sessions.reload();
  };

  if (!canTeam) {
    return (
      <section className="page" data-testid="team-screen">
        <EmptyState title="Only owners manage the team" testId="team-forbidden">
          <p>{needsRole("team")}.</p>
        </EmptyState>
      </section>
    );
  }

  let table;
  if (!admins.data) {
    table = admins.error ? <ErrorState error={admins.error} onRetry={admins.reload} what="the team" /> : <Skeleton rows={3} cols={7} />;
  } else {
    table = (
      <div className="card flush table-scroll">
        <table className="dense" data-testid="team-table">
          <thead>
            <tr>
              <th>Email</th>
              <th>Name</th>
              <th>Role</th>
              <th>Status</th>
              <th>TOTP</th>
              <th>Identity provider</th>
              <th>Last sign-in</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {admins.data.map((a) => (
              <AccountRow key={a.id} a={a} onChanged={reload} onIssued={setIssued} onError={setError} />
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  let live;
  if (!sessions.data) {
    live = sessions.error ? <ErrorState error={sessions.error} onRetry={sessions.reload} what="console sessions" /> : <Skeleton rows={2} cols={6} />;
  } else if (sessions.data.length === 0) {
    live = <EmptyState title="No one is signed in" testId="team-sessions-empty" />;
  } else {
    live = (
      <SessionsTable
        sessions={sessions.data}
        showPerson
        revokeLabel="Revoke"
        testId="team-sessions"
        onRevoke={async (s) => {
          await client.revokeSession(s.id);
          sessions.reload();
        }}
      />
    );
  }

  return (
    <section className="page" aria-labelledby="team-title" data-testid="team-screen">
      <div className="page-head">
        <h1 id="team-title">Team</h1>
      </div>
      <p className="muted small">People who may use this console, and what their role lets them do. Role changes and disabling take effect on their next request; disabling also ends their sessions.</p>
      <AddPerson
        onIssued={(e) => {
          setIssued(e);
          admins.reload();
        }}
      />
      {issued ? <EnrolmentOnce issued={issued} onDone={() => setIssued(null)} /> : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="team-error">
          {error}
        </p>
      ) : null}
      {table}
      <h2>Console sessions</h2>
      {live}
      <h2>Identity provider</h2>
      <OidcSettingsCard />
    </section>
  );
}
