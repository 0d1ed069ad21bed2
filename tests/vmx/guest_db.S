/*
 * guest_db.S - debug exceptions through the exception bitmap (SDM Vol. 3C
 * 26.2, Table 28-1):
 *   1. single step: POPF sets RFLAGS.TF, the instruction after it retires
 *      and the #DB trap exits (0) with BS (bit 14) in the exit
 *      qualification and the next RIP; DR6 is not changed (28.1);
 *   2. INT1 (ICEBP) exits as a privileged software exception (type 5),
 *      qualification 0, with its own RIP and length;
 * then VMCALL (18).
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 1 << 1                 /* #DB */
        .set NEXITS, 3

#include "guest.inc"

prepare:
        movq %dr6, %rax
        movq %rax, dr6_before(%rip)
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMR F_EXIT_INTR
        CHECK_BEGIN
        ASSERT_RAX 0x80000301, msg_intr         /* hardware exception #DB */
        movq %dr6, %rax
        CHECK_BEGIN
        cmpq dr6_before(%rip), %rax
        je 2f
        leaq msg_dr6(%rip), %rsi
        jmp fail
2:      VMR 0x6820                              /* TF off */
        andl $~0x100, %eax
        VMW 0x6820, %rax
        ret
1:      cmpq $2, %rbx
        jne 3f
        VMR F_EXIT_INTR
        CHECK_BEGIN
        ASSERT_RAX 0x80000501, msg_intr         /* privileged software exception */
3:      ret

finish:
        ret

        .balign 16
guest_code:
        pushfq
        orq $0x100, (%rsp)
        popfq                                   /* TF = 1 from here */
        nop                                     /* #DB after it: 1 */
g_step: nop
g_int1: .byte 0xF1                              /* INT1: 2 */
g_call: vmcall
        hlt

        .section .data
        .balign 8
expect:
        .quad 0, 0x4000, 0, g_step - guest_code
        .quad 0, 0, 1, g_int1 - guest_code
        .quad 18, 0, 3, g_call - guest_code
dr6_before: .quad 0

        .section .rodata
msg_intr: .asciz "VM-exit interruption information"
msg_dr6:  .asciz "DR6 after the #DB exit"
        .text
