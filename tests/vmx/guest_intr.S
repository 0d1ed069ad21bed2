/*
 * guest_intr.S - the interruptibility state every VM exit saves (SDM Vol.
 * 3C 28.3.4, Table 25-3) while the guest's blocking changes (27.7.1, 26.3):
 *   1. STI with RFLAGS.IF = 0 then CPUID: blocking by STI (1);
 *   2. MOV to SS then CPUID: blocking by MOV SS (2);
 *   3. one instruction later: none;
 *   4. entered with virtual-NMI blocking (virtual NMIs): CPUID saves 8;
 *   5. after an IRET: 0;
 *   6. an injected NMI: its handler's CPUID saves 8 (27.6.1.2);
 *   7. after the handler's IRET: 0;
 *   8. the same without NMI exiting and virtual NMIs: blocking by NMI, 8;
 *   9. ended by the IRET: 0;
 *  10. with NMI exiting but not virtual NMIs, IRET leaves blocking by NMI
 *      (27.7.1): 8;
 *  11. an IRET that faults (#GP, exception bitmap) ends virtual-NMI
 *      blocking: 0 saved, and bit 12 of the VM-exit interruption
 *      information, "NMI unblocking due to IRET" (28.2.2);
 *  12. a vectoring VM entry (injected #UD) with blocking by STI in the
 *      field: no blocking after it, 0;
 *  13. a VM entry with blocking by STI and no event: the first
 *      instruction's exit saves 1;
 *  14. injecting an NMI with blocking by STI fails (33) with exit
 *      qualification 3 (27.8).
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 14
        .set F_ENTRY_INTR, 0x4016
        .set F_INTR_STATE, 0x4824
        .set PIN_NMI, 1 << 3
        .set PIN_VNMI, 1 << 5

#include "guest.inc"

/* A 64-bit trap gate (IF is left alone) for vector RDI to the handler at
 * RSI in guest_idt. */
        DEFINE_SET_GATE 0x8F

prepare:
        movl $2, %edi
        leaq h_nmi(%rip), %rsi
        call set_gate
        movl $6, %edi
        leaq h_ud(%rip), %rsi
        call set_gate
        leaq guest_idt(%rip), %rax
        VMW 0x6818, %rax                        /* IDTR base */
        VMW 0x4812, $(7 * 16 - 1)
        ret

/* RBX = the exit's number: check the saved interruptibility, then set up
 * the next entry.  By default the VMM keeps the saved state without
 * blocking by STI and MOV SS (it skips the instruction, as a VMM does). */
at_exit:
        VMR F_INTR_STATE
        leaq intr_expect - 8(%rip), %rcx
        CHECK_BEGIN
        cmpq (%rcx,%rbx,8), %rax
        je 1f
        leaq msg_intr(%rip), %rsi
        jmp fail
1:      andl $~3, %eax
        VMW F_INTR_STATE, %rax
        cmpq $3, %rbx
        jne 2f
        VMR F_PIN                               /* NMI exiting, virtual NMIs */
        orl $(PIN_NMI | PIN_VNMI), %eax
        VMW F_PIN, %rax
        VMW F_INTR_STATE, $8                    /* virtual-NMI blocking */
        ret
2:      cmpq $5, %rbx
        jne 3f
        VMW F_ENTRY_INTR, $0x80000202           /* inject an NMI */
        ret
3:      cmpq $7, %rbx
        jne 4f
        VMR F_PIN                               /* plain NMI blocking now */
        andl $~(PIN_NMI | PIN_VNMI), %eax
        VMW F_PIN, %rax
        VMW F_ENTRY_INTR, $0x80000202
        ret
4:      cmpq $9, %rbx
        jne 5f
        VMR F_PIN                               /* NMI exiting only */
        orl $PIN_NMI, %eax
        VMW F_PIN, %rax
        VMW F_INTR_STATE, $8
        ret
5:      cmpq $10, %rbx
        jne 6f
        VMR F_PIN                               /* and virtual NMIs */
        orl $PIN_VNMI, %eax
        VMW F_PIN, %rax
        VMW F_INTR_STATE, $8
        VMW F_EXC_BITMAP, $(1 << 13)            /* #GP exits */
        ret
6:      cmpq $11, %rbx
        jne 7f
        VMR F_EXIT_INTR                         /* #GP, error code, bit 12 */
        CHECK_BEGIN
        ASSERT_RAX 0x80001B0D, msg_unblock
        VMW F_EXC_BITMAP, $0
        leaq g_after(%rip), %rax
        VMW F_GUEST_RIP, %rax
        VMW F_INTR_STATE, $1                    /* blocking by STI, and */
        VMW F_ENTRY_INTR, $0x80000306           /* inject #UD: vectoring */
        ret
7:      cmpq $12, %rbx
        jne 8f
        VMW F_INTR_STATE, $1                    /* blocking by STI, no event */
        ret
8:      cmpq $13, %rbx
        jne 9f
        VMW F_INTR_STATE, $1
        VMW F_ENTRY_INTR, $0x80000202           /* NMI with it: fails */
9:      ret

finish:
        ret

        .balign 16
guest_code:
        sti
g_c1:   cpuid                                   /* 1: blocking by STI */
        movl %ss, %eax
        movl %eax, %ss
g_c2:   cpuid                                   /* 2: blocking by MOV SS */
        nop
g_c3:   cpuid                                   /* 3: none */
g_c4:   cpuid                                   /* 4: virtual-NMI blocking */
        call iret_here
g_c5:   cpuid                                   /* 5: none; NMI injected */
g_c7:   cpuid                                   /* 7: after the NMI handler */
g_c9:   cpuid                                   /* 9: after its IRET */
        call iret_here
g_c10:  cpuid                                   /* 10: blocking by NMI stays */
        movq %rsp, %rbp
        pushq $KDATA                            /* an IRETQ frame with a bad CS */
        pushq %rbp
        pushfq
        pushq $0xFFF8
        leaq g_after(%rip), %rax
        pushq %rax
g_bad:  iretq                                   /* 11: #GP */
g_after:
        hlt                                     /* #UD is injected here */

/* IRETQ to the caller's return address, with the current RFLAGS. */
iret_here:
        popq %rcx
        movq %rsp, %rax
        pushq $KDATA
        pushq %rax
        pushfq
        pushq $KCODE
        pushq %rcx
        iretq

h_nmi:  cpuid                                   /* 6, 8 */
h_nmi_iret:
        iretq
h_ud:   cpuid                                   /* 12 */
h_ud2:  cpuid                                   /* 13 */
h_ud3:  hlt

        .section .data
        .balign 8
expect:
        .quad 10, 0, 2, g_c1 - guest_code
        .quad 10, 0, 2, g_c2 - guest_code
        .quad 10, 0, 2, g_c3 - guest_code
        .quad 10, 0, 2, g_c4 - guest_code
        .quad 10, 0, 2, g_c5 - guest_code
        .quad 10, 0, 2, h_nmi - guest_code
        .quad 10, 0, 2, g_c7 - guest_code
        .quad 10, 0, 2, h_nmi - guest_code
        .quad 10, 0, 2, g_c9 - guest_code
        .quad 10, 0, 2, g_c10 - guest_code
        .quad 0, 0, 0, g_bad - guest_code
        .quad 10, 0, 2, h_ud - guest_code
        .quad 10, 0, 2, h_ud2 - guest_code
        .quad 0x80000021, 3, 2, h_ud3 - guest_code
intr_expect:
        .quad 1, 2, 0, 8, 0, 8, 0, 8, 0, 8, 0, 0, 1, 1

        .section .rodata
msg_intr:    .asciz "saved interruptibility state"
msg_unblock: .asciz "VM-exit interruption information"

        .section .bss
        .balign 16
guest_idt: .skip 7 * 16
        .text
