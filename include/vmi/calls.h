/* VMI call numbers: the historic API 13 numbering (0-87), our additions appended.
 * Shared by the ROM, vmirun, the guest SDK and the tools; freestanding, and usable from
 * assembly. Arguments and results of each call: docs/abi.md. */
#ifndef VMI_CALLS_H
#define VMI_CALLS_H

/* Slots 0-3 are the ROM header, a reserved slot and the ELF header. */
#define VMI_CALL_FIRST              4

#define VMI_CALL_Init               4
#define VMI_CALL_CPUID              5
#define VMI_CALL_WRMSR              6
#define VMI_CALL_RDMSR              7
#define VMI_CALL_SetGDT             8
#define VMI_CALL_SetLDT             9
#define VMI_CALL_SetIDT             10
#define VMI_CALL_SetTR              11
#define VMI_CALL_GetGDT             12
#define VMI_CALL_GetLDT             13
#define VMI_CALL_GetIDT             14
#define VMI_CALL_GetTR              15
#define VMI_CALL_WriteGDTEntry      16
#define VMI_CALL_WriteLDTEntry      17
#define VMI_CALL_WriteIDTEntry      18
#define VMI_CALL_UpdateKernelStack  19
#define VMI_CALL_SetCR0             20
#define VMI_CALL_SetCR2             21
#define VMI_CALL_SetCR3             22
#define VMI_CALL_SetCR4             23
#define VMI_CALL_GetCR0             24
#define VMI_CALL_GetCR2             25
#define VMI_CALL_GetCR3             26
#define VMI_CALL_GetCR4             27
#define VMI_CALL_INVD               28
#define VMI_CALL_WBINVD             29
#define VMI_CALL_SetDR              30
#define VMI_CALL_GetDR              31
#define VMI_CALL_RDPMC              32
#define VMI_CALL_RDTSC              33
#define VMI_CALL_CLTS               34
#define VMI_CALL_EnableInterrupts   35
#define VMI_CALL_DisableInterrupts  36
#define VMI_CALL_GetInterruptMask   37
#define VMI_CALL_SetInterruptMask   38
#define VMI_CALL_IRET               39
#define VMI_CALL_SYSEXIT            40
#define VMI_CALL_Pause              41
#define VMI_CALL_Halt               42
#define VMI_CALL_Reboot             43
#define VMI_CALL_Shutdown           44
#define VMI_CALL_SetPxE             45
#define VMI_CALL_GetPxE             46
#define VMI_CALL_SwapPxE            47
#define VMI_CALL_SetPxELong         48
#define VMI_CALL_GetPxELong         49
#define VMI_CALL_SwapPxELongAtomic  50
#define VMI_CALL_TestAndSetPxEBit   51
#define VMI_CALL_TestAndClearPxEBit 52
#define VMI_CALL_AllocatePage       53
#define VMI_CALL_ReleasePage        54
#define VMI_CALL_InvalPage          55
#define VMI_CALL_FlushTLB           56
#define VMI_CALL_FlushDeferredCalls 57
#define VMI_CALL_SetLinearMapping   58
#define VMI_CALL_IN                 59
#define VMI_CALL_INB                60
#define VMI_CALL_INW                61
#define VMI_CALL_INS                62
#define VMI_CALL_INSB               63
#define VMI_CALL_INSW               64
#define VMI_CALL_OUT                65
#define VMI_CALL_OUTB               66
#define VMI_CALL_OUTW               67
#define VMI_CALL_OUTS               68
#define VMI_CALL_OUTSB              69
#define VMI_CALL_OUTSW              70
#define VMI_CALL_SetIOPLMask        71
#define VMI_CALL_DeactivatePxELongAtomic 72
#define VMI_CALL_TestAndSetPxELongBit    73
#define VMI_CALL_TestAndClearPxELongBit  74
#define VMI_CALL_SetInitialAPState  75
#define VMI_CALL_APICWrite          76
#define VMI_CALL_APICRead           77
#define VMI_CALL_IODelay            78
#define VMI_CALL_GetCycleFrequency  79
#define VMI_CALL_GetCycleCounter    80
#define VMI_CALL_SetAlarm           81
#define VMI_CALL_CancelAlarm        82
#define VMI_CALL_GetWallclockTime   83
#define VMI_CALL_WallclockUpdated   84
#define VMI_CALL_GetRelocationInfo  85
#define VMI_CALL_SetPxE2            86
#define VMI_CALL_SetPxELong2        87

/* Our additions (API 13.5 on). */
#define VMI_CALL_Syscall            88  /* the fast system-call entry, callable from user mode */

/* One past the highest call number; every table is sized by it. */
#define VMI_CALL_COUNT              89

/* Errors, returned in EAX. A call a platform does not implement returns
 * VMI_ERROR_NOT_IMPLEMENTED; a call that refuses its arguments returns VMI_ERROR_INVALID.
 * Calls with a status return 0 on success. */
#define VMI_ERROR_NOT_IMPLEMENTED   0xFFFFFFFF
#define VMI_ERROR_INVALID           0xFFFFFFFE

#endif
