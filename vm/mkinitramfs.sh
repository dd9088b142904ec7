#!/usr/bin/env bash
# Build the initramfs of the test VM:
#   vm/mkinitramfs.sh OUT.cpio.gz RUNNER TESTDIR
# It holds /init (the statically linked test runner), /tests (every t_*
# executable and every h_* file of TESTDIR) and empty mount points.
# Nothing else: the VM has no shell and no libraries, which is why every
# program in it must be statically linked.
set -euo pipefail

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[[ $# -eq 3 ]] || die "usage: $0 OUT.cpio.gz RUNNER TESTDIR"
out=$1 runner=$2 testdir=$3
[[ -f $runner && -x $runner ]] || die "runner '$runner' is not an executable file"
[[ -d $testdir ]] || die "test directory '$testdir' does not exist"

if ! command -v cpio >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "mkinitramfs: installing cpio" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q cpio >&2 ||
            die "could not install the cpio package"
    else
        die "cpio is missing (install the 'cpio' package)"
    fi
fi

# A dynamically linked program cannot run in the VM; the kernel would only
# say "No working init found" or the test would fail with ENOENT.
is_dynamic() {
    command -v readelf >/dev/null || return 1
    LC_ALL=C readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/tether-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,tmp,tests}
chmod 1777 "$stage/tmp"

is_dynamic "$runner" && die "runner '$runner' is dynamically linked; build it with -static"
cp "$runner" "$stage/init"
chmod 0755 "$stage/init"

ntests=0
shopt -s nullglob
for f in "$testdir"/t_*; do
    [[ -f $f && -x $f ]] || continue
    is_dynamic "$f" && die "test '$f' is dynamically linked; build it with -static"
    cp -p "$f" "$stage/tests/"
    ntests=$((ntests + 1))
done
for f in "$testdir"/h_*; do
    # Helper programs only (meson keeps h_*.p object directories beside them).
    [[ -f $f ]] || continue
    is_dynamic "$f" && die "helper '$f' is dynamically linked; build it with -static"
    cp -a "$f" "$stage/tests/"
done
shopt -u nullglob
[[ $ntests -gt 0 ]] || die "no executable t_* files in '$testdir'"

# The kernel opens /dev/console for init before devtmpfs is mounted; without
# the node the first messages of /init would go nowhere.  Only root can
# create it; the runner reopens the console from devtmpfs anyway.
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null ||
    echo "mkinitramfs: note: cannot create dev/console (not root); relying on devtmpfs" >&2

mkdir -p "$(dirname -- "$out")"
tmp_out="$out.tmp.$$"
(
    cd "$stage"
    find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        cpio --null --quiet -o -H newc -R 0:0
) | gzip -9n >"$tmp_out"
mv -f "$tmp_out" "$out"
echo "mkinitramfs: $out ($ntests tests, $(du -h "$out" | cut -f1))" >&2
