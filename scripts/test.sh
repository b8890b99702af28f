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

cargo test --locked
