/* Where the user-mode stub (user_stub.S) and its pages lie, and the layout of the two pages
 * through which it and the kernel-side process that drives it (user_driver.c) talk. Shared
 * by assembly and C; user_driver.c checks the C view against it. */
#ifndef VMM_PLATFORM_PROCESS_USER_STUB_LAYOUT_H
#define VMM_PLATFORM_PROCESS_USER_STUB_LAYOUT_H

/* All above 4 GiB, where 32-bit code cannot reach, at 112 TiB: below where the host places
 * libraries and mappings, above AddressSanitizer's shadow and allocator (the unit tests run
 * the stub's filter in an ASan build too). */
#define STUB_BASE            0x700000000000
#define STUB_CODE            STUB_BASE               /* the stub's code, read and execute */
#define STUB_CODE_MAX        0x10000
#define STUB_DATA            (STUB_BASE + 0x10000)   /* its private data, one page */
#define STUB_STACKS          (STUB_BASE + 0x20000)   /* its two stacks, 64 KiB */
#define STUB_MAIN_STACK_TOP  (STUB_BASE + 0x28000)   /* the hypercall path's */
#define STUB_SIGNAL_STACK    (STUB_BASE + 0x28000)   /* the signal handlers', 32 KiB */
#define STUB_SIGNAL_STACK_SIZE 0x8000
#define STUB_COMMAND_VIEW    (STUB_BASE + 0x30000)   /* its command pages, read-only there */
#define STUB_EXIT_VIEW       (STUB_BASE + 0x40000)   /* its exit page */
#define STUB_SPINNER_VIEW    (STUB_BASE + 0x41000)   /* the spinner token, read-only */
#define STUB_PRIVATE_END     (STUB_BASE + 0x42000)   /* what a user process keeps ends here */

/* In every process, made before the template forks: each user slot's command pages and exit
 * page, indexed by the slot's number among the user slots. */
#define STUB_COMMAND_SIZE    0x4000
#define STUB_COMMANDS_AREA   (STUB_BASE + 0x100000)
#define STUB_EXITS_AREA      (STUB_BASE + 0x200000)
#define STUB_EXIT_SIZE       0x1000
/* and each one's vCPU page as user mode sees it, read-only at VMI_PROCESS_VCPU_PAGE: only
 * the virtual IF (which pushf shows a PC's user mode), written before each resume */
#define STUB_VCPU_VIEWS_AREA (STUB_BASE + 0x300000)
/* The one process that may spin for the vCPU, plus 1 (address_space_processes.c): a page of
 * its own, which every user process maps read-only at STUB_SPINNER_VIEW. */
#define STUB_SPINNER_PAGE    (STUB_BASE + 0x380000)
#define STUB_SLOTS_MAX       8

/* The socket pairs over which the guest-memory descriptor travels with a batch of mappings:
 * the kernel side's ends and the user side's, at these descriptor numbers. In a user process
 * its own end is descriptor 0 and nothing else is open. */
#define STUB_DRIVER_SOCKET_FD 100
#define STUB_USER_SOCKET_FD   (STUB_DRIVER_SOCKET_FD + STUB_SLOTS_MAX)

/* The command pages, written by the driver only. */
#define COMMAND_SEQUENCE      0    /* u32: a new command each time it changes */
#define COMMAND_DRIVER_SLEEPS 4    /* u32: the driver sleeps on the exit's sequence: wake it */
#define COMMAND_ACTION        8    /* u32: STUB_ACTION_* */
#define COMMAND_OP_COUNT      12   /* u32: mapping operations to make first */
#define COMMAND_WITH_FD       16   /* u32: the guest-memory descriptor comes with them */
#define COMMAND_FPU_KEPT      20   /* u32: the x87/SSE registers hold the state to resume with
                                      (what the last exit, a hypercall, left): no fxrstor */
#define COMMAND_ALARM_NS      24   /* u64: CLOCK_MONOTONIC time to come back at, or 0 */
#define COMMAND_REGS          32   /* struct guest_regs: eax ecx edx ebx esp ebp esi edi eip
                                      eflags, 4 bytes each */
#define COMMAND_SEGMENTS      72   /* u16 ds, es, fs, gs */
#define COMMAND_FPU           128  /* 512 bytes, fxsave64's format */
#define COMMAND_OPS           1024 /* struct stub_op[] */
#define STUB_OP_SIZE          16   /* u32 linear, physical (file offset), size, prot (PROT_NONE:
                                      unmap) */
#define STUB_OPS_MAX          ((STUB_COMMAND_SIZE - COMMAND_OPS) / STUB_OP_SIZE)

#define STUB_ACTION_RESUME    1    /* make the operations, then run the guest from the state */

/* The exit page, written by the stub (and by whatever runs in its process: checked). */
#define EXIT_SEQUENCE         0    /* u32: the command this answers */
#define EXIT_STUB_SLEEPS      4    /* u32: the stub sleeps on the command's sequence */
#define EXIT_KIND             8    /* u32: STUB_EXIT_* */
#define EXIT_SIGNAL           12   /* u32: the signal (SIGNAL), or the call number (HYPERCALL) */
#define EXIT_SYSCALL          16   /* u32: SIGSYS: the i386 system call's number */
#define EXIT_STEPPED          20   /* u32: a single step trapped at the hypercall page */
#define EXIT_FAILED_OPS       24   /* u32: mapping operations the host refused */
#define EXIT_GREGS            32   /* the signal frame's 23 general registers (ucontext's
                                      gregs: REG_R8 .. REG_CR2), 8 bytes each */
#define EXIT_SEGMENTS         216  /* u16 ds, es, fs, gs */
#define EXIT_FPU              256  /* 512 bytes, fxsave64's format */

#define STUB_EXIT_SIGNAL      2
#define STUB_EXIT_HYPERCALL   3    /* EXIT_GREGS hold the state after the call returned */

/* The stub's own alarm timer signals SIGRTMIN, which glibc makes 34 (user_process.c checks). */
#define STUB_TIMER_SIGNAL     34

/* ucontext_t and siginfo_t offsets the handler reads (x86-64 Linux; user_driver.c checks). */
#define UC_GREGS              40
#define UC_FPREGS             224  /* pointer to the frame's x87/SSE state */
#define GREG_COUNT            23
#define GREG_RSP              15
#define GREG_RIP              16
#define GREG_EFL              17
#define GREG_CSGSFS           18
#define SI_SYSCALL            24

/* The stub's private data page. */
#define DATA_LAST_SEQUENCE    0    /* u32: the command being carried out */
#define DATA_ARMED_NS         8    /* u64: the alarm the timer is armed for */
#define DATA_TIMER_ID         16   /* u32: the POSIX timer's kernel id */
#define DATA_UNMAP_COUNT      20   /* u32: ranges to unmap at the start */
#define DATA_SLOT             24   /* u32: this process's slot, plus 1 (the token's form) */
#define DATA_UNMAP            64   /* u64 start, u64 length; 8 at most */
#define DATA_FILTER           192  /* struct sock_fprog for the lock */
#define DATA_MSGHDR           256  /* struct msghdr for the descriptor (56 bytes) */
#define DATA_IOVEC            320  /* one byte's iovec */
#define DATA_IOBYTE           336
#define DATA_CMSG             352  /* 24 bytes: one SCM_RIGHTS descriptor at +16 */
#define DATA_CMSG_SIZE        24
#define DATA_TIMERSPEC        384  /* struct itimerspec for timer_settime */
#define DATA_FILTER_PROGRAM   512  /* the filter's instructions, 8 bytes each */
#define DATA_FILTER_MAX       64

#endif
