#!/usr/bin/env python3
"""Small concurrent GET driver for bench/load.sh (stdlib only).

readload.py --base http://127.0.0.1:PORT --auth "Bearer T" --name NAME \
            --paths-file FILE | --path PATH  [--threads 8] [--max-requests 2000] [--max-seconds 20]

Each thread keeps one HTTP/1.1 keep-alive connection and cycles through the paths
(path i goes to request i). Stops at --max-requests or --max-seconds, whichever first.
Prints one JSON line: name, requests, non-2xx count, rps, p50/p90/p99/max ms, mean body bytes.
"""
import argparse, http.client, json, threading, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--base", required=True)
ap.add_argument("--auth", required=True)
ap.add_argument("--name", required=True)
ap.add_argument("--path", action="append", default=[])
ap.add_argument("--paths-file")
ap.add_argument("--threads", type=int, default=8)
ap.add_argument("--max-requests", type=int, default=2000)
ap.add_argument("--max-seconds", type=float, default=20.0)
a = ap.parse_args()

paths = list(a.path)
if a.paths_file:
    with open(a.paths_file) as f:
        paths += [l.rstrip("\n") for l in f if l.strip()]
assert paths, "no paths"
u = urllib.parse.urlsplit(a.base)
prefix = u.path.rstrip("/")
lock = threading.Lock()
state = {"next": 0}
lat, statuses, sizes = [], {}, []
deadline = time.monotonic() + a.max_seconds


def take():
    with lock:
        i = state["next"]
        if i >= a.max_requests or time.monotonic() > deadline:
            return None
        state["next"] = i + 1
        return i


def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    mine, my_status, my_sizes = [], {}, []
    while True:
        i = take()
        if i is None:
            break
        p = prefix + paths[i % len(paths)]
        t0 = time.perf_counter()
        try:
            conn.request("GET", p, headers={"Authorization": a.auth, "Accept": "application/scim+json"})
            r = conn.getresponse()
            body = r.read()
            st = str(r.status)
        except Exception as e:  # transport error: count it and reconnect
            st = "transport"
            body = b""
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        mine.append((time.perf_counter() - t0) * 1000.0)
        my_status[st] = my_status.get(st, 0) + 1
        my_sizes.append(len(body))
    conn.close()
    with lock:
        lat.extend(mine)
        sizes.extend(my_sizes)
        for k, v in my_status.items():
            statuses[k] = statuses.get(k, 0) + v


start = time.monotonic()
ts = [threading.Thread(target=worker) for _ in range(a.threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - start
lat.sort()


def pct(q):
    if not lat:
        return None
    return round(lat[min(len(lat) - 1, int(q * len(lat)))], 2)


print(json.dumps({
    "name": a.name,
    "requests": len(lat),
    "by_status": statuses,
    "threads": a.threads,
    "elapsed_s": round(elapsed, 2),
    "rps": round(len(lat) / elapsed, 1) if elapsed else None,
    "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
    "max_ms": round(lat[-1], 2) if lat else None,
    "mean_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
}))
