/*
 * guest_eptv.S - an EPT violation (48) saves the interruptibility before
 * the instruction that caused it (SDM Vol. 3C 28.3.4): the load right
 * after STI is in its shadow, so the exit saves blocking by STI (1).  The
 * EPT maps 0-3 GiB one to one; the load reads at 3 GiB.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 31
        .set PROC2_WANT, PROC2_EPT
        .set EXC_BITMAP, 0
        .set NEXITS, 1

#include "guest.inc"

prepare:
        call setup_identity_ept
        movq $0, ept_pdpt + 3 * 8(%rip)         /* 3-4 GiB not mapped */
        ret

at_exit:
        VMR 0x4824
        CHECK_BEGIN
        ASSERT_RAX 1, msg_intr
        ret

finish:
        ret

        .balign 16
guest_code:
        movl $0xC0000000, %ebx
        sti
g_load: movl (%rbx), %eax                       /* 48, in the STI shadow */
        hlt

        .section .data
        .balign 8
expect:
        .quad 48, 0x581, 2, g_load - guest_code  /* read, linear address valid and translated, writable */

        .section .rodata
msg_intr: .asciz "saved interruptibility"
        .text
