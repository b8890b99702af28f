#!/usr/bin/env bash
# Runs every test. The browser tests need Debian's chromium package: install it first
# if it is missing (non-interactive; needs root or sudo, as on CI).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "scripts/test.sh: installing chromium for the browser tests" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends chromium
fi

# The systemd unit's test runs `systemd-analyze verify` (Debian package `systemd`).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "scripts/test.sh: installing systemd for systemd-analyze" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends systemd
fi

cargo test --locked
