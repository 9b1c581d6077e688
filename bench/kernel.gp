# Chart of the kernel benchmark matrix: cycles per benchmark in each mode, log scale.
# Usage: gnuplot -e "datafile='kernel.dat'; outbase='kernel'" bench/kernel.gp
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [0.5:*]
set ylabel "cycles (median, log scale)"
set format y "%g"
set xtics rotate by -30 scale 0 font ",9"
set key top left
set grid ytics
set title "OpenVMI: hot operations and kernel paths by link mode"
set terminal pngcairo noenhanced size 1200,650
set output outbase.".png"
plot for [column=2:7] datafile using column:xtic(1) title columnheader(column)
set terminal svg noenhanced size 1200,650
set output outbase.".svg"
replot
