/*
 * guest_mtf.S - the monitor trap flag (SDM Vol. 3C 26.5.2): with it set,
 * a VM exit (37, trap-like: the saved RIP is the next instruction's, no
 * instruction length) follows every guest instruction that retires
 * without exiting itself; an instruction that exits (VMCALL, 18) exits
 * for its own reason only.  Then, with MTF off, the interrupt window
 * (7) and the NMI window (8), open at VM entry, exit before the first
 * guest instruction (26.7.5, 26.7.6), NMI window first.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 27                 /* monitor trap flag */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 6

#include "guest.inc"

prepare:
        ret

at_exit:
        cmpq $3, %rbx                           /* after the VMCALL exit */
        jne 1f
        VMR F_PROC
        andl $~(1 << 27), %eax                  /* MTF off, */
        orl $((1 << 2) | (1 << 22)), %eax       /* interrupt and NMI windows on */
        VMW F_PROC, %rax
        VMR F_PIN
        orl $((1 << 3) | (1 << 5)), %eax        /* NMI exiting, virtual NMIs */
        VMW F_PIN, %rax
        VMW 0x6820, $0x202                      /* guest RFLAGS.IF = 1 */
        ret
1:      cmpq $4, %rbx                           /* NMI window: close it */
        jne 2f
        VMR F_PROC
        andl $~(1 << 22), %eax
        VMW F_PROC, %rax
        ret
2:      cmpq $5, %rbx                           /* interrupt window: close it */
        jne 3f
        VMR F_PROC
        andl $~(1 << 2), %eax
        VMW F_PROC, %rax
3:      ret

finish:
        ret

        .balign 16
guest_code:
        nop                                     /* MTF exit after it */
g_inc:  incl %eax                               /* and after it */
g_call: vmcall                                  /* exits for itself (18) */
g_next: vmcall                                  /* (windows first) 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 37, 0, 0, g_inc - guest_code
        .quad 37, 0, 0, g_call - guest_code
        .quad 18, 0, 3, g_call - guest_code
        .quad 8, 0, 0, g_next - guest_code
        .quad 7, 0, 0, g_next - guest_code
        .quad 18, 0, 3, g_next - guest_code
        .text
