/*
 * guest_io.S - I/O instructions under "use I/O bitmaps" (SDM Vol. 3C
 * 25.6.4, 26.1.3): bitmap A holds one bit per port 0000H-7FFFH, B per
 * port 8000H-FFFFH; an access exits if the bit of any port it touches is
 * 1, or if it wraps around the 16-bit port space (touches FFFFH and
 * 0000H), whatever the bits.  Each exit (reason 30) is checked for its
 * exit qualification (Table 28-5: 2:0 size - 1, 3 direction (1 = IN),
 * 4 string, 5 REP, 6 operand encoding (1 = immediate), 31:16 port),
 * length, and for INS/OUTS the instruction information (Table 28-8:
 * address size 9:7; segment 17:15 for OUTS, undefined for INS) and the
 * guest-linear address (28.2.1: ES:(E)DI for INS, seg:(E)SI for OUTS):
 *   1. REP INSB, port 0x70 (bit set), 64-bit addresses;
 *   2. INSD, port 0x78: only the bit of 0x7B, its last byte, is set;
 *   3. REP INSW with 67H (32-bit addresses), port 0x7C (bit of 0x7D);
 *   4. OUT imm8 of 4 bytes, port 0x84 (bit of 0x87);
 *   5. IN EAX, DX, port 0x88;
 *   6. OUT DX, AX at 0x7FFF: its second byte is port 0x8000, bit 0 of B;
 *   7. OUT DX, AL at 0x9000 (bit 0x1000 of B); 0x9001 does not exit;
 *   8. OUT DX, AX at 0x8FFF: touches 0x9000;
 *   -  OUT DX, AX at 0xFFFD: no bit, no wrap, no exit;
 *   9. OUT DX, EAX at 0xFFFE: wraps (FFFE-0001), no bit set: exits;
 *  10. IN AX, DX at 0xFFFF: wraps;
 *   -  IN AL, DX at 0xFFFF: no exit;
 *  11. VMCALL: the VMM sets the bit of port 0xFFFF, the last of B;
 *  12. IN AL, DX at 0xFFFF exits; at 0xFFFE it does not;
 *  13. REP OUTSW with FS (base 0x200000), port 0x90: the guest-linear
 *      address is FS.base + RSI;
 *  14. VMCALL.
 */
#include "common.inc"

        .set PROC_WANT, PROC_IO_BM
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 14
        .set F_GUEST_LINEAR, 0x640A
        .set F_GUEST_FS_BASE, 0x680E
        .set FS_BASE, 0x200000

#include "guest.inc"

/* Set the bit of port \port in bitmap \bm (A for 0-7FFFH, B above). */
.macro IOBIT bm, port
        orb $(1 << ((\port) & 7)), \bm + (((\port) & 0x7FFF) >> 3)(%rip)
.endm

prepare:
        IOBIT io_a, 0x70
        IOBIT io_a, 0x7B
        IOBIT io_a, 0x7D
        IOBIT io_a, 0x87
        IOBIT io_a, 0x88
        IOBIT io_a, 0x90
        IOBIT io_b, 0x8000
        IOBIT io_b, 0x9000
        VMW F_GUEST_FS_BASE, $FS_BASE
        ret

/* io_tab[stage - 1]: mask of the defined instruction-information bits
 * (0: not a string instruction), their value, the guest-linear address. */
at_exit:
        cmpq $11, %rbx
        jne 1f
        IOBIT io_b, 0xFFFF
        ret
1:      leaq (%rbx,%rbx,2), %rcx
        leaq io_tab - 24(%rip), %r13
        leaq (%r13,%rcx,8), %r13
        cmpq $0, (%r13)
        je 2f
        VMR F_EXIT_INFO
        andq (%r13), %rax
        CHECK_BEGIN
        ASSERT_RAX_MEM 8(%r13), msg_info
        VMR F_GUEST_LINEAR
        CHECK_BEGIN
        ASSERT_RAX_MEM 16(%r13), msg_linear
2:      ret

finish:
        ret

        .balign 16
guest_code:
        movw $0x70, %dx
        leaq iobuf(%rip), %rdi
        movl $3, %ecx
g_insb: rep insb                                /* 1 */
        movw $0x78, %dx
        leaq iobuf + 0x10(%rip), %rdi
g_insd: insl                                    /* 2 */
        movw $0x7C, %dx
        leaq iobuf + 0x20(%rip), %rdi
        movl $2, %ecx
g_insw: rep insw (%dx), %es:(%edi)              /* 3 */
r_insw:
        movl $0x11223344, %eax
g_outl: outl %eax, $0x84                        /* 4 */
        movw $0x88, %dx
g_inl:  inl %dx, %eax                           /* 5 */
        movw $0x7FFF, %dx
g_outw: outw %ax, %dx                           /* 6 */
        movw $0x9000, %dx
g_outb: outb %al, %dx                           /* 7 */
        movw $0x9001, %dx
        outb %al, %dx                           /* no exit */
        movw $0x8FFF, %dx
g_outw2: outw %ax, %dx                          /* 8 */
        movw $0xFFFD, %dx
        outw %ax, %dx                           /* no exit */
        movw $0xFFFE, %dx
g_wrap1: outl %eax, %dx                         /* 9 */
        movw $0xFFFF, %dx
g_wrap2: inw %dx, %ax                           /* 10 */
        movw $0xFFFF, %dx
        inb %dx, %al                            /* no exit */
g_call: vmcall                                  /* 11 */
        movw $0xFFFF, %dx
g_inb:  inb %dx, %al                            /* 12 */
        movw $0xFFFE, %dx
        inb %dx, %al                            /* no exit */
        movw $0x90, %dx
        movl $0x1234, %esi
        movl $2, %ecx
g_outs: rep outsw %fs:(%rsi), (%dx)             /* 13 */
g_call2: vmcall                                 /* 14 */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
#define Q(port, size, in, str, rep, imm) \
        (((port) << 16) | ((size) - 1) | ((in) << 3) | ((str) << 4) | ((rep) << 5) | ((imm) << 6))
expect:
        E(30, Q(0x70, 1, 1, 1, 1, 0), 2, g_insb)
        E(30, Q(0x78, 4, 1, 1, 0, 0), 1, g_insd)
        E(30, Q(0x7C, 2, 1, 1, 1, 0), r_insw - g_insw, g_insw)
        E(30, Q(0x84, 4, 0, 0, 0, 1), 2, g_outl)
        E(30, Q(0x88, 4, 1, 0, 0, 0), 1, g_inl)
        E(30, Q(0x7FFF, 2, 0, 0, 0, 0), 2, g_outw)
        E(30, Q(0x9000, 1, 0, 0, 0, 0), 1, g_outb)
        E(30, Q(0x8FFF, 2, 0, 0, 0, 0), 2, g_outw2)
        E(30, Q(0xFFFE, 4, 0, 0, 0, 0), 1, g_wrap1)
        E(30, Q(0xFFFF, 2, 1, 0, 0, 0), 2, g_wrap2)
        E(18, 0, 3, g_call)
        E(30, Q(0xFFFF, 1, 1, 0, 0, 0), 1, g_inb)
        E(30, Q(0x90, 2, 0, 1, 1, 0), 4, g_outs)
        E(18, 0, 3, g_call2)
io_tab:
        .quad 0x380, 2 << 7, iobuf              /* INS: address size only */
        .quad 0x380, 2 << 7, iobuf + 0x10
        .quad 0x380, 1 << 7, iobuf + 0x20       /* 32-bit addresses */
        .rept 9
        .quad 0, 0, 0
        .endr
        .quad 0x38380, (4 << 15) | (2 << 7), FS_BASE + 0x1234  /* OUTS: FS */
        .quad 0, 0, 0
iobuf:  .skip 64

        .section .rodata
msg_info:   .asciz "instruction information"
msg_linear: .asciz "guest-linear address"
        .text
