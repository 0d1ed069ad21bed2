/*
 * guest_pause.S - PAUSE-loop exiting (SDM Vol. 3C 25.6.13, 26.1.3): PAUSEs
 * less than PLE_Gap TSC ticks apart are one loop, and the PAUSE that finds
 * it older than PLE_Window ticks exits (40).  Then a VM entry in HLT
 * activity state with the interrupt window open exits at once (7) and
 * saves the HLT state (28.3.4); entered active again, the guest finishes
 * its loop and executes VMCALL (18).
 */
#include "common.inc"

        .set PROC_WANT, 1 << 31
        .set PROC2_WANT, 1 << 10                /* PAUSE-loop exiting */
        .set EXC_BITMAP, 0
        .set NEXITS, 3

#include "guest.inc"

prepare:
        VMW 0x4020, $10                         /* PLE_Gap */
        VMW 0x4022, $50                         /* PLE_Window */
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMW F_PROC2, $0                         /* PLE off */
        VMR F_PROC
        orl $(1 << 2), %eax                     /* interrupt-window exiting */
        VMW F_PROC, %rax
        VMW 0x6820, $0x202                      /* IF = 1 */
        VMW 0x4826, $1                          /* enter in HLT state */
        ret
1:      cmpq $2, %rbx
        jne 2f
        movl $0x4826, %edx                      /* the saved activity state */
        vmread %rdx, %rax
        CHECK_BEGIN
        ASSERT_RAX 1, msg_hlt
        VMW 0x4826, $0
        VMR F_PROC
        andl $~(1 << 2), %eax
        VMW F_PROC, %rax
2:      ret

finish:
        ret

        .balign 16
guest_code:
        movl $100, %ecx
g_pause: pause                                  /* 40, after ~50 ticks */
g_dec:  decl %ecx
        jnz g_pause
g_call: vmcall                                  /* 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 40, 0, 2, g_pause - guest_code
        .quad 7, 0, 0, g_dec - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .rodata
msg_hlt: .asciz "saved activity state"
        .text
