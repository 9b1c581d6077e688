/* vmirun's own variables, shared by every process that runs the guest: the monitor's state
 * is one, whichever address-space process holds the vCPU. */
#ifndef VMM_PLATFORM_PROCESS_SHARED_DATA_H
#define VMM_PLATFORM_PROCESS_SHARED_DATA_H

#define SHARED_DATA_ERROR_MAX 200

/* Remaps the writable data of vmirun's executable (.data and .bss, past what is read-only
 * after relocation) onto shared memory, contents kept, so that processes forked from now on
 * share it instead of copying it. Per-process variables must be thread-local (`__thread`):
 * those stay private. 0, or -1 with a one-line reason. */
int shared_data_create(char error[SHARED_DATA_ERROR_MAX]);

#endif
