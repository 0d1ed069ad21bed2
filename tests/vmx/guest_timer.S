/*
 * guest_timer.S - the VMX-preemption timer (SDM Vol. 3C 25.5.1, 26.5.1):
 * it counts down each time bit X (IA32_VMX_MISC[4:0]) of the TSC changes;
 * at 0 the guest exits (52) before its next instruction, and with "save
 * VMX-preemption timer value" the exit stores 0.  A VM entry with the
 * value 0 exits before the first instruction.  test_vmx.c checks that the
 * exit comes at the instruction count the TSC predicts.
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 3
        .set F_TIMER, 0x482E

#include "guest.inc"

prepare:
        VMR F_PIN
        orl $(1 << 6), %eax                     /* activate the timer */
        VMW F_PIN, %rax
        VMR F_EXIT_CTLS
        orl $(1 << 22), %eax                    /* save its value on exit */
        VMW F_EXIT_CTLS, %rax
        VMW F_TIMER, $20
        ret

at_exit:
        cmpq $1, %rbx
        jne 1f
        VMR F_TIMER                             /* saved: 0 */
        CHECK_BEGIN
        ASSERT_RAX 0, msg_saved
        ret                                     /* resume with value 0 */
1:      cmpq $2, %rbx
        jne 2f
        VMR F_PIN                               /* timer off */
        andl $~(1 << 6), %eax
        VMW F_PIN, %rax
        VMR F_EXIT_CTLS
        andl $~(1 << 22), %eax
        VMW F_EXIT_CTLS, %rax
        leaq g_call(%rip), %rax
        VMW F_GUEST_RIP, %rax
2:      ret

finish:
        ret

        .balign 16
guest_code:
g_loop: jmp g_loop                              /* until the timer fires */
g_call: vmcall
        hlt

        .section .data
        .balign 8
expect:
        .quad 52, 0, 0, g_loop - guest_code
        .quad 52, 0, 0, g_loop - guest_code
        .quad 18, 0, 3, g_call - guest_code

        .section .rodata
msg_saved: .asciz "saved VMX-preemption timer value"
        .text
