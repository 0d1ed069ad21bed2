/*
 * vmxon.S - VMXON outcomes (SDM Vol. 3C 31.3 VMXON pseudo-code): the
 * VMfailInvalid cases outside VMX operation (pointer not 4 KiB aligned,
 * pointer with bits beyond the physical-address width, wrong revision
 * identifier, revision bit 31 set, a region outside RAM reading all
 * ones), success, then VMXON in VMX root operation: VMfailInvalid
 * without a current VMCS and VMfailValid(15) with one.
 */
#include "common.inc"

main:
        SET_VMXE
        INIT_REGION vmxon_region

        /* addr is not 4KB-aligned */
        PTR vmxon_region + 0x10
        VMX_FAILINVALID vmxon ptr(%rip)
        PTR vmxon_region + 1
        VMX_FAILINVALID vmxon ptr(%rip)

        /* addr sets bits beyond the physical-address width (MAXPHYADDR
         * from CPUID.80000008H:EAX[7:0], or 32 if IA32_VMX_BASIC[48]) */
        leaq vmxon_region(%rip), %rax
        orq pa_limit(%rip), %rax
        movq %rax, ptr(%rip)
        VMX_FAILINVALID vmxon ptr(%rip)
        movq $-4096, %rax
        movq %rax, ptr(%rip)
        VMX_FAILINVALID vmxon ptr(%rip)

        /* rev[30:0] != the VMCS revision identifier */
        PTR vmxon_region
        movl vmcs_rev(%rip), %eax
        xorl $1, %eax
        movl %eax, vmxon_region(%rip)
        VMX_FAILINVALID vmxon ptr(%rip)
        movl $0, vmxon_region(%rip)
        VMX_FAILINVALID vmxon ptr(%rip)

        /* rev[31] = 1 (a shadow-VMCS indicator is never valid for VMXON) */
        movl vmcs_rev(%rip), %eax
        orl $0x80000000, %eax
        movl %eax, vmxon_region(%rip)
        VMX_FAILINVALID vmxon ptr(%rip)

        /* A region at 1 GiB, beyond the 256 MiB of RAM but within the
         * physical-address width: the read returns all ones, so bit 31 of
         * the revision is set. */
        PTR 0x40000000
        VMX_FAILINVALID vmxon ptr(%rip)

        /* Still outside VMX operation after all of these. */
        VMX_UD vmxoff

        /* Success: VMX root operation, no current VMCS. */
        INIT_REGION vmxon_region
        PTR vmxon_region
        VMX_OK vmxon ptr(%rip)
        VMX_OK vmptrst ptr2(%rip)
        ASSERT_MEM ptr2(%rip), -1, msg_value

        /* VMXON in VMX root operation: VMfail(15), i.e. VMfailInvalid
         * without a current VMCS ... */
        VMX_FAILINVALID vmxon ptr(%rip)
        /* ... (the operand is not even read: an unaligned pointer gives
         * the same outcome) ... */
        PTR vmxon_region + 8
        VMX_FAILINVALID vmxon ptr(%rip)
        /* ... and VMfailValid(15) with one. */
        DO_VMPTRLD vmcs1
        PTR vmxon_region
        VMX_FAILVALID 15, vmxon ptr(%rip)
        /* The failed VMXON left the current VMCS in place. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:
        VMX_OK vmxoff
        ret
