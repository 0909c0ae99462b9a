#!/usr/bin/env bash
# Seeds the `demux` fuzz corpus (fuzz/corpus/demux, not committed) with the first
# packets of the shared fixtures' TS and packed-audio segments: SHARED=../shared by
# default. The first byte of a fuzz input is the target's flags byte.
set -euo pipefail
cd "$(dirname "$0")"
SHARED=${SHARED:-../../../shared}
CORPUS=corpus/demux
mkdir -p "$CORPUS"
if [ ! -d "$SHARED/fixtures" ]; then
    echo "seed.sh: no $SHARED/fixtures: starting from an empty corpus" >&2
    exit 0
fi
find "$SHARED/fixtures" -type f \( -name '*.ts' -o -name '*.aac' \) | sort | while read -r file; do
    name=$(basename "$(dirname "$file")")-$(basename "$file")
    { printf '\000'; head -c 16544 "$file"; } > "$CORPUS/$name"
done
# Two segments in one input, cut by the target's marker.
first=$(find "$SHARED/fixtures" -type f -name 'test-segment.ts' | head -1)
if [ -n "$first" ]; then
    { printf '\002'; head -c 7520 "$first"; printf -- '-seg-'; tail -c 7520 "$first"; } > "$CORPUS/two-segments"
fi
echo "seed.sh: $(ls "$CORPUS" | wc -l) inputs in $CORPUS"
