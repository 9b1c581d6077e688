/* The self-tests: the documented semantics of every call the platform implements, checked
 * from the kernel and from user processes. Prints "selftest: NAME: ok", "... skipped: WHY"
 * or "... FAIL ...". */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

/* Runs them all with interrupts enabled and the periodic tick running, and leaves both so;
 * returns the number of failed tests. */
unsigned selftest_run_all(void);

#endif
