/* The guest SDK's public API: vmi_guest_init (find the ROM, link, patch) and one typed
 * wrapper per VMI operation, each a recorded, NOP-padded call site. C and assembly. */
#ifndef VMIGUEST_H
#define VMIGUEST_H

#include <vmi/calls.h>
#include <vmi/link.h>
#include <vmi/mmu.h>
#include "site.h"

/*
 * A call site, as emitted:
 *
 *   661: ff 15 <vmi_link_table + 4*N>     call *vmi_link_table+4*N   (jump sites: ff 25, jmp)
 *        <recommended NOPs up to the reserved length>
 *   662:
 *   .vmi_sites: .long 661b; .byte length, N, clobbers, flags        (struct vmi_site)
 *
 * Until vmi_guest_init runs, the table points at the native ROM's stubs, so every site works
 * from the first instruction. The clobber byte is exactly what the asm statement tells the
 * compiler may change (its outputs and clobbers; "cc" always): a ROM template that changes
 * anything else is called through its stub instead of inlined.
 *
 * The kernel's linker script must keep the records and mark their bounds, e.g. by adding
 * guest/vmiguest/vmi_sites.ld to the link (-Wl,-T,guest/vmiguest/vmi_sites.ld) or with
 *     .vmi_sites : { __vmi_sites_start = .; KEEP(*(.vmi_sites)) __vmi_sites_end = .; }
 * and the site bytes must be writable when vmi_guest_init runs.
 */

#ifdef __ASSEMBLER__

/* --- assembly: the same sites, for entry code ------------------------------------------- */

/* `length` bytes of the recommended NOPs, 9-byte forms first (as vmi_fill_nops). */
.macro vmi_nops length:req
.if (\length) >= 9
	.byte 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00
	vmi_nops (\length)-9
.elseif (\length) == 8
	.byte 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00
.elseif (\length) == 7
	.byte 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00
.elseif (\length) == 6
	.byte 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00
.elseif (\length) == 5
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
.elseif (\length) == 4
	.byte 0x0f, 0x1f, 0x40, 0x00
.elseif (\length) == 3
	.byte 0x0f, 0x1f, 0x00
.elseif (\length) == 2
	.byte 0x66, 0x90
.elseif (\length) == 1
	.byte 0x90
.endif
.endm

/* insn: call or jmp; clobbers and flags: expressions without spaces, e.g. (0x01|0x80). */
.macro vmi_site insn:req, call:req, length:req, clobbers:req, flags:req
661:
	\insn *vmi_link_table+4*(\call)
	vmi_nops (\length)-VMI_SITE_TABLE_INSN_LENGTH
662:
	.if 662b-661b-(\length)
	.error "VMI site has the wrong length"
	.endif
	.pushsection .vmi_sites, "a"
	.balign 4
	.long 661b
	.byte (\length), (\call), (\clobbers), (\flags)
	.popsection
.endm

/* Interrupt return with an iret frame at ESP, and SYSEXIT (EDX = user EIP, ECX = user ESP). */
#define VMI_IRET \
	vmi_site jmp, VMI_CALL_IRET, VMI_SITE_COLD_LENGTH, VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP
#define VMI_SYSEXIT \
	vmi_site jmp, VMI_CALL_SYSEXIT, VMI_SITE_COLD_LENGTH, VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP

#else /* C */

#include <stddef.h>
#include <stdint.h>
#include <vmi/init.h>
#include <vmi/vcpu_page.h>
#include "patch.h"
#include "probe.h"

/* --- linking ------------------------------------------------------------------------------ */

/* One entry per call: where a table call goes. Starts at the native ROM's stubs. */
extern uint32_t vmi_link_table[VMI_CALL_COUNT];

struct vmi_guest_config {
	const char *cmdline;                    /* the kernel command line (vmi.link=), or NULL */
	void (*print)(const char *line);        /* prints one line, "\n" included; or NULL */
	const struct vmi_site *sites;           /* the kernel's .vmi_sites; NULL: the linker */
	const struct vmi_site *sites_end;       /*   symbols __vmi_sites_start/__vmi_sites_end */
	/* The linear address of physical 0 in the kernel's map of physical memory (a kernel
	 * linked high: its KERNEL_BASE); 0: identity. The option-ROM area is probed there, and
	 * the ROM found is linked and called at that linear address. */
	uint32_t physical_base;
};

struct vmi_guest_report {
	int native;                     /* 1: linked to the built-in native ROM */
	uint32_t rom_address;
	uint8_t api_major, api_minor;
	uint32_t platform;              /* VMI_PLATFORM_*, as Init reported */
	struct vmi_init_info info;      /* what Init filled */
	struct vmi_probe_result probe;  /* the probe's details, rejected ROM included */
	struct vmi_link_option link;    /* vmi.link= as given; link.mode is the mode used */
	unsigned sites;                 /* sites found in .vmi_sites */
	struct vmi_patch_result patch;  /* counts: inlined, called, nopped, table, refused */
	int repeated;                   /* 1: a second call; nothing was done again */
};

/* Probes for a ROM (else the native ROM), links every call and patches every site, once,
 * before interrupts are first enabled. Prints what it did through config->print. */
const struct vmi_guest_report *vmi_guest_init(const struct vmi_guest_config *config);

/* --- the site ------------------------------------------------------------------------------ */

#define VMI_STRINGIFY_(x) #x
#define VMI_STRINGIFY(x) VMI_STRINGIFY_(x)

#define VMI_NOP2_TEXT ".byte 0x66,0x90\n\t"
#define VMI_NOP8_TEXT ".byte 0x0f,0x1f,0x84,0x00,0x00,0x00,0x00,0x00\n\t"
#define VMI_NOP9_TEXT ".byte 0x66,0x0f,0x1f,0x84,0x00,0x00,0x00,0x00,0x00\n\t"
/* Reserved length minus the 6-byte table call, as vmi_fill_nops lays it out. */
#define VMI_PAD_TEXT_HOT  VMI_NOP9_TEXT VMI_NOP9_TEXT VMI_NOP8_TEXT   /* 26 */
#define VMI_PAD_TEXT_COLD VMI_NOP2_TEXT                               /* 2 */

/* The asm text of one site; `size` is HOT or COLD. Constants only: it is stringified. */
#define VMI_SITE_TEXT(insn, call, size, clobbers, flags)                                   \
	"661:\n\t"                                                                         \
	insn " *vmi_link_table+4*(" VMI_STRINGIFY(call) ")\n\t"                            \
	VMI_PAD_TEXT_##size                                                                \
	"662:\n\t"                                                                         \
	".if 662b-661b-(" VMI_STRINGIFY(VMI_SITE_##size##_LENGTH) ")\n\t"                  \
	".error \"VMI site has the wrong length\"\n\t"                                     \
	".endif\n\t"                                                                       \
	".pushsection .vmi_sites,\"a\"\n\t"                                               \
	".balign 4\n\t"                                                                    \
	".long 661b\n\t"                                                                   \
	".byte " VMI_STRINGIFY(VMI_SITE_##size##_LENGTH) ", (" VMI_STRINGIFY(call) "), ("  \
	VMI_STRINGIFY(clobbers) "), (" VMI_STRINGIFY(flags) ")\n\t"                       \
	".popsection\n\t"

#define VMI_CALL_SITE(call, size, clobbers) VMI_SITE_TEXT("call", call, size, clobbers, 0)

/* `asm inline`: the site is a few bytes of code, not the many lines of text it looks like,
 * so the compiler still inlines the wrappers. */
#define VMI_ASM __asm__ __volatile__ __inline__

#define VMI_CF   VMI_CLOBBER_FLAGS
#define VMI_CA   (VMI_CLOBBER_EAX | VMI_CLOBBER_FLAGS)
#define VMI_CAD  (VMI_CLOBBER_EAX | VMI_CLOBBER_EDX | VMI_CLOBBER_FLAGS)

/* --- interrupt flag (hot: inlined where the ROM publishes a template) ---------------------- */

/* Compiler barriers, like the instructions they stand for. */
static inline void vmi_disable_interrupts(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_DisableInterrupts, HOT, VMI_CF) : : : "cc", "memory");
}

static inline void vmi_enable_interrupts(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_EnableInterrupts, HOT, VMI_CF) : : : "cc", "memory");
}

/* EFLAGS as the virtual CPU sees them; only IF (VMI_EFLAGS_IF) is meaningful. */
static inline uint32_t vmi_get_interrupt_mask(void)
{
	uint32_t flags;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_GetInterruptMask, HOT, VMI_CA)
	        : "=a"(flags) : : "cc", "memory");
	return flags;
}

static inline void vmi_set_interrupt_mask(uint32_t flags)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_SetInterruptMask, HOT, VMI_CF)
	        : : "a"(flags) : "cc", "memory");
}

/* save-and-disable / restore, for nesting critical sections. */
static inline uint32_t vmi_irq_save(void)
{
	uint32_t flags = vmi_get_interrupt_mask();
	vmi_disable_interrupts();
	return flags;
}

static inline void vmi_irq_restore(uint32_t flags)
{
	vmi_set_interrupt_mask(flags);
}

/* --- descriptor tables --------------------------------------------------------------------- */

/* The 6 bytes lgdt/lidt take. */
struct vmi_pseudo_descriptor {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

/* Calls taking a pointer in EAX and returning a status; they read or fill memory. */
#define VMI_POINTER_STATUS_CALL(call, pointer)                                              \
	({                                                                                  \
		uint32_t vmi_eax_ = (uint32_t)(uintptr_t)(pointer);                         \
		VMI_ASM(VMI_CALL_SITE(call, COLD, VMI_CA) : "+a"(vmi_eax_) : : "cc", "memory"); \
		vmi_eax_;                                                                   \
	})

/* Calls taking one value in EAX and returning EAX. */
#define VMI_VALUE_CALL(call, value)                                                         \
	({                                                                                  \
		uint32_t vmi_eax_ = (uint32_t)(value);                                      \
		VMI_ASM(VMI_CALL_SITE(call, COLD, VMI_CA) : "+a"(vmi_eax_) : : "cc", "memory"); \
		vmi_eax_;                                                                   \
	})

/* Calls taking nothing and returning EAX. */
#define VMI_RESULT_CALL(call)                                                               \
	({                                                                                  \
		uint32_t vmi_eax_;                                                          \
		VMI_ASM(VMI_CALL_SITE(call, COLD, VMI_CA) : "=a"(vmi_eax_) : : "cc");       \
		vmi_eax_;                                                                   \
	})

static inline uint32_t vmi_set_gdt(const struct vmi_pseudo_descriptor *descriptor)
{
	return VMI_POINTER_STATUS_CALL(VMI_CALL_SetGDT, descriptor);
}

static inline uint32_t vmi_set_idt(const struct vmi_pseudo_descriptor *descriptor)
{
	return VMI_POINTER_STATUS_CALL(VMI_CALL_SetIDT, descriptor);
}

static inline uint32_t vmi_get_gdt(struct vmi_pseudo_descriptor *descriptor)
{
	return VMI_POINTER_STATUS_CALL(VMI_CALL_GetGDT, descriptor);
}

static inline uint32_t vmi_get_idt(struct vmi_pseudo_descriptor *descriptor)
{
	return VMI_POINTER_STATUS_CALL(VMI_CALL_GetIDT, descriptor);
}

static inline uint32_t vmi_set_ldt(uint32_t selector)
{
	return VMI_VALUE_CALL(VMI_CALL_SetLDT, selector);
}

static inline uint32_t vmi_set_tr(uint32_t selector)
{
	return VMI_VALUE_CALL(VMI_CALL_SetTR, selector);
}

static inline uint32_t vmi_get_ldt(void)
{
	return VMI_RESULT_CALL(VMI_CALL_GetLDT);
}

static inline uint32_t vmi_get_tr(void)
{
	return VMI_RESULT_CALL(VMI_CALL_GetTR);
}

/* Write*Entry: EAX = table base, EDX = index, ECX = low dword, the high dword on the stack
 * (pushed and popped here, around the site, so the site itself is only the call). */
#define VMI_WRITE_ENTRY_CALL(call, table, index, low, high)                                 \
	({                                                                                  \
		uint32_t vmi_eax_ = (uint32_t)(uintptr_t)(table);                           \
		VMI_ASM("pushl %[vmi_high]\n\t"                                             \
		        VMI_SITE_TEXT("call", call, COLD, VMI_CA, VMI_SITE_FLAG_STACK_ARGS) \
		        "addl $4, %%esp"                                                    \
		        : "+a"(vmi_eax_)                                                    \
		        : "d"((uint32_t)(index)), "c"((uint32_t)(low)),                     \
		          [vmi_high] "ri"((uint32_t)(high))                                 \
		        : "cc", "memory");                                                  \
		vmi_eax_;                                                                   \
	})

static inline uint32_t vmi_write_gdt_entry(void *table, uint32_t index, uint32_t low,
                                           uint32_t high)
{
	return VMI_WRITE_ENTRY_CALL(VMI_CALL_WriteGDTEntry, table, index, low, high);
}

static inline uint32_t vmi_write_ldt_entry(void *table, uint32_t index, uint32_t low,
                                           uint32_t high)
{
	return VMI_WRITE_ENTRY_CALL(VMI_CALL_WriteLDTEntry, table, index, low, high);
}

static inline uint32_t vmi_write_idt_entry(void *table, uint32_t index, uint32_t low,
                                           uint32_t high)
{
	return VMI_WRITE_ENTRY_CALL(VMI_CALL_WriteIDTEntry, table, index, low, high);
}

static inline uint32_t vmi_update_kernel_stack(void *tss, uint32_t esp0)
{
	uint32_t eax = (uint32_t)(uintptr_t)tss;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_UpdateKernelStack, COLD, VMI_CA)
	        : "+a"(eax) : "d"(esp0) : "cc", "memory");
	return eax;
}

/* --- control and debug registers ----------------------------------------------------------- */

static inline uint32_t vmi_set_cr0(uint32_t value) { return VMI_VALUE_CALL(VMI_CALL_SetCR0, value); }
static inline uint32_t vmi_set_cr2(uint32_t value) { return VMI_VALUE_CALL(VMI_CALL_SetCR2, value); }
static inline uint32_t vmi_set_cr3(uint32_t value) { return VMI_VALUE_CALL(VMI_CALL_SetCR3, value); }
static inline uint32_t vmi_set_cr4(uint32_t value) { return VMI_VALUE_CALL(VMI_CALL_SetCR4, value); }
static inline uint32_t vmi_get_cr0(void) { return VMI_RESULT_CALL(VMI_CALL_GetCR0); }
static inline uint32_t vmi_get_cr2(void) { return VMI_RESULT_CALL(VMI_CALL_GetCR2); }
static inline uint32_t vmi_get_cr3(void) { return VMI_RESULT_CALL(VMI_CALL_GetCR3); }
static inline uint32_t vmi_get_cr4(void) { return VMI_RESULT_CALL(VMI_CALL_GetCR4); }

/* --- page tables (docs/abi.md, "Page tables"; flags in vmi/mmu.h) -------------------------- */

/* Writes `value` to the page-table entry at `entry`; flags: VMI_PAGE_PT or VMI_PAGE_PD, and
 * VMI_PAGE_CURRENT_AS with the mapped linear address, VMI_PAGE_DEFER. */
static inline uint32_t vmi_set_pxe(volatile uint32_t *entry, uint32_t value, uint32_t flags)
{
	uint32_t eax = value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_SetPxE, COLD, VMI_CA)
	        : "+a"(eax) : "d"((uint32_t)(uintptr_t)entry), "c"(flags) : "cc", "memory");
	return eax;
}

static inline uint32_t vmi_get_pxe(const volatile uint32_t *entry)
{
	return VMI_VALUE_CALL(VMI_CALL_GetPxE, (uintptr_t)entry);
}

/* Writes `value` and returns the entry's old value, atomically (A and D bits included). */
static inline uint32_t vmi_swap_pxe(volatile uint32_t *entry, uint32_t value)
{
	uint32_t eax = value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_SwapPxE, COLD, VMI_CA)
	        : "+a"(eax) : "d"((uint32_t)(uintptr_t)entry) : "cc", "memory");
	return eax;
}

/* Set or clear bit `bit` of the entry atomically; returns its old value, 0 or 1. */
static inline uint32_t vmi_test_and_set_pxe_bit(volatile uint32_t *entry, uint32_t bit)
{
	uint32_t eax = bit;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_TestAndSetPxEBit, COLD, VMI_CA)
	        : "+a"(eax) : "d"((uint32_t)(uintptr_t)entry) : "cc", "memory");
	return eax;
}

static inline uint32_t vmi_test_and_clear_pxe_bit(volatile uint32_t *entry, uint32_t bit)
{
	uint32_t eax = bit;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_TestAndClearPxEBit, COLD, VMI_CA)
	        : "+a"(eax) : "d"((uint32_t)(uintptr_t)entry) : "cc", "memory");
	return eax;
}

/* Announces guest-physical page `pfn` as a page table (VMI_PAGE_PT) or directory
 * (VMI_PAGE_PD), with VMI_ALLOCATE_ZEROED; a clone copies `count` entries from `start` of
 * directory `clone_pfn` (VMI_ALLOCATE_CLONE; else pass 0s). */
static inline uint32_t vmi_allocate_page(uint32_t pfn, uint32_t flags, uint32_t clone_pfn,
                                         uint32_t start, uint32_t count)
{
	uint32_t eax = pfn;
	VMI_ASM("pushl %[vmi_count]\n\t"
	        "pushl %[vmi_start]\n\t"
	        VMI_SITE_TEXT("call", VMI_CALL_AllocatePage, COLD, VMI_CA, VMI_SITE_FLAG_STACK_ARGS)
	        "addl $8, %%esp"
	        : "+a"(eax)
	        : "d"(flags), "c"(clone_pfn), [vmi_start] "ri"(start), [vmi_count] "ri"(count)
	        : "cc", "memory");
	return eax;
}

static inline uint32_t vmi_release_page(uint32_t pfn, uint32_t flags)
{
	uint32_t eax = pfn;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_ReleasePage, COLD, VMI_CA)
	        : "+a"(eax) : "d"(flags) : "cc", "memory");
	return eax;
}

/* Drops the translation of the page holding linear address `address`. */
static inline uint32_t vmi_inval_page(uint32_t address)
{
	return VMI_VALUE_CALL(VMI_CALL_InvalPage, address);
}

/* VMI_FLUSH_TLB, optionally | VMI_FLUSH_GLOBAL. */
static inline uint32_t vmi_flush_tlb(uint32_t flags)
{
	return VMI_VALUE_CALL(VMI_CALL_FlushTLB, flags);
}

static inline uint32_t vmi_flush_deferred_calls(uint32_t flags)
{
	return VMI_VALUE_CALL(VMI_CALL_FlushDeferredCalls, flags);
}

/* Names `pages` pages at linear `address` as a linear map of guest-physical frames from
 * `pfn` on, in `slot` (0: the kernel's map of RAM). */
static inline uint32_t vmi_set_linear_mapping(uint32_t slot, uint32_t address, uint32_t pages,
                                              uint32_t pfn)
{
	uint32_t eax = slot;
	VMI_ASM("pushl %[vmi_pfn]\n\t"
	        VMI_SITE_TEXT("call", VMI_CALL_SetLinearMapping, COLD, VMI_CA,
	                      VMI_SITE_FLAG_STACK_ARGS)
	        "addl $4, %%esp"
	        : "+a"(eax)
	        : "d"(address), "c"(pages), [vmi_pfn] "ri"(pfn)
	        : "cc", "memory");
	return eax;
}

static inline void vmi_clts(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_CLTS, COLD, VMI_CF) : : : "cc");
}

static inline void vmi_invd(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_INVD, COLD, VMI_CF) : : : "cc", "memory");
}

static inline void vmi_wbinvd(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_WBINVD, COLD, VMI_CF) : : : "cc", "memory");
}

static inline uint32_t vmi_set_dr(uint32_t number, uint32_t value)
{
	uint32_t eax = number;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_SetDR, COLD, VMI_CA) : "+a"(eax) : "d"(value) : "cc");
	return eax;
}

static inline uint32_t vmi_get_dr(uint32_t number)
{
	uint32_t eax = number;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_GetDR, COLD, VMI_CA) : "+a"(eax) : : "cc");
	return eax;
}

/* --- instructions shaped like themselves: CPUID, MSRs, counters ----------------------------- */

struct vmi_cpuid_result {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct vmi_cpuid_result vmi_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct vmi_cpuid_result r;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_CPUID, COLD,
	                      (VMI_CLOBBER_EAX | VMI_CLOBBER_EBX | VMI_CLOBBER_ECX |
	                       VMI_CLOBBER_EDX | VMI_CLOBBER_FLAGS))
	        : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
	        : "a"(leaf), "c"(subleaf) : "cc");
	return r;
}

static inline uint64_t vmi_rdmsr(uint32_t msr)
{
	uint64_t value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_RDMSR, COLD, VMI_CAD) : "=A"(value) : "c"(msr) : "cc");
	return value;
}

static inline uint32_t vmi_wrmsr(uint32_t msr, uint64_t value)
{
	uint32_t eax = (uint32_t)value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_WRMSR, COLD, VMI_CA)
	        : "+a"(eax) : "d"((uint32_t)(value >> 32)), "c"(msr) : "cc", "memory");
	return eax;
}

static inline uint64_t vmi_rdtsc(void)
{
	uint64_t value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_RDTSC, COLD, VMI_CAD) : "=A"(value) : : "cc");
	return value;
}

static inline uint64_t vmi_rdpmc(uint32_t counter)
{
	uint64_t value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_RDPMC, COLD, VMI_CAD) : "=A"(value) : "c"(counter) : "cc");
	return value;
}

/* --- processor state ----------------------------------------------------------------------- */

static inline void vmi_pause(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_Pause, COLD, VMI_CF) : : : "cc", "memory");
}

/* Returns after an interrupt was taken. */
static inline void vmi_halt(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_Halt, COLD, VMI_CF) : : : "cc", "memory");
}

/* Reboot and Shutdown do not return where the platform implements them; where it does not
 * they return VMI_ERROR_NOT_IMPLEMENTED (so EAX is declared changed). */
#define VMI_REBOOT_SOFT 0
#define VMI_REBOOT_HARD 1

static inline uint32_t vmi_reboot(uint32_t how)
{
	return VMI_VALUE_CALL(VMI_CALL_Reboot, how);
}

static inline uint32_t vmi_shutdown(void)
{
	uint32_t eax;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_Shutdown, COLD, VMI_CA) : "=a"(eax) : : "cc", "memory");
	return eax;
}

/* IRET: ESP moves to `frame` (an iret frame: EIP, CS, EFLAGS[, ESP, SS]) and the site jumps
 * to the ROM's IRET. SYSEXIT: to user EIP with user ESP. Neither returns. */
static inline __attribute__((noreturn)) void vmi_iret(const void *frame)
{
	VMI_ASM("movl %0, %%esp\n\t"
	        VMI_SITE_TEXT("jmp", VMI_CALL_IRET, COLD, VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP)
	        : : "r"(frame) : "memory");
	__builtin_unreachable();
}

static inline __attribute__((noreturn)) void vmi_sysexit(uint32_t user_eip, uint32_t user_esp)
{
	VMI_ASM(VMI_SITE_TEXT("jmp", VMI_CALL_SYSEXIT, COLD, VMI_CLOBBER_ALL, VMI_SITE_FLAG_JUMP)
	        : : "d"(user_eip), "c"(user_esp) : "memory");
	__builtin_unreachable();
}

static inline uint32_t vmi_set_iopl_mask(uint32_t iopl_bits)
{
	return VMI_VALUE_CALL(VMI_CALL_SetIOPLMask, iopl_bits);
}

/* --- port I/O ------------------------------------------------------------------------------ */

/* Device accesses order memory around them, so they are compiler barriers too. */
#define VMI_IN_CALL(call, port)                                                             \
	({                                                                                  \
		uint32_t vmi_eax_;                                                          \
		VMI_ASM(VMI_CALL_SITE(call, COLD, VMI_CA)                                   \
		        : "=a"(vmi_eax_) : "d"((uint32_t)(port)) : "cc", "memory");         \
		vmi_eax_;                                                                   \
	})

#define VMI_OUT_CALL(call, value, port)                                                     \
	VMI_ASM(VMI_CALL_SITE(call, COLD, VMI_CF)                                           \
	        : : "a"((uint32_t)(value)), "d"((uint32_t)(port)) : "cc", "memory")

static inline uint8_t vmi_inb(uint16_t port) { return (uint8_t)VMI_IN_CALL(VMI_CALL_INB, port); }
static inline uint16_t vmi_inw(uint16_t port) { return (uint16_t)VMI_IN_CALL(VMI_CALL_INW, port); }
static inline uint32_t vmi_inl(uint16_t port) { return VMI_IN_CALL(VMI_CALL_IN, port); }
static inline void vmi_outb(uint8_t value, uint16_t port) { VMI_OUT_CALL(VMI_CALL_OUTB, value, port); }
static inline void vmi_outw(uint16_t value, uint16_t port) { VMI_OUT_CALL(VMI_CALL_OUTW, value, port); }
static inline void vmi_outl(uint32_t value, uint16_t port) { VMI_OUT_CALL(VMI_CALL_OUT, value, port); }

/* String I/O, as `rep ins`/`rep outs`: EDI/ESI = buffer, EDX = port, ECX = count. */
#define VMI_INS_CALL(call, port, buffer, count)                                             \
	do {                                                                                \
		void *vmi_edi_ = (buffer);                                                  \
		uint32_t vmi_ecx_ = (uint32_t)(count);                                      \
		VMI_ASM(VMI_CALL_SITE(call, COLD,                                           \
		                      (VMI_CLOBBER_EDI | VMI_CLOBBER_ECX | VMI_CLOBBER_FLAGS)) \
		        : "+D"(vmi_edi_), "+c"(vmi_ecx_) : "d"((uint32_t)(port))            \
		        : "cc", "memory");                                                  \
	} while (0)

#define VMI_OUTS_CALL(call, port, buffer, count)                                            \
	do {                                                                                \
		const void *vmi_esi_ = (buffer);                                            \
		uint32_t vmi_ecx_ = (uint32_t)(count);                                      \
		VMI_ASM(VMI_CALL_SITE(call, COLD,                                           \
		                      (VMI_CLOBBER_ESI | VMI_CLOBBER_ECX | VMI_CLOBBER_FLAGS)) \
		        : "+S"(vmi_esi_), "+c"(vmi_ecx_) : "d"((uint32_t)(port))            \
		        : "cc", "memory");                                                  \
	} while (0)

static inline void vmi_insb(uint16_t port, void *buffer, uint32_t count) { VMI_INS_CALL(VMI_CALL_INSB, port, buffer, count); }
static inline void vmi_insw(uint16_t port, void *buffer, uint32_t count) { VMI_INS_CALL(VMI_CALL_INSW, port, buffer, count); }
static inline void vmi_insl(uint16_t port, void *buffer, uint32_t count) { VMI_INS_CALL(VMI_CALL_INS, port, buffer, count); }
static inline void vmi_outsb(uint16_t port, const void *buffer, uint32_t count) { VMI_OUTS_CALL(VMI_CALL_OUTSB, port, buffer, count); }
static inline void vmi_outsw(uint16_t port, const void *buffer, uint32_t count) { VMI_OUTS_CALL(VMI_CALL_OUTSW, port, buffer, count); }
static inline void vmi_outsl(uint16_t port, const void *buffer, uint32_t count) { VMI_OUTS_CALL(VMI_CALL_OUTS, port, buffer, count); }

static inline void vmi_io_delay(void)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_IODelay, COLD, VMI_CF) : : : "cc");
}

/* --- APIC and secondary processors --------------------------------------------------------- */

/* APICWrite has no result, but a platform without it returns VMI_ERROR_NOT_IMPLEMENTED in
 * EAX (the native ROM's record declares EAX clobbered): the site gives EAX up. */
static inline void vmi_apic_write(uint32_t reg, uint32_t value)
{
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_APICWrite, COLD, VMI_CA)
	        : "+a"(reg) : "d"(value) : "cc", "memory");
}

static inline uint32_t vmi_apic_read(uint32_t reg)
{
	return VMI_VALUE_CALL(VMI_CALL_APICRead, reg);
}

static inline uint32_t vmi_set_initial_ap_state(const void *state, uint32_t apic_id)
{
	uint32_t eax = (uint32_t)(uintptr_t)state;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_SetInitialAPState, COLD, VMI_CA)
	        : "+a"(eax) : "d"(apic_id) : "cc", "memory");
	return eax;
}

/* --- time ------------------------------------------------------------------------------------ */

/* Counters (VMI_CYCLES_*) and alarm flags (VMI_ALARM_*): include/vmi/vcpu_page.h. */

static inline uint64_t vmi_get_cycle_frequency(void)
{
	uint64_t value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_GetCycleFrequency, COLD, VMI_CAD) : "=A"(value) : : "cc");
	return value;
}

static inline uint64_t vmi_get_cycle_counter(uint32_t which)
{
	uint64_t value = which;   /* EAX = which; EDX:EAX comes back */
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_GetCycleCounter, COLD, VMI_CAD) : "+A"(value) : : "cc");
	return value;
}

/* EAX = flags, EDX = expiry low, ECX = expiry high (a 64-bit argument takes two registers,
 * low first), the 8-byte period on the stack, low dword at the lower address. */
static inline uint32_t vmi_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period)
{
	uint32_t eax = flags;
	VMI_ASM("pushl %[period_high]\n\t"
	        "pushl %[period_low]\n\t"
	        VMI_SITE_TEXT("call", VMI_CALL_SetAlarm, COLD, VMI_CA, VMI_SITE_FLAG_STACK_ARGS)
	        "addl $8, %%esp"
	        : "+a"(eax)
	        : "d"((uint32_t)expiry), "c"((uint32_t)(expiry >> 32)),
	          [period_low] "ri"((uint32_t)period), [period_high] "ri"((uint32_t)(period >> 32))
	        : "cc", "memory");
	return eax;
}

/* 1 if an alarm was pending, else 0. */
static inline uint32_t vmi_cancel_alarm(uint32_t flags)
{
	return VMI_VALUE_CALL(VMI_CALL_CancelAlarm, flags);
}

/* Nanoseconds since 1970. */
static inline uint64_t vmi_get_wallclock_time(void)
{
	uint64_t value;
	VMI_ASM(VMI_CALL_SITE(VMI_CALL_GetWallclockTime, COLD, VMI_CAD) : "=A"(value) : : "cc");
	return value;
}

static inline uint32_t vmi_wallclock_updated(void)
{
	return VMI_RESULT_CALL(VMI_CALL_WallclockUpdated);
}

/* The page-table calls (45-58, 72-74, 86, 87) get wrappers once docs/abi.md specifies them. */

#endif /* __ASSEMBLER__ */

#endif
