/*
 * guest_mtf.S - a VM entry with a control whose effect the model does not
 * implement yet (the monitor trap flag): the entry passes its checks, and
 * the run ends with a "not modelled" report (exit status 4) instead of
 * running the guest without the exits it asked for.
 */
#include "common.inc"

        .set PROC_WANT, 1 << 27
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 1

#include "guest.inc"

prepare:
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
