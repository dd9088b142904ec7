#!/usr/bin/env bash
# debian/libtether0.symbols must list exactly what src/libtether.map exports:
# every global symbol under its version node, and each node itself
# (NODE@NODE), nothing more. A symbol added to the map without a line in the
# symbols file (or the other way round) fails here, before any build;
# dpkg-gensymbols -c4 (debian/rules) then checks the symbols file against
# the built library itself.
#
#   scripts/check-symbols.sh
#
# Prints one PASS:/FAIL: line (and, on failure, the lines to add or remove);
# exit status 0 on pass.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

map=src/libtether.map symbols=debian/libtether0.symbols
fail() { echo "FAIL: symbols: $*"; exit 1; }
[[ -r $map ]] || fail "no $map"
[[ -r $symbols ]] || fail "no $symbols"

# "symbol@NODE" for each global symbol of the map and "NODE@NODE" for each node.
from_map() {
    sed 's,#.*,,; s,/\*.*\*/,,g' "$map" | awk '
        match($0, /^[ \t]*[A-Za-z_][A-Za-z0-9_.]*[ \t]*\{/) {
            node = $0; sub(/^[ \t]*/, "", node); sub(/[ \t]*\{.*/, "", node)
            print node "@" node; scope = "global"; next
        }
        /^[ \t]*\}/ { node = ""; next }
        node == "" { next }
        /^[ \t]*global:/ { scope = "global"; sub(/^[ \t]*global:/, "") }
        /^[ \t]*local:/ { scope = "local"; sub(/^[ \t]*local:/, "") }
        scope == "global" {
            n = split($0, w, ";")
            for (i = 1; i <= n; i++) {
                s = w[i]; gsub(/[ \t]/, "", s)
                if (s != "" && s !~ /[*?]/) print s "@" node
                else if (s ~ /[*?]/) print "WILDCARD " s "@" node
            }
        }' | sort
}
# "symbol@NODE" of each symbol line (" name@NODE minver") of the symbols file.
from_symbols() {
    awk '/^ / { print $1 }' "$symbols" | sort
}

want=$(from_map)
have=$(from_symbols)
if grep -q '^WILDCARD ' <<<"$want"; then
    fail "$map exports a wildcard ($(grep '^WILDCARD ' <<<"$want" | cut -d' ' -f2 | tr '\n' ' ')): list the symbols one by one"
fi
[[ -n $want ]] || fail "no exported symbol found in $map"
[[ $(head -n 1 "$symbols") =~ ^libtether\.so\.0\ libtether0\  ]] || fail "$symbols does not start with 'libtether.so.0 libtether0 ...'"
dups=$(uniq -d <<<"$have")
[[ -z $dups ]] || fail "$symbols lists twice: $(tr '\n' ' ' <<<"$dups")"
if [[ $want != "$have" ]]; then
    version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
    missing=$(comm -23 <(echo "$want") <(echo "$have"))
    extra=$(comm -13 <(echo "$want") <(echo "$have"))
    [[ -z $missing ]] || { echo "  add to $symbols (the version that first has them; meson.build says ${version:-?}):"
                           sed "s/.*/   & ${version:-VERSION}/" <<<"$missing"; }
    [[ -z $extra ]] || { echo "  in $symbols but not exported by $map:"; sed 's/^/   /' <<<"$extra"; }
    fail "$symbols and $map disagree"
fi
counts=$(awk -F@ '$1 == $2 { n++; next } { s++ } END { print s " symbols in " n " version nodes" }' <<<"$want")
echo "PASS: symbols: $symbols lists what $map exports ($counts)"
