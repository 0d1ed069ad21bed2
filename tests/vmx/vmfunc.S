/*
 * vmfunc.S - VMFUNC is #UD outside VMX non-root operation (SDM Vol. 3C
 * 31.3 VMFUNC): outside VMX operation, and in VMX root operation with and
 * without a current VMCS, whatever EAX holds.
 */
#include "common.inc"

main:
        xorl %eax, %eax
        VMX_UD vmfunc
        DO_VMXON
        xorl %eax, %eax
        VMX_UD vmfunc
        DO_VMPTRLD vmcs1
        xorl %eax, %eax
        VMX_UD vmfunc
        movl $64, %eax
        VMX_UD vmfunc
        VMX_OK vmxoff
        ret
