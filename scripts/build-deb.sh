#!/usr/bin/env bash
# The Debian packages (libtether0, libtether-dev, tether, python3-tether):
# checks that the symbols file and the versions agree, builds the packages
# with dpkg-buildpackage -us -uc -b in a clean Debian 12 root out of a copy of
# the tree, checks them with lintian (no error allowed), and installs them
# with apt-get install ./...deb into another clean Debian 12 root, where an
# example builds against the installed tether.pc and runs, tether --version
# runs and Python imports tether and runs a tether.Popen.
#
#   scripts/build-deb.sh [--no-install-check | --install-only]
#
# Runs as root (chroot, mount namespaces) on Debian 12; installs with
# apt-get what it needs and the machine lacks (mmdebstrap, lintian, dpkg-dev,
# git). The clean roots are made once by mmdebstrap from this machine's own
# mirror (read from its apt sources at run time) and cached as directories
# in ${XDG_CACHE_HOME:-$HOME/.cache}/tether/chroot/:
#   deb-bookworm-<arch>-base-<hash>    variant apt, plus gcc, libc6-dev,
#                                      pkg-config, python3, with its apt
#                                      lists (the install check's root)
#   deb-bookworm-<arch>-build-<hash>   the same plus apt-get build-dep of
#                                      debian/control (the build root)
# The hash covers what a root is made of (the include list, Build-Depends),
# so a new build dependency makes a new root; delete them to make fresh
# ones. A cached root is never written to: each build and each install check
# runs on an overlay of it (overlayfs, in a mount namespace of its own) whose
# upper layer is thrown away afterwards; where overlayfs cannot be mounted
# (or with TETHER_DEB_OVERLAY=0) on a copy of it.
#
# The copy of the tree holds its tracked and new, not ignored files, so no
# build artefact reaches the worktree; the .debs, .changes, .buildinfo and
# the logs (build.log, lintian.log, install.log) land in build/deb/.
# --install-only repeats the install check with the .debs in build/deb.
#
# Prints PASS:/FAIL: lines; exit status 0 if all passed.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

build=1 install_check=1
case ${1:-} in
    '') ;;
    --no-install-check) install_check=0 ;;
    --install-only) build=0 ;;
    *) echo "build-deb.sh: unknown argument '$1'" >&2; exit 2 ;;
esac

failed=0
pass() { echo "PASS: deb: $*"; }
fail() { echo "FAIL: deb: $*"; failed=1; }
die() { echo "FAIL: deb: $*"; exit 1; }
say() { echo "build-deb: $*" >&2; }
# shellcheck source=scripts/private-apt.sh
source scripts/private-apt.sh

[[ $(id -u) -eq 0 ]] || die "needs root (chroot, mount namespaces), as make test is run"
if ! command -v apt-get >/dev/null || [[ ! -r /etc/debian_version ]]; then
    die "needs Debian (apt-get)"
fi

t_all=$SECONDS

# ---- what this machine needs: only what is missing ----
apt_install() { # packages...
    local missing=() p i
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "installing ${missing[*]}"
    # A fresh machine may have no package lists; the dpkg lock may be busy.
    for i in 1 2 3 4 5 6; do
        if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
               >/dev/null 2>&1; then
            return 0
        fi
        apt-get update -q >/dev/null 2>&1 || true
        sleep $((i * 5))
    done
    die "apt-get install ${missing[*]} failed"
}
host_pkgs=(mmdebstrap lintian dpkg-dev debian-archive-keyring)
[[ -d .git || -f .git ]] && host_pkgs+=(git)
apt_install "${host_pkgs[@]}"

# ---- the symbols file and the versions, before anything is built ----
scripts/check-symbols.sh || failed=1
scripts/check-version.sh || failed=1

version=$(dpkg-parsechangelog -S Version) || die "cannot read debian/changelog"
arch=$(dpkg --print-architecture)
out=build/deb
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tether/chroot
suite=bookworm
include=gcc,libc6-dev,pkg-config,python3
base=$cache/deb-$suite-$arch-base-$(sha256sum <<<"$suite $include lists" | cut -c1-12)
build_deps=$(awk '/^Build-Depends:/ { on = 1 } on && /^[A-Z][A-Za-z-]*:/ && !/^Build-Depends:/ { on = 0 } on' \
             debian/control)
broot=$cache/deb-$suite-$arch-build-$(sha256sum <<<"$(basename "$base") $build_deps" | cut -c1-12)

# ---- running in a root: the cached one is never written to ----
# Each run gets DIR/upper, where what it writes lands (files put there
# before the run are seen in the root): an overlay over the cached root, or,
# where overlayfs cannot be mounted, a copy of it.
# (The probe's upper layer is where the runs' will be: not every file system
# can be one.)
overlay=${TETHER_DEB_OVERLAY:-1}
if [[ $overlay -eq 1 ]]; then
    probe=$out/.overlay-probe
    rm -rf "$probe"
    mkdir -p "$probe"/{l,u,w,m}
    unshare --mount --fork -- mount -t overlay overlay \
        -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null || overlay=0
    rm -rf "$probe"
fi
new_run() { # CACHED-ROOT DIR: an empty run of CACHED-ROOT in DIR
    rm -rf "$2"
    mkdir -p "$2/upper"
    if [[ $overlay -eq 1 ]]; then
        # Directories made in the upper layer hide the attributes of the
        # cached ones: the same as there.
        mkdir -m 0755 "$2/upper/etc"
        mkdir -m 1777 "$2/upper/tmp"
    else
        cp -a "$1/." "$2/upper/"
    fi
    cp -L /etc/resolv.conf "$2/upper/etc/resolv.conf"
}
# in_root DIR SCRIPT [CACHED-ROOT]: run SCRIPT with /bin/sh -e in the root
# DIR (with CACHED-ROOT and overlays: the root is CACHED-ROOT with DIR over
# it), with /proc and /dev, in a mount namespace of its own, so that nothing
# stays mounted.
in_root() {
    local lower=
    [[ $overlay -eq 1 ]] && lower=${3:-}
    unshare --mount --fork -- /bin/sh -ec '
        root=$1
        if [ -n "$3" ]; then
            mkdir -p "$1.work" "$1.root"
            mount -t overlay overlay -o "lowerdir=$3,upperdir=$1,workdir=$1.work" "$1.root"
            root=$1.root
        fi
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
            DEBIAN_FRONTEND=noninteractive /bin/sh -ec "$2"
    ' _ "$1" "$2" "$lower"
}

# ---- the clean roots, made once (one maker at a time; others wait) ----
t0=$SECONDS
made=
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ ! -d $base ]]; then
    private_apt_uri
    say "making a clean $suite root, once (mmdebstrap, $uri)"
    # The apt lists stay, so that the install check finds the packages'
    # dependencies.
    rm -rf "$base.new"
    mmdebstrap --variant=apt --include="$include" --skip=cleanup/apt/lists \
        "$suite" "$base.new" "deb $uri $suite main" >"$cache/mmdebstrap.log" 2>&1 ||
        { rm -rf "$base.new"; die "mmdebstrap failed; see $cache/mmdebstrap.log"; }
    mv "$base.new" "$base"
    made+="base root "
fi
if [[ $build -eq 1 && ! -d $broot ]]; then
    say "making a $suite root with the build dependencies, once (apt-get build-dep)"
    rm -rf "$broot.new"
    cp -a "$base" "$broot.new"
    cp -L /etc/resolv.conf "$broot.new/etc/resolv.conf"
    mkdir -p "$broot.new/tmp/ctl/debian"
    cp debian/control "$broot.new/tmp/ctl/debian/"
    in_root "$broot.new" 'apt-get update -q && apt-get build-dep -y -q /tmp/ctl && apt-get clean && rm -rf /tmp/ctl' \
        >"$cache/build-deps.log" 2>&1 || { rm -rf "$broot.new"; die "apt-get build-dep failed; see $cache/build-deps.log"; }
    mv "$broot.new" "$broot"
    made+="build root "
fi
exec 9>&-
[[ -z $made ]] || say "made the ${made}in $((SECONDS - t0)) s (cached in $cache)"
say "roots ready at $((SECONDS - t_all)) s ($([[ $overlay -eq 1 ]] && echo overlays || echo copies) of the cached ones)"

# ---- dpkg-buildpackage in a clean root, from a copy of the tree ----
if [[ $build -eq 1 ]]; then
    t1=$SECONDS
    rm -rf "$out"
    mkdir -p "$out"
    run=$out/build-root
    new_run "$broot" "$run"
    src=$run/upper/build/tether-$version
    mkdir -p "$src"
    if [[ -e .git ]]; then
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
            tar --null -T - -cf - | tar -xf - -C "$src"
    else
        tar --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -xf - -C "$src"
    fi
    if in_root "$run/upper" "cd /build/tether-$version && dpkg-buildpackage -us -uc -b -J$(nproc)" "$broot" \
        >"$out/build.log" 2>&1; then
        cp "$run"/upper/build/*.deb "$run"/upper/build/*.changes "$run"/upper/build/*.buildinfo "$out/"
        debs=$(cd "$out" && ls ./*.deb | tr '\n' ' ')
        pass "dpkg-buildpackage -us -uc -b in a clean $suite root built $debs($((SECONDS - t1)) s)"
    else
        sed 's/^/  /' <(tail -n 40 "$out/build.log")
        rm -rf "$run"
        die "dpkg-buildpackage failed; see $out/build.log"
    fi
    rm -rf "$run"
fi
shopt -s nullglob
debs=("$out"/libtether0_*.deb "$out"/libtether-dev_*.deb "$out"/tether_*.deb "$out"/python3-tether_*.deb)
shopt -u nullglob
[[ ${#debs[@]} -eq 4 ]] || die "expected the 4 packages in $out, found ${#debs[@]} (build them first)"

# ---- lintian: no error; warnings and information listed (in the
# background: it reads the packages while the install check runs) ----
lint_pid=
if [[ $build -eq 1 ]]; then
    t2=$SECONDS
    changes=$(ls "$out"/tether_*_"$arch".changes)
    ( lintian --fail-on error --display-info "$changes" >"$out/lintian.log" 2>&1; echo $? >"$out/lintian.rc"
      echo $((SECONDS - t2)) >"$out/lintian.time" ) &
    lint_pid=$!
fi

# ---- apt-get install ./...deb into another clean root: only what the
# packages bring and declare ----
if [[ $install_check -eq 1 ]]; then
    t3=$SECONDS
    run=$out/install-root
    new_run "$base" "$run"
    mkdir -p "$run/upper/tmp/deb"
    cp "${debs[@]}" examples/fire-and-forget.c "$run/upper/tmp/deb/"
    chmod -R a+rX "$run/upper/tmp/deb" # apt reads local .debs as _apt
    if in_root "$run/upper" '
        cd /tmp/deb
        pkgs="./libtether0_*.deb ./libtether-dev_*.deb ./tether_*.deb ./python3-tether_*.deb"
        # The lists in the cached root may be older than the mirror: then
        # once more after apt-get update.
        apt-get install -y -q $pkgs >apt.log 2>&1 ||
            { echo "+ the cached package lists are stale: apt-get update"
              apt-get update -q >>apt.log 2>&1 && apt-get install -y -q $pkgs >>apt.log 2>&1; } ||
            { cat apt.log; exit 1; }
        echo "+ installed: $(dpkg-query -W -f="\${Package}=\${Version} " libtether0 libtether-dev tether python3-tether)"
        set -x
        cc -std=gnu17 -Wall -Wextra -Werror -o example fire-and-forget.c $(pkg-config --cflags --libs tether)
        ldd ./example | grep "libtether.so.0 => /"
        ./example
        tether --version
        tether run --autoreap --nnp -- /bin/true
        # The Python extension has the library linked in: no libtether.so.
        if ldd /usr/lib/python3/dist-packages/tether/_tether.*.so | grep libtether; then exit 1; fi
        cd /
        python3 -c "
import tether
assert tether.__file__.startswith(\"/usr/lib/python3/dist-packages/tether/\"), tether.__file__
p = tether.Popen([\"sh\", \"-c\", \"exit 3\"], autokill=True, nnp=True)
assert p.wait() == 3, p.returncode
print(\"tether.Popen:\", p.pid, p.backend, p.returncode)
"
        test -f /usr/include/tether.h
        test -f /usr/include/tether-version.h
        test -f /usr/share/man/man3/tether_spawn.3.gz
        test -f /usr/share/man/man1/tether.1.gz
        test -f /usr/share/man/man7/tether.7.gz
        test -f /usr/share/bash-completion/completions/tether
        test -f /usr/share/zsh/vendor-completions/_tether
    ' "$base" >"$out/install.log" 2>&1; then
        pass "apt-get install ./*.deb in a clean $suite root: an example builds against tether.pc and runs, $(grep -m1 '^tether [0-9]' "$out/install.log" | cut -d';' -f1), python3 runs a tether.Popen ($((SECONDS - t3)) s)"
    else
        sed 's/^/  /' "$out/install.log"
        fail "installing and using the packages in a clean $suite root; see $out/install.log"
    fi
    if grep -q '^+ the cached package lists are stale' "$out/install.log"; then
        say "the install root's package lists are older than the mirror (each run updates them):" \
            "rm -rf $base to make a fresh root"
    fi
    rm -rf "$run"
fi

if [[ -n $lint_pid ]]; then
    wait "$lint_pid" || true
    lint=$(cat "$out/lintian.rc")
    grep -v 'running with root privileges' "$out/lintian.log" | sed 's/^/  /' || true
    counts="$(grep -c '^E:' "$out/lintian.log" || true) errors, $(grep -c '^W:' "$out/lintian.log" || true) warnings, $(grep -c '^I:' "$out/lintian.log" || true) information"
    if [[ $lint -eq 0 ]]; then
        pass "lintian reports no error ($counts; $(cat "$out/lintian.time") s)"
    else
        fail "lintian (exit status $lint: $counts); see $out/lintian.log"
    fi
fi

say "$((SECONDS - t_all)) s in all"
exit "$failed"
