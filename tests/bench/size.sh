#!/usr/bin/env bash
# The browser package's size against hls.js's, gzip -9, measured from the files users
# download: player-wasm/pkg (make wasm) and hls.js's npm tarball (tests/e2e/node_modules).
# With twiggy installed (`cargo install twiggy`), also a per-crate breakdown of the wasm
# before wasm-opt (names kept), which says where the bytes come from.
set -euo pipefail
cd "$(dirname "$0")/../.."
PKG=player-wasm/pkg
HLS=tests/e2e/node_modules/hls.js/dist
gz() { gzip -9c "$1" | wc -c; }
[ -f "$PKG/player_wasm_bg.wasm" ] || { echo "size: run 'make wasm' first" >&2; exit 1; }
wasm=$(gz "$PKG/player_wasm_bg.wasm"); glue=$(gz "$PKG/player_wasm.js")
printf '%-34s %8s bytes gzip\n' "ours: wasm" "$wasm" "ours: JS glue" "$glue" "ours: total" "$((wasm + glue))"
for f in hls.light.min.js hls.min.js; do
    [ -f "$HLS/$f" ] && printf '%-34s %8s bytes gzip\n' "hls.js $(node -p "require('./tests/e2e/node_modules/hls.js/package.json').version") $f" "$(gz "$HLS/$f")"
done
if command -v twiggy >/dev/null; then
    tmp=$(mktemp -d)
    wasm-bindgen --target web --out-dir "$tmp" "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/player_wasm.wasm"
    twiggy top -n 100000 -f csv "$tmp/player_wasm_bg.wasm" > "$tmp/top.csv"
    python3 - "$tmp/top.csv" <<'PY'
import collections, csv, re, sys
agg = collections.Counter()
for row in csv.DictReader(open(sys.argv[1])):
    name, size = row["Name"], int(row["ShallowSize"])
    if name.startswith("custom section") or "function names" in name:
        continue
    if name.startswith("data segment"):
        agg["(static data)"] += size
        continue
    crates = [c for c in re.findall(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
              if c not in ("impl", "_")]
    agg[crates[0] if crates else "(other)"] += size
total = sum(agg.values())
print(f"\nwasm before wasm-opt, by crate (code and data, names excluded): {total} bytes")
for crate, size in agg.most_common(20):
    print(f"  {size:8d}  {100 * size / total:5.1f} %  {crate}")
PY
    rm -rf "$tmp"
fi
