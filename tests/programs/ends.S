/*
 * ends.S - the ways a run ends (docs/platform.md), one program built
 * four times (tests/programs/meson.build), in the long-mode start state:
 *   END_SHUTDOWN  "Shut", a stray byte, then "Shutdown" to port 0x8900
 *                 (the Bochs shutdown port: only the whole string ends it)
 *   END_HLT       HLT with RFLAGS.IF = 0
 *   END_TRIPLE    #UD without an IDT (IDTR limit 0): #GP, #DF, triple fault
 *   END_SPIN      a loop that never ends (instruction budget, wall clock)
 */
    .text
    .globl _start
_start:
    mov $0x5EED, %rax           /* seen in the triple-fault dump */
#if defined(END_SHUTDOWN)
    lea s_shutdown(%rip), %rsi
    mov $0x8900, %dx
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  mov $0x01, %al              /* not reached: exit status 3 */
    out %al, $0xF4
#elif defined(END_HLT)
    hlt
    mov $0x01, %al
    out %al, $0xF4
#elif defined(END_TRIPLE)
    ud2
#elif defined(END_SPIN)
3:  jmp 3b
#else
#error "build with one of END_SHUTDOWN, END_HLT, END_TRIPLE, END_SPIN"
#endif

    .section .rodata
s_shutdown: .asciz "ShutxShutdown"
