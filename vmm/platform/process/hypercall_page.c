/* Builds and maps the hypercall page. Entry N, at VMI_PROCESS_HYPERCALL_ENTRY(N), runs in
 * 64-bit mode right after the guest's far call: `mov $N, %r11d; jmp common_stub`, where the
 * common stub jumps to process_hypercall_common in vmirun's code through a slot above 4 GiB.
 * r11 is invisible to 32-bit code, so the call number costs the guest no register. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <vmi/calls.h>
#include <vmi/process.h>
#include "platform/process/hypercall_page.h"

#define PAGE_SIZE 4096u

void process_hypercall_common(void);
static void *vcpu_page_for_monitor;

size_t hypercall_page_build(uint8_t *page, uint32_t page_addr, unsigned count, uint64_t slot)
{
	const size_t stub_offset = (size_t)count * VMI_PROCESS_HYPERCALL_STRIDE;
	const size_t stub_size = 13; /* movabs $slot, %r10; jmp *(%r10) */

	if (stub_offset + stub_size > PAGE_SIZE)
		return 0;
	memset(page, 0xCC, PAGE_SIZE); /* int3 anywhere else */
	for (unsigned n = 0; n < count; n++) {
		uint8_t *entry = page + (size_t)n * VMI_PROCESS_HYPERCALL_STRIDE;
		int32_t to_stub = (int32_t)(stub_offset - ((size_t)n * VMI_PROCESS_HYPERCALL_STRIDE + 11));
		entry[0] = 0x41; entry[1] = 0xBB;      /* mov $n, %r11d */
		memcpy(entry + 2, &n, 4);
		entry[6] = 0xE9;                         /* jmp rel32 */
		memcpy(entry + 7, &to_stub, 4);
	}
	/* r10, like r11, is invisible to 32-bit code. The slot is 8-aligned, so a guest running
	 * with EFLAGS.AC set does not take #AC on this ring-3 read. */
	uint8_t *stub = page + stub_offset;
	stub[0] = 0x49; stub[1] = 0xBA;                /* movabs $slot, %r10 */
	memcpy(stub + 2, &slot, 8);
	stub[10] = 0x41; stub[11] = 0xFF; stub[12] = 0x22; /* jmp *(%r10) */
	(void)page_addr; /* the page is position independent; kept for tests' disassembly */
	return stub_offset + stub_size;
}

int hypercall_page_install(char error[200])
{
	void *page = mmap((void *)(uintptr_t)VMI_PROCESS_HYPERCALL_PAGE, PAGE_SIZE,
	                  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (page == MAP_FAILED) {
		snprintf(error, 200, "cannot map the hypercall page: %s", strerror(errno));
		return -1;
	}
	uint64_t *slot = mmap((void *)(uintptr_t)HYPERCALL_TARGET_SLOT, PAGE_SIZE,
	                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
	                      MAP_FIXED_NOREPLACE, -1, 0);
	if (slot == MAP_FAILED || (uintptr_t)slot != HYPERCALL_TARGET_SLOT) {
		snprintf(error, 200, "cannot map the hypercall target at 0x%llx: %s",
		         (unsigned long long)HYPERCALL_TARGET_SLOT,
		         slot == MAP_FAILED ? strerror(errno) : "placed elsewhere");
		return -1;
	}
	*slot = (uint64_t)(uintptr_t)process_hypercall_common;
	if (mprotect(slot, PAGE_SIZE, PROT_READ) != 0 ||
	    hypercall_page_build(page, VMI_PROCESS_HYPERCALL_PAGE, VMI_CALL_COUNT,
	                         HYPERCALL_TARGET_SLOT) == 0 ||
	    mprotect(page, PAGE_SIZE, PROT_READ | PROT_EXEC) != 0) {
		snprintf(error, 200, "cannot build the hypercall page");
		return -1;
	}
	/* Shared memory: every address-space process forked later sees the one vCPU page. */
	void *shared = mmap((void *)(uintptr_t)VMI_PROCESS_VCPU_PAGE, PAGE_SIZE,
	                    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (shared == MAP_FAILED) {
		snprintf(error, 200, "cannot map the shared vCPU page: %s", strerror(errno));
		return -1;
	}
	/* The monitor's own view of it, above 4 GiB: where user mode runs apart (strict
	 * isolation) the window's copy is made read-only, and the monitor must still write. */
	void *alias = mremap(shared, 0, PAGE_SIZE, MREMAP_MAYMOVE);
	if (alias == MAP_FAILED || (uintptr_t)alias < HYPERCALL_TARGET_SLOT) {
		snprintf(error, 200, "cannot map the monitor's view of the vCPU page: %s",
		         alias == MAP_FAILED ? strerror(errno) : "placed below 4 GiB");
		return -1;
	}
	vcpu_page_for_monitor = alias;
	return 0;
}

void *platform_vcpu_page(void)
{
	return vcpu_page_for_monitor;
}
