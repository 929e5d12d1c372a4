#!/usr/bin/env bash
# What the browser tests (tests/e2e) need, from Debian's packages and the npm registry:
#
#   .ci/browser.sh            # install chromium, CJK fonts, Java and the Nu HTML Checker
#   .ci/browser.sh artifacts  # print where a failed browser test left its screenshot and trace
#
# Playwright drives Debian's /usr/bin/chromium; its own browser download is never run (it
# cannot work here).  The checker is the npm package vnu-jar, installed with --ignore-scripts
# (its install script would download a Java runtime) into VNU_DIR, outside the checkout.
set -euo pipefail

VNU_VERSION="${VNU_VERSION:-26.9.27}"
VNU_DIR="${VNU_DIR:-/var/cache/est-vnu}"
VNU_JAR="$VNU_DIR/node_modules/vnu-jar/build/dist/vnu.jar"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARTIFACTS="$ROOT/test-artifacts/e2e"

log() { printf '\033[1;32m[browser]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[browser]\033[0m %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

install() {
  local missing=() package
  # pango: WeasyPrint's text layout, for the review report's PDF (tests/integration).
  for package in chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do
    installed "$package" || missing+=("$package")
  done
  command -v java >/dev/null || missing+=(default-jre-headless)
  command -v npm >/dev/null || missing+=(npm)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after installing chromium"
  if [ ! -s "$VNU_JAR" ] || ! grep -q "\"version\": \"$VNU_VERSION\"" \
      "$VNU_DIR/node_modules/vnu-jar/package.json" 2>/dev/null; then
    log "installing vnu-jar $VNU_VERSION into $VNU_DIR"
    mkdir -p "$VNU_DIR"
    npm install --ignore-scripts --no-audit --no-fund --silent --prefix "$VNU_DIR" \
      "vnu-jar@$VNU_VERSION" >/dev/null
    [ -s "$VNU_JAR" ] || die "npm installed vnu-jar but $VNU_JAR is missing"
  fi
  log "ready: $(/usr/bin/chromium --version 2>/dev/null), vnu at $VNU_JAR"
}

artifacts() {
  if [ -d "$ARTIFACTS" ] && [ -n "$(ls -A "$ARTIFACTS")" ]; then
    log "failed browser tests left screenshots and traces in $ARTIFACTS"
    log "(open a trace with: .venv/bin/playwright show-trace <trace.zip>)"
    find "$ARTIFACTS" -type f | sort
  fi
}

case "${1:-install}" in
  install) install ;;
  artifacts) artifacts ;;
  *) echo "usage: $0 [install|artifacts]  (env: VNU_DIR, VNU_VERSION)" >&2; exit 2 ;;
esac
