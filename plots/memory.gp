# memory.gp - resident set size and live bytes over time: one panel per
# collector and thread count, one colour per allocator, the same axes in
# every panel.
# Draws memory_<workload>_<variant>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per series, one line per sample:
#                 t  rss  live  "phase"      (NaN where a figure is unknown)
#   npanels       panels, stacked; panel p draws blocks panel_first[p] ..
#                 panel_first[p] + panel_count[p] - 1
#   panel_title[] ("" for none), panel_first[], panel_count[]
#   panel_live[]   the blocks of each panel that have live bytes, as words ("2 3")
#   series_color[], series_live[]  (1 when the series has live bytes)
#   key_title[], key_color[]       the legend: each allocator once
#   anylive       1 when some series has live bytes (the legend explains dashes)
#   logy, ymin    1 for a log y axis from ymin (the driver decides: peaks far apart)
#   title, subtitle, xlabel, ylabel, xmax, ymax

set multiplot layout npanels, 1 title headline(title, subtitle) font ",15"
set lmargin at screen panel_left
set rmargin at screen panel_right
set ylabel ylabel
set xrange [0:xmax]
if (logy) { set logscale y; set yrange [ymin:ymax]; set mytics 10 } else { set yrange [0:ymax] }
set grid xtics ytics
n = |key_title|
# The k-th block of panel p that has live bytes.  gnuplot evaluates a plot
# iteration's expressions once even when it runs zero times, so an empty list
# must still yield a number.
live_block(p, k) = words(panel_live[p]) ? word(panel_live[p], k) + 0 : 1

do for [p=1:npanels] {
    if (panel_title[p] eq "") { unset title } else { set title panel_title[p] font ",12" }
    if (p == npanels) { set xlabel xlabel } else { unset xlabel }
    if (p == npanels && banner ne "") { set bmargin 5 } else { set bmargin }
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title "allocator" left samplen 2.5 spacing 1.2 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    # Built as text so that a panel without live bytes has no live-bytes
    # clause at all (an empty iteration would still read one block, and
    # gnuplot warns of a block with no valid points).
    cmd = "plot for [i=lo:hi] data index (i-1) using 1:2 with lines lw 2 lc rgb series_color[i] notitle"
    if (words(panel_live[p]) > 0) {
        cmd = cmd . ", for [k=1:words(panel_live[p])] data index (live_block(p, k) - 1) " . \
              "using 1:3 with lines lw 1.5 dt 2 lc rgb series_color[live_block(p, k)] notitle"
    }
    if (p == 1) {
        cmd = cmd . ", for [i=1:n] NaN with lines lw 3 lc rgb key_color[i] title key_title[i]" . \
              ", NaN with lines lw 2 lc rgb '#444444' title 'RSS (solid)'"
        if (anylive) {
            cmd = cmd . ", NaN with lines lw 1.5 dt 2 lc rgb '#444444' title 'live bytes (dashed)'"
        }
    }
    eval cmd
}
unset multiplot
