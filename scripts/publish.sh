#!/usr/bin/env bash
# Publishes the Native AOT gateway to artifacts/bin (binary + native libraries beside it, README, 'Command line').
# Only Wasmtime.Dotnet may produce the per-assembly trim/AOT summaries IL2104/IL3053; any other
# assembly doing so fails the publish, as any other trim or AOT warning already does.
set -euo pipefail
cd "$(dirname "$0")/.."
rid=${1:-linux-x64}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet publish src/Gateway/Gateway.csproj -c Release -r "$rid" --nologo -v quiet -o artifacts/bin 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
if grep -E 'IL(2104|3053)' "$log" | grep -v "'Wasmtime.Dotnet'" | grep -q .; then
  echo "publish: an assembly other than Wasmtime.Dotnet produced trim/AOT warnings" >&2
  exit 1
fi
# The symbols go beside the binary, never into it or the image: perf/run.sh profiles with them.
mkdir -p artifacts/symbols
for f in artifacts/bin/*.dbg; do [ -e "$f" ] && mv -f "$f" artifacts/symbols/; done
rm -f artifacts/bin/*.pdb
