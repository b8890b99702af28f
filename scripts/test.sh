#!/usr/bin/env bash
# Runs every test, after installing the Debian packages they need if missing: all of
# them on SQLite, then the API suite again on a throw-away PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs a Debian package the tests need (non-interactive; root or sudo, as on CI).
apt_install() {
  echo "scripts/test.sh: installing $1 ($2)" >&2
  local sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "$1"
}

[ -x /usr/bin/chromium ] || apt_install chromium "for the browser tests"
# The systemd unit's test runs `systemd-analyze verify`.
command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd "for systemd-analyze"

# A fresh clone builds once: incremental caches would only double the target's size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# What the run leaves behind is removed however it ends (one trap for everything).
logs="$(mktemp -d)"
pg_dir=""
fuzz_corpus=""
as_postgres=()
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
policy_rc=""
stop_postgres() {
  if [ -n "$pg_dir" ]; then
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      (cd "$pg_dir" && "${as_postgres[@]}" pg_ctl -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}
cleanup() {
  local status=$?
  stop_postgres
  if [ -n "$policy_rc" ]; then "${as_root[@]}" rm -f "$policy_rc"; fi
  if [ -n "$fuzz_corpus" ]; then rm -rf "$fuzz_corpus"; fi
  rm -rf "$logs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "N passed, F failed" over cargo's `test result:` lines in a log; with `api`, only
# those of the API suite's binary (tests/api).
count_tests() {
  awk -v only="${2:-}" '
    /^ *Running / { binary = $2 }
    /^ *Doc-tests / { binary = "doc-tests" }
    /^test result:/ {
      if (only == "api" && binary != "tests/api/main.rs") next
      for (i = 1; i < NF; i++) {
        if ($(i + 1) ~ /^passed;?$/) passed += $i
        if ($(i + 1) ~ /^failed;?$/) failed += $i
      }
    }
    END { printf "%d passed, %d failed", passed, failed }' "$1"
}

# Everything, on SQLite (the default store).
# Leaves out the tests of several nodes on one database, which only PostgreSQL allows
# (they fail on SQLite rather than pass untested); the PostgreSQL run below has them.
env -u FEDBLOG_TEST_POSTGRES cargo test --locked -- \
  --skip nodes::a_fan_out_split_between_two_nodes \
  --skip nodes::a_killed_node_leaves_its_fan_out \
  --skip nodes::an_edit_through_one_node_is_served_fresh \
  --skip nodes::a_scheduled_post_is_published_once_with_two_nodes \
  --skip nodes::activities_arriving_at_both_nodes 2>&1 | tee "$logs/sqlite.log"

# The API suite again on PostgreSQL: one throw-away cluster for the run (each test
# makes its own database in it), as ../shared/INTEROP.md says. It must start: a run
# that cannot test PostgreSQL fails rather than skips it.
find_postgres() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  # Debian keeps the server's programs off PATH, under the major version.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}
if ! pg_bin="$(find_postgres)"; then
  # The package would start a cluster of its own ("main", port 5432) as it installs;
  # this run needs none, so service starts are refused while it installs.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    policy_rc=/usr/sbin/policy-rc.d
    "${as_root[@]}" chmod 755 "$policy_rc"
  fi
  apt_install postgresql "for the API tests on PostgreSQL"
  if [ -n "$policy_rc" ]; then
    "${as_root[@]}" rm -f "$policy_rc"
    policy_rc=""
  fi
  if ! pg_bin="$(find_postgres)"; then
    echo "scripts/test.sh: PostgreSQL's initdb and pg_ctl are missing after installing postgresql" >&2
    exit 1
  fi
fi
export PATH="$pg_bin:$PATH"

# A port nothing listens on (bash's /dev/tcp connects only if something does).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

pg_started=$(date +%s.%N)
pg_dir="$(mktemp -d)"
# The server refuses to run as root: as root it runs as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$pg_dir"
  as_postgres=(runuser -u postgres --)
fi
if ! (cd "$pg_dir" && "${as_postgres[@]}" initdb -D "$pg_dir/data" -A trust -U postgres >"$pg_dir/initdb.log" 2>&1); then
  cat "$pg_dir/initdb.log" >&2
  echo "scripts/test.sh: PostgreSQL's initdb failed (above): the API tests cannot run on PostgreSQL" >&2
  exit 1
fi
# Many tests run at once, each server with its own pool, hence max_connections. The
# cluster is thrown away after the run: it need not survive a power cut, so it does
# not sync to disk (a crash test kills fedblog, never PostgreSQL).
pg_port=""
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  if (cd "$pg_dir" && "${as_postgres[@]}" pg_ctl -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null); then
    pg_port="$port"
    break
  fi
done
if [ -z "$pg_port" ]; then
  cat "$pg_dir/server.log" >&2 || true
  echo "scripts/test.sh: the PostgreSQL cluster did not start (log above): the API tests cannot run on PostgreSQL" >&2
  exit 1
fi
echo "scripts/test.sh: PostgreSQL $(pg_ctl --version | awk '{print $3}') up on 127.0.0.1:$pg_port in $(awk -v from="$pg_started" -v to="$(date +%s.%N)" 'BEGIN { printf "%.1f", to - from }') s" >&2

FEDBLOG_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port" \
  cargo test --locked --test api 2>&1 | tee "$logs/postgres.log"
stop_postgres
echo "tests on SQLite: $(count_tests "$logs/sqlite.log") (the API suite: $(count_tests "$logs/sqlite.log" api))"
echo "tests on PostgreSQL: $(count_tests "$logs/postgres.log" api) (the API suite)"

# Fuzz what fedblog parses from outside for a bounded time each, starting from the
# committed seeds in fuzz/seeds/: the inbox's JSON envelope and classification, both
# signature schemes' headers, a whole request as the door reads it before verifying
# (headers, key id, envelope), and the configuration file. A crash fails this script;
# its input lands in fuzz/artifacts/.
fuzz_seconds="${FUZZ_SECONDS:-45}"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "scripts/test.sh: the fuzz targets need Rust's nightly toolchain beside stable" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "scripts/test.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
fuzz_corpus="$(mktemp -d)"
fuzz_targets=(inbox_json signature_headers door_request config_toml public_key_pem)
for target in "${fuzz_targets[@]}"; do
  mkdir -p "$fuzz_corpus/$target"
  # -a: overflow checks and debug assertions on; no sanitizer (safe Rust parsers, and a
  # much shorter build).
  cargo +nightly fuzz run -a --sanitizer none "$target" "$fuzz_corpus/$target" "fuzz/seeds/$target" \
    -- -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
echo "fuzz: ${#fuzz_targets[@]} passed, 0 failed"
