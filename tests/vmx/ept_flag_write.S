/*
 * ept_flag_write.S - without EPT accessed and dirty flags, reading a
 * guest paging-structure entry needs EPT read access only, but setting
 * its accessed flag is a data write to its guest-physical address (SDM
 * Vol. 3C 29.3.3.2).  The guest PT of linear 0xE00000 lies in a page
 * EPT maps read-only: a read through a PTE whose accessed flag is clear
 * is an EPT violation with qualification 0x8A (write; readable;
 * guest-linear address valid; bit 8 clear: a paging-structure access),
 * the PTE's guest-physical address and the linear address read.
 */
#include "common.inc"

        .set PROC_WANT, PROC_2ND
        .set PROC2_WANT, PROC2_EPT
        .set EXC_BITMAP, 0
        .set NEXITS, 2
        .set PT_RO, 0x828000        /* the guest PT, EPT read-only */
        .set PAGE,  0x829000        /* the page its entry 0 maps */
        .set LA,    0xE00000

#include "guest.inc"
#include "ept.inc"

prepare:
        call setup_split_ept
        movq $(PT_RO | (6 << 3) | 1), EPT_PTE(PT_RO)(%rip)
        movq $(PAGE | 3), PT_RO                  /* accessed flag clear */
        movq $(PT_RO | 3), 0x3000 + (LA >> 21) * 8
        movq %cr3, %rax
        movq %rax, %cr3
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMR 0x2400
        CHECK_BEGIN
        ASSERT_RAX PT_RO, msg_value              /* the PTE */
        VMR 0x640A
        CHECK_BEGIN
        ASSERT_RAX LA + 8, msg_value
        CHECK_BEGIN
        movq PT_RO, %rax
        ASSERT_RAX PAGE | 3, msg_value           /* not written */
1:      ret

finish:
        ret

        .balign 16
guest_code:
        movl $(LA + 8), %ecx
g1:     movq (%rcx), %r13
g2:     vmcall

        .section .data
        .balign 8
expect:
        .quad 48, 0x8A, 3, g1 - guest_code
        .quad 18, 0, 3, g2 - guest_code
        .text
