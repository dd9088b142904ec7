#!/usr/bin/env bash
# The Python package's tests (pytest), with the interpreter the package was
# built for, against the build tree's copy of the package, once per backend.
#
#   python/tests/run.sh [BUILD_DIR] [-- PYTEST_ARGS...]
#
# Prints pytest's report per backend, then one line
#   @@TETHER-DONE python PASSED FAILED SKIPPED
# (pytest errors count as failed). Exit status 0 when nothing failed.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."
build=build
if [[ $# -gt 0 && $1 != -- ]]; then build=$1; shift; fi
[[ ${1:-} == -- ]] && shift

py=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
    'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "python"))')
if ! compgen -G "$build/python/tether/_tether*.so" >/dev/null; then
    echo "python: the extension was not built in $build (python_binding disabled or sanitized build)"
    echo "@@TETHER-DONE python 0 1 0"
    exit 1
fi

passed=0 failed=0 skipped=0
for backend in native emulate; do
    xml=$build/python/pytest-$backend.xml
    echo "-- python tests, TETHER_BACKEND=$backend ($py)"
    rm -f "$xml"
    TETHER_BACKEND=$backend PYTHONPATH=$(cd "$build" && pwd)/python PYTHONDONTWRITEBYTECODE=1 \
        timeout --kill-after=10 900 "$py" -m pytest -q -rs -p no:cacheprovider --junitxml="$xml" \
        python/tests "$@" || true
    if [[ -s $xml ]]; then
        read -r p f s < <("$py" - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == 'testsuite' else list(root)
t = sum(int(s.get('tests', 0)) for s in suites)
f = sum(int(s.get('failures', 0)) + int(s.get('errors', 0)) for s in suites)
k = sum(int(s.get('skipped', 0)) for s in suites)
print(t - f - k, f, k)
PY
)
    else
        p=0 f=1 s=0
        echo "python tests under $backend produced no report"
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo "@@TETHER-DONE python $passed $failed $skipped"
[[ $failed -eq 0 ]]
