/*
 * guest_fail.S - VM entries that fail after the checks on the controls
 * and the host state, and so exit to the host (SDM Vol. 3C 27.8) with
 * exit reason bit 31 set:
 *   1. guest CS of type 1 (27.3.1.2): reason 33 (invalid guest state),
 *      qualification 0;
 *   2. a VMCS link pointer whose region has the wrong revision
 *      (27.3.1.5): reason 33, qualification 4;
 *   3. a VM-entry MSR-load area whose first entry writes the locked
 *      IA32_FEATURE_CONTROL (27.4): reason 34, qualification 1 (the
 *      failing entry);
 * then a good entry, and the guest's VMCALL exits (18).  guest.inc
 * launches again after each failure (the VMCS stays clear).  Then, with
 * the VMCS launched by that entry: VMLAUNCH fails with error 4 (VMLAUNCH
 * with non-clear VMCS); after VMXOFF, VMXON and VMPTRLD of the same VMCS
 * (not cleared), VMRESUME fails with error 6 (VMRESUME after VMXOFF).
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 4

#include "guest.inc"

prepare:
        VMW F_GUEST_CS_AR, $0xA091       /* type 1: not a code segment */
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMW F_GUEST_CS_AR, $0xA09B       /* fix CS */
        leaq bad_link(%rip), %rax
        movl $0x7fffffff, (%rax)         /* not the VMCS revision */
        VMW F_LINK_PTR, %rax
        ret
1:      cmpq $2, %rbx
        jne 2f
        VMW F_LINK_PTR, $-1
        leaq msr_area(%rip), %rax
        movl $0x3A, (%rax)               /* IA32_FEATURE_CONTROL: locked */
        movq $5, 8(%rax)
        VMW F_ENTRY_MSR_LOAD, %rax
        VMW F_ENTRY_MSR_COUNT, $1
        ret
2:      cmpq $3, %rbx
        jne 3f
        VMW F_ENTRY_MSR_COUNT, $0
3:      ret

finish:
        CHECK_BEGIN
        VMX_FAILVALID 4, vmlaunch
        CHECK_BEGIN
        VMX_OK vmxoff
        PTR vmxon_region
        CHECK_BEGIN
        VMX_OK vmxon ptr(%rip)
        PTR vmcs1
        CHECK_BEGIN
        VMX_OK vmptrld ptr(%rip)
        CHECK_BEGIN
        VMX_FAILVALID 6, vmresume
        ret

        .balign 16
guest_code:
g_call: vmcall                           /* exit 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 0x80000021, 0, 0, 0
        .quad 0x80000021, 4, 0, 0
        .quad 0x80000022, 1, 0, 0
        .quad 18, 0, 3, g_call - guest_code

        .section .bss
        .balign 4096
bad_link:    .skip 4096
        .balign 16
msr_area:    .skip 16
        .text
