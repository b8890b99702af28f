# A throw-away PostgreSQL cluster for the tests and the benchmarks, as
# ../shared/INTEROP.md says: Debian's `postgresql` (installed if missing), initdb and
# pg_ctl in a temporary folder, run as the `postgres` user when we are root, on a
# free port and a unix socket in that folder. Sourced by scripts/test.sh and
# scripts/bench-stores.sh; call postgres_stop on exit.
#
#   postgres_start fast|durable   sets pg_port (and pg_dir); fails loudly if it cannot
#   postgres_stop                 stops the cluster and removes its folder

pg_dir=""
pg_port=""
pg_as_postgres=()
pg_policy_rc=""

# Runs a command as root (directly, or through sudo).
pg_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The folder of initdb and pg_ctl: on PATH, or Debian's per-version folder.
postgres_find() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Installs Debian's postgresql without letting it start a cluster of its own.
postgres_install() {
  echo "installing postgresql (for the runs on PostgreSQL)" >&2
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | pg_as_root tee /usr/sbin/policy-rc.d >/dev/null
    pg_as_root chmod 755 /usr/sbin/policy-rc.d
    pg_policy_rc=/usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  pg_as_root apt-get update -qq
  pg_as_root apt-get install -y -qq --no-install-recommends postgresql
  if [ -n "$pg_policy_rc" ]; then
    pg_as_root rm -f "$pg_policy_rc"
    pg_policy_rc=""
  fi
}

# A port nothing listens on (bash's /dev/tcp connects only if something does).
pg_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# fast: for tests (many connections; no syncing, the cluster is thrown away and a
# crash test kills fedblog, never PostgreSQL). durable: PostgreSQL's own defaults, for
# benchmarks that compare it with SQLite's synced commits.
postgres_start() {
  local mode="$1" bin started settings port attempt
  if ! bin="$(postgres_find)"; then
    postgres_install
    bin="$(postgres_find)" || {
      echo "PostgreSQL's initdb and pg_ctl are missing after installing postgresql" >&2
      return 1
    }
  fi
  export PATH="$bin:$PATH"
  started=$(date +%s.%N)
  pg_dir="$(mktemp -d)"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$pg_dir"
    pg_as_postgres=(runuser -u postgres --)
  fi
  # C collation: text sorts by bytes, as in SQLite.
  if ! (cd "$pg_dir" && "${pg_as_postgres[@]}" initdb -D "$pg_dir/data" -A trust -U postgres \
    --locale=C -E UTF8 >"$pg_dir/initdb.log" 2>&1); then
    cat "$pg_dir/initdb.log" >&2
    echo "PostgreSQL's initdb failed (above)" >&2
    return 1
  fi
  settings="-c listen_addresses=127.0.0.1 -c max_connections=400"
  if [ "$mode" = fast ]; then
    settings="$settings -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  for attempt in 1 2 3 4 5; do
    port="$(pg_free_port)"
    if (cd "$pg_dir" && "${pg_as_postgres[@]}" pg_ctl -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
      -o "-p $port -k $pg_dir $settings" start >/dev/null); then
      pg_port="$port"
      break
    fi
  done
  if [ -z "$pg_port" ]; then
    cat "$pg_dir/server.log" >&2 || true
    echo "the PostgreSQL cluster did not start (log above)" >&2
    return 1
  fi
  echo "PostgreSQL $(pg_ctl --version | awk '{print $3}') up on 127.0.0.1:$pg_port in $(awk -v from="$started" -v to="$(date +%s.%N)" 'BEGIN { printf "%.1f", to - from }') s ($mode)" >&2
}

postgres_stop() {
  if [ -n "$pg_dir" ]; then
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      (cd "$pg_dir" && "${pg_as_postgres[@]}" pg_ctl -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$pg_dir"
    pg_dir=""
  fi
  if [ -n "$pg_policy_rc" ]; then pg_as_root rm -f "$pg_policy_rc"; fi
}
