/*
 * vmrw.S - VMREAD and VMWRITE (SDM Vol. 3C 31.3; field encodings 25.11.2,
 * Appendix B): VMfailInvalid without a current VMCS; VMfailValid(12) for
 * encodings that name no field (reserved bits, bits 63:32 set in 64-bit
 * mode, the high access of a field that is not 64 bits wide) and for a
 * field the processor does not support (EPTP without EPT); VMWRITE to a
 * read-only VM-exit information field: VMfailValid(13) if
 * IA32_VMX_MISC[29] = 0, success if 1; a 16-bit, 32-bit, 64-bit (full and
 * high access) and natural-width field written with all 64 bits and read
 * back truncated and zero-extended; register and memory operands.
 */
#include "common.inc"

/* Fail unless VMREAD of field \enc into a register gives \value (the
 * register starts all ones, so zero-extension shows). */
.macro READ_IS enc, value
        movl $\enc, %ecx
        movq $-1, %rbx
        VMX_OK vmread %rcx, %rbx
        movq %rbx, %rax
        ASSERT_RAX \value, msg_value
.endm

.macro WRITE enc, value
        movl $\enc, %ecx
        movabsq $\value, %rbx
        VMX_OK vmwrite %rbx, %rcx
.endm

main:
        DO_VMXON
        /* No current VMCS (the check comes before the encoding's) */
        movl $F_GUEST_RIP, %ecx
        VMX_FAILINVALID vmread %rcx, %rbx
        VMX_FAILINVALID vmwrite %rbx, %rcx
        VMX_FAILINVALID vmread %rcx, scratch(%rip)
        VMX_FAILINVALID vmwrite scratch(%rip), %rcx
        movl $0x1000, %ecx
        VMX_FAILINVALID vmread %rcx, %rbx

        DO_VMPTRLD vmcs1
        /* A cleared VMCS region reads as zero in the model; VM-instruction
         * error starts at 0. */
        READ_IS F_VMINSTR_ERROR, 0

        /* Encodings that correspond to no field: VMfailValid(12). */
        movq $-1, %rbx
        movl $0x1000, %ecx              /* bit 12 is reserved */
        VMX_FAILVALID 12, vmread %rcx, %rbx
        VMX_FAILVALID 12, vmwrite %rbx, %rcx
        movl $(0x8000 | F_GUEST_RIP), %ecx  /* bits 31:15 are reserved */
        VMX_FAILVALID 12, vmread %rcx, %rbx
        movabsq $(0x100000000 | F_GUEST_RIP), %rcx  /* bits 63:32 in 64-bit mode */
        VMX_FAILVALID 12, vmread %rcx, %rbx
        VMX_FAILVALID 12, vmwrite %rbx, %rcx
        movl $(F_GUEST_RIP | 1), %ecx   /* high access, natural width */
        VMX_FAILVALID 12, vmread %rcx, %rbx
        movl $(F_VMINSTR_ERROR | 1), %ecx  /* high access, 32-bit */
        VMX_FAILVALID 12, vmread %rcx, %rbx
        movl $(F_GUEST_ES_SEL | 1), %ecx   /* high access, 16-bit */
        VMX_FAILVALID 12, vmwrite %rbx, %rcx
        /* The failed reads left the destination alone. */
        movq %rbx, %rax
        ASSERT_RAX -1, msg_value

        /* VMsucceed does not touch the VM-instruction error field. */
        WRITE F_GUEST_RIP, 0
        READ_IS F_VMINSTR_ERROR, 12

        /* Widths: write 64 bits, read back the field's width. */
        WRITE F_GUEST_ES_SEL, 0xFEDCBA987654ABCD
        READ_IS F_GUEST_ES_SEL, 0xABCD
        WRITE F_GUEST_ES_LIMIT, 0x123456789ABCDEF0
        READ_IS F_GUEST_ES_LIMIT, 0x9ABCDEF0
        WRITE F_LINK_PTR, 0x1122334455667788
        READ_IS F_LINK_PTR, 0x1122334455667788
        READ_IS F_LINK_PTR_HI, 0x11223344
        WRITE F_LINK_PTR_HI, 0xFFFFFFFFAABBCCDD
        READ_IS F_LINK_PTR, 0xAABBCCDD55667788
        READ_IS F_LINK_PTR_HI, 0xAABBCCDD
        WRITE F_GUEST_RIP, 0xFEDCBA9876543210
        READ_IS F_GUEST_RIP, 0xFEDCBA9876543210

        /* Memory operands: VMREAD stores 64 bits, VMWRITE loads 64. */
        movabsq $0x5555555555555555, %rax
        movq %rax, scratch(%rip)
        movq %rax, scratch + 8(%rip)
        movl $F_GUEST_ES_SEL, %ecx
        VMX_OK vmread %rcx, scratch(%rip)
        ASSERT_MEM scratch(%rip), 0xABCD, msg_memory
        ASSERT_MEM scratch + 8(%rip), 0x5555555555555555, msg_memory
        movabsq $0x0BADC0DE12345678, %rax
        movq %rax, scratch + 16(%rip)
        movl $F_GUEST_ES_LIMIT, %ecx
        VMX_OK vmwrite scratch + 16(%rip), %rcx
        READ_IS F_GUEST_ES_LIMIT, 0x12345678
        movl $F_GUEST_RIP, %ecx
        VMX_OK vmwrite scratch + 16(%rip), %rcx
        VMX_OK vmread %rcx, scratch + 24(%rip)
        ASSERT_MEM scratch + 24(%rip), 0x0BADC0DE12345678, msg_memory

        /* Read-only VM-exit information fields (IA32_VMX_MISC[29]). */
        READ_IS F_EXIT_REASON, 0
        movl $F_EXIT_REASON, %ecx
        movl $0x30, %ebx
        btl $29, vmx_misc(%rip)
        jnc 1f
        VMX_OK vmwrite %rbx, %rcx
        READ_IS F_EXIT_REASON, 0x30
        movl $F_EXIT_QUAL, %ecx
        VMX_OK vmwrite %rbx, %rcx
        READ_IS F_EXIT_QUAL, 0x30
        jmp 2f
1:      VMX_FAILVALID 13, vmwrite %rbx, %rcx
        READ_IS F_EXIT_REASON, 0
        movl $F_EXIT_QUAL, %ecx
        VMX_FAILVALID 13, vmwrite %rbx, %rcx
        READ_IS F_EXIT_QUAL, 0
2:
        /* A field of a feature the processor lacks: the EPT pointer
         * exists only if "enable EPT" may be 1 (procbased2 bit 33). */
        movl $F_EPTP, %ecx
        movq $-1, %rbx
        testl $(1 << 1), procbased2_hi(%rip)
        jz 1f
        VMX_OK vmwrite %rbx, %rcx
        READ_IS F_EPTP, 0xFFFFFFFFFFFFFFFF
        jmp 2f
1:      VMX_FAILVALID 12, vmread %rcx, %rbx
        VMX_FAILVALID 12, vmwrite %rbx, %rcx
2:
        VMX_OK vmxoff
        ret
