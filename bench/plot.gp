# Spawn + wait latency (median) vs the parent's RSS, one line per method.
#   gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" bench/plot.gp
# datafile: blocks separated by two blank lines, each a quoted title line
# followed by "RSS_MiB latency_us" lines (bench/run.sh writes it).
if (!exists("subtitle")) subtitle = ''
set terminal pngcairo size 1200,760 font "sans,10"
set output outfile
set title "spawn + wait of a no-op program vs parent RSS (4 KiB pages), median\n{/*0.8 ".subtitle."}"
set logscale xy
set xlabel "parent RSS"
set ylabel "latency (µs, log scale)"
set xtics ("64 MiB" 64, "256 MiB" 256, "1 GiB" 1024, "4 GiB" 4096, "8 GiB" 8192)
set grid xtics ytics mytics
set xrange [48:11000]
set key outside right top spacing 1.1 noenhanced
stats datafile using 1 nooutput
plot for [i=0:STATS_blocks-1] datafile index i using 1:2 with linespoints lw 2 \
    lc ((i % 8) + 1) dt 1 + i / 8 pt ((i % 13) + 1) title columnheader(1)
