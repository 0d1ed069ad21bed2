/*
 * vmxon_fixed.S - with IA32_FEATURE_CONTROL locked at 5 (the default):
 * WRMSR to it is #GP(0); VMXON is #GP(0) while CR0 violates the VMX fixed
 * bits (CR0.NE = 0 where IA32_VMX_CR0_FIXED0 requires 1, SDM Vol. 3C
 * 24.8, A.7); in VMX operation MOV to CR0 clearing NE and MOV to CR4
 * clearing VMXE are #GP(0); after VMXOFF CR4.VMXE can be cleared.
 */
#include "common.inc"

        .set CR0_NE, 0x20

main:
        movl $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        ASSERT_RAX 5, msg_value
        movl $MSR_FEATURE_CONTROL, %ecx
        movl $5, %eax
        xorl %edx, %edx
        VMX_GP0 wrmsr

        /* IA32_VMX_CR0_FIXED0 must require NE for this test. */
        movl $0x486, %ecx
        rdmsr
        testl $CR0_NE, %eax
        jnz 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:
        SET_VMXE
        INIT_REGION vmxon_region
        PTR vmxon_region
        movq %cr0, %rbx
        andq $~CR0_NE, %rbx
        movq %rbx, %cr0
        VMX_GP0 vmxon ptr(%rip)
        orq $CR0_NE, %rbx
        movq %rbx, %cr0
        VMX_OK vmxon ptr(%rip)

        /* In VMX operation the fixed bits cannot change (24.8). */
        andq $~CR0_NE, %rbx
        VMX_GP0 movq %rbx, %cr0
        movq %cr0, %rax
        ASSERT_RAX 0x80000031, msg_value
        movq %cr4, %rbx
        andq $~CR4_VMXE, %rbx
        VMX_GP0 movq %rbx, %cr4
        movq %cr4, %rax
        ASSERT_RAX 0x2020, msg_value

        VMX_OK vmxoff
        movq %rbx, %cr4
        movq %cr4, %rax
        ASSERT_RAX 0x20, msg_value
        ret
