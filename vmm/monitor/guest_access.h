/* Reads and writes of guest memory by the monitor at the guest's linear addresses, each
 * checked against what the guest may touch, so no guest-supplied address can fault vmirun
 * itself. With paging on they translate as a supervisor access would (setting A and D). */
#ifndef VMM_MONITOR_GUEST_ACCESS_H
#define VMM_MONITOR_GUEST_ACCESS_H

#include <stdint.h>

/* 0 on success, -1 if [addr, addr+4) is not readable (writable) guest memory. */
int guest_read32(uint32_t addr, uint32_t *value);
int guest_write32(uint32_t addr, uint32_t value);
int guest_read(uint32_t addr, void *to, uint32_t len);
int guest_write(uint32_t addr, const void *from, uint32_t len);
/* The monitor's pointer for [addr, addr+len), which must lie in one page, translated as
 * above; NULL if it is not guest memory the access may use. For the calls that update a
 * page-table entry atomically. */
void *guest_page_pointer(uint32_t addr, uint32_t len, int write);
/* 1 if [addr, addr+len) may be read (written, if `write`), else 0. */
int guest_accessible(uint32_t addr, uint32_t len, int write);

#endif
