/*
 * guest_task.S - in a 32-bit protected-mode guest: CLTS and LMSW with the
 * CR0 guest/host mask (26.1.3: exit 28 with access types 2 and 3, the
 * LMSW source in the qualification), and task switches, which always exit
 * (26.1.2: exit 9): far JMP and far CALL to an available TSS, and IRET
 * with RFLAGS.NT = 1 (to the previous task of the current TSS).  The
 * qualification holds the TSS selector and the source (Table 28-2: 0
 * CALL, 1 IRET, 2 JMP).
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 6

#include "guest.inc"

prepare:
        leaq pd32(%rip), %rdi                   /* 32-bit paging, 4 MiB pages */
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $22, %eax
        orl $0x83, %eax
        movl %eax, (%rdi,%rcx,4)
        incl %ecx
        cmpl $1024, %ecx
        jb 1b
        leaq pd32(%rip), %rax
        VMW F_GUEST_CR3, %rax
        VMW F_GUEST_CR4, $0x2010
        VMW F_GUEST_CR0, $0x80000031
        VMR F_ENTRY_CTLS
        andl $~ENTRY_IA32E, %eax
        VMW F_ENTRY_CTLS, %rax
        VMW F_GUEST_CS_SEL, $CODE32
        VMW F_GUEST_CS_AR, $0xC09B
        /* The guest's own GDT: data 0x10, 32-bit code 0x18, an available
         * 32-bit TSS at 0x20 (type 9). */
        leaq guest_gdt(%rip), %rax
        VMW 0x6816, %rax
        VMW 0x4810, $(guest_gdt_end - guest_gdt - 1)
        movw $0x28, tss(%rip)                   /* the current TSS's link */
        VMW 0x6000, $0xF                        /* CR0 mask: PE, MP, EM, TS */
        VMW 0x6004, $0x9                        /* shadow: PE, TS */
        ret

at_exit:
finish:
        ret

        .code32
        .balign 16
guest_code:
g_clts:  clts                                   /* 28: CLTS */
        movw $0x3, %ax
g_lmsw:  lmsw %ax                               /* 28: LMSW, MP differs */
g_jmp:   ljmp $0x20, $0                         /* 9: JMP to a TSS */
g_call:  lcall $0x20, $0                        /* 9: CALL to a TSS */
        pushfl
        orl $0x4000, (%esp)                     /* NT */
        popfl
g_iret:  iret                                   /* 9: back to the link */
g_vmcall: vmcall                                /* 18 */
        hlt
        .code64

        .section .data
        .balign 8
expect:
        .quad 28, 0x20, 2, g_clts - guest_code
        .quad 28, 0x30030, 3, g_lmsw - guest_code
        .quad 9, 0x80000020, 7, g_jmp - guest_code
        .quad 9, 0x20, 7, g_call - guest_code
        .quad 9, 0x40000028, 1, g_iret - guest_code
        .quad 18, 0, 3, g_vmcall - guest_code
guest_gdt:
        .quad 0, 0
        .quad 0x00CF93000000FFFF                /* 0x10 data */
        .quad 0x00CF9B000000FFFF                /* 0x18 32-bit code */
        .quad 0x0000890000000067                /* 0x20 available 32-bit TSS */
        .quad 0, 0
guest_gdt_end:

        .section .bss
        .balign 4096
pd32:   .skip 4096
        .text
