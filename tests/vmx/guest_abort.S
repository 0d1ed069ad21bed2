/*
 * guest_abort.S - a VMX abort (SDM Vol. 3C 28.7): a problem while the VM
 * exit loads host state ends it; the processor writes a nonzero VMX-abort
 * indicator to bytes 4-7 of the VMCS region and shuts down (nothing runs
 * afterwards: the host never sees the exit).  The guest's VMCALL exits
 * and:
 *   (this file) the VM-exit MSR-load area's second entry writes the
 *      locked IA32_FEATURE_CONTROL, which WRMSR would #GP (28.6):
 *      indicator 4, "failure on loading host MSRs";
 *   ABORT_STORE (guest_abort_store.S): the VM-exit MSR-store area's
 *      second entry has bits 63:32 not 0 (28.4): indicator 1, "failure
 *      in saving guest MSRs";
 *   ABORT_FSBASE (guest_abort_fsbase.S): the VM-exit MSR-load area loads
 *      IA32_FS_BASE, which 28.6 lists as a failing entry: indicator 4.
 * The first entry of each area is valid (LSTAR).  If the host gets
 * control, the check in at_exit fails.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 1
        .set F_EXIT_STORE, 0x2006
        .set F_EXIT_LOAD, 0x2008
        .set F_EXIT_STORE_COUNT, 0x400E
        .set F_EXIT_LOAD_COUNT, 0x4010

#include "guest.inc"

prepare:
        leaq area(%rip), %rax
        .ifdef ABORT_STORE
        VMW F_EXIT_STORE, %rax
        VMW F_EXIT_STORE_COUNT, $2
        .else
        VMW F_EXIT_LOAD, %rax
        VMW F_EXIT_LOAD_COUNT, $2
        .endif
        ret

at_exit:
        CHECK_BEGIN
        xorl %eax, %eax
        leaq msg_noabort(%rip), %rsi
        jmp fail

finish:
        ret

        .balign 16
guest_code:
g_call: vmcall
        hlt

        .section .data
        .balign 16
area:
        .long 0xC0000082, 0                     /* LSTAR */
        .quad 0xFFFF800000001000
        .ifdef ABORT_STORE
        .long 0xC0000081, 1                     /* STAR, bits 63:32 = 1 */
        .quad 0
        .else
        .ifdef ABORT_FSBASE
        .long 0xC0000100, 0                     /* IA32_FS_BASE */
        .quad 0
        .else
        .long 0x3A, 0                           /* IA32_FEATURE_CONTROL */
        .quad 5
        .endif
        .endif
expect:
        .quad 18, 0, 3, g_call - guest_code

        .section .rodata
msg_noabort: .asciz "the VM exit completed: no VMX abort"
        .text
