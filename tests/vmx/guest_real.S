/*
 * guest_real.S - a real-mode guest (CR0.PE = 0) under "unrestricted
 * guest", which needs EPT (SDM Vol. 3C 27.2.1.1); the EPT maps guest
 * memory one to one (guest.inc: setup_identity_ept), the one EPT the model
 * runs before two-level translation.  The guest's CS base is guest_code,
 * so its RIP is an offset in CS: CPUID (exit 10), OUT (30) and VMCALL
 * (18, which exits in every mode) from 16-bit code.
 */
#include "common.inc"

        .set PROC_WANT, (1 << 25) | (1 << 31)   /* I/O bitmaps, secondary */
        .set PROC2_WANT, PROC2_EPT | PROC2_UNRESTRICTED
        .set EXC_BITMAP, 0
        .set NEXITS, 3

#include "guest.inc"

prepare:
        call setup_identity_ept
        VMW F_GUEST_CR0, $0x30                  /* NE, ET: no PE, no PG */
        VMW F_GUEST_CR4, $0x2000                /* VMXE */
        VMR F_ENTRY_CTLS
        andl $~ENTRY_IA32E, %eax
        VMW F_ENTRY_CTLS, %rax
        leaq guest_code(%rip), %rax
        movq %rax, %rbx
        shrq $4, %rax
        VMW F_GUEST_CS_SEL, %rax
        VMW F_GUEST_CS_BASE, %rbx
        VMW F_GUEST_CS_LIMIT, $0xFFFF
        VMW F_GUEST_CS_AR, $0x9B                /* 16-bit code, DPL 0 */
        call real_mode_data_segments
        VMW F_GUEST_RIP, $0
        VMW F_GUEST_RSP, $0xFFF0
        movq $0, rip_base(%rip)                 /* RIP is the offset in CS */
        orb $(1 << (0x80 % 8)), io_a + (0x80 / 8)(%rip)
        ret

at_exit:
finish:
        ret

        .code16
        .balign 16
guest_code:
        cpuid                                   /* exit 10 */
g_out:  outb %al, $0x80                         /* exit 30 */
g_call: vmcall                                  /* exit 18 */
        hlt
        .code64

        .section .data
        .balign 8
expect:
        .quad 10, 0, 2, 0
        .quad 30, (0x80 << 16) | (1 << 6), 2, g_out - guest_code
        .quad 18, 0, 3, g_call - guest_code
        .text
