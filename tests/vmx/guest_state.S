/*
 * guest_state.S - the guest state each VM exit saves (SDM Vol. 3C 28.3):
 * control registers (28.3.1), segment registers with selector, base,
 * limit and access rights, the unusable bit for a null selector loaded
 * in 64-bit mode (28.3.2), RIP, RSP, RFLAGS (28.3.3), interruptibility
 * and activity state and pending debug exceptions (28.3.4), checked
 * field by field after six exits of different reasons while the guest
 * changes its state between them:
 *   1. CPUID (10): the state VM entry loaded;
 *   2. VMCALL (18): RSP - 0x100, RFLAGS 0xCD7 (POPF), DS = 0x23 (the
 *      DPL-3 data segment: access rights 0xC0F3), ES null (unusable),
 *      FS = 0x10 with IA32_FS_BASE written by WRMSR;
 *   3. HLT (12) right after STI: CR0.WP, CR4.DE and CR3 0x1008 (PWT)
 *      set by MOV to CR, RFLAGS 0x202, blocking by STI, activity 0
 *      (the exit comes before HLT executes);
 *   4. RDMSR (31, outside the bitmap ranges) right after MOV SS: blocking
 *      by MOV SS; GS = 0x10 with IA32_GS_BASE written by WRMSR;
 *   5. CPUID at CPL 3 (after IRETQ): CS 0x2B (0xA0FB), SS 0x23 (0xC0F3),
 *      RFLAGS 2, no blocking;
 *   6. VMCALL at CPL 3.
 * The fields not listed for an exit are not checked there.  A failure
 * reports check 1000 * exit + entry.
 */
#include "common.inc"

        .set PROC_WANT, PROC_HLT | PROC_MSR_BM
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 6
        .set FSB, 0x0000123456789000
        .set GSB, 0xFFFF800000002000
        .set CR0_G, 0x80000031
        .set CR4_G, 0x2020

#include "guest.inc"

prepare:
        VMW F_GUEST_CR0, $CR0_G
        VMW F_GUEST_CR3, $0x1000
        VMW F_GUEST_CR4, $CR4_G
        ret

at_exit:
        leaq state_tab - 8(%rip), %rax
        movq (%rax,%rbx,8), %r13
        imull $1000, %ebx, %r14d
1:      movq (%r13), %rdx
        cmpq $-1, %rdx
        je 2f
        incl %r14d
        movl %r14d, cur_check(%rip)
        vmread %rdx, %rax
        andq 8(%r13), %rax
        cmpq 16(%r13), %rax
        je 3f
        leaq msg_state(%rip), %rsi
        jmp fail
3:      addq $24, %r13
        jmp 1b
2:      ret

finish:
        ret

        .balign 16
guest_code:
        xorl %eax, %eax
g_1:    cpuid                                   /* 1 */
        subq $0x100, %rsp
        movw $UDATA, %ax
        movw %ax, %ds
        xorl %eax, %eax
        movw %ax, %es
        movw $KDATA, %ax
        movw %ax, %fs
        movl $0xC0000100, %ecx                  /* IA32_FS_BASE */
        movl $(FSB & 0xFFFFFFFF), %eax
        movl $(FSB >> 32), %edx
        wrmsr
        pushq $0xCD7
        popfq
g_2:    vmcall                                  /* 2 */
        cld
        movq %cr0, %rax
        orq $0x10000, %rax                      /* WP */
        movq %rax, %cr0
        movq %cr4, %rax
        orq $8, %rax                            /* DE */
        movq %rax, %cr4
        movl $0x1008, %eax                      /* PWT */
        movq %rax, %cr3
        pushq $2
        popfq
        sti
g_3:    hlt                                     /* 3 */
        movw $KDATA, %ax
        movw %ax, %gs
        movl $0xC0000101, %ecx                  /* IA32_GS_BASE */
        movl $(GSB & 0xFFFFFFFF), %eax
        movl $(GSB >> 32), %edx
        wrmsr
        movl $0x40000000, %ecx
        movw $KDATA, %ax
        movw %ax, %ss
g_4:    rdmsr                                   /* 4 */
        cli
        TO_RING3
g_5:    cpuid                                   /* 5 */
g_6:    vmcall                                  /* 6 */
        hlt

        .section .data
        .balign 8
#define E(reason, len, label) .quad reason, 0, len, label - guest_code
expect:
        E(10, 2, g_1)
        E(18, 3, g_2)
        E(12, 1, g_3)
        E(31, 2, g_4)
        E(10, 2, g_5)
        E(18, 3, g_6)

/* Field encoding, mask, value. */
#define F(enc, val) .quad enc, -1, val;
#define FM(enc, mask, val) .quad enc, mask, val;
#define END .quad -1
#define CS0 F(0x0802, KCODE) F(0x4816, 0xA09B) F(0x6808, 0) F(0x4802, 0xFFFFFFFF)
#define SS0 F(0x0804, KDATA) F(0x4818, 0xC093) F(0x680A, 0) F(0x4804, 0xFFFFFFFF)
#define TRL F(0x080E, TSSSEL) F(0x4822, 0x8B) FM(0x4820, 0x10000, 0x10000)
#define NOEV F(0x6822, 0) F(0x4826, 0)          /* pending debug, activity */
state1:
        F(0x681C, guest_stack_top) F(0x6820, 0x46)     /* XOR: ZF, PF */
        F(0x6800, CR0_G) F(0x6802, 0x1000) F(0x6804, CR4_G)
        CS0 SS0 TRL NOEV
        F(0x0806, KDATA) F(0x481A, 0xC093) F(0x680C, 0) F(0x4806, 0xFFFFFFFF)
        F(0x0800, KDATA) F(0x4814, 0xC093)
        F(0x0808, KDATA) F(0x680E, 0) F(0x080A, KDATA) F(0x6810, 0)
        F(0x4824, 0)
        END
state2:
        F(0x681C, guest_stack_top - 0x100) F(0x6820, 0xCD7)
        F(0x6800, CR0_G) F(0x6802, 0x1000) F(0x6804, CR4_G)
        CS0 SS0 TRL NOEV
        F(0x0806, UDATA) F(0x481A, 0xC0F3) F(0x680C, 0) F(0x4806, 0xFFFFFFFF)
        F(0x0800, 0) FM(0x4814, 0x10000, 0x10000)
        F(0x0808, KDATA) F(0x481C, 0xC093) F(0x680E, FSB)
        F(0x4824, 0)
        END
state3:
        F(0x681C, guest_stack_top - 0x100) F(0x6820, 0x202)
        F(0x6800, CR0_G | 0x10000) F(0x6802, 0x1008) F(0x6804, CR4_G | 8)
        CS0 SS0 NOEV
        F(0x0806, UDATA) F(0x680E, FSB)
        F(0x4824, 1)                            /* blocking by STI */
        END
state4:
        F(0x681C, guest_stack_top - 0x100) F(0x6820, 0x202)
        F(0x6800, CR0_G | 0x10000) F(0x6802, 0x1008) F(0x6804, CR4_G | 8)
        CS0 SS0 NOEV
        F(0x080A, KDATA) F(0x481E, 0xC093) F(0x6810, GSB)
        F(0x4824, 2)                            /* blocking by MOV SS */
        END
state5:
        F(0x681C, guest_stack_top - 0x100) F(0x6820, 2)
        F(0x6800, CR0_G | 0x10000) F(0x6802, 0x1008) F(0x6804, CR4_G | 8)
        F(0x0802, UCODE) F(0x4816, 0xA0FB) F(0x6808, 0) F(0x4802, 0xFFFFFFFF)
        F(0x0804, UDATA) F(0x4818, 0xC0F3) F(0x680A, 0) F(0x4804, 0xFFFFFFFF)
        NOEV F(0x4824, 0)
        END
state6:
        F(0x681C, guest_stack_top - 0x100) F(0x6820, 2)
        F(0x0802, UCODE) F(0x4816, 0xA0FB) F(0x0804, UDATA)
        NOEV F(0x4824, 0)
        END
state_tab:
        .quad state1, state2, state3, state4, state5, state6

        .section .rodata
msg_state: .asciz "saved guest state field"
        .text
