#!/usr/bin/env bash
# tether's benchmark: build bench/ (a file per part, one binary), run every part, and write
#   build/bench/results.csv   every figure, one row per method x metric
#   build/bench/report.md     the tables as the program printed them
#   bench/results.md          machine, tables and targets (worth committing)
#   bench/spawn-vs-rss.png    spawn latency vs the parent's RSS (gnuplot)
#
#   bench/run.sh [--quick] [--vm] [--diag] [--render]
#     --quick  small counts: a smoke run of a minute, results not written to bench/
#     --render measure nothing: tables, plot and bench/results.md from the last run
#     --vm     also boot Debian's 7.2 kernel in QEMU (TCG) with the benchmark as
#              init, for native vs emulated ratios (build/bench/results-vm.csv)
#     --diag   also strace -c -f of single methods (build/bench/strace-*.txt)
#
# Absolute figures drift on shared machines; compare within one run, as ratios.
set -euo pipefail

cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
root=$PWD
out=$root/build/bench
quick=0 vm=0 diag=0 render=0
for a in "$@"; do
    case $a in
        --quick) quick=1 ;;
        --vm) vm=1 ;;
        --diag) diag=1 ;;
        --render) render=1 ;;
        -h | --help) awk 'NR >= 2 && NR <= 15 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$a'" >&2; exit 2 ;;
    esac
done

say() { echo "bench: $*" >&2; }

bench=$out/bench
csv=$out/results.csv
report=$out/report.md
meta=$out/meta.sh
vmcsv=$out/results-vm.csv
vmtable=$out/vm.md

run() { # run PART ARGS...: tables to the terminal and the report, rows to the CSV
    say "$* ..."
    local t0=$SECONDS
    "$bench" --csv "$csv" "$@" | tee -a "$report"
    say "$1 done in $((SECONDS - t0)) s"
}

if ((render)); then
    [[ -s $csv && -s $meta ]] || { echo "run.sh: no earlier run in $out" >&2; exit 1; }
    # shellcheck source=/dev/null
    . "$meta"
    commit=${commit:-unknown}
else
    [[ -f build/build.ninja ]] || meson setup build >/dev/null
    ninja --quiet -C build bench/bench bench/bench-noop
    echo "part,method,backend,param,metric,value,unit" >"$csv"
    : >"$report"
    rm -f "$vmcsv" "$vmtable"
    # The largest parent that fits: 8 GiB wants about 9 GiB free.
    avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    rss_sizes=(64M 1G 8G)
    if ((avail_kib < 10 * 1024 * 1024)); then
        rss_sizes=(64M 1G)
        say "only $((avail_kib / 1024)) MiB available: no 8 GiB parent"
    fi

    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    t_start=$SECONDS
    if ((quick)); then
        run spawn 6 5
        run spawn-1cpu 6 5
        run clone3 6 5
        run rss 64M 256M
        run reap 200 1000 --reps 1
        run autokill 30
        run memory 200
        run kmem 200 1
        run idle 200 1
        run tree 4 5 200 3
    else
        run spawn 100 20
        run spawn-1cpu 60 20
        run clone3 100 20
        run rss "${rss_sizes[@]}"
        run reap 1000 10000 --reps 3
        run autokill 300
        run memory 1000
        run kmem 250 3
        run kmem 1000 5
        run idle 1000 3
        run tree 40 10 1000 20
    fi
    # The Python package: tether.Popen against subprocess.Popen (bench/python.sh).
    say "python ..."
    bench/python.sh --csv "$csv" --md "$out/python.md" $( ((quick)) && echo --quick ) | tee -a "$report"
    elapsed=$((SECONDS - t_start))
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)

    if ((diag)); then
        if command -v strace >/dev/null; then
            for id in spawn/none/kernel spawn/autoreap/emulate spawn/autoreap+nnp+autokill/emulate \
                spawn/autoreap+nnp+autokill/emulate/warm clone3/autoreap/emulate posix_spawn; do
                f=$out/strace-${id//\//_}.txt
                n=200
                [[ $id == spawn/none/kernel ]] && n=20
                strace -f -c -o "$f" "$bench" loop "$id" "$n" >/dev/null
                say "strace -c -f of $n x $id: $f"
            done
        else
            say "strace not installed: no --diag"
        fi
    fi
    when=$(date -u '+%Y-%m-%d %H:%M UTC')
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- src include 2>/dev/null || commit="$commit + uncommitted changes in src/"
    printf 'elapsed=%q load_before=%q load_after=%q when=%q commit=%q\n' "$elapsed" "$load_before" \
        "$load_after" "$when" "$commit" >"$meta"
fi

# ---- targets (issues #5, #10 and #13), evaluated on this run's CSV ----
targets=$out/targets.md
awk -F, '
function v(p, m, b, q, k) { key = p SUBSEP m SUBSEP b SUBSEP q SUBSEP k; return (key in val) ? val[key] : "n/a" }
function row(what, measured, goal, ok) {
    verdict = measured == "n/a" ? "n/a" : ok ? "met" : "**missed**"
    if (goal == "-") verdict = "-"
    # (one decimal at least: 256.4 shown as "256" would read as meeting "≤ 256")
    if (measured ~ /^[0-9.e+-]+$/) measured = measured == int(measured) ? sprintf("%d", measured) : sprintf(measured + 0 >= 100 ? "%.1f" : "%.3f", measured)
    printf "| %s | %s | %s | %s |\n", what, measured, goal, verdict
}
NR > 1 { val[$1, $2, $3, $4, $5] = $6; if ($1 == "spawn" && $5 == "throughput_ratio") spawn[$2 SUBSEP $3] = $6
         if ($1 == "rss" && $5 == "latency_p50_ratio") { rss[$2 SUBSEP $3] = $6; rssp = $4 }
         if ($1 == "rss" && $5 == "latency_p50_ratio_vs_posix_spawn") rssn[$2 SUBSEP $3] = $6 }
END {
    print "| target | measured | goal | verdict |"
    print "|---|---:|---:|---|"
    r = v("spawn", "tether_spawn autoreap+nnp+autokill", "emulate", "", "throughput_ratio")
    row("tether_spawn autoreap+nnp+autokill, emulated: throughput ÷ posix_spawn", r, "≥ 1.00", r + 0 >= 1.00)
    r = v("spawn-1cpu", "tether_spawn autoreap+nnp+autokill", "emulate", "", "throughput_ratio")
    row("same, every process on one CPU (spawn-1cpu; information: what placement across CPUs costs)", r, "-", 1)
    r = v("spawn", "tether_spawn none", "-", "", "throughput_ratio")
    row("tether_spawn (no lifecycle flags): throughput ÷ posix_spawn", r, "≥ 1.15", r + 0 >= 1.15)
    n = split("autoreap nnp autoreap+nnp autoreap+autokill", c, " ")
    for (i = 1; i <= n; i++) {
        r = v("spawn", "tether_spawn " c[i], "emulate", "", "throughput_ratio")
        row("tether_spawn " c[i] ", emulated: throughput ÷ posix_spawn", r, "≥ 0.95", r + 0 >= 0.95)
    }
    # CPU time of every task per spawn: far less sensitive to the load than wall time.
    n = split("none autoreap nnp autoreap+nnp autoreap+autokill autoreap+nnp+autokill", c, " ")
    for (i = 1; i <= n; i++) {
        b = c[i] == "none" ? "-" : "emulate"
        r = v("spawn", "tether_spawn " c[i], b, "", "cpu_ratio")
        row("tether_spawn " c[i] (b == "-" ? "" : ", emulated") ": CPU per spawn, posix_spawn ÷ it (information)", r, "-", 1)
    }
    for (k in spawn) {
        split(k, p, SUBSEP)
        if (p[1] ~ /\(warm\)/) row(p[1] ", emulated (another such child alive meanwhile; information)", spawn[k], "≥ 0.95", spawn[k] + 0 >= 0.95)
    }
    for (k in rss) {
        split(k, p, SUBSEP)
        if (p[1] ~ /^tether_spawn/ && p[2] != "native") {
            row(p[1] (p[2] == "emulate" ? ", emulated" : "") ": spawn p50 " rssp " parent", rss[k], "≤ 1.10", rss[k] + 0 <= 1.10)
            row("same, drift-corrected (÷ posix_spawn'"'"'s " rssp ")", rssn[k], "≤ 1.10", rssn[k] + 0 <= 1.10)
        }
    }
    for (k in rss) {
        split(k, p, SUBSEP)
        if (p[1] !~ /^tether_spawn/) row(p[1] ": spawn p50 " rssp " parent (reference)", rss[k], "-", 1)
    }
    t = v("clone3", "tether_clone3 autoreap", "emulate", "", "throughput_ratio")
    r = t == "n/a" || t + 0 == 0 ? "n/a" : sprintf("%.3f", 1 / t)
    row("tether_clone3 autoreap, emulated, fork-like create+exit: time ÷ raw clone3+waitid", r, "≤ 1.20", r + 0 <= 1.20)
    r = v("reap", "tether emulated reaper", "emulate", "N=10000", "exit_to_reap_p99")
    row("10 000 children at once: exit→reap p99 (µs)", r, "< 1000", r + 0 < 1000)
    r = v("reap", "baseline: epoll + waitid(P_PIDFD) thread", "-", "N=10000", "exit_to_reap_p99")
    row("same, baseline: a bare epoll + waitid(P_PIDFD) reaper thread (µs, reference)", r, "-", 1)
    n = split("tether_child_release -> death|tether_pidfd_close -> death (tether_clone3 child)|creator SIGKILL -> death|tether_child_release -> death (100 other autokill children)", e, "|")
    for (i = 1; i <= n; i++) {
        r = v("autokill", e[i], "emulate", "", "latency_p99")
        row("autokill, emulated: " e[i] " p99 (µs)", r, "< 1000", r + 0 < 1000)
    }
    n = split("tether_spawn autoreap+nnp+autokill|tether_spawn autoreap|tether_clone3 autoreap+nnp+autokill|tether_clone3 autoreap", m, "|")
    for (i = 1; i <= n; i++) {
        r = v("memory", m[i], "emulate", "", "heap_per_child")
        row("library heap per tracked child, " m[i] " (bytes)", r, "≤ 256", r + 0 <= 256)
        a = v("memory", m[i], "emulate", "", "threads_before"); z = v("memory", m[i], "emulate", "", "threads_after")
        row("no per-child thread, " m[i] " (threads before → after 1000 more)", a " → " z, "equal", a == z)
        r = v("memory", m[i], "emulate", "", "monitors_per_child")
        g = m[i] ~ /autokill/ || m[i] ~ /^tether_spawn/ ? "1" : "0"
        row("monitors per child, " m[i], r, g, r != "n/a" && r + 0 == g + 0)
    }
    n = split("monitor: tether_spawn autoreap+nnp+autokill − posix_spawn|monitor: tether_spawn autoreap − posix_spawn|monitor (watch): tether_clone3 autoreap+nnp+autokill − autoreap", m, "|")
    for (i = 1; i <= n; i++) {
        r = v("kmem", m[i], "emulate", "N=1000", "sum_per_child")
        row(m[i] ", 1000 live: slab+kernel stack+page tables+shmem+heap per child (KiB)", r == "n/a" ? r : r / 1024, "≤ 64", r + 0 <= 64 * 1024)
        r = v("kmem", m[i], "emulate", "N=1000", "free_per_child")
        row("same, MemFree fallen per child (KiB; the shared machine'"'"'s noise included)", r == "n/a" ? r : r / 1024, "≤ 64", r + 0 <= 64 * 1024)
        r = v("kmem", m[i], "emulate", "N=1000", "avail_per_child")
        row("same, MemAvailable fallen per child (KiB; the shared machine'"'"'s noise included)", r == "n/a" ? r : r / 1024, "≤ 64", r + 0 <= 64 * 1024)
    }
    r = v("kmem", "posix_spawn", "-", "N=1000", "sum_per_child")
    row("for scale: a posix_spawn'"'"'ed bench-noop, slab+kernel stack+page tables+shmem per child (KiB)", r == "n/a" ? r : r / 1024, "-", 1)
    r = v("idle", "caller process", "emulate", "", "cpu_ticks")
    row("idle, 1000 monitored children for 3 s: CPU ticks of the caller", r, "0", r + 0 == 0)
    r = v("idle", "caller process", "emulate", "", "threads")
    row("idle: threads of the caller (no per-child thread)", r, "1", r + 0 == 1)
    r = v("idle", "caller process", "emulate", "", "library_threads_ctxsw")
    row("idle: wake-ups of the library thread", r, "0", r + 0 == 0)
    r = v("idle", "tether-monitor (all)", "emulate", "", "count")
    row("idle: monitors alive", r, "1000", r + 0 == 1000)
    r = v("idle", "tether-monitor (all)", "emulate", "", "cpu_ticks")
    row("idle: CPU ticks of all monitors together", r, "0", r + 0 == 0)
    r = v("idle", "tether-monitor (all)", "emulate", "", "ctxsw")
    row("idle: wake-ups of all monitors together", r, "0", r + 0 == 0)
    ak = v("tree", "tether_spawn autoreap+autokill", "emulate", "", "throughput_ratio")
    n = split("subreaper cgroup", m, " ")
    for (i = 1; i <= n; i++) {
        r = v("tree", "tree (" m[i] ") none", "-", "", "throughput_ratio")
        row("tree (" m[i] ") spawn: throughput ÷ plain tether_spawn", r, "≥ 0.90", r + 0 >= 0.90)
        r = v("tree", "tree (" m[i] ") autoreap+autokill", "emulate", "", "throughput_ratio")
        q = r == "n/a" || ak == "n/a" || ak + 0 == 0 ? "n/a" : sprintf("%.3f", r / ak)
        row("tree (" m[i] ") autoreap+autokill spawn ÷ tether_spawn autoreap+autokill emulated (both a monitor; information)", q, "-", 1)
    }
    for (k in val) {
        split(k, p, SUBSEP)
        if (p[1] == "tree" && p[5] == "kill_p50") size = p[4]
    }
    r = v("tree", "kill(2) + waitpid() of own children", "-", size, "kill_p99")
    row("killing " size " processes: kill(2) + waitpid() of the caller'"'"'s own children, p99 (ms, reference)", r, "-", 1)
    for (i = 1; i <= n; i++) {
        r = v("tree", "tree (" m[i] ")", "-", size, "kill_p50")
        row("tree (" m[i] ") of " size ": tether_child_kill_tree(SIGKILL) p50 (ms)", r, "< 100", r + 0 < 100)
        r = v("tree", "tree (" m[i] ")", "-", size, "kill_p99")
        row("tree (" m[i] ") of " size ": tether_child_kill_tree(SIGKILL) p99 (ms)", r, "< 100", r + 0 < 100)
    }
}' "$csv" >"$targets"
echo
echo "Targets (issues #5, #10 and #13), this run:"
echo
cat "$targets"

# ---- native, in a VM ----
if ((vm && !render)); then
    vmdir=$out/vm
    mkdir -p "$vmdir"
    if kernel=$("$root/vm/fetch-kernels.sh" 7.2) && command -v qemu-system-x86_64 >/dev/null; then
        rm -rf "$vmdir/root"
        mkdir -p "$vmdir/root"/{dev,proc,tmp}
        cp "$bench" "$vmdir/root/init"
        cp "$out/bench-noop" "$vmdir/root/bench-noop"
        mknod -m 0600 "$vmdir/root/dev/console" c 5 1 2>/dev/null || true
        (cd "$vmdir/root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
            cpio --null --quiet -o -H newc -R 0:0) | gzip -1 >"$vmdir/initramfs.cpio.gz"
        say "booting $(cat "$(dirname "$kernel")/version") in QEMU (TCG, 1 CPU) with the benchmark as init ..."
        t0=$SECONDS
        timeout --kill-after=10 1200 qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp 1 -nographic \
            -nic none -no-reboot -kernel "$kernel" -initrd "$vmdir/initramfs.cpio.gz" \
            -append "console=ttyS0 quiet panic=-1" </dev/null >"$vmdir/console.log" 2>&1 || true
        say "VM done in $((SECONDS - t0)) s: $vmdir/console.log"
        tr -d '\r' <"$vmdir/console.log" | sed -n 's/^.*@@BENCH-CSV //p' >"$vmcsv"
        tr -d '\r' <"$vmdir/console.log" | sed -n 's/^.*@@BENCH-KERNEL //p' | head -n 1 >"$out/vm-release"
        grep -q '@@BENCH-DONE' "$vmdir/console.log" || {
            say "the VM run did not finish; see $vmdir/console.log"
            rm -f "$vmcsv"
        }
    else
        say "no 7.2 kernel or no qemu-system-x86_64: no native run"
    fi
fi
if [[ -s $vmcsv ]]; then
    release=$(cat "$out/vm-release" 2>/dev/null)
    {
        echo "Native vs emulated on Linux $release (QEMU/TCG, one CPU): ratios only, absolute"
        echo "times under TCG mean nothing. Latency ratio < 1, throughput ratio > 1: native is faster."
        echo
        echo "| part | method | native ÷ emulated: p50 | p99 | throughput |"
        echo "|---|---|---:|---:|---:|"
        awk -F, 'function f(x) { return x == "" ? "-" : sprintf("%.3f", x) }
            $3 == "native/emulate" { k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
                                     r[k, $5] = $6 }
            END { for (i = 1; i <= n; i++) { split(order[i], p, SUBSEP)
                    printf "| %s | %s | %s | %s | %s |\n", p[1], p[2], f(r[order[i], "latency_p50_ratio"]),
                        f(r[order[i], "latency_p99_ratio"]), f(r[order[i], "throughput_ratio"]) } }' "$vmcsv"
        echo
        echo "Throughput ÷ posix_spawn (spawn) or ÷ raw clone3 (clone3) in the VM:"
        echo
        echo "| part | method | backend | ratio |"
        echo "|---|---|---|---:|"
        awk -F, '$5 == "throughput_ratio" && $3 != "native/emulate" && $6 != "n/a" {
            printf "| %s | %s | %s | %.3f |\n", $1, $2, $3, $6 }' "$vmcsv"
    } >"$vmtable"
    cat "$vmtable"
else
    : >"$vmtable"
fi

((quick)) && { say "quick run: bench/results.md and the plot left as they were"; exit 0; }

# ---- the plot ----
dat=$out/spawn-vs-rss.dat
awk -F, '$1 == "rss" && $5 == "latency_p50" && $6 != "n/a" {
        mib = $4; if (mib ~ /GiB$/) { sub(/GiB$/, "", mib); mib *= 1024 } else sub(/MiB$/, "", mib)
        k = $2 ($3 == "-" ? "" : ", " $3); if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        data[k] = data[k] mib " " $6 "\n" }
    END { for (i = 1; i <= n; i++) printf "%s\"%s\"\n%s", (i > 1 ? "\n\n" : ""), order[i], data[order[i]] }' "$csv" >"$dat"
if ! command -v gnuplot >/dev/null && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing gnuplot-nox"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null 2>&1 ||
        say "could not install gnuplot-nox"
fi
png=$root/bench/spawn-vs-rss.png
if command -v gnuplot >/dev/null && [[ -s $dat ]]; then
    gnuplot -e "datafile='$dat'; outfile='$png'; subtitle='Linux $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%d)'" \
        "$root/bench/plot.gp"
    say "plot: $png"
else
    say "no gnuplot (apt-get install gnuplot-nox): no plot"
fi

# ---- bench/results.md ----
# awk reads it all: with head, ldd could die of SIGPIPE, and pipefail end the script here.
glibc=$(ldd --version 2>/dev/null | awk 'NR == 1 { print $NF }')
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Benchmark results"
    echo
    echo "\`make bench\` (bench/run.sh) on $when: Linux $(uname -r), $(nproc) CPUs"
    echo "($cpu), glibc $glibc, tether $commit; $elapsed s; load average $load_before before,"
    echo "$load_after after. Every spawn runs \`bench-noop\`"
    echo "(a static program without C library); methods run in interleaved rounds, and ratios"
    echo "compare methods within the same round. Absolute times drift on shared machines."
    echo "All figures: \`build/bench/results.csv\`."
    echo
    echo "![spawn latency vs parent RSS](spawn-vs-rss.png)"
    echo
    echo "## Targets"
    echo
    cat "$targets"
    echo
    echo "## Tables"
    cat "$report"
    if [[ -s $vmtable ]]; then
        echo
        echo "## Native (VM)"
        echo
        cat "$vmtable"
    fi
} >"$root/bench/results.md"
say "wrote bench/results.md and $csv"
