/* start.S - entry of the example programs: the start state
 * (docs/start-state.md) already runs 64-bit code with a stack; clear the
 * BSS and call main, then report main's result through port 0xF4 (exit
 * status (V << 1) | 1). */
        .text
        .globl _start
_start:
        cli
        leaq __bss_start(%rip), %rdi
        leaq __bss_end(%rip), %rcx
        subq %rdi, %rcx
        xorl %eax, %eax
        cld
        rep stosb
        call main
        outl %eax, $0xF4
        hlt


        .section .note.GNU-stack,"",@progbits
