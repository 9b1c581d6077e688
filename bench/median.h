/* The median of a benchmark's repeated runs, for the host-side benchmarks. */
#ifndef BENCH_MEDIAN_H
#define BENCH_MEDIAN_H

#include <stdlib.h>

static int median_by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts `runs` (an odd count of them) and returns the middle one. */
static inline double median_of_runs(double *runs, int count)
{
	qsort(runs, (size_t)count, sizeof(runs[0]), median_by_value);
	return runs[count / 2];
}

#endif
