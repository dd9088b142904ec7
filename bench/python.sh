#!/usr/bin/env bash
# The Python part of `make bench`: tether.Popen(['true']).wait() against
# subprocess.Popen's, with and without the lifecycle keywords, in a 64 MiB
# and a 4 GiB Python process (bench/python_popen.py), with the interpreter
# the package was built for and the build tree's package.
#
#   bench/python.sh [--quick] [--csv FILE] [--md FILE] [python_popen.py options...]
#
# Without the 4 GiB (and then without 1 GiB) to spare, the larger size shrinks.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
build=build
[[ -f $build/build.ninja ]] || meson setup "$build" >/dev/null
ninja --quiet -C "$build" >&2 # a regeneration speaks on stdout: not into the report
if ! compgen -G "$build/python/tether/_tether*.so" >/dev/null; then
    echo "bench/python.sh: the Python extension is not built (meson option python_binding)" >&2
    exit 1
fi
py=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
    'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "python"))')
avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
big=4G
((avail_kib > 6 * 1024 * 1024)) || big=1G
((avail_kib > 2 * 1024 * 1024)) || big=256M
# The lifecycle keywords run on the emulation unless the kernel has them
# (auto); TETHER_BACKEND from the caller wins.
TETHER_BACKEND=${TETHER_BACKEND:-auto} PYTHONPATH=$PWD/$build/python PYTHONDONTWRITEBYTECODE=1 \
    exec "$py" bench/python_popen.py --rss "64M,$big" "$@"
