/*
 * guest_exc.S - hardware exceptions through the exception bitmap (SDM
 * Vol. 3C 25.6.3, 26.2) with the page-fault error-code mask and match:
 * a #PF exits iff bit 14 of the bitmap is 1 and (PFEC & mask) == match,
 * or bit 14 is 0 and (PFEC & mask) != match; otherwise the guest's IDT
 * delivers it.  Each exit is reason 0 with the VM-exit interruption
 * information (28.2.2: vector, type 3, error-code valid, valid), the
 * error code, no IDT-vectoring information, the faulting instruction's
 * RIP and RFLAGS.RF = 1 saved (28.3.3); for #PF the exit qualification is
 * the faulting linear address (Table 28-1) and CR2 is not written (28.1:
 * the VMM finds the guest's sentinel value in CR2).  The VM-exit
 * instruction length is undefined for these exits (28.2.4): not checked.
 *   A: bit 14 = 1, mask = match = 0: every #PF exits
 *      1. read of the not-present page: PFEC 0;
 *      2. write of the read-only page with CR0.WP = 1: PFEC 3;
 *   3. VMCALL: B: bit 14 = 1, mask = 2 (W), match = 2
 *      4. write of the not-present page: PFEC 2, matches: exits;
 *      -  read of it: PFEC 0 does not match: delivered in the guest
 *         (vector 14, error code 0, CR2 = the address, pushed RIP);
 *   5. VMCALL: C: bit 14 = 0, mask = 2, match = 2
 *      -  write: PFEC 2 matches: delivered in the guest;
 *      6. read: PFEC 0 does not match: exits;
 *   7. UD2: #UD (no error code);
 *   8. MOV to FS of a selector beyond the GDT limit: #GP(0x78);
 *   9. DIV by 0: #DE;
 *  10. VMCALL.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, (1 << 0) | (1 << 6) | (1 << 13) | (1 << 14)
        .set NEXITS, 10
        .set F_PFEC_MASK, 0x4006
        .set F_PFEC_MATCH, 0x4008
        .set F_EXIT_INTR_ERR, 0x4406
        .set F_IDT_INFO, 0x4408
        .set F_GUEST_RFLAGS, 0x6820
        .set CR2_MARK, 0x5A5A5000
        .set GFLAGS_VAL, 0x8D7          /* OF SF ZF AF PF CF, bit 1 */

#include "guest.inc"

prepare:
        call setup_pf_pages
        VMR F_GUEST_CR0
        orq $0x10000, %rax              /* CR0.WP: the read-only page faults */
        VMW F_GUEST_CR0, %rax
        VMW F_PFEC_MASK, $0
        VMW F_PFEC_MATCH, $0
        ret

/* exc_tab[stage - 1]: VM-exit interruption information (0: not an
 * exception exit), error code, where the guest resumes. */
at_exit:
        leaq (%rbx,%rbx,2), %rcx
        leaq exc_tab - 24(%rip), %r13
        leaq (%r13,%rcx,8), %r13
        cmpq $0, (%r13)
        je 5f
        VMR F_EXIT_INTR
        CHECK_BEGIN
        ASSERT_RAX_MEM 0(%r13), msg_intr
        btl $11, %eax                   /* error code valid */
        jnc 1f
        VMR F_EXIT_INTR_ERR
        CHECK_BEGIN
        ASSERT_RAX_MEM 8(%r13), msg_xerrc
1:      VMR F_IDT_INFO
        btl $31, %eax
        CHECK_BEGIN
        jnc 2f
        leaq msg_idt(%rip), %rsi
        jmp fail
2:      VMR F_GUEST_RFLAGS
        CHECK_BEGIN
        ASSERT_RAX (GFLAGS_VAL | RF), msg_gflags
        VMR F_EXIT_INTR
        cmpb $PF, %al
        jne 3f
        movq %cr2, %rax                 /* 28.1: CR2 not written */
        CHECK_BEGIN
        ASSERT_RAX CR2_MARK, msg_cr2_exit
3:      VMR F_EXIT_LEN                  /* guest.inc adds the length */
        movq 16(%r13), %rcx
        subq %rax, %rcx
        VMW F_GUEST_RIP, %rcx
        ret
5:      cmpq $3, %rbx
        jne 6f
        VMW F_PFEC_MASK, $2             /* B */
        VMW F_PFEC_MATCH, $2
        ret
6:      cmpq $5, %rbx
        jne 7f
        VMW F_EXC_BITMAP, $((1 << 0) | (1 << 6) | (1 << 13))   /* C */
7:      ret

finish:
        ret

/* Set the guest's RFLAGS before an instruction that exits. */
.macro GFLAGS
        pushq $GFLAGS_VAL
        popfq
.endm

/* In the guest: \insn raises #PF with error code \err at \addr, which the
 * guest's IDT (the VMM's, common.inc) delivers. */
.macro GUEST_PF err, addr, insn:vararg
        CHECK_BEGIN
        movq $.Lres\@, f_resume(%rip)
        movq %rsp, f_rsp(%rip)
        movq $-1, f_vec(%rip)
.Lins\@:
        \insn
        leaq msg_nofault(%rip), %rsi
        jmp fail
.Lres\@:
        ASSERT_MEM f_vec(%rip), PF, msg_vector
        ASSERT_MEM f_err(%rip), \err, msg_errcode
        ASSERT_MEM f_rip(%rip), .Lins\@, msg_rip
        ASSERT_MEM f_cr2(%rip), \addr, msg_cr2
        movq $CR2_MARK, %rax
        movq %rax, %cr2
.endm

        .balign 16
guest_code:
        movq $CR2_MARK, %rax
        movq %rax, %cr2                 /* MOV to CR2 never exits */
        movl $(PF_NP + 0x123), %ebx
        GFLAGS
g_pf1:  movq (%rbx), %rax               /* 1: PFEC 0 */
r_pf1:  movl $(PF_RO + 0xFF8), %ebx
        GFLAGS
g_pf2:  movq %rax, (%rbx)               /* 2: PFEC 3 */
r_pf2:
g_call1: vmcall                         /* 3: B */
        movl $(PF_NP + 0xFF0), %ebx
        GFLAGS
g_pf4:  movq %rax, (%rbx)               /* 4: PFEC 2 */
r_pf4:  movl $(PF_NP + 8), %ebx
        GUEST_PF 0, PF_NP + 8, movq (%rbx), %rax
g_call2: vmcall                         /* 5: C */
        movl $(PF_NP + 0x800), %ebx
        GUEST_PF 2, PF_NP + 0x800, movq %rax, (%rbx)
        movl $(PF_NP + 0x40), %ebx
        GFLAGS
g_pf6:  movq (%rbx), %rax               /* 6: PFEC 0 */
r_pf6:  GFLAGS
g_ud:   ud2                             /* 7 */
r_ud:   movw $0x78, %ax
        GFLAGS
g_gp:   movw %ax, %fs                   /* 8: #GP(0x78) */
r_gp:   xorl %ecx, %ecx
        xorl %edx, %edx
        movl $1, %eax
        GFLAGS
g_de:   divl %ecx                       /* 9: #DE */
r_de:
g_call3: vmcall                         /* 10 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(0, PF_NP + 0x123, -1, g_pf1)
        E(0, PF_RO + 0xFF8, -1, g_pf2)
        E(18, 0, 3, g_call1)
        E(0, PF_NP + 0xFF0, -1, g_pf4)
        E(18, 0, 3, g_call2)
        E(0, PF_NP + 0x40, -1, g_pf6)
        E(0, 0, -1, g_ud)
        E(0, 0, -1, g_gp)
        E(0, 0, -1, g_de)
        E(18, 0, 3, g_call3)
exc_tab:
        .quad 0x80000B0E, 0, r_pf1      /* #PF, hardware exception, error code */
        .quad 0x80000B0E, 3, r_pf2
        .quad 0, 0, 0
        .quad 0x80000B0E, 2, r_pf4
        .quad 0, 0, 0
        .quad 0x80000B0E, 0, r_pf6
        .quad 0x80000306, 0, r_ud       /* #UD: no error code */
        .quad 0x80000B0D, 0x78, r_gp    /* #GP(selector) */
        .quad 0x80000300, 0, r_de       /* #DE */
        .quad 0, 0, 0

        .section .rodata
msg_intr:     .asciz "VM-exit interruption information"
msg_xerrc:     .asciz "VM-exit interruption error code"
msg_idt:      .asciz "IDT-vectoring information valid"
msg_gflags:   .asciz "saved guest RFLAGS"
msg_cr2_exit: .asciz "CR2 after a #PF VM exit"
        .text
