/*
 * entry_pending.S - VMLAUNCH of a clear current VMCS passes all the
 * checks of the VMLAUNCH pseudo-code (SDM Vol. 3C 31.3) before VM entry;
 * VM entry (its checks on controls, host and guest state, 27) is not
 * modelled yet, and the model ends the run with a "not modelled" report
 * (exit status 4).  The program prints READY first; it exits with a
 * failure if VMLAUNCH ever returns.
 */
#include "common.inc"

main:
        DO_VMXON
        DO_VMPTRLD vmcs1
        leaq msg_ready(%rip), %rsi
        call puts
        CHECK_BEGIN
        vmlaunch
        leaq msg_returned(%rip), %rsi
        jmp fail

        .section .rodata
msg_ready:      .asciz "READY\n"
msg_returned:   .asciz "VMLAUNCH returned"
        .text
