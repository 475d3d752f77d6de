#!/usr/bin/env python3
"""analyze_e2e.py DB SIMULATE_JSON: phases of a `muster simulate` run from the provisioning log
(server-side `at` times; every SCIM request leaves one row). Note: a write row's duration_ms is
taken before the writer commits, so server p50/p99 of writes exclude queueing and COMMIT; use
the client latency from simulate for end-to-end figures. Prints one JSON line."""
import json, sqlite3, sys
from datetime import datetime
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
sim = json.load(open(sys.argv[2]))
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def phase(where):
    n, a, b = db.execute(f"SELECT count(*), min(at), max(at) FROM provisioning_log WHERE {where}").fetchone()
    d = db.execute(f"SELECT duration_ms FROM provisioning_log WHERE {where} ORDER BY duration_ms").fetchall()
    span = (t(b) - t(a)) if n else 0
    p = lambda q: round(d[min(len(d) - 1, int(q * len(d)))][0], 2) if d else None
    return {"rows": n, "span_s": round(span, 2), "per_s": round(n / span, 1) if span else None,
            "server_p50_ms": p(.5), "server_p99_ms": p(.99)}
creates = phase("method='POST' AND resource_type='User' AND status=201")
first, last = db.execute("SELECT min(at), max(at) FROM provisioning_log WHERE method='POST' AND resource_type='User'").fetchone()
user_phase = phase(f"at BETWEEN '{first}' AND '{last}'")
out = {
  "simulate": {k: sim.get(k) for k in ("requests", "by_status", "rate_limited", "throughput_rps", "latency_ms", "elapsed_ms")},
  "failures": len(sim.get("failures", [])),
  "creates": creates,
  "user_phase_all_requests": user_phase,
  "user_gets": phase(f"method='GET' AND at BETWEEN '{first}' AND '{last}'"),
  "group_patches": phase("method='PATCH' AND resource_type='Group'"),
  "users_in_db": db.execute("SELECT count(*) FROM users").fetchone()[0],
  "memberships": db.execute("SELECT count(*) FROM memberships").fetchone()[0] if db.execute("SELECT 1 FROM sqlite_master WHERE name='memberships'").fetchone() else None,
  "log_rows": db.execute("SELECT count(*) FROM provisioning_log").fetchone()[0],
}
print(json.dumps(out))
