/*
 * guest_more.S - the other exits the model produces (SDM Vol. 3C 26.1,
 * Appendix C), each with its exit qualification, instruction length and,
 * where defined, instruction information (28.2.5): INVD (13), RDTSC (16),
 * RDTSCP (51), every VMX instruction (19-27, 50, 53), XSETBV (55), SLDT
 * (47), RDRAND (57), RDSEED (61), INVPCID (58), MONITOR (39), MWAIT (36),
 * WRMSR (32), REP OUTSB and IN AX, DX with unconditional I/O exiting
 * (30: size, direction, string, REP, DX operand, port), and a triple
 * fault (2) last.  At the first exit the VMM
 * also checks the guest state the exit saved (28.3).
 */
#include "common.inc"

        .set PROC_WANT, (1 << 9) | (1 << 10) | (1 << 12) | (1 << 24) | (1 << 28) | (1 << 29) | (1 << 31)
        .set PROC2_WANT, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 11) | (1 << 12) | (1 << 16)
        .set EXC_BITMAP, 0
        .set NEXITS, 25
        .set MEM_INFO, 0x01C18100       /* [rbx]: 64-bit address, DS, no index */

#include "guest.inc"

prepare:
        call setup_identity_ept
        VMW 0x0000, $1                  /* VPID */
        VMR F_GUEST_CR4
        orq $(1 << 18), %rax            /* OSXSAVE, for XSETBV */
        VMW F_GUEST_CR4, %rax
        VMW 0x4812, $0                  /* IDTR limit 0: the #UD at the end
                                           becomes a triple fault */
        ret

/* Instruction information and saved state. */
at_exit:
        leaq info_expect - 8(%rip), %rax
        movq (%rax,%rbx,8), %r13
        cmpq $-1, %r13
        je 1f
        VMR F_EXIT_INFO
        CHECK_BEGIN
        cmpq %r13, %rax
        je 1f
        leaq msg_info(%rip), %rsi
        jmp fail
1:      cmpq $1, %rbx
        jne 2f
        VMR F_GUEST_RSP
        leaq guest_stack_top(%rip), %rcx
        CHECK_BEGIN
        cmpq %rcx, %rax
        je 3f
        leaq msg_rsp(%rip), %rsi
        jmp fail
3:      movl $0x6820, %edx              /* RFLAGS */
        vmread %rdx, %rax
        CHECK_BEGIN
        ASSERT_RAX 2, msg_rflags_saved
        movl $0x4816, %edx              /* CS access rights */
        vmread %rdx, %rax
        CHECK_BEGIN
        ASSERT_RAX 0xA09B, msg_cs_ar
        movl $0x4824, %edx              /* interruptibility */
        vmread %rdx, %rax
        CHECK_BEGIN
        ASSERT_RAX 0, msg_intr
        movl $0x4012, %edx              /* IA-32e mode guest stays 1 */
        vmread %rdx, %rax
        btl $9, %eax
        CHECK_BEGIN
        jc 2f
        leaq msg_ia32e(%rip), %rsi
        jmp fail
2:      ret

finish:
        ret

        .balign 16
guest_code:
        leaq scratch(%rip), %rbx
g_invd:     invd                        /* 13 */
g_rdtsc:    rdtsc                       /* 16 */
g_rdtscp:   rdtscp                      /* 51 */
g_vmclear:  vmclear (%rbx)              /* 19 */
g_vmptrld:  vmptrld (%rbx)              /* 21 */
g_vmptrst:  vmptrst (%rbx)              /* 22 */
g_vmread:   vmread %rax, %rcx           /* 23: field RAX, into RCX */
g_vmwrite:  vmwrite %rcx, %rax          /* 25: field RAX, value RCX */
g_vmlaunch: vmlaunch                    /* 20 */
g_vmresume: vmresume                    /* 24 */
g_vmxoff:   vmxoff                      /* 26 */
g_vmxon:    vmxon (%rbx)                /* 27 */
g_invept:   invept (%rbx), %rcx         /* 50 */
g_invvpid:  invvpid (%rbx), %rcx        /* 53 */
g_xsetbv:   xsetbv                      /* 55 */
g_sldt:     sldt (%rbx)                 /* 47 */
g_rdrand:   rdrand %eax                 /* 57 */
g_rdseed:   rdseed %ecx                 /* 61 */
g_invpcid:  invpcid (%rbx), %rcx        /* 58 */
g_monitor:  monitor                     /* 39 */
g_mwait:    mwait                       /* 36 */
            movl $0x40000000, %ecx
g_wrmsr:    wrmsr                       /* 32 */
            movw $0x80, %dx
            leaq scratch(%rip), %rsi
            movl $4, %ecx
g_outs:     rep outsb                   /* 30: string, REP */
            movw $0x80, %dx             /* (the VMM does not keep guest registers) */
g_in:       inw %dx, %ax                /* 30: 2 bytes, IN */
g_ud:       ud2                         /* #UD, no IDT: triple fault (2) */
        hlt

        .section .data
        .balign 8
#define E(reason, qual, len, label) .quad reason, qual, len, label - guest_code
expect:
        E(13, 0, 2, g_invd)
        E(16, 0, 2, g_rdtsc)
        E(51, 0, 3, g_rdtscp)
        E(19, 0, 4, g_vmclear)
        E(21, 0, 3, g_vmptrld)
        E(22, 0, 3, g_vmptrst)
        E(23, 0, 3, g_vmread)
        E(25, 0, 3, g_vmwrite)
        E(20, 0, 3, g_vmlaunch)
        E(24, 0, 3, g_vmresume)
        E(26, 0, 3, g_vmxoff)
        E(27, 0, 4, g_vmxon)
        E(50, 0, 5, g_invept)
        E(53, 0, 5, g_invvpid)
        E(55, 0, 3, g_xsetbv)
        E(47, 0, 3, g_sldt)
        E(57, 0, 3, g_rdrand)
        E(61, 0, 3, g_rdseed)
        E(58, 0, 5, g_invpcid)
        E(39, 0, 3, g_monitor)
        E(36, 0, 3, g_mwait)
        E(32, 0, 2, g_wrmsr)
        E(30, (0x80 << 16) | (1 << 5) | (1 << 4), 2, g_outs)
        E(30, (0x80 << 16) | (1 << 3) | 1, 2, g_in)
        .quad 2, 0, 0, g_ud - guest_code
/* Expected VM-exit instruction information per exit (-1: not checked,
 * the field is undefined for that exit). */
info_expect:
        .quad -1, -1, -1
        .quad MEM_INFO, MEM_INFO, MEM_INFO      /* VMCLEAR, VMPTRLD, VMPTRST */
        .quad 0x408, 0x408                      /* VMREAD, VMWRITE: register forms */
        .quad -1, -1, -1
        .quad MEM_INFO                          /* VMXON */
        .quad MEM_INFO | (1 << 28), MEM_INFO | (1 << 28)  /* INVEPT, INVVPID: type in RCX */
        .quad -1
        .quad MEM_INFO                          /* SLDT (identity 0) */
        .quad 0x800, 0x808                      /* RDRAND EAX, RDSEED ECX: 32-bit */
        .quad MEM_INFO | (1 << 28)              /* INVPCID */
        .quad -1, -1, -1
        .quad 0x18100                           /* OUTS: 64-bit address, DS */
        .quad -1, -1

        .section .rodata
msg_info:         .asciz "instruction information"
msg_rsp:          .asciz "saved guest RSP"
msg_rflags_saved: .asciz "saved guest RFLAGS"
msg_cs_ar:        .asciz "saved guest CS access rights"
msg_intr:         .asciz "saved interruptibility"
msg_ia32e:        .asciz "IA-32e mode guest control"
        .text
