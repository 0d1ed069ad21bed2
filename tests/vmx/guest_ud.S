/*
 * guest_ud.S - instructions that a secondary processor-based control
 * enables raise #UD in the guest while the control is 0 (SDM Vol. 3C
 * 26.3; Vol. 2 RDTSCP, INVPCID, XSAVES, XRSTORS: "#UD if ... the 'enable
 * ...' VM-execution control is 0"), before any VM exit the instruction
 * could cause (26.1.1: #UD has priority): RDTSCP with RDTSC exiting,
 * INVPCID with INVLPG exiting.  CR4.OSXSAVE is 1 in the guest, so the
 * #UD of XSAVES/XRSTORS comes from the control alone.  The exception
 * bitmap makes each #UD a VM exit (reason 0, interruption information
 * 0x80000306, the instruction's RIP):
 *   A: secondary controls active, with only WBINVD exiting:
 *      1. RDTSCP  2. INVPCID  3. XSAVES  4. XRSTORS
 *   5. VMCALL: B: "enable RDTSCP", "enable INVPCID" and "enable
 *      XSAVES/XRSTORS" set in the secondary controls, but "activate
 *      secondary controls" 0 (25.6.2: as if all were 0):
 *      6. RDTSCP  7. INVPCID  8. XSAVES  9. XRSTORS
 *  10. VMCALL: C: secondary controls activated again:
 *      11. RDTSCP exits (51)  12. INVPCID exits (58), after which the VMM
 *          clears the exception bitmap and "enable RDTSCP";
 *  13. VMCALL; RDTSCP: #UD delivered by the guest's IDT (the pushed RIP
 *      is the RDTSCP's);
 *  14. VMCALL.
 */
#include "common.inc"

        .set PROC_WANT, PROC_INVLPG | (1 << 12) | PROC_2ND  /* INVLPG, RDTSC exiting */
        .set PROC2_WANT, PROC2_WBINVD
        .set EXC_BITMAP, 1 << 6
        .set NEXITS, 14
        .set PROC2_RDTSCP, 1 << 3
        .set PROC2_INVPCID, 1 << 12
        .set PROC2_XSAVES, 1 << 20

#include "guest.inc"

prepare:
        VMR F_GUEST_CR4
        orq $(1 << 18), %rax            /* OSXSAVE */
        VMW F_GUEST_CR4, %rax
        ret

at_exit:
        VMR F_EXIT_REASON
        testq %rax, %rax
        jnz 1f
        VMR F_EXIT_INTR
        CHECK_BEGIN
        ASSERT_RAX 0x80000306, msg_intr
        VMR F_EXIT_LEN                  /* skip the instruction: the length */
        movq %rax, %rcx                 /* is undefined for #UD (28.2.4) */
        leaq ud_len - 8(%rip), %rax
        movq (%rax,%rbx,8), %r10
        VMR F_GUEST_RIP
        addq %r10, %rax
        subq %rcx, %rax
        VMW F_GUEST_RIP, %rax
        ret
1:      cmpq $5, %rbx
        jne 2f
        VMR F_PROC
        andl $~PROC_2ND, %eax
        VMW F_PROC, %rax
        VMW F_PROC2, $(PROC2_WBINVD | PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES)
        ret
2:      cmpq $10, %rbx
        jne 3f
        VMR F_PROC
        orl $PROC_2ND, %eax
        VMW F_PROC, %rax
        ret
3:      cmpq $12, %rbx
        jne 4f
        VMW F_EXC_BITMAP, $0
        VMW F_PROC2, $(PROC2_WBINVD | PROC2_INVPCID)
4:      ret

finish:
        ret

        .balign 16
guest_code:
        leaq scratch(%rip), %rbx
        xorl %ecx, %ecx
        xorl %eax, %eax
        xorl %edx, %edx
a_rdtscp:  rdtscp                       /* 1 */
a_invpcid: invpcid (%rbx), %rcx         /* 2 */
a_xsaves:  xsaves (%rbx)                /* 3 */
a_xrstors: xrstors (%rbx)               /* 4 */
a_call:    vmcall                       /* 5 */
b_rdtscp:  rdtscp                       /* 6 */
b_invpcid: invpcid (%rbx), %rcx         /* 7 */
b_xsaves:  xsaves (%rbx)                /* 8 */
b_xrstors: xrstors (%rbx)               /* 9 */
b_call:    vmcall                       /* 10 */
c_rdtscp:  rdtscp                       /* 11: exit 51 */
c_invpcid: invpcid (%rbx), %rcx         /* 12: exit 58 */
c_call:    vmcall                       /* 13 */
        CHECK_BEGIN
        movq $1f, f_resume(%rip)
        movq %rsp, f_rsp(%rip)
        movq $-1, f_vec(%rip)
d_rdtscp:  rdtscp
        leaq msg_nofault(%rip), %rsi
        jmp fail
1:      ASSERT_MEM f_vec(%rip), UD, msg_vector
        ASSERT_MEM f_rip(%rip), d_rdtscp, msg_rip
        ASSERT_MEM f_count(%rip), 1, msg_count
d_call:    vmcall                       /* 14 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(0, 0, -1, a_rdtscp)
        E(0, 0, -1, a_invpcid)
        E(0, 0, -1, a_xsaves)
        E(0, 0, -1, a_xrstors)
        E(18, 0, 3, a_call)
        E(0, 0, -1, b_rdtscp)
        E(0, 0, -1, b_invpcid)
        E(0, 0, -1, b_xsaves)
        E(0, 0, -1, b_xrstors)
        E(18, 0, 3, b_call)
        E(51, 0, 3, c_rdtscp)
        E(58, 0, 5, c_invpcid)
        E(18, 0, 3, c_call)
        E(18, 0, 3, d_call)
/* The length of each instruction that raised #UD (0: no #UD). */
ud_len:
        .quad a_invpcid - a_rdtscp, a_xsaves - a_invpcid, a_xrstors - a_xsaves
        .quad a_call - a_xrstors, 0
        .quad b_invpcid - b_rdtscp, b_xsaves - b_invpcid, b_xrstors - b_xsaves
        .quad b_call - b_xrstors, 0
        .quad 0, 0, 0, 0

        .section .rodata
msg_intr:  .asciz "VM-exit interruption information"
msg_count: .asciz "exceptions delivered in the guest"
        .text
