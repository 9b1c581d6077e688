/* The virtual CPU's interrupt side: the virtual IF in the shared page, pending vectors, and
 * delivery by building the frame a real i386 would build on the guest's kernel stack. */
#include <stdio.h>
#include <string.h>

#include <vmi/cpu.h>
#include <vmi/process.h>
#include "monitor/descriptors.h"
#include "monitor/guest_access.h"
#include "monitor/msr.h"
#include "monitor/mmu.h"
#include "monitor/virtual_cpu.h"
#include "stats.h"

struct virtual_cpu virtual_cpu;

/* Until vmirun maps the guest's window (and in host-side unit tests, which have none) the
 * state lives in an ordinary page. */
static struct vmi_vcpu_page unattached_page;
static struct vmi_vcpu_page *shared_page = &unattached_page;
static int user_isolated;

void virtual_cpu_set_user_isolation(int isolated)
{
	user_isolated = isolated;
}

int virtual_cpu_user_isolated(void)
{
	return user_isolated;
}

int virtual_cpu_user_apart(void)
{
	return user_isolated && mmu_paging();
}

void virtual_cpu_paging_changed(void)
{
	virtual_cpu_shared()->rom_ring_switches = !virtual_cpu_user_apart();
	virtual_cpu_publish_syscall_entry();
}

struct vmi_vcpu_page *virtual_cpu_shared(void)
{
	return shared_page;
}

void virtual_cpu_attach_shared(void)
{
	shared_page = platform_vcpu_page();
}

void virtual_cpu_reset(void)
{
	virtual_cpu_attach_shared();
	virtual_cpu_reset_state();
}

void virtual_cpu_reset_state(void)
{
	memset(&virtual_cpu, 0, sizeof(virtual_cpu));
	mmu_reset();
	msr_reset();
	virtual_cpu.cr0 = 0x11; /* PE, ET: protected mode without paging, as multiboot leaves it */
	struct vmi_vcpu_page *shared = virtual_cpu_shared();
	memset((void *)shared, 0, sizeof(*shared));
	shared->cs = VMI_PROCESS_KERNEL_CS;
	shared->user_ss = VMI_PROCESS_USER_DS;
	shared->rom_ring_switches = 1;   /* paging is off */
}

unsigned virtual_cpu_ring(void)
{
	return (virtual_cpu_shared()->cs & 3) ? 3 : 0;
}

void virtual_cpu_set_code_selector(uint16_t cs)
{
	virtual_cpu_shared()->cs = cs;
}

void virtual_cpu_publish_syscall_entry(void)
{
	const struct virtual_cpu *vc = &virtual_cpu;
	const struct virtual_gate *gate = &vc->idt[VMI_SYSCALL_VECTOR];
	struct vmi_vcpu_page *shared = virtual_cpu_shared();
	/* A trap gate would leave interrupts enabled at the handler; vmirun delivers those. */
	int usable = gate->present && gate->dpl == 3 && !gate->trap_gate && vc->tss_base &&
	             VMI_SYSCALL_VECTOR * 8 + 7 <= vc->idt_limit;
	shared->syscall_eip = 0; /* first, so the ROM never pairs a new handler with an old stack */
	if (!usable || virtual_cpu_user_apart())
		return;
	shared->syscall_cs = gate->selector & 0xFFFC;
	shared->esp0_address = vc->tss_base + VMI_TSS_ESP0;
	shared->syscall_eip = gate->handler;
}

int virtual_cpu_interrupts_enabled(void)
{
	return (virtual_cpu_shared()->flags & VMI_EFLAGS_IF) != 0;
}

void virtual_cpu_set_interrupts_enabled(int enabled)
{
	virtual_cpu_shared()->flags = enabled ? VMI_EFLAGS_IF : 0;
}

/* Called from signal handlers as well as the monitor; the bitmap words are updated
 * atomically and the shared summary last, so the ROM never misses a raise. */
void virtual_cpu_raise(unsigned vector)
{
	__atomic_or_fetch(&virtual_cpu.pending[vector / 32], 1u << (vector % 32), __ATOMIC_SEQ_CST);
	virtual_cpu_shared()->pending = 1;
}

int virtual_cpu_highest_pending(void)
{
	for (int word = VIRTUAL_IDT_ENTRIES / 32 - 1; word >= 0; word--) {
		uint32_t bits = __atomic_load_n(&virtual_cpu.pending[word], __ATOMIC_SEQ_CST);
		if (bits)
			return word * 32 + 31 - __builtin_clz(bits);
	}
	return -1;
}

/* An alarm may raise between the look at the bitmap and the store of a 0: the raise's own
 * store of 1 would then be overwritten. So a 0 is checked once more after it is stored. */
static void update_pending_summary(void)
{
	int pending;
	do {
		pending = virtual_cpu_highest_pending() >= 0;
		virtual_cpu_shared()->pending = (uint32_t)pending;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} while (!pending && virtual_cpu_highest_pending() >= 0);
}

int virtual_cpu_take_highest_pending(void)
{
	int vector = virtual_cpu_highest_pending();
	if (vector < 0)
		return -1;
	__atomic_and_fetch(&virtual_cpu.pending[vector / 32], ~(1u << (vector % 32)),
	                   __ATOMIC_SEQ_CST);
	update_pending_summary();
	return vector;
}

/* Stops the guest (platform_request_stop): the delivery ends there. */
static void cannot_deliver(const struct guest_regs *regs, unsigned vector,
                                     const char *why)
{
	char message[200];
	snprintf(message, sizeof(message), "guest cannot take vector %u at eip 0x%08x: %s",
	         vector, regs->eip, why);
	stats_count_trap(STATS_TRAP_FAULT);
	platform_request_stop(GUEST_STOP_FAULT, regs, message);
}

/* 0, or -1 when the guest cannot take the vector (and is stopped). */
static int push(struct guest_regs *regs, uint32_t *esp, uint32_t value, unsigned vector)
{
	*esp -= 4;
	if (guest_write32(*esp, value) != 0) {
		char why[96];
		snprintf(why, sizeof(why), "its stack at 0x%08x is not guest memory", *esp);
		cannot_deliver(regs, vector, why);
		return -1;
	}
	return 0;
}

int virtual_cpu_has_gate(unsigned vector)
{
	struct virtual_gate gate;
	return descriptors_idt_gate(vector, &gate) == 0;
}

void virtual_cpu_deliver(struct guest_regs *regs, unsigned vector, int64_t error_code,
                         unsigned software_length)
{
	struct virtual_cpu *vc = &virtual_cpu;
	struct virtual_gate gate_read;
	const struct virtual_gate *gate = &gate_read;

	if (descriptors_idt_gate(vector, &gate_read) != 0) {
		if (vector == 13 || vector == 8) {
			cannot_deliver(regs, vector, "no handler installed for it");
			return;
		}
		/* As on hardware: a missing gate is a #GP naming the vector (IDT bit set), and
		 * a fault points at the instruction that raised it. */
		regs->eip -= software_length;
		virtual_cpu_deliver(regs, 13, (int64_t)(vector * 8 + 2), 0);
		return;
	}
	if (gate->task_gate) {
		cannot_deliver(regs, vector, "its gate is a task gate, and vmirun does no hardware "
		                             "task switch");
		return;
	}
	unsigned ring = virtual_cpu_ring();
	if (software_length && gate->dpl < ring) {
		regs->eip -= software_length;
		virtual_cpu_deliver(regs, 13, (int64_t)(vector * 8 + 2), 0);
		return;
	}

	uint32_t flags = (regs->eflags & ~(uint32_t)VMI_EFLAGS_IF) |
	                 (virtual_cpu_interrupts_enabled() ? VMI_EFLAGS_IF : 0);
	uint32_t esp = regs->esp;
	if (ring == 3) {
		/* As the CPU does, take esp0 from the loaded TSS on every entry from user mode:
		 * the native ROM's UpdateKernelStack only writes the TSS. */
		uint32_t tss_esp0;
		if (vc->tss_base && guest_read32(vc->tss_base + VMI_TSS_ESP0, &tss_esp0) == 0)
			vc->esp0 = tss_esp0;
		if (!vc->esp0) {
			cannot_deliver(regs, vector, "no kernel stack for entries from user mode "
			                             "(UpdateKernelStack was never called)");
			return;
		}
		esp = vc->esp0;
	}
	/* The frame in push order; selectors go in zero-extended, whatever the guest left in
	 * the page. Written in one go (one translation per page); if that is refused, pushed
	 * word by word, to fail at the push the CPU would have failed at. */
	uint32_t pushes[6];
	unsigned count = 0;
	if (ring == 3) {
		pushes[count++] = virtual_cpu_shared()->user_ss & 0xFFFF;
		pushes[count++] = regs->esp;
	}
	pushes[count++] = flags;
	pushes[count++] = virtual_cpu_shared()->cs & 0xFFFF;
	pushes[count++] = regs->eip;
	if (error_code >= 0)
		pushes[count++] = (uint32_t)error_code;
	uint32_t image[6];
	for (unsigned i = 0; i < count; i++)
		image[count - 1 - i] = pushes[i];
	if (esp >= count * 4 && guest_write(esp - count * 4, image, count * 4) == 0) {
		esp -= count * 4;
	} else {
		for (unsigned i = 0; i < count; i++)
			if (push(regs, &esp, pushes[i], vector) != 0)
				return;
	}

	regs->esp = esp;
	regs->eip = gate->handler;
	regs->eflags &= ~(uint32_t)VMI_EFLAGS_TF; /* as the CPU clears it on entry */
	virtual_cpu_set_code_selector(gate->selector & 0xFFFC);
	if (!gate->trap_gate)
		virtual_cpu_set_interrupts_enabled(0);
	vc->interrupts_delivered++;
	stats_count_interrupt(vector);
}

int virtual_cpu_deliver_pending(struct guest_regs *regs)
{
	if (!virtual_cpu_interrupts_enabled())
		return 0;
	int vector = virtual_cpu_take_highest_pending();
	if (vector < 0)
		return 0;
	virtual_cpu_deliver(regs, (unsigned)vector, -1, 0);
	return 1;
}

#define EFLAGS_FIXED  0x202u    /* bit 1, and IF: always set in hardware ring 3 */

static int frame_outside_memory(const struct guest_regs *regs)
{
	platform_request_stop(GUEST_STOP_FAULT, regs, "IRET with its frame outside guest memory");
	return 0;
}

int virtual_cpu_iret(struct guest_regs *regs, uint32_t frame)
{
	uint32_t words[5];

	if (guest_read(frame, words, 12) != 0)
		return frame_outside_memory(regs);
	uint32_t cs = words[1] & 0xFFFF;
	int to_user = (cs & 3) == 3;
	if ((cs & 0xFFFC) == 0 || ((cs & 3) != 0 && !to_user))
		return -1;
	if (to_user && guest_read(frame + 12, words + 3, 8) != 0)
		return frame_outside_memory(regs);
	regs->eip = words[0];
	regs->eflags = (words[2] & VMI_EFLAGS_RESTORABLE) | EFLAGS_FIXED;
	virtual_cpu_set_interrupts_enabled((words[2] & VMI_EFLAGS_IF) != 0);
	if (to_user) {
		regs->esp = words[3];
		virtual_cpu_shared()->user_ss = words[4] & 0xFFFF;
	} else {
		regs->esp = frame + 12;
	}
	virtual_cpu_set_code_selector((uint16_t)cs);
	return 0;
}
