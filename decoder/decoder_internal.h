/* decoder_internal.h - shared between decoder.c and operand.c. */
#ifndef VX_DECODER_INTERNAL_H
#define VX_DECODER_INTERNAL_H
#include "decoder.h"

/* Parse prefixes, opcode, ModRM/SIB/displacement and an 8-bit port
 * immediate into in (mode 16/32/64).  Returns bytes consumed or -1. */
int vx_decode_operands(const uint8_t *p, size_t len, int mode, vx_insn *in);

#endif
