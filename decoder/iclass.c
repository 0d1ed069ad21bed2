/*
 * iclass.c - the cycle model's view of an ordinary instruction: its class
 * (vmcs/cycles.def) and whether it reads or writes a memory operand,
 * from capstone's instruction groups, identifiers and operand access
 * (detail mode, so done once per decoded block, never per execution).
 */
#include <capstone/capstone.h>

#include "decoder.h"
#include "decoder_internal.h"

static int in_group(const cs_detail *d, unsigned g)
{
    for (unsigned i = 0; i < d->groups_count; i++)
        if (d->groups[i] == g) return 1;
    return 0;
}

static int by_id(unsigned id)
{
    switch (id) {
    case X86_INS_MUL: case X86_INS_IMUL: case X86_INS_MULX:
        return VX_IC_mul;
    case X86_INS_DIV: case X86_INS_IDIV:
        return VX_IC_div;
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
        return VX_IC_string;
    case X86_INS_PUSH: case X86_INS_POP: case X86_INS_PUSHF: case X86_INS_PUSHFD:
    case X86_INS_PUSHFQ: case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
    case X86_INS_PUSHAW: case X86_INS_PUSHAL: case X86_INS_POPAW: case X86_INS_POPAL:
    case X86_INS_ENTER: case X86_INS_LEAVE:
        return VX_IC_stack;
    case X86_INS_LFENCE: case X86_INS_MFENCE: case X86_INS_SFENCE: case X86_INS_LJMP:
    case X86_INS_LCALL: case X86_INS_RETF: case X86_INS_RETFQ: case X86_INS_IRET:
    case X86_INS_IRETD: case X86_INS_IRETQ: case X86_INS_SYSCALL: case X86_INS_SYSRET:
    case X86_INS_SYSENTER: case X86_INS_SYSEXIT: case X86_INS_SWAPGS: case X86_INS_LAR:
    case X86_INS_LSL: case X86_INS_VERR: case X86_INS_VERW: case X86_INS_CLFLUSH:
    case X86_INS_CLFLUSHOPT: case X86_INS_XCHG: case X86_INS_CMPXCHG:
    case X86_INS_CMPXCHG8B: case X86_INS_CMPXCHG16B: case X86_INS_XADD:
        return VX_IC_serial;
    default:
        return -1;
    }
}

void vx_iclass_of(const cs_insn *ci, uint8_t *cls, uint8_t *mem)
{
    const cs_detail *d = ci->detail;
    *mem = 0;
    if (!d) {
        *cls = VX_IC_other;
        return;
    }
    int c = by_id(ci->id);
    if (c < 0) {
        if (in_group(d, X86_GRP_IRET)) c = VX_IC_serial;
        else if (in_group(d, X86_GRP_JUMP) || in_group(d, X86_GRP_CALL) ||
                 in_group(d, X86_GRP_RET) || in_group(d, X86_GRP_BRANCH_RELATIVE))
            c = VX_IC_branch;
        else if (in_group(d, X86_GRP_FPU)) c = VX_IC_fp;
        else if (in_group(d, X86_GRP_SSE1) || in_group(d, X86_GRP_SSE2) ||
                 in_group(d, X86_GRP_SSE3) || in_group(d, X86_GRP_SSSE3) ||
                 in_group(d, X86_GRP_SSE41) || in_group(d, X86_GRP_SSE42) ||
                 in_group(d, X86_GRP_AVX) || in_group(d, X86_GRP_AVX2) ||
                 in_group(d, X86_GRP_AVX512) || in_group(d, X86_GRP_MMX) ||
                 in_group(d, X86_GRP_FMA) || in_group(d, X86_GRP_AES) ||
                 in_group(d, X86_GRP_PCLMUL) || in_group(d, X86_GRP_SHA))
            c = VX_IC_simd;
        else if (in_group(d, X86_GRP_PRIVILEGE) || in_group(d, X86_GRP_INT)) c = VX_IC_serial;
        else c = VX_IC_alu;
    }
    *cls = (uint8_t)c;
    /* Memory operands as the instruction's own operands say (LEA and NOP
     * name one without accessing it); stack and string instructions
     * access memory implicitly, which their class's cost includes. */
    if (ci->id == X86_INS_LEA || ci->id == X86_INS_NOP) return;
    for (unsigned i = 0; i < d->x86.op_count; i++) {
        const cs_x86_op *o = &d->x86.operands[i];
        if (o->type != X86_OP_MEM) continue;
        if (o->access & CS_AC_READ) *mem |= VX_MEM_READ;
        if (o->access & CS_AC_WRITE) *mem |= VX_MEM_WRITE;
        if (!o->access) *mem |= VX_MEM_READ; /* capstone does not know: count a read */
    }
}
