/*
 * guest_nopg32.S - a 32-bit protected-mode guest without paging (CR0.PE
 * = 1, PG = 0), which only "unrestricted guest" allows (the CR0 fixed bits
 * include PG otherwise, SDM Vol. 3C 27.3.1.1, Appendix A.7), under the
 * identity EPT: CPUID (10), OUT (30), VMCALL (18).
 */
#include "common.inc"

        .set PROC_WANT, (1 << 25) | (1 << 31)
        .set PROC2_WANT, PROC2_EPT | PROC2_UNRESTRICTED
        .set EXC_BITMAP, 0
        .set NEXITS, 3

#include "guest.inc"

prepare:
        call setup_identity_ept
        VMW F_GUEST_CR0, $0x31                  /* PE, NE, ET: no PG */
        VMW F_GUEST_CR4, $0x2000
        VMR F_ENTRY_CTLS
        andl $~ENTRY_IA32E, %eax
        VMW F_ENTRY_CTLS, %rax
        VMW F_GUEST_CS_SEL, $CODE32
        VMW F_GUEST_CS_AR, $0xC09B
        orb $(1 << (0x80 % 8)), io_a + (0x80 / 8)(%rip)
        ret

at_exit:
finish:
        ret

        .code32
        .balign 16
guest_code:
        cpuid
g_out:  outb %al, $0x80
g_call: vmcall
        hlt
        .code64

        .section .data
        .balign 8
expect:
        .quad 10, 0, 2, 0
        .quad 30, (0x80 << 16) | (1 << 6), 2, g_out - guest_code
        .quad 18, 0, 3, g_call - guest_code
        .text
