#!/usr/bin/env bash
# Install what building and testing tether needs, on Debian, if it is missing.
# As root this runs apt-get; otherwise it prints the command to run.
set -euo pipefail

# command -> Debian package
declare -A need=(
    [cc]=gcc
    [meson]=meson
    [ninja]=ninja-build
    [pkg-config]=pkg-config
    [qemu-system-x86_64]=qemu-system-x86
    [cpio]=cpio
    [gzip]=gzip
    [dpkg-deb]=dpkg
    [clang]=clang
)
missing=()
for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# Static test binaries need the C library's archive.
[[ -e /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
# The sanitizer build needs libasan/libubsan (part of gcc's packages).
[[ -n $(find /usr/lib/gcc/x86_64-linux-gnu -name 'libasan.so' -print -quit 2>/dev/null) ]] || missing+=(gcc)
# libFuzzer, for the short fuzz run.
[[ -n $(find /usr/lib/llvm-* -name 'libclang_rt.fuzzer-x86_64.a' -print -quit 2>/dev/null) ]] ||
    missing+=(libclang-rt-dev)

[[ ${#missing[@]} -eq 0 ]] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ $(id -u) -ne 0 ]]; then
    echo "tether: missing packages; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "tether: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
