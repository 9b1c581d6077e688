/* The reference kernel's shared facts: where it is linked and where it runs (as learned at
 * boot), the selectors it uses, the exit codes, and the few helpers every file needs. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

/* The kernel is linked at KERNEL_BASE + its physical address and loaded at 1 MiB: from the
 * boot path on, physical memory from 0 is mapped at KERNEL_BASE (paging.c), the low 3 GiB
 * being user space. Also read by entry.S and the linker script (kernel.ld.S). */
#define KERNEL_BASE         0xC0000000
#define KERNEL_LOAD_ADDRESS 0x00100000
/* What entry.S's boot directory maps, identity and at KERNEL_BASE, until paging.c has built
 * the kernel's own: the image, the multiboot information, the ROM area (4 MiB pages). */
#define BOOT_MAPPED_BYTES   0x01000000

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

#include "vmiguest.h"

/* Exit codes written to port 0xf4 (the run ends with status (code << 1) | 1). */
#define EXIT_ALL_PASSED      0
#define EXIT_SELFTEST_FAILED 1
#define EXIT_PANIC           2

/* Our own GDT, used wherever Init says "use your own" (the native ROM). The layout is the
 * one SYSENTER/SYSEXIT expect: user code and data 16 and 24 bytes above kernel code. */
#define GDT_KERNEL_CODE  1
#define GDT_KERNEL_DATA  2
#define GDT_USER_CODE    3
#define GDT_USER_DATA    4
#define GDT_TSS          5
#define GDT_ENTRIES      6
#define SELECTOR(index, rpl) (((index) << 3) | (rpl))

/* Everything learned at boot about the machine we run on. */
struct platform {
	const struct vmi_guest_report *vmi;   /* what vmi_guest_init did */
	int native_rom;            /* linked to the built-in native ROM (no hypervisor ROM) */
	int hardware_ring;         /* the ring the CPU really runs us in (CS RPL) */
	int deprivileged_native;   /* native ROM but hardware ring 3: every privileged
	                              instruction traps to vmirun and is emulated (--no-rom) */
	int under_vmirun;          /* the multiboot loader says vmirun */
	uint16_t kernel_cs, kernel_ds, user_cs, user_ds;  /* the selectors in use */
	uint32_t reserved_top;     /* leave [reserved_top, 4 GiB) alone (0: nothing reserved) */
	uint32_t ram_end;          /* first byte past usable RAM above 1 MiB */
	unsigned bench_divisor;    /* iteration counts are divided by this (trap-and-emulate) */
	int quick;                 /* `quick` on the command line: shorter runs */
};

extern struct platform platform;

/* Stops the machine with `code` through the exit port. */
void kernel_exit(uint8_t code) __attribute__((noreturn));
/* Prints the reason and exits with EXIT_PANIC. */
void panic(const char *reason) __attribute__((noreturn));

/* Freestanding string helpers (lib.c); gcc may call memcpy/memset for struct copies. */
void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);
size_t strlen(const char *text);
/* 1 if the space-separated `cmdline` holds the word `word` exactly. */
int cmdline_has_word(const char *cmdline, const char *word);
/* 1 if one of its words starts with `prefix`. */
int cmdline_has_prefix(const char *cmdline, const char *prefix);
/* Sorts a few values in place (insertion sort: for medians of a handful of samples). */
void sort_u64(uint64_t *values, unsigned count);

/* Physical memory as the kernel reaches it: through its linear map at KERNEL_BASE. */
static inline void *physical_to_linear(uint32_t physical)
{
	return (void *)(uintptr_t)(physical + KERNEL_BASE);
}

/* In a spin loop: tells the CPU (and an emulator) we are waiting. Not privileged. */
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* The cycle counter, through the SDK's RDTSC site (an inlined rdtsc on both ROMs). */
static inline uint64_t cycles_now(void)
{
	return vmi_rdtsc();
}

/* The hardware code selector: the one thing ring 3 cannot hide, so it tells us the truth
 * about our privilege level (Init's kernel_ring is what the linked ROM believes). */
static inline uint16_t hardware_cs(void)
{
	uint16_t cs;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return cs;
}

#endif /* __ASSEMBLER__ */
#endif
