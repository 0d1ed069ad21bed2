/*
 * test_paging.c - the model's page walker (ept/paging.c) without EPT over
 * hand-built paging structures: each paging mode, page size, permission
 * rule, #PF error code and accessed/dirty update (SDM Vol. 3A 4.3-4.8).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../ept/xlate.h"

#define MEM (1u << 22) /* 4 MiB of "physical memory" */
static uint8_t *mem;

static uint64_t r64(void *c, uint64_t pa) { (void)c; uint64_t v; memcpy(&v, mem + pa, 8); return v; }
static void w64(void *c, uint64_t pa, uint64_t v) { (void)c; memcpy(mem + pa, &v, 8); }
static void w32(void *c, uint64_t pa, uint32_t v) { (void)c; memcpy(mem + pa, &v, 4); }

typedef vx_guest_paging vx_paging;
enum { VX_PF_P = VX_PFEC_P, VX_PF_W = VX_PFEC_W, VX_PF_U = VX_PFEC_U, VX_PF_RSVD = VX_PFEC_RSVD,
       VX_PF_I = VX_PFEC_I };

/* One walk without EPT: 0 and *pa, or -1 and the #PF error code. */
static int walk(const vx_paging *pg, uint64_t la, unsigned access, uint64_t *pa, uint32_t *ec)
{
    vx_hostmem hm = {mem, MEM};
    vx_xlate_env env = {pg, NULL, &hm, NULL, NULL};
    vx_xlate x;
    if (vx_xlate_linear(&env, la, access, &x) == VX_XL_OK) {
        *pa = x.hpa;
        return 0;
    }
    ck_assert_int_eq(x.status, VX_XL_PF);
    *ec = x.pfec;
    return -1;
}

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80 };
#define XD (1ull << 63)

static void setup(void) { mem = calloc(1, MEM); }
static void teardown(void) { free(mem); }

static vx_paging long_mode(void)
{
    vx_paging pg = {.cr0 = 0x80010031, .cr3 = 0x1000, .cr4 = 0x20,
                    .efer = 0xD00, .maxphyaddr = 39, .page1gb = 1};
    return pg;
}

/* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000, mapping linear
 * 0x200000 (PD index 1) through a 4 KiB page table. */
static void build_4k(uint64_t leaf_flags, uint64_t upper_flags)
{
    w64(0, 0x1000, 0x2000 | upper_flags);
    w64(0, 0x2000, 0x3000 | upper_flags);
    w64(0, 0x3000 + 8, 0x4000 | upper_flags);
    w64(0, 0x4000 + 8 * 5, 0x123000 | leaf_flags);
}

START_TEST(four_level_4k)
{
    vx_paging pg = long_mode();
    build_4k(P | RW, P | RW);
    uint64_t pa;
    uint32_t ec;
    ck_assert_int_eq(walk(&pg, 0x205ABC, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x123ABC);
    /* Accessed set on all four entries, dirty only after a write. */
    ck_assert_uint_eq(r64(0, 0x4000 + 40) & (A | D), A);
    ck_assert_uint_eq(r64(0, 0x1000) & A, A);
    ck_assert_int_eq(walk(&pg, 0x205ABC, VX_PF_W, &pa, &ec), 0);
    ck_assert_uint_eq(r64(0, 0x4000 + 40) & (A | D), A | D);
    ck_assert_uint_eq(r64(0, 0x3000 + 8) & D, 0); /* D only on the leaf */
}
END_TEST

START_TEST(not_present_error_codes)
{
    vx_paging pg = long_mode();
    build_4k(0, P | RW | US);
    uint64_t pa;
    uint32_t ec;
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_W | VX_PF_U, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_W | VX_PF_U); /* P=0: not a protection fault */
    ck_assert_int_eq(walk(&pg, 0x7FFF00000000ull, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, 0);
}
END_TEST

START_TEST(user_supervisor_and_write_protect)
{
    vx_paging pg = long_mode();
    uint64_t pa;
    uint32_t ec;
    build_4k(P | RW, P | RW | US); /* leaf supervisor-only */
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_U, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_U);
    build_4k(P | US, P | RW | US); /* read-only leaf */
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_W | VX_PF_U, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_W | VX_PF_U);
    /* Supervisor write to a read-only page: faults with CR0.WP = 1 ... */
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_W, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_W);
    /* ... and is allowed with CR0.WP = 0 (4.6.1). */
    pg.cr0 &= ~(1ull << 16);
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_W, &pa, &ec), 0);
    /* Read-only in an upper level applies to the whole translation. */
    pg.cr0 |= 1ull << 16;
    build_4k(P | RW | US, P | US);
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_W, &pa, &ec), -1);
}
END_TEST

START_TEST(execute_disable_and_smep)
{
    vx_paging pg = long_mode();
    uint64_t pa;
    uint32_t ec;
    build_4k(P | RW | XD, P | RW);
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_I, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_I);
    /* With EFER.NXE = 0 bit 63 is reserved. */
    pg.efer &= ~(1ull << 11);
    ck_assert_int_eq(walk(&pg, 0x205000, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_RSVD);
    /* SMEP: supervisor fetch from a user page. */
    pg = long_mode();
    pg.cr4 |= 1ull << 20;
    build_4k(P | RW | US, P | RW | US);
    ck_assert_int_eq(walk(&pg, 0x205000, VX_PF_I, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_I);
}
END_TEST

START_TEST(large_pages_and_reserved_bits)
{
    vx_paging pg = long_mode();
    uint64_t pa;
    uint32_t ec;
    w64(0, 0x1000, 0x2000 | P | RW);
    w64(0, 0x2000, 0x3000 | P | RW);
    w64(0, 0x3000 + 8 * 2, 0x600000 | P | RW | PS); /* 2 MiB page */
    ck_assert_int_eq(walk(&pg, 0x4ABCDE, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x6ABCDE);
    w64(0, 0x3000 + 8 * 2, 0x601000 | P | RW | PS); /* bit 12 ok (PAT), 13 reserved */
    ck_assert_int_eq(walk(&pg, 0x4ABCDE, 0, &pa, &ec), 0);
    w64(0, 0x3000 + 8 * 2, 0x602000 | P | RW | PS);
    ck_assert_int_eq(walk(&pg, 0x4ABCDE, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_RSVD);
    w64(0, 0x2000 + 8, 0x40000000 | P | RW | PS); /* 1 GiB page at 1 GiB */
    ck_assert_int_eq(walk(&pg, 0x40012345, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x40012345);
    w64(0, 0x1000 + 8, 0x2000 | P | RW | PS); /* PS in a PML4E is reserved */
    ck_assert_int_eq(walk(&pg, 0x8000000000ull, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_RSVD);
    w64(0, 0x2000 + 16, (1ull << 40) | P | RW | PS); /* above MAXPHYADDR 39 */
    ck_assert_int_eq(walk(&pg, 0x80000000, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_RSVD);
}
END_TEST

START_TEST(five_level)
{
    vx_paging pg = long_mode();
    pg.cr4 |= 1ull << 12; /* LA57 */
    w64(0, 0x1000 + 8 * 1, 0x5000 | P | RW); /* PML5[1] */
    w64(0, 0x5000, 0x2000 | P | RW);
    w64(0, 0x2000, 0x3000 | P | RW);
    w64(0, 0x3000, 0x200000 | P | RW | PS);
    uint64_t pa;
    uint32_t ec;
    ck_assert_int_eq(walk(&pg, (1ull << 48) | 0x1234, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x201234);
}
END_TEST

START_TEST(no_paging_32bit_and_pae)
{
    uint64_t pa;
    uint32_t ec;
    vx_paging off = {.cr0 = 0x11, .maxphyaddr = 39};
    ck_assert_int_eq(walk(&off, 0x12345678, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x12345678);
    /* 32-bit paging: a 4 MiB page with PSE, and a 4 KiB page. */
    vx_paging p32 = {.cr0 = 0x80010011, .cr3 = 0x1000, .cr4 = 0x10, .maxphyaddr = 39};
    w32(0, 0x1000 + 4 * 1, 0x00400000 | P | RW | PS);
    ck_assert_int_eq(walk(&p32, 0x00456789, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x00456789);
    w32(0, 0x1000 + 4 * 2, 0x7000 | P | RW);
    w32(0, 0x7000 + 4 * 3, 0x00300000 | P);
    ck_assert_int_eq(walk(&p32, 0x00803ABC, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x00300ABC);
    ck_assert_int_eq(walk(&p32, 0x00803ABC, VX_PF_W, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_W);
    /* PAE: the PDPTE registers (loaded at MOV to CR3, 4.4.1), then PD
     * and PT with 8-byte entries. */
    memset(mem, 0, MEM);
    vx_paging pae = {.cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20, .maxphyaddr = 39};
    pae.pdpte[1] = 0x2000 | P;               /* 1 GiB .. 2 GiB */
    w64(0, 0x2000 + 8 * 3, 0x3000 | P | RW); /* PDE[3] */
    w64(0, 0x3000 + 8 * 4, 0x00345000 | P | RW);
    ck_assert_int_eq(walk(&pae, 0x40604ABC, 0, &pa, &ec), 0);
    ck_assert_uint_eq(pa, 0x00345ABC);
    /* A PDPTE register that is not present: #PF(0). */
    ck_assert_int_eq(walk(&pae, 0x80000000, VX_PF_W, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_W);
    /* Bits 62:52 are reserved in PAE paging (not ignored, Table 4-10). */
    w64(0, 0x3000 + 8 * 4, 0x00345000 | P | RW | (1ull << 52));
    ck_assert_int_eq(walk(&pae, 0x40604ABC, 0, &pa, &ec), -1);
    ck_assert_uint_eq(ec, VX_PF_P | VX_PF_RSVD);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("paging");
    TCase *tc = tcase_create("walk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, four_level_4k);
    tcase_add_test(tc, not_present_error_codes);
    tcase_add_test(tc, user_supervisor_and_write_protect);
    tcase_add_test(tc, execute_disable_and_smep);
    tcase_add_test(tc, large_pages_and_reserved_bits);
    tcase_add_test(tc, five_level);
    tcase_add_test(tc, no_paging_32bit_and_pae);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
