#!/usr/bin/env bash
# `meson install --destdir` gives the library, header, tether.pc, man pages
# and the CLI, and a program builds and runs against the installed .pc.
# Prints one PASS:/FAIL: line; exit status 0 on pass.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
build=${1:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

fail() { echo "FAIL: install: $*"; exit 1; }
meson install -C "$build" --destdir "$dest" >/dev/null || fail "meson install --destdir failed"
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
    'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$dest$prefix
pc=$(find "$root" -name tether.pc -print -quit)
[[ -n $pc ]] || fail "no tether.pc"
for f in include/tether.h bin/tether share/man/man1/tether.1 share/man/man7/tether.7 share/man/man3/tether_clone3.3; do
    [[ -e $root/$f ]] || fail "missing $f"
done
ls "$(dirname "$(dirname "$pc")")"/libtether.so.0 >/dev/null || fail "no libtether.so.0"
ls "$(dirname "$(dirname "$pc")")"/libtether.a >/dev/null || fail "no libtether.a"

flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags --libs tether) ||
    fail "pkg-config does not know tether"
libdir=$(dirname "$(dirname "$pc")")
# shellcheck disable=SC2086 # the flags are words
cc -std=gnu17 -Wall -Wextra -Werror -o "$dest/example" examples/fire-and-forget.c $flags ||
    fail "examples/fire-and-forget.c does not build against the installed tether.pc"
LD_LIBRARY_PATH=$libdir "$dest/example" >/dev/null || fail "the example built against the installed library failed"
# The Python package, when built: installed where its interpreter imports it from.
if compgen -G "$build/python/tether/_tether*.so" >/dev/null; then
    py=$(meson introspect "$build" --buildoptions | python3 -c \
        'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "python"))')
    init=$(find "$dest" -path '*-packages/tether/__init__.py' -print -quit)
    [[ -n $init ]] || fail "no tether/__init__.py in a site-packages directory"
    site=${init%/tether/__init__.py}
    "$py" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "${site#"$dest"}" ||
        fail "the Python package went to ${site#"$dest"}, which $py does not search"
    (cd / && PYTHONPATH=$site "$py" -c '
import sys, tether
assert tether.__file__.startswith(sys.argv[1]), tether.__file__
assert tether.run(["true"]).returncode == 0' "$site") ||
        fail "the installed Python package does not import or run"
fi
echo "PASS: install: lib, header, .pc, man pages, CLI and (when built) the Python package installed; an example builds and runs against tether.pc"
