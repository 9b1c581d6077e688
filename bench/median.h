/* The median of a benchmark's repeated runs, for the benchmark programs. */
#ifndef BENCH_MEDIAN_H
#define BENCH_MEDIAN_H

#include <stdlib.h>

static int median_by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts `runs` and returns the middle one (of an even count, the mean of the two). */
static inline double median_of_runs(double *runs, int count)
{
	qsort(runs, (size_t)count, sizeof(runs[0]), median_by_value);
	return count % 2 ? runs[count / 2] : (runs[count / 2 - 1] + runs[count / 2]) / 2;
}

#endif
