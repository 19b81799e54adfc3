# soak.gp - a soak (--duration) over time, one colour per allocator, two
# panels: above, footprint per live byte, (RSS - RSS at start) / live bytes,
# while the workload holds at least a tenth of its peak live bytes; below,
# what the process holds beyond the live bytes, RSS - RSS at start - live,
# which after each drain (live bytes near 0) is what the allocator kept.
# Draws soak_<workload>_<variant>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block (gnuplot "index") per series, one line per sample:
#                 t  ratio  held  "phase"       (NaN where a figure is not drawn)
#   series_title[], series_color[], keytitle
#   title, subtitle, xlabel, ylabel_ratio, ylabel_held, xmax
#   logy_held, held_min   1 for a log axis below, from held_min (one allocator
#                 holding far more than the others: the driver decides)

n = |series_title|
set multiplot layout 2, 1 title headline(title, subtitle) font ",15"
set lmargin at screen panel_left
set rmargin at screen panel_right
set xrange [0:xmax]
set grid xtics ytics

set title "footprint per live byte (while live bytes are at least 10% of their peak)" font ",12"
set logscale y
set ylabel ylabel_ratio
unset xlabel
set key at screen key_x, screen key_y right top vertical Left reverse \
    title keytitle left samplen 2.5 spacing 1.2 width 2
plot for [i=1:n] data index (i-1) using 1:2 with lines lw 2 lc rgb series_color[i] \
         title series_title[i]

set title "held beyond the live bytes: after a drain, what the allocator kept" font ",12"
unset logscale y
set yrange [*:*]
if (logy_held) { set logscale y; set yrange [held_min:*] }
set ylabel ylabel_held
set xlabel xlabel
set bmargin (banner ne "" ? 5 : 3)
unset key
plot for [i=1:n] data index (i-1) using 1:3 with lines lw 2 lc rgb series_color[i] notitle
unset multiplot
