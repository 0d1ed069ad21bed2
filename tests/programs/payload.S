/*
 * payload.S - a flat binary for "vmxsim run payload.bin@0x100000": in the
 * long-mode start state, prints one line through port 0xE9 and writes 5
 * to port 0xF4 (exit status 0x0b).  Linked at 1 MiB (link.ld) and turned
 * into raw bytes by objcopy.
 */
    .text
    .globl _start
_start:
    lea msg(%rip), %rsi
1:  lodsb
    test %al, %al
    jz 2f
    out %al, $0xE9
    jmp 1b
2:  mov $0x05, %al
    out %al, $0xF4
3:  hlt
    jmp 3b

    .section .rodata
msg: .asciz "payload ok\n"
