/*
 * vmxon_gp.S - VMXON #GP(0) from IA32_FEATURE_CONTROL (SDM Vol. 3C
 * 31.3 VMXON; 24.7).  Run with --feature-control-unlocked, so the MSR
 * starts at 0: VMXON is #GP(0) with the lock bit clear; after WRMSR of 1
 * (lock set, "enable VMX outside SMX" bit 2 clear) it is #GP(0) again; the
 * locked MSR then refuses writes with #GP(0) and keeps its value.
 * RDMSR and WRMSR of an MSR that does not exist: #GP(0).
 */
#include "common.inc"

main:
        movl $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        ASSERT_RAX 0, msg_value
        SET_VMXE
        INIT_REGION vmxon_region
        PTR vmxon_region

        /* Lock bit clear */
        VMX_GP0 vmxon ptr(%rip)

        /* Writable while unlocked: lock, without the enable bit. */
        movl $MSR_FEATURE_CONTROL, %ecx
        movl $1, %eax
        xorl %edx, %edx
        wrmsr
        movl $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        ASSERT_RAX 1, msg_value

        /* Outside SMX operation with bit 2 clear */
        VMX_GP0 vmxon ptr(%rip)

        /* Locked: WRMSR is #GP(0) until reset, the value stays 1. */
        movl $MSR_FEATURE_CONTROL, %ecx
        movl $5, %eax
        xorl %edx, %edx
        VMX_GP0 wrmsr
        movl $MSR_FEATURE_CONTROL, %ecx
        rdmsr
        ASSERT_RAX 1, msg_value

        /* An MSR the profile does not have, and the model has no name
         * for: RDMSR and WRMSR are #GP(0) (SDM Vol. 2B RDMSR, WRMSR); the
         * trace's msr_read/msr_write events then carry no "name". */
        movl $MSR_ABSENT, %ecx
        VMX_GP0 rdmsr
        movl $MSR_ABSENT, %ecx
        movl $0x89ABCDEF, %eax
        movl $0x01234567, %edx
        VMX_GP0 wrmsr

        /* Still not in VMX operation. */
        VMX_UD vmxoff
        ret

        .set MSR_ABSENT, 0x1234
