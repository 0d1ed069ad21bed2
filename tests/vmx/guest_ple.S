/*
 * guest_ple.S - PAUSE-loop exiting across VM exits (SDM Vol. 3C 26.1.3,
 * 25.6.13): the first PAUSE at CPL 0 after a VM entry starts a new loop,
 * however close the last PAUSE before the entry was.  With PLE_Gap
 * larger than anything here, every PAUSE continues a loop while the guest
 * runs:
 *   1. PAUSE starts a loop, CPUID exits (10) and the VMM takes more than
 *      PLE_Window ticks; after the entry the next PAUSE starts a new loop
 *      and does not exit;
 *   2. a PAUSE loop exits (40) once older than PLE_Window (however many
 *      cycles each iteration costs: the loop runs until the VMM, at that
 *      exit, tells it to stop);
 * then VMCALL (18).
 */
#include "common.inc"

        .set PROC_WANT, 1 << 31
        .set PROC2_WANT, 1 << 10                /* PAUSE-loop exiting */
        .set EXC_BITMAP, 0
        .set NEXITS, 3

#include "guest.inc"

prepare:
        VMW 0x4020, $100000                     /* PLE_Gap */
        VMW 0x4022, $40                         /* PLE_Window */
        ret

at_exit:
        cmpq $2, %rbx                           /* the PAUSE-loop exit */
        jne 1f
        movb $1, stop_loop(%rip)
1:      ret

finish:
        ret

        .balign 16
guest_code:
        pause                                   /* a loop starts */
g_cpuid: cpuid                                  /* 10 */
        pause                                   /* first after VM entry */
g_pause: pause                                  /* 40, after ~40 ticks */
        cmpb $0, stop_loop(%rip)
        je g_pause
g_call: vmcall                                  /* 18 */
        hlt

        .section .data
stop_loop: .byte 0
        .balign 8
expect:
        .quad 10, 0, 2, g_cpuid - guest_code
        .quad 40, 0, 2, g_pause - guest_code
        .quad 18, 0, 3, g_call - guest_code
        .text
