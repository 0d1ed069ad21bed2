/*
 * guest.S - the lazy-EPT example's guest: 64-bit code with paging on,
 * run at guest-linear 0x400000 through the guest's own 4-level page
 * tables (lazy_ept.c builds their image; the guest finds them at
 * guest-physical 0x1000 in CR3).  Nothing it touches is mapped in EPT
 * when it starts: each first touch of a guest-physical page (its page
 * tables, this code, its data, its stack) is an EPT violation the VMM
 * answers.  The bytes between lazy_guest_start and lazy_guest_end are
 * copied by the VMM into the host page that backs guest-physical 0x10000,
 * so the code is position-independent (RIP-relative data, absolute
 * guest-linear addresses as constants).
 *
 * Its linear layout (the page tables say where each page is in
 * guest-physical memory):
 *   0x400000           this code          guest-physical 0x10000
 *   0x480000-0x483FFF  DATA, 4 pages      guest-physical 0x40000000-0x40003FFF
 *   0x500000-0x503FFF  ALIAS of DATA      the same guest-physical pages
 *   0x5FF000-0x5FFFFF  the stack          guest-physical 0x20000
 *
 * The work, whose results prove each translation right:
 *   1. fill DATA with NWORDS values of a 64-bit LCG (x = x * A + C,
 *      from SEED);
 *   2. checksum the words read through ALIAS (a different linear page,
 *      the same guest-physical and host-physical page): RAX;
 *   3. write MARK through ALIAS word MARK_INDEX and read it back through
 *      DATA: RBX;
 *   4. checksum DATA again: RCX;
 *   5. VMCALL (the VMM checks RAX, RBX and RCX against its own
 *      computation over the host pages it mapped; then it moves DATA to
 *      other host pages, which needs INVEPT);
 *   6. checksum DATA once more: RAX, VMCALL (the VMM checks it against
 *      the new host pages), then HLT.
 */
        .set DATA_LA,    0x480000
        .set ALIAS_LA,   0x500000
        .set NWORDS,     2048            /* 4 pages of 8-byte words */
        .set MARK_INDEX, 5
        .set MARK,       0x600DF00D

        .text
        .globl lazy_guest_start, lazy_guest_end
lazy_guest_start:
        /* 1. fill DATA (each new page: an EPT violation for a write) */
        movq seed(%rip), %rax           /* a data read of the code page */
        movq lcg_a(%rip), %rdx
        movq lcg_c(%rip), %rsi
        movl $DATA_LA, %edi
        movl $NWORDS, %ecx
1:      imulq %rdx, %rax
        addq %rsi, %rax
        movq %rax, (%rdi)
        addq $8, %rdi
        decl %ecx
        jnz 1b

        /* 2. checksum through ALIAS (the stack's first use: a write) */
        movl $ALIAS_LA, %edi
        movl $NWORDS, %esi
        call checksum
        movq %rax, %r12

        /* 3. write through ALIAS, read through DATA */
        movl $MARK, %eax
        movq %rax, ALIAS_LA + 8 * MARK_INDEX
        movq DATA_LA + 8 * MARK_INDEX, %r13

        /* 4. checksum DATA, now with the mark */
        movl $DATA_LA, %edi
        movl $NWORDS, %esi
        call checksum
        movq %rax, %rcx

        /* 5. report */
        movq %r12, %rax
        movq %r13, %rbx
        vmcall

        /* 6. the same data, now in other host pages: report and stop */
        movl $DATA_LA, %edi
        movl $NWORDS, %esi
        call checksum
        vmcall
        hlt

/* RAX = a Fletcher-style checksum of RSI qwords at RDI: a += w, b += a
 * for each word, then a ^ (b rotated by 32).  Uses the stack. */
checksum:
        pushq %rbx
        pushq %rdx
        xorl %eax, %eax
        xorl %ebx, %ebx
1:      addq (%rdi), %rax
        addq %rax, %rbx
        addq $8, %rdi
        decq %rsi
        jnz 1b
        rolq $32, %rbx
        xorq %rbx, %rax
        popq %rdx
        popq %rbx
        ret

        .balign 8
seed:   .quad 0x0123456789ABCDEF
lcg_a:  .quad 6364136223846793005    /* Knuth's MMIX LCG */
lcg_c:  .quad 1442695040888963407
lazy_guest_end:

        .section .note.GNU-stack,"",@progbits
