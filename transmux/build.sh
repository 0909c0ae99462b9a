#!/usr/bin/env bash
# Builds the transmuxer's wasm module into transmux/pkg/, a module of its own so a page
# playing fMP4 never downloads it (the player fetches it, in a Web Worker, only when a
# stream's segments are MPEG-TS or packed audio):
#   1. cargo: transmux for wasm32-unknown-unknown, profile `wasm-release` (LTO, one
#      codegen unit, panic = abort) with opt-level "s" (TRANSMUX_OPT_LEVEL) and wasm-opt -O3 (TRANSMUX_WASM_OPT):
#      measured best of 3, s, z for throughput, and small;
#   2. wasm-bindgen --target web (the CLI must equal the crate's exact version);
#      Node loads the same files: initSync({ module: fs.readFileSync(...) });
#   3. wasm-opt -O3 from the npm package `binaryen` (never Debian's wasm-opt 108, which
#      corrupts wasm-bindgen output).
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=transmux/pkg
TARGET_DIR=${CARGO_TARGET_DIR:-target}
WASM_OPT=${WASM_OPT:-tests/e2e/node_modules/.bin/wasm-opt}
CARGO=${CARGO:-cargo}
OPT_LEVEL=${TRANSMUX_OPT_LEVEL:-s}
WASM_OPT_LEVEL=${TRANSMUX_WASM_OPT:--O3}

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "transmux/build.sh: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    echo "transmux/build.sh: installing wasm-bindgen-cli $version (about 2 minutes, once)"
    $CARGO install wasm-bindgen-cli --version "$version" --locked \
        || $CARGO install wasm-bindgen-cli --version "$version"
fi
if [ ! -x "$WASM_OPT" ]; then
    echo "transmux/build.sh: $WASM_OPT missing: run 'make deps' (npm package binaryen)" >&2
    exit 1
fi

CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=$OPT_LEVEL \
    $CARGO build -p transmux --lib --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$PKG"
wasm-bindgen --target web --out-dir "$PKG" --out-name transmux \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/transmux.wasm"
"$WASM_OPT" $WASM_OPT_LEVEL --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$PKG/transmux_bg.wasm" -o "$PKG/transmux_bg.wasm"
echo "transmux/build.sh: $PKG: $(wc -c < "$PKG/transmux_bg.wasm") bytes of wasm," \
    "$(gzip -9c "$PKG/transmux_bg.wasm" | wc -c) gzipped;" \
    "$(gzip -9c "$PKG/transmux.js" | wc -c) bytes of JS glue gzipped"
