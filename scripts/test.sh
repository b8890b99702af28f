#!/usr/bin/env bash
# Runs every test, after installing the Debian packages they need if missing.
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
cargo test --locked

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
trap 'rm -rf "$fuzz_corpus"' EXIT
fuzz_targets=(inbox_json signature_headers door_request config_toml public_key_pem)
for target in "${fuzz_targets[@]}"; do
  mkdir -p "$fuzz_corpus/$target"
  # -a: overflow checks and debug assertions on; no sanitizer (safe Rust parsers, and a
  # much shorter build).
  cargo +nightly fuzz run -a --sanitizer none "$target" "$fuzz_corpus/$target" "fuzz/seeds/$target" \
    -- -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
echo "fuzz: ${#fuzz_targets[@]} passed, 0 failed"
