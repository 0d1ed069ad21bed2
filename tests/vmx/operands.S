/*
 * operands.S - memory-operand forms of the VMX instructions (effective
 * address, SDM Vol. 2A 2.1.5 ModR/M and SIB, 2.2.1 REX and RIP-relative
 * addressing; in 64-bit mode only FS and GS have a base, Vol. 3A 3.4.4,
 * and a 67H prefix makes the address 32 bits): base + index * scale +
 * displacement, RSP as base, FS and GS overrides, a 32-bit address size
 * that drops bits 63:32 of the base register.
 */
#include "common.inc"

        .set MSR_FS_BASE, 0xC0000100
        .set MSR_GS_BASE, 0xC0000101

main:
        DO_VMXON
        INIT_REGION vmcs1
        /* base + index * 8 + displacement */
        leaq ptr(%rip), %rbx
        movl $2, %ecx
        leaq vmcs1(%rip), %rax
        movq %rax, 16(%rbx)             /* = ptr + 2 * 8 = desc */
        VMX_OK vmptrld (%rbx, %rcx, 8)
        /* RSP as base (SS in 64-bit mode: no base, no fault) */
        subq $16, %rsp
        movq $0, (%rsp)
        VMX_OK vmptrst (%rsp)
        popq %rax
        addq $8, %rsp
        leaq vmcs1(%rip), %rdx
        cmpq %rdx, %rax
        je 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:
        /* FS and GS overrides add their bases (from IA32_FS_BASE and
         * IA32_GS_BASE) */
        leaq scratch(%rip), %rax
        movq %rax, %rdx
        shrq $32, %rdx
        movl $MSR_FS_BASE, %ecx
        wrmsr
        addq $0x100, %rax
        movl $MSR_GS_BASE, %ecx
        wrmsr
        movq $0, scratch + 8(%rip)
        VMX_OK vmptrst %fs:8
        leaq vmcs1(%rip), %rax
        cmpq %rax, scratch + 8(%rip)
        je 2f
        movq scratch + 8(%rip), %rax
        leaq msg_memory(%rip), %rsi
        jmp fail
2:      movl $F_GUEST_RIP, %ecx
        movabsq $0x1234567890, %rax
        movq %rax, scratch + 0x110(%rip)
        VMX_OK vmwrite %gs:0x10, %rcx
        VMX_OK vmread %rcx, %fs:0x20
        ASSERT_MEM scratch + 0x20(%rip), 0x1234567890, msg_memory
        /* 32-bit address size: bits 63:32 of RBX are not used */
        leaq ptr(%rip), %rbx
        movabsq $0xDEAD000000000000, %rax
        orq %rax, %rbx
        leaq vmcs1(%rip), %rax
        movq %rax, ptr(%rip)
        VMX_OK vmclear (%ebx)
        VMX_OK vmptrld (%ebx)
        VMX_OK vmxoff
        ret
