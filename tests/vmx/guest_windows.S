/*
 * guest_windows.S - event windows that open while the guest runs (SDM
 * Vol. 3C 26.7.5, 26.7.6), the VM exit coming right after the instruction
 * that opened them (trap-like):
 *   1. interrupt window, RFLAGS.IF = 0 at entry: STI sets IF but blocks
 *      for one more instruction, so the exit (7) follows the NOP after it;
 *   2. NMI window with virtual NMIs and virtual-NMI blocking at entry:
 *      IRET unblocks, the exit (8) follows the IRETQ;
 *   3. interrupt window again: POPF setting IF opens it at once (7);
 * then VMCALL (18).
 */
#include "common.inc"

        .set PROC_WANT, 1 << 2                  /* interrupt-window exiting */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 4

#include "guest.inc"

prepare:
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMR F_PROC                              /* interrupt window off, */
        andl $~(1 << 2), %eax
        orl $(1 << 22), %eax                    /* NMI window on */
        VMW F_PROC, %rax
        VMR F_PIN
        orl $((1 << 3) | (1 << 5)), %eax        /* NMI exiting, virtual NMIs */
        VMW F_PIN, %rax
        VMW 0x4824, $8                          /* blocking by (virtual) NMI */
        VMW 0x6820, $2                          /* IF = 0 */
        ret
1:      cmpq $2, %rbx
        jne 2f
        VMR F_PROC                              /* NMI window off, */
        andl $~(1 << 22), %eax
        orl $(1 << 2), %eax                     /* interrupt window on */
        VMW F_PROC, %rax
        ret
2:      cmpq $3, %rbx
        jne 3f
        VMR F_PROC
        andl $~(1 << 2), %eax
        VMW F_PROC, %rax
3:      ret

finish:
        ret

        .balign 16
guest_code:
        nop
        sti                                     /* IF = 1, blocking by STI */
        nop                                     /* the window opens after it */
g_win1: movq %rsp, %rax                         /* (exit 7 here) */
        pushq $KDATA                            /* an IRETQ frame to g_win2 */
        pushq %rax
        pushfq
        andq $~0x200, (%rsp)                    /* return with IF = 0 */
        pushq $KCODE
        leaq g_win2(%rip), %rax
        pushq %rax
        iretq                                   /* ends virtual-NMI blocking */
g_win2: pushq $0x202                            /* (exit 8 here) */
        popfq                                   /* IF = 1: window open */
g_win3: nop                                     /* (exit 7 here) */
g_call: vmcall                                  /* exit 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 7, 0, 0, g_win1 - guest_code
        .quad 8, 0, 0, g_win2 - guest_code
        .quad 7, 0, 0, g_win3 - guest_code
        .quad 18, 0, 3, g_call - guest_code
        .text
