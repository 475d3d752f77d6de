#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests: initdb + pg_ctl in a directory of its own, on a
# loopback port, trust authentication for the `muster` role (loopback only), never a system
# service. As root the cluster runs as the `postgres` user (initdb refuses root).
#
#   scripts/pg.sh start DIR [PORT] [WATCH_PID]  prints MUSTER_TEST_POSTGRES=postgres://…
#   scripts/pg.sh stop DIR
#
# With WATCH_PID the cluster stops itself once that process is gone, so a test run that is
# killed leaves no server behind. With PG_SSL=1 the server speaks TLS too, with a certificate
# for localhost and 127.0.0.1 from a throw-away CA whose certificate it also prints
# (MUSTER_TEST_POSTGRES_CA=…/ca.pem, on a second line).
set -euo pipefail

cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT] [WATCH_PID]" >&2; exit 2; }

bin=""
for b in /usr/lib/postgresql/*/bin; do
  [ -x "$b/pg_ctl" ] && bin="$b"
done
[ -n "$bin" ] || { echo "pg.sh: PostgreSQL is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port="${3:-$((20000 + RANDOM % 20000))}"
    watch="${4:-}"
    mkdir -p "$dir"
    # The cluster's own directory, which its owner must reach: as root, one under /tmp that
    # belongs to `postgres` (DIR may sit in a directory only root can enter).
    if [ ! -f "$dir/cluster" ]; then
      if [ "$(id -u)" = 0 ]; then
        c="$(mktemp -d /tmp/muster-pg.XXXXXX)"; chown postgres: "$c"
      else
        c="$dir"
      fi
      echo "$c" >"$dir/cluster"
    fi
    c="$(cat "$dir/cluster")"
    if [ ! -f "$c/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$c/data" -U muster --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$c/initdb.log" 2>&1 || { cat "$c/initdb.log" >&2; exit 1; }
    fi
    ssl=""
    if [ "${PG_SSL:-0}" = 1 ]; then
      if [ ! -f "$c/server.key" ]; then
        (
          cd "$c"
          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj /CN=muster-test-ca -keyout ca.key -out ca.pem 2>/dev/null
          openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
          printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
          openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.crt 2>/dev/null
          chmod 600 server.key
          if [ "$(id -u)" = 0 ]; then chown postgres: server.key server.crt; fi
        )
      fi
      ssl="-c ssl=on -c ssl_cert_file=$c/server.crt -c ssl_key_file=$c/server.key"
    fi
    # fsync stays on: the failover tests count on acknowledged writes surviving a kill.
    as_owner "$bin/pg_ctl" -D "$c/data" -l "$c/server.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$c' -c max_connections=400 $ssl" \
      >/dev/null || { cat "$c/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U muster muster 2>/dev/null || true
    if [ -n "$watch" ]; then
      (
        trap '' HUP
        while kill -0 "$watch" 2>/dev/null; do sleep 1; done
        as_owner "$bin/pg_ctl" -D "$c/data" -m immediate stop >/dev/null 2>&1 || true
        [ "$c" = "$dir" ] || rm -rf "$c"
      ) </dev/null >/dev/null 2>&1 &
    fi
    echo "MUSTER_TEST_POSTGRES=postgres://muster@127.0.0.1:$port/muster"
    if [ -n "$ssl" ]; then echo "MUSTER_TEST_POSTGRES_CA=$c/ca.pem"; fi
    ;;
  stop)
    [ -f "$dir/cluster" ] || exit 0
    c="$(cat "$dir/cluster")"
    if [ -f "$c/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$c/data" -m fast stop >/dev/null || true; fi
    [ "$c" = "$dir" ] || rm -rf "$c"
    rm -f "$dir/cluster"
    ;;
  *) echo "usage: $0 start|stop DIR [PORT] [WATCH_PID]" >&2; exit 2 ;;
esac
