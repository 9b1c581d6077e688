/* A Criterion suite whose tests disassemble with Capstone: CAPSTONE_SUITE(name, mode)
 * declares the suite and `capstone`, a handle opened (x86, `mode`, details on) before each
 * of its tests and closed after. */
#ifndef TESTS_UNIT_CAPSTONE_SUITE_H
#define TESTS_UNIT_CAPSTONE_SUITE_H

#include <capstone/capstone.h>
#include <criterion/criterion.h>

#define CAPSTONE_SUITE(name, mode)                                                  \
	static csh capstone;                                                            \
	static void name##_open_capstone(void)                                          \
	{                                                                               \
		cr_assert_eq(cs_open(CS_ARCH_X86, (mode), &capstone), CS_ERR_OK);           \
		cs_option(capstone, CS_OPT_DETAIL, CS_OPT_ON);                              \
	}                                                                               \
	static void name##_close_capstone(void)                                         \
	{                                                                               \
		cs_close(&capstone);                                                        \
	}                                                                               \
	TestSuite(name, .init = name##_open_capstone, .fini = name##_close_capstone)

#endif
