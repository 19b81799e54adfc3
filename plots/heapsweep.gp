# heapsweep.gp - time-space curves (bench --heap-sweep): each collector's
# time per operation and pause p99 against its heap.  Panels in a grid of
# ncols (time beside pause p99); a row per variant and kind of sweep: heap
# limit as a multiple of the minimum heap (tracing, marksweep), or cycle's
# generation-0 threshold.  Both x axes are logarithmic.  Draws
# heapsweep_<workload>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per panel and series, one line per point:
#                 x  y
#   panel_title[p], panel_first[p], panel_count[p]   panel p draws blocks
#                 panel_first[p] .. panel_first[p] + panel_count[p] - 1
#   panel_xlabel[p], panel_ylabel[p], panel_xmin[p], panel_xmax[p],
#   panel_xtics[p] ("set xtics (...)"), panel_logy[p] (1: log y axis)
#   ncols, block_series[b], series_title[], series_color[], keytitle
#   title, subtitle

npanels = |panel_first|
n = |series_title|
nrows = (npanels + ncols - 1) / ncols
set multiplot layout nrows, ncols title headline(title, subtitle) font ",15"
set logscale x
set grid xtics ytics
set mxtics default

do for [p=1:npanels] {
    set title panel_title[p] font ",12"
    set lmargin at screen grid_left(p, ncols)
    set rmargin at screen grid_right(p, ncols)
    set xrange [panel_xmin[p]:panel_xmax[p]]
    eval panel_xtics[p]
    set xlabel panel_xlabel[p]
    set ylabel panel_ylabel[p]
    if (panel_logy[p]) { set logscale y; set yrange [*:*] } else { unset logscale y; set yrange [0:*] }
    set bmargin (banner ne "" && p > (nrows - 1) * ncols ? 5 : 4)
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title keytitle left samplen 3 spacing 1.2 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    plot for [b=lo:hi] data index (b-1) using 1:2 with linespoints lw 2 pt 7 ps 0.8 \
             lc rgb series_color[block_series[b]] notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with linespoints lw 2 pt 7 \
             lc rgb series_color[i] title series_title[i]
}
unset multiplot
