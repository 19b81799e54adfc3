# memory.gp - resident set size and live bytes over time: one panel per
# collector, one colour per allocator, the same axes in every panel.
# Draws memory_<workload>_<variant>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per series, one line per sample:
#                 t  rss  live  "phase"      (NaN where a figure is unknown)
#   npanels       panels, stacked; panel p draws blocks panel_first[p] ..
#                 panel_first[p] + panel_count[p] - 1
#   panel_title[], panel_first[], panel_count[]
#   panel_live[]   the blocks of each panel that have live bytes, as words ("2 3")
#   series_color[], series_live[]  (1 when the series has live bytes)
#   key_title[], key_color[]       the legend: each allocator once
#   title, xlabel, ylabel, xmax, ymax

set multiplot layout npanels, 1 title title font ",15"
set lmargin at screen panel_left
set rmargin at screen panel_right
set ylabel ylabel
set xrange [0:xmax]
set yrange [0:ymax]
set grid xtics ytics
n = |key_title|
# The k-th block of panel p that has live bytes.  gnuplot evaluates a plot
# iteration's expressions once even when it runs zero times, so an empty list
# must still yield a number.
live_block(p, k) = words(panel_live[p]) ? word(panel_live[p], k) + 0 : 1

do for [p=1:npanels] {
    set title panel_title[p] font ",12"
    if (p == npanels) { set xlabel xlabel } else { unset xlabel }
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title "allocator" left samplen 2.5 spacing 1.2 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    plot for [i=lo:hi] data index (i-1) using 1:2 with lines lw 2 lc rgb series_color[i] notitle, \
         for [k=1:words(panel_live[p])] data index (live_block(p, k) - 1) \
             using 1:3 with lines lw 1.5 dt 2 lc rgb series_color[live_block(p, k)] notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with lines lw 3 lc rgb key_color[i] title key_title[i], \
         for [i=1:(p == 1)] NaN with lines lw 2 lc rgb "#444444" title "RSS (solid)", \
         for [i=1:(p == 1)] NaN with lines lw 1.5 dt 2 lc rgb "#444444" title "live bytes (dashed)"
}
unset multiplot
