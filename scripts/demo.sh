#!/usr/bin/env bash
# The main job: tether at work on this machine's kernel.
#  1. an autoreaped no_new_privs child through the library (examples/autoreap-nnp);
#  2. `tether run --autokill --nnp` with its parent killed by SIGKILL: the
#     command dies with it, and no zombie is left.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
tether=build/cli/tether

echo "== the library: tether_clone3(CLONE_AUTOREAP|CLONE_NNP|CLONE_PIDFD)"
build/examples/autoreap-nnp

echo
echo "== the command: tether run --autokill --nnp -- sleep 1000"
"$tether" run --autokill --nnp -- sleep 1000 &
parent=$!
child=
# The command is tether's child (native backend) or its monitor's, which
# is tether's child (emulate backend).
find_command() {
    local p m
    p=$(pgrep -P "$parent" -x sleep || true)
    for m in $(pgrep -P "$parent" || true); do
        [[ -n $p ]] && break
        p=$(pgrep -P "$m" -x sleep || true)
    done
    echo "$p"
}
for _ in $(seq 500); do # wait (bounded) for the command to appear
    child=$(find_command)
    [[ -n $child ]] && break
    sleep 0.01
done
[[ -n $child ]] || {
    echo "demo: the command did not start" >&2
    kill -KILL "$parent" 2>/dev/null || true # never left behind
    exit 1
}
echo "tether is pid $parent, the command is pid $child (backend: $("$tether" features | awk '$1 == "autokill" { print $2 }'))"
grep -E '^(NoNewPrivs)' "/proc/$child/status" | sed 's/^/  command /'
echo "kill -KILL $parent"
kill -KILL "$parent"
wait "$parent" 2>/dev/null || true
for _ in $(seq 500); do
    [[ -e /proc/$child ]] || break
    sleep 0.01
done
if [[ -e /proc/$child ]]; then
    echo "the command is still there: $(awk '{ print "state " $3 }' "/proc/$child/stat")" >&2
    exit 1
fi
echo "the command (pid $child) is gone, and no zombie is left of it"
