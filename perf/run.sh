#!/usr/bin/env bash
# perf/run.sh quick|full [--only target,target] — the perf harness (perf/README.md).
# perf/run.sh micro [filter] — the BenchmarkDotNet micro-benchmarks, report in perf/results.
# perf/run.sh startup — only the start-up scenario with twenty generated 3 MB plugins (also part of quick/full).
# perf/run.sh tls — only the TLS scenario (gateway and nginx, kept-alive requests and full handshakes; also part of quick/full).
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

# Build only when a harness source is newer than its output: even a no-op `dotnet build`
# costs tens of seconds on a loaded 2-core machine, and the quick run must stay under 2 minutes.
build_if_stale() {
    local project_dir="$1" output="$2"
    shift 2   # any further arguments: more source folders the project builds from
    if [ ! -f "$output" ] || [ -n "$(find "$project_dir" "$@" perf/LoadGenerator Directory.Build.props Directory.Packages.props \
            \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -not -path '*/bin/*' \
            -newer "$output" -print -quit)" ]; then
        local log
        log="$(mktemp)"
        if ! dotnet build "$project_dir" -c Release --nologo -v quiet -clp:NoSummary >"$log" 2>&1; then
            echo "perf/run.sh: building $project_dir failed:" >&2
            grep -E 'error' "$log" | sort -u | head -20 >&2
            rm -f "$log"
            exit 1
        fi
        rm -f "$log"
    fi
}
build_if_stale perf/Runner perf/Runner/bin/Release/net10.0/bench.dll
build_if_stale perf/YarpPeer perf/YarpPeer/bin/Release/net10.0/YarpPeer.dll
build_if_stale perf/EpollRelay perf/EpollRelay/bin/Release/net10.0/EpollRelay.dll

# On a shared machine the kernel shares CPU per session first (autogroup), so the
# nice value of our own processes would not count against other sessions' work.
# Run in a session of our own and give it a higher weight when permitted
# (PERF_NICE=0 turns this off); the report records what was applied.
if [ -z "${PERF_OWN_SESSION:-}" ] && command -v setsid >/dev/null; then
    PERF_OWN_SESSION=1 setsid bash "$0" "$mode" "$@" &
    runner=$!
    trap 'kill -INT "$runner" 2>/dev/null' INT TERM
    status=0
    wait "$runner" || status=$?
    # A trapped signal interrupts wait: wait again for the runner to stop its children.
    while kill -0 "$runner" 2>/dev/null; do wait "$runner" || status=$?; done
    exit "$status"
fi
if [ -w /proc/self/autogroup ]; then
    echo "${PERF_NICE:--20}" > /proc/self/autogroup 2>/dev/null || true
fi

if [ "$mode" = micro ]; then
    # BenchmarkDotNet on CPU 1, away from everything else; its GitHub-flavoured tables are
    # copied into perf/results/<UTC stamp>-micro.md, written by the tool, not by hand.
    build_if_stale perf/Micro perf/Micro/bin/Release/net10.0/Gateway.Perf.Micro.dll src
    artifacts="perf/Micro/bin/Release/net10.0/BenchmarkDotNet.Artifacts"
    rm -rf "$artifacts/results"
    taskset -c 1 dotnet perf/Micro/bin/Release/net10.0/Gateway.Perf.Micro.dll --filter "${1:-*}"
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    {
        echo "# Micro-benchmarks $stamp"
        echo
        echo "\`perf/run.sh micro\` at commit $(git rev-parse --short HEAD); $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); pinned to CPU 1."
        for report in "$artifacts"/results/*-report-github.md; do
            echo
            cat "$report"
        done
    } > "perf/results/$stamp-micro.md"
    echo "wrote perf/results/$stamp-micro.md" >&2
    exit 0
fi
exec taskset -c 0 dotnet perf/Runner/bin/Release/net10.0/bench.dll "$mode" "$@"
