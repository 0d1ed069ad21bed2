/*
 * exit_stub.S - the host RIP of the benchmarks' VMM.  A VM exit loads
 * only the host state of the VMCS (SDM Vol. 3C 28.5); the guest's
 * general registers are still in the registers.  The handler is C, so
 * the registers the C calling convention lets it clobber are saved
 * around it; the others (RBX, RBP, R12-R15) C preserves itself.  The VMM
 * emulates nothing, so it never needs to see them.
 */
        .text
        .globl vmm_exit_entry
vmm_exit_entry:
        pushq %rax
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        subq $8, %rsp           /* host RSP is 16-aligned: keep the call aligned */
        call vmm_exit_handler
        addq $8, %rsp
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rax
        vmresume
        /* VMRESUME falls through only when it fails (31.2). */
        call vmm_resume_failed
        hlt

        .section .note.GNU-stack,"",@progbits
