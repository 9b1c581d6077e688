/* Offsets into the guest register file, shared by world_switch.S and C (checked in run.c). */
#ifndef VMM_PLATFORM_PROCESS_WORLD_SWITCH_LAYOUT_H
#define VMM_PLATFORM_PROCESS_WORLD_SWITCH_LAYOUT_H

#define GUEST_REG_EAX     0
#define GUEST_REG_ECX     4
#define GUEST_REG_EDX     8
#define GUEST_REG_EBX     12
#define GUEST_REG_ESP     16
#define GUEST_REG_EBP     20
#define GUEST_REG_ESI     24
#define GUEST_REG_EDI     28
#define GUEST_REG_EIP     32
#define GUEST_REG_EFLAGS  36
#define GUEST_REGS_SIZE   40

/* Flags the monitor's C code must run with clear: DF (string direction), AC (alignment
 * checks, which Linux enables for user mode), TF (single step), NT (nested task). */
#define SWITCH_EFLAGS_NT        0x4000
#define SWITCH_HOST_FLAGS_CLEAR 0x44500

#endif
