/* decoder_internal.h - shared between decoder.c and operand.c. */
#ifndef VX_DECODER_INTERNAL_H
#define VX_DECODER_INTERNAL_H
#include "decoder.h"

/* Parse prefixes, opcode, ModRM/SIB/displacement and an 8-bit port
 * immediate into in (mode 16/32/64).  Returns bytes consumed or -1. */
int vx_decode_operands(const uint8_t *p, size_t len, int mode, vx_insn *in);

/* iclass.c: the cycle-model class (VX_IC_*) of an instruction capstone
 * decoded with detail, and its memory operands (VX_MEM_* bits). */
#include <capstone/capstone.h>
#include "../vmcs/profile.h"
void vx_iclass_of(const cs_insn *ci, uint8_t *cls, uint8_t *mem);

#endif
