/*
 * vmxoff.S - VMXOFF (SDM Vol. 3C 31.3) leaves VMX operation: afterwards
 * every VMX instruction is #UD again, CR4.VMXE may be cleared (it is
 * fixed to 1 only in VMX operation, 24.8), and a new VMXON starts with
 * no current VMCS.
 */
#include "common.inc"

main:
        DO_VMXON
        DO_VMPTRLD vmcs1
        VMX_OK vmxoff
        PTR vmcs1
        movl $F_GUEST_RIP, %ecx
        movl $2, %edx
        VMX_UD vmxoff
        VMX_UD vmclear ptr(%rip)
        VMX_UD vmptrld ptr(%rip)
        VMX_UD vmptrst ptr(%rip)
        VMX_UD vmread %rcx, %rbx
        VMX_UD vmwrite %rbx, %rcx
        VMX_UD vmlaunch
        VMX_UD vmresume
        VMX_UD vmcall
        VMX_UD invept desc(%rip), %rdx
        VMX_UD invvpid desc(%rip), %rdx
        VMX_UD vmfunc

        /* VMXON again: no current VMCS. */
        PTR vmxon_region
        VMX_OK vmxon ptr(%rip)
        VMX_OK vmptrst ptr2(%rip)
        ASSERT_MEM ptr2(%rip), -1, msg_value
        VMX_FAILINVALID vmread %rcx, %rbx
        VMX_OK vmxoff

        /* CR4.VMXE can be cleared now; VMXON is #UD without it. */
        movq %cr4, %rax
        andq $~CR4_VMXE, %rax
        movq %rax, %cr4
        VMX_UD vmxon ptr(%rip)
        ret
