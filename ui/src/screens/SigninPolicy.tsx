// Sign-in policy radio cards: the four JIT/SCIM precedences, each with what it means in practice.
import type { Policy } from "../api/generated/Policy";

const POLICIES: { value: Policy; title: string; body: string; warning?: string }[] = [
  {
    value: "jit_only",
    title: "JIT only",
    body: "Accounts are created at first sign-in. There is no SCIM: removing access is NOT automatic — see stale accounts below.",
  },
  {
    value: "scim_authoritative",
    title: "SCIM authoritative",
    body: "Only people the IdP provisioned over SCIM can sign in; sign-ins never change their attributes.",
  },
  {
    value: "scim_first",
    title: "SCIM first, JIT fallback",
    body: "Sign-in creates people SCIM hasn't sent yet; when SCIM later sends the same person (same externalId) the records merge and SCIM owns the attributes from then on.",
  },
  {
    value: "jit_overwrites",
    title: "JIT overwrites",
    body: "Sign-in claims overwrite attributes.",
    warning: "The next SCIM push will overwrite them back.",
  },
];

export function SigninPolicy({ value, onChange, resync, onResync }: { value: Policy; onChange: (p: Policy) => void; resync: boolean; onResync: (v: boolean) => void }) {
  return (
    <fieldset className="policy-cards" data-testid="signin-policy">
      <legend className="section-title">Who may sign in, and who owns the attributes</legend>
      {POLICIES.map((p) => (
        <label key={p.value} className={`policy-card${value === p.value ? " selected" : ""}`} data-testid={`policy-${p.value}`}>
          <span className="policy-card-head">
            <input type="radio" name="jit-policy" value={p.value} checked={value === p.value} onChange={() => onChange(p.value)} data-testid={`policy-radio-${p.value}`} />
            <strong>{p.title}</strong>
          </span>
          <span className="policy-card-body">{p.body}</span>
          {p.warning ? <span className="warning policy-warning">{p.warning}</span> : null}
          {p.value === "jit_only" && value === "jit_only" ? (
            <span className="segmented policy-resync" role="radiogroup" aria-label="When to update attributes">
              <button type="button" role="radio" aria-checked={resync} className={resync ? "btn btn-small active" : "btn btn-small"} onClick={() => onResync(true)} data-testid="resync-every">
                Update attributes at every sign-in
              </button>
              <button type="button" role="radio" aria-checked={!resync} className={!resync ? "btn btn-small active" : "btn btn-small"} onClick={() => onResync(false)} data-testid="resync-creation">
                Only at creation
              </button>
            </span>
          ) : null}
        </label>
      ))}
    </fieldset>
  );
}
