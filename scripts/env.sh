# shellcheck shell=bash
# Sourced by the other scripts and the Makefile: the tool paths and how to build wasm.
#
# Tools live in ~/.cargo/bin (trunk, wasm-bindgen) and node_modules/.bin (wasm-opt from
# the binaryen npm package, which Trunk must find before Debian's older one).
#
# Two ways to build for wasm32, chosen here so every script agrees:
#  * rustup's wasm32-unknown-unknown target (the normal case);
#  * when rustup cannot fetch that target, Debian's rustc-web compiler with the standard
#    library built from source. `wasm CMD...` runs CMD with the variables this needs;
#    with rustup's target it runs CMD unchanged.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$REPO_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

WASM_ENV=()
WASM_TOOLCHAIN=none
if command -v rustup >/dev/null 2>&1 &&
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_TOOLCHAIN=rustup
elif [ -x /usr/bin/rustc ] && dpkg -s rustc-web rust-web-src lld >/dev/null 2>&1; then
  WASM_TOOLCHAIN=debian
  WASM_ENV=(
    RUSTC=/usr/bin/rustc
    RUSTC_BOOTSTRAP=1
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld
  )
fi
export WASM_TOOLCHAIN

wasm() {
  env "${WASM_ENV[@]}" "$@"
}

# The wasm-bindgen crate version the build links against; the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$REPO_ROOT/Cargo.lock"
}
