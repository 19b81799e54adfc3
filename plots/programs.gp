# programs.gp - one real program under each allocator (scripts/programs.py):
# left, time, CPU time, peak RSS and page faults relative to glibc (bars, min..max
# whiskers, a dashed line at 1); right, RSS over time of each allocator's
# median-time run.  Draws results/programs/NAME.*.
#
# scripts/programs.py runs gnuplot on a file of variables, common.gp, then
# this file.  Variables (see common.gp for the shared ones):
#   bars         one block (gnuplot "index") per allocator, one line per figure:
#                figure_index  allocator_index  ratio  low  high   (NaN when absent)
#   rss          one block per allocator: t_s  rss_MiB
#   alloc_name[], alloc_color[]   the allocators, in block order
#   figure_name[]                 the figures, in line order
#   title, subtitle

na = |alloc_name|
nf = |figure_name|
bw = 0.8 / na                      # width of one bar; a group spans 0.8
xpos(g, a) = g - 0.4 + bw * (a + 0.5)

set multiplot title headline(title, subtitle) font ",15"

# -- left: relative to glibc --------------------------------------------- #
set lmargin at screen 0.07
set rmargin at screen 0.45
set tmargin at screen 0.80
set bmargin at screen 0.12
set title "relative to glibc (lower is better)" font ",12"
set xrange [-0.6:nf - 0.4]
set xtics scale 0 ()
do for [g=1:nf] { set xtics add (figure_name[g] g - 1) }
set ylabel "median / glibc's median"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set style fill solid 0.85 border lc rgb "#333333"
set style textbox opaque noborder margins 0.5, 0.5   # values stay legible over the line at 1
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#333333" front
unset key
plot for [a=1:na] bars index (a - 1) using (xpos($1, $2)):3:(bw / 2) with boxes \
         lc rgb alloc_color[a] notitle, \
     for [a=1:na] bars index (a - 1) using (xpos($1, $2)):3:4:5 with yerrorbars \
         pt 7 ps 0.4 lw 1.2 lc rgb "#111111" notitle, \
     for [a=1:na] bars index (a - 1) using (xpos($1, $2)):5:(sprintf("%.2f", $3)) \
         with labels boxed rotate by 90 left offset 0, 0.4 font ",9" textcolor rgb "#222222" \
         notitle
unset arrow 1

# -- right: RSS over time ------------------------------------------------ #
set lmargin at screen 0.55
set rmargin at screen 0.83
set title "resident set over time (the median-time run)" font ",12"
set xtics autofreq scale default
set offsets 0, 0, 0, 0
set xrange [0:*]
set yrange [0:*]
set xlabel "seconds since the start"
set ylabel "RSS (MiB)"
set grid xtics ytics
set key at screen key_x, screen 0.80 right top vertical Left reverse \
    title "allocator" left samplen 2.5 spacing 1.2 width 2
plot for [a=1:na] rss index (a - 1) using 1:2 with lines lw 2 lc rgb alloc_color[a] \
         title alloc_name[a]
unset multiplot
