#!/usr/bin/env bash
# The bash completion of tether(1) (completion/tether.bash), driven the way
# bash drives it: bash-completion loaded, COMP_WORDS/COMP_CWORD set, the
# function called, COMPREPLY compared.  Uses the tether binary of the build.
#
#   scripts/check-completion.sh [BUILD_DIR]     (default: build)
#
# Prints one PASS:/FAIL: line; exit status 0 on pass.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
build=${1:-build}
bc=/usr/share/bash-completion/bash_completion
[[ -r $bc ]] || { echo "FAIL: completion: $bc is missing (package bash-completion)"; exit 1; }
[[ -x $build/cli/tether ]] || { echo "FAIL: completion: no $build/cli/tether"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/cwd/cgdir" && : >"$work/cwd/plainfile"
ln -s "$PWD/$build/cli/tether" "$work/bin/tether"
# A tether whose help has an option taking a signal, as tether(1)'s own
# options may: the completion must offer signal names for it.
cat >"$work/bin/tether-sig" <<'EOS'
#!/bin/sh
printf '%s\n' 'Usage:' ' tether run [options] [--] <command> [<argument>...]' '' \
    'Options for run:' '     --signal <signal>   the signal' '     --nnp               nnp' '' \
    ' -h, --help              display this help'
EOS
chmod +x "$work/bin/tether-sig"

# complete WORDS... : the completions for the last word, one per line, sorted
complete_words() {
    (
        cd "$work/cwd"
        PATH=$work/bin:$PATH bash --norc --noprofile -c '
            source "$1"; source "$2"; shift 2
            compopt() { :; } # only valid while bash itself completes
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _tether
            printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort -u' _ "$bc" "$OLDPWD/completion/tether.bash" "$@"
    )
}

failures=0 checks=0
# expect "WORDS" WANT... : every WANT is offered (and, with =, exactly these)
expect() {
    local exact=0
    [[ $1 == = ]] && { exact=1; shift; }
    local words=$1; shift
    local got
    read -ra w <<<"$words"
    [[ $words == *" " ]] && w+=("")
    got=$(complete_words "${w[@]}")
    checks=$((checks + 1))
    local want
    for want in "$@"; do
        grep -qxF -- "$want" <<<"$got" || {
            echo "  '$words<TAB>': '$want' missing; got: $(tr '\n' ' ' <<<"$got")"
            failures=$((failures + 1))
            return
        }
    done
    if [[ $exact -eq 1 && $(grep -c . <<<"$got") -ne $# ]]; then
        echo "  '$words<TAB>': expected only '$*'; got: $(tr '\n' ' ' <<<"$got")"
        failures=$((failures + 1))
    fi
}

expect = "tether " features help init run             # subcommands
expect = "tether -" --help --version -V -h             # global options
expect = "tether run --auto" --autokill --autoreap      # options of run
expect "tether run --" --cgroup --nnp --report --report= --help --
expect = "tether run --report=" json text              # an option's words
expect = "tether run --cgroup " cgdir                  # a directory argument (not the file)
expect = "tether features --" --help --json            # options of features
expect "tether init --" --keep-tree --autokill --tree --   # init: its own options and run's
expect "tether init -- ech" echo                       # init's command after --
expect "tether run -- ech" echo                        # the command after --
expect "tether run --nnp --cgroup cgdir ech" echo      # ... or after the options
expect = "tether run -- tether fea" features           # ... with its own completion
expect = "tether run --report=json -- tether run --aut" --autokill --autoreap
expect "tether-sig run --signal " HUP KILL TERM USR1   # signal names
expect = "tether-sig run --signal SIGK" SIGKILL

if [[ $failures -eq 0 ]]; then
    echo "PASS: completion: $checks cases (subcommands, options, option arguments, signal names, the command after --)"
else
    echo "FAIL: completion: $failures of $checks cases"
    exit 1
fi
