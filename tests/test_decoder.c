/*
 * test_decoder.c - classification and operand decoding of the
 * instructions the model owns (decoder/), against encodings worked out by
 * hand from SDM Vol. 2 (ModR/M and SIB tables 2-1..2-3, REX 2.2.1).
 */
#include <check.h>
#include <stdlib.h>

#include "../decoder/decoder.h"

static vx_decoder *d;

static void setup(void) { d = vx_decoder_new(); }
static void teardown(void) { vx_decoder_free(d); }

static vx_insn dec(int mode, const uint8_t *b, size_t n)
{
    vx_insn in;
    ck_assert_int_eq(vx_decode(d, mode, b, n, 0x1000, &in), 0);
    ck_assert_uint_eq(in.len, n);
    return in;
}

START_TEST(vmx_opcodes)
{
    static const struct { uint8_t b[4]; int n; vx_op op; } t[] = {
        {{0x0F, 0x01, 0xC1}, 3, VX_OP_VMCALL},
        {{0x0F, 0x01, 0xC2}, 3, VX_OP_VMLAUNCH},
        {{0x0F, 0x01, 0xC3}, 3, VX_OP_VMRESUME},
        {{0x0F, 0x01, 0xC4}, 3, VX_OP_VMXOFF},
        {{0x0F, 0x01, 0xD4}, 3, VX_OP_VMFUNC},
        {{0x0F, 0xA2}, 2, VX_OP_CPUID},
        {{0x0F, 0x32}, 2, VX_OP_RDMSR},
        {{0x0F, 0x30}, 2, VX_OP_WRMSR},
        {{0x0F, 0x31}, 2, VX_OP_RDTSC},
        {{0x0F, 0x01, 0xF9}, 3, VX_OP_RDTSCP},
        {{0xF4}, 1, VX_OP_HLT},
        {{0xEC}, 1, VX_OP_IN},
        {{0xEE}, 1, VX_OP_OUT},
        {{0x6E}, 1, VX_OP_OUTS},
        {{0x6D}, 1, VX_OP_INS},
        {{0xCC}, 1, VX_OP_INT3},
        {{0x0F, 0x37}, 2, VX_OP_GETSEC},
        {{0x0F, 0x20, 0xC0}, 3, VX_OP_MOV_FROM_CR},
        {{0x0F, 0x22, 0xE0}, 3, VX_OP_MOV_TO_CR},
        {{0x48, 0x01, 0xC0}, 3, VX_OP_NONE}, /* add rax, rax */
        {{0x8B, 0x00}, 2, VX_OP_NONE},       /* mov eax, [rax] */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vx_insn in = dec(64, t[i].b, (size_t)t[i].n);
        ck_assert_msg(in.op == t[i].op, "case %zu: op %s", i, vx_op_name(in.op));
    }
}
END_TEST

START_TEST(vmxon_memory_forms)
{
    /* vmxon [rax] = F3 0F C7 /6, mod 00 rm 000 */
    static const uint8_t a[] = {0xF3, 0x0F, 0xC7, 0x30};
    vx_insn in = dec(64, a, sizeof a);
    ck_assert_int_eq(in.op, VX_OP_VMXON);
    ck_assert_int_eq(in.rm.is_mem, 1);
    ck_assert_int_eq(in.rm.base, 0);
    ck_assert_int_eq(in.rm.index, -1);
    ck_assert_int_eq(in.modrm_reg, 6);
    /* vmptrld [r12 + r13*8 + 0x10] = 43 0F C7 74 EC 10: REX.XB, SIB */
    static const uint8_t b[] = {0x43, 0x0F, 0xC7, 0x74, 0xEC, 0x10};
    in = dec(64, b, sizeof b);
    ck_assert_int_eq(in.op, VX_OP_VMPTRLD);
    ck_assert_int_eq(in.rm.base, 12);
    ck_assert_int_eq(in.rm.index, 13);
    ck_assert_int_eq(in.rm.scale, 8);
    ck_assert_int_eq(in.rm.disp, 0x10);
    /* vmclear [rip + 0x100] = 66 0F C7 35 00 01 00 00 */
    static const uint8_t c[] = {0x66, 0x0F, 0xC7, 0x35, 0x00, 0x01, 0x00, 0x00};
    in = dec(64, c, sizeof c);
    ck_assert_int_eq(in.op, VX_OP_VMCLEAR);
    ck_assert_int_eq(in.rm.base, VX_BASE_RIP);
    ck_assert_int_eq(in.rm.disp, 0x100);
    /* vmptrst [rbp - 8] = 0F C7 7D F8: rBP base defaults to SS */
    static const uint8_t e[] = {0x0F, 0xC7, 0x7D, 0xF8};
    in = dec(64, e, sizeof e);
    ck_assert_int_eq(in.op, VX_OP_VMPTRST);
    ck_assert_int_eq(in.rm.base, 5);
    ck_assert_int_eq(in.rm.disp, -8);
    ck_assert_int_eq(in.rm.seg, 2);
    /* fs: vmxon [rbx] = 64 F3 0F C7 33 */
    static const uint8_t f[] = {0x64, 0xF3, 0x0F, 0xC7, 0x33};
    in = dec(64, f, sizeof f);
    ck_assert_int_eq(in.rm.seg, 4);
    ck_assert_int_eq(in.rm.base, 3);
}
END_TEST

START_TEST(vmread_vmwrite_registers)
{
    /* vmread rbx, rax = 0F 78 C3: r/m = rbx (dest), reg = rax (field) */
    static const uint8_t a[] = {0x0F, 0x78, 0xC3};
    vx_insn in = dec(64, a, sizeof a);
    ck_assert_int_eq(in.op, VX_OP_VMREAD);
    ck_assert_int_eq(in.rm.is_mem, 0);
    ck_assert_int_eq(in.rm.reg, 3);
    ck_assert_int_eq(in.modrm_reg, 0);
    /* vmwrite r9, r10 = 4D 0F 79 CA: reg = r9 (field), r/m = r10 (value) */
    static const uint8_t b[] = {0x4D, 0x0F, 0x79, 0xCA};
    in = dec(64, b, sizeof b);
    ck_assert_int_eq(in.op, VX_OP_VMWRITE);
    ck_assert_int_eq(in.modrm_reg, 9);
    ck_assert_int_eq(in.rm.reg, 10);
}
END_TEST

START_TEST(mov_cr_ignores_mod)
{
    /* mov cr4, rax = 0F 22 E0; with mod = 00 (0F 22 20) still a register */
    static const uint8_t a[] = {0x0F, 0x22, 0x20};
    vx_insn in = dec(64, a, sizeof a);
    ck_assert_int_eq(in.op, VX_OP_MOV_TO_CR);
    ck_assert_int_eq(in.rm.is_mem, 0);
    ck_assert_int_eq(in.modrm_reg, 4);
    ck_assert_int_eq(in.rm.reg, 0);
    /* mov r8, cr8 = 45 0F 20 C0: REX.R extends the CR number */
    static const uint8_t b[] = {0x45, 0x0F, 0x20, 0xC0};
    in = dec(64, b, sizeof b);
    ck_assert_int_eq(in.op, VX_OP_MOV_FROM_CR);
    ck_assert_int_eq(in.modrm_reg, 8);
    ck_assert_int_eq(in.rm.reg, 8);
}
END_TEST

START_TEST(sixteen_and_32_bit_forms)
{
    /* 16-bit: vmptrld [bp+si+4] = 0F C7 72 04: BP base -> SS */
    static const uint8_t a[] = {0x0F, 0xC7, 0x72, 0x04};
    vx_insn in = dec(16, a, sizeof a);
    ck_assert_int_eq(in.addr_size, 16);
    ck_assert_int_eq(in.rm.base, 5);
    ck_assert_int_eq(in.rm.index, 6);
    ck_assert_int_eq(in.rm.disp, 4);
    ck_assert_int_eq(in.rm.seg, 2);
    /* 32-bit: vmxon [0x2000] = F3 0F C7 35 00 20 00 00 (no RIP-relative) */
    static const uint8_t b[] = {0xF3, 0x0F, 0xC7, 0x35, 0x00, 0x20, 0x00, 0x00};
    in = dec(32, b, sizeof b);
    ck_assert_int_eq(in.rm.base, -1);
    ck_assert_int_eq(in.rm.disp, 0x2000);
    /* 67 prefix in 64-bit mode: 32-bit addressing */
    static const uint8_t c[] = {0x67, 0xF3, 0x0F, 0xC7, 0x30};
    in = dec(64, c, sizeof c);
    ck_assert_int_eq(in.addr_size, 32);
}
END_TEST

START_TEST(io_and_int_immediates)
{
    static const uint8_t a[] = {0xE6, 0xE9}; /* out 0xe9, al */
    vx_insn in = dec(64, a, sizeof a);
    ck_assert_int_eq(in.op, VX_OP_OUT);
    ck_assert_int_eq(in.has_imm, 1);
    ck_assert_uint_eq(in.imm, 0xE9);
    static const uint8_t b[] = {0xCD, 0x80}; /* int 0x80 */
    in = dec(64, b, sizeof b);
    ck_assert_int_eq(in.op, VX_OP_INT);
    ck_assert_uint_eq(in.imm, 0x80);
    static const uint8_t c[] = {0xF3, 0x6E}; /* rep outsb */
    in = dec(64, c, sizeof c);
    ck_assert_int_eq(in.op, VX_OP_OUTS);
    ck_assert_int_eq(in.rep, 0xF3);
}
END_TEST

START_TEST(mov_ss_detection)
{
    static const uint8_t a[] = {0x8E, 0xD0}; /* mov ss, ax */
    ck_assert_int_eq(vx_is_mov_ss(a, 2, 64), 1);
    static const uint8_t b[] = {0x8E, 0xD8}; /* mov ds, ax */
    ck_assert_int_eq(vx_is_mov_ss(b, 2, 64), 0);
    static const uint8_t c[] = {0x17};       /* pop ss: invalid in 64-bit */
    ck_assert_int_eq(vx_is_mov_ss(c, 1, 32), 1);
    ck_assert_int_eq(vx_is_mov_ss(c, 1, 64), 0);
}
END_TEST

START_TEST(block_decoding)
{
    /* inc rax; vmcall; out dx, al; jmp $ */
    static const uint8_t b[] = {0x48, 0xFF, 0xC0, 0x0F, 0x01, 0xC1, 0xEE, 0xEB, 0xFE};
    uint16_t offs[8];
    uint8_t ops[8];
    int n = vx_decode_block(d, 64, b, sizeof b, 0x1000, offs, ops, 8);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(offs[1], 3);
    ck_assert_int_eq(ops[1], VX_OP_VMCALL);
    ck_assert_int_eq(offs[2], 6);
    ck_assert_int_eq(ops[2], VX_OP_OUT);
    ck_assert_int_eq(ops[3], VX_OP_NONE);
    /* Undecodable bytes count as one-byte instructions, never crash. */
    static const uint8_t bad[] = {0x0F, 0xFF};
    n = vx_decode_block(d, 64, bad, 1, 0x1000, offs, ops, 8);
    ck_assert_int_eq(n, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decoder");
    TCase *tc = tcase_create("decoder");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, vmx_opcodes);
    tcase_add_test(tc, vmxon_memory_forms);
    tcase_add_test(tc, vmread_vmwrite_registers);
    tcase_add_test(tc, mov_cr_ignores_mod);
    tcase_add_test(tc, sixteen_and_32_bit_forms);
    tcase_add_test(tc, io_and_int_immediates);
    tcase_add_test(tc, mov_ss_detection);
    tcase_add_test(tc, block_decoding);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
