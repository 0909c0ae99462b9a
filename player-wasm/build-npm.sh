#!/usr/bin/env bash
# Builds the npm package into player-wasm/pkg/:
#   1. cargo: player-wasm for wasm32-unknown-unknown, profile `wasm-release` (size first);
#   2. wasm-bindgen (the CLI must equal the crate's exact version; installed if not);
#   3. wasm-opt -Os from the npm package `binaryen` (never Debian's wasm-opt 108, which
#      corrupts wasm-bindgen output);
#   4. package.json and README.md from player-wasm/npm/;
#   5. the transmuxer (transmux/build.sh) into transmux/ with its worker
#      (npm/transmux-worker.js), and `__wasmHlsTransmuxWorker` appended to player_wasm.js:
#      the shell (src/web/transmux.rs) starts the worker through it, only when a stream's
#      segments need transmuxing, at `new URL('./transmux/…', import.meta.url)` so
#      bundlers and plain ES modules find it. fMP4 playback never loads transmux/.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=player-wasm/pkg
TARGET_DIR=${CARGO_TARGET_DIR:-target}
WASM_OPT=${WASM_OPT:-tests/e2e/node_modules/.bin/wasm-opt}
CARGO=${CARGO:-cargo}

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "build-npm: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    echo "build-npm: installing wasm-bindgen-cli $version (about 2 minutes, once)"
    $CARGO install wasm-bindgen-cli --version "$version" --locked \
        || $CARGO install wasm-bindgen-cli --version "$version"
fi
if [ ! -x "$WASM_OPT" ]; then
    echo "build-npm: $WASM_OPT missing: run 'make deps' (npm package binaryen)" >&2
    exit 1
fi

$CARGO build -p player-wasm --lib --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$PKG"
wasm-bindgen --target web --out-dir "$PKG" --out-name player_wasm \
    "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/player_wasm.wasm"
# -Os rather than -Oz: larger, but it gzips about 200 bytes smaller. Low memory (below
# 1 KB) is the bottom of Rust's 1 MB stack, which nothing reaches: binaryen may then fold
# address offsets. The producers and target-features sections are for tools, not browsers.
"$WASM_OPT" -Os --converge --low-memory-unused --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$PKG/player_wasm_bg.wasm" -o "$PKG/player_wasm_bg.wasm"
# The glue without its comments and indentation (its API documentation is in the .d.ts,
# which editors read): a kilobyte less to download. Only whole-line comments go, and
# nothing at all when a line of code has an odd number of backticks (a template literal
# that may span lines); `node --check` vouches for the result.
node - "$PKG/player_wasm.js" <<'JS'
const fs = require('fs');
const file = process.argv[2];
const code = fs.readFileSync(file, 'utf8')
    .replace(/^[ \t]*\/\*\*(?:[^*]|\*(?!\/))*\*\/[ \t]*\n/gm, '')
    .replace(/^[ \t]*\/\/.*\n/gm, '');
if (code.split('\n').every((line) => line.split('`').length % 2 === 1)) {
    fs.writeFileSync(file, code.replace(/^[ \t]+/gm, '').replace(/\n{2,}/g, '\n'));
}
JS
node --check "$PKG/player_wasm.js"
cp player-wasm/npm/package.json player-wasm/npm/README.md "$PKG/"

if [ "${SKIP_TRANSMUX:-}" != 1 ]; then
    bash transmux/build.sh
fi
mkdir -p "$PKG/transmux"
cp transmux/pkg/transmux.js transmux/pkg/transmux.d.ts transmux/pkg/transmux_bg.wasm \
    transmux/pkg/transmux_bg.wasm.d.ts player-wasm/npm/transmux-worker.js "$PKG/transmux/"
# Resolved by the glue's import of the global `__wasmHlsTransmuxWorker` (a free
# identifier in this module's scope).
cat >> "$PKG/player_wasm.js" <<'JS'

function __wasmHlsTransmuxWorker(onMessage) {
    const worker = new Worker(new URL('./transmux/transmux-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event) => onMessage(event.data);
    worker.onerror = (event) => {
        event.preventDefault();
        onMessage({ error: `transmuxer worker: ${event.message || 'failed to load'}` });
    };
    return worker;
}
JS
echo "build-npm: $PKG: $(wc -c < "$PKG/player_wasm_bg.wasm") bytes of wasm," \
    "$(gzip -9c "$PKG/player_wasm_bg.wasm" | wc -c) gzipped;" \
    "$(gzip -9c "$PKG/player_wasm.js" | wc -c) bytes of JS glue gzipped"
