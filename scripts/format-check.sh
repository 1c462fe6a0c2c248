#!/usr/bin/env bash
# The formatting contract (.editorconfig): fails, and says how to fix it, when any file's whitespace differs.
# `make format-check` and scripts/test.sh both run this, so CI and a developer see the same verdict.
set -uo pipefail
cd "$(dirname "$0")/.."
# perf/ is not in the solution (its projects build with the harness), so it is checked as a folder.
if ! dotnet format whitespace Gateway.sln --verify-no-changes || ! dotnet format whitespace perf --folder --verify-no-changes; then
  echo "formatting differs from .editorconfig: run 'make format'"
  exit 1
fi
