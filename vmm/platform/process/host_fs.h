/* The host's thread pointer lives in FS, and a guest may load FS with a selector of the
 * host's GDT (0x2b loads fine in ring 3), which replaces the base glibc needs. Every way
 * into vmirun from the guest (the hypercall path, signal handlers) puts the host's FS back
 * before any C library code runs, and the guest's FS back before returning. */
#ifndef VMM_PLATFORM_PROCESS_HOST_FS_H
#define VMM_PLATFORM_PROCESS_HOST_FS_H

#include <asm/prctl.h>
#include <asm/unistd.h>
#include <stdint.h>

extern uint64_t process_host_fs_base;
extern uint8_t process_have_fsgsbase;

/* Records the host's FS base; before any signal handler can run (the sandbox refuses the
 * ARCH_GET_FS it takes). */
void host_fs_setup(void);

/* The hypercall path's check of a null FS (world_switch.S): the read that faults when the
 * base is not the host's, and where to resume when it does. */
extern char process_fs_probe[], process_fs_restore[];

/* Returns the FS selector the guest left and restores the host's FS base, whatever the
 * selector: a null one may come with a zero base (Intel zeroes it on the load), and the
 * first thread-local access (errno, siglongjmp's pointer guard) would fault. Touches no
 * thread-local data, so it may run first thing in a signal handler. */
static inline __attribute__((always_inline)) uint16_t host_fs_enter(void)
{
	uint16_t selector;
	__asm__ volatile("mov %%fs, %0" : "=r"(selector));
	if (selector)
		__asm__ volatile("mov %0, %%fs" : : "r"(0));
	if (process_have_fsgsbase) {
		__asm__ volatile("wrfsbase %0" : : "r"(process_host_fs_base) : "memory");
	} else {
		long result;
		__asm__ volatile("syscall"
		                 : "=a"(result)
		                 : "a"(__NR_arch_prctl), "D"(ARCH_SET_FS), "S"(process_host_fs_base)
		                 : "rcx", "r11", "memory");
		(void)result;
	}
	return selector;
}

/* Gives the guest back the FS selector host_fs_enter found. */
static inline __attribute__((always_inline)) void host_fs_leave(uint16_t selector)
{
	if (selector)
		__asm__ volatile("mov %0, %%fs" : : "r"((uint32_t)selector) : "memory");
}

#endif
