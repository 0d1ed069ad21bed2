/*
 * guest_hlt.S - the HLT, shutdown and wait-for-SIPI activity states in VMX
 * non-root operation (SDM Vol. 3C 25.4.2, 28.1): HLT without HLT exiting
 * puts the guest in the HLT state, and a VM exit the model can produce
 * ends it, saving the activity state (28.3.4) and the RIP after HLT:
 *   1. the VMX-preemption timer (52), its saved value 0 (where it is saved);
 *   2. the monitor trap flag (37: not blocked in the HLT state, 26.7.2);
 *   3. the interrupt window, opened by STI (whose blocking covers HLT
 *      only): 7;
 *   4. entered in the shutdown state with the interrupt window open (it
 *      does not wake shutdown, 27.7.5) and the timer armed: 52, shutdown;
 *   5. entered in the shutdown state with the NMI window open (27.7.6): 8;
 * then (finish) entered in the wait-for-SIPI state with both windows
 * open and the timer armed, none of which wakes it (26.7.1): the run ends,
 * "nothing can wake it" (test_vmx.c checks).
 */
#include "common.inc"

        .set PROC_WANT, 0
        .set PROC2_WANT, 0
        .set EXC_BITMAP, 0
        .set NEXITS, 5
        .set F_TIMER, 0x482E
        .set F_ACTIVITY, 0x4826
        .set PIN_TIMER, 1 << 6
        .set PROC_INTR_WIN, 1 << 2
        .set PROC_NMI_WIN, 1 << 22
        .set PROC_MTF, 1 << 27

#include "guest.inc"

prepare:
        call timer_on
        VMW F_TIMER, $100
        ret

/* The timer and "save VMX-preemption timer value" (which needs it,
 * 27.2.1.2) on or off. */
timer_on:
        VMR F_PIN
        orl $PIN_TIMER, %eax
        VMW F_PIN, %rax
        movl $0x483, %ecx                       /* saving allowed (minimal: no)? */
        rdmsr
        btl $22, %edx
        jnc 1f
        VMR F_EXIT_CTLS
        orl $(1 << 22), %eax
        VMW F_EXIT_CTLS, %rax
1:      ret
timer_off:
        VMR F_PIN
        andl $~PIN_TIMER, %eax
        VMW F_PIN, %rax
        VMR F_EXIT_CTLS
        andl $~(1 << 22), %eax
        VMW F_EXIT_CTLS, %rax
        ret

/* RBX = the exit's number. */
at_exit:
        VMR F_ACTIVITY
        leaq act_expect - 8(%rip), %rcx
        CHECK_BEGIN
        cmpq (%rcx,%rbx,8), %rax
        je 1f
        leaq msg_act(%rip), %rsi
        jmp fail
1:      VMW F_ACTIVITY, $0                      /* resume active by default */
        cmpq $1, %rbx
        jne 2f
        VMR F_EXIT_CTLS
        btl $22, %eax
        jnc 6f
        VMR F_TIMER                             /* saved: 0 */
        CHECK_BEGIN
        ASSERT_RAX 0, msg_timer
6:
        call timer_off                          /* timer off, MTF on */
        VMR F_PROC
        orl $PROC_MTF, %eax
        VMW F_PROC, %rax
        ret
2:      cmpq $2, %rbx
        jne 3f
        VMR F_PROC                              /* MTF off, interrupt window on */
        andl $~PROC_MTF, %eax
        orl $PROC_INTR_WIN, %eax
        VMW F_PROC, %rax
        ret
3:      cmpq $3, %rbx
        jne 4f
        call timer_on                           /* timer on again */
        VMW F_TIMER, $10
        VMW F_ACTIVITY, $2                      /* enter in shutdown */
        ret
4:      cmpq $4, %rbx
        jne 5f
        call timer_off
        VMR F_PIN                               /* virtual NMIs */
        orl $((1 << 3) | (1 << 5)), %eax
        VMW F_PIN, %rax
        VMR F_PROC
        orl $PROC_NMI_WIN, %eax                 /* NMI window on */
        VMW F_PROC, %rax
        VMW F_ACTIVITY, $2
5:      ret

/* Enter in the wait-for-SIPI state, nothing can wake it: the run ends in
 * the VM entry, so VMRESUME does not return. */
finish:
        call timer_on
        VMW F_TIMER, $1
        VMW F_ACTIVITY, $3
        vmresume
        leaq msg_sipi(%rip), %rsi
        jmp fail

        .balign 16
guest_code:
        hlt                                     /* 1: the timer */
g2:     hlt                                     /* 2: MTF */
g3:     sti
        hlt                                     /* 3: interrupt window */
g4:     hlt                                     /* 4, 5: entered in shutdown */

        .section .data
        .balign 8
expect:
        .quad 52, 0, 0, g2 - guest_code
        .quad 37, 0, 0, g3 - guest_code
        .quad 7, 0, 0, g4 - guest_code
        .quad 52, 0, 0, g4 - guest_code
        .quad 8, 0, 0, g4 - guest_code
act_expect:
        .quad 1, 1, 1, 2, 2

        .section .rodata
msg_act:   .asciz "saved activity state"
msg_timer: .asciz "saved VMX-preemption timer value"
msg_sipi:  .asciz "VMRESUME into wait-for-SIPI returned"
        .text
