/* kernel_main: entered high on entry.S's boot directory; link with the SDK (the ROM through
 * our linear map), learn where we run, load our own page directory, set up descriptors and
 * the timer, run the self-tests (and, with `bench` on the command line, the benchmarks), and
 * exit through port 0xf4 with 0 when every self-test passed. */
#include <vmi/init.h>
#include <vmi/multiboot.h>
#include <vmi/pc.h>
#include <vmi/process.h>

#include "bench.h"
#include "console.h"
#include "descriptors.h"
#include "kernel.h"
#include "process.h"
#include "scheduler.h"
#include "paging.h"
#include "selftest.h"
#include "timer.h"
#include "user.h"

#define TRAP_AND_EMULATE_DIVISOR 50   /* a trapped instruction costs ~25,000 cycles */
#define RAM_BASE 0x100000u
#define LARGE_PAGE 0x400000u

struct platform platform;

/* `escape` on the command line: a user program that leaves compatibility mode and makes a
 * host system call (user.c). On a PC its far jump is #GP and the process alone ends; what
 * a hypervisor does is its own (vmirun: docs/architecture.md, "Sandbox"). */
static void run_escape(const char *cmdline)
{
	static const struct { const char *word; user_entry entry; } attempts[] = {
		{ "escape=fork", user_escape_fork }, { "escape=write0", user_escape_write0 },
		{ "escape=mmap", user_escape_mmap }, { "escape=futex", user_escape_futex },
		{ "escape=spin", user_escape_spin }, { "escape=hold", user_escape_hold },
	};
	user_entry entry = user_escape;   /* plain `escape`: open */
	for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++)
		if (cmdline_has_word(cmdline, attempts[i].word))
			entry = attempts[i].entry;
	int pid = process_create("escape", entry, 0);
	scheduler_run();
	const struct process *p = process_find(pid);
	if (p && p->faulted)
		kprintf("kernel: escape: the process ended by vector %u, error code 0x%x\n",
		        p->fault.vector, p->fault.error_code);
	else
		kprintf("kernel: escape: the process ended without a fault\n");
	process_reap_all();
}

/* `hostile=NAME`: one of issue 14's hostile programs (user.h), its end said in one line,
 * then that the kernel goes on. On a PC the vCPU page is no memory: vcpu, mark and ring0
 * end by #PF; under vmirun's strict isolation by #GP, as cli or a ring switch of their own
 * would; under --isolation=shared their writes land (docs/architecture.md). */
static void run_hostile(const char *cmdline)
{
	static const struct { const char *word; user_entry entry; } programs[] = {
		{ "hostile=vcpu", user_hostile_vcpu },
		{ "hostile=mark", user_hostile_mark },
		{ "hostile=ring0", user_hostile_ring0 },
		{ "hostile=nullfs", user_hostile_nullfs },
	};
	static struct hostile_attempt attempt USER_SHARED;
	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
		if (!cmdline_has_word(cmdline, programs[i].word))
			continue;
		const char *name = programs[i].word + sizeof "hostile=" - 1;
		attempt.privileged_result = 0;
		attempt.user_ds = platform.user_ds;
		int pid = process_create(name, programs[i].entry, (uint32_t)(uintptr_t)&attempt);
		scheduler_run();
		const struct process *p = process_find(pid);
		if (!p)
			kprintf("kernel: hostile %s: the process is gone\n", name);
		else if (p->faulted)
			kprintf("kernel: hostile %s: the process ended by vector %u, error code 0x%x\n",
			        name, p->fault.vector, p->fault.error_code);
		else
			kprintf("kernel: hostile %s: the process exited with status %d (pid %d)\n", name,
			        p->exit_status, pid);
		if (attempt.privileged_result)
			kprintf("kernel: hostile %s: GetCR3 answered user mode 0x%x\n", name,
			        attempt.privileged_result);
		process_reap_all();
		kprintf("kernel: hostile %s: the kernel goes on\n", name);
	}
}

void kernel_main(uint32_t magic, uint32_t info_address) __attribute__((noreturn));

void kernel_exit(uint8_t code)
{
	vmi_disable_interrupts();
	timer_stop();
	console_flush();
	vmi_outb(code, VMI_PORT_EXIT);
	/* No exit device (a real PC): stop as well as we can. */
	vmi_shutdown();
	for (;;)
		vmi_halt();
}

void panic(const char *reason)
{
	kprintf("kernel: panic: %s\n", reason);
	kernel_exit(EXIT_PANIC);
}

/* The loader's addresses are physical; until paging.c has mapped all of RAM, only what the
 * boot directory maps is there to read. */
static const void *multiboot_pointer(uint32_t physical)
{
	return physical && physical < BOOT_MAPPED_BYTES ? physical_to_linear(physical) : 0;
}

static const char *multiboot_string(const struct multiboot_info *info, uint32_t flag, uint32_t address)
{
	const char *text = info && (info->flags & flag) ? multiboot_pointer(address) : 0;
	return text ? text : "";
}

static int starts_with(const char *text, const char *prefix)
{
	while (*prefix)
		if (*text++ != *prefix++)
			return 0;
	return 1;
}

/* Everything after linking that depends on the ROM, the CPU and the boot loader. */
static void learn_platform(const struct vmi_guest_report *report, const struct multiboot_info *info,
                           const char *cmdline)
{
	const struct vmi_init_info *init = &report->info;
	platform.vmi = report;
	platform.native_rom = report->native;
	platform.hardware_ring = hardware_cs() & 3;
	platform.deprivileged_native = report->native && platform.hardware_ring != 0;
	platform.under_vmirun = starts_with(multiboot_string(info, MULTIBOOT_INFO_LOADER_NAME,
	                                                      info ? info->boot_loader_name : 0),
	                                    VMI_PROCESS_LOADER_NAME);
	platform.kernel_cs = init->kernel_cs ? init->kernel_cs : SELECTOR(GDT_KERNEL_CODE, 0);
	platform.kernel_ds = init->kernel_ds ? init->kernel_ds : SELECTOR(GDT_KERNEL_DATA, 0);
	platform.user_cs = init->user_cs ? init->user_cs : SELECTOR(GDT_USER_CODE, 3);
	platform.user_ds = init->user_ds ? init->user_ds : SELECTOR(GDT_USER_DATA, 3);
	platform.reserved_top = init->reserved_top;

	uint64_t ram_end = RAM_BASE + 16u * 1024 * 1024;   /* a guess, if the loader is silent */
	if (info && (info->flags & MULTIBOOT_INFO_MEMORY))
		ram_end = RAM_BASE + (uint64_t)info->mem_upper * 1024;
	/* RAM is mapped at KERNEL_BASE in 4 MiB pages, which must stay below the reserved top:
	 * what does not fit is not used. */
	uint64_t top = platform.reserved_top ? platform.reserved_top : 0x100000000ull;
	uint64_t mappable = (top - KERNEL_BASE) / LARGE_PAGE * LARGE_PAGE;
	if (ram_end > mappable)
		ram_end = mappable;
	platform.ram_end = (uint32_t)ram_end;

	platform.quick = cmdline_has_word(cmdline, "quick");
	platform.bench_divisor = platform.deprivileged_native ? TRAP_AND_EMULATE_DIVISOR : 1;
}

static const char *rom_name(void)
{
	if (platform.native_rom)
		return "native (built in)";
	return platform.vmi->platform == VMI_PLATFORM_PROCESS ? "process (vmirun)" : "unknown";
}

static void print_platform(void)
{
	const struct vmi_guest_report *report = platform.vmi;
	kprintf("kernel: ROM %s, API %u.%u, link=%s; Init says kernel ring %u, the CPU runs us in ring %d\n",
	        rom_name(), report->api_major, report->api_minor, vmi_link_mode_name(report->link.mode),
	        report->info.kernel_ring, platform.hardware_ring);
	kprintf("kernel: selectors kernel cs 0x%x ds 0x%x, user cs 0x%x ds 0x%x; RAM to 0x%x%s\n",
	        platform.kernel_cs, platform.kernel_ds, platform.user_cs, platform.user_ds,
	        platform.ram_end, platform.under_vmirun ? "; loader: vmirun" : "");
	kprintf("kernel: linked at 0x%x, loaded at 0x%x; RAM mapped at 0x%x, supervisor-only but "
	        "for the user sections\n", KERNEL_BASE + KERNEL_LOAD_ADDRESS, KERNEL_LOAD_ADDRESS,
	        KERNEL_BASE);
	if (platform.deprivileged_native)
		kprintf("kernel: deprivileged: no hypervisor ROM, so the native ROM runs in hardware ring %d "
		        "and every privileged instruction traps and is emulated; benchmark iterations "
		        "divided by %u\n", platform.hardware_ring, platform.bench_divisor);
}

void kernel_main(uint32_t magic, uint32_t info_address)
{
	const struct multiboot_info *info = magic == MULTIBOOT_BOOTLOADER_MAGIC
	                                    ? multiboot_pointer(info_address) : 0;
	const char *cmdline = multiboot_string(info, MULTIBOOT_INFO_CMDLINE, info ? info->cmdline : 0);

	/* Link first: until then every site calls the native ROM, which traps under vmirun. The
	 * ROM is probed, linked and called where our linear map puts it. */
	const struct vmi_guest_config config = { .cmdline = cmdline, .print = console_print_line,
	                                         .physical_base = KERNEL_BASE };
	const struct vmi_guest_report *report = vmi_guest_init(&config);
	console_init();
	kprintf("kernel: OpenVMI reference kernel; command line \"%s\"\n", cmdline);
	if (!info)
		kprintf("kernel: no multiboot information (magic 0x%x)\n", magic);
	learn_platform(report, info, cmdline);
	print_platform();
	if (report->patch.counts.refused)
		kprintf("kernel: warning: %u call sites refused by the patcher\n", report->patch.counts.refused);
	const char *why;
	if (paging_init(&why) != 0) {
		kprintf("kernel: paging: %s\n", why);
		panic("paging");
	}

	if (descriptors_init() != 0)
		panic("descriptor tables");
	if (timer_init() != 0)
		panic("timer");
	kprintf("kernel: timer: %s; TSC %llu kHz (%s)\n", timer_backend_name(),
	        (unsigned long long)(timer_cycles_per_second() / 1000), timer_frequency_source());

	timer_start_periodic(TIMER_TICK_HZ);
	vmi_enable_interrupts();

	unsigned failures = 0;
	if (cmdline_has_word(cmdline, "noselftest"))
		kprintf("kernel: self-tests not run (noselftest)\n");
	else
		failures = selftest_run_all();
	if (cmdline_has_word(cmdline, "escape") || cmdline_has_prefix(cmdline, "escape="))
		run_escape(cmdline);
	run_hostile(cmdline);
	if (bench_requested(cmdline))
		bench_run(cmdline);
	kernel_exit(failures ? EXIT_SELFTEST_FAILED : EXIT_ALL_PASSED);
}
