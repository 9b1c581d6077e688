/* The paging self-tests (issue 13): the kernel running high with no identity map left,
 * address spaces that keep processes' memory apart, the #PF error codes of read-only and
 * supervisor pages (the kernel's own among them), A and D bits, InvalPage, global pages
 * across CR3 loads, frames given back when a process exits, fork's plain copy. Paging is on
 * from boot; each test starts and ends in the kernel's directory and makes the page-table
 * calls it is about directly, through the SDK. Argument blocks are USER_SHARED. */
#include <vmi/mmu.h>
#include <vmi/pc.h>
#include <vmi/rom.h>

#include "descriptors.h"
#include "kernel.h"
#include "paging.h"
#include "process.h"
#include "scheduler.h"
#include "selftest_report.h"
#include "syscall.h"
#include "user.h"

#define PAGE               4096u
/* The last page of a process's private window: the tests map their own frames there. */
#define LAST_PRIVATE_PAGE  (PRIVATE_WINDOW + (PRIVATE_WINDOW_PAGES - 1) * PAGE)
#define PRESENT            VMI_PTE_PRESENT
#define WRITABLE           VMI_PTE_WRITABLE
#define USER               VMI_PTE_USER
#define ACCESSED           VMI_PTE_ACCESSED
#define DIRTY              VMI_PTE_DIRTY
/* Values the tests plant in frames, each telling where it came from. */
#define PLANTED            0x0dd0beefu
#define WRITTEN            0x5ca1ab1eu
#define OLD_FRAME          0x01d01d01u
#define NEW_FRAME          0x0e0e0e0eu

/* A test's start: paging on (since boot), the kernel's directory loaded, no demand fault
 * counted yet. 0, or -1 with the FAIL said. */
static int start_paging(void)
{
	if (!(vmi_get_cr0() & VMI_CR0_PG)) {
		fail("paging is off (CR0 0x%x): the boot path turns it on for good", vmi_get_cr0());
		return -1;
	}
	paging_switch_to(paging_kernel_directory());
	paging_demand_faults = 0;
	return 0;
}

/* Every process reaped, the kernel's directory loaded, and every frame back in the pool. */
static void stop_paging(void)
{
	process_reap_all();
	paging_reset();
	expect(vmi_get_cr3() == paging_kernel_directory(), "CR3 0x%x after the test, not the "
	       "kernel's directory 0x%x", vmi_get_cr3(), paging_kernel_directory());
	unsigned in_use = paging_frames_in_use();
	expect(in_use == 0, "%u frames of the pool still taken after every process ended", in_use);
}

/* A frame from the pool whose first word is `value`, or 0 with the FAIL said. */
static volatile uint32_t *frame_holding(uint32_t value)
{
	volatile uint32_t *frame = paging_frame_take();
	if (!frame) {
		fail("no free frame in the pool");
		return 0;
	}
	*frame = value;
	return frame;
}

static volatile uint32_t *word_at(uint32_t linear)
{
	return (volatile uint32_t *)(uintptr_t)linear;
}

/* The directory entry of `directory` (a physical address, read through the linear map) for
 * `linear`. */
static volatile uint32_t *directory_entry(uint32_t directory, uint32_t linear)
{
	return (volatile uint32_t *)physical_to_linear((directory & VMI_PTE_FRAME_MASK) +
	                                               (linear >> 22) * 4);
}

/* The entry that maps `linear` in `directory`: its directory entry if that is a 4 MiB page,
 * else the page table's entry (0 where the directory entry is not present). */
static uint32_t leaf_entry(uint32_t directory, uint32_t linear)
{
	uint32_t pde = vmi_get_pxe(directory_entry(directory, linear));
	if (!(pde & PRESENT) || (pde & VMI_PTE_LARGE))
		return pde;
	const volatile uint32_t *table = physical_to_linear(pde & VMI_PTE_FRAME_MASK);
	return vmi_get_pxe(&table[(linear >> 12) & 1023]);
}

/* A process in an address space of its own, running user_touch_word(touch) when scheduled;
 * its slot in the process table, or -1 with the FAIL said. */
static int touching_process(const char *name, struct word_touch *touch, int *pid)
{
	*pid = process_create_with_address_space(name, user_touch_word, (uint32_t)(uintptr_t)touch);
	const struct process *p = process_find(*pid);
	if (!p) {
		fail("cannot create a process");
		return -1;
	}
	return (int)process_index(p);
}

/* How process `pid` ended: 1 if by a page fault (its record in *fault), else 0. */
static int ended_by_page_fault(int pid, struct fault_record *fault)
{
	const struct process *p = process_find(pid);
	if (!p || !p->faulted)
		return 0;
	*fault = p->fault;
	return p->fault.vector == VECTOR_PAGE_FAULT;
}

/* A user-mode #PF with exactly this error code and CR2. */
static void expect_user_page_fault(const struct fault_record *f, uint32_t address,
                                   uint32_t error_code, const char *what)
{
	expect(f->error_code == error_code && f->cr2 == address && (f->cs & 3) == 3,
	       "%s: #PF error 0x%x CR2 0x%x cs 0x%x, expected error 0x%x CR2 0x%x from user mode",
	       what, f->error_code, f->cr2, f->cs, error_code, address);
}

/* Two processes, each in an address space of its own, write the same linear addresses of
 * their private windows (demand-paged: one fault per page), yield to each other and check
 * that each still reads what it wrote: CR3 loads really switch address spaces. */
#define PRIVATE_PAGES  8
#define PRIVATE_ROUNDS 4
void test_address_spaces(void)
{
	if (start_paging() != 0)
		return;
	static struct private_memory memory[2] USER_SHARED;
	int pids[2];
	for (int i = 0; i < 2; i++) {
		memset(&memory[i], 0, sizeof(memory[i]));
		memory[i].pages = PRIVATE_PAGES;
		memory[i].rounds = PRIVATE_ROUNDS;
		memory[i].tag = 0x1000000u * (uint32_t)(i + 1);
		pids[i] = process_create_with_address_space("private", user_private_memory,
		                                            (uint32_t)(uintptr_t)&memory[i]);
	}
	scheduler_run();
	for (int i = 0; i < 2; i++) {
		expect_exit(process_find(pids[i]), 0);
		expect(memory[i].errors == 0, "process %d read %u values it had not written", i,
		       memory[i].errors);
	}
	expect(paging_demand_faults == 2 * PRIVATE_PAGES, "%u demand faults, expected %u",
	       paging_demand_faults, 2 * PRIVATE_PAGES);
	stop_paging();
}

/* Two processes write different values at the same private addresses, interleaved, and each
 * reads back its own. Then, both gone, a third reads the same addresses: its pages are new
 * and zeroed, never the others' memory. The first writer ends last, so the third gets its
 * table slot, and so its directory's physical address, which a kernel that freed a loaded
 * directory without a CR3 load would leave with the first writer's translations. */
#define ISOLATED_PAGES 16
static const char *whose(uint32_t value)
{
	switch (value >> 24) {
	case 1: return "what process 1 wrote there";
	case 2: return "what process 2 wrote there";
	default: return "nobody's value";
	}
}

void test_private_memory_isolated(void)
{
	if (start_paging() != 0)
		return;
	static struct private_memory writers[2] USER_SHARED, reader USER_SHARED;
	int pids[2];
	for (int i = 0; i < 2; i++) {
		memset(&writers[i], 0, sizeof(writers[i]));
		writers[i].pages = ISOLATED_PAGES;
		writers[i].rounds = 2;
		writers[i].tag = 0x1000000u * (uint32_t)(i + 1);
		pids[i] = process_create_with_address_space("writer", user_private_memory,
		                                            (uint32_t)(uintptr_t)&writers[i]);
	}
	writers[0].linger = 2;
	scheduler_run();
	for (int i = 0; i < 2; i++) {
		expect_exit(process_find(pids[i]), 0);
		expect(writers[i].errors == 0, "process %d read 0x%x at page %u, which is %s, not what "
		       "it wrote (%u wrong values)", i + 1, writers[i].first_wrong,
		       writers[i].first_wrong_page, whose(writers[i].first_wrong), writers[i].errors);
	}
	process_reap_all();

	memset(&reader, 0, sizeof(reader));
	reader.pages = ISOLATED_PAGES;
	reader.rounds = 1;
	reader.only_read = 1;
	uint32_t faults = paging_demand_faults;
	int pid = process_create_with_address_space("reader", user_private_memory,
	                                            (uint32_t)(uintptr_t)&reader);
	scheduler_run();
	expect_exit(process_find(pid), 0);
	expect(reader.errors == 0, "a third process read 0x%x (%s) at page %u of its new window (%u "
	       "pages not zero)", reader.first_wrong, whose(reader.first_wrong),
	       reader.first_wrong_page, reader.errors);
	expect(paging_demand_faults - faults == ISOLATED_PAGES, "the third process took %u demand "
	       "faults for %u new pages", paging_demand_faults - faults, ISOLATED_PAGES);
	stop_paging();
}

/* Kernel-mode writes for the guard: expected_fault_eip is the store. */
static volatile uint32_t *write_target;
static uint32_t write_value;

static void write_word(void *unused)
{
	(void)unused;
	__asm__ volatile("movl $1f, %0\n"
	                 "1:\tmovl %2, (%1)"
	                 : "=m"(expected_fault_eip) : "r"(write_target), "r"(write_value) : "memory");
}

/* A write to a read-only page faults with P|W, and |U from user mode. In user mode: a user
 * page without W in a process's window, which it reads first (that works) and then writes.
 * In kernel mode: a supervisor page without W in the test window, with CR0.WP set; with WP
 * clear the same write goes through, as on every i386. */
void test_read_only_write_fault(void)
{
	if (start_paging() != 0)
		return;
	static struct word_touch touch USER_SHARED;
	touch = (struct word_touch){ LAST_PRIVATE_PAGE, 1, WRITTEN, 0, 0 };
	int pid, slot = touching_process("read-only", &touch, &pid);
	volatile uint32_t *frame = frame_holding(PLANTED);
	if (slot < 0 || !frame) {
		stop_paging();
		return;
	}
	vmi_set_pxe(paging_private_entry((unsigned)slot, touch.address),
	            paging_physical(frame) | PRESENT | USER, VMI_PAGE_PT);
	scheduler_run();
	struct fault_record fault;
	expect(touch.done == TOUCH_READ && touch.value_read == PLANTED, "user mode: reading the "
	       "read-only page got 0x%x (expected 0x%x), and the process got to step %u of 2",
	       touch.value_read, PLANTED, touch.done);
	if (ended_by_page_fault(pid, &fault))
		expect_user_page_fault(&fault, touch.address, VMI_PF_PRESENT | VMI_PF_WRITE |
		                       VMI_PF_USER, "user mode");
	else
		fail("user mode: the write to a read-only page did not page-fault");
	/* The frame went back to the pool at the exit, and nothing has taken it since. */
	expect(*frame == PLANTED, "user mode: the read-only frame now holds 0x%x", *frame);

	uint32_t address = PAGING_TEST_WINDOW;
	paging_switch_to(paging_kernel_directory());   /* the test window is in its alone */
	frame = frame_holding(PLANTED);
	if (!frame) {
		stop_paging();
		return;
	}
	vmi_set_pxe(paging_test_entry(address), paging_physical(frame) | PRESENT,
	            VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | address);
	uint32_t cr0 = vmi_get_cr0();
	write_target = word_at(address);
	write_value = WRITTEN;
	expected_fault_cr2 = address;
	vmi_set_cr0(cr0 | VMI_CR0_WP);
	expect_exception(write_word, VECTOR_PAGE_FAULT, VMI_PF_PRESENT | VMI_PF_WRITE);
	expect(*frame == PLANTED, "kernel mode, CR0.WP set: the read-only frame now holds 0x%x",
	       *frame);
	vmi_set_cr0(cr0 & ~VMI_CR0_WP);
	struct fault_guard guard;
	if (guard_run(&guard, write_word, 0))
		fail("kernel mode, CR0.WP clear: the write faulted (vector %u error 0x%x CR2 0x%x)",
		     guard.fault.vector, guard.fault.error_code, guard.fault.cr2);
	else
		expect(*frame == WRITTEN, "kernel mode, CR0.WP clear: the frame holds 0x%x after the "
		       "write of 0x%x", *frame, WRITTEN);
	vmi_set_cr0(cr0);
	stop_paging();
}

/* The kernel's own data, supervisor-only like all of it but the user sections. */
static volatile uint32_t supervisor_word = PLANTED;

/* One user-mode read of `address` (supervisor-only in the kernel's linear map) by a fresh
 * process in an address space of its own, after the kernel has read it first in that
 * address space if `kernel_first` (a word holding PLANTED; then the scheduler finds the
 * directory loaded and runs the process without a CR3 load). 1 if the read page-faulted (*fault), 0 if it went through
 * (touch->value_read), -1 (said) if the test could not be set up. */
static int read_supervisor_word(uint32_t address, int kernel_first, struct word_touch *touch,
                                struct fault_record *fault)
{
	memset(touch, 0, sizeof(*touch));
	touch->address = address;
	int pid, slot = touching_process("supervisor", touch, &pid);
	if (slot < 0)
		return -1;
	uint32_t directory = process_find(pid)->directory;
	uint32_t entry = leaf_entry(directory, address);
	if ((entry & (PRESENT | USER)) != PRESENT) {
		fail("0x%x is not a present supervisor-only page of the kernel's map (entry 0x%x)",
		     address, entry);
		process_reap_all();
		return -1;
	}
	if (kernel_first) {
		paging_switch_to(directory);
		uint32_t seen = *word_at(address);
		expect(seen == PLANTED, "the kernel read 0x%x at 0x%x, expected 0x%x", seen, address,
		       PLANTED);
	}
	scheduler_run();
	int faulted = ended_by_page_fault(pid, fault);
	process_reap_all();
	return faulted;
}

/* Where guest user and kernel code run in different protection domains, so a supervisor
 * page is out of user mode's reach however the kernel used it: a real ring 0 (QEMU, a PC).
 * vmirun today runs both in one host process per address space, whose mappings do not know
 * the guest's privilege levels (issue 14 separates them). */
static int user_kernel_isolation_expected(void)
{
	return platform.hardware_ring == 0;
}

/* A user-mode read of the kernel's memory faults with P|U and its address in CR2: the last
 * page of RAM in the linear map, which the kernel never touches (first touch), and a kernel
 * variable the kernel has just read in the same address space. */
void test_supervisor_page_from_user(void)
{
	if (start_paging() != 0)
		return;
	const uint32_t error_code = VMI_PF_PRESENT | VMI_PF_USER;
	static struct word_touch first USER_SHARED, after_kernel USER_SHARED;
	struct fault_record first_fault, after_kernel_fault;
	int first_outcome = read_supervisor_word(KERNEL_BASE + platform.ram_end - PAGE, 0, &first,
	                                         &first_fault);
	int after_kernel_outcome = read_supervisor_word((uint32_t)(uintptr_t)&supervisor_word, 1,
	                                                &after_kernel, &after_kernel_fault);
	stop_paging();
	if (first_outcome < 0 || after_kernel_outcome < 0)
		return;
	if (first_outcome)
		expect_user_page_fault(&first_fault, first.address, error_code, "first touch");
	else
		fail("first touch: a user-mode read of the kernel's map at 0x%x went through (read 0x%x)",
		     first.address, first.value_read);
	if (after_kernel_outcome)
		expect_user_page_fault(&after_kernel_fault, after_kernel.address, error_code,
		                       "after the kernel's read");
	else if (user_kernel_isolation_expected())
		fail("after the kernel's read: a user-mode read of a kernel variable at 0x%x went "
		     "through (read 0x%x)", after_kernel.address, after_kernel.value_read);
	else
		expected_failure("a user-mode read of a kernel variable (0x%x, supervisor-only) the "
		                 "kernel had read first went through (read 0x%x) instead of #PF error "
		                 "0x%x: guest user and kernel share one host process and its mapping of "
		                 "the page (user/kernel isolation is issue 14); on first touch the read "
		                 "of the kernel's map %s", after_kernel.address, after_kernel.value_read,
		                 error_code, first_outcome ? "faulted as on hardware" : "went through too");
}

/* A user-mode write of a kernel variable the kernel has just written in the same address
 * space (so, under vmirun, mapped writable in that address space's process): #PF with
 * P|W|U and CR2 its address, the variable keeping the kernel's value. */
static volatile uint32_t supervisor_written_word;
#define USER_WRITTEN 0x5ca1ab1eu

void test_supervisor_write_from_user(void)
{
	if (start_paging() != 0)
		return;
	static struct word_touch touch USER_SHARED;
	memset(&touch, 0, sizeof(touch));
	touch.address = (uint32_t)(uintptr_t)&supervisor_written_word;
	touch.value = USER_WRITTEN;
	int pid = process_create_with_address_space("supervisor-write", user_write_word,
	                                            (uint32_t)(uintptr_t)&touch);
	const struct process *p = process_find(pid);
	if (!p) {
		fail("cannot create a process");
		stop_paging();
		return;
	}
	uint32_t entry = leaf_entry(p->directory, touch.address);
	if ((entry & (PRESENT | USER)) != PRESENT) {
		fail("0x%x is not a present supervisor-only page of the kernel's map (entry 0x%x)",
		     touch.address, entry);
		process_reap_all();
		stop_paging();
		return;
	}
	paging_switch_to(p->directory);
	supervisor_written_word = PLANTED;   /* the kernel first, in that address space */
	scheduler_run();
	struct fault_record fault;
	int faulted = ended_by_page_fault(pid, &fault);
	process_reap_all();
	uint32_t now = supervisor_written_word;
	stop_paging();
	const uint32_t error_code = VMI_PF_PRESENT | VMI_PF_WRITE | VMI_PF_USER;
	if (faulted) {
		expect_user_page_fault(&fault, touch.address, error_code, "user write");
		expect(now == PLANTED, "the faulting write changed the kernel variable to 0x%x", now);
	} else if (user_kernel_isolation_expected()) {
		fail("a user-mode write of a kernel variable at 0x%x went through (it holds 0x%x)",
		     touch.address, now);
	} else if (now != USER_WRITTEN || touch.done != TOUCH_WRITTEN) {
		fail("a user-mode write of a kernel variable at 0x%x neither faulted nor landed: it "
		     "holds 0x%x, the program reached step %u", touch.address, now, touch.done);
	} else {
		expected_failure("a user-mode write of a kernel variable (0x%x, supervisor-only) the "
		                 "kernel had written first landed (it holds 0x%x now) instead of #PF "
		                 "error 0x%x: guest user and kernel share one host process and its "
		                 "writable mapping of the page (user/kernel isolation is issue 14)",
		                 touch.address, now, error_code);
	}
}

/* Kernel-mode reads for the guard: expected_fault_eip is the load. */
static volatile uint32_t read_target;

static void read_word(void *unused)
{
	(void)unused;
	uint32_t value;
	__asm__ volatile("movl $1f, %0\n"
	                 "1:\tmovl (%2), %1"
	                 : "=m"(expected_fault_eip), "=r"(value) : "r"(read_target) : "memory");
}

/* The kernel runs at KERNEL_BASE + its physical address on its own directory, the boot
 * directory and its identity map gone (a read of the kernel's physical address faults as
 * not present), and the ROM was linked, and is called, at its linear address: every entry
 * of the SDK's link table lies in it. */
void test_kernel_mapped_high(void)
{
	if (start_paging() != 0)
		return;
	uint32_t code = (uint32_t)(uintptr_t)test_kernel_mapped_high;
	uint32_t data = (uint32_t)(uintptr_t)&supervisor_word;
	expect(code >= KERNEL_BASE && data >= KERNEL_BASE, "code at 0x%x, data at 0x%x: not "
	       "above KERNEL_BASE 0x%x", code, data, KERNEL_BASE);
	expect(vmi_get_cr3() == paging_kernel_directory(), "CR3 0x%x, not the kernel's directory "
	       "0x%x", vmi_get_cr3(), paging_kernel_directory());

	read_target = paging_physical((const void *)(uintptr_t)code);
	expected_fault_cr2 = read_target;
	expect_exception(read_word, VECTOR_PAGE_FAULT, 0);   /* not present, read, kernel */
	read_target = paging_physical(&supervisor_word);
	expected_fault_cr2 = read_target;
	expect_exception(read_word, VECTOR_PAGE_FAULT, 0);

	const struct vmi_guest_report *report = platform.vmi;
	uint32_t rom = report->rom_address, size = report->probe.rom_size;
	if (platform.native_rom)
		expect(rom >= KERNEL_BASE + KERNEL_LOAD_ADDRESS, "the native ROM at 0x%x", rom);
	else
		expect(rom == KERNEL_BASE + VMI_ROM_BASE, "the ROM was linked at 0x%x, not at its "
		       "linear address 0x%x", rom, KERNEL_BASE + VMI_ROM_BASE);
	unsigned outside = 0;
	uint32_t first_outside = 0;
	for (unsigned call = VMI_CALL_FIRST; call < VMI_CALL_COUNT; call++) {
		uint32_t target = vmi_link_table[call];
		if (target && target - rom >= size && outside++ == 0)
			first_outside = call;
	}
	expect(outside == 0, "%u entries of the link table lie outside the ROM at [0x%x, 0x%x), "
	       "the first call %u's: 0x%x", outside, rom, rom + size, first_outside,
	       vmi_link_table[first_outside]);
	stop_paging();
}

/* The MMU sets A on a read (not D), and D on a write, in the page-table entry, as the
 * hardware does; cleared with TestAndClearPxEBit and after InvalPage, they come back. */
void test_accessed_dirty_bits(void)
{
	if (start_paging() != 0)
		return;
	uint32_t address = PAGING_TEST_WINDOW + PAGE;
	volatile uint32_t *entry = paging_test_entry(address), *word = word_at(address);
	volatile uint32_t *frame = frame_holding(PLANTED);
	if (!frame) {
		stop_paging();
		return;
	}
	vmi_set_pxe(entry, paging_physical(frame) | PRESENT | WRITABLE,
	            VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | address);
	for (int round = 0; round < 2; round++) {
		const char *when = round ? "after TestAndClearPxEBit and InvalPage" : "a new entry";
		uint32_t expected = round ? WRITTEN : PLANTED;
		uint32_t before = vmi_get_pxe(entry);
		expect(!(before & (ACCESSED | DIRTY)), "%s: entry 0x%x has A or D before any access",
		       when, before);
		uint32_t value = *word;
		uint32_t after_read = vmi_get_pxe(entry);
		expect(value == expected, "%s: read 0x%x, expected 0x%x", when, value, expected);
		expect((after_read & (ACCESSED | DIRTY)) == ACCESSED, "%s: after a read the entry is "
		       "0x%x: A should be set and D clear", when, after_read);
		*word = WRITTEN;
		uint32_t after_write = vmi_get_pxe(entry);
		expect((after_write & (ACCESSED | DIRTY)) == (ACCESSED | DIRTY), "%s: after a write "
		       "the entry is 0x%x: A and D should be set", when, after_write);
		uint32_t was_accessed = vmi_test_and_clear_pxe_bit(entry, VMI_PTE_ACCESSED_BIT);
		uint32_t was_dirty = vmi_test_and_clear_pxe_bit(entry, VMI_PTE_DIRTY_BIT);
		expect(was_accessed == 1 && was_dirty == 1, "%s: TestAndClearPxEBit found A %u and D %u, "
		       "expected 1 and 1", when, was_accessed, was_dirty);
		vmi_inval_page(address);
	}
	stop_paging();
}

/* A present entry changed to another frame is seen, for reads and writes, once InvalPage
 * has been called: with SetPxE told nothing but the table (the TLB contract alone), and
 * with the entry's linear address named (VMI_PAGE_CURRENT_AS). */
void test_invalpage_sees_change(void)
{
	if (start_paging() != 0)
		return;
	uint32_t address = PAGING_TEST_WINDOW + 2 * PAGE;
	volatile uint32_t *entry = paging_test_entry(address), *word = word_at(address);
	volatile uint32_t *old = frame_holding(OLD_FRAME), *new = frame_holding(NEW_FRAME);
	if (!old || !new) {
		stop_paging();
		return;
	}
	for (uint32_t named = 0; named < 2; named++) {
		const char *how = named ? "SetPxE with the linear address" : "SetPxE of the table alone";
		uint32_t flags = VMI_PAGE_PT | (named ? VMI_PAGE_CURRENT_AS | address : 0);
		*old = OLD_FRAME;
		*new = NEW_FRAME;
		vmi_set_pxe(entry, paging_physical(old) | PRESENT | WRITABLE, flags);
		vmi_inval_page(address);   /* present before in the second round */
		uint32_t seen_old = *word;
		*word = OLD_FRAME + 1;     /* the translation is in use, for writes too */
		vmi_set_pxe(entry, paging_physical(new) | PRESENT | WRITABLE, flags);
		vmi_inval_page(address);
		uint32_t seen_new = *word;
		*word = WRITTEN;
		expect(seen_old == OLD_FRAME, "%s: the first frame read 0x%x", how, seen_old);
		expect(seen_new == NEW_FRAME, "%s: after the change and InvalPage the page read 0x%x, "
		       "expected the new frame's 0x%x (the old frame holds 0x%x)", how, seen_new,
		       NEW_FRAME, *old);
		expect(*new == WRITTEN && *old == OLD_FRAME + 1, "%s: a write after the change left "
		       "0x%x in the new frame and 0x%x in the old one, expected 0x%x and 0x%x", how,
		       *new, *old, WRITTEN, OLD_FRAME + 1);
	}
	vmi_set_pxe(entry, 0, VMI_PAGE_PT | VMI_PAGE_CURRENT_AS | address);
	vmi_inval_page(address);
	paging_frame_give(old);
	paging_frame_give(new);
	stop_paging();
}

/* The kernel's global mappings keep working across CR3 loads to another directory and
 * back, and across FlushTLB with and without GLOBAL: every read after a switch sees the
 * last write before it. What a stale TLB may still hold is not checked (hardware promises
 * nothing there, and QEMU's TCG drops global pages at a CR3 load anyway). */
#define CR3_LOADS 16
static volatile uint32_t global_probe USER_SHARED;   /* user mode reads it too */

void test_global_survives_cr3(void)
{
	if (start_paging() != 0)
		return;
	if (!paging_kernel_global()) {
		skip("the CPU has no global pages (CPUID PGE)");
		stop_paging();
		return;
	}
	uint32_t kernel = paging_kernel_directory(), probe = (uint32_t)(uintptr_t)&global_probe;
	uint32_t kernel_entry = leaf_entry(kernel, probe);
	uint32_t high_ram = KERNEL_BASE + platform.ram_end - PAGE;   /* a 4 MiB page, if RAM has one */
	uint32_t large_entry = leaf_entry(kernel, high_ram);
	expect((kernel_entry & (PRESENT | VMI_PTE_GLOBAL)) == (PRESENT | VMI_PTE_GLOBAL) &&
	       (vmi_get_cr4() & VMI_CR4_PGE), "the kernel is not mapped global: entry 0x%x for "
	       "0x%x, CR4 0x%x", kernel_entry, probe, vmi_get_cr4());
	expect(platform.ram_end <= 0x400000 || (large_entry & (PRESENT | VMI_PTE_LARGE | VMI_PTE_GLOBAL))
	       == (PRESENT | VMI_PTE_LARGE | VMI_PTE_GLOBAL), "RAM above 4 MiB is not mapped with "
	       "global 4 MiB pages: entry 0x%x for 0x%x", large_entry, high_ram);
	static struct word_touch touch USER_SHARED;
	touch = (struct word_touch){ probe, 1, 0, 0, 0 };
	int pid;
	if (touching_process("global", &touch, &pid) < 0) {
		stop_paging();
		return;
	}
	uint32_t other = process_find(pid)->directory;
	uint32_t other_entry = leaf_entry(other, probe);
	expect((other_entry | ACCESSED | DIRTY) == (kernel_entry | ACCESSED | DIRTY),
	       "the process's directory maps the kernel with 0x%x, the kernel's with 0x%x",
	       other_entry, kernel_entry);

	uint32_t value = 1, wrong = 0, first_wrong = 0;
	global_probe = value;
	for (uint32_t step = 0; step < CR3_LOADS + 2; step++) {
		if (step < CR3_LOADS)
			paging_switch_to(step % 2 ? kernel : other);
		else
			vmi_flush_tlb(VMI_FLUSH_TLB | (step == CR3_LOADS ? 0 : VMI_FLUSH_GLOBAL));
		uint32_t seen = global_probe;
		if (seen != value && wrong++ == 0)
			first_wrong = step;
		global_probe = ++value;
	}
	expect(wrong == 0, "%u of %u reads after a CR3 load or flush were wrong, the first after "
	       "step %u", wrong, CR3_LOADS + 2, first_wrong);

	/* User mode in the other address space, after the scheduler's own CR3 load. */
	paging_switch_to(kernel);
	touch.value = value + 1;
	scheduler_run();
	expect_exit(process_find(pid), 0);
	expect(touch.value_read == value && global_probe == value + 1, "user mode in the other "
	       "address space read 0x%x (expected 0x%x) and left 0x%x (expected 0x%x)",
	       touch.value_read, value, global_probe, value + 1);
	stop_paging();
}

/* A process's frames and tables go back when it exits: processes that each fill the whole
 * private window, one after another, four times as many pages as the pool holds. */
#define FILL_CYCLES 8

void test_frames_freed_on_exit(void)
{
	if (start_paging() != 0)
		return;
	for (unsigned cycle = 0; cycle < FILL_CYCLES; cycle++) {
		uint32_t faults = paging_demand_faults;
		int pid = process_create_with_address_space("filler", user_fill_window,
		                                            PRIVATE_WINDOW_PAGES);
		scheduler_run();
		const struct process *p = process_find(pid);
		unsigned in_use = paging_frames_in_use();   /* exited, not yet reaped */
		int ok = p && !p->faulted && p->exit_status == 0 &&
		         paging_demand_faults - faults == PRIVATE_WINDOW_PAGES && in_use == 0;
		if (!ok) {
			fail("process %u of %u: %s (vector %u), %u demand faults for %u pages, %u frames "
			     "still taken after its exit", cycle + 1, FILL_CYCLES,
			     !p ? "vanished" : p->faulted ? "faulted" : "exited", p ? p->fault.vector : 0,
			     paging_demand_faults - faults, PRIVATE_WINDOW_PAGES, in_use);
			break;
		}
		process_reap_all();
	}
	stop_paging();
}

/* Fork by plain copying: the child sees every page its parent wrote, its own writes land
 * in frames of its own (the parent's pages keep their values), a fork that finds the pool
 * too small fails and gives back what it took, and the child's frames return at its exit. */
#define FORK_PAGES      48
_Static_assert(2 * FORK_PAGES <= PAGING_FRAME_POOL && 3 * FORK_PAGES > PAGING_FRAME_POOL,
               "the parent and one child must fit the pool, a second child not");
#define FORK_PARENT_TAG 0x1000000u
#define FORK_CHILD_TAG  0x2000000u

static const char *whose_fork_value(uint32_t value)
{
	switch (value & ~0xffffffu) {
	case FORK_PARENT_TAG: return "the parent's value, at another page";
	case FORK_CHILD_TAG: return "what the child wrote: a shared frame, not a copy";
	default: return value ? "nobody's value" : "zero: a demand-zero page, not a copy";
	}
}

void test_fork_copies_the_window(void)
{
	if (start_paging() != 0)
		return;
	static struct fork_copy copy USER_SHARED;
	memset(&copy, 0, sizeof(copy));
	copy.pages = FORK_PAGES;
	copy.parent_tag = FORK_PARENT_TAG;
	copy.child_tag = FORK_CHILD_TAG;
	copy.child_fork_result = SYSCALL_ERROR;   /* stays so if no child ever runs */
	syscall_observed.frames_at_wait = 0;
	int pid = process_create_with_address_space("forker", user_fork_copy,
	                                            (uint32_t)(uintptr_t)&copy);
	scheduler_run();
	expect_exit(process_find(pid), 0);
	expect((int)copy.child_pid > pid, "fork returned 0x%x to the parent (pid %d)", copy.child_pid,
	       pid);
	expect(copy.child_fork_result == 0, "fork returned 0x%x in the child", copy.child_fork_result);
	expect(copy.child_errors == 0, "the child read 0x%x (%s) where its parent had written, "
	       "%u pages of %u wrong", copy.child_first_wrong, whose_fork_value(copy.child_first_wrong),
	       copy.child_errors, FORK_PAGES);
	expect(copy.parent_errors == 0, "after the child wrote its pages the parent read 0x%x (%s), "
	       "%u pages of %u wrong", copy.parent_first_wrong,
	       whose_fork_value(copy.parent_first_wrong), copy.parent_errors, FORK_PAGES);
	expect(copy.wait_status == 0, "waiting for the child returned 0x%x, not its status 0",
	       copy.wait_status);
	expect(copy.second_fork_result == SYSCALL_ERROR, "a fork needing %u frames with %u free "
	       "returned 0x%x, not -1", FORK_PAGES, PAGING_FRAME_POOL - 2 * FORK_PAGES,
	       copy.second_fork_result);
	expect(syscall_observed.frames_at_wait == FORK_PAGES, "%u frames taken when the parent's "
	       "wait returned, expected its own %u (the child's and the failed fork's given back)",
	       syscall_observed.frames_at_wait, FORK_PAGES);
	expect(paging_demand_faults == FORK_PAGES, "%u demand faults, expected the parent's %u (the "
	       "child's pages are there before it runs)", paging_demand_faults, FORK_PAGES);
	stop_paging();
}
