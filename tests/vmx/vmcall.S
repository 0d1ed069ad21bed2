/*
 * vmcall.S - VMCALL (SDM Vol. 3C 31.3): #UD outside VMX operation; in VMX
 * root operation, without the dual-monitor treatment of SMIs and SMM
 * (IA32_SMM_MONITOR_CTL[0] = 0 in the model), VMfail(1): VMfailInvalid
 * without a current VMCS, VMfailValid(1) with one.
 */
#include "common.inc"

main:
        SET_VMXE
        VMX_UD vmcall
        DO_VMXON
        VMX_FAILINVALID vmcall
        DO_VMPTRLD vmcs1
        VMX_FAILVALID 1, vmcall
        VMX_OK vmxoff
        VMX_UD vmcall
        ret
