/*
 * gp_cpl3.S - at CPL 3: VMXON is #GP(0) outside VMX operation (once
 * CR4.VMXE = 1) and in root operation; the other VMX instructions are #UD
 * outside VMX operation and #GP(0) in root operation, except VMFUNC,
 * which is #UD outside non-root operation (SDM Vol. 3C 31.3).  The #GP
 * raises CPL 3 to 0 through a 64-bit interrupt gate, on the stack
 * TSS.RSP0 names (SDM Vol. 3A 6.14.4).
 */
#include "common.inc"

main:
        call setup_user
        SET_VMXE
        INIT_REGION vmxon_region
        PTR vmxon_region
        movl $F_GUEST_RIP, %ecx
        movl $2, %edx

        /* Outside VMX operation */
        VMX_FAULT3 GP, 0, vmxon ptr(%rip)
        VMX_FAULT3 UD, 0, vmxoff
        VMX_FAULT3 UD, 0, vmptrld ptr(%rip)
        VMX_FAULT3 UD, 0, vmread %rcx, %rbx
        VMX_FAULT3 UD, 0, vmcall
        VMX_FAULT3 UD, 0, vmfunc

        /* The handler ran on the TSS.RSP0 stack: the frame was pushed
         * just below kstack_top. */
        ASSERT_MEM f_count(%rip), 6, msg_value

        VMX_OK vmxon ptr(%rip)
        DO_VMPTRLD vmcs1
        PTR vmcs1
        movl $F_GUEST_RIP, %ecx
        movl $2, %edx
        VMX_FAULT3 GP, 0, vmxon ptr(%rip)
        VMX_FAULT3 GP, 0, vmxoff
        VMX_FAULT3 GP, 0, vmclear ptr(%rip)
        VMX_FAULT3 GP, 0, vmptrld ptr(%rip)
        VMX_FAULT3 GP, 0, vmptrst ptr(%rip)
        VMX_FAULT3 GP, 0, vmread %rcx, %rbx
        VMX_FAULT3 GP, 0, vmwrite %rbx, %rcx
        VMX_FAULT3 GP, 0, vmlaunch
        VMX_FAULT3 GP, 0, vmresume
        VMX_FAULT3 GP, 0, vmcall
        /* INVEPT and INVVPID are #UD where the processor lacks them. */
        cmpb $0, have_invept(%rip)
        je 2f
        VMX_FAULT3 GP, 0, invept desc(%rip), %rdx
        jmp 3f
2:      VMX_FAULT3 UD, 0, invept desc(%rip), %rdx
3:      cmpb $0, have_invvpid(%rip)
        je 2f
        VMX_FAULT3 GP, 0, invvpid desc(%rip), %rdx
        jmp 3f
2:      VMX_FAULT3 UD, 0, invvpid desc(%rip), %rdx
3:
        VMX_FAULT3 UD, 0, vmfunc

        /* Back at CPL 0 in root operation with vmcs1 current. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:      VMX_OK vmxoff
        ret
