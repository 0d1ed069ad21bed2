/*
 * ud_compat.S - in compatibility mode (IA32_EFER.LMA = 1, CS.L = 0) every
 * VMX instruction is #UD, in VMX operation or not (SDM Vol. 3C 31.3: the
 * "(IA32_EFER.LMA = 1) and (CS.L = 0)" #UD condition; VMCALL checks it
 * after "not in VMX operation").  The program far-returns into the
 * 32-bit code segment 0x18; the #UD is delivered through the 64-bit IDT.
 */
#include "common.inc"

main:
        SET_VMXE
        INIT_REGION vmxon_region
        leaq vmxon_region(%rip), %rax
        movq %rax, ptr(%rip)
        movl $ptr, %esi                 /* 32-bit address of the pointer */
        COMPAT_UD vmxon (%esi)
        VMX_OK vmxon ptr(%rip)
        DO_VMPTRLD vmcs1
        movl $ptr, %esi
        movl $desc, %edi
        movl $F_GUEST_RIP, %ecx
        movl $2, %edx
        COMPAT_UD vmxon (%esi)
        COMPAT_UD vmxoff
        COMPAT_UD vmclear (%esi)
        COMPAT_UD vmptrld (%esi)
        COMPAT_UD vmptrst (%esi)
        COMPAT_UD vmread %ecx, %ebx
        COMPAT_UD vmwrite %ebx, %ecx
        COMPAT_UD vmlaunch
        COMPAT_UD vmresume
        COMPAT_UD vmcall
        COMPAT_UD invept (%edi), %edx
        COMPAT_UD invvpid (%edi), %edx
        COMPAT_UD vmfunc
        /* Back in 64-bit mode nothing has changed. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:      VMX_OK vmxoff
        ret
