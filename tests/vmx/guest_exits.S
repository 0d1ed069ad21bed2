/*
 * guest_exits.S - a guest whose instructions exit unconditionally or
 * under the primary controls (SDM Vol. 3C 26.1.2, 26.1.3): CPUID (exit
 * 10), HLT with "HLT exiting" (12), MOV from CR0 (no exit: the bits the
 * host owns read from the read shadow, 26.3), RDMSR of an MSR whose
 * read bitmap bit is set (31), OUT to a port whose I/O bitmap bit is set
 * (30, qualification: size 1, OUT, immediate operand, port 0x80), INT3
 * with bit 3 of the exception bitmap (0, software exception, length 1),
 * and VMCALL (18).  guest.inc checks every exit and resumes.
 */
#include "common.inc"

        .set PROC_WANT, (1 << 7) | (1 << 25) | (1 << 28)  /* HLT, I/O and MSR bitmaps */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 1 << 3                             /* #BP */
        .set NEXITS, 6

#include "guest.inc"

prepare:
        orb $(1 << (0x80 % 8)), io_a + (0x80 / 8)(%rip)         /* port 0x80 */
        orb $(1 << (0x174 % 8)), msr_bitmap + (0x174 / 8)(%rip) /* RDMSR 0x174 */
        VMW F_CR0_MASK, $0x20            /* the host owns CR0.NE */
        VMW F_CR0_SHADOW, $0             /* and the guest sees NE = 0 */
        ret

at_exit:
        cmpq $5, %rbx
        jne 1f
        VMR F_EXIT_INTR
        movq %rax, bp_intr_info(%rip)
1:      ret

finish:
        movq guest_cr0(%rip), %rax
        andq $0x20, %rax
        CHECK_BEGIN
        ASSERT_RAX 0, msg_shadow
        /* The #BP exit: valid, software exception (type 6), vector 3. */
        movq bp_intr_info(%rip), %rax
        CHECK_BEGIN
        ASSERT_RAX 0x80000603, msg_intr
        ret

        .balign 16
guest_code:
        cpuid                            /* +0: exit 10 */
        hlt                              /* +2: exit 12 */
        movq %cr0, %rax                  /* +3: no exit */
        movq %rax, guest_cr0(%rip)
        movl $0x174, %ecx
g_rdmsr: rdmsr                           /* exit 31 */
g_out:  outb %al, $0x80                  /* exit 30 */
g_int3: int3                             /* exit 0 */
g_call: vmcall                           /* exit 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 10, 0, 2, 0
        .quad 12, 0, 1, 2
        .quad 31, 0, 2, g_rdmsr - guest_code
        .quad 30, (0x80 << 16) | (1 << 6), 2, g_out - guest_code
        .quad 0, 0, 1, g_int3 - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .rodata
msg_shadow:  .asciz "guest CR0.NE"
msg_intr:    .asciz "interruption info"

        .section .bss
guest_cr0:    .skip 8
bp_intr_info: .skip 8
        .text
