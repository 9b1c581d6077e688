/* Every vmiguest.h wrapper instantiated once, so each site shape (stack arguments, 64-bit
 * results, string I/O, jumps) is assembled, recorded and patched. Never called. */
#include <stdint.h>
#include "vmiguest.h"
#include <vmi/alarm.h>

void sdk_every_wrapper(void *pointer, uint32_t value) __attribute__((used, noinline));

/* A sink the compiler cannot see through, so no result is thrown away. */
static void keep(uint64_t value)
{
	__asm__ volatile("" : : "r"((uint32_t)value), "r"((uint32_t)(value >> 32)) : "memory");
}

void sdk_every_wrapper(void *pointer, uint32_t value)
{
	struct vmi_pseudo_descriptor descriptor = { 0, 0 };

	vmi_disable_interrupts();
	vmi_enable_interrupts();
	vmi_set_interrupt_mask(vmi_get_interrupt_mask());
	vmi_irq_restore(vmi_irq_save());

	keep(vmi_set_gdt(&descriptor));
	keep(vmi_set_idt(&descriptor));
	keep(vmi_get_gdt(&descriptor));
	keep(vmi_get_idt(&descriptor));
	keep(vmi_set_ldt(value));
	keep(vmi_set_tr(value));
	keep(vmi_get_ldt());
	keep(vmi_get_tr());
	keep(vmi_write_gdt_entry(pointer, 1, value, value + 1));
	keep(vmi_write_ldt_entry(pointer, 2, value, 0x00CF9A00));
	keep(vmi_write_idt_entry(pointer, 3, value, value ^ 0x8E00));
	keep(vmi_update_kernel_stack(pointer, value));

	keep(vmi_set_cr0(value));
	keep(vmi_set_cr2(value));
	keep(vmi_set_cr3(value));
	keep(vmi_set_pxe(pointer, value, VMI_PAGE_PT));
	keep(vmi_get_pxe(pointer));
	keep(vmi_swap_pxe(pointer, value));
	keep(vmi_test_and_set_pxe_bit(pointer, value));
	keep(vmi_test_and_clear_pxe_bit(pointer, value));
	keep(vmi_allocate_page(value, VMI_PAGE_PD | VMI_ALLOCATE_CLONE, value, 768, 256));
	keep(vmi_release_page(value, VMI_PAGE_PT));
	keep(vmi_inval_page(value));
	keep(vmi_flush_tlb(VMI_FLUSH_TLB));
	keep(vmi_flush_deferred_calls(VMI_FLUSH_DEFERRED_PT));
	keep(vmi_set_linear_mapping(0, value, 1024, 0));
	keep(vmi_set_cr4(value));
	keep(vmi_get_cr0() + vmi_get_cr2() + vmi_get_cr3() + vmi_get_cr4());
	vmi_clts();
	vmi_invd();
	vmi_wbinvd();
	keep(vmi_set_dr(7, value));
	keep(vmi_get_dr(7));

	struct vmi_cpuid_result id = vmi_cpuid(value, 0);
	keep(id.eax + id.ebx + id.ecx + id.edx);
	keep(vmi_rdmsr(value));
	keep(vmi_wrmsr(value, 0x123456789ull));
	keep(vmi_rdtsc());
	keep(vmi_rdpmc(value));

	vmi_pause();
	vmi_halt();
	keep(vmi_set_iopl_mask(value & 0x3000));

	keep(vmi_inb(0x60) + vmi_inw(0x1F0) + vmi_inl(0xCFC));
	vmi_outb((uint8_t)value, 0x80);
	vmi_outw((uint16_t)value, 0x1F0);
	vmi_outl(value, 0xCF8);
	vmi_insb(0x1F0, pointer, 16);
	vmi_insw(0x1F0, pointer, 16);
	vmi_insl(0x1F0, pointer, 16);
	vmi_outsb(0x1F0, pointer, 16);
	vmi_outsw(0x1F0, pointer, 16);
	vmi_outsl(0x1F0, pointer, 16);
	vmi_io_delay();

	vmi_apic_write(0x80, value);
	keep(vmi_apic_read(0x20));
	keep(vmi_set_initial_ap_state(pointer, 1));

	keep(vmi_get_cycle_frequency());
	keep(vmi_get_cycle_counter(VMI_CYCLES_AVAILABLE));
	keep(vmi_set_alarm(VMI_ALARM_WIRED_IRQ0 | VMI_ALARM_PERIODIC, 1000000ull * value,
	                   0x100000000ull + value));
	keep(vmi_cancel_alarm(VMI_ALARM_WIRED_IRQ0));
	keep(vmi_get_wallclock_time());
	keep(vmi_wallclock_updated());

	if (value == 1)
		keep(vmi_reboot(VMI_REBOOT_SOFT));
	if (value == 2)
		keep(vmi_shutdown());
	if (value == 3)
		vmi_sysexit(value, (uint32_t)(uintptr_t)pointer);
	vmi_iret(pointer);
}
