/*
 * entry.S - the part of the example VMM that C cannot express: the
 * VM-exit entry point.  A VM exit loads only the
 * host state the VMCS names (SDM Vol. 3C 28.5): the guest's general
 * registers stay in the registers, so exit_stub saves them into a frame
 * on the host stack, calls handle_exit(frame), restores them (changed by
 * the handler where it emulated an instruction) and resumes the guest.
 */
        .text
/* Host RIP of the VMCS.  The frame is struct guest_regs (../common/vmm.h): RAX,
 * RCX, RDX, RBX, (RSP slot), RBP, RSI, RDI, R8-R15. */
        .globl exit_stub
exit_stub:
        pushq %r15
        pushq %r14
        pushq %r13
        pushq %r12
        pushq %r11
        pushq %r10
        pushq %r9
        pushq %r8
        pushq %rdi
        pushq %rsi
        pushq %rbp
        pushq $0                /* RSP: the guest's is in the VMCS */
        pushq %rbx
        pushq %rdx
        pushq %rcx
        pushq %rax
        movq %rsp, %rdi
        call handle_exit        /* returns only to resume the guest */
        popq %rax
        popq %rcx
        popq %rdx
        popq %rbx
        addq $8, %rsp
        popq %rbp
        popq %rsi
        popq %rdi
        popq %r8
        popq %r9
        popq %r10
        popq %r11
        popq %r12
        popq %r13
        popq %r14
        popq %r15
        vmresume
        /* VMRESUME returns only when it fails. */
        call resume_failed
        hlt

        .section .note.GNU-stack,"",@progbits
