/*
 * guest_vector.S - VM exits during event delivery (SDM Vol. 3C 28.2.3):
 * every gate of the guest's IDT is empty, so delivering any event raises
 * #GP, which the exception bitmap makes exit (0); the IDT-vectoring
 * information names the event being delivered with its own type
 * (Table 25-18).  For a software interrupt or exception the saved guest
 * RIP is that of its instruction and the VM-exit instruction length its
 * length (28.2.4, 28.3.3); for one injected by VM entry, the entry's RIP
 * and VM-entry instruction length.  test_vmx.c checks the IDT-vectoring
 * information of each exit:
 *   1. injected external interrupt 0x40 (0x80000040);
 *   2. injected INT 0x30, instruction length 2 (0x80000430);
 *   3. injected NMI (0x80000202);
 *   4. the guest's own INT 0x31 (0x80000431, length 2);
 *   5. the guest's INT3 (0x80000603, length 1);
 *   6. injected privileged software exception 1, length 1 (0x80000501);
 * then VMCALL (18).  The VMM resumes each at guest RIP + length.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 1 << 13                /* #GP */
        .set NEXITS, 7
        .set F_ENTRY_INTR, 0x4016
        .set F_ENTRY_LEN, 0x401A

#include "guest.inc"

prepare:
        leaq guest_idt(%rip), %rax
        VMW 0x6818, %rax                        /* IDTR: empty gates */
        VMW 0x4812, $(0x41 * 16 - 1)
        VMW 0x6820, $0x202                      /* IF = 1 (external interrupt) */
        VMW F_ENTRY_INTR, $0x80000040
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMW F_ENTRY_LEN, $2
        VMW F_ENTRY_INTR, $0x80000430           /* INT 0x30 */
        ret
1:      cmpq $2, %rbx
        jne 2f
        VMW F_ENTRY_INTR, $0x80000202           /* NMI */
        ret
2:      cmpq $5, %rbx
        jne 3f
        VMW F_ENTRY_LEN, $1
        VMW F_ENTRY_INTR, $0x80000501           /* privileged software exception */
3:      ret

finish:
        ret

        .balign 16
guest_code:
        int $0x30                               /* never runs: injected instead */
g_int31:
        int $0x31                               /* 4 */
g_int3: int3                                    /* 5 */
g_int1: .byte 0xF1                              /* (INT1) injected instead: 6 */
g_call: vmcall
        hlt

        .section .data
        .balign 8
expect:
        .quad 0, 0, 0, 0
        .quad 0, 0, 2, 0
        .quad 0, 0, 0, g_int31 - guest_code
        .quad 0, 0, 2, g_int31 - guest_code
        .quad 0, 0, 1, g_int3 - guest_code
        .quad 0, 0, 1, g_int1 - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .bss
        .balign 16
guest_idt: .skip 0x41 * 16
        .text
