/*
 * guest_tpr.S - a VM entry with a control whose effect the model does not
 * implement yet (the TPR shadow, with its virtual-APIC page): the entry
 * passes its checks, and the run ends with a "not modelled" report (exit
 * status 4) instead of running the guest without it.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 21                 /* use TPR shadow */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 1

#include "guest.inc"

prepare:
        leaq scratch(%rip), %rax
        VMW 0x2012, %rax                        /* virtual-APIC address */
at_exit:
finish:
        ret

guest_code:
        vmcall
        hlt

        .section .data
expect:
        .quad 18, 0, 3, 0
        .text
