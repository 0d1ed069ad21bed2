/*
 * guest_controls.S - instructions that exit under the processor-based
 * controls (SDM Vol. 3C 26.1.3) with the exit qualifications and
 * instruction information of 28.2: INVLPG (14, the linear address), MOV
 * to DR7 (29), SGDT with descriptor-table exiting (46, the displacement
 * and Table 28-10's information), WBINVD (54), PAUSE (40), MOV to CR0
 * changing a bit the host owns (28), MOV to CR3 of a CR3-target value
 * (no exit) and of another value (28), MOV from CR3 with CR3-store
 * exiting (28), RDTSC with TSC offsetting (no exit: TSC + offset,
 * 26.3), RDPMC (15).
 */
#include "common.inc"

        .set PROC_WANT, (1 << 3) | (1 << 9) | (1 << 11) | (1 << 15) | (1 << 16) | (1 << 23) | (1 << 30) | (1 << 31)
        .set PROC2_WANT, (1 << 2) | (1 << 6)  /* descriptor-table exiting, WBINVD exiting */
        .set EXC_BITMAP, 0
        .set NEXITS, 9
        .set TSC_OFF, 0x100000000000

#include "guest.inc"

prepare:
        VMW F_CR0_MASK, $0x20            /* the host owns CR0.NE */
        movq %cr0, %rax
        andq $0x20, %rax
        VMW F_CR0_SHADOW, %rax
        VMW F_CR3_COUNT, $1
        movq %cr3, %rax
        movq %rax, vmm_cr3(%rip)
        VMW F_CR3_TARGET0, %rax
        movabsq $TSC_OFF, %rax
        VMW F_TSC_OFFSET, %rax
        ret

at_exit:
        cmpq $3, %rbx                    /* SGDT: instruction information */
        jne 1f
        VMR F_EXIT_INFO
        CHECK_BEGIN
        ASSERT_RAX 0x01C18100, msg_info
1:      ret

finish:
        /* RDTSC in the guest saw TSC + offset. */
        movq guest_tsc(%rip), %rax
        movabsq $TSC_OFF, %rdx
        cmpq %rdx, %rax
        jae 2f
        CHECK_BEGIN
        leaq msg_tsc(%rip), %rsi
        jmp fail
2:      ret

        .balign 16
guest_code:
        movl $0x12345000, %eax
g_invlpg: invlpg (%rax)                  /* exit 14, qualification 0x12345000 */
        movl $0x400, %eax
g_dr:   movq %rax, %dr7                  /* exit 29, DR7, MOV to DR, RAX */
        leaq scratch(%rip), %rbx
g_sgdt: sgdt 0x10(%rbx)                  /* exit 46 */
g_wb:   wbinvd                           /* exit 54 */
g_pause: pause                           /* exit 40 */
        movq %cr0, %rcx
        xorq $0x20, %rcx
g_cr0:  movq %rcx, %cr0                  /* exit 28: CR0, MOV to CR, RCX */
        movq vmm_cr3(%rip), %rcx         /* (MOV from CR3 would exit) */
        movq %rcx, %cr3                  /* a CR3-target value: no exit */
        movq %rcx, %rdx
        addq $0x1000, %rdx
g_cr3:  movq %rdx, %cr3                  /* exit 28: CR3, RDX */
g_cr3r: movq %cr3, %rsi                  /* exit 28: MOV from CR3 to RSI */
        rdtsc                            /* no exit */
        shlq $32, %rdx
        orq %rdx, %rax
        movq %rax, guest_tsc(%rip)
        xorl %ecx, %ecx
g_pmc:  rdpmc                            /* exit 15 */
        hlt

        .section .data
        .balign 8
expect:
        .quad 14, 0x12345000, 3, g_invlpg - guest_code
        .quad 29, 7, 3, g_dr - guest_code
        .quad 46, 0x10, 4, g_sgdt - guest_code
        .quad 54, 0, 2, g_wb - guest_code
        .quad 40, 0, 2, g_pause - guest_code
        .quad 28, 0x100, 3, g_cr0 - guest_code
        .quad 28, 0x203, 3, g_cr3 - guest_code
        .quad 28, 0x613, 3, g_cr3r - guest_code
        .quad 15, 0, 2, g_pmc - guest_code

        .section .rodata
msg_info:    .asciz "instruction information"
msg_tsc:     .asciz "guest TSC"

        .section .bss
guest_tsc:   .skip 8
vmm_cr3:     .skip 8
        .text
