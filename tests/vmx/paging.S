/*
 * paging.S - the model translates (sim/mmu.c): root-operation code using
 * paging structures that map linear addresses elsewhere than the same
 * physical address, which Unicorn cannot do by itself.  SDM Vol. 3A 4.5
 * (4-level paging), 4.7 (#PF error codes), 4.8 (accessed and dirty
 * flags), 4.10 (TLBs: a translation stays cached until invalidated).
 *
 * Linear 0x1_0000_0000 (PDPT entry 4) and 0xFFFF_FFFF_8000_0000 (PML4
 * entry 511, PDPT entry 510) both lead to one page directory and page
 * table whose 4 KiB pages are frames in this program's .bss.
 */
#include "common.inc"

        .set LOW,  0x100000000
        .set HIGH, 0xFFFFFFFF80000000
        .set XD,   0x8000000000000000

main:
        /* Map: PDPT[4] -> pd; PML4[511] -> hh_pdpt, hh_pdpt[510] -> pd;
         * pd[0] -> pt; pt[0..4] -> frames A..E. */
        leaq pd(%rip), %rax
        orq $3, %rax
        movq %rax, 0x2000 + 4 * 8
        movq %rax, hh_pdpt + 510 * 8(%rip)
        leaq hh_pdpt(%rip), %rax
        orq $3, %rax
        movq %rax, 0x1000 + 511 * 8
        leaq pt(%rip), %rax
        orq $3, %rax
        movq %rax, pd(%rip)
        leaq frame_a(%rip), %rax
        orq $3, %rax
        movq %rax, pt(%rip)
        leaq frame_b(%rip), %rax
        orq $3, %rax
        movq %rax, pt + 8(%rip)
        movq $0x1234, frame_a(%rip)
        movq $0xB0B, frame_b(%rip)
        movq $0xC0C, frame_c(%rip)
        movabsq $LOW, %rbx
        movabsq $HIGH, %r12

        /* 1: a read through a mapping to another physical address */
        CHECK_BEGIN
        movq (%rbx), %rax
        ASSERT_RAX 0x1234, msg_value
        /* 2: the same frame through the second linear alias */
        CHECK_BEGIN
        movq (%r12), %rax
        ASSERT_RAX 0x1234, msg_value
        /* 3: a write through one alias is seen through the other and at
         * the frame's own (identity-mapped) address */
        CHECK_BEGIN
        movq $0x5678, 8(%rbx)
        movq 8(%r12), %rax
        ASSERT_RAX 0x5678, msg_value
        ASSERT_MEM frame_a + 8(%rip), 0x5678, msg_memory

        /* 4: accessed and dirty flags (4.8): frame A's entry was written
         * through, frame B's only read */
        CHECK_BEGIN
        movq 0x1000(%rbx), %rax
        ASSERT_RAX 0xB0B, msg_value
        movq pt(%rip), %rax
        andq $0x60, %rax
        ASSERT_RAX 0x60, msg_memory
        movq pt + 8(%rip), %rax
        andq $0x60, %rax
        ASSERT_RAX 0x20, msg_memory
        movq pd(%rip), %rax
        andq $0x60, %rax
        ASSERT_RAX 0x20, msg_memory

        /* 5: a changed entry is not seen until invalidated (4.10.4): the
         * cached translation of LOW + 0x1000 still leads to frame B */
        CHECK_BEGIN
        leaq frame_c(%rip), %rax
        orq $3, %rax
        movq %rax, pt + 8(%rip)
        movq 0x1000(%rbx), %rax
        ASSERT_RAX 0xB0B, msg_value
        /* ... and the other alias, never used for that page, walks */
        movq 0x1000(%r12), %rax
        ASSERT_RAX 0xC0C, msg_value
        /* 6: INVLPG drops it */
        CHECK_BEGIN
        invlpg 0x1000(%rbx)
        movq 0x1000(%rbx), %rax
        ASSERT_RAX 0xC0C, msg_value
        /* 7: so does MOV to CR3 */
        CHECK_BEGIN
        leaq frame_b(%rip), %rax
        orq $3, %rax
        movq %rax, pt + 8(%rip)
        movq 0x1000(%rbx), %rax
        ASSERT_RAX 0xC0C, msg_value
        movq %cr3, %rax
        movq %rax, %cr3
        movq 0x1000(%rbx), %rax
        ASSERT_RAX 0xB0B, msg_value

        /* 8: not present: #PF(0) on a read, #PF(2) on a write, CR2 the
         * address (4.7) */
        movabsq $(LOW + 0x2008), %rcx
        VMX_PF 0, LOW + 0x2008, movq (%rcx), %rax
        VMX_PF 2, LOW + 0x2008, movq %rax, (%rcx)

        /* 9: a read-only supervisor page: writable at CPL 0 while CR0.WP
         * = 0 (the start state), #PF(3) once WP = 1 */
        leaq frame_d(%rip), %rax
        orq $1, %rax
        movq %rax, pt + 3 * 8(%rip)
        movabsq $(LOW + 0x3000), %rcx
        CHECK_BEGIN
        movq $7, (%rcx)
        ASSERT_MEM frame_d(%rip), 7, msg_memory
        movq %cr0, %rax
        orq $0x10000, %rax
        movq %rax, %cr0
        VMX_PF 3, LOW + 0x3000, movq $8, (%rcx)
        ASSERT_MEM frame_d(%rip), 7, msg_memory
        movq %cr0, %rax
        andq $~0x10000, %rax
        movq %rax, %cr0

        /* 10: code through the high alias: a function written at frame
         * E's own address returns 0x11111111, then rewritten there (the
         * engine must not run its old translation made through HIGH) */
        leaq frame_e(%rip), %rax
        orq $3, %rax
        movq %rax, pt + 4 * 8(%rip)
        movb $0xB8, frame_e(%rip)            /* mov eax, imm32 */
        movl $0x11111111, frame_e + 1(%rip)
        movb $0xC3, frame_e + 5(%rip)        /* ret */
        CHECK_BEGIN
        leaq 0x4000(%r12), %r13
        call *%r13
        ASSERT_RAX 0x11111111, msg_value
        CHECK_BEGIN
        movl $0x22222222, frame_e + 1(%rip)
        call *%r13
        ASSERT_RAX 0x22222222, msg_value

        /* 11: execute-disable (EFER.NXE = 1, XD set): a fetch faults with
         * error code P | I/D = 0x11, pushing the fetched address */
        movl $0xC0000080, %ecx
        rdmsr
        orl $0x800, %eax
        wrmsr
        movabsq $XD, %rax
        orq %rax, pt + 4 * 8(%rip)
        invlpg (%r13)
        CHECK_BEGIN
        movq $1f, f_resume(%rip)
        movq %rsp, f_rsp(%rip)
        call *%r13
        leaq msg_nofault(%rip), %rsi
        jmp fail
1:      ASSERT_MEM f_vec(%rip), 14, msg_vector
        ASSERT_MEM f_err(%rip), 0x11, msg_errcode
        ASSERT_MEM f_cr2(%rip), HIGH + 0x4000, msg_cr2
        movq f_rip(%rip), %rax
        cmpq %rax, %r13
        je 2f
        leaq msg_rip(%rip), %rsi
        jmp fail
2:
        /* Unmap what was added, for the harness's later checks. */
        movq $0, 0x2000 + 4 * 8
        movq $0, 0x1000 + 511 * 8
        movq %cr3, %rax
        movq %rax, %cr3
        ret

        .bss
        .align 4096
pd:      .skip 4096
pt:      .skip 4096
hh_pdpt: .skip 4096
frame_a: .skip 4096
frame_b: .skip 4096
frame_c: .skip 4096
frame_d: .skip 4096
frame_e: .skip 4096
