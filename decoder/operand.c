/*
 * operand.c - prefixes, opcode and ModRM/SIB decoding for the
 * instructions the model executes itself.
 *
 * Capstone tells where instructions start and what they are called; the
 * model needs the exact operand form (register numbers with REX, the
 * effective address components, address and operand size, segment) to
 * execute VMX instructions and later to build the VM-exit
 * instruction-information field (SDM Vol. 3C 28.2.5), so this file
 * decodes them from the bytes (SDM Vol. 2A 2.1, 2.2: instruction format,
 * ModR/M and SIB, REX).
 */
#include <string.h>

#include "decoder.h"
#include "decoder_internal.h"

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

/* Does the opcode (after 0F, or the 0F 38 map) take a ModRM byte? Only the
 * opcodes of model-owned instructions need an answer. */
static int has_modrm(int map, uint8_t op)
{
    if (map == 1)
        return op == 0x00 || op == 0x01 || op == 0x20 || op == 0x21 || op == 0x22 ||
               op == 0x23 || op == 0x78 || op == 0x79 || op == 0xC7;
    return map == 2; /* 0F 38 xx: INVEPT, INVVPID, INVPCID */
}

/* Decode a 16-bit addressing form (SDM Vol. 2A Table 2-1). */
static int decode_modrm16(const uint8_t *p, size_t len, size_t *pos,
                          uint8_t modrm, vx_operand *o)
{
    static const int8_t base16[8] = {3, 3, 5, 5, 6, 7, 5, 3};   /* BX BX BP BP SI DI BP BX */
    static const int8_t index16[8] = {6, 7, 6, 7, -1, -1, -1, -1}; /* SI DI SI DI */
    int mod = modrm >> 6, rm = modrm & 7;
    o->base = base16[rm];
    o->index = index16[rm];
    o->scale = 1;
    o->seg = (rm == 2 || rm == 3 || rm == 6) ? SEG_SS : SEG_DS;
    if (mod == 0 && rm == 6) {
        if (*pos + 2 > len) return -1;
        o->base = -1;
        o->seg = SEG_DS;
        o->disp = (int16_t)(p[*pos] | p[*pos + 1] << 8);
        *pos += 2;
    } else if (mod == 1) {
        if (*pos + 1 > len) return -1;
        o->disp = (int8_t)p[*pos];
        *pos += 1;
    } else if (mod == 2) {
        if (*pos + 2 > len) return -1;
        o->disp = (int16_t)(p[*pos] | p[*pos + 1] << 8);
        *pos += 2;
    }
    return 0;
}

static int64_t read_disp32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Decode a 32/64-bit addressing form with optional SIB (SDM Vol. 2A
 * Tables 2-2 and 2-3, 2.2.1.6 for RIP-relative addressing). */
static int decode_modrm32(const uint8_t *p, size_t len, size_t *pos,
                          uint8_t modrm, int rex, int mode, vx_operand *o)
{
    int mod = modrm >> 6, rm = modrm & 7;
    o->scale = 1;
    o->index = -1;
    o->seg = SEG_DS;
    if (rm == 4) {
        if (*pos + 1 > len) return -1;
        uint8_t sib = p[(*pos)++];
        int ss = sib >> 6, idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
        int base = (sib & 7) | ((rex & 1) << 3);
        o->scale = 1 << ss;
        o->index = idx == 4 ? -1 : idx; /* no index when SIB.index = 100b */
        if ((sib & 7) == 5 && mod == 0) {
            o->base = -1;
            if (*pos + 4 > len) return -1;
            o->disp = read_disp32(p + *pos);
            *pos += 4;
        } else {
            o->base = base;
        }
    } else if (rm == 5 && mod == 0) {
        if (*pos + 4 > len) return -1;
        o->base = mode == 64 ? VX_BASE_RIP : -1;
        o->disp = read_disp32(p + *pos);
        *pos += 4;
    } else {
        o->base = rm | ((rex & 1) << 3);
    }
    if (o->base == 4 || o->base == 5)
        o->seg = SEG_SS; /* rSP and rBP bases default to SS */
    if (mod == 1) {
        if (*pos + 1 > len) return -1;
        o->disp = (int8_t)p[(*pos)++];
    } else if (mod == 2) {
        if (*pos + 4 > len) return -1;
        o->disp = read_disp32(p + *pos);
        *pos += 4;
    }
    return 0;
}

int vx_decode_operands(const uint8_t *p, size_t len, int mode, vx_insn *in)
{
    size_t pos = 0;
    int opsize_pfx = 0, adsize_pfx = 0, seg = -1, rex = 0;
    in->rep = 0;
    in->modrm_reg = -1;
    in->has_imm = 0;
    memset(&in->rm, 0, sizeof in->rm);
    in->rm.reg = -1;
    in->rm.base = -1;
    in->rm.index = -1;
    for (;;) { /* legacy prefixes, any order (SDM Vol. 2A 2.1.1) */
        if (pos >= len) return -1;
        uint8_t b = p[pos];
        if (b == 0x66) opsize_pfx = 1;
        else if (b == 0x67) adsize_pfx = 1;
        else if (b == 0xF2 || b == 0xF3) in->rep = b;
        else if (b == 0xF0) ;
        else if (b == 0x26) seg = SEG_ES;
        else if (b == 0x2E) seg = SEG_CS;
        else if (b == 0x36) seg = SEG_SS;
        else if (b == 0x3E) seg = SEG_DS;
        else if (b == 0x64) seg = SEG_FS;
        else if (b == 0x65) seg = SEG_GS;
        else break;
        pos++;
    }
    if (mode == 64 && (p[pos] & 0xF0) == 0x40) /* REX must come last */
        rex = p[pos++];
    if (mode == 64) {
        in->addr_size = adsize_pfx ? 32 : 64;
        in->op_size = (rex & 8) ? 64 : opsize_pfx ? 16 : 32;
    } else {
        int def = mode == 32 ? 32 : 16;
        in->addr_size = adsize_pfx ? (def == 32 ? 16 : 32) : def;
        in->op_size = opsize_pfx ? (def == 32 ? 16 : 32) : def;
    }
    if (pos >= len) return -1;
    int map = 0;
    uint8_t op = p[pos++];
    if (op == 0x0F) {
        if (pos >= len) return -1;
        op = p[pos++];
        map = 1;
        if (op == 0x38) {
            if (pos >= len) return -1;
            op = p[pos++];
            map = 2;
        }
    }
    if (map == 0 && (op == 0xE4 || op == 0xE5 || op == 0xE6 || op == 0xE7 ||
                     op == 0xCD)) { /* IN/OUT imm8, INT imm8 */
        if (pos >= len) return -1;
        in->has_imm = 1;
        in->imm = p[pos++];
    }
    /* FF /3 and /5 (far CALL and JMP through memory) take a ModRM. */
    if ((map != 0 && has_modrm(map, op)) || (map == 0 && op == 0xFF)) {
        if (pos >= len) return -1;
        uint8_t modrm = p[pos++];
        in->modrm_reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
        /* MOV to/from CRn ignores ModRM.mod: always a register operand
         * (SDM Vol. 2B MOV--Move to/from Control Registers). */
        int force_reg = map == 1 && (op == 0x20 || op == 0x22);
        if ((modrm >> 6) == 3 || force_reg) {
            in->rm.is_mem = 0;
            in->rm.reg = (modrm & 7) | ((rex & 1) << 3);
        } else {
            in->rm.is_mem = 1;
            int r = in->addr_size == 16
                        ? decode_modrm16(p, len, &pos, modrm, &in->rm)
                        : decode_modrm32(p, len, &pos, modrm, rex, mode, &in->rm);
            if (r < 0) return -1;
            if (seg >= 0) in->rm.seg = seg;
        }
    }
    if (seg >= 0 && !in->rm.is_mem)
        in->rm.seg = seg; /* INS/OUTS source segment override */
    else if (!in->rm.is_mem)
        in->rm.seg = SEG_DS;
    return (int)pos;
}

int vx_is_mov_ss(const uint8_t *p, size_t len, int mode)
{
    size_t i = 0;
    while (i < len && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0x26 ||
                       p[i] == 0x2E || p[i] == 0x36 || p[i] == 0x3E ||
                       p[i] == 0x64 || p[i] == 0x65 || p[i] == 0xF2 ||
                       p[i] == 0xF3))
        i++;
    if (mode == 64 && i < len && (p[i] & 0xF0) == 0x40) i++;
    if (i >= len) return 0;
    if (p[i] == 0x17) return mode != 64;            /* POP SS */
    return p[i] == 0x8E && i + 1 < len && ((p[i + 1] >> 3) & 7) == 2; /* MOV SS, r/m */
}

/* STI (FB) and IRET/IRETD/IRETQ (CF), after legacy and REX prefixes: the
 * two instructions that open event windows (SDM Vol. 3C 26.7.5, 26.7.6). */
int vx_window_insn(const uint8_t *p, size_t len, int mode)
{
    size_t i = 0;
    while (i < len && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0x26 || p[i] == 0x2E ||
                       p[i] == 0x36 || p[i] == 0x3E || p[i] == 0x64 || p[i] == 0x65 ||
                       p[i] == 0xF2 || p[i] == 0xF3 || p[i] == 0xF0))
        i++;
    if (mode == 64 && i < len && (p[i] & 0xF0) == 0x40) i++;
    if (i >= len) return VX_WIN_OTHER;
    if (p[i] == 0xFB) return VX_WIN_STI;
    if (p[i] == 0xCF) return VX_WIN_IRET;
    return VX_WIN_OTHER;
}
