#!/usr/bin/env bash
# perf/run.sh quick|full [--only target,target] — the perf harness (perf/README.md).
# Builds the harness, raises the open-file limit for the idle-connection test, and
# runs the scenario runner pinned to CPU 0: it is the load generator, and shares
# that core with the upstream, Redis and PostgreSQL; every proxy runs on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-quick}"
shift || true

if [ "$(nproc)" -lt 2 ]; then
    echo "perf/run.sh: needs 2 CPUs (proxy on CPU 1, everything else on CPU 0)" >&2
    exit 1
fi
for tool in nginx taskset; do
    command -v "$tool" >/dev/null || { echo "perf/run.sh: $tool is required" >&2; exit 1; }
done

# 10,000 idle keep-alive connections need 10,000 descriptors in the loader and as many in the proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

dotnet build perf/Runner/Runner.csproj -c Release --nologo -v quiet -clp:NoSummary >/dev/null
dotnet build perf/YarpPeer/YarpPeer.csproj -c Release --nologo -v quiet -clp:NoSummary >/dev/null

# On a shared machine, other work steals CPU from every target alike; a higher
# priority (when permitted) keeps the figures closer to what the code costs.
# PERF_NICE=0 turns this off.
nice_level="${PERF_NICE:--10}"
if nice -n "$nice_level" true 2>/dev/null; then
    exec nice -n "$nice_level" taskset -c 0 dotnet perf/Runner/bin/Release/net10.0/bench.dll "$mode" "$@"
fi
exec taskset -c 0 dotnet perf/Runner/bin/Release/net10.0/bench.dll "$mode" "$@"
