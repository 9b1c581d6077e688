/* Unit tests for the monitor's one entry point (monitor_handle_exit, vmm/monitor/exit.c):
 * for each kind of exit a platform hands it, the action it answers and the state it leaves,
 * and that stops are requested, never jumped to, with the first reason kept. Guest memory
 * is lent (address_space_use_memory); nothing runs guest code. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <vmi/calls.h>
#include <vmi/cpu.h>
#include <vmi/pc.h>
#include <vmi/process.h>
#include "cpuid_sources.h"
#include "devices/machine.h"
#include "monitor/descriptors.h"
#include "monitor/msr.h"
#include "monitor/virtual_cpu.h"
#include "platform.h"
#include "platform/process/address_space.h"

#define RAM_BYTES    (4u << 20)
#define IDT          (VMI_PROCESS_RAM_BASE + 0x2000)
#define IDTR         (VMI_PROCESS_RAM_BASE + 0x4008)
#define STACK        (VMI_PROCESS_RAM_BASE + 0x6000)
#define HANDLERS     (VMI_PROCESS_RAM_BASE + 0x8000)  /* 16 bytes per vector */
#define CODE         (VMI_PROCESS_RAM_BASE + 0x1234)
#define TIMER_VECTOR 0x20

static uint8_t *memory;

static uint32_t *word(uint32_t physical)
{
	return (uint32_t *)(memory + physical);
}

static void setup(void)
{
	memory = calloc(1, VMI_PROCESS_RAM_BASE + RAM_BYTES);
	cr_assert_not_null(memory);
	address_space_use_memory(memory, RAM_BYTES, 0);
	virtual_cpu_reset_state();
}

static void teardown(void)
{
	msr_use_cpuid_source(NULL);
	free(memory);
}

TestSuite(exit, .init = setup, .fini = teardown);

/* A kernel's IDT: an interrupt gate in ring 0 for each vector in `vectors`. */
static void install_gates(const unsigned *vectors, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint32_t handler = HANDLERS + vectors[i] * 16;
		word(IDT + vectors[i] * 8)[0] = (uint32_t)VMI_PROCESS_KERNEL_CS << 16 | (handler & 0xFFFF);
		word(IDT + vectors[i] * 8)[1] = (handler & 0xFFFF0000) | 0x8E00;
	}
	uint8_t idtr[6] = { 0xFF, 0x07, (uint8_t)IDT, (uint8_t)(IDT >> 8), (uint8_t)(IDT >> 16),
	                    (uint8_t)(IDT >> 24) };
	memcpy(memory + IDTR, idtr, sizeof idtr);
	cr_assert_eq(descriptors_set_idt(IDTR), 0);
}

static struct guest_regs kernel_regs(void)
{
	return (struct guest_regs){ .eax = 4, .ecx = 0x11, .edx = 0x22, .ebx = 0x33, .esp = STACK,
	                            .ebp = 0x55, .esi = 0x66, .edi = 0x77, .eip = CODE,
	                            .eflags = 0x202 };
}

/* The stop the platform recorded: platform_run with a stop requested returns it at once,
 * without entering the guest. */
static struct guest_stop recorded_stop(void)
{
	cr_assert(platform_stop_requested(), "no stop was requested");
	struct guest_regs none = { 0 };
	struct guest_stop stop;
	platform_run(&none, &stop);
	return stop;
}

static enum exit_action fault(unsigned vector, uint32_t error_code, uint32_t address,
                              struct guest_regs *regs)
{
	struct guest_exit exit = { .kind = GUEST_EXIT_FAULT, .vector = vector,
	                           .error_code = error_code, .page_walk_error = -1,
	                           .fault_address = address, .in_guest_code = 1 };
	return monitor_handle_exit(&exit, regs);
}

Test(exit, a_plain_hypercall_continues_with_only_its_result_changed)
{
	virtual_cpu.cr0 = 0x80000011;
	struct guest_regs regs = kernel_regs(), before = regs;
	struct guest_exit exit = { .kind = GUEST_EXIT_HYPERCALL, .call = VMI_CALL_GetCR0 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_CONTINUE);
	cr_assert_eq(regs.eax, 0x80000011);
	before.eax = regs.eax;
	cr_assert_eq(memcmp(&regs, &before, sizeof regs), 0, "only eax may change");
	cr_assert(!platform_stop_requested());
}

static uint32_t hypercall(uint32_t call, uint32_t eax)
{
	struct guest_regs regs = kernel_regs();
	regs.eax = eax;
	struct guest_exit exit = { .kind = GUEST_EXIT_HYPERCALL, .call = call };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_CONTINUE);
	return regs.eax;
}

/* The calls take what the `mov` takes: a value a CPU answers with #GP is refused and
 * changes nothing, one vmirun cannot do is "not implemented", and what is stored is what a
 * CPU would keep (ET fixed, undefined CR0 bits clear). */
Test(exit, setcr0_and_setcr4_refuse_what_a_cpu_refuses_and_store_what_it_keeps)
{
	virtual_cpu.cr0 = 0x11;
	cr_assert_eq(hypercall(VMI_CALL_SetCR0, 0x0000FF21), 0);
	cr_assert_eq(virtual_cpu.cr0, 0x31, "NE set, ET fixed, bits 6-15 clear: %08x",
	             virtual_cpu.cr0);
	cr_assert_eq(hypercall(VMI_CALL_SetCR0, 0x80000010), VMI_ERROR_INVALID, "PG without PE");
	cr_assert_eq(hypercall(VMI_CALL_SetCR0, 0x20000011), VMI_ERROR_INVALID, "NW without CD");
	cr_assert_eq(hypercall(VMI_CALL_SetCR0, 0x10), VMI_ERROR_NOT_IMPLEMENTED, "real mode");
	cr_assert_eq(virtual_cpu.cr0, 0x31, "refused values change nothing");

	cr_assert_eq(hypercall(VMI_CALL_SetCR4, 0x20000), VMI_ERROR_INVALID, "PCIDE outside long mode");
	cr_assert_eq(hypercall(VMI_CALL_SetCR4, 0x8000), VMI_ERROR_INVALID, "a reserved bit");
	cr_assert_eq(virtual_cpu.cr4, 0, "refused values change nothing");
	cr_assert_eq(hypercall(VMI_CALL_GetCR4, 0), 0);
}

Test(exit, the_cpuid_call_answers_the_virtual_cpuid)
{
	msr_use_cpuid_source(cpuid_every_feature);
	struct guest_regs regs = kernel_regs();
	regs.eax = 1;
	regs.ecx = 0;
	struct guest_exit exit = { .kind = GUEST_EXIT_HYPERCALL, .call = VMI_CALL_CPUID };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_CONTINUE);
	cr_assert_eq(regs.edx, ~(1u << 9), "all but the APIC: %08x", regs.edx);
	cr_assert_eq(regs.ecx & (1u << 26), 0, "no XSAVE: %08x", regs.ecx);
	/* the host's CPUID, not the model's, would say nothing of the test's source */
	regs = kernel_regs();
	regs.eax = 0xD;
	regs.ecx = 0;
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_CONTINUE);
	cr_assert(regs.eax == 0 && regs.ebx == 0 && regs.ecx == 0 && regs.edx == 0,
	          "no XSAVE leaf");
}

Test(exit, shutdown_is_a_stop_request_the_exit_reports)
{
	struct guest_regs regs = kernel_regs();
	struct guest_exit exit = { .kind = GUEST_EXIT_HYPERCALL, .call = VMI_CALL_Shutdown };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_STOP);
	cr_assert_eq(recorded_stop().reason, GUEST_STOP_SHUTDOWN);
}

Test(exit, a_page_fault_goes_to_the_guest_with_cr2_and_its_virtual_ring)
{
	install_gates((unsigned[]){ 14 }, 1);
	struct guest_regs regs = kernel_regs();
	/* the host CPU says user (bit 2) for all guest code; the guest is in its ring 0 */
	cr_assert_eq(fault(14, 7, 0x40001000, &regs), EXIT_RESUME);
	cr_assert_eq(regs.eip, HANDLERS + 14 * 16);
	cr_assert_eq(regs.esp, STACK - 16);
	cr_assert_eq(*word(STACK - 16), 3, "error code 0x%x", *word(STACK - 16));
	cr_assert_eq(*word(STACK - 12), CODE, "the faulting eip");
	cr_assert_eq(virtual_cpu.cr2, 0x40001000);
	cr_assert(!virtual_cpu_interrupts_enabled(), "an interrupt gate clears IF");
}

Test(exit, the_page_tables_error_code_wins_over_the_hosts)
{
	install_gates((unsigned[]){ 14 }, 1);
	struct guest_regs regs = kernel_regs();
	struct guest_exit exit = { .kind = GUEST_EXIT_FAULT, .vector = 14, .error_code = 4,
	                           .page_walk_error = 2, .fault_address = 0x40002000,
	                           .in_guest_code = 1 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_RESUME);
	cr_assert_eq(*word(STACK - 16), 2);
}

Test(exit, a_fault_with_no_gate_at_all_stops_naming_it)
{
	struct guest_regs regs = kernel_regs();
	cr_assert_eq(fault(6, 0, 0, &regs), EXIT_STOP);
	struct guest_stop stop = recorded_stop();
	cr_assert_eq(stop.reason, GUEST_STOP_FAULT);
	cr_assert_str_eq(stop.message, "guest fault: invalid opcode (#UD) at eip 0x00101234, "
	                               "error code 0x0");
	cr_assert(stop.have_regs);
	cr_assert_eq(stop.regs.eip, CODE);
}

Test(exit, a_fault_in_code_the_guest_escaped_to_is_never_delivered)
{
	install_gates((unsigned[]){ 6, 13 }, 2);
	struct guest_regs regs = kernel_regs();
	struct guest_exit exit = { .kind = GUEST_EXIT_FAULT, .vector = 6, .page_walk_error = -1,
	                           .in_guest_code = 0 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_STOP);
	cr_assert_eq(recorded_stop().reason, GUEST_STOP_FAULT);
	cr_assert_eq(virtual_cpu.interrupts_delivered, 0);
}

Test(exit, a_trapped_out_to_the_exit_port_stops_with_its_value)
{
	install_gates((unsigned[]){ 13 }, 1);
	memory[CODE] = 0xEE; /* out %al, (%dx) */
	struct guest_regs regs = kernel_regs();
	regs.eax = 5;
	regs.edx = VMI_PORT_EXIT;
	cr_assert_eq(fault(13, 0, 0, &regs), EXIT_STOP);
	struct guest_stop stop = recorded_stop();
	cr_assert_eq(stop.reason, GUEST_STOP_EXIT_PORT);
	cr_assert_eq(stop.exit_port_value, 5);
	cr_assert_eq(virtual_cpu.interrupts_delivered, 0, "emulated, not reflected");
}

Test(exit, a_system_call_goes_to_the_guests_gate_past_the_instruction)
{
	install_gates((unsigned[]){ VMI_SYSCALL_VECTOR }, 1);
	struct guest_regs regs = kernel_regs();
	regs.eip = CODE + 2; /* past int $0x80 */
	struct guest_exit exit = { .kind = GUEST_EXIT_SYSCALL, .syscall_length = 2,
	                           .in_guest_code = 1 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_RESUME);
	cr_assert_eq(regs.eip, HANDLERS + VMI_SYSCALL_VECTOR * 16);
	cr_assert_eq(*word(STACK - 12), CODE + 2, "returns past the int");
	cr_assert_eq(regs.eax, 4, "the call number reaches the handler");
}

Test(exit, a_system_call_with_no_handler_stops_saying_so)
{
	struct guest_regs regs = kernel_regs();
	regs.eip = CODE + 2;
	struct guest_exit exit = { .kind = GUEST_EXIT_SYSCALL, .syscall_length = 2,
	                           .in_guest_code = 1 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_STOP);
	struct guest_stop stop = recorded_stop();
	cr_assert_eq(stop.reason, GUEST_STOP_FAULT);
	cr_assert(strstr(stop.message, "i386 system call (number 4) at eip 0x00101234"),
	          "%s", stop.message);
}

Test(exit, an_interrupt_exit_delivers_only_what_the_virtual_if_lets_in)
{
	install_gates((unsigned[]){ TIMER_VECTOR }, 1);
	struct guest_regs regs = kernel_regs(), before = regs;
	struct guest_exit exit = { .kind = GUEST_EXIT_INTERRUPT, .in_guest_code = 1 };
	virtual_cpu_set_interrupts_enabled(0);
	machine_raise_vector(TIMER_VECTOR);
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_CONTINUE);
	cr_assert_eq(memcmp(&regs, &before, sizeof regs), 0);
	virtual_cpu_set_interrupts_enabled(1);
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_RESUME);
	cr_assert_eq(regs.eip, HANDLERS + TIMER_VECTOR * 16);
	cr_assert_eq(virtual_cpu_highest_pending(), -1);
}

Test(exit, a_timeout_stops_with_the_registers_it_found)
{
	struct guest_regs regs = kernel_regs();
	struct guest_exit exit = { .kind = GUEST_EXIT_TIMEOUT, .in_guest_code = 1 };
	cr_assert_eq(monitor_handle_exit(&exit, &regs), EXIT_STOP);
	struct guest_stop stop = recorded_stop();
	cr_assert_eq(stop.reason, GUEST_STOP_TIMEOUT);
	cr_assert(stop.have_regs);
	cr_assert_eq(stop.regs.eip, CODE);
}

Test(exit, the_first_stop_requested_is_the_one_reported)
{
	machine_stop_for_reboot();
	machine_stop_with_status(3);
	struct guest_stop stop = recorded_stop();
	cr_assert_eq(stop.reason, GUEST_STOP_REBOOT);
	cr_assert_eq(stop.exit_port_value, 0);
}
