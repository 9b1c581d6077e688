/* vmirun's own exit statuses. They are even, so they never collide with the exit port's
 * (v << 1) | 1; `vmirun --help` lists them. */
#ifndef VMM_EXIT_STATUS_H
#define VMM_EXIT_STATUS_H

enum vmirun_exit_status {
	EXIT_STATUS_SHUTDOWN = 0,
	EXIT_STATUS_VMIRUN_ERROR = 2,
	EXIT_STATUS_GUEST_FAULT = 4,
	EXIT_STATUS_TIMEOUT = 6,
	EXIT_STATUS_HALTED = 8,
	EXIT_STATUS_REBOOT = 10,
	EXIT_STATUS_SANDBOX = 12,
	EXIT_STATUS_HOST_UNSUPPORTED = 14,  /* the host check failed: this host cannot run guests */
	EXIT_STATUS_INTERNAL_ERROR = 16,    /* a fault in vmirun's own code: a bug */
	EXIT_STATUS_OUTPUT_FAILED = 18,     /* stdout refused the guest's console output (a closed
	                                       pipe, a full disk, ulimit -f): the guest was stopped */
	EXIT_STATUS_NOT_IMPLEMENTED = 20,   /* the guest needs what vmirun lacks yet (PAE, a page
	                                       it cannot map) */
};

#endif
