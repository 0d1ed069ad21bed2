/*
 * guest_vmfunc.S - VMFUNC in VMX non-root operation (SDM Vol. 3C 31.3
 * VMFUNC, 26.5.6): EPTP switching (function 0) to a valid EPTP from the
 * EPTP list does not exit; to an invalid one it exits (59); a function the
 * VM-function controls do not enable exits (59).  Then an injected "other
 * event" (type 7) makes an MTF VM exit (37) pending right after VM entry
 * (27.6.2).
 */
#include "common.inc"

        .set PROC_WANT, 1 << 31
        .set PROC2_WANT, (1 << 1) | (1 << 13)   /* EPT, VM functions */
        .set EXC_BITMAP, 0
        .set NEXITS, 4

#include "guest.inc"

prepare:
        call setup_identity_ept
        VMR F_EPTP
        movq %rax, eptp_list(%rip)              /* entry 0: the same EPT */
        movq $0x2005, eptp_list + 8(%rip)       /* entry 1: memory type 5 */
        leaq eptp_list(%rip), %rax
        VMW 0x2024, %rax                        /* EPTP-list address */
        VMW 0x2018, $1                          /* EPTP switching only */
        ret

at_exit:
        cmpq $2, %rbx
        jne 1f
        VMW 0x4016, $0x80000700                 /* inject: other event (MTF) */
1:      ret

finish:
        ret

        .balign 16
guest_code:
        xorl %eax, %eax
        xorl %ecx, %ecx
        vmfunc                                  /* switch to entry 0: no exit */
        movl $1, %ecx
g_vf2:  vmfunc                                  /* entry 1 invalid: 59 */
        movl $1, %eax
g_vf3:  vmfunc                                  /* function 1: 59 */
g_call: vmcall                                  /* MTF 37 first, then 18 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 59, 0, 3, g_vf2 - guest_code
        .quad 59, 0, 3, g_vf3 - guest_code
        .quad 37, 0, 0, g_call - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .bss
        .balign 4096
eptp_list: .skip 4096
        .text
