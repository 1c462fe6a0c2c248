#!/usr/bin/env bash
# Fills ROOT with exactly the files of LIST (files.txt), as the image holds them:
# owned by whoever runs this (root in both the image build and the test), read-only
# for everyone else, executable only where the source is. Run from the repository root.
#   usage: deploy/container/stage.sh deploy/container/files.txt ROOT
set -euo pipefail

list=$1
root=$2
# glibc of Debian 12, which gcr.io/distroless/cc-debian12 ships. The SDK image that
# links the binary is newer (Ubuntu 24.04), so a binary needing a later symbol
# version would fail at start-up in the image; refuse it here instead.
base_glibc=2.36

declare -A seen=()
while read -r source destination extra; do
  [[ -z "$source" || "$source" == \#* ]] && continue
  if [[ -z "$destination" || -n "$extra" || "$destination" != /* || "$destination" == *..* ]]; then
    echo "stage: bad line in $list: $source $destination $extra" >&2; exit 1
  fi
  if [[ -n "${seen[$destination]:-}" ]]; then
    echo "stage: $destination listed twice" >&2; exit 1
  fi
  seen[$destination]=1
  if [[ ! -f "$source" ]]; then
    echo "stage: $source is missing (run make publish and make plugins first)" >&2; exit 1
  fi
  mode=0644
  [[ -x "$source" ]] && mode=0755
  install -D -m "$mode" "$source" "$root$destination"

  if [[ "$(head -c 4 "$source" | od -An -c | tr -d ' ')" == '177ELF' ]]; then
    needed=$(readelf -W --version-info "$source" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    if [[ -n "$needed" && "$(printf '%s\n%s\n' "$needed" "$base_glibc" | sort -V | tail -n 1)" != "$base_glibc" ]]; then
      echo "stage: $source needs glibc $needed, the base image has $base_glibc" >&2; exit 1
    fi
  fi
done < "$list"
