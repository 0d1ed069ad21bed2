/*
 * guest_prot32.S - a 32-bit protected-mode guest with paging (32-bit
 * paging, 4-MiB pages mapping the low 4 GiB one to one; not IA-32e mode,
 * so EFER.LMA and LME are loaded as 0, SDM Vol. 3C 27.3.2.1): CPUID (exit
 * 10), OUT with the I/O bitmap (30), VMCALL (18), with the lengths and
 * RIPs of 32-bit code.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 25                 /* I/O bitmaps */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 3

#include "guest.inc"

prepare:
        leaq pd32(%rip), %rdi
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $22, %eax
        orl $0x83, %eax                         /* present, writable, 4 MiB */
        movl %eax, (%rdi,%rcx,4)
        incl %ecx
        cmpl $1024, %ecx
        jb 1b
        leaq pd32(%rip), %rax
        VMW F_GUEST_CR3, %rax
        VMW F_GUEST_CR4, $0x2010                /* VMXE, PSE */
        VMW F_GUEST_CR0, $0x80000031            /* PG, NE, ET, PE */
        VMR F_ENTRY_CTLS
        andl $~ENTRY_IA32E, %eax
        VMW F_ENTRY_CTLS, %rax
        VMW F_GUEST_CS_SEL, $CODE32
        VMW F_GUEST_CS_AR, $0xC09B              /* 32-bit code: D, G */
        orb $(1 << (0x80 % 8)), io_a + (0x80 / 8)(%rip)
        ret

at_exit:
finish:
        ret

        .code32
        .balign 16
guest_code:
        cpuid                                   /* exit 10 */
g_out:  outb %al, $0x80                         /* exit 30 */
g_call: vmcall                                  /* exit 18 */
        hlt
        .code64

        .section .data
        .balign 8
expect:
        .quad 10, 0, 2, 0
        .quad 30, (0x80 << 16) | (1 << 6), 2, g_out - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .bss
        .balign 4096
pd32:   .skip 4096
        .text
