/* The hypercall page in vmirun's window: one far-call entry per VMI call number, each
 * loading its number and jumping to the 64-bit common path. Also maps the shared vCPU page. */
#ifndef VMM_PLATFORM_PROCESS_HYPERCALL_PAGE_H
#define VMM_PLATFORM_PROCESS_HYPERCALL_PAGE_H

#include <stddef.h>
#include <stdint.h>

/* Where the common stub finds process_hypercall_common's address: a read-only page just above
 * the guest's 4 GiB, which 32-bit code cannot address. The hypercall page itself is
 * readable by the guest, and an address of vmirun's code there would undo its ASLR. */
#define HYPERCALL_TARGET_SLOT 0x100000000ull

/* Writes the entries for `count` calls into `page` (4 KiB) as if it sat at guest address
 * `page_addr`; the common stub jumps through the 8 bytes at `slot` (a 64-bit address).
 * Returns bytes used, or 0 if they do not fit. Pure, so tests can disassemble the result. */
size_t hypercall_page_build(uint8_t *page, uint32_t page_addr, unsigned count, uint64_t slot);

/* Maps the window: the hypercall page (read+execute) and the shared vCPU page, and the
 * monitor's own view of that page above 4 GiB (platform_vcpu_page). */
int hypercall_page_install(char error[200]);

#endif
