/*
 * guest_cr.S - GETSEC, and CR4 and CR8 accesses in the guest (SDM Vol. 3C
 * 26.1.2, 26.1.3, 26.3; exit qualification Table 28-3: 3:0 the control
 * register, 5:4 the access type (0 MOV to CR, 1 MOV from CR), 11:8 the
 * general register):
 *   1. GETSEC with CR4.SMXE = 1 (set in the guest CR4 field) exits
 *      unconditionally: reason 11;
 *   -  MOV from CR4 reads the bits the CR4 guest/host mask owns (PGE,
 *      TSD) from the CR4 read shadow (PGE 1, TSD 0): 0x60A0 while the
 *      real CR4 is 0x6020;
 *   -  MOV to CR4 whose owned bits equal the shadow does not exit; it
 *      sets DE and leaves the owned bits as they really are (real CR4
 *      0x6028, saved as such by the next exit);
 *   2. MOV to CR4 from R11 setting TSD (shadow 0): exit 28, 0xB04;
 *   3. MOV to CR4 from RSI clearing PGE (shadow 1): exit 28, 0x604;
 *   4. MOV to CR8 from R10 with CR8-load exiting: exit 28, 0xA08;
 *   5. MOV from CR8 to RBX with CR8-store exiting: exit 28, 0x318;
 *   6. VMCALL: the VMM clears both CR8 controls;
 *   -  MOV to CR8 and MOV from CR8 run in the guest (9 should read back:
 *      not checked, a model bug, see at_exit);
 *   7. VMCALL.
 */
#include "common.inc"

        .set PROC_CR8_LOAD, 1 << 19
        .set PROC_CR8_STORE, 1 << 20
        .set PROC_WANT, PROC_CR8_LOAD | PROC_CR8_STORE
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 7
        .set GUEST_CR4, 0x6020                  /* SMXE, VMXE, PAE */

#include "guest.inc"

prepare:
        VMW F_GUEST_CR4, $GUEST_CR4
        VMW F_CR4_MASK, $0x84                   /* PGE, TSD */
        VMW F_CR4_SHADOW, $0x80
        ret

at_exit:
        cmpq $2, %rbx
        jne 1f
        VMR F_GUEST_CR4
        CHECK_BEGIN
        ASSERT_RAX (GUEST_CR4 | 8), msg_cr4
        ret
1:      cmpq $6, %rbx
        jne 2f
        VMR F_GUEST_CR4
        CHECK_BEGIN
        ASSERT_RAX (GUEST_CR4 | 8), msg_cr4
        VMR F_PROC
        andl $~(PROC_CR8_LOAD | PROC_CR8_STORE), %eax
        VMW F_PROC, %rax
        ret
2:      cmpq $7, %rbx
        jne 3f
        CHECK_BEGIN
        ASSERT_MEM g_cr4_read(%rip), (GUEST_CR4 | 0x80), msg_cr4_read
        /* CR8 reads back TPR[7:4], which MOV to CR8 wrote (SDM Vol. 3A
         * 2.5, 10.8.6.5); with "use TPR shadow" 0 the guest's MOV to CR8
         * writes the TPR (26.3). */
        CHECK_BEGIN
        ASSERT_MEM g_cr8_read(%rip), 9, msg_cr8_read
3:      ret

finish:
        ret

        .balign 16
guest_code:
        movl $0, %eax                           /* GETSEC[CAPABILITIES] */
g_getsec: getsec                                /* 1 */
        movq %cr4, %rax                         /* the shadow's PGE, TSD */
        movq %rax, g_cr4_read(%rip)
        orq $8, %rax                            /* DE; owned bits = shadow */
        movq %rax, %cr4                         /* no exit */
        movq %rax, g_cr4_val(%rip)
        movq g_cr4_val(%rip), %r11
        orq $4, %r11
g_cr4a: movq %r11, %cr4                         /* 2 */
        movq g_cr4_val(%rip), %rsi
        andq $~0x80, %rsi
g_cr4b: movq %rsi, %cr4                         /* 3 */
        movl $5, %r10d
g_cr8w: movq %r10, %cr8                         /* 4 */
g_cr8r: movq %cr8, %rbx                         /* 5 */
g_call: vmcall                                  /* 6 */
        movl $9, %ecx
        movq %rcx, %cr8
        movq %cr8, %rdx
        movq %rdx, g_cr8_read(%rip)
g_call2: vmcall                                 /* 7 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(11, 0, 2, g_getsec)
        E(28, 0xB04, 4, g_cr4a)
        E(28, 0x604, 3, g_cr4b)
        E(28, 0xA08, 4, g_cr8w)
        E(28, 0x318, 4, g_cr8r)
        E(18, 0, 3, g_call)
        E(18, 0, 3, g_call2)
g_cr4_read: .quad 0
g_cr4_val:  .quad 0
g_cr8_read: .quad 0

        .section .rodata
msg_cr4:      .asciz "saved guest CR4"
msg_cr4_read: .asciz "CR4 read in the guest"
msg_cr8_read: .asciz "CR8 read in the guest"
        .text
