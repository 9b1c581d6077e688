/* What the self-test files share with the runner (selftest.c): saying how the running test
 * ends, and the checks several files make. Every test's entry point, for the runner's table. */
#ifndef KERNEL_SELFTEST_REPORT_H
#define KERNEL_SELFTEST_REPORT_H

#include <stdint.h>

#include "process.h"

/* One "selftest: NAME: FAIL ..." line (a "retrying:" line while attempts are left). */
void fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
#define expect(condition, ...)           \
	do {                             \
		if (!(condition))        \
			fail(__VA_ARGS__); \
	} while (0)
/* A "selftest: NAME: note: ..." line; the test's outcome is unchanged. */
void note(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* The test cannot do its work on this platform: "skipped: WHY", never "ok". */
void skip(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* A known hole of this platform, reported instead of "ok": "expected failure: WHAT", counted
 * apart from passes, failures and skips. Only for a protection the platform is documented
 * not to give yet; where it is expected, the same finding is a fail(). */
void expected_failure(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The process ran to SYS_EXIT with `status` (it did not fault). */
void expect_exit(const struct process *p, int status);
/* The same GDT or LDT slot, whatever the RPL. */
int same_selector_index(uint32_t a, uint32_t b);

/* Kernel-mode exceptions: `raise` sets expected_fault_eip to the instruction that faults;
 * expect_exception runs it under a guard and checks vector, error code, EIP, the kernel's
 * CS and, for a page fault, CR2 against expected_fault_cr2. */
extern volatile uint32_t expected_fault_eip, expected_fault_cr2;
void expect_exception(void (*raise)(void *), uint32_t vector, uint32_t error_code);

/* selftest_paging.c */
void test_kernel_mapped_high(void);
void test_address_spaces(void);
void test_private_memory_isolated(void);
void test_read_only_write_fault(void);
void test_supervisor_page_from_user(void);
void test_supervisor_write_from_user(void);
void test_accessed_dirty_bits(void);
void test_invalpage_sees_change(void);
void test_global_survives_cr3(void);
void test_frames_freed_on_exit(void);
void test_fork_copies_the_window(void);

#endif
