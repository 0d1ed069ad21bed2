/*
 * guest_inject.S - event injection by VM entry (SDM Vol. 3C 27.6): the
 * event is delivered through the guest's IDT as the guest would have
 * delivered it (27.6.1.1):
 *   1. VMLAUNCH injects #UD (hardware exception, no error code): the
 *      handler runs with the guest RIP of the entry pushed;
 *   2. VMRESUME injects #GP with error code 0x1234: pushed below the RIP;
 *   3. VMRESUME injects INT 0x30 (software interrupt) with instruction
 *      length 2: the pushed RIP is the entry's RIP + 2.
 * Each handler's VMCALL exits; the VMM checks the frame on the guest stack.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 3
        .set F_ENTRY_INTR, 0x4016
        .set F_ENTRY_ERRCODE, 0x4018
        .set F_ENTRY_LEN, 0x401A

#include "guest.inc"

/* A 64-bit interrupt gate for vector RDI to the handler at RSI. */
        DEFINE_SET_GATE 0x8E

prepare:
        movl $6, %edi
        leaq h_ud(%rip), %rsi
        call set_gate
        movl $13, %edi
        leaq h_gp(%rip), %rsi
        call set_gate
        movl $0x30, %edi
        leaq h_int(%rip), %rsi
        call set_gate
        leaq guest_idt(%rip), %rax
        VMW 0x6818, %rax                        /* IDTR base */
        VMW 0x4812, $(0x31 * 16 - 1)
        VMW F_ENTRY_INTR, $0x80000306           /* valid, hardware exception, #UD */
        ret

/* RBX = the exit's number.  The frame the delivery pushed: [RSP] = RIP
 * (after the error code for #GP). */
at_exit:
        movl $0x681C, %edx
        vmread %rdx, %r13                       /* guest RSP */
        cmpq $1, %rbx
        jne 1f
        movq (%r13), %rax                       /* pushed RIP: the entry's */
        leaq guest_code(%rip), %rcx
        CHECK_BEGIN
        cmpq %rcx, %rax
        jne bad_frame
        VMW F_ENTRY_ERRCODE, $0x1234
        VMW F_ENTRY_INTR, $0x80000B0D           /* #GP, deliver error code */
        ret
1:      cmpq $2, %rbx
        jne 2f
        movq (%r13), %rax                       /* the error code */
        CHECK_BEGIN
        cmpq $0x1234, %rax
        jne bad_frame
        VMW F_ENTRY_LEN, $2
        VMW F_ENTRY_INTR, $0x80000430           /* software interrupt 0x30 */
        ret
2:      movq (%r13), %rax                       /* RIP of entry + 2 */
        leaq h_gp_next(%rip), %rcx
        addq $2, %rcx
        CHECK_BEGIN
        cmpq %rcx, %rax
        jne bad_frame
        ret
bad_frame:
        leaq msg_frame(%rip), %rsi
        jmp fail

finish:
        ret

        .balign 16
guest_code:
        hlt                                     /* never runs: #UD is injected */
h_ud:   vmcall                                  /* exit 1 */
        hlt
h_gp:   vmcall                                  /* exit 2 */
h_gp_next:
        hlt
h_int:  vmcall                                  /* exit 3 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 18, 0, 3, h_ud - guest_code
        .quad 18, 0, 3, h_gp - guest_code
        .quad 18, 0, 3, h_int - guest_code

        .section .rodata
msg_frame: .asciz "frame pushed by the injected event"

        .section .bss
        .balign 16
guest_idt: .skip 0x31 * 16
        .text
