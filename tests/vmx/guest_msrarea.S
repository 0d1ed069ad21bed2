/*
 * guest_msrarea.S - the MSR areas (SDM Vol. 3C 25.7.2, 25.8.2; 16-byte
 * entries: index 31:0, reserved 63:32, data 127:64):
 *   - the VM-entry MSR-load area loads LSTAR and STAR at every VM entry
 *     (27.4): the guest reads them back;
 *   - the VM-exit MSR-store area (28.4) stores, entry by entry in order,
 *     LSTAR, STAR, KERNEL_GS_BASE and CSTAR as the guest left them; its
 *     count is 4, so a fifth entry stays as it was, and the index and
 *     reserved halves are not written;
 *   - the VM-exit MSR-load area (28.6) loads, in order, LSTAR = H1,
 *     KERNEL_GS_BASE = H2, LSTAR = H3 into the host: after the exit the
 *     host reads LSTAR = H3 (the later entry wins) and KERNEL_GS_BASE =
 *     H2; STAR, in no exit area, keeps the guest's value.
 *   1. VMCALL after the guest wrote KERNEL_GS_BASE = G3 and CSTAR = G4:
 *      stored G1 (entry-loaded), G2, G3, G4;
 *   2. VMCALL after the guest (resumed: LSTAR = G1 loaded again,
 *      KERNEL_GS_BASE = H2 as the host left it) wrote LSTAR = G5: stored
 *      G5, G2, H2, G4.
 */
#include "common.inc"

        .set PROC_WANT, PROC_MSR_BM             /* no MSR exits: bitmap 0 */
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 2
        .set F_EXIT_STORE, 0x2006
        .set F_EXIT_LOAD, 0x2008
        .set F_EXIT_STORE_COUNT, 0x400E
        .set F_EXIT_LOAD_COUNT, 0x4010
        .set LSTAR, 0xC0000082
        .set STAR, 0xC0000081
        .set CSTAR, 0xC0000083
        .set KGSBASE, 0xC0000102
        .set G1, 0xFFFF800000001000
        .set G2, 0x0013000800000000
        .set G3, 0x00007F0000002000
        .set G4, 0xFFFF800000003000
        .set G5, 0xFFFF800000005000
        .set H1, 0xFFFF8000000A0000
        .set H2, 0xFFFF8000000B0000
        .set H3, 0xFFFF8000000C0000
        .set UNTOUCHED, 0x5A5A5A5A5A5A5A5A

#include "guest.inc"

prepare:
        leaq entry_area(%rip), %rax
        VMW F_ENTRY_MSR_LOAD, %rax
        VMW F_ENTRY_MSR_COUNT, $2
        leaq store_area(%rip), %rax
        VMW F_EXIT_STORE, %rax
        VMW F_EXIT_STORE_COUNT, $4
        leaq load_area(%rip), %rax
        VMW F_EXIT_LOAD, %rax
        VMW F_EXIT_LOAD_COUNT, $3
        ret

/* The store area must hold \a, \b, \c, \d (and the indexes, reserved
 * halves and fifth entry as they were). */
.macro STORED a, b, c, d
        .irp n, 0, 1, 2, 3
        CHECK_BEGIN
        movq store_area + 16 * \n(%rip), %rax
        leaq store_idx(%rip), %rdx
        cmpq 8 * \n(%rdx), %rax
        je .Li\@_\n
        leaq msg_index(%rip), %rsi
        jmp fail
.Li\@_\n:
        .endr
        CHECK_BEGIN
        ASSERT_MEM store_area + 8(%rip), \a, msg_store
        CHECK_BEGIN
        ASSERT_MEM store_area + 24(%rip), \b, msg_store
        CHECK_BEGIN
        ASSERT_MEM store_area + 40(%rip), \c, msg_store
        CHECK_BEGIN
        ASSERT_MEM store_area + 56(%rip), \d, msg_store
        CHECK_BEGIN
        ASSERT_MEM store_area + 72(%rip), UNTOUCHED, msg_fifth
.endm

/* RAX = MSR \msr (clobbers RCX, RDX). */
.macro RDMSR64 msr
        movl $\msr, %ecx
        rdmsr
        shlq $32, %rdx
        orq %rdx, %rax
.endm

.macro WRMSR64 msr, value
        movl $\msr, %ecx
        movabsq $\value, %rax
        movq %rax, %rdx
        shrq $32, %rdx
        wrmsr
.endm

/* The host's view after each exit. */
.macro HOST_MSRS
        RDMSR64 LSTAR
        CHECK_BEGIN
        ASSERT_RAX H3, msg_host_lstar
        RDMSR64 KGSBASE
        CHECK_BEGIN
        ASSERT_RAX H2, msg_host_kgs
        RDMSR64 STAR
        CHECK_BEGIN
        ASSERT_RAX G2, msg_host_star
.endm

at_exit:
        cmpq $1, %rbx
        jne 1f
        STORED G1, G2, G3, G4
        HOST_MSRS
        ret
1:      STORED G5, G2, H2, G4
        HOST_MSRS
        ret

finish:
        ret

        .balign 16
guest_code:
        RDMSR64 LSTAR                           /* loaded by VM entry */
        CHECK_BEGIN
        ASSERT_RAX G1, msg_guest_lstar
        RDMSR64 STAR
        CHECK_BEGIN
        ASSERT_RAX G2, msg_guest_star
        WRMSR64 KGSBASE, G3
        WRMSR64 CSTAR, G4
g_call: vmcall                                  /* 1 */
        RDMSR64 LSTAR                           /* loaded again */
        CHECK_BEGIN
        ASSERT_RAX G1, msg_guest_lstar
        RDMSR64 KGSBASE                         /* the host's */
        CHECK_BEGIN
        ASSERT_RAX H2, msg_guest_kgs
        WRMSR64 LSTAR, G5
g_call2: vmcall                                 /* 2 */
        hlt

        .section .data
        .balign 16
entry_area:
        .long LSTAR, 0
        .quad G1
        .long STAR, 0
        .quad G2
store_area:
        .long LSTAR, 0
        .quad UNTOUCHED
        .long STAR, 0
        .quad UNTOUCHED
        .long KGSBASE, 0
        .quad UNTOUCHED
        .long CSTAR, 0
        .quad UNTOUCHED
        .long LSTAR, 0                          /* beyond the count */
        .quad UNTOUCHED
load_area:
        .long LSTAR, 0
        .quad H1
        .long KGSBASE, 0
        .quad H2
        .long LSTAR, 0
        .quad H3
/* The first qword of each store-area entry: index, reserved 0. */
store_idx:
        .quad LSTAR, STAR, KGSBASE, CSTAR
expect:
        .quad 18, 0, 3, g_call - guest_code
        .quad 18, 0, 3, g_call2 - guest_code

        .section .rodata
msg_index:       .asciz "MSR-store area: index and reserved half"
msg_store:       .asciz "MSR-store area: value"
msg_fifth:       .asciz "MSR-store area: entry beyond the count"
msg_host_lstar:  .asciz "host LSTAR after the exit"
msg_host_kgs:    .asciz "host KERNEL_GS_BASE after the exit"
msg_host_star:   .asciz "host STAR after the exit"
msg_guest_lstar: .asciz "guest LSTAR after VM entry"
msg_guest_star:  .asciz "guest STAR after VM entry"
msg_guest_kgs:   .asciz "guest KERNEL_GS_BASE after VM entry"
        .text
