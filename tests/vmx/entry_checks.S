/*
 * entry_checks.S - VMLAUNCH/VMRESUME that pass their own checks (SDM
 * Vol. 3C 31.3) but fail VM entry's checks before any state is loaded:
 *   - an unconfigured VMCS (all controls 0) fails the pin-based controls'
 *     reserved bits (27.2.1.1): VMfailValid(7), "VM entry with invalid
 *     control field(s)";
 *   - with valid controls but an empty host-state area, host CR0 lacks
 *     its fixed bits (27.2.2): VMfailValid(8), "VM entry with invalid
 *     host-state field(s)";
 * and the VMCS stays clear: VMRESUME still fails with error 5.
 */
#include "common.inc"

main:
        DO_VMXON
        DO_VMPTRLD vmcs1
        CHECK_BEGIN
        VMX_FAILVALID 7, vmlaunch
        /* The controls each capability MSR requires (the TRUE_ ones
         * where IA32_VMX_BASIC[55] says so), plus a 64-bit host. */
        movl $0x481, %ecx
        movl $0x4000, %r9d
        call write_ctl
        movl $0x482, %ecx
        movl $0x4002, %r9d
        call write_ctl
        movl $0x483, %ecx
        movl $0x400C, %r9d
        call write_ctl
        movl $0x484, %ecx
        movl $0x4012, %r9d
        call write_ctl
        movl $0x400C, %r9d                /* host address-space size */
        vmread %r9, %r8
        orq $(1 << 9), %r8
        VMX_OK vmwrite %r8, %r9
        CHECK_BEGIN
        VMX_FAILVALID 8, vmlaunch
        CHECK_BEGIN
        VMX_FAILVALID 5, vmresume
        ret

/* VMWRITE field R9 with the allowed-0 bits of capability MSR ECX (or of
 * its TRUE_ counterpart, ECX + 0xC). */
write_ctl:
        btl $23, vmx_basic_hi(%rip)
        jnc 1f
        addl $0xC, %ecx
1:      rdmsr
        movl %eax, %r8d
        VMX_OK vmwrite %r8, %r9
        ret
