# mmu.gp - minimum mutator utilisation against window length: for each
# window, the least fraction of any window that long (or longer) left to the
# program between collector pauses.  One panel per variant, one line per
# collector (and allocator).  Draws mmu_<workload>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per panel and series, one line per window:
#                 window_ms  mmu
#   panel_title[p], panel_first[p], panel_count[p]   panel p draws blocks
#                 panel_first[p] .. panel_first[p] + panel_count[p] - 1
#   ncols         panels side by side (a grid filled by rows)
#   block_series[b]               the series block b draws
#   series_title[], series_color[], series_dash[], keytitle
#   title, subtitle, xlabel, ylabel, xmin, xmax, xtics ("set xtics (...)")

npanels = |panel_first|
n = |series_title|
nrows = (npanels + ncols - 1) / ncols
set multiplot layout nrows, ncols title headline(title, subtitle) font ",15"
set logscale x
set xrange [xmin:xmax]
set yrange [0:1.05]
eval xtics
set ytics 0.2
set grid xtics ytics
set mxtics 10

do for [p=1:npanels] {
    set title panel_title[p] font ",12"
    set lmargin at screen grid_left(p, ncols)
    set rmargin at screen grid_right(p, ncols)
    if ((p - 1) % ncols == 0) { set ylabel ylabel } else { unset ylabel }
    if (p > (nrows - 1) * ncols) { set xlabel xlabel; set bmargin (banner ne "" ? 5 : 3) } \
    else { unset xlabel; set bmargin }
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title keytitle left samplen 3 spacing 1.2 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    plot for [b=lo:hi] data index (b-1) using 1:2 with linespoints lw 2 pt 7 ps 0.7 \
             dt series_dash[block_series[b]] lc rgb series_color[block_series[b]] notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with linespoints lw 2 pt 7 dt series_dash[i] \
             lc rgb series_color[i] title series_title[i]
}
unset multiplot
