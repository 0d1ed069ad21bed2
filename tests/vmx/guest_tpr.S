/*
 * guest_tpr.S - the TPR shadow (SDM Vol. 3C 30.1, 30.3): with "use TPR
 * shadow" 1 and CR8-load and CR8-store exiting 0, MOV from CR8 reads
 * VTPR[7:4] (the 32 bits at offset 80H of the virtual-APIC page) and MOV
 * to CR8 writes bits 3:0 of its source to VTPR[7:4], clearing the rest of
 * VTPR; then TPR virtualization (30.1.2, no virtual-interrupt delivery):
 * VTPR[7:4] below TPR threshold[3:0] is a trap-like VM exit, "TPR below
 * threshold" (43), qualification 0, guest RIP after the MOV.
 *   VTPR starts as 0xAABBCC50 (bits above 7:4 set on purpose), threshold 3
 *   (VM entry checks 3 <= 5, 27.2.1.1);
 *   -  MOV from CR8 to RAX: 5;
 *   -  MOV to CR8 from RCX = 4: VTPR = 0x40, no exit (4 >= 3);
 *   -  MOV from CR8 to RBX: 4;
 *   1. MOV to CR8 from RDX = 2: VTPR = 0x20, exit 43 after the MOV; the
 *      VMM checks VTPR and lowers the threshold to 0;
 *   -  MOV to CR8 from RSI = 0: VTPR = 0, no exit (0 >= 0);
 *   2. VMCALL: the guest's reads (5, 4) and VTPR = 0 are checked.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 21                 /* use TPR shadow */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 2
        .set F_VAPIC, 0x2012
        .set F_TPR_THRESHOLD, 0x401C

#include "guest.inc"

prepare:
        movl $0xAABBCC50, scratch + 0x80(%rip)  /* VTPR */
        leaq scratch(%rip), %rax
        VMW F_VAPIC, %rax
        VMW F_TPR_THRESHOLD, $3
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        CHECK_BEGIN
        movl scratch + 0x80(%rip), %eax
        ASSERT_RAX 0x20, msg_vtpr
        VMW F_TPR_THRESHOLD, $0
        ret
1:      CHECK_BEGIN
        ASSERT_MEM g_read1(%rip), 5, msg_read
        CHECK_BEGIN
        ASSERT_MEM g_read2(%rip), 4, msg_read
        CHECK_BEGIN
        movl scratch + 0x80(%rip), %eax
        ASSERT_RAX 0, msg_vtpr
        ret

finish:
        ret

guest_code:
        movq %cr8, %rax
        movq %rax, g_read1(%rip)
        movl $4, %ecx
        movq %rcx, %cr8
        movq %cr8, %rbx
        movq %rbx, g_read2(%rip)
        movl $2, %edx
g_low:  movq %rdx, %cr8                         /* 1: after it */
g_after:
        xorl %esi, %esi
        movq %rsi, %cr8
g_call: vmcall                                  /* 2 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(43, 0, -1, g_after)
        E(18, 0, 3, g_call)
g_read1: .quad 0
g_read2: .quad 0

        .section .rodata
msg_vtpr: .asciz "VTPR in the virtual-APIC page"
msg_read: .asciz "CR8 read in the guest"
        .text
