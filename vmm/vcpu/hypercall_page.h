/* The hypercall page in vmirun's window: one far-call entry per VMI call number, each
 * loading its number and jumping to the 64-bit common path. Also maps the shared vCPU page. */
#ifndef VMM_VCPU_HYPERCALL_PAGE_H
#define VMM_VCPU_HYPERCALL_PAGE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the entries for `count` calls into `page` (4 KiB) as if it sat at guest address
 * `page_addr`, jumping to `common` (a 64-bit address). Returns bytes used, or 0 if they
 * do not fit. Pure, so tests can disassemble the result. */
size_t hypercall_page_build(uint8_t *page, uint32_t page_addr, unsigned count, uint64_t common);

/* Maps the window: the hypercall page (read+execute) and the shared vCPU page. */
int hypercall_page_install(char error[200]);

#endif
