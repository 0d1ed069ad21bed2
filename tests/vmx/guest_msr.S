/*
 * guest_msr.S - RDMSR and WRMSR under the MSR bitmaps (SDM Vol. 3C
 * 25.6.9, 26.1.3; Appendix C reasons 31, 32): the 4-KiB bitmap holds
 * read-low (0000H, MSRs 0-1FFFH), read-high (0400H, C0000000H-C0001FFFH),
 * write-low (0800H) and write-high (0C00H) bitmaps; an MSR in neither
 * range always exits.  Bits are set so that a bitmap read at the wrong
 * place would show:
 *   read-low:   0x80, 0x81 (the low halves of EFER, STAR), 0x1FFF
 *   read-high:  0xC0000102 (KERNEL_GS_BASE), 0xC0001FFF
 *   write-low:  0x174 (SYSENTER_CS), 0x102
 *   write-high: 0xC0000081 (STAR)
 * and the guest runs:
 *   -  RDMSR 0xC0000080, 0xC0000081 (read-high bits clear): no exit;
 *   1. RDMSR 0x1FFF: the last bit of read-low;
 *   2. RDMSR 0xC0000102;  -  WRMSR 0xC0000102 (write-high clear): none;
 *   3. RDMSR 0xC0001FFF: the last bit of read-high;
 *   4. WRMSR 0x174;       -  RDMSR 0x174 (read-low clear): none;
 *   5. WRMSR 0xC0000081;
 *   6. RDMSR 0x2000, 7. WRMSR 0x2000, 8. RDMSR 0xC0002000,
 *   9. WRMSR 0xBFFFFFFF, 10. RDMSR 0x40000000: outside both ranges;
 *  11. VMCALL.
 * Each exit has qualification 0 and length 2; ECX is the guest's at the
 * exit (the VMM's code before at_exit leaves RCX alone), and the VMM
 * checks it against the MSR the exit is for.
 */
#include "common.inc"

        .set PROC_WANT, PROC_MSR_BM
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 11

#include "guest.inc"

/* Set the bit of MSR \msr in the bitmap at offset \base. */
.macro MSRBIT base, msr
        orb $(1 << ((\msr) & 7)), msr_bitmap + (\base) + (((\msr) & 0x1FFF) >> 3)(%rip)
.endm

prepare:
        MSRBIT 0x000, 0x80
        MSRBIT 0x000, 0x81
        MSRBIT 0x000, 0x1FFF
        MSRBIT 0x400, 0xC0000102
        MSRBIT 0x400, 0xC0001FFF
        MSRBIT 0x800, 0x174
        MSRBIT 0x800, 0x102
        MSRBIT 0xC00, 0xC0000081
        ret

at_exit:
        leaq msr_index - 8(%rip), %rax
        movq (%rax,%rbx,8), %rax
        cmpq $-1, %rax
        je 1f
        movl %ecx, %ecx
        CHECK_BEGIN
        cmpq %rax, %rcx
        je 1f
        movq %rcx, %rax
        leaq msg_ecx(%rip), %rsi
        jmp fail
1:      ret

finish:
        ret

/* RDMSR or WRMSR of \msr (WRMSR writes the value it read, for those that
 * do not exit). */
.macro RD msr
        movl $\msr, %ecx
        rdmsr
.endm
.macro WR msr
        movl $\msr, %ecx
        wrmsr
.endm

        .balign 16
guest_code:
        RD 0xC0000080
        RD 0xC0000081
        movl $0x1FFF, %ecx
g_1:    rdmsr                                   /* 1 */
        movl $0xC0000102, %ecx
g_2:    rdmsr                                   /* 2 */
        xorl %eax, %eax
        xorl %edx, %edx
        WR 0xC0000102                           /* no exit */
        movl $0xC0001FFF, %ecx
g_3:    rdmsr                                   /* 3 */
        movl $0x174, %ecx
        movl $KCODE, %eax
        xorl %edx, %edx
g_4:    wrmsr                                   /* 4 */
        RD 0x174                                /* no exit */
        movl $0xC0000081, %ecx
g_5:    wrmsr                                   /* 5 */
        movl $0x2000, %ecx
g_6:    rdmsr                                   /* 6 */
        movl $0x2000, %ecx
g_7:    wrmsr                                   /* 7 */
        movl $0xC0002000, %ecx
g_8:    rdmsr                                   /* 8 */
        movl $0xBFFFFFFF, %ecx
g_9:    wrmsr                                   /* 9 */
        movl $0x40000000, %ecx
g_10:   rdmsr                                   /* 10 */
g_call: vmcall                                  /* 11 */
        hlt

        .section .data
        .balign 8
#define E(reason, label) .quad reason, 0, 2, label - guest_code
expect:
        E(31, g_1)
        E(31, g_2)
        E(31, g_3)
        E(32, g_4)
        E(32, g_5)
        E(31, g_6)
        E(32, g_7)
        E(31, g_8)
        E(32, g_9)
        E(31, g_10)
        .quad 18, 0, 3, g_call - guest_code
msr_index:
        .quad 0x1FFF, 0xC0000102, 0xC0001FFF, 0x174, 0xC0000081
        .quad 0x2000, 0x2000, 0xC0002000, 0xBFFFFFFF, 0x40000000, -1

        .section .rodata
msg_ecx: .asciz "guest ECX at the exit"
        .text
