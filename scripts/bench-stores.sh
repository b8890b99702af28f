#!/usr/bin/env bash
# The stores side by side, in one run on this machine: delivery (run A: one post to
# 10,000 personal inboxes on 1,000 hosts), the stampede on a cached page and the inbox
# storm, each on SQLite and on PostgreSQL; then the delivery on two `fedblog serve`
# nodes sharing the PostgreSQL database against one.
#
#     scripts/bench-stores.sh [ROUNDS]      # delivery rounds per store, default 3
#
# PostgreSQL runs as a throw-away cluster in a temporary folder, with its durable
# defaults (fsync, synchronous_commit): SQLite syncs every commit too (FULL). On a
# 2-core machine the two-node figure shows correctness (every inbox reached once) and
# overhead, not a speed-up: both nodes share the same two cores.
# Environment: STORES_BENCHES="delivery nodes stampede storm" (a subset).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
benches="${STORES_BENCHES:-delivery nodes stampede storm}"
want() { [[ " $benches " == *" $1 "* ]]; }

# shellcheck source=scripts/postgres.sh
. scripts/postgres.sh
trap postgres_stop EXIT
postgres_start durable
server="postgres://postgres@127.0.0.1:$pg_port"

cargo bench --locked --no-run 2>&1 | tail -n 3
out="$(mktemp -d)"
echo "logs: $out" >&2

summary=()
delivery() { # label, then environment assignments
  local label="$1"
  shift
  env "$@" DELIVERY_BENCH_ONLY_A=1 DELIVERY_BENCH_ROUNDS="$rounds" \
    cargo bench --locked --bench delivery 2>"$out/delivery-$label.err" | tee "$out/delivery-$label.log"
  while IFS= read -r line; do summary+=("$label: $line"); done < <(grep '^run A' "$out/delivery-$label.log")
}
serving() { # label, section, then environment assignments
  local label="$1" section="$2"
  shift 2
  env "$@" cargo bench --locked --bench serving -- "$section" 2>"$out/$section-$label.err" |
    tee "$out/$section-$label.log"
  while IFS= read -r line; do summary+=("$label: $line"); done < <(grep -E '^(stampede|inbox storm)' "$out/$section-$label.log" || true)
}

if want delivery; then
  delivery sqlite
  delivery postgres DELIVERY_BENCH_POSTGRES="$server"
fi
if want nodes; then
  delivery postgres-2-nodes DELIVERY_BENCH_POSTGRES="$server" DELIVERY_BENCH_NODES=2
fi
for section in stampede storm; do
  if want "$section"; then
    serving sqlite "$section"
    serving postgres "$section" SERVING_BENCH_POSTGRES="$server"
  fi
done

echo
echo "## Stores side by side ($(nproc) cores, $rounds delivery rounds each)"
printf '%s\n' "${summary[@]}"
