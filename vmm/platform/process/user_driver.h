/* The kernel side of strict isolation's user processes (user_driver.c): the process that
 * holds the vCPU runs the guest's user mode in one, through its stub. */
#ifndef VMM_PLATFORM_PROCESS_USER_DRIVER_H
#define VMM_PLATFORM_PROCESS_USER_DRIVER_H

#include <stdint.h>
#include <sys/types.h>

/* Before the template forks: command and exit pages and sockets for `user_slots` user
 * processes from slot `first_user_slot` on, which receive `memory_fd` with their
 * mappings. 0, or -1 with a reason. */
int user_driver_setup(unsigned first_user_slot, unsigned user_slots, int memory_fd,
                      char error[200]);

/* Where the spinner token lives once there are user processes (they read it there). */
#include <stdatomic.h>
_Atomic uint32_t *user_driver_spinner_word(void);

/* 1 if process `slot` is a user process. */
int user_driver_serves(unsigned slot);

/* Runs the guest's user mode in user process `slot` (process_wanted) until the guest leaves
 * it: every exit handed to the monitor here. Returns with process_wanted naming where the
 * guest goes next; a stop requested ends the run (process_stop_now). */
void user_driver_run(unsigned slot);

/* While user_driver_run runs: 1, and platform_map_linear's and _unmap_linear's changes are
 * queued for the user process (prot: PROT_NONE to unmap). 0, or -1 (errno). */
int user_driver_mapping(void);
int user_driver_queue(uint32_t linear, uint32_t physical, uint32_t size, int prot);

/* The same for user process `index`, whichever runs (the batch's rule, for tests). */
int user_driver_queue_for(unsigned index, uint32_t linear, uint32_t physical, uint32_t size,
                          int prot);

/* The first process: a child ended. 1 if it was a user process (its driver is told). */
int user_driver_child_ended(pid_t pid);

#endif
