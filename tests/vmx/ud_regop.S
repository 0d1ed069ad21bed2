/*
 * ud_regop.S - VMXON, VMCLEAR, VMPTRLD, VMPTRST, INVEPT and INVVPID take
 * only memory operands; the SDM lists the register form (ModRM.mod = 3)
 * as #UD (SDM Vol. 3C 31.3, "#UD If operand is a register").  Encoded by
 * hand, with ModRM.rm = 3 (RBX), which must be unchanged.
 *
 * 0F C7 /6 and /7 with a register operand are also RDRAND and RDSEED:
 * with an F3H prefix (VMXON's) RDRAND is #UD (SDM Vol. 2B RDRAND), so
 * VMXON's register form is #UD on any processor without SENDUIPI; the
 * register forms of VMCLEAR (66H: RDRAND r16), VMPTRLD (RDRAND r32) and
 * VMPTRST (RDSEED r32) are #UD only where CPUID reports no RDRAND
 * (CPUID.01H:ECX[30]) or no RDRAND and RDSEED (CPUID.(07H,0):EBX[18]);
 * elsewhere they are those instructions (the model does not implement
 * them and reports "not modelled"), so they are tried only where they
 * are #UD.  Tested in VMX root operation with a current VMCS, so that
 * the operand form is the only reason for the #UD; VMXON also outside VMX
 * operation.
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
        testl $(1 << 30), cpuid1_ecx(%rip)        /* RDRAND */
        jnz 1f
        REG_UD 0x66, 0x0F, 0xC7, 0xF3            /* vmclear rbx */
        REG_UD 0x0F, 0xC7, 0xF3                  /* vmptrld rbx */
1:      movl $7, %eax
        xorl %ecx, %ecx
        cpuid
        testl $(1 << 18), %ebx                    /* RDSEED */
        jnz 2f
        REG_UD 0x0F, 0xC7, 0xFB                  /* vmptrst rbx */
2:      movl $2, %ecx
        REG_UD 0x66, 0x0F, 0x38, 0x80, 0xCB      /* invept rcx, rbx */
        REG_UD 0x66, 0x0F, 0x38, 0x81, 0xCB      /* invvpid rcx, rbx */
        /* Nothing changed: the current VMCS is still vmcs1. */
        VMX_OK vmptrst ptr2(%rip)
        leaq vmcs1(%rip), %rax
        cmpq %rax, ptr2(%rip)
        je 3f
        leaq msg_value(%rip), %rsi
        jmp fail
3:      VMX_OK vmxoff
        ret
