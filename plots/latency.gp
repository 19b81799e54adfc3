# latency.gp - the tail of each allocator's operation latency: 1 - CDF
# against latency, both axes logarithmic, so p99.99 is as readable as p50.
# Two panels, side by side: alloc and free.  Draws latency_<workload>_<variant>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per panel and series, one line per point:
#                 latency_ns  fraction_slower  "label"   (label: p50, p99, ...)
#   panel_title[p], panel_first[p], panel_count[p]   panel p draws blocks
#                 panel_first[p] .. panel_first[p] + panel_count[p] - 1
#   block_series[b]               the series block b draws
#   series_title[], series_color[], keytitle
#   title, subtitle, xlabel, ylabel, xmin, xmax, ymin
#   xtics         a "set xtics (...)" command: decades labelled ns, µs, ms

npanels = |panel_first|
n = |series_title|
set multiplot layout 1, npanels title headline(title, subtitle) font ",15"
set logscale x
set logscale y
set xrange [xmin:xmax]
set yrange [ymin:1.5]
eval xtics
set grid xtics ytics mxtics mytics
set xlabel xlabel
set ytics ("100%%" 1, "10%%" 0.1, "1%%" 0.01, "0.1%%" 0.001, "0.01%%" 1e-4, "0.001%%" 1e-5, \
           "1e-4 %%" 1e-6, "1e-5 %%" 1e-7, "1e-6 %%" 1e-8)
set bmargin (banner ne "" ? 5 : 3)

do for [p=1:npanels] {
    set title panel_title[p] font ",12"
    set lmargin at screen grid_left(p, npanels)
    set rmargin at screen grid_right(p, npanels)
    if (p == 1) { set ylabel ylabel } else { unset ylabel }
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title keytitle left samplen 2.5 spacing 1.2 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    plot for [b=lo:hi] data index (b-1) using 1:2 with linespoints lw 2 pt 7 ps 0.8 \
             lc rgb series_color[block_series[b]] notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with linespoints lw 2 pt 7 lc rgb series_color[i] \
             title series_title[i]
}
unset multiplot
