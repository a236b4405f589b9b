#!/usr/bin/env bash
# Install everything building and testing Eventscope needs, on a fresh Debian 12 with
# rustup and Node.js (or without Node: it is installed from Debian then).
#
# Idempotent: each step says what it checks and skips what is already there, so the
# make targets can call it every time. Versions are pinned where a mismatch breaks the
# build: wasm-bindgen-cli equals the wasm-bindgen crate in Cargo.lock, Trunk is 0.21.14
# (0.22 needs a newer Rust), wasm-opt is binaryen 132 from npm (Debian's is too old).
#
# Usage: scripts/setup.sh [--browser]   (--browser: also Chromium and chromedriver)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

TRUNK_VERSION=0.21.14
WITH_BROWSER=false
[ "${1:-}" = "--browser" ] && WITH_BROWSER=true

step() { printf '\n[setup] %s\n' "$*"; }
ok() { printf '[setup]   %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}

# apt-get as root, through sudo otherwise; `apt-get update` once per run.
APT_UPDATED=false
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if ! $APT_UPDATED; then
    ok "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    APT_UPDATED=true
  fi
  ok "apt-get install -y $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null
}

# Building trunk and wasm-bindgen-cli compiles C code (ring, zstd, bzip2).
need_c_compiler() {
  if ! command -v cc >/dev/null 2>&1; then
    ok "no C compiler found; installing build-essential"
    apt_install build-essential
  fi
}

step "Rust toolchain"
command -v cargo >/dev/null 2>&1 ||
  die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
ok "$(cargo --version)"

step "wasm32-unknown-unknown target"
if [ "$WASM_TOOLCHAIN" = rustup ]; then
  ok "installed (rustup)"
elif command -v rustup >/dev/null 2>&1 &&
  timeout 300 rustup target add wasm32-unknown-unknown </dev/null; then
  ok "installed with rustup"
else
  # rustup's server unreachable or rustup missing: Debian ships a wasm-capable
  # compiler whose standard library is built from source (see scripts/env.sh).
  ok "rustup could not add the target; using Debian's rustc-web instead"
  dpkg -s rustc-web cargo-web rust-web-src lld >/dev/null 2>&1 ||
    apt_install rustc-web cargo-web rust-web-src lld
  ok "Debian rustc-web: $(/usr/bin/rustc --version)"
fi
# Re-read the environment: the target or the Debian fallback may be new.
source scripts/env.sh
[ "$WASM_TOOLCHAIN" != none ] || die "no way to build for wasm32 was found"

WASM_BINDGEN_VERSION="$(wasm_bindgen_version)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "wasm-bindgen not found in Cargo.lock"
step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (the wasm-bindgen version in Cargo.lock)"
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ] &&
  command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  ok "installed"
else
  # No --locked: the crate's own lockfile pins a webpki-roots release the registry
  # index does not offer; the newest compatible versions build fine.
  need_c_compiler
  ok "cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION (about 4 minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

step "trunk $TRUNK_VERSION"
if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  ok "installed"
else
  # --locked: without it a newer lightningcss is picked that does not compile.
  need_c_compiler
  ok "cargo install trunk --version $TRUNK_VERSION --locked (about 8 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

step "Node.js"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  ok "node $(node --version), npm $(npm --version)"
else
  apt_install nodejs npm
  ok "node $(node --version), npm $(npm --version)"
fi

step "Node tools from package-lock.json (wasm-opt, playwright-core, the export checkers)"
if [ -f node_modules/.package-lock.json ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ] &&
  [ -x node_modules/.bin/wasm-opt ]; then
  ok "node_modules up to date"
else
  npm ci --no-audit --no-fund </dev/null
fi
ok "$(wasm-opt --version)"

if $WITH_BROWSER; then
  step "Chromium and chromedriver (browser tests)"
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    ok "installed"
  else
    apt_install chromium chromium-driver
  fi
  ok "$(/usr/bin/chromium --version 2>/dev/null)"
fi

step "ready"
