/*
 * vmlaunch.S - the checks VMLAUNCH and VMRESUME make before VM entry
 * (SDM Vol. 3C 31.3 VMLAUNCH/VMRESUME pseudo-code, in its order):
 * VMfailInvalid without a current VMCS; VMfailValid(26) right after MOV
 * SS (events blocked by MOV SS, 25.4.2), checked before the launch state;
 * VMRESUME of a clear VMCS: VMfailValid(5); VMLAUNCH of a launched one:
 * VMfailValid(4); VMRESUME of one that was launched before VMXOFF and
 * VMXON: VMfailValid(6).
 *
 * VM entry itself is not modelled yet, so no VMCS can become launched by
 * executing VMLAUNCH.  The program makes one by writing the launch state
 * into the region before VMPTRLD, through the model's region layout
 * (docs/vmcs-layout.md: a 32-bit launch state at offset 8, 0 clear,
 * 1 launched; VMXOFF writes an active launched VMCS back as 2, "launched
 * before VMXOFF").  That is specific to the model: hardware's region
 * format is implementation-specific.
 */
#include "common.inc"

.macro VMX_FAILINVALID_PRE pre, insn
        .set PRE, \pre
        VMX_FAILINVALID \insn
.endm

.macro VMX_FAILVALID_PRE err, pre, insn
        .set PRE, \pre
        VMX_FAILVALID \err, \insn
.endm

        .set LAUNCH_OFF, 8

main:
        DO_VMXON
        VMX_FAILINVALID vmlaunch
        VMX_FAILINVALID vmresume
        /* even after MOV SS: the current-VMCS check comes first */
        movw %ss, %bx
        VMX_FAILINVALID_PRE PRE_MOVSS, vmlaunch

        DO_VMPTRLD vmcs1
        VMX_FAILVALID 5, vmresume
        /* Blocking by MOV SS comes before the launch-state checks. */
        VMX_FAILVALID_PRE 26, PRE_MOVSS, vmresume
        VMX_FAILVALID_PRE 26, PRE_MOVSS, vmlaunch
        /* MOV SS from memory blocks too. */
        movw %bx, scratch(%rip)
        VMX_FAILVALID_PRE 26, PRE_MOVSS_MEM, vmlaunch
        /* The blocking lasts one instruction only. */
        VMX_FAILVALID_PRE 5, PRE_MOVSS_NOP, vmresume

        /* A launched VMCS (see above). */
        INIT_REGION vmcs2
        movl $1, vmcs2 + LAUNCH_OFF(%rip)
        PTR vmcs2
        VMX_OK vmptrld ptr(%rip)
        VMX_FAILVALID 4, vmlaunch
        VMX_FAILVALID_PRE 26, PRE_MOVSS, vmresume

        /* VMXOFF and VMXON between VMLAUNCH and VMRESUME: error 6. */
        VMX_OK vmxoff
        PTR vmxon_region
        VMX_OK vmxon ptr(%rip)
        PTR vmcs2
        VMX_OK vmptrld ptr(%rip)
        VMX_FAILVALID 6, vmresume
        VMX_FAILVALID 4, vmlaunch

        /* VMCLEAR makes it clear again: VMRESUME gives 5. */
        VMX_OK vmclear ptr(%rip)
        VMX_OK vmptrld ptr(%rip)
        VMX_FAILVALID 5, vmresume
        VMX_OK vmxoff
        ret
