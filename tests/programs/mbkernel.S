/*
 * mbkernel.S - a Multiboot 1 kernel for the loader tests.
 *
 * Built three ways from this file (tests/programs/meson.build):
 *   mbkernel        ELF32 (EM_386), loaded by its PT_LOAD segments
 *   mbkernel64      the same 32-bit code in an ELF64 (EM_X86_64) file
 *   mbkernel-aout   MB_AOUT defined: header flag 16 with load addresses,
 *                   turned into a raw binary by objcopy
 *
 * Checks the boot state (Multiboot Specification 0.6.96, 3.2: EAX magic,
 * EBX the information structure) and prints through COM1, polling the
 * line status register before every byte as a 16550 driver does:
 *   multiboot ok: CMDLINE
 *   mem_upper 0xXXXXXXXX
 *   mmap TTT            (the type of each memory-map entry)
 *   loader NAME
 *   module STRING: CONTENTS   (one line per module)
 * then writes 0x10 to port 0xF4 (exit status 0x21).  A failed check exits
 * with 0x01 (EAX), 0x02 (flags), 0x03 (mem_lower), 0x04 (module not page
 * aligned) or 0x05 (not running as 32-bit code) instead.
 */
    .code32

#define MB_MAGIC 0x1BADB002
#ifdef MB_AOUT
#define MB_FLAGS 0x00010003     /* page-aligned modules, memory info, a.out kludge */
#else
#define MB_FLAGS 0x00000003     /* page-aligned modules, memory info */
#endif
/* information flags this kernel needs: mem, cmdline, mods, mmap, loader name */
#define MBI_NEED 0x0000024D

#define COM1 0x3F8
#define COM1_LCR (COM1 + 3)
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define DEBUG_EXIT 0xF4

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT
    .long mb_header             /* header_addr */
    .long __image_start         /* load_addr */
    .long __data_end            /* load_end_addr */
    .long __bss_end             /* bss_end_addr */
    .long _start                /* entry_addr */
#endif

    .text
    .globl _start
_start:
    mov %eax, %edi              /* the magic */
    /* 32-bit code, as 3.2 requires?  There 0x40 is INC EAX; in 64-bit code
     * it would be an empty REX prefix of the NOP after it. */
    xor %eax, %eax
    .byte 0x40                  /* inc %eax */
    nop
    test %eax, %eax
    jz bad_mode
    mov $stack_top, %esp
    cmp $0x2BADB002, %edi
    jne bad_magic
    mov %ebx, %ebp              /* EBP: the information structure */
    mov 0(%ebp), %eax
    and $MBI_NEED, %eax
    cmp $MBI_NEED, %eax
    jne bad_flags
    cmpl $640, 4(%ebp)          /* mem_lower */
    jne bad_mem

    call uart_init
    mov $s_ok, %esi
    call puts
    mov 16(%ebp), %esi          /* cmdline */
    call puts
    call newline

    mov $s_upper, %esi
    call puts
    mov 8(%ebp), %eax           /* mem_upper */
    call puthex
    call newline

    mov $s_mmap, %esi
    call puts
    mov 48(%ebp), %esi          /* mmap_addr: the first entry's size field */
    mov 44(%ebp), %ecx          /* mmap_length */
    add %esi, %ecx
1:  cmp %ecx, %esi
    jae 2f
    mov 20(%esi), %eax          /* type */
    add $'0', %al
    call putc
    add 0(%esi), %esi           /* next: size does not count itself */
    add $4, %esi
    jmp 1b
2:  call newline

    mov $s_loader, %esi
    call puts
    mov 64(%ebp), %esi          /* boot_loader_name */
    call puts
    call newline

    mov 20(%ebp), %edi          /* mods_count */
    mov 24(%ebp), %ebx          /* mods_addr */
3:  test %edi, %edi
    jz 5f
    testl $0xFFF, 0(%ebx)       /* header flag 0: page-aligned modules */
    jnz bad_align
    mov $s_module, %esi
    call puts
    mov 8(%ebx), %esi           /* string */
    call puts
    mov $s_colon, %esi
    call puts
    mov 0(%ebx), %esi           /* mod_start */
4:  cmp 4(%ebx), %esi           /* up to mod_end */
    jae 6f
    lodsb
    call putc
    jmp 4b
6:  call newline
    add $16, %ebx
    dec %edi
    jmp 3b

5:  mov $0x10, %al
    jmp exit
bad_magic:
    mov $0x01, %al
    jmp exit
bad_flags:
    mov $0x02, %al
    jmp exit
bad_mem:
    mov $0x03, %al
    jmp exit
bad_align:
    mov $0x04, %al
    jmp exit
bad_mode:
    mov $0x05, %al
exit:
    out %al, $DEBUG_EXIT
7:  hlt
    jmp 7b

/* 115200 8N1: divisor latch 1, then 8 data bits. */
uart_init:
    mov $COM1_LCR, %dx
    mov $0x80, %al              /* DLAB */
    out %al, %dx
    mov $COM1, %dx
    mov $1, %al                 /* divisor low */
    out %al, %dx
    inc %dx
    xor %al, %al                /* divisor high */
    out %al, %dx
    mov $COM1_LCR, %dx
    mov $0x03, %al              /* 8 bits, no parity, 1 stop; DLAB off */
    out %al, %dx
    ret

/* putc: AL to COM1 once the transmitter holding register is empty. */
putc:
    push %edx
    push %eax
    mov $COM1_LSR, %dx
1:  in %dx, %al
    test $LSR_THRE, %al
    jz 1b
    pop %eax
    mov $COM1, %dx
    out %al, %dx
    pop %edx
    ret

/* puts: the NUL-terminated string at ESI (clobbers EAX, ESI). */
puts:
1:  lodsb
    test %al, %al
    jz 2f
    call putc
    jmp 1b
2:  ret

newline:
    mov $'\n', %al
    jmp putc

/* puthex: EAX as 0x and eight hex digits (clobbers EAX, ECX, EDX). */
puthex:
    mov %eax, %edx
    mov $'0', %al
    call putc
    mov $'x', %al
    call putc
    mov $8, %ecx
1:  rol $4, %edx
    mov %dl, %al
    and $0xF, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $('a' - '9' - 1), %al
2:  call putc
    dec %ecx
    jnz 1b
    ret

    .section .rodata
s_ok:     .asciz "multiboot ok: "
s_upper:  .asciz "mem_upper "
s_mmap:   .asciz "mmap "
s_loader: .asciz "loader "
s_module: .asciz "module "
s_colon:  .asciz ": "

    .bss
    .align 16
stack:
    .skip 4096
stack_top:
