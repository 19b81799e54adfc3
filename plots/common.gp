# common.gp - the look that every heaplab plot shares.
#
# scripts/plots.py runs gnuplot on three files in turn: a file of variables it
# writes for one plot and one format, this file, and the plot's own script
# (bars.gp, memory.gp, pauses.gp or scaling.gp).  From the variables file this
# one needs:
#   fmt            "png" (pngcairo) or "svg"
#   out            the file to write
#   width, height  size in pixels
#
# Text comes from the results (workload and allocator names contain "_"),
# so enhanced text mode is off everywhere: what is written is what shows.

set encoding utf8
if (fmt eq "svg") {
    set terminal svg size width,height fixed noenhanced font "DejaVu Sans,13" \
        background rgb "white" linewidth 1.2
} else {
    set terminal pngcairo size width,height noenhanced font "DejaVu Sans,11" \
        background rgb "white" linewidth 1.2
}
set output out

set border 3 lc rgb "#444444"
set tics nomirror textcolor rgb "#222222"
set grid noxtics ytics mytics back lt 1 lc rgb "#d4d4d4" lw 1, lt 1 lc rgb "#eeeeee" lw 1
set title font ",15" textcolor rgb "#111111"
set key noautotitle textcolor rgb "#222222"
set datafile missing "NaN"

# A title with a second, smaller line: the part of the strategy a plot holds
# fixed, so that the legend can name only what varies.
headline(main, sub) = (sub eq "") ? main : main . "\n" . sub

# Plots of several panels share one legend at the top right and one set of
# horizontal margins, so that the panels' axes line up.
panel_left  = 100.0 / width
panel_right = 1 - 265.0 / width
key_x = 1 - 15.0 / width
key_y = 1 - 70.0 / height

# Panels in a grid of nc columns (bars.gp, pauses.gp): panel p's left and
# right edges, each column with room for its own y axis labels.
grid_left(p, nc)  = ((p - 1) % nc) * panel_right / nc + 100.0 / width
grid_right(p, nc) = ((p - 1) % nc == nc - 1) ? panel_right : \
                    (((p - 1) % nc) + 1) * panel_right / nc - 30.0 / width

# A run that is not a measurement (make bench's --quick smoke run) says so
# at the foot of every plot: `banner` is that line, or "".
if (!exists("banner")) { banner = "" }
if (banner ne "") {
    set label 99 banner at screen 0.5, screen 8.0 / height center front \
        font ",11" textcolor rgb "#b00000"
}
