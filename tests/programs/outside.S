/*
 * outside.S - ordinary instructions reading and writing memory above RAM
 * (the test runs with 256 MiB): reads return all ones, writes are
 * dropped, and each access is counted (docs/platform.md).  Linear =
 * physical in the start state (the low 4 GiB identity-mapped).  Exit
 * status (V << 1) | 1 with V = 0 when every check passed, else the
 * number of the failed check.
 */
    .set OUT, 0x20000000          /* 512 MiB: above RAM */
    .text
    .globl _start
_start:
    mov $OUT, %rdi
    /* 1: a read is all ones */
    mov (%rdi), %rax
    cmp $-1, %rax
    mov $1, %bl
    jne fail
    /* 2: a write is dropped: reading back gives all ones again */
    movq $0x1234, 8(%rdi)
    mov 8(%rdi), %rax
    cmp $-1, %rax
    mov $2, %bl
    jne fail
    /* 3: a read-modify-write (one read, one write) leaves ones, and the
     * flags it computed from them: 0xFF + 1 = 0 with carry */
    movb $0, %cl
    addb $1, 16(%rdi)
    setc %cl
    cmpb $1, %cl
    mov $3, %bl
    jne fail
    movzbl 16(%rdi), %eax
    cmp $0xFF, %eax
    mov $4, %bl
    jne fail
    /* 4: RAM is untouched by all that: a byte below 256 MiB still reads
     * as written */
    movq $0x5555, 0x200000
    mov 0x200000, %rax
    cmp $0x5555, %rax
    mov $5, %bl
    jne fail
    xor %bl, %bl
fail:
    mov %bl, %al
    out %al, $0xF4
1:  hlt
    jmp 1b
