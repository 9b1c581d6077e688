/* Builds and maps the hypercall page. Entry N, at VMI_PROCESS_HYPERCALL_ENTRY(N), runs in
 * 64-bit mode right after the guest's far call: `mov $N, %r11d; jmp common_stub`, where the
 * common stub is an absolute indirect jump to vcpu_hypercall_common in vmirun's code. r11
 * is invisible to 32-bit code, so the call number costs the guest no register. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <vmi/calls.h>
#include <vmi/process.h>
#include "vcpu/hypercall_page.h"

#define PAGE_SIZE 4096u

void vcpu_hypercall_common(void);

size_t hypercall_page_build(uint8_t *page, uint32_t page_addr, unsigned count, uint64_t common)
{
	const size_t stub_size = 14; /* jmp *0(%rip); .quad common */
	/* The jump's 8-byte target aligned: a guest may run with EFLAGS.AC set, and the stub
	 * reads it in ring 3, where a misaligned read would be #AC. */
	size_t stub_offset = (size_t)count * VMI_PROCESS_HYPERCALL_STRIDE;
	stub_offset += (8 - (stub_offset + 6) % 8) % 8;

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
	uint8_t *stub = page + stub_offset;
	stub[0] = 0xFF; stub[1] = 0x25;                /* jmp *0(%rip) */
	memset(stub + 2, 0, 4);
	memcpy(stub + 6, &common, 8);
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
	if (hypercall_page_build(page, VMI_PROCESS_HYPERCALL_PAGE, VMI_CALL_COUNT,
	                         (uint64_t)(uintptr_t)vcpu_hypercall_common) == 0 ||
	    mprotect(page, PAGE_SIZE, PROT_READ | PROT_EXEC) != 0) {
		snprintf(error, 200, "cannot build the hypercall page");
		return -1;
	}
	void *shared = mmap((void *)(uintptr_t)VMI_PROCESS_VCPU_PAGE, PAGE_SIZE,
	                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (shared == MAP_FAILED) {
		snprintf(error, 200, "cannot map the shared vCPU page: %s", strerror(errno));
		return -1;
	}
	return 0;
}
