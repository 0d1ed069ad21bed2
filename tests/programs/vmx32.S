/*
 * vmx32.S - VMX root operation outside 64-bit mode, as a Multiboot 1
 * kernel (ELF32): the 32-bit forms of the VMX instructions (SDM Vol. 3C
 * 31.3; outside 64-bit mode the operand size of VMREAD and VMWRITE is
 * 32 bits, the memory operands of VMXON, VMCLEAR, VMPTRLD and VMPTRST
 * stay 64 bits).
 *
 * Entered in 32-bit protected mode without paging, it turns on 32-bit
 * paging with 4 MiB pages (VMX operation needs CR0.PG = 1, the fixed
 * bits of IA32_VMX_CR0_FIXED0), sets CR4.VMXE and checks, each with
 * RFLAGS = 0xCD7 before the instruction (CF, PF, AF, ZF, SF, OF, DF):
 *    1  VMXON m64: VMsucceed (RFLAGS 0x402)
 *    2  VMREAD without a current VMCS: VMfailInvalid (0x403)
 *    3  VMCLEAR m64, VMPTRLD m64: VMsucceed
 *    4  VMWRITE r32, r32 of guest RIP (natural width): VMsucceed
 *    5  VMREAD r32, r32 gives the value back
 *    6  VMWRITE r32, m32; VMREAD m32, r32 writes 4 bytes, not 8
 *    7  VMWRITE of a 16-bit field keeps its low 16 bits
 *    8  64-bit field: a VMWRITE of the full field clears the high half
 *       (the field is longer than the operand), the high access writes
 *       bits 63:32 only
 *    9  VMREAD of encoding 0x10000 (bit 16, reserved): VMfailValid(12)
 *       (0x442), and the VM-instruction error field reads 12
 *   10  VMPTRST m64 stores the 64-bit current-VMCS pointer
 *   11  VMXOFF: VMsucceed
 * then prints "vmx32 ok" through port 0xE9 and writes 0x2A to port 0xF4
 * (exit status 0x55).  A failed check N prints "vmx32 FAIL" and writes N
 * (exit status (N << 1) | 1).
 */
    .code32

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000000
#define FLAGS_IN 0xCD7
#define VM_OK 0x402
#define VM_FAIL_INVALID 0x403
#define VM_FAIL_VALID 0x442

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

/* Run insn with RFLAGS = FLAGS_IN; check N fails unless RFLAGS is then
 * `want`.  EAX, ECX and EDX may be operands (EDX is the scratch). */
.macro VMX_CHECK n, want, insn:vararg
    pushl $FLAGS_IN
    popfl
    \insn
    pushfl
    popl %edx
    cld
    cmp $\want, %edx
    jne fail\n
.endm

    .text
    .globl _start
_start:
    mov $stack_top, %esp

    /* 32-bit paging, 4 MiB pages (CR4.PSE), the low 4 GiB one to one */
    mov $page_dir, %edi
    mov $0x83, %eax             /* present, writable, 4 MiB page */
    mov $1024, %ecx
1:  mov %eax, (%edi)
    add $0x400000, %eax
    add $4, %edi
    loop 1b
    mov %cr4, %eax
    or $0x10, %eax
    mov %eax, %cr4
    mov $page_dir, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000020, %eax        /* PG, NE */
    mov %eax, %cr0
    mov %cr4, %eax
    or $0x2000, %eax            /* VMXE */
    mov %eax, %cr4

    mov $0x480, %ecx            /* IA32_VMX_BASIC: the revision */
    rdmsr
    and $0x7FFFFFFF, %eax
    mov %eax, vmxon_region
    mov %eax, vmcs_region

    movl $vmxon_region, ptr
    VMX_CHECK 1, VM_OK, vmxon ptr
    mov $0x681E, %eax
    VMX_CHECK 2, VM_FAIL_INVALID, vmread %eax, %ecx
    movl $vmcs_region, ptr
    VMX_CHECK 3, VM_OK, vmclear ptr
    VMX_CHECK 3, VM_OK, vmptrld ptr

    mov $0x681E, %eax           /* guest RIP */
    mov $0x12345678, %ecx
    VMX_CHECK 4, VM_OK, vmwrite %ecx, %eax
    xor %ecx, %ecx
    VMX_CHECK 5, VM_OK, vmread %eax, %ecx
    cmp $0x12345678, %ecx
    jne fail5

    movl $0xDEADBEEF, value
    VMX_CHECK 6, VM_OK, vmwrite value, %eax
    movl $0, result
    movl $0x5A5A5A5A, result + 4
    VMX_CHECK 6, VM_OK, vmread %eax, result
    cmpl $0xDEADBEEF, result
    jne fail6
    cmpl $0x5A5A5A5A, result + 4
    jne fail6

    mov $0x0800, %eax           /* guest ES selector, 16 bits */
    mov $0xDEAD1234, %ecx
    VMX_CHECK 7, VM_OK, vmwrite %ecx, %eax
    VMX_CHECK 7, VM_OK, vmread %eax, %ecx
    cmp $0x1234, %ecx
    jne fail7

    mov $0x2801, %eax           /* VMCS link pointer, high */
    mov $1, %ecx
    VMX_CHECK 8, VM_OK, vmwrite %ecx, %eax
    mov $0x2800, %eax           /* full: bits 63:32 cleared */
    mov $0xFFFFFFFF, %ecx
    VMX_CHECK 8, VM_OK, vmwrite %ecx, %eax
    mov $0x2801, %eax
    VMX_CHECK 8, VM_OK, vmread %eax, %ecx
    test %ecx, %ecx
    jnz fail8
    mov $2, %ecx
    VMX_CHECK 8, VM_OK, vmwrite %ecx, %eax
    mov $0x2800, %eax
    VMX_CHECK 8, VM_OK, vmread %eax, %ecx
    cmp $0xFFFFFFFF, %ecx
    jne fail8
    mov $0x2801, %eax
    VMX_CHECK 8, VM_OK, vmread %eax, %ecx
    cmp $2, %ecx
    jne fail8

    mov $0x10000, %eax
    VMX_CHECK 9, VM_FAIL_VALID, vmread %eax, %ecx
    mov $0x4400, %eax           /* VM-instruction error */
    VMX_CHECK 9, VM_OK, vmread %eax, %ecx
    cmp $12, %ecx
    jne fail9

    movl $0xFFFFFFFF, stored
    movl $0xFFFFFFFF, stored + 4
    VMX_CHECK 10, VM_OK, vmptrst stored
    cmpl $vmcs_region, stored
    jne fail10
    cmpl $0, stored + 4
    jne fail10

    VMX_CHECK 11, VM_OK, vmxoff

    mov $s_ok, %esi
    call puts
    mov $0x2A, %al
    out %al, $0xF4
2:  hlt
    jmp 2b

.irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
fail\n:
    mov $\n, %bl
    jmp fail
.endr
fail:
    mov $s_fail, %esi
    call puts
    mov %bl, %al
    out %al, $0xF4
3:  hlt
    jmp 3b

/* puts: the NUL-terminated string at ESI to port 0xE9 */
puts:
    lodsb
    test %al, %al
    jz 4f
    out %al, $0xE9
    jmp puts
4:  ret

    .section .rodata
s_ok:   .asciz "vmx32 ok\n"
s_fail: .asciz "vmx32 FAIL\n"

    .data
    .align 8
ptr:    .quad 0
stored: .quad 0
value:  .long 0
    .align 8
result: .quad 0

    .bss
    .align 4096
page_dir:     .skip 4096
vmxon_region: .skip 4096
vmcs_region:  .skip 4096
    .skip 4096
stack_top:
