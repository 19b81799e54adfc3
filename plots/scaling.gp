# scaling.gp - throughput against thread count, one line per strategy.
# Draws scaling_<workload>_<variant>.*.
#
# Variables (see common.gp for the shared ones):
#   data          one block per series (gnuplot "index"), one line per count:
#                 threads  median  low  high      (million operations per second)
#   series_title[], series_color[], series_dash[] (dash type: one per collector), keytitle
#   title, subtitle, xlabel, ylabel
#   logx          1 for a log-2 thread axis (counts spanning a factor 8 or more)
#   xmin, xmax, xtics

set title headline(title, subtitle)
set xlabel xlabel
if (banner ne "") { set bmargin 5 }
set ylabel ylabel
if (logx) { set logscale x 2 }
set xrange [xmin:xmax]
set yrange [0:*]
eval xtics
set grid xtics ytics
set key outside right top vertical Left reverse title keytitle left samplen 3 spacing 1.2 width 2

n = |series_title|
plot for [i=1:n] data index (i-1) using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.1 \
         dt series_dash[i] lc rgb series_color[i] title series_title[i]
