/*
 * ept_violations.S - EPT-induced VM exits of a 64-bit guest (SDM Vol. 3C
 * 29.3.3) and what the VMM reads about them: exit reason 48 or 49, the
 * qualification (Table 28-7), the guest-physical address (VMCS 0x2400),
 * the guest-linear address (0x640A), the VM-exit instruction length, the
 * IDT-vectoring information (28.2.4) for a violation during event
 * delivery; and the EPT accessed and dirty flags (29.3.5) the guest's
 * accesses set, with EPTP bit 6.
 *
 * The EPT is ept.inc's, with accessed and dirty flags enabled, and these
 * 4-KiB pages of guest-physical memory changed (guest-linear = guest-
 * physical: the guest shares the VMM's one-to-one paging, except where
 * noted):
 *   0x820000  not present          read: 48, qualification 0x581
 *   0x821000  read-only            write: 48, 0x58A
 *   0x822000  read/write           fetch: 48, 0x59C; then made executable
 *   0x823000  execute-only         read: 48, 0x5A1 (IA32_VMX_EPT_VPID_CAP[0])
 *   0x830000  not present: the guest PT of linear 0xC00000-0xDFFFFF
 *                                  read of 0xC00000: 48, 0x83 (a
 *                                  paging-structure access, treated as a
 *                                  write with A/D flags: bits 0 and 1)
 *   0x824000  write-only           read: 49 (misconfiguration)
 *   0x825000  memory type 2        read: 49
 *   0x828000  the guest PT of linear 0xE00000-0xFFFFFF (-> 0x829000,
 *             0x82A000): reading 0xE00000 and writing 0xE01000 set A and
 *             D in the EPT PTE of the PT (a paging-structure access is a
 *             write), A in 0x829000's, A and D in 0x82A000's
 *   0x831000  not present: the guest IDT, for INT3: 48 during delivery,
 *             IDT-vectoring information 0x80000603, length 1; then for
 *             a #DE injected by VM entry: 48, IDT-vectoring information
 *             0x80000300
 *   0x832000  not present: the guest stack, for UD2: 48 during delivery
 *             (the push), IDT-vectoring information 0x80000306
 * Qualification bits 9-11 (linear address user, writable, execute-
 * disable: IA32_VMX_EPT_VPID_CAP[22]) are 0, 1, 0 for every translation.
 */
#include "common.inc"

        .set PROC_WANT, PROC_2ND
        .set PROC2_WANT, PROC2_EPT
        .set EXC_BITMAP, 0
        .set NEXITS, 12
        .set EPT_AD, 1

        .set PG_NP,    0x820000
        .set PG_RO,    0x821000
        .set PG_NX,    0x822000
        .set PG_XO,    0x823000
        .set PG_WO,    0x824000
        .set PG_MT2,   0x825000
        .set PG_UNUSED, 0x826000
        .set PT_AD,    0x828000     /* guest PT for 0xE00000 */
        .set PG_AD_R,  0x829000
        .set PG_AD_W,  0x82A000
        .set PT_NP,    0x830000     /* guest PT for 0xC00000 */
        .set IDT_NP,   0x831000
        .set STACK_NP, 0x832000
        .set LA_PT_NP, 0xC00000
        .set LA_AD,    0xE00000

#include "guest.inc"
#include "ept.inc"

prepare:
        call setup_split_ept
        movq $0, EPT_PTE(PG_NP)(%rip)
        movq $(PG_RO | (6 << 3) | 1), EPT_PTE(PG_RO)(%rip)
        movq $(PG_NX | (6 << 3) | 3), EPT_PTE(PG_NX)(%rip)
        movq $(PG_XO | (6 << 3) | 4), EPT_PTE(PG_XO)(%rip)
        movq $(PG_WO | (6 << 3) | 2), EPT_PTE(PG_WO)(%rip)
        movq $(PG_MT2 | (2 << 3) | 7), EPT_PTE(PG_MT2)(%rip)
        movq $0, EPT_PTE(PT_NP)(%rip)
        movq $0, EPT_PTE(IDT_NP)(%rip)
        movq $0, EPT_PTE(STACK_NP)(%rip)
        /* Code at PG_NX for the fetch: nop; nop; nop; jmp *%rcx. */
        movl $0xE1FF9090, PG_NX + 1
        movb $0x90, PG_NX
        /* Guest page tables in guest-physical memory (the VMM writes
         * them through its one-to-one map): PD[6] -> PT_NP (its EPT PTE
         * not present), PD[7] -> PT_AD, whose entries 0 and 1 map
         * PG_AD_R and PG_AD_W. */
        movq $(PT_NP | 3), 0x3000 + (LA_PT_NP >> 21) * 8
        movq $(PT_AD | 3), 0x3000 + (LA_AD >> 21) * 8
        movq $(PG_AD_R | 3), PT_AD
        movq $(PG_AD_W | 3), PT_AD + 8
        movq %cr3, %rax
        movq %rax, %cr3
        /* Exit 3's guest RIP is PG_NX, not in guest_code. */
        movq $PG_NX, %rax
        leaq guest_code(%rip), %rdx
        subq %rdx, %rax
        movq %rax, expect + 2 * 32 + 24(%rip)
        /* The guest's own IDT: vector 6 (#UD) only, a 64-bit interrupt
         * gate to guest_ud (SDM Vol. 3A 6.14.1). */
        leaq guest_ud(%rip), %rax
        movq %rax, %rdx
        andq $0xFFFF, %rdx
        orq $(KCODE << 16), %rdx
        movabsq $0x00008E0000000000, %r8
        orq %r8, %rdx
        movq %rax, %r8
        shrq $16, %r8
        andq $0xFFFF, %r8
        shlq $48, %r8
        orq %r8, %rdx
        movq %rdx, guest_idt + 6 * 16(%rip)
        shrq $32, %rax
        movq %rax, guest_idt + 6 * 16 + 8(%rip)
        leaq guest_idt(%rip), %rax
        VMW 0x6818, %rax                 /* guest IDTR base */
        ret

/* Fail unless VMCS field \field holds \value. */
.macro EXPECT_FIELD field, value, msg
        VMR \field
        CHECK_BEGIN
        ASSERT_RAX \value, \msg
.endm

/* Fail unless the EPT PTE of \gpa has accessed/dirty flags \ad. */
.macro EXPECT_AD gpa, ad
        movq EPT_PTE(\gpa)(%rip), %rax
        andl $(EPT_A | EPT_D), %eax
        CHECK_BEGIN
        ASSERT_RAX \ad, msg_ad
.endm

at_exit:
        /* The guest-physical and guest-linear addresses and the
         * IDT-vectoring information of this exit (-1: not checked). */
        leaq addrs - 32(%rip), %r12
        imulq $32, %rbx, %rax
        addq %rax, %r12
        movq 0(%r12), %rax
        cmpq $-1, %rax
        je 1f
        VMR 0x2400
        CHECK_BEGIN
        ASSERT_RAX_MEM 0(%r12), msg_gpa
1:      movq 8(%r12), %rax
        cmpq $-1, %rax
        je 2f
        VMR 0x640A
        CHECK_BEGIN
        ASSERT_RAX_MEM 8(%r12), msg_gla
2:      VMR 0x4408
        CHECK_BEGIN
        ASSERT_RAX_MEM 16(%r12), msg_idt
        /* RFLAGS.RF saved (28.3.3) */
        VMR 0x6820
        andl $RF, %eax
        CHECK_BEGIN
        ASSERT_RAX_MEM 24(%r12), msg_rf
        movq stage(%rip), %rbx
        cmpq $3, %rbx
        jne 3f
        /* The fetch: make PG_NX executable (a change of a rights bit from
         * 0 to 1 needs no INVEPT, 29.4.3.3); the VMM skips the first nop. */
        orq $4, EPT_PTE(PG_NX)(%rip)
        ret
3:      cmpq $8, %rbx
        jne 4f
        /* A/D flags after the guest's read of LA_AD and write of LA_AD +
         * 0x1000: the guest PT's page is "written" (paging-structure
         * access), the read page accessed, the written page dirty. */
        EXPECT_AD PT_AD, EPT_A | EPT_D
        EXPECT_AD PG_AD_R, EPT_A
        EXPECT_AD PG_AD_W, EPT_A | EPT_D
        EXPECT_AD PG_UNUSED, 0
        /* Now the guest's IDT moves to a page EPT does not map. */
        VMW 0x6818, $IDT_NP
        ret
4:      cmpq $9, %rbx
        jne 44f
        /* VM entry injects #DE (hardware exception, vector 0), which
         * the IDT EPT does not map stops again (27.6.1, 28.2.4). */
        VMW 0x4016, $0x80000300
        ret
44:     cmpq $10, %rbx
        jne 5f
        leaq guest_idt(%rip), %rax
        VMW 0x6818, %rax                 /* the IDT back */
        ret
5:      cmpq $11, %rbx
        jne 6f
        /* The stack back: the #UD is delivered when the guest resumes
         * at the UD2 (instruction length 0: no skip). */
        movq g_rsp(%rip), %rax
        VMW F_GUEST_RSP, %rax
        ret
6:      cmpq $12, %rbx
        jne 7f
        /* The #UD reached the guest's handler. */
        CHECK_BEGIN
        movq g_vec(%rip), %rax
        ASSERT_RAX UD, msg_vector
7:      ret

finish:
        ret

        .balign 16
guest_code:
        movl $(PG_NP + 8), %ecx
g1:     movq (%rcx), %r13                /* 1: read, not present */
        movl $(PG_RO + 0x10), %ecx
g2:     movq %r13, (%rcx)                /* 2: write, read-only */
        leaq g_back(%rip), %rcx
        movl $PG_NX, %eax
        jmp *%rax                        /* 3: fetch, not executable */
g_back: movl $(PG_XO + 0x18), %ecx
g4:     movq (%rcx), %r13                /* 4: read, execute-only */
        movl $(LA_PT_NP + 0x20), %ecx
g5:     movq (%rcx), %r13                /* 5: the guest PTE's page */
        movl $(PG_WO + 0x10), %ecx
g6:     movq (%rcx), %r13                /* 6: misconfiguration */
        movl $(PG_MT2 + 0x20), %ecx
g7:     movq (%rcx), %r13                /* 7: misconfiguration */
        movq LA_AD, %r13                 /* A/D: read */
        movq %r13, LA_AD + 0x1008        /* A/D: write */
g8:     vmcall                           /* 8 */
g9:     int3                             /* 9: IDT not present */
g_inj:  nop                              /* 10: #DE injected before it */
        /* 11: #UD delivered on a stack that is not present */
        movq %rsp, g_rsp(%rip)
        movl $(STACK_NP + 0x1000), %esp
g11:    ud2
g_after_ud:
g12:    vmcall                           /* 12 */
        hlt

/* The guest's #UD handler: note the vector, back to its stack. */
guest_ud:
        movq $UD, g_vec(%rip)
        movq g_rsp(%rip), %rsp
        jmp g_after_ud

        .section .data
        .balign 8
/* reason, qualification, instruction length, guest RIP - guest_code */
expect:
        .quad 48, 0x581, 3, g1 - guest_code
        .quad 48, 0x58A, 3, g2 - guest_code
        .quad 48, 0x59C, 1, 0                   /* RIP: prepare */
        .quad 48, 0x5A1, 3, g4 - guest_code
        .quad 48, 0x83, 3, g5 - guest_code
        .quad 49, 0, 3, g6 - guest_code
        .quad 49, 0, 3, g7 - guest_code
        .quad 18, 0, 3, g8 - guest_code
        /* during INT3's delivery: its length, 1, and its RIP (28.2.5,
         * 28.3.3) */
        .quad 48, 0x581, 1, g9 - guest_code
        .quad 48, 0x581, -1, g_inj - guest_code /* length undefined (28.2.5) */
        .quad 48, 0x582, 0, g11 - guest_code
        .quad 18, 0, 3, g12 - guest_code
/* guest-physical address, guest-linear address (-1: not checked),
 * IDT-vectoring information, RFLAGS.RF saved (28.3.3: 1 for EPT
 * violations and misconfigurations not during event delivery; during
 * delivery, what the event would have pushed: 0 for INT3, a trap, 1 for
 * the #UD fault; 0 for VMCALL) */
addrs:
        .quad PG_NP + 8, PG_NP + 8, 0, RF
        .quad PG_RO + 0x10, PG_RO + 0x10, 0, RF
        .quad PG_NX, PG_NX, 0, RF
        .quad PG_XO + 0x18, PG_XO + 0x18, 0, RF
        .quad PT_NP + 0, LA_PT_NP + 0x20, 0, RF  /* the PTE of LA_PT_NP + 0x20 */
        .quad PG_WO + 0x10, -1, 0, RF
        .quad PG_MT2 + 0x20, -1, 0, RF
        .quad -1, -1, 0, 0
        .quad IDT_NP + 3 * 16, IDT_NP + 3 * 16, 0x80000603, 0
        /* an injected event pushes RF as the guest state has it (27.6.1.1) */
        .quad IDT_NP, IDT_NP, 0x80000300, 0
        .quad STACK_NP + 0xFF8, STACK_NP + 0xFF8, 0x80000306, RF
        .quad -1, -1, 0, 0

        .section .bss
        .balign 16
guest_idt:   .skip 32 * 16
g_rsp:       .skip 8
g_vec:       .skip 8

        .section .rodata
msg_gpa:     .asciz "guest-physical address"
msg_gla:     .asciz "guest-linear address"
msg_idt:     .asciz "IDT-vectoring information"
msg_ad:      .asciz "EPT accessed/dirty flags"
msg_rf:      .asciz "saved RFLAGS.RF"
        .text
