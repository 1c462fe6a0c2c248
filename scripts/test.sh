#!/usr/bin/env bash
# Runs every test project of the solution (unit, functional against real Redis/PostgreSQL started by the
# tests themselves, and the smoke suite against the published AOT binary in artifacts/bin), then prints
# one closing line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build Gateway.sln -c Debug --nologo -v quiet -warnaserror 2>&1 | tail -n 30
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# The perf projects are not in Gateway.sln (they pull in BenchmarkDotNet and YARP); building them here keeps them
# compiling against the code they measure.
for project in perf/*/*.csproj; do
  if ! dotnet build "$project" -c Release --nologo -v quiet -warnaserror 2>&1 | tail -n 30; then
    echo "build of $project failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
done
# Formatting is part of the contract (.editorconfig): a whitespace diff fails the run like a test would.
if ! bash scripts/format-check.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test --solution Gateway.sln -c Debug --no-build --no-progress 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
failed=$(grep -E '^\s+failed: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # a test host crashed or a project failed to run: never report that as green
fi
# The failed tests with the first lines of their messages, last, where a CI log's tail shows them.
grep -A 6 -E '^failed [A-Za-z]' "$log" | grep -v -E '^\s+at ' | sed 's/^/  /'
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
