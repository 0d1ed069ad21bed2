/*
 * guest_timer.S - a VM entry with a control whose effect the model does
 * not implement yet (the VMX-preemption timer, which needs the cycle
 * model): the entry passes its checks, and the run ends with a "not
 * modelled" report (exit status 4) instead of running the guest without
 * the exit it asked for.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 1

#include "guest.inc"

prepare:
        VMR F_PIN
        orl $(1 << 6), %eax                     /* activate VMX-preemption timer */
        VMW F_PIN, %rax
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
