# bars.gp - grouped bars: one panel per workload, one group per variant (and
# collector), one bar per strategy.  Draws throughput.* (ns per operation)
# and fragmentation.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per panel and series, one line per bar:
#                 x  value  low  high  left  right  "label"
#   block_series[b]                   the series that block b draws
#   panel_first[p], panel_count[p]    panel p draws blocks first .. first+count-1
#   panel_title[p], panel_xtics[p] ("set xtics (...)"), panel_xmax[p], panel_rotate[p]
#   panel_logy[p], panel_ybase[p], panel_ytop[p], panel_ytics[p] (a "set ytics" command)
#                 each panel's own y axis: log when its values span more than
#                 a factor 20 (the driver decides)
#   panel_barbase[p]  where bars rise from: 0, or the bottom of a log axis
#   series_title[], series_color[], keytitle    the legend
#   title, subtitle, xlabel, ylabel
#   ncols         panels side by side (a grid of ncols columns, filled by rows)
#   whiskers      1 to draw low..high (min..max over repetitions)
#   labels        1 to print each bar's value above it
#   refline, refnote   a dashed horizontal reference line (NaN for none)

npanels = |panel_first|
n = |series_title|
nrows = (npanels + ncols - 1) / ncols
set multiplot layout nrows, ncols title headline(title, subtitle) font ",15"
set ylabel ylabel
set xtics scale 0
set style fill solid 0.85 border lc rgb "#333333"
if (refline == refline) {
    set arrow 1 from graph 0, first refline to graph 1, first refline nohead dt 2 lw 1.5 \
        lc rgb "#333333" front
}

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
            title keytitle left samplen 1.5 spacing 1.15 width 2
    } else {
        unset key
    }
    lo = panel_first[p]
    hi = lo + panel_count[p] - 1
    yb = panel_barbase[p]
    plot for [b=lo:hi] data index (b-1) using 1:2:5:6:(yb):2 with boxxyerror \
             lc rgb series_color[block_series[b]] notitle, \
         for [b=lo:(whiskers ? hi : 0)] data index (b-1) using 1:2:3:4 with yerrorbars \
             pt 7 ps 0.4 lw 1.2 lc rgb "#111111" notitle, \
         for [b=lo:(labels ? hi : 0)] data index (b-1) using 1:(whiskers ? $4 : $2):7 with labels \
             rotate by 90 left offset 0, 0.4 font ",9" textcolor rgb "#222222" notitle, \
         for [i=1:(p == 1 ? n : 0)] NaN with boxes lc rgb series_color[i] title series_title[i], \
         for [i=1:(p == 1 && refline == refline)] NaN with lines dt 2 lw 1.5 lc rgb "#333333" \
             title refnote
}
unset multiplot
