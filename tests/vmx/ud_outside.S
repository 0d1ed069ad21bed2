/*
 * ud_outside.S - outside VMX operation every VMX instruction is #UD
 * (SDM Vol. 3C 31.3: "not in VMX operation" is the first #UD condition of
 * VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME,
 * VMCALL, INVEPT, INVVPID; VMFUNC is #UD outside non-root operation), and
 * VMXON is #UD while CR4.VMXE = 0.  Both with CR4.VMXE = 0 and with
 * CR4.VMXE = 1; then CR4.VMXE can be cleared again (no VMX operation yet).
 */
#include "common.inc"

.macro ALL_UD
        VMX_UD vmxoff
        VMX_UD vmclear ptr(%rip)
        VMX_UD vmptrld ptr(%rip)
        VMX_UD vmptrst ptr(%rip)
        VMX_UD vmread %rcx, %rbx
        VMX_UD vmwrite %rbx, %rcx
        VMX_UD vmlaunch
        VMX_UD vmresume
        VMX_UD vmcall
        VMX_UD invept desc(%rip), %rcx
        VMX_UD invvpid desc(%rip), %rcx
        VMX_UD vmfunc
.endm

main:
        INIT_REGION vmxon_region
        PTR vmxon_region
        movl $F_GUEST_RIP, %ecx
        /* CR4 = 0x20 in the start state: VMXE clear. */
        VMX_UD vmxon ptr(%rip)
        ALL_UD
        SET_VMXE
        /* VMXE set, but VMXON not executed: still outside VMX operation. */
        ALL_UD
        /* Outside VMX operation CR4.VMXE may be cleared (24.8 fixes it
         * only in VMX operation); VMXON is then #UD again. */
        movq %cr4, %rax
        andq $~CR4_VMXE, %rax
        movq %rax, %cr4
        movq %cr4, %rax
        ASSERT_RAX 0x20, msg_value
        VMX_UD vmxon ptr(%rip)
        ret
