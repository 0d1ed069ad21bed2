/*
 * decoder.c - capstone front end: instruction boundaries, disassembly, and
 * the classification of the instructions the model owns.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "decoder_internal.h"

struct vx_decoder {
    csh cs[3];        /* 16-, 32-, 64-bit handles */
    cs_insn *scratch[3];
    csh csd[3];       /* the same with detail (classes, operands) */
    cs_insn *dscratch[3];
};

static const char *const op_names[VX_OP_COUNT] = {
    [VX_OP_NONE] = "none",
    [VX_OP_VMXON] = "vmxon", [VX_OP_VMXOFF] = "vmxoff",
    [VX_OP_VMCLEAR] = "vmclear", [VX_OP_VMPTRLD] = "vmptrld",
    [VX_OP_VMPTRST] = "vmptrst", [VX_OP_VMREAD] = "vmread",
    [VX_OP_VMWRITE] = "vmwrite", [VX_OP_VMLAUNCH] = "vmlaunch",
    [VX_OP_VMRESUME] = "vmresume", [VX_OP_VMCALL] = "vmcall",
    [VX_OP_VMFUNC] = "vmfunc", [VX_OP_INVEPT] = "invept",
    [VX_OP_INVVPID] = "invvpid", [VX_OP_CPUID] = "cpuid",
    [VX_OP_RDMSR] = "rdmsr", [VX_OP_WRMSR] = "wrmsr",
    [VX_OP_MOV_TO_CR] = "mov_to_cr", [VX_OP_MOV_FROM_CR] = "mov_from_cr",
    [VX_OP_RDTSC] = "rdtsc", [VX_OP_RDTSCP] = "rdtscp", [VX_OP_HLT] = "hlt",
    [VX_OP_IN] = "in", [VX_OP_OUT] = "out", [VX_OP_INS] = "ins",
    [VX_OP_OUTS] = "outs", [VX_OP_GETSEC] = "getsec",
    [VX_OP_INT] = "int", [VX_OP_INT3] = "int3", [VX_OP_INTO] = "into",
    [VX_OP_INT1] = "int1",
    [VX_OP_INVLPG] = "invlpg", [VX_OP_INVD] = "invd", [VX_OP_WBINVD] = "wbinvd",
    [VX_OP_PAUSE] = "pause", [VX_OP_MWAIT] = "mwait", [VX_OP_MONITOR] = "monitor",
    [VX_OP_RDPMC] = "rdpmc", [VX_OP_XSETBV] = "xsetbv",
    [VX_OP_MOV_TO_DR] = "mov_to_dr", [VX_OP_MOV_FROM_DR] = "mov_from_dr",
    [VX_OP_LGDT] = "lgdt", [VX_OP_LIDT] = "lidt", [VX_OP_SGDT] = "sgdt",
    [VX_OP_SIDT] = "sidt", [VX_OP_LLDT] = "lldt", [VX_OP_LTR] = "ltr",
    [VX_OP_SLDT] = "sldt", [VX_OP_STR] = "str", [VX_OP_RDRAND] = "rdrand",
    [VX_OP_RDSEED] = "rdseed", [VX_OP_INVPCID] = "invpcid", [VX_OP_CLTS] = "clts",
    [VX_OP_LMSW] = "lmsw", [VX_OP_FAR_JMP] = "far_jmp", [VX_OP_FAR_CALL] = "far_call",
    [VX_OP_IRET] = "iret", [VX_OP_XSAVES] = "xsaves", [VX_OP_XRSTORS] = "xrstors",
    [VX_OP_STI] = "sti", [VX_OP_SMSW] = "smsw",
};

int vx_op_nonroot_only(vx_op op)
{
    /* INVLPG and INVPCID are the model's in root operation too: they
     * invalidate its TLB (sim/tlb.c). */
    return op > VX_OP_INVLPG && op < VX_OP_COUNT && op != VX_OP_INVPCID;
}

const char *vx_op_name(vx_op op)
{
    return op < VX_OP_COUNT ? op_names[op] : "?";
}

static int mode_index(int mode)
{
    return mode == 16 ? 0 : mode == 32 ? 1 : 2;
}

vx_decoder *vx_decoder_new(void)
{
    static const cs_mode modes[3] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
    vx_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    for (int i = 0; i < 3; i++) {
        if (cs_open(CS_ARCH_X86, modes[i], &d->cs[i]) != CS_ERR_OK) {
            vx_decoder_free(d);
            return NULL;
        }
        d->scratch[i] = cs_malloc(d->cs[i]);
        if (cs_open(CS_ARCH_X86, modes[i], &d->csd[i]) != CS_ERR_OK ||
            cs_option(d->csd[i], CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
            vx_decoder_free(d);
            return NULL;
        }
        d->dscratch[i] = cs_malloc(d->csd[i]);
    }
    return d;
}

void vx_decoder_free(vx_decoder *d)
{
    if (!d) return;
    for (int i = 0; i < 3; i++) {
        if (d->scratch[i]) cs_free(d->scratch[i], 1);
        if (d->cs[i]) cs_close(&d->cs[i]);
        if (d->dscratch[i]) cs_free(d->dscratch[i], 1);
        if (d->csd[i]) cs_close(&d->csd[i]);
    }
    free(d);
}

/* MOV to/from CRn and DRn is X86_INS_MOV to capstone: tell it by its
 * opcode (0F 20 = MOV r, CRn; 0F 22 = MOV CRn, r; 0F 21, 0F 23 for DRn). */
static vx_op classify_mov(const uint8_t *p, size_t len, int mode)
{
    size_t i = 0;
    while (i < len && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xF0 ||
                       p[i] == 0xF2 || p[i] == 0xF3 || p[i] == 0x26 ||
                       p[i] == 0x2E || p[i] == 0x36 || p[i] == 0x3E ||
                       p[i] == 0x64 || p[i] == 0x65))
        i++;
    if (mode == 64 && i < len && (p[i] & 0xF0) == 0x40) i++;
    if (i + 1 >= len || p[i] != 0x0F) return VX_OP_NONE;
    if (p[i + 1] == 0x20) return VX_OP_MOV_FROM_CR;
    if (p[i + 1] == 0x22) return VX_OP_MOV_TO_CR;
    if (p[i + 1] == 0x21) return VX_OP_MOV_FROM_DR;
    if (p[i + 1] == 0x23) return VX_OP_MOV_TO_DR;
    return VX_OP_NONE;
}

static vx_op classify(unsigned id, const uint8_t *p, size_t len, int mode)
{
    switch (id) {
    case X86_INS_VMXON: return VX_OP_VMXON;
    case X86_INS_VMXOFF: return VX_OP_VMXOFF;
    case X86_INS_VMCLEAR: return VX_OP_VMCLEAR;
    case X86_INS_VMPTRLD: return VX_OP_VMPTRLD;
    case X86_INS_VMPTRST: return VX_OP_VMPTRST;
    case X86_INS_VMREAD: return VX_OP_VMREAD;
    case X86_INS_VMWRITE: return VX_OP_VMWRITE;
    case X86_INS_VMLAUNCH: return VX_OP_VMLAUNCH;
    case X86_INS_VMRESUME: return VX_OP_VMRESUME;
    case X86_INS_VMCALL: return VX_OP_VMCALL;
    case X86_INS_VMFUNC: return VX_OP_VMFUNC;
    case X86_INS_INVEPT: return VX_OP_INVEPT;
    case X86_INS_INVVPID: return VX_OP_INVVPID;
    case X86_INS_CPUID: return VX_OP_CPUID;
    case X86_INS_RDMSR: return VX_OP_RDMSR;
    case X86_INS_WRMSR: return VX_OP_WRMSR;
    case X86_INS_RDTSC: return VX_OP_RDTSC;
    case X86_INS_RDTSCP: return VX_OP_RDTSCP;
    case X86_INS_HLT: return VX_OP_HLT;
    case X86_INS_IN: return VX_OP_IN;
    case X86_INS_OUT: return VX_OP_OUT;
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
        return VX_OP_INS;
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return VX_OP_OUTS;
    case X86_INS_GETSEC: return VX_OP_GETSEC;
    case X86_INS_INT: return VX_OP_INT;
    case X86_INS_INT3: return VX_OP_INT3;
    case X86_INS_INTO: return VX_OP_INTO;
    case X86_INS_INT1: return VX_OP_INT1;
    case X86_INS_MOV: return classify_mov(p, len, mode);
    case X86_INS_INVLPG: return VX_OP_INVLPG;
    case X86_INS_INVD: return VX_OP_INVD;
    case X86_INS_WBINVD: return VX_OP_WBINVD;
    case X86_INS_PAUSE: return VX_OP_PAUSE;
    case X86_INS_MWAIT: return VX_OP_MWAIT;
    case X86_INS_MONITOR: return VX_OP_MONITOR;
    case X86_INS_RDPMC: return VX_OP_RDPMC;
    case X86_INS_XSETBV: return VX_OP_XSETBV;
    case X86_INS_LGDT: return VX_OP_LGDT;
    case X86_INS_LIDT: return VX_OP_LIDT;
    case X86_INS_SGDT: return VX_OP_SGDT;
    case X86_INS_SIDT: return VX_OP_SIDT;
    case X86_INS_LLDT: return VX_OP_LLDT;
    case X86_INS_LTR: return VX_OP_LTR;
    case X86_INS_SLDT: return VX_OP_SLDT;
    case X86_INS_STR: return VX_OP_STR;
    case X86_INS_RDRAND: return VX_OP_RDRAND;
    case X86_INS_RDSEED: return VX_OP_RDSEED;
    case X86_INS_INVPCID: return VX_OP_INVPCID;
    case X86_INS_CLTS: return VX_OP_CLTS;
    case X86_INS_LMSW: return VX_OP_LMSW;
    case X86_INS_LJMP: return VX_OP_FAR_JMP;
    case X86_INS_LCALL: return VX_OP_FAR_CALL;
    case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ: return VX_OP_IRET;
    case X86_INS_XSAVES: case X86_INS_XSAVES64: return VX_OP_XSAVES;
    case X86_INS_XRSTORS: case X86_INS_XRSTORS64: return VX_OP_XRSTORS;
    case X86_INS_STI: return VX_OP_STI;
    case X86_INS_SMSW: return VX_OP_SMSW;
    default: return VX_OP_NONE;
    }
}

int vx_decode(vx_decoder *d, int mode, const uint8_t *code, size_t len,
              uint64_t addr, vx_insn *out)
{
    int mi = mode_index(mode);
    const uint8_t *p = code;
    size_t n = len > 15 ? 15 : len;
    uint64_t a = addr;
    memset(out, 0, sizeof *out);
    out->addr = addr;
    out->mode = mode;
    if (!cs_disasm_iter(d->cs[mi], &p, &n, &a, d->scratch[mi])) {
        snprintf(out->text, sizeof out->text, "(bad)");
        return -1;
    }
    cs_insn *ci = d->scratch[mi];
    out->len = (uint8_t)ci->size;
    memcpy(out->bytes, code, ci->size);
    out->op = classify(ci->id, code, ci->size, mode);
    if (ci->op_str[0])
        snprintf(out->text, sizeof out->text, "%s %s", ci->mnemonic, ci->op_str);
    else
        snprintf(out->text, sizeof out->text, "%s", ci->mnemonic);
    if (vx_decode_operands(code, ci->size, mode, out) < 0)
        return -1;
    return 0;
}

int vx_decode_block_costs(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                          uint64_t addr, uint16_t *offs, uint8_t *ops, uint8_t *cls,
                          uint8_t *mem, int max)
{
    int mi = mode_index(mode);
    csh h = cls ? d->csd[mi] : d->cs[mi];
    cs_insn *ci = cls ? d->dscratch[mi] : d->scratch[mi];
    int count = 0;
    size_t off = 0;
    while (off < len && count < max) {
        const uint8_t *p = code + off;
        size_t n = len - off;
        uint64_t a = addr + off;
        offs[count] = (uint16_t)off;
        if (cs_disasm_iter(h, &p, &n, &a, ci)) {
            ops[count] = (uint8_t)classify(ci->id, code + off, ci->size, mode);
            if (cls) vx_iclass_of(ci, &cls[count], &mem[count]);
            off += ci->size;
        } else {
            ops[count] = VX_OP_NONE;
            if (cls) {
                cls[count] = VX_IC_other;
                mem[count] = 0;
            }
            off += 1;
        }
        count++;
    }
    return count;
}

int vx_decode_block(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                    uint64_t addr, uint16_t *offs, uint8_t *ops, int max)
{
    return vx_decode_block_costs(d, mode, code, len, addr, offs, ops, NULL, NULL, max);
}

size_t vx_mem_operand_size(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                           uint64_t addr)
{
    int mi = mode_index(mode);
    const uint8_t *p = code;
    size_t n = len > 15 ? 15 : len;
    if (!cs_disasm_iter(d->csd[mi], &p, &n, &addr, d->dscratch[mi]) || !d->dscratch[mi]->detail)
        return 0;
    const cs_x86 *x = &d->dscratch[mi]->detail->x86;
    for (unsigned i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM) return x->operands[i].size;
    return 0;
}

void vx_disasm(vx_decoder *d, int mode, const uint8_t *code, size_t len,
               uint64_t addr, char *text, size_t textlen)
{
    int mi = mode_index(mode);
    const uint8_t *p = code;
    size_t n = len > 15 ? 15 : len;
    uint64_t a = addr;
    if (!cs_disasm_iter(d->cs[mi], &p, &n, &a, d->scratch[mi])) {
        snprintf(text, textlen, "(bad)");
        return;
    }
    cs_insn *ci = d->scratch[mi];
    if (ci->op_str[0])
        snprintf(text, textlen, "%s %s", ci->mnemonic, ci->op_str);
    else
        snprintf(text, textlen, "%s", ci->mnemonic);
}
