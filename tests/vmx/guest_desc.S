/*
 * guest_desc.S - descriptor-table exiting (SDM Vol. 3C 25.6.2, 26.1.3):
 * LGDT, LIDT, SIDT exit with reason 46, LLDT, LTR, STR with reason 47,
 * before the instruction does anything (the guest's GDTR, IDTR, LDTR and
 * TR stay).  The exit qualification is the displacement, sign-extended
 * (28.2.1; 0 without one); the instruction information (28.2.5) is
 * checked in the bits Tables 28-10 and 28-11 define for the form:
 *   always  29:28 identity (SGDT 0, SIDT 1, LGDT 2, LIDT 3; SLDT 0,
 *                 STR 1, LLDT 2, LTR 3), 10 register/memory (28-11);
 *   memory  9:7 address size, 17:15 segment, 22 index invalid, 21:18
 *           index and 1:0 scaling (if valid), 27 base invalid, 26:23
 *           base (if valid); bit 11 (operand size) is undefined in
 *           64-bit mode;
 *   register (28-11) 6:3 the register.
 *    1. LGDT 0x20(%rbx,%rcx,4)       2. LIDT -8(%rbp) (SS)
 *    3. SIDT %fs:0x1000(,%rdx,8)     4. SIDT 8(%ebx) (67H)
 *    5. LLDT %ax                     6. LTR %r9w
 *    7. STR 0x30(%rbx)               8. STR %r12d
 *    9. LLDT 0x10(%rsp) (SS)        10. LTR 0(%r13,%r14,2) (disp8 0)
 *   11. VMCALL: the guest's GDTR, IDTR, LDTR and TR are unchanged.
 */
#include "common.inc"

        .set PROC_WANT, PROC_2ND
        .set PROC2_WANT, PROC2_DESC
        .set EXC_BITMAP, 0
        .set NEXITS, 11

#include "guest.inc"

prepare:
        ret

/* Defined bits for a memory form: 1:0 (with an index), 9:7, 10, 17:15,
 * 21:18 (with an index), 22, 26:23 (with a base), 27, 29:28. */
        .set M_ALWAYS, 0x380 | 0x400 | 0x38000 | (1 << 22) | (1 << 27) | (3 << 28)
        .set M_INDEX, 0x3 | (0xF << 18)
        .set M_BASE, 0xF << 23
        .set M_REG, 0x78 | 0x400 | (3 << 28)    /* register forms */
/* Fields */
        .set A64, 2 << 7
        .set A32, 1 << 7
        .set S_ES, 0 << 15
        .set S_SS, 2 << 15
        .set S_DS, 3 << 15
        .set S_FS, 4 << 15
        .set NOIDX, 1 << 22
        .set NOBASE, 1 << 27
        .set REGF, 1 << 10                      /* register form */

at_exit:
        leaq (%rbx,%rbx,2), %rcx
        leaq info_tab - 24(%rip), %r13
        leaq (%r13,%rcx,8), %r13
        cmpq $0, (%r13)
        je 1f
        VMR F_EXIT_INFO
        andq (%r13), %rax
        CHECK_BEGIN
        ASSERT_RAX_MEM 8(%r13), msg_info
        ret
1:      movl $0x6816, %edx                      /* GDTR base, limit */
        vmread %rdx, %rax
        leaq gdt(%rip), %rcx
        CHECK_BEGIN
        cmpq %rcx, %rax
        je 2f
        leaq msg_gdtr(%rip), %rsi
        jmp fail
2:      VMR 0x4810
        CHECK_BEGIN
        ASSERT_RAX (gdt_end - gdt - 1), msg_gdtr
        VMR 0x4812                              /* IDTR limit */
        CHECK_BEGIN
        ASSERT_RAX (32 * 16 - 1), msg_idtr
        VMR 0x080C                              /* LDTR: still 0, unusable */
        CHECK_BEGIN
        ASSERT_RAX 0, msg_ldtr
        VMR 0x4820
        andl $0x10000, %eax
        CHECK_BEGIN
        ASSERT_RAX 0x10000, msg_ldtr
        VMR 0x080E                              /* TR */
        CHECK_BEGIN
        ASSERT_RAX TSSSEL, msg_tr
        ret

finish:
        ret

        .balign 16
guest_code:
        leaq scratch(%rip), %rbx
        xorl %ecx, %ecx
        xorl %edx, %edx
        movq %rbx, %rbp
        movq %rbx, %r13
        xorl %r14d, %r14d
        xorl %eax, %eax
        movl $0x28, %r9d
g_lgdt:  lgdt 0x20(%rbx,%rcx,4)                 /* 1 */
r_lgdt:
g_lidt:  lidt -8(%rbp)                          /* 2 */
r_lidt:
g_sidt:  sidt %fs:0x1000(,%rdx,8)               /* 3 */
r_sidt:
g_sidt2: sidt 8(%ebx)                           /* 4 */
r_sidt2:
g_lldt:  lldt %ax                               /* 5 */
g_ltr:   ltr %r9w                               /* 6 */
g_str:   str 0x30(%rbx)                         /* 7 */
g_str2:  str %r12d                              /* 8 */
g_lldt2: lldt 0x10(%rsp)                        /* 9 */
r_lldt2:
g_ltr2:  ltr 0(%r13,%r14,2)                     /* 10 */
r_ltr2:
g_call:  vmcall                                 /* 11 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(46, 0x20, r_lgdt - g_lgdt, g_lgdt)
        E(46, -8, r_lidt - g_lidt, g_lidt)
        E(46, 0x1000, r_sidt - g_sidt, g_sidt)
        E(46, 8, r_sidt2 - g_sidt2, g_sidt2)
        E(47, 0, g_ltr - g_lldt, g_lldt)
        E(47, 0, g_str - g_ltr, g_ltr)
        E(47, 0x30, g_str2 - g_str, g_str)
        E(47, 0, g_lldt2 - g_str2, g_str2)
        E(47, 0x10, r_lldt2 - g_lldt2, g_lldt2)
        E(47, 0, r_ltr2 - g_ltr2, g_ltr2)
        E(18, 0, 3, g_call)
/* mask, value */
info_tab:
        .quad M_ALWAYS | M_INDEX | M_BASE, 2 | A64 | S_DS | (1 << 18) | (3 << 23) | (2 << 28), 0
        .quad M_ALWAYS | M_BASE, A64 | S_SS | NOIDX | (5 << 23) | (3 << 28), 0
        .quad M_ALWAYS | M_INDEX, 3 | A64 | S_FS | (2 << 18) | NOBASE | (1 << 28), 0
        .quad M_ALWAYS | M_BASE, A32 | S_DS | NOIDX | (3 << 23) | (1 << 28), 0
        .quad M_REG, REGF | (0 << 3) | (2 << 28), 0
        .quad M_REG, REGF | (9 << 3) | (3 << 28), 0
        .quad M_ALWAYS | M_BASE, A64 | S_DS | NOIDX | (3 << 23) | (1 << 28), 0
        .quad M_REG, REGF | (12 << 3) | (1 << 28), 0
        .quad M_ALWAYS | M_BASE, A64 | S_SS | NOIDX | (4 << 23) | (2 << 28), 0
        .quad M_ALWAYS | M_INDEX | M_BASE, 1 | A64 | S_DS | (14 << 18) | (13 << 23) | (3 << 28), 0
        .quad 0, 0, 0

        .section .rodata
msg_info: .asciz "instruction information"
msg_gdtr: .asciz "guest GDTR"
msg_idtr: .asciz "guest IDTR limit"
msg_ldtr: .asciz "guest LDTR"
msg_tr:   .asciz "guest TR selector"
        .text
