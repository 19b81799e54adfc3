# pauses.gp - collector pause distribution: for each cell that paused, a line
# from its shortest figure to its longest, with markers at p50, p99 and max,
# on a log axis; one panel per workload.  Draws gc_pauses.*.
#
# Variables (see common.gp for the shared ones, bars.gp for the panel and
# block arrays, which are the same here; panel_barbase is unused):
#   data          one block per panel and series, one line per cell:
#                 x  p50  p99  max  low  pauses     (NaN where unknown)
#   title, subtitle, xlabel, ylabel, series_title[], series_color[], keytitle
#   ncols         panels side by side (a grid of ncols columns, filled by rows)

npanels = |panel_first|
n = |series_title|
nrows = (npanels + ncols - 1) / ncols
set multiplot layout nrows, ncols title headline(title, subtitle) font ",15"
set ylabel ylabel
set xtics scale 0

do for [p=1:npanels] {
    set title panel_title[p] font ",12"
    set lmargin at screen grid_left(p, ncols)
    set rmargin at screen grid_right(p, ncols)
    if (p % ncols == 1 || ncols == 1) { set ylabel ylabel } else { unset ylabel }
    unset logscale y
    set format y "%g"
    set mytics default
    if (panel_logy[p]) { set logscale y; set mytics 10 }
    eval panel_ytics[p]
    set yrange [panel_ybase[p]:panel_ytop[p]]
    set xrange [-0.6:panel_xmax[p]]
    eval panel_xtics[p]
    if (panel_rotate[p]) { set xtics rotate by 30 right } else { set xtics norotate center }
    if (p > (nrows - 1) * ncols) { set xlabel xlabel offset 0, -0.8; set bmargin 5 } else { unset xlabel; set bmargin }
    if (p == 1) {
        set key at screen key_x, screen key_y right top vertical Left reverse \
            title keytitle left samplen 1 spacing 1.15 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    plot for [b=lo:hi] data index (b-1) using 1:5:(0):($4-$5) with vectors nohead lw 2.5 \
             lc rgb series_color[block_series[b]] notitle, \
         for [b=lo:hi] data index (b-1) using 1:2 with points pt 7 ps 1.3 \
             lc rgb series_color[block_series[b]] notitle, \
         for [b=lo:hi] data index (b-1) using 1:3 with points pt 9 ps 1.4 \
             lc rgb series_color[block_series[b]] notitle, \
         for [b=lo:hi] data index (b-1) using 1:4 with points pt 2 ps 1.4 lw 2 \
             lc rgb series_color[block_series[b]] notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with linespoints lw 2.5 pt 7 ps 1.3 \
             lc rgb series_color[i] title series_title[i], \
         for [i=1:(p == 1)] NaN with points pt 7 ps 1.3 lc rgb "#444444" title "p50", \
         for [i=1:(p == 1)] NaN with points pt 9 ps 1.4 lc rgb "#444444" title "p99", \
         for [i=1:(p == 1)] NaN with points pt 2 ps 1.4 lw 2 lc rgb "#444444" title "max"
}
unset multiplot
