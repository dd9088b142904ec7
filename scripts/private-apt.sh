# shellcheck shell=bash
# Sourced by vm/fetch-kernels.sh and scripts/ensure-deps.sh: apt-get run on
# a private state of ours, for packages of other Debian suites, without
# touching the machine's own apt configuration or package lists.
#
#   private_apt DIR SUITE...   sets the array apt_opts for apt-get/apt-cache
#                              with DIR as state, and $uri; dies on failure
#   private_apt_download DIR WORK PACKAGE...
#                              after private_apt DIR: updates its lists and
#                              downloads the packages' .debs into WORK
#
# The packages are those of the architecture $private_apt_arch (a Debian
# architecture such as arm64; default: this machine's own).
#
# The mirror is whatever this machine's apt uses; its name must not be
# written into the project. Taken: the first archive (non-security) URI of
# the deb822 sources, else of a one-line sources.list.
# The caller defines die().

private_apt_uri() {
    local files=() f
    # (A machine installed from the netinst image has only the one-line
    # /etc/apt/sources.list.)
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] && files+=("$f")
    done
    uri=
    if [[ ${#files[@]} -gt 0 ]]; then
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }   # one deb822 stanza per record
                   {
                       u = ""; sec = 0
                       for (i = 1; i <= NF; i++) {
                           if ($i ~ /^URIs:/) { split($i, w, /[ \t]+/); u = w[2] }
                           if ($i ~ /^Suites:.*-security/) sec = 1
                       }
                       if (u != "" && !sec) { print u; exit }
                   }' "${files[@]}")
    fi
    if [[ -z $uri && -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {
                       for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit }
                   }' /etc/apt/sources.list)
    fi
    [[ -n $uri ]] || die "no Debian archive URI found in /etc/apt/sources.list.d/*.sources"
}

private_apt() {
    local apt_dir=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg suite
    local arch=${private_apt_arch:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
    shift
    private_apt_uri
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    [[ -r $keyring ]] || die "$keyring is missing (package debian-archive-keyring)"
    for suite in "$@"; do
        echo "deb [signed-by=$keyring] $uri $suite main"
    done >"$apt_dir/sources.list"
    apt_opts=(
        -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=/dev/null"
        -o "Dir::Cache=$apt_dir/cache" -o "Debug::NoLocking=1"
        -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
    )
}

private_apt_download() {
    local apt_dir=$1 work=$2
    shift 2
    apt-get -q "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
        die "apt-get update failed; see $apt_dir/update.log"
    # apt-get download drops privileges to _apt, which must be able to write there.
    if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
        chown _apt "$work"
    fi
    (cd "$work" && apt-get -q "${apt_opts[@]}" download "$@") >"$work/download.log" 2>&1 || {
        cat "$work/download.log" >&2
        die "apt-get download $* failed"
    }
}
