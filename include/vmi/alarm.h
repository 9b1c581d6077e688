/* Time: the alarm flags of SetAlarm and CancelAlarm, the cycle counters, and the vectors
 * alarms arrive at on the process platform. Freestanding; usable from assembly. */
#ifndef VMI_ALARM_H
#define VMI_ALARM_H

/* Alarm flags (SetAlarm, CancelAlarm), the historic values. */
#define VMI_ALARM_COUNTER_MASK   0xFF       /* which cycle counter: 0 real, 1 available */
#define VMI_ALARM_WIRED_IRQ0     0x00000
#define VMI_ALARM_WIRED_LVTT     0x10000
#define VMI_ALARM_ONE_SHOT       0x000
#define VMI_ALARM_PERIODIC       0x100
#define VMI_CYCLES_REAL          0
#define VMI_CYCLES_AVAILABLE     1
#define VMI_CYCLES_STOLEN        2
/* Where alarms arrive on the process platform, which has no interrupt controller: IRQ0 at
 * vector 0x20 (where kernels put it after remapping the PIC), the local APIC timer at 0xEF. */
#define VMI_ALARM_IRQ0_VECTOR    0x20
#define VMI_ALARM_LVTT_VECTOR    0xEF

#endif
