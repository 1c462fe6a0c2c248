#!/usr/bin/env bash
# The formatting contract (.editorconfig): fails, and says how to fix it, when any file's whitespace differs.
# `make format-check` and scripts/test.sh both run this, so CI and a developer see the same verdict.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! dotnet format whitespace Gateway.sln --verify-no-changes; then
  echo "formatting differs from .editorconfig: run 'make format'"
  exit 1
fi
