#!/bin/sh
# embed-blob.sh FILE SYMBOL OUT.S: an assembly file that embeds FILE as
# SYMBOL[] .. SYMBOL_end[] (hidden, read-only).
set -eu
file=$(realpath "$1") sym=$2 out=$3
cat >"$out" <<EOS
	.section .rodata
	.balign 16
	.globl ${sym}
	.hidden ${sym}
${sym}:
	.incbin "${file}"
	.globl ${sym}_end
	.hidden ${sym}_end
${sym}_end:
	.section .note.GNU-stack,"",%progbits
EOS
