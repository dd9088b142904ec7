# bash completion for tether(1)                            -*- shell-script -*-
#
# Subcommands and options are read from "tether --help" at each completion,
# so a new option needs no change here; its argument is completed by the
# placeholder the help text gives it:
#   <dir>                     directories
#   <file>, <path>            files
#   <signal>, <sig>           signal names (HUP ..., or SIGHUP ... after "SIG")
#   <command>                 a command, then that command's own arguments
#   anything else             nothing (a number, a duration, ...)
# Options whose argument is one of a few words list them in _tether_words
# (keyed by option name), the one table to extend by hand.
# The command after "--", or after the last option of "run", is completed as
# a command line of its own.

declare -gA _tether_words=(
    [--report]="text json"
)

# "section<TAB>option<TAB>placeholder<TAB>style" for every option in the help
# text ("global" for the options outside the "Options for X:" blocks; style
# "=" for "--opt=<arg>", "[=" for "--opt[=<arg>]", " " for "--opt <arg>"), and
# "command<TAB>NAME" for each subcommand of the usage lines.
_tether_parse_help()
{
    "$1" --help 2>/dev/null | awk '
        /^Usage:/ { usage = 1; next }
        usage && /^ *tether [a-z]/ { print "command\t" $2; next }
        /^$/ { usage = 0; section = "global"; next }
        /^Options for [a-z-]+( \(.*\))?:$/ { section = $3; sub(/:$/, "", section); next }
        /^ *-/ {
            # the option words come first: "-h, --help", "--cgroup <dir>", "--report[=<format>]"
            n = split($0, w, / +/)
            for (i = 1; i <= n; i++) {
                if (w[i] == "") continue
                if (w[i] !~ /^-/) break
                opt = w[i]; sub(/,$/, "", opt); arg = ""; style = ""
                if (match(opt, /\[=<[^>]*>\]$/)) {
                    arg = substr(opt, RSTART); opt = substr(opt, 1, RSTART - 1); style = "[="
                } else if (match(opt, /=<[^>]*>$/)) {
                    arg = substr(opt, RSTART); opt = substr(opt, 1, RSTART - 1); style = "="
                } else if (i < n && w[i + 1] ~ /^<[^>]*>,?$/) {
                    arg = w[++i]; style = " "
                }
                gsub(/[][<>=,]/, "", arg)
                print (section == "" ? "global" : section) "\t" opt "\t" arg "\t" style
            }
        }'
}

_tether_complete_arg() # placeholder
{
    case $1 in
        dir | directory) _filedir -d ;;
        file | path) _filedir ;;
        signal | sig)
            if [[ $cur == SIG* ]]; then
                COMPREPLY+=($(compgen -A signal -- "$cur"))
            else
                _signals
            fi
            ;;
        command) COMPREPLY+=($(compgen -c -- "$cur")) ;;
    esac
}

_tether()
{
    local cur prev words cword
    _init_completion -n = || return

    local help sub= i line section opt arg style
    help=$(_tether_parse_help "${words[0]}")
    local -a commands=() opts=()
    local -A argof=() styleof=()
    while IFS=$'\t' read -r section opt arg style; do
        if [[ $section == command ]]; then
            commands+=("$opt")
        fi
    done <<<"$help"

    # The subcommand: the first word that is not an option.
    local subidx=0
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} != -* ]]; then
            sub=${words[i]} subidx=$i
            break
        fi
    done
    # The options that apply here: the subcommand's, or the global ones.
    while IFS=$'\t' read -r section opt arg style; do
        [[ $section == command || -z $opt ]] && continue
        # init takes every option of run as well.
        if [[ $section == "${sub:-global}" || ($sub == init && $section == run) ||
            ($section == global && $opt == --help) ]]; then
            opts+=("$opt")
            argof[$opt]=$arg
            styleof[$opt]=$style
        fi
    done <<<"$help"

    if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "${commands[*]} help" -- "$cur"))
        fi
        return
    fi

    # After the options of "run" comes the command: after "--", or at the
    # first word that is neither an option nor an option's argument.
    if [[ $sub == run || $sub == init ]]; then
        for ((i = subidx + 1; i < cword; i++)); do
            if [[ ${words[i]} == -- ]]; then
                _command_offset $((i + 1))
                return
            fi
            if [[ ${words[i]} == -* ]]; then
                [[ ${styleof[${words[i]}]-} == " " ]] && ((i++))
                continue
            fi
            _command_offset "$i"
            return
        done
    fi

    # The argument of the option before: "--opt ARG" ...
    if [[ $prev == -* && ${styleof[$prev]-} == " " ]]; then
        if [[ -n ${_tether_words[$prev]-} ]]; then
            COMPREPLY=($(compgen -W "${_tether_words[$prev]}" -- "$cur"))
        else
            _tether_complete_arg "${argof[$prev]}"
        fi
        return
    fi
    # ... or "--opt=ARG".
    if [[ $cur == --*=* ]]; then
        opt=${cur%%=*}
        cur=${cur#*=}
        if [[ -n ${_tether_words[$opt]-} ]]; then
            COMPREPLY=($(compgen -W "${_tether_words[$opt]}" -- "$cur"))
        else
            _tether_complete_arg "${argof[$opt]-}"
        fi
        return
    fi

    if [[ $cur == -* || ($sub != run && $sub != init) ]]; then
        local -a cand=()
        for opt in "${opts[@]}"; do
            case ${styleof[$opt]} in
                =) cand+=("$opt=") ;;
                "[=") cand+=("$opt" "$opt=") ;;
                *) cand+=("$opt") ;;
            esac
        done
        [[ $sub == run || $sub == init ]] && cand+=(--)
        COMPREPLY=($(compgen -W "${cand[*]}" -- "$cur"))
        # "--opt=" waits for its value
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
        return
    fi
    # "tether run <TAB>": options or the command.
    COMPREPLY=($(compgen -c -- "$cur"))
}

complete -F _tether tether
