/*
 * guest_unmodelled.S - a VM entry with a control whose effect the model
 * does not implement yet (VMCS shadowing, with its VMREAD and VMWRITE
 * bitmaps): the entry passes its checks, and the run ends with a "not
 * modelled" report (exit status 4) instead of running the guest without
 * it.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 31                 /* activate secondary controls */
        .set PROC2_WANT, 1 << 14                /* VMCS shadowing */
        .set EXC_BITMAP, 0
        .set NEXITS, 1

#include "guest.inc"

prepare:
        leaq scratch(%rip), %rax
        VMW 0x2026, %rax                        /* VMREAD-bitmap address */
        leaq scratch(%rip), %rax
        VMW 0x2028, %rax                        /* VMWRITE-bitmap address */
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
