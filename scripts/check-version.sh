#!/usr/bin/env bash
# The version is written once, in meson.build's project() (tether-version.h
# and tether_version() come from it); NEWS and debian/changelog follow it:
# NEWS's newest release heading "tether X.Y.Z (date)" and debian/changelog's
# newest entry (a native package: the version itself, no Debian revision)
# must name the same version.
#
#   scripts/check-version.sh
#
# Prints one PASS:/FAIL: line; exit status 0 on pass.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

fail() { echo "FAIL: version: $*"; exit 1; }

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no MAJOR.MINOR.PATCH version in meson.build's project()"
news=$(sed -n 's/^tether \([0-9][^ ]*\) (.*/\1/p' NEWS | head -n 1)
[[ $news == "$version" ]] || fail "NEWS's newest release is ${news:-none}, meson.build says $version"
if command -v dpkg-parsechangelog >/dev/null; then
    deb=$(dpkg-parsechangelog -l debian/changelog -S Version) || fail "dpkg-parsechangelog cannot read debian/changelog"
else
    deb=$(sed -n '1s/^tether (\([^)]*\)).*/\1/p' debian/changelog)
fi
[[ $deb == "$version" ]] || fail "debian/changelog's newest entry is ${deb:-none}, meson.build says $version"
echo "PASS: version: $version in meson.build, NEWS and debian/changelog"
