/*
 * decoder.h - instruction decoding: capstone finds instruction boundaries,
 * names and disassembly; decoder/operand.c decodes the ModRM/SIB operand
 * forms the model needs to execute the instructions it owns.
 *
 * Data flows decoder -> model -> trace: the run loop decodes each
 * translated block once, and the model executes the instructions the
 * decoder classifies as model-owned ("sites").
 */
#ifndef VX_DECODER_H
#define VX_DECODER_H

#include <stddef.h>
#include <stdint.h>

/* Instructions whose behaviour the model owns (VMX defines or changes it,
 * or Unicorn's own model of it is wrong for us).  Everything else runs on
 * Unicorn. */
typedef enum vx_op {
    VX_OP_NONE = 0,
    VX_OP_VMXON, VX_OP_VMXOFF, VX_OP_VMCLEAR, VX_OP_VMPTRLD, VX_OP_VMPTRST,
    VX_OP_VMREAD, VX_OP_VMWRITE, VX_OP_VMLAUNCH, VX_OP_VMRESUME,
    VX_OP_VMCALL, VX_OP_VMFUNC, VX_OP_INVEPT, VX_OP_INVVPID,
    VX_OP_CPUID, VX_OP_RDMSR, VX_OP_WRMSR,
    VX_OP_MOV_TO_CR, VX_OP_MOV_FROM_CR,
    VX_OP_RDTSC, VX_OP_RDTSCP, VX_OP_HLT,
    VX_OP_IN, VX_OP_OUT, VX_OP_INS, VX_OP_OUTS,
    VX_OP_GETSEC,
    VX_OP_INT, VX_OP_INT3, VX_OP_INTO, VX_OP_INT1,
    /* Ordinary instructions in VMX root operation that the controls can
     * make exit in non-root operation (SDM Vol. 3C 26.1.3): the model
     * takes them only while a guest runs (vx_op_nonroot_only). */
    VX_OP_INVLPG, VX_OP_INVD, VX_OP_WBINVD, VX_OP_PAUSE, VX_OP_MWAIT,
    VX_OP_MONITOR, VX_OP_RDPMC, VX_OP_XSETBV, VX_OP_MOV_TO_DR,
    VX_OP_MOV_FROM_DR, VX_OP_LGDT, VX_OP_LIDT, VX_OP_SGDT, VX_OP_SIDT,
    VX_OP_LLDT, VX_OP_LTR, VX_OP_SLDT, VX_OP_STR, VX_OP_RDRAND,
    VX_OP_RDSEED, VX_OP_INVPCID, VX_OP_CLTS, VX_OP_LMSW, VX_OP_FAR_JMP,
    VX_OP_FAR_CALL, VX_OP_IRET, VX_OP_XSAVES, VX_OP_XRSTORS,
    /* Never exit, but the model must see them in a guest: STI starts
     * blocking by STI (the interruptibility state, Table 25-3); SMSW
     * reads the CR0 read shadow (26.3). */
    VX_OP_STI, VX_OP_SMSW,
    VX_OP_COUNT
} vx_op;

const char *vx_op_name(vx_op op);
/* Is op owned by the model only in VMX non-root operation? */
int vx_op_nonroot_only(vx_op op);

#define VX_BASE_RIP 16 /* vx_operand.base for RIP-relative addressing */

/* A decoded operand (register or memory form of ModRM). */
typedef struct vx_operand {
    int is_mem;        /* 1 = memory operand, 0 = register */
    int reg;           /* register number 0-15 (register form), or -1 */
    int base;          /* base register 0-15, -1 none, 16 = RIP-relative */
    int index;         /* index register 0-15, -1 none */
    int scale;         /* 1, 2, 4, 8 */
    int64_t disp;      /* sign-extended displacement */
    int seg;           /* segment register 0-5 (ES,CS,SS,DS,FS,GS) */
} vx_operand;

typedef struct vx_insn {
    uint64_t addr;     /* linear address of the first byte */
    uint8_t len;
    uint8_t bytes[15];
    vx_op op;
    int mode;          /* code size: 16, 32 or 64 */
    int addr_size;     /* effective address size: 16, 32, 64 */
    int op_size;       /* effective operand size: 16, 32, 64 */
    int rep;           /* 0, or 0xF3 / 0xF2 prefix present */
    int modrm_reg;     /* ModRM.reg including REX.R, or -1 without ModRM */
    vx_operand rm;     /* the ModRM r/m operand (valid if modrm_reg >= 0) */
    int has_imm;
    uint64_t imm;      /* immediate (IN/OUT port) */
    char text[200];    /* "vmxon qword ptr [rax]" */
} vx_insn;

typedef struct vx_decoder vx_decoder;

vx_decoder *vx_decoder_new(void);
void vx_decoder_free(vx_decoder *d);

/* Decode one instruction at addr from code[0..len).  Returns 0, or -1 if
 * the bytes are not a valid instruction in this mode. */
int vx_decode(vx_decoder *d, int mode, const uint8_t *code, size_t len,
              uint64_t addr, vx_insn *out);

/* Decode a block: fills offs[i] with the offset of each instruction and
 * ops[i] with its model-owned op (VX_OP_NONE for ordinary ones), up to
 * max, and returns how many instructions start in code[0..len).  An
 * undecodable byte sequence counts as one instruction of one byte. */
int vx_decode_block(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                    uint64_t addr, uint16_t *offs, uint8_t *ops, int max);

/* The same, and for each instruction also its cycle-model class cls[i]
 * (VX_IC_* of vmcs/profile.h) and its memory operands mem[i]. */
enum { VX_MEM_READ = 1, VX_MEM_WRITE = 2 };
int vx_decode_block_costs(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                          uint64_t addr, uint16_t *offs, uint8_t *ops, uint8_t *cls,
                          uint8_t *mem, int max);

/* Is this instruction MOV to SS or POP SS (which block events for one
 * instruction, SDM Vol. 3C 24.4.2)? */
int vx_is_mov_ss(const uint8_t *p, size_t len, int mode);

/* Is this STI or IRET (which open the interrupt and NMI windows)? */
enum { VX_WIN_OTHER = 0, VX_WIN_STI, VX_WIN_IRET };
int vx_window_insn(const uint8_t *p, size_t len, int mode);

/* The size in bytes of the first memory operand of the instruction in
 * code[0..len) (0 if it has none or does not decode). */
size_t vx_mem_operand_size(vx_decoder *d, int mode, const uint8_t *code, size_t len,
                           uint64_t addr);

/* Disassemble one instruction into text (capstone syntax); "(bad)" if the
 * bytes do not decode. */
void vx_disasm(vx_decoder *d, int mode, const uint8_t *code, size_t len,
               uint64_t addr, char *text, size_t textlen);

#endif
