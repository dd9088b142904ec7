#!/usr/bin/env bash
# Download Debian cloud kernels for the QEMU test matrix:
#   vm/fetch-kernels.sh [--arch ARCH] [SERIES...]   (default: 5.10 6.1 6.12 7.0 7.1 7.2 7.3)
# ARCH is a Debian architecture, amd64 (the default) or arm64; it is also
# taken from TETHER_KERNEL_ARCH. The flavour is cloud-ARCH unless
# TETHER_KERNEL_FLAVOUR says otherwise.
# For each series the newest kernel the archive has is cached as
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tether/kernels/<series>/vmlinuz        (amd64)
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tether/kernels-<arch>/<series>/vmlinuz (others)
# next to "version" (the kernel release, as uname -r prints it), "package"
# (Debian package name and version) and, when the package ships it, "config".
# A series already in the cache is never fetched again, and when every
# requested series is cached the network is not touched at all; delete
# the series' directory to get a newer kernel.
# Prints the path of each kernel's vmlinuz, one per line, in argument order.
set -euo pipefail

die() { echo "fetch-kernels: error: $*" >&2; exit 1; }
# shellcheck source=../scripts/private-apt.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../scripts/private-apt.sh"
say() { echo "fetch-kernels: $*" >&2; }

arch=${TETHER_KERNEL_ARCH:-amd64}
if [[ ${1:-} == --arch ]]; then
    arch=${2:?--arch needs a Debian architecture}
    shift 2
fi
[[ $arch =~ ^[a-z0-9]+$ ]] || die "'$arch' is not a Debian architecture like arm64"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tether/kernels
[[ $arch == amd64 ]] || cache+=-$arch
flavour=${TETHER_KERNEL_FLAVOUR:-cloud-$arch}

if [[ $# -eq 0 ]]; then
    set -- 5.10 6.1 6.12 7.0 7.1 7.2 7.3
fi
for s in "$@"; do
    [[ $s =~ ^[0-9]+\.[0-9]+$ ]] || die "'$s' is not a kernel series like 6.12"
done

cached() { [[ -s $cache/$1/vmlinuz && -s $cache/$1/version ]]; }

missing=()
for s in "$@"; do
    cached "$s" || missing+=("$s")
done

if [[ ${#missing[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null || die "apt-get is needed to download kernels"
    command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack kernels"
    mkdir -p "$cache"
    # One fetch at a time (concurrent matrix runs share the cache).
    exec 9>"$cache/.lock"
    flock 9

    # Private apt state: the suites with the kernels we want.
    apt_dir=$cache/.apt
    private_apt_arch=$arch
    private_apt "$apt_dir" sid trixie trixie-backports bookworm bullseye
    say "updating package lists from $uri (sid, trixie, trixie-backports, bookworm, bullseye)"
    apt-get -q "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
        die "apt-get update failed; see $apt_dir/update.log"
    # Every package name once, for the searches below.
    names=$(apt-cache "${apt_opts[@]}" pkgnames linux-) ||
        die "apt-cache pkgnames failed"

    work=$(mktemp -d "${TMPDIR:-/tmp}/tether-kernels.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # apt-get download drops privileges to _apt, which must be able to
    # write where it downloads.
    if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
        chown _apt "$work"
    fi

    for s in "${missing[@]}"; do
        # Kernel releases of the series, e.g. 7.2.13+deb14-cloud-amd64 or
        # 6.1.0-50-cloud-amd64; the image is in linux-binary-<release>
        # (6.19 and later) or linux-image-<release> (older).  Newest by
        # version order.
        re="^linux-(binary|image)-(${s//./\\.}\\.[0-9][0-9A-Za-z.+~]*(-[0-9]+)?-$flavour)\$"
        release=$({ grep -E "$re" <<<"$names" || true; } | sed -E "s/$re/\\2/" | sort -uV | tail -n 1)
        [[ -n $release ]] || die "no $flavour kernel of series $s in sid, trixie, trixie-backports, bookworm or bullseye"
        say "series $s: newest release is $release"

        # linux-image-<release> is only a meta package on newer kernels, so
        # try the packages that carry the image itself first.
        found=
        for pkg in "linux-binary-$release" "linux-image-$release" \
                   "linux-binary-unsigned-$release" "linux-image-$release-unsigned"; do
            grep -qxF "$pkg" <<<"$names" || continue
            rm -rf "${work:?}"/*
            (cd "$work" && apt-get -q "${apt_opts[@]}" download "$pkg") >"$work.log" 2>&1 || {
                cat "$work.log" >&2
                rm -f "$work.log"
                die "apt-get download $pkg failed"
            }
            rm -f "$work.log"
            deb=("$work"/*.deb)
            [[ -f ${deb[0]} ]] || die "apt-get download $pkg produced no .deb"
            mkdir "$work/root"
            dpkg-deb -x "${deb[0]}" "$work/root" || die "cannot unpack ${deb[0]}"
            # The image's place differs between packages: most have
            # boot/vmlinuz-<release>, newer ones (7.2 in sid)
            # usr/lib/modules/<release>/vmlinuz.
            for cand in "$work/root/usr/lib/modules/$release/vmlinuz" \
                        "$work/root/boot/vmlinuz-$release"; do
                if [[ -s $cand ]]; then
                    found=$cand
                    break
                fi
            done
            if [[ -n $found ]]; then
                pkgver=$(dpkg-deb -f "${deb[0]}" Version)
                break
            fi
            say "$pkg does not contain the kernel image, trying the next package"
        done
        [[ -n $found ]] || die "no package of $release contains vmlinuz"

        # Fill a fresh directory, then rename it: an interrupted fetch never
        # leaves a half-written series that would count as cached.
        dest=$cache/$s
        new=$cache/.$s.new.$$
        rm -rf "$new"
        mkdir -p "$new"
        cp "$found" "$new/vmlinuz"
        echo "$release" >"$new/version"
        echo "$pkg $pkgver" >"$new/package"
        for cfg in "$work/root/boot/config-$release" "$work/root/usr/lib/modules/$release/config"; do
            if [[ -s $cfg ]]; then
                cp "$cfg" "$new/config"
                break
            fi
        done
        rm -rf "$dest"
        mv "$new" "$dest"
        say "series $s: cached $release ($pkg $pkgver)"
    done
fi

for s in "$@"; do
    cached "$s" || die "series $s is not in the cache after fetching"
    echo "$cache/$s/vmlinuz"
done
