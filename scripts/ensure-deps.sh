#!/usr/bin/env bash
# Install what building and testing tether needs, on Debian, if it is missing.
# As root this runs apt-get; otherwise it prints the command to run.
#
#   scripts/ensure-deps.sh [--valgrind] [--arm64]
#
# --arm64: also what the arm64 suite needs (scripts/arm64-suite.sh): Debian's
# aarch64 cross compiler and C library, and qemu-system-aarch64. (jansson for
# arm64 is fetched by the cross build itself: vm/cross/fetch-libs.sh.)
#
# --valgrind: also make sure there is a valgrind that knows the pidfd system
# calls, for scripts/valgrind.sh.  Debian 12's valgrind (3.19) answers
# pidfd_open() and pidfd_getfd() with ENOSYS, which the emulation cannot do
# without.  If the installed one is older than $min_valgrind, the valgrind
# package of Debian 13 (trixie) is downloaded once, with a private apt state
# and the machine's own mirror, and unpacked (not installed) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tether/valgrind/root
# next to "version" (what valgrind --version prints) and "package".  Its tool
# binaries are static and its launcher needs nothing newer than GLIBC_2.34,
# so it runs on Debian 12 with VALGRIND_LIB pointing at root/usr/libexec/valgrind.
# Delete the directory to fetch again.
set -euo pipefail

want_valgrind=0 want_arm64=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --valgrind) want_valgrind=1; shift ;;
        --arm64) want_arm64=1; shift ;;
        *) echo "ensure-deps.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

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
    [valgrind]=valgrind # also brings libc6-dbg: ld.so's symbols, which valgrind needs
    # The Debian packages (scripts/build-deb.sh): the build itself runs in a
    # clean root with only debian/control's Build-Depends, so debhelper is
    # not needed here.
    [mmdebstrap]=mmdebstrap
    [lintian]=lintian
    [dpkg-buildpackage]=dpkg-dev
)
if [[ $want_arm64 -eq 1 ]]; then
    need[aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
    need[qemu-system-aarch64]=qemu-system-arm
fi
missing=()
for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# The arm64 tests are static too: the cross C library's archive.
[[ $want_arm64 -eq 0 || -e /usr/aarch64-linux-gnu/lib/libc.a ]] || missing+=(libc6-dev-arm64-cross)
# The completion test loads bash-completion.
[[ -e /usr/share/bash-completion/bash_completion ]] || missing+=(bash-completion)
# Static test binaries need the C library's archive.
[[ -e /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
# The sanitizer build needs libasan/libubsan (part of gcc's packages).
[[ -n $(find /usr/lib/gcc/x86_64-linux-gnu -name 'libasan.so' -print -quit 2>/dev/null) ]] || missing+=(gcc)
# tether(1)'s JSON report: jansson, found by meson through pkg-config (the
# archive too: the test programs are linked statically).
[[ -e /usr/lib/x86_64-linux-gnu/libjansson.a && -e /usr/include/jansson.h ]] || missing+=(libjansson-dev)
# libFuzzer, for the short fuzz run.
[[ -n $(find /usr/lib/llvm-* -name 'libclang_rt.fuzzer-x86_64.a' -print -quit 2>/dev/null) ]] ||
    missing+=(libclang-rt-dev)
# The Python package (python/): built for and tested with Debian's own
# interpreter, never whatever python3 comes first in PATH.
py=/usr/bin/python3
if [[ ! -x $py ]]; then
    missing+=(python3 python3-dev python3-pytest)
else
    pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [[ -e /usr/include/python$pyver/Python.h ]] || missing+=(python3-dev)
    "$py" -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)
    # CPython's own test_subprocess.py, run against tether.Popen (python/compat).
    [[ -e /usr/lib/python$pyver/test/test_subprocess.py ]] || missing+=("libpython$pyver-testsuite")
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [[ $(id -u) -ne 0 ]]; then
        echo "tether: missing packages; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "tether: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

[[ $want_valgrind -eq 1 ]] || exit 0

# ---- a valgrind that knows pidfd_open (scripts/valgrind.sh) ----

min_valgrind=3.24
vg_cache=${XDG_CACHE_HOME:-$HOME/.cache}/tether/valgrind
vg_suite=trixie

die() { echo "ensure-deps: error: $*" >&2; exit 1; }
say() { echo "ensure-deps: $*" >&2; }
# shellcheck source=private-apt.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/private-apt.sh"

version_ok() { # "valgrind-3.24.0" -> whether it is at least $min_valgrind
    local v=${1#valgrind-}
    [[ $v =~ ^[0-9]+\.[0-9]+ ]] || return 1
    [[ $(printf '%s\n%s\n' "$min_valgrind" "${BASH_REMATCH[0]}" | sort -V | head -n 1) == "$min_valgrind" ]]
}
vg_cached() {
    [[ -x $vg_cache/root/usr/bin/valgrind.bin && -x $vg_cache/root/usr/libexec/valgrind/memcheck-amd64-linux &&
       -s $vg_cache/version ]]
}

version_ok "$(valgrind --version 2>/dev/null || true)" && exit 0
vg_cached && exit 0

command -v apt-get >/dev/null || die "apt-get is needed to download valgrind"
mkdir -p "$vg_cache"
# One fetch at a time (concurrent runs share the cache).
exec 9>"$vg_cache/.lock"
flock 9
vg_cached && exit 0

# Private apt state: only the suite we take valgrind from.
apt_dir=$vg_cache/.apt
private_apt "$apt_dir" "$vg_suite"
say "fetching valgrind from $vg_suite (the installed one is older than $min_valgrind)"
work=$(mktemp -d "${TMPDIR:-/tmp}/tether-valgrind.XXXXXX")
trap 'rm -rf "$work"' EXIT
private_apt_download "$apt_dir" "$work" valgrind
deb=("$work"/valgrind_*.deb)
[[ -f ${deb[0]} ]] || die "apt-get download valgrind produced no .deb"
dpkg-deb -x "${deb[0]}" "$work/root" || die "cannot unpack ${deb[0]}"
export VALGRIND_LIB=$work/root/usr/libexec/valgrind
version=$("$work/root/usr/bin/valgrind.bin" --version) ||
    die "the unpacked valgrind does not run here"
version_ok "$version" || die "$vg_suite has $version, older than $min_valgrind"

# Fill a fresh directory, then rename it: an interrupted fetch never leaves
# a half-written one that would count as cached.
new=$vg_cache/.new.$$
rm -rf "$new"
mkdir -p "$new"
mv "$work/root" "$new/root"
echo "$version" >"$new/version"
echo "valgrind $(dpkg-deb -f "${deb[0]}" Version) ($vg_suite)" >"$new/package"
rm -rf "$vg_cache/root" "$vg_cache/version" "$vg_cache/package"
mv "$new/root" "$new/version" "$new/package" "$vg_cache/"
rmdir "$new"
say "cached $version in $vg_cache"
