/*
 * vmcs_ptr.S - VMCLEAR, VMPTRLD and VMPTRST (SDM Vol. 3C 31.3): VMPTRST
 * storing FFFFFFFF_FFFFFFFFH without a current VMCS and the pointer with
 * one; VMCLEAR errors 2 and 3 and VMPTRLD errors 9, 10 and 11, first as
 * VMfailInvalid (no current VMCS), then as VMfailValid; the shadow-VMCS
 * indicator (revision bit 31) accepted by VMPTRLD only if VMCS shadowing
 * may be enabled; VMCLEAR of the current VMCS making it not current; a
 * VMCS keeping its contents across VMCLEAR + VMPTRLD at the same address,
 * and two VMCSs active at once.
 */
#include "common.inc"

/* Fail unless VMPTRST stores \value. */
.macro PTRST_IS value
        movq $0, ptr2(%rip)
        VMX_OK vmptrst ptr2(%rip)
        movq ptr2(%rip), %rax
        ASSERT_RAX \value, msg_value
.endm

/* Fail unless VMREAD of field \enc gives \value. */
.macro READ_IS enc, value
        movl $\enc, %ecx
        movq $-1, %rbx
        VMX_OK vmread %rcx, %rbx
        movq %rbx, %rax
        ASSERT_RAX \value, msg_value
.endm

.macro WRITE enc, value
        movl $\enc, %ecx
        movabsq $\value, %rbx
        VMX_OK vmwrite %rbx, %rcx
.endm

/* ptr := the region \region OR'd with bit pa_width (beyond the width). */
.macro PTR_BEYOND region
        leaq \region(%rip), %rax
        orq pa_limit(%rip), %rax
        movq %rax, ptr(%rip)
.endm

main:
        DO_VMXON
        PTRST_IS -1

        /* No current VMCS: VMfail() is VMfailInvalid. */
        PTR vmcs1 + 0x800
        VMX_FAILINVALID vmclear ptr(%rip)
        PTR_BEYOND vmcs1
        VMX_FAILINVALID vmclear ptr(%rip)
        PTR vmxon_region
        VMX_FAILINVALID vmclear ptr(%rip)
        PTR vmcs1 + 4
        VMX_FAILINVALID vmptrld ptr(%rip)
        PTR_BEYOND vmcs1
        VMX_FAILINVALID vmptrld ptr(%rip)
        PTR vmxon_region
        VMX_FAILINVALID vmptrld ptr(%rip)
        movl vmcs_rev(%rip), %eax
        xorl $1, %eax
        movl %eax, vmcs2(%rip)
        PTR vmcs2
        VMX_FAILINVALID vmptrld ptr(%rip)
        PTRST_IS -1

        /* A current VMCS: VMfailValid with the error number. */
        DO_VMPTRLD vmcs1
        PTRST_IS vmcs1
        PTR vmcs2 + 0x800
        VMX_FAILVALID 2, vmclear ptr(%rip)
        PTR_BEYOND vmcs2
        VMX_FAILVALID 2, vmclear ptr(%rip)
        PTR vmxon_region
        VMX_FAILVALID 3, vmclear ptr(%rip)
        PTR vmcs2 + 4
        VMX_FAILVALID 9, vmptrld ptr(%rip)
        PTR_BEYOND vmcs2
        VMX_FAILVALID 9, vmptrld ptr(%rip)
        PTR vmxon_region
        VMX_FAILVALID 10, vmptrld ptr(%rip)
        PTR vmcs2                     /* revision ^ 1, from above */
        VMX_FAILVALID 11, vmptrld ptr(%rip)
        movl $0, vmcs2(%rip)
        VMX_FAILVALID 11, vmptrld ptr(%rip)
        /* The failures left vmcs1 current. */
        PTRST_IS vmcs1

        /* Revision bit 31 (shadow VMCS): valid only if "VMCS shadowing"
         * (secondary control bit 14) may be 1 (IA32_VMX_PROCBASED_CTLS2
         * bit 46). */
        movl vmcs_rev(%rip), %eax
        orl $0x80000000, %eax
        movl %eax, vmcs3(%rip)
        PTR vmcs3
        testl $(1 << 14), procbased2_hi(%rip)
        jz 1f
        VMX_OK vmptrld ptr(%rip)
        PTRST_IS vmcs3
        VMX_OK vmclear ptr(%rip)
        jmp 2f
1:      VMX_FAILVALID 11, vmptrld ptr(%rip)
2:
        /* VMCLEAR of the current VMCS: no current VMCS afterwards. */
        DO_VMPTRLD vmcs1
        WRITE F_GUEST_RIP, 0x123456789ABCDEF0
        WRITE F_GUEST_ES_SEL, 0x1234
        WRITE F_LINK_PTR, 0x0011223344556677
        PTR vmcs1
        VMX_OK vmclear ptr(%rip)
        PTRST_IS -1
        movl $F_GUEST_RIP, %ecx
        VMX_FAILINVALID vmread %rcx, %rbx
        /* VMCLEAR of a VMCS that is not active succeeds too. */
        PTR vmcs2
        VMX_OK vmclear ptr(%rip)

        /* Another VMCS current in between, then vmcs1 again: its
         * contents survived VMCLEAR (written to its region) and VMPTRLD. */
        DO_VMPTRLD vmcs2
        WRITE F_GUEST_RIP, 0x2222
        DO_VMPTRLD vmcs1
        PTRST_IS vmcs1
        READ_IS F_GUEST_RIP, 0x123456789ABCDEF0
        READ_IS F_GUEST_ES_SEL, 0x1234
        READ_IS F_LINK_PTR, 0x0011223344556677
        /* vmcs2 stayed active with its own value. */
        PTR vmcs2
        VMX_OK vmptrld ptr(%rip)
        READ_IS F_GUEST_RIP, 0x2222
        VMX_OK vmxoff
        ret
