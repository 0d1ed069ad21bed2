/*
 * loop.S - the exit-free loop of guest_loop and root_loop, and the bytes
 * the driver gives raw Unicorn: this one file is assembled into the
 * freestanding programs and into the driver, and the driver compares the
 * bytes it runs with the bytes the program has in guest memory, so both
 * engines run the same instructions.
 *
 * In: RCX = iterations (> 0), RAX and RDX = seeds.  Out: RAX, RDX =
 * checksums, RCX = 0.  Four instructions per iteration, one translated
 * block, no instruction the model owns: in vmxsim it costs only the
 * model's block hook.  Position independent (the driver runs it at
 * another address).
 */
        .text
        .globl bench_loop, bench_loop_end
        .type bench_loop, @function
        .p2align 4
bench_loop:
1:      addq %rcx, %rax
        xorq %rax, %rdx
        decq %rcx
        jnz 1b
bench_loop_end:
        ret
        .size bench_loop, . - bench_loop

        .section .note.GNU-stack,"",@progbits
