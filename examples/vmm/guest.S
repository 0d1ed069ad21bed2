/*
 * guest.S - the example's guest: 64-bit code that shares the VMM's page
 * tables (no EPT).  It says hello through port 0xE9, then loops ROUNDS
 * times over instructions its VMM intercepts: CPUID (its own vendor
 * string), a read and a write of an MSR only the VMM has, port I/O with
 * a device only the VMM has, and MOV to CR4 (a bit the VMM owns).  HLT
 * ends it.
 */
        .set ROUNDS, 10
        .set MSR_SCRATCH, 0x40000000   /* the VMM's virtual MSR */
        .set PORT_DEVICE, 0x510        /* the VMM's virtual device */

        .text
        .globl guest_entry
guest_entry:
        leaq hello(%rip), %rsi
1:      lodsb
        testb %al, %al
        jz 2f
        outb %al, $0xE9                 /* exits: the VMM prints it */
        jmp 1b
2:      movl $ROUNDS, %r12d
3:      movl $0x40000000, %eax          /* hypervisor CPUID leaf */
        cpuid                           /* exits: CPUID always does */
        movl $MSR_SCRATCH, %ecx
        rdmsr                           /* exits: MSR bitmap */
        incl %eax
        wrmsr                           /* exits */
        movw $PORT_DEVICE, %dx
        inl %dx, %eax                   /* exits: I/O bitmap */
        addl %r12d, %eax
        outl %eax, %dx                  /* exits */
        movq %cr4, %rax
        xorq $0x80, %rax                /* CR4.PGE: owned by the VMM */
        movq %rax, %cr4                 /* exits */
        decl %r12d
        jnz 3b
        hlt                             /* exits: HLT exiting */

        .section .rodata
hello:  .asciz "guest: hello from VMX non-root operation\n"

        .section .note.GNU-stack,"",@progbits
