/*
 * ept_stale.S - stale translations under EPT, and the instructions that
 * end them (SDM Vol. 3C 29.4: what may be cached, 29.4.3.1: what
 * invalidates it; Vol. 3A 4.10.4).  Built twice: with "enable VPID"
 * (VPID 1: the guest's linear and combined mappings survive VM exits and
 * entries) and, as ept_stale_novpid.S, without (VPID 0: every VM entry
 * and exit invalidates the linear and combined mappings of VPID 0, but
 * the guest-physical mappings of the EPT stay).
 *
 *   1. The guest reads guest-physical page P (host page OLD).  The VMM
 *      points P's EPT PTE at another host page (NEW) without INVEPT.
 *   2. The guest reads P again: still OLD (VPID: the combined mapping;
 *      no VPID: the walk of the guest's paging structures is new, but the
 *      guest-physical mapping of P is cached).  The VMM executes INVEPT
 *      single-context for another EPTP.
 *   3. Still OLD: that INVEPT removed the other EPT root's mappings
 *      only.  The VMM executes INVEPT single-context for this EPTP.
 *   4. The guest reads P: NEW.  It also reads linear page L (its paging
 *      entry maps it to Q0); the VMM changes that guest PTE to Q1.
 *   5. VPID: the guest still reads Q0; the VMM executes INVVPID
 *      single-context for VPID 2.  No VPID: the guest reads Q1 (VM entry
 *      invalidated the old translation).
 *   6. VPID: still Q0 (VPID 2's mappings went); the VMM executes INVVPID
 *      individual-address (VPID 1, L).  No VPID: Q1.
 *   7. The guest reads Q1; the VMM changes the PTE to Q2.
 *   8. VPID: still Q1, then INVVPID single-context (VPID 1).  No VPID: Q2.
 *   9. The guest reads Q2, changes its PTE to Q3 itself, reads L again:
 *      Q2 (stale); INVLPG L; reads L: Q3.
 * Each read's value is checked by the VMM at the next VMCALL exit.
 */
#include "common.inc"

        .ifndef NO_VPID
        .set NO_VPID, 0
        .endif
        .set PROC_WANT, PROC_2ND
        .if NO_VPID
        .set PROC2_WANT, PROC2_EPT
        .else
        .set PROC2_WANT, PROC2_EPT | (1 << 5)   /* enable VPID */
        .endif
        .set EXC_BITMAP, 0
        .set NEXITS, 9

        .set P,      0x800000       /* guest-physical page under test */
        .set H_OLD,  0x800000       /* its host page at first (one to one) */
        .set H_NEW,  0x801000       /* and then */
        .set OLD,    0x01D01D01D01D01D0
        .set NEW,    0x0E30E30E30E30E30
        .set L,      0xA00000       /* guest-linear page under test */
        .set Q0,     0x810000       /* the pages its PTE points to in turn */
        .set Q1,     0x811000
        .set Q2,     0x812000
        .set Q3,     0x813000
        .set V0,     0x5100
        .set V1,     0x5101
        .set V2,     0x5102
        .set V3,     0x5103

#include "guest.inc"
#include "ept.inc"

prepare:
        call setup_split_ept
        .if !NO_VPID
        VMW 0x0000, $1                   /* VPID */
        .endif
        /* The host pages' contents, through the VMM's identity map. */
        movabsq $OLD, %rax
        movq %rax, H_OLD
        movabsq $NEW, %rax
        movq %rax, H_NEW
        movq $V0, Q0
        movq $V1, Q1
        movq $V2, Q2
        movq $V3, Q3
        /* Linear 0xA00000-0xBFFFFF through guest_pt (4-KiB pages) in the
         * paging structures the guest shares: L -> Q0. */
        movq $(Q0 | 3), guest_pt(%rip)
        leaq guest_pt(%rip), %rax
        orq $3, %rax
        movq %rax, 0x3000 + (L >> 21) * 8
        movq %cr3, %rax
        movq %rax, %cr3
        movq $1, vpid_desc(%rip)
        movq $L, vpid_desc + 8(%rip)
        movq $2, vpid2_desc(%rip)
        /* Another EPT (empty, but a valid EPTP), for INVEPT. */
        leaq other_pml4(%rip), %rax
        orq $((3 << 3) | 6), %rax
        movq %rax, other_desc(%rip)
        ret

/* Fail unless register \reg holds \value. */
.macro EXPECT reg, value
        CHECK_BEGIN
        movq \reg, %rax
        ASSERT_RAX \value, msg_value
.endm

at_exit:
        cmpq $1, %rbx
        jne 2f
        EXPECT %r13, OLD
        /* P -> NEW in EPT, no INVEPT. */
        movq $(H_NEW | EPT_WB_RWX), EPT_PTE(P)(%rip)
        ret
2:      cmpq $2, %rbx
        jne 3f
        EXPECT %r13, OLD                 /* stale */
        movl $1, %ecx
        VMX_OK invept other_desc(%rip), %rcx   /* another EPTP */
        ret
3:      cmpq $3, %rbx
        jne 4f
        EXPECT %r13, OLD                 /* still stale */
        movl $1, %ecx
        VMX_OK invept ept_desc(%rip), %rcx     /* this EPTP */
        ret
4:      cmpq $4, %rbx
        jne 5f
        EXPECT %r13, NEW
        EXPECT %r14, V0
        movq $(Q1 | 3), guest_pt(%rip)   /* L -> Q1, no invalidation */
        ret
5:      cmpq $5, %rbx
        jne 6f
        .if NO_VPID
        EXPECT %r14, V1
        .else
        EXPECT %r14, V0                  /* stale */
        movl $1, %ecx
        VMX_OK invvpid vpid2_desc(%rip), %rcx  /* single context, VPID 2 */
        .endif
        ret
6:      cmpq $6, %rbx
        jne 7f
        .if NO_VPID
        EXPECT %r14, V1
        .else
        EXPECT %r14, V0                  /* still stale */
        xorl %ecx, %ecx
        VMX_OK invvpid vpid_desc(%rip), %rcx   /* individual address, VPID 1 */
        .endif
        ret
7:      cmpq $7, %rbx
        jne 8f
        EXPECT %r14, V1
        movq $(Q2 | 3), guest_pt(%rip)   /* L -> Q2 */
        ret
8:      cmpq $8, %rbx
        jne 9f
        .if NO_VPID
        EXPECT %r14, V2
        .else
        EXPECT %r14, V1                  /* stale */
        movl $1, %ecx
        VMX_OK invvpid vpid_desc(%rip), %rcx   /* single context, VPID 1 */
        .endif
        ret
9:      EXPECT %r14, V2
        EXPECT %r15, V2                  /* stale until INVLPG */
        EXPECT %rbp, V3
        ret

finish:
        ret

        .balign 16
guest_code:
        movq P, %r13
g1:     vmcall
        movq P, %r13
g2:     vmcall
        movq P, %r13
g3:     vmcall
        movq P, %r13
        movq L, %r14
g4:     vmcall
        movq L, %r14
g5:     vmcall
        movq L, %r14
g6:     vmcall
        movq L, %r14
g7:     vmcall
        movq L, %r14
g8:     vmcall
        movq L, %r14
        movq $(Q3 | 3), guest_pt(%rip)   /* the guest's own PTE change */
        movq L, %r15
        invlpg L
        movq L, %rbp
g9:     vmcall
        hlt

        .section .data
        .balign 8
expect:
        .quad 18, 0, 3, g1 - guest_code
        .quad 18, 0, 3, g2 - guest_code
        .quad 18, 0, 3, g3 - guest_code
        .quad 18, 0, 3, g4 - guest_code
        .quad 18, 0, 3, g5 - guest_code
        .quad 18, 0, 3, g6 - guest_code
        .quad 18, 0, 3, g7 - guest_code
        .quad 18, 0, 3, g8 - guest_code
        .quad 18, 0, 3, g9 - guest_code

        .section .bss
        .balign 4096
guest_pt:    .skip 4096
other_pml4:  .skip 4096
other_desc:  .skip 16
vpid2_desc:  .skip 16
        .text
