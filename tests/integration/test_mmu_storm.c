/* Boots the mmu_storm guest (issue 13, the MMU half against a hostile guest): random MMU calls
 * through the SDK with entries pointing outside RAM, at the ROM, at vmirun's window, at the
 * directories themselves, every call's result checked against docs/abi.md, and touches of the
 * playground checked against the guest's own walk of its tables (contents, #PF with CR2 and
 * error code, A and D, and the TLB's rules: what InvalPage, FlushTLB and CR3 loads must drop).
 * One seed runs under QEMU with the native ROM (the hardware is the reference) and under
 * vmirun, and both must end with the same line: the same accesses checked, the same faults.
 * Under vmirun it runs with its address spaces in 8, 2 and 1 host processes, on vmirun's ROM
 * (the page-table calls) and on its own native ROM trapped and emulated (`--no-rom`: plain
 * stores to its tables). A random seed runs on each too (replay: the seed it printed,
 * `seed=N count=N trace=N`). And the run ends cleanly, no process left, when the guest
 * spins past --timeout or crashes in an address space other than the first.
 *
 * Counts: the guest's default is 10^5 operations, the target, which QEMU TCG runs in under
 * 2 s. vmirun inside the x86-64 VM of tools/hostvm (QEMU TCG again, where every host fault,
 * signal and mmap that the guest's TLB costs vmirun is emulated) took 2.6 s per 10^4
 * operations on a quiet machine and up to 6 s (UBSan build: up to 8 s) on a busy one; 10^5
 * took 26-48 s. So vmirun runs 20,000 with the fixed seed and 10,000 with a random one. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define STORM_ELF       "tests/guests/mmu_storm.elf"
#define FIXED_SEED      "seed=13"
#define FIXED_COUNT     "count=20000"
#define RANDOM_COUNT    "count=10000"
/* QEMU's multiboot loader reports RAM up to 128 KiB below what -m gives; vmirun gets the same
 * RAM, so both storms draw the same frames (the guest prints its end of RAM). */
#define QEMU_MEMORY     "128"
#define VMIRUN_MEMORY   "129920K"
#define RAM_LINE        "RAM up to 0x07fe0000\n"
/* What the fixed seed gives, taken from QEMU: vmirun must give exactly the same. */
#define FIXED_SUMMARY   "mmu_storm: 20000 operations, 19813 accesses checked, " \
                        "11236 page faults as expected\n"
#define VMIRUN_TIMEOUT  "100"        /* a hang ends as vmirun's own timeout (status 6) */
#define TIMEOUT         120.0

TestSuite(mmu_storm, .timeout = 150);

static const char *printed_seed(const struct run_result *r)
{
	static char seed[16];
	unsigned long value;
	const char *line = strstr(r->out, "mmu_storm: seed ");
	cr_assert(line && sscanf(line, "mmu_storm: seed %lu\n", &value) == 1,
	          "no seed line:\n%s\n%s", r->out, r->err);
	snprintf(seed, sizeof seed, "%lu", value);
	return seed;
}

static const char *last_line(const struct run_result *r)
{
	cr_assert(r->out_len > 0 && r->out[r->out_len - 1] == '\n',
	          "no complete last line:\n%s\n%s", r->out, r->err);
	const char *start = r->out + r->out_len - 1;
	while (start > r->out && start[-1] != '\n')
		start--;
	return start;
}

/* The run passed its own checks and proved something: accesses checked and faults taken.
 * Returns the faults. */
static unsigned expect_storm_passed(const struct run_result *r, const char *platform)
{
	const char *seed = printed_seed(r);
	cr_assert_null(strstr(r->out, "FAIL"), "%s, replay with seed=%s:\n%s\n%s", platform, seed,
	               r->out, r->err);
	cr_assert_eq(r->exit_status, 1, "%s: status %d, replay with seed=%s:\n%s\n%s", platform,
	             r->exit_status, seed, r->out, r->err);
	unsigned operations, checked, faults;
	cr_assert(sscanf(last_line(r), "mmu_storm: %u operations, %u accesses checked, %u page "
	                 "faults as expected", &operations, &checked, &faults) == 3,
	          "%s: no summary (seed=%s):\n%s\n%s", platform, seed, r->out, r->err);
	cr_assert(checked > 0 && faults > 0 && faults < checked,
	          "%s: too little checked (seed=%s):\n%s", platform, seed, r->out);
	return faults;
}

static struct run_result under_qemu(const char *append)
{
	char *argv[] = { "qemu-system-i386", "-accel", "tcg", "-m", QEMU_MEMORY, "-kernel",
	                 (char *)build_path(STORM_ELF), "-append", (char *)append, "-display",
	                 "none", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device",
	                 "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run qemu-system-i386: %s", r.err);
	cr_assert(!r.timed_out && r.exited, "QEMU did not finish:\n%s", r.out);
	cr_assert(strstr(r.out, "mmu_storm: on the native ROM, " RAM_LINE),
	          "not on the native ROM with the RAM vmirun is given:\n%s", r.out);
	return r;
}

/* `seed` NULL: the guest picks one. `address_spaces`: how many host processes keep them.
 * `rom`: "--rom" for vmirun's process ROM (the embedded one), "--no-rom" for the storm's
 * native ROM, trapped and emulated: its page tables are then written with plain stores. */
static struct run_result under_vmirun_with(const char *rom, const char *address_spaces,
                                           const char *count, const char *seed)
{
	int native = strcmp(rom, "--no-rom") == 0;
	char *argv[] = { (char *)vmirun_path(), "--stats", "--timeout", VMIRUN_TIMEOUT, "--mem",
	                 VMIRUN_MEMORY, "--address-spaces", (char *)address_spaces,
	                 strdup(build_path(STORM_ELF)), "--", (char *)count, (char *)seed, NULL, NULL };
	if (native) {   /* the option first: vmirun takes none after the kernel */
		memmove(&argv[2], &argv[1], 11 * sizeof argv[0]);
		argv[1] = "--no-rom";
	}
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run vmirun: %s", r.err);
	free(argv[native ? 9 : 8]);
	cr_assert(!r.timed_out, "vmirun did not finish in %.0f s:\n%s", TIMEOUT, r.out);
	cr_assert(r.exited, "vmirun died of signal %d:\n%s\n%s", r.term_signal, r.out, r.err);
	cr_assert(strstr(r.out, native ? "mmu_storm: on the native ROM, " RAM_LINE
	                               : "mmu_storm: on vmirun's ROM, " RAM_LINE),
	          "%s\n%s", r.out, r.err);
	return r;
}

static struct run_result under_vmirun(const char *address_spaces, const char *count,
                                      const char *seed)
{
	return under_vmirun_with("--rom", address_spaces, count, seed);
}

/* vmirun's own view: it filled its TLB from the guest's tables, delivered exactly the faults
 * the guest expected (it takes no other), and refused calls. */
static void expect_vmirun_paged(const struct run_result *r, unsigned faults)
{
	cr_assert_gt(stats_count(r->err, "host_faults_filled"), 0, "%s", r->err);
	cr_assert_eq(stats_count(r->err, "page_faults_delivered"), faults, "%s", r->err);
	cr_assert(strstr(r->out, " refused)"), "vmirun refused nothing:\n%s", r->out);
}

Test(mmu_storm, under_qemu_the_hardware_gives_the_fixed_seeds_summary)
{
	struct run_result r = under_qemu(FIXED_SEED " " FIXED_COUNT);
	expect_storm_passed(&r, "QEMU");
	cr_assert_str_eq(last_line(&r), FIXED_SUMMARY, "%s", r.out);
	run_result_free(&r);
}

Test(mmu_storm, under_qemu_a_random_seed_passes_a_hundred_thousand_operations)
{
	struct run_result r = under_qemu("");
	expect_storm_passed(&r, "QEMU");
	cr_assert(strstr(last_line(&r), "mmu_storm: 100000 operations, "), "%s", r.out);
	run_result_free(&r);
}

/* The fixed seed under vmirun with its address spaces kept in `address_spaces` host
 * processes: the hardware's summary exactly. */
static struct run_result fixed_seed_under_vmirun(const char *address_spaces)
{
	struct run_result r = under_vmirun(address_spaces, FIXED_COUNT, FIXED_SEED);
	unsigned faults = expect_storm_passed(&r, "vmirun");
	cr_assert_str_eq(last_line(&r), FIXED_SUMMARY, "vmirun (--address-spaces %s) and the "
	                 "hardware differ:\n%s\n%s", address_spaces, r.out, r.err);
	expect_vmirun_paged(&r, faults);
	return r;
}

/* Its three directories, each in a process of its own: what changed in the tables of one
 * while another ran must be gone when it runs again. */
Test(mmu_storm, under_vmirun_with_a_process_per_address_space_the_fixed_seed_gives_the_hardwares_summary)
{
	struct run_result r = fixed_seed_under_vmirun("8");
	cr_assert_gt(stats_count(r.err, "address_space_switches"), 100, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "processes_created"), 2, "%s", r.err);
	cr_assert_eq(stats_count(r.err, "address_spaces_evicted"), 0, "%s", r.err);
	run_result_free(&r);
}

/* Three directories in two processes: the least recently used is dropped for the third. */
Test(mmu_storm, under_vmirun_with_two_processes_for_three_directories_the_fixed_seed_gives_the_hardwares_summary)
{
	struct run_result r = fixed_seed_under_vmirun("2");
	cr_assert_gt(stats_count(r.err, "address_spaces_evicted"), 100, "%s", r.err);
	run_result_free(&r);
}

/* One process: a CR3 load drops every mapping but the global ones. */
Test(mmu_storm, under_vmirun_in_one_process_the_fixed_seed_gives_the_hardwares_summary)
{
	struct run_result r = fixed_seed_under_vmirun("1");
	cr_assert_eq(stats_count(r.err, "address_space_switches"), 0, "%s", r.err);
	cr_assert_gt(stats_count(r.err, "flushes_keeping_global"), 100, "%s", r.err);
	run_result_free(&r);
}

/* Trap-and-emulate: the storm's native ROM writes its tables with plain stores, which vmirun
 * sees only by comparing copies when an address space runs again. Its summary is QEMU's. */
static void fixed_seed_without_the_rom(const char *address_spaces)
{
	struct run_result r = under_vmirun_with("--no-rom", address_spaces, FIXED_COUNT,
	                                        FIXED_SEED);
	expect_storm_passed(&r, "vmirun --no-rom");
	cr_assert_str_eq(last_line(&r), FIXED_SUMMARY, "vmirun --no-rom --address-spaces %s and "
	                 "the hardware differ:\n%s\n%s", address_spaces, r.out, r.err);
	cr_assert_gt(stats_count(r.err, "host_faults_filled"), 0, "%s", r.err);
	int switched = stats_count(r.err, "address_space_switches") > 0;
	cr_assert_eq(switched, strcmp(address_spaces, "1") != 0, "%s", r.err);
	run_result_free(&r);
}

Test(mmu_storm, without_the_rom_with_a_process_per_address_space_the_fixed_seed_gives_the_hardwares_summary)
{
	fixed_seed_without_the_rom("8");
}

Test(mmu_storm, without_the_rom_in_one_process_the_fixed_seed_gives_the_hardwares_summary)
{
	fixed_seed_without_the_rom("1");
}

Test(mmu_storm, under_vmirun_a_random_seed_passes)
{
	struct run_result r = under_vmirun("8", RANDOM_COUNT, NULL);
	expect_vmirun_paged(&r, expect_storm_passed(&r, "vmirun"));
	run_result_free(&r);
}

/* The processes whose command line holds `token` (fork keeps it in every address-space
 * process). */
static unsigned processes_with(const char *token)
{
	unsigned found = 0;
	DIR *proc = opendir("/proc");
	cr_assert_not_null(proc);
	struct dirent *entry;
	while ((entry = readdir(proc))) {
		char path[300], text[4096];
		snprintf(path, sizeof path, "/proc/%s/cmdline", entry->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (!text[i])
				text[i] = ' ';
		text[n] = 0;
		found += strstr(text, token) != NULL;
	}
	closedir(proc);
	return found;
}

/* The storm, then `hang` (1: spin, 2: crash) in the directory of the second process: the
 * run ends with `status`, and every address-space process and the template with it. */
static void ends_in_another_address_space(const char *hang, const char *said, int status)
{
	char token[64];
	snprintf(token, sizeof token, "teardown-%d-%s", (int)getpid(), hang);
	char *argv[] = { (char *)vmirun_path(), "--stats", "--timeout", "2", "--mem",
	                 VMIRUN_MEMORY, "--address-spaces", "8", strdup(build_path(STORM_ELF)),
	                 "--", FIXED_SEED, "count=300", (char *)hang, token, NULL };
	struct run_result r;
	cr_assert_eq(run_command(argv, TIMEOUT, &r), 0, "cannot run vmirun: %s", r.err);
	free(argv[8]);
	cr_assert(strstr(r.out, said), "%s\n%s", r.out, r.err);
	cr_assert(r.exited && r.exit_status == status, "status %d (signal %d), not %d:\n%s",
	          r.exit_status, r.term_signal, status, r.err);
	cr_assert_gt(stats_count(r.err, "processes_created"), 0, "%s", r.err);
	unsigned left = 0;
	for (int wait = 0; wait < 40 && (left = processes_with(token)) > 0; wait++)
		usleep(50000);
	cr_assert_eq(left, 0, "%u vmirun processes outlived the run", left);
	run_result_free(&r);
}

Test(mmu_storm, a_timeout_in_another_address_space_ends_the_run_and_leaves_no_process)
{
	ends_in_another_address_space("hang=1", "mmu_storm: spinning in directory 1", 6);
}

Test(mmu_storm, a_guest_crash_in_another_address_space_ends_the_run_and_leaves_no_process)
{
	ends_in_another_address_space("hang=2", "mmu_storm: crashing in directory 1", 4);
}
