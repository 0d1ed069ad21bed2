/*
 * vmcs_size.S - the model keeps a VMCS inside its region.  The region's
 * size is IA32_VMX_BASIC[44:32] (SDM Vol. 3D A.1: 1024 bytes on both
 * profiles, as Intel cores report); the bytes after it in the 4-KByte
 * page belong to software, so neither VMCLEAR nor VMXOFF may write them
 * and VMPTRLD may not depend on them.
 *
 * Every field of the table (vmcs/fields.def) that the processor has and
 * VMWRITE may write gets a value of its own; then:
 *   - VMCLEAR writes the VMCS back: the sentinel bytes after the region
 *     are intact;
 *   - the region's bytes (exactly the VMCS size) are copied to another
 *     page whose bytes after the region hold other bytes; VMPTRLD of the
 *     copy reads every value back: the VMCS survives VMCLEAR and VMPTRLD
 *     at another address, and VMPTRLD read nothing after the region;
 *   - VMXOFF with both VMCSs active writes both back: sentinels intact.
 */
#include "common.inc"

        .set SENTINEL1, 0xA5    /* after vmcs1's region */
        .set SENTINEL2, 0x5A    /* after vmcs2's region */

main:
        DO_VMXON
        movl vmx_basic_hi(%rip), %eax
        andl $0x1FFF, %eax
        movq %rax, vsize(%rip)
        CHECK_BEGIN
        cmpq $16, %rax                  /* the header at least... */
        jb 1f
        cmpq $4096, %rax                /* ...and at most a page (A.1) */
        jbe 2f
1:      leaq msg_size(%rip), %rsi
        jmp fail
2:
        /* Sentinel after vmcs1's region. */
        leaq vmcs1(%rip), %rdi
        movb $SENTINEL1, %al
        call fill_tail

        DO_VMPTRLD vmcs1
        call write_fields
        CHECK_BEGIN
        cmpq $100, nwritten(%rip)       /* the loop did write fields */
        jae 3f
        movq nwritten(%rip), %rax
        leaq msg_count(%rip), %rsi
        jmp fail
3:
        PTR vmcs1
        VMX_OK vmclear ptr(%rip)
        leaq vmcs1(%rip), %rdi
        movb $SENTINEL1, %al
        call check_tail

        /* Copy the region, and only the region, to vmcs2, whose page
         * holds other bytes. */
        leaq vmcs2(%rip), %rdi
        movb $SENTINEL2, %al
        movl $4096, %ecx
        rep stosb
        leaq vmcs1(%rip), %rsi
        leaq vmcs2(%rip), %rdi
        movq vsize(%rip), %rcx
        rep movsb
        PTR vmcs2
        VMX_OK vmptrld ptr(%rip)
        call check_fields

        /* vmcs1 active again beside vmcs2; VMXOFF writes both back. */
        PTR vmcs1
        VMX_OK vmptrld ptr(%rip)
        call check_fields
        VMX_OK vmxoff
        leaq vmcs1(%rip), %rdi
        movb $SENTINEL1, %al
        call check_tail
        leaq vmcs2(%rip), %rdi
        movb $SENTINEL2, %al
        call check_tail
        ret

/* Fill the bytes of the page at RDI after the region with AL. */
fill_tail:
        movq vsize(%rip), %rcx
        addq %rcx, %rdi
        negq %rcx
        addq $4096, %rcx
        rep stosb
        ret

/* Fail unless every byte of the page at RDI after the region is AL. */
check_tail:
        CHECK_BEGIN
        movq vsize(%rip), %rcx
1:      cmpq $4096, %rcx
        jae 2f
        cmpb %al, (%rdi,%rcx)
        jne 3f
        incq %rcx
        jmp 1b
2:      ret
3:      movq %rcx, %rax                 /* the offset of the byte written */
        leaq msg_tail(%rip), %rsi
        jmp fail

/* The value field RCX gets: a different one for each encoding. */
pattern:
        movabsq $0x9E3779B97F4A7C15, %rax
        imulq %rcx, %rax
        movabsq $0x0123456789ABCDEF, %rdx
        xorq %rdx, %rax
        ret

/* RAX := RAX cut to the width of field RCX (encoding bits 14:13: 0
 * 16-bit, 1 64-bit, 2 32-bit, 3 natural width). */
cut:
        movl %ecx, %edx
        shrl $13, %edx
        andl $3, %edx
        cmpl $0, %edx
        jne 1f
        movzwl %ax, %eax
        ret
1:      cmpl $2, %edx
        jne 2f
        movl %eax, %eax
2:      ret

/* ZF := whether field RCX is one the loops write: VMREAD of it succeeds
 * (the processor has it) and it is not a VM-exit information field
 * (bits 11:10 = 1) unless IA32_VMX_MISC[29] lets VMWRITE write those.
 * Not the VM-instruction error either: the VMfailValid(12) of this very
 * probe on a field the processor lacks writes it. */
writable:
        cmpl $F_VMINSTR_ERROR, %ecx
        je 1f
        vmread %rcx, %rax
        jbe 1f                          /* CF or ZF: VMfail */
        movl %ecx, %eax
        shrl $10, %eax
        andl $3, %eax
        cmpl $1, %eax
        jne 2f
        testl $(1 << 29), vmx_misc(%rip)
        jnz 2f
1:      orl $1, %eax                    /* ZF = 0: skip */
        ret
2:      xorl %eax, %eax                 /* ZF = 1 */
        ret

/* VMWRITE its pattern to every writable field of the current VMCS. */
write_fields:
        movq $0, nwritten(%rip)
        leaq fields(%rip), %rbx
1:      cmpq $fields_end, %rbx
        jae 3f
        movl (%rbx), %ecx
        call writable
        jnz 2f
        call pattern
        movq %rax, %r8
        VMX_OK vmwrite %r8, %rcx
        incq nwritten(%rip)
2:      addq $4, %rbx
        jmp 1b
3:      ret

/* Every writable field of the current VMCS holds its pattern. */
check_fields:
        leaq fields(%rip), %rbx
1:      cmpq $fields_end, %rbx
        jae 3f
        movl (%rbx), %ecx
        call writable
        jnz 2f
        call pattern
        call cut
        movq %rax, %r9
        CHECK_BEGIN
        movq $-1, %r8
        vmread %rcx, %r8
        movq %r8, %rax
        cmpq %r9, %rax
        je 2f
        movq %rcx, %rax                 /* the field that changed */
        leaq msg_field(%rip), %rsi
        jmp fail
2:      addq $4, %rbx
        jmp 1b
3:      ret

        .section .rodata
msg_size:       .asciz "VMCS size"
msg_count:      .asciz "fields written"
msg_tail:       .asciz "byte after the VMCS region written, at offset"
msg_field:      .asciz "value lost, field"
/* The encoding of every field of the table. */
        .balign 4
fields:
#define VX_FIELD(enc, name, feat) .long enc
#include "../../vmcs/fields.def"
#undef VX_FIELD
fields_end:

        .section .bss
        .balign 8
vsize:          .skip 8
nwritten:       .skip 8
