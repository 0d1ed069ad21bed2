/*
 * ud_regop.S - VMXON, VMCLEAR, VMPTRLD, VMPTRST, INVEPT and INVVPID take
 * only memory operands: the register form (ModRM.mod = 3) is #UD (SDM
 * Vol. 3C 31.3, "#UD If operand is a register").  Encoded by hand, with
 * ModRM.rm = 3 (RBX): the destination RDRAND/RDSEED would write if the
 * bytes were taken for those instructions (0F C7 /6 and /7 with mod = 3
 * are RDRAND and RDSEED on processors that have them; the model
 * implements neither), so RBX must be unchanged.  Tested in VMX root
 * operation with a current VMCS, so that the operand form is the only
 * reason for the #UD; VMXON also outside VMX operation.
 */
#include "common.inc"

        .set SENTINEL, 0x5A5A5A5A5A5A5A5A

.macro REG_UD bytes:vararg
        movabsq $SENTINEL, %rbx
        VMX_UD .byte \bytes
        movq %rbx, %rax
        ASSERT_RAX SENTINEL, msg_value
.endm

main:
        SET_VMXE
        REG_UD 0xF3, 0x0F, 0xC7, 0xF3            /* vmxon rbx */
        DO_VMXON
        DO_VMPTRLD vmcs1
        REG_UD 0xF3, 0x0F, 0xC7, 0xF3            /* vmxon rbx */
        REG_UD 0x66, 0x0F, 0xC7, 0xF3            /* vmclear rbx */
        REG_UD 0x0F, 0xC7, 0xF3                  /* vmptrld rbx */
        REG_UD 0x0F, 0xC7, 0xFB                  /* vmptrst rbx */
        movl $2, %ecx
        REG_UD 0x66, 0x0F, 0x38, 0x80, 0xCB      /* invept rcx, rbx */
        REG_UD 0x66, 0x0F, 0x38, 0x81, 0xCB      /* invvpid rcx, rbx */
        /* Nothing changed: the current VMCS is still vmcs1. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 1f
        leaq msg_value(%rip), %rsi
        jmp fail
1:      VMX_OK vmxoff
        ret
