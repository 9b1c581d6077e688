/* A process outside vmirun that bounds a run with --timeout in wall-clock time. */
#ifndef VMM_WATCHDOG_H
#define VMM_WATCHDOG_H

/* Forks the watchdog (nothing for 0 s): it SIGKILLs vmirun 2 s after timeout_seconds if
 * vmirun still runs then, and dies with vmirun otherwise. Before the sandbox is locked.
 * Returns 0 or -1 (errno set). */
int watchdog_start(double timeout_seconds);

#endif
