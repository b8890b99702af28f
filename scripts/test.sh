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
fuzz_corpus=""
# shellcheck source=scripts/postgres.sh
. scripts/postgres.sh
cleanup() {
  local status=$?
  postgres_stop
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

# Everything, on SQLite (the default store), but two groups of the API suite that need
# PostgreSQL and run in the pass below: migrate_store (it copies between both stores)
# and the tests of several nodes on one database, which only PostgreSQL allows (they
# fail on SQLite rather than pass untested).
sqlite_status=0
env -u FEDBLOG_TEST_POSTGRES cargo test --locked -- \
  --skip migrate_store:: \
  --skip nodes::a_fan_out_split_between_two_nodes \
  --skip nodes::a_killed_node_leaves_its_fan_out \
  --skip nodes::an_edit_through_one_node_is_served_fresh \
  --skip nodes::a_scheduled_post_is_published_once_with_two_nodes \
  --skip nodes::activities_arriving_at_both_nodes 2>&1 | tee "$logs/sqlite.log" || sqlite_status=$?
sqlite_summary="tests on SQLite: $(count_tests "$logs/sqlite.log") (the API suite: $(count_tests "$logs/sqlite.log" api))"
if [ "$sqlite_status" -ne 0 ]; then
  echo "$sqlite_summary"
  exit "$sqlite_status"
fi

# The API suite again on PostgreSQL: one throw-away cluster for the run (each test
# makes its own database in it), started by scripts/postgres.sh as ../shared/INTEROP.md
# says. It must start: a run that cannot test PostgreSQL fails rather than skips it.
if ! postgres_start fast; then
  echo "scripts/test.sh: no PostgreSQL cluster (above): the API tests cannot run on PostgreSQL" >&2
  exit 1
fi

postgres_status=0
FEDBLOG_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port" \
  cargo test --locked --test api 2>&1 | tee "$logs/postgres.log" || postgres_status=$?
postgres_stop
echo "$sqlite_summary"
echo "tests on PostgreSQL: $(count_tests "$logs/postgres.log" api) (the API suite)"
if [ "$postgres_status" -ne 0 ]; then exit "$postgres_status"; fi

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
