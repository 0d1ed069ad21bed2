/*
 * guest_misc.S - exits and non-root behaviour checked one by one (SDM Vol.
 * 3C 26, 28), icelake-server:
 *   1-3. VMPTRST, SGDT and VMCLEAR (32-bit address size) with RIP-relative
 *        operands: the exit qualification is the displacement plus the
 *        next instruction's RIP, the operand's address (28.2.1); the
 *        instruction information says "no base, no index" (28.2.5);
 *   4-5. INVEPT and INVVPID with "enable EPT" and "enable VPID" 0 exit
 *        all the same (26.1.2: unconditionally), 50 and 53;
 * then VMCALL (18), after which the VMM checks what the guest stored:
 *   - RDMSR of IA32_TSC (the MSR bitmap lets it through) with TSC
 *     offsetting returns the TSC plus the offset (26.3), as RDTSC does;
 *   - SMSW (register and memory forms) reads CR0.TS, which the host owns
 *     (CR0 guest/host mask), from the CR0 read shadow (26.3).
 */
#include "common.inc"

        .set PROC_WANT, (1 << 31) | (1 << 28) | (1 << 3) /* MSR bitmaps, TSC offsetting */
        .set TSC_OFFSET, 0x1000000000
        .set PROC2_WANT, 1 << 2                 /* descriptor-table exiting */
        .set EXC_BITMAP, 0
        .set NEXITS, 6
        .set NOREG_INFO, 0x08418000             /* no base, no index; DS */

#include "guest.inc"

prepare:
        movabsq $TSC_OFFSET, %rax
        VMW F_TSC_OFFSET, %rax
        VMW F_CR0_MASK, $8                      /* the host owns CR0.TS */
        movq %cr0, %rax
        andq $~8, %rax                          /* real TS = 0 */
        VMW F_GUEST_CR0, %rax
        orq $8, %rax
        VMW F_CR0_SHADOW, %rax                  /* the guest sees TS = 1 */
        ret

at_exit:
        leaq info_expect - 8(%rip), %rax
        movq (%rax,%rbx,8), %r13
        cmpq $-1, %r13
        je 1f
        VMR F_EXIT_INFO
        CHECK_BEGIN
        cmpq %r13, %rax
        je 1f
        leaq msg_info(%rip), %rsi
        jmp fail
1:      cmpq $NEXITS, %rbx
        jne 2f
        movq g_tsc(%rip), %rax                  /* RDMSR: offset + TSC < 2^32 */
        shrq $32, %rax
        CHECK_BEGIN
        ASSERT_RAX (TSC_OFFSET >> 32), msg_tsc
        movq g_tsc2(%rip), %rax                 /* RDTSC agrees */
        shrq $32, %rax
        CHECK_BEGIN
        ASSERT_RAX (TSC_OFFSET >> 32), msg_tsc
        .irp mem, g_msw16, g_msw32, g_msw64, g_mswm
        movq \mem(%rip), %rax                   /* SMSW: TS from the shadow */
        andq $8, %rax
        CHECK_BEGIN
        ASSERT_RAX 8, msg_smsw
        .endr
        movq g_msw16(%rip), %rax                /* 16 bits: the rest kept */
        shrq $16, %rax
        CHECK_BEGIN
        ASSERT_RAX 0xFFFFFFFFFFFF, msg_smsw
        movq g_mswm(%rip), %rax                 /* memory: 16 bits written */
        shrq $16, %rax
        CHECK_BEGIN
        ASSERT_RAX 0xFFFFFFFFFFFF, msg_smsw
2:      ret

finish:
        ret

        .balign 16
guest_code:
g_vmptrst:  vmptrst g_target(%rip)      /* 22 */
g_sgdt:     sgdt g_target(%rip)         /* 46 */
g_vmclear:  vmclear g_target(%eip)      /* 19 */
            xorl %ecx, %ecx
g_invept:   invept g_target(%rip), %rcx /* 50 */
g_invvpid:  invvpid g_target(%rip), %rcx /* 53 */
            movl $0x10, %ecx
            rdmsr                       /* IA32_TSC: no exit */
            movl %eax, g_tsc(%rip)
            movl %edx, g_tsc + 4(%rip)
            rdtsc
            movl %eax, g_tsc2(%rip)
            movl %edx, g_tsc2 + 4(%rip)
            movq $-1, %rax
            smsww %ax
            movq %rax, g_msw16(%rip)
            smswl %eax
            movq %rax, g_msw32(%rip)
            smswq %rax
            movq %rax, g_msw64(%rip)
            smsw g_mswm(%rip)
g_call:     vmcall
        hlt

        .section .data
        .balign 16
g_target:   .skip 16
g_tsc:      .quad 0
g_tsc2:     .quad 0
g_msw16:    .quad 0
g_msw32:    .quad 0
g_msw64:    .quad 0
g_mswm:     .quad -1
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(22, g_target, 7, g_vmptrst)
        E(46, g_target, 7, g_sgdt)
        E(19, g_target, 9, g_vmclear)
        E(50, g_target, 9, g_invept)
        E(53, g_target, 9, g_invvpid)
        E(18, 0, 3, g_call)
info_expect:
        .quad NOREG_INFO | (2 << 7)             /* 64-bit address size */
        .quad NOREG_INFO | (2 << 7)             /* SGDT: identity 0 */
        .quad NOREG_INFO | (1 << 7)             /* 32-bit address size */
        .quad NOREG_INFO | (2 << 7) | (1 << 28) /* INVEPT: type in RCX */
        .quad NOREG_INFO | (2 << 7) | (1 << 28)
        .quad -1

        .section .rodata
msg_info: .asciz "instruction information"
msg_tsc:  .asciz "IA32_TSC read in the guest, bits 63:32"
msg_smsw: .asciz "SMSW in the guest"
        .text
