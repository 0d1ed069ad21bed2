/*
 * invept.S - INVEPT and INVVPID in VMX root operation (SDM Vol. 3C 31.3
 * pseudo-code; supported types from IA32_VMX_EPT_VPID_CAP, Appendix
 * A.10): a type the processor does not support is VMfail(28) before the
 * descriptor is read (VMfailInvalid without a current VMCS, VMfailValid
 * with one), including a type with bits 63:32 set in 64-bit mode;
 * INVEPT single-context with an EPTP that VM entry would reject is 28
 * (memory type, page-walk length, reserved bits 11:7, bits beyond
 * MAXPHYADDR, accessed/dirty flags only if supported); INVVPID with
 * descriptor bits 63:16 set, VPID 0 for the types that need a VPID, or a
 * non-canonical address for the individual-address type is 28; valid
 * operands succeed.  On a processor without INVEPT/INVVPID both are #UD.
 */
#include "common.inc"

/* desc := {\lo, \hi} */
.macro DESC lo, hi
        movabsq $\lo, %rax
        movq %rax, desc(%rip)
        movabsq $\hi, %rax
        movq %rax, desc + 8(%rip)
.endm

/* The type \type is supported if bit \bit of the 64-bit capability MSR
 * value (ept_cap:vpid_cap) is 1: then \ok, else VMfailValid(28). */
.macro TYPE_CASE bit, type, insn:vararg
        movabsq $\type, %rcx
        .if \bit < 32
        btl $\bit, ept_cap(%rip)
        .else
        btl $(\bit - 32), vpid_cap(%rip)
        .endif
        jnc .Lno\@
        VMX_OK \insn
        jmp .Ldone\@
.Lno\@:
        VMX_FAILVALID 28, \insn
.Ldone\@:
.endm

        .set EPTP_WB4, 0x1E            /* WB (6), page-walk length 4 - 1 */

main:
        DO_VMXON
        cmpb $0, have_invept(%rip)
        jne 1f
        movl $2, %ecx
        VMX_UD invept desc(%rip), %rcx
        jmp vpid
1:
        /* No current VMCS: unsupported types are VMfailInvalid. */
        xorl %ecx, %ecx
        VMX_FAILINVALID invept desc(%rip), %rcx
        DO_VMPTRLD vmcs1
        /* INVEPT types: 1 single-context (bit 25), 2 all-context (bit 26);
         * 0, 3 and anything larger are never valid. */
        xorl %ecx, %ecx
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        movl $3, %ecx
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        movabsq $0x100000002, %rcx
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        DESC 0, 0
        TYPE_CASE 26, 2, invept desc(%rip), %rcx
        btl $25, ept_cap(%rip)
        jnc vpid
        leaq scratch(%rip), %rax
        orq $EPTP_WB4, %rax
        movq %rax, desc(%rip)
        movq %rax, %r12
        movl $1, %ecx
        VMX_OK invept desc(%rip), %rcx
        /* Memory type 1 (WC) is not valid for EPT paging structures. */
        movq %r12, %rax
        xorq $7, %rax
        orq $1, %rax
        movq %rax, desc(%rip)
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        /* Page-walk length 2 (field value 1) */
        movq %r12, %rax
        andq $~0x38, %rax
        orq $0x08, %rax
        movq %rax, desc(%rip)
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        /* Reserved bits 11:8 */
        movq %r12, %rax
        orq $0x100, %rax
        movq %rax, desc(%rip)
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        /* Bit 7 (supervisor shadow-stack control): valid only with bit 23,
         * as for VM entry (INVEPT applies the checks of 27.2.1.1). */
        movq %r12, %rax
        orq $0x80, %rax
        movq %rax, desc(%rip)
        TYPE_CASE 23, 1, invept desc(%rip), %rcx
        /* A bit beyond MAXPHYADDR */
        movq %r12, %rax
        movq maxphyaddr(%rip), %rdx
        btsq %rdx, %rax
        movq %rax, desc(%rip)
        VMX_FAILVALID 28, invept desc(%rip), %rcx
        /* Accessed and dirty flags (bit 6): valid only with bit 21. */
        movq %r12, %rax
        orq $0x40, %rax
        movq %rax, desc(%rip)
        TYPE_CASE 21, 1, invept desc(%rip), %rcx

vpid:
        cmpb $0, have_invvpid(%rip)
        jne 1f
        movl $2, %ecx
        VMX_UD invvpid desc(%rip), %rcx
        jmp done
1:
        /* No current VMCS */
        PTR vmcs1
        VMX_OK vmclear ptr(%rip)
        movl $4, %ecx
        VMX_FAILINVALID invvpid desc(%rip), %rcx
        DO_VMPTRLD vmcs1
        /* Types 0-3 per bits 40-43; 4 and up never. */
        movl $4, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        movabsq $0x100000002, %rcx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        /* Valid descriptors */
        DESC 1, 0x401000
        TYPE_CASE 40, 0, invvpid desc(%rip), %rcx
        DESC 1, 0
        TYPE_CASE 41, 1, invvpid desc(%rip), %rcx
        DESC 0, 0
        TYPE_CASE 42, 2, invvpid desc(%rip), %rcx
        DESC 5, 0
        TYPE_CASE 43, 3, invvpid desc(%rip), %rcx
        /* VPID 0 is invalid for types 0, 1, 3 (not for 2, above) */
        DESC 0, 0x401000
        movl $0, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        DESC 0, 0
        movl $1, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        movl $3, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        /* Descriptor bits 63:16 must be 0, for every type */
        DESC 0x10001, 0
        movl $0, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        movl $1, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        movl $2, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        movl $3, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        /* The linear address must be canonical for type 0 */
        DESC 1, 0x0000800000000000
        movl $0, %ecx
        VMX_FAILVALID 28, invvpid desc(%rip), %rcx
        /* ... and is ignored by the other types */
        DESC 1, 0x0000800000000000
        TYPE_CASE 41, 1, invvpid desc(%rip), %rcx
done:
        VMX_OK vmxoff
        ret
