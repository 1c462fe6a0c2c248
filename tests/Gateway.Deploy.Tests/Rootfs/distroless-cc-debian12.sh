#!/usr/bin/env bash
# Lays out in ROOT what gcr.io/distroless/cc-debian12:nonroot holds, from the same
# Debian 12 packages, so the image's files can be run without a container runtime:
#   static layer: base-files, netbase, tzdata, the CA bundle of ca-certificates,
#                 /etc/passwd and /etc/group with nonroot=65532, /tmp (1777),
#                 /home/nonroot, /etc/nsswitch.conf
#   base layer:   libc6, libssl3
#   cc layer:     libgcc-s1, libstdc++6, libgomp1, gcc-12-base
# Like the image, ROOT has no shell and no package manager.
# The .debs are fetched once into CACHE with apt-get download.
#   usage: distroless-cc-debian12.sh CACHE ROOT
set -euo pipefail

cache=$1
root=$2
packages=(base-files netbase tzdata libc6 libssl3 libgcc-s1 libstdc++6 libgomp1 gcc-12-base)

# Host tools this script, stage.sh and the test's launcher use; installed when missing.
missing=()
for pair in dpkg-deb:dpkg readelf:binutils unshare:util-linux mount:mount chroot:coreutils apt-get:apt; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$cache" "$root"
have_all() {
  local p
  for p in "${packages[@]}" ca-certificates; do
    compgen -G "$cache/${p}_*.deb" >/dev/null || return 1
  done
}
if ! have_all; then
  # apt-get download writes into the working directory; lists may be absent on a fresh machine.
  ( cd "$cache" && { apt-get download -qq "${packages[@]}" ca-certificates 2>/dev/null \
      || { apt-get update -qq && apt-get download -qq "${packages[@]}" ca-certificates; }; } )
fi

for p in "${packages[@]}"; do
  dpkg-deb -x "$(ls "$cache/${p}"_*.deb | sort -V | tail -n 1)" "$root"
done

# ca-certificates ships certificates and a shell script that joins them at install time;
# the image carries only the joined bundle, which is what this builds.
certs=$(mktemp -d)
trap 'rm -rf "$certs"' EXIT
dpkg-deb -x "$(ls "$cache"/ca-certificates_*.deb | sort -V | tail -n 1)" "$certs"
mkdir -p "$root/etc/ssl/certs"
find "$certs/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat \
  > "$root/etc/ssl/certs/ca-certificates.crt"

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
GROUP
printf 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
install -d -m 1777 "$root/tmp"
install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
install -d -m 0700 "$root/root"

# What a container runtime provides: mount points for /proc and the usual /dev nodes,
# /etc/hosts naming localhost, an empty /etc/resolv.conf.
install -d "$root/proc" "$root/dev"
for node in null zero random urandom; do : > "$root/dev/$node"; done
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
: > "$root/etc/resolv.conf"

# The image has no shell; dpkg-deb -x runs no maintainer scripts, so none appears here.
if [[ -e "$root/bin/sh" || -e "$root/usr/bin/sh" || -e "$root/bin/bash" ]]; then
  echo "distroless root: a shell appeared in $root" >&2; exit 1
fi
