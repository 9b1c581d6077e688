/* Offsets into the guest register file, shared by vcpu_switch.S and C (checked in vcpu.c). */
#ifndef VMM_VCPU_LAYOUT_H
#define VMM_VCPU_LAYOUT_H

#define VCPU_REG_EAX     0
#define VCPU_REG_ECX     4
#define VCPU_REG_EDX     8
#define VCPU_REG_EBX     12
#define VCPU_REG_ESP     16
#define VCPU_REG_EBP     20
#define VCPU_REG_ESI     24
#define VCPU_REG_EDI     28
#define VCPU_REG_EIP     32
#define VCPU_REG_EFLAGS  36
#define VCPU_REGS_SIZE   40

/* Flags the monitor's C code must run with clear: DF (string direction), AC (alignment
 * checks, which Linux enables for user mode), TF (single step), NT (nested task). */
#define VCPU_EFLAGS_NT        0x4000
#define VCPU_HOST_FLAGS_CLEAR 0x44500

#endif
