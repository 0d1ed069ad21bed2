/*
 * pf_operand.S - faults on the memory operands of VMX instructions (SDM
 * Vol. 3C 31.3, the #PF/#GP/#SS entries of each instruction's 64-bit mode
 * exceptions).  The program maps 0x400000-0x5FFFFF with 4 KiB pages of
 * its own, 0x401000 not present and 0x402000 read-only.  Reads of a
 * not-present page give #PF with error code 0, writes 2 (SDM Vol. 3A
 * 4.7); a supervisor write to a read-only page faults (error code 3)
 * only with CR0.WP = 1, for the instruction's access as for the
 * processor's own; CR2 holds the address.  A write crossing into a
 * not-present page changes nothing.  Non-canonical addresses give #GP(0),
 * or #SS(0) when the stack segment is used.  Operands that the
 * pseudo-code does not reach are not accessed: VMXON in root operation
 * fails with 15, and INVEPT with an unsupported type fails with 28,
 * whatever their memory operand.
 */
#include "common.inc"

        .set CR0_WP, 0x10000

main:
        call setup_pf_pages
        SET_VMXE
        INIT_REGION vmxon_region
        movl $PF_NP, %ebx
        /* VMXON reads its operand only after the #GP checks */
        VMX_PF 0, PF_NP, vmxon (%rbx)
        /* An operand that straddles into the not-present page */
        movl $(PF_NP - 4), %ebx
        VMX_PF 0, PF_NP, vmxon (%rbx)
        /* Non-canonical: #GP(0); with RSP as base: #SS(0) */
        movabsq $0x0000800000000000, %rbx
        VMX_GP0 vmxon (%rbx)
        movabsq $0x0000800000000000, %rdi
        VMX_FAULT SS_FAULT, 0, vmxon (%rsp, %rdi)
        movabsq $0xFFFF7FFFFFFFFFF8, %rbx
        VMX_GP0 vmxon (%rbx)
        /* Still outside VMX operation */
        VMX_UD vmxoff
        PTR vmxon_region
        VMX_OK vmxon ptr(%rip)

        /* VMXON in root: VMfail(15) without reading the operand */
        movl $PF_NP, %ebx
        VMX_FAILINVALID vmxon (%rbx)

        VMX_PF 0, PF_NP, vmclear (%rbx)
        VMX_PF 0, PF_NP, vmptrld (%rbx)
        VMX_PF 2, PF_NP, vmptrst (%rbx)
        movabsq $0x0000800000000000, %rbx
        VMX_GP0 vmclear (%rbx)
        VMX_GP0 vmptrld (%rbx)
        VMX_GP0 vmptrst (%rbx)
        movabsq $0x0000800000000000, %rdi
        VMX_FAULT SS_FAULT, 0, vmptrst (%rsp, %rdi)

        /* VMPTRST to a read-only page: allowed at CPL 0 with CR0.WP = 0
         * (the start state), #PF(3) with CR0.WP = 1. */
        movl $PF_RO, %ebx
        VMX_OK vmptrst (%rbx)
        movq PF_RO, %rax
        ASSERT_RAX -1, msg_memory
        movq %cr0, %rax
        orq $CR0_WP, %rax
        movq %rax, %cr0
        VMX_PF 3, PF_RO, vmptrst (%rbx)
        /* The processor's own writes see CR0.WP too (the engine's TLB was
         * flushed by MOV to CR0). */
        VMX_PF 3, PF_RO, movl $2, (%rbx)
        /* A page made not present and CR3 reloaded: the next access
         * faults, though the translation was used just before (MOV to
         * CR3 invalidates the TLB, SDM Vol. 3A 4.10.4.1). */
        movl $0x403000, %ebx
        movl (%rbx), %eax
        movq $0, pf_pt + 3 * 8(%rip)
        movq %cr3, %rax
        movq %rax, %cr3
        VMX_PF 0, 0x403000, movl (%rbx), %eax

        /* A write that crosses into the not-present page: the first
         * page's bytes stay as they were. */
        movl $(PF_NP - 4), %ebx
        movl $0x11111111, PF_NP - 4
        VMX_PF 2, PF_NP, vmptrst (%rbx)
        movl PF_NP - 4, %eax
        ASSERT_RAX 0x11111111, msg_memory

        DO_VMPTRLD vmcs1
        movl $PF_NP, %ebx
        movl $F_GUEST_RIP, %ecx
        VMX_PF 2, PF_NP, vmread %rcx, (%rbx)
        VMX_PF 0, PF_NP, vmwrite (%rbx), %rcx
        movl $PF_RO, %ebx
        VMX_PF 3, PF_RO, vmread %rcx, (%rbx)
        movl $PF_NP, %ebx
        /* VMREAD/VMWRITE check the field before touching the operand. */
        movl $0x1000, %ecx
        VMX_FAILVALID 12, vmread %rcx, (%rbx)
        VMX_FAILVALID 12, vmwrite (%rbx), %rcx

        /* INVEPT/INVVPID: the type is checked before the descriptor is
         * read. */
        cmpb $0, have_invept(%rip)
        je 1f
        xorl %ecx, %ecx
        VMX_FAILVALID 28, invept (%rbx), %rcx
        movl $2, %ecx
        VMX_PF 0, PF_NP, invept (%rbx), %rcx
        movabsq $0x0000800000000000, %rdi
        VMX_GP0 invept (%rdi), %rcx
1:      cmpb $0, have_invvpid(%rip)
        je 2f
        movl $4, %ecx
        VMX_FAILVALID 28, invvpid (%rbx), %rcx
        movl $2, %ecx
        VMX_PF 0, PF_NP, invvpid (%rbx), %rcx
        /* The 16-byte descriptor straddling into the not-present page */
        movl $(PF_NP - 8), %edi
        VMX_PF 0, PF_NP, invvpid (%rdi), %rcx
2:
        /* The faults did not disturb the current VMCS. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 3f
        leaq msg_value(%rip), %rsi
        jmp fail
3:      VMX_OK vmxoff
        ret
