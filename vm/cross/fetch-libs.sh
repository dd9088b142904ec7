#!/usr/bin/env bash
# The libraries a cross build links that the cross toolchain does not bring:
#   vm/cross/fetch-libs.sh ARCH        (a Debian architecture, e.g. arm64)
# Debian's libjansson-dev of that architecture (tether(1)'s JSON report; the
# CLI tests link it statically), of this machine's own release, so that it
# was built against the cross toolchain's C library. Downloaded once with a
# private apt state and the machine's own mirror, and unpacked, not
# installed (no foreign architecture is added to the machine's dpkg), into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tether/cross-ARCH/root
# which is printed. meson.build runs this for a cross build; delete the
# directory to fetch again.
set -euo pipefail

die() { echo "fetch-libs: error: $*" >&2; exit 1; }
say() { echo "fetch-libs: $*" >&2; }
# shellcheck source=../../scripts/private-apt.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../../scripts/private-apt.sh"

[[ $# -eq 1 && $1 =~ ^[a-z0-9]+$ ]] || die "usage: $0 DEBIAN-ARCH (e.g. arm64)"
arch=$1
packages=(libjansson-dev)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tether/cross-$arch

cached() { [[ -s $cache/package && -d $cache/root/usr/include ]]; }
if cached; then
    echo "$cache/root"
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get is needed to download ${packages[*]} for $arch"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack ${packages[*]}"
mkdir -p "$cache"
# One fetch at a time (concurrent builds share the cache).
exec 9>"$cache/.lock"
flock 9
if cached; then
    echo "$cache/root"
    exit 0
fi

suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[[ -n $suite ]] || die "no VERSION_CODENAME in /etc/os-release: which Debian release is this?"
apt_dir=$cache/.apt
private_apt_arch=$arch
private_apt "$apt_dir" "$suite"
say "fetching ${packages[*]} ($arch, $suite) from $uri"
work=$(mktemp -d "${TMPDIR:-/tmp}/tether-cross-libs.XXXXXX")
trap 'rm -rf "$work"' EXIT
private_apt_download "$apt_dir" "$work" "${packages[@]}"
mkdir "$work/root"
: >"$work/package"
for deb in "$work"/*.deb; do
    [[ -f $deb ]] || die "apt-get download produced no .deb"
    dpkg-deb -x "$deb" "$work/root" || die "cannot unpack $deb"
    echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $arch ($suite)" >>"$work/package"
done

# Fill a fresh directory, then rename it: an interrupted fetch never leaves
# a half-written one that would count as cached.
new=$cache/.new.$$
rm -rf "$new"
mkdir -p "$new"
mv "$work/root" "$work/package" "$new/"
rm -rf "$cache/root" "$cache/package"
mv "$new/root" "$new/package" "$cache/"
rmdir "$new"
say "cached $(tr '\n' ' ' <"$cache/package")in $cache"
echo "$cache/root"
