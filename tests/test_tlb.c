/*
 * test_tlb.c - the model's cached translations (ept/tlb.h): lookup by
 * tags (VPID, PCID, EPT root), global translations visible from every
 * PCID of their VPID (SDM Vol. 3A 4.10.2.4), each invalidation function
 * removing what its comment in tlb.h says and keeping everything else,
 * guest-physical mappings by EPT root (Vol. 3C 29.4.1), and what happens
 * when a table is full.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../ept/tlb.h"

static vx_tlb *t;

static void setup(void)
{
    t = malloc(sizeof *t);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(vx_tlb_init(t), 0);
}

static void teardown(void)
{
    vx_tlb_fini(t);
    free(t);
}

static vx_tlb_tag lin(uint16_t vpid, uint16_t pcid)
{
    return (vx_tlb_tag){.vpid = vpid, .pcid = pcid};
}

static vx_tlb_tag comb(uint16_t vpid, uint16_t pcid, uint64_t rta)
{
    return (vx_tlb_tag){.vpid = vpid, .pcid = pcid, .ept = 1, .eptrta = rta};
}

/* A translation of page size 1 << shift to hpa. */
static vx_xlate xl(uint64_t hpa, unsigned shift, int global)
{
    return (vx_xlate){.status = VX_XL_OK, .gpa = hpa ^ 0x100000000ull, .hpa = hpa,
                      .page_shift = (uint8_t)shift, .g_rw = 1, .g_us = 1, .g_global = (uint8_t)global,
                      .e_r = 1, .e_w = 1, .e_x = 1, .e_memtype = 6, .dirty = 1};
}

static void put(vx_tlb_tag tag, uint64_t la, uint64_t hpa, unsigned shift, int global)
{
    vx_xlate x = xl(hpa, shift, global);
    ck_assert_ptr_nonnull(vx_tlb_insert(t, &tag, la, &x));
}

/* The host-physical page the TLB gives for la under tag, or 0 for none. */
static uint64_t get(vx_tlb_tag tag, uint64_t la)
{
    vx_tlb_entry *e = vx_tlb_lookup(t, &tag, la);
    return e ? e->hpa : 0;
}

START_TEST(lookup_by_tags)
{
    vx_xlate x = {.status = VX_XL_OK, .gpa = 0x7654ABC, .hpa = 0x3456ABC, .page_shift = 12,
                  .g_rw = 0, .g_us = 1, .g_xd = 1, .g_pkey = 7, .e_r = 1, .e_w = 0, .e_x = 1,
                  .e_xu = 1, .e_memtype = 4, .dirty = 0};
    vx_tlb_tag tag = lin(1, 1);
    vx_tlb_entry *e = vx_tlb_insert(t, &tag, 0x1234ABC, &x);
    ck_assert_ptr_nonnull(e);
    /* Stored aligned to the page, with the rights. */
    ck_assert_uint_eq(e->la, 0x1234000);
    ck_assert_uint_eq(e->gpa, 0x7654000);
    ck_assert_uint_eq(e->hpa, 0x3456000);
    ck_assert_int_eq(e->shift, 12);
    ck_assert_int_eq(e->rw, 0);
    ck_assert_int_eq(e->us, 1);
    ck_assert_int_eq(e->xd, 1);
    ck_assert_int_eq(e->pkey, 7);
    ck_assert_int_eq(e->er, 1);
    ck_assert_int_eq(e->ew, 0);
    ck_assert_int_eq(e->ex, 1);
    ck_assert_int_eq(e->exu, 1);
    ck_assert_int_eq(e->memtype, 4);
    ck_assert_int_eq(e->dirty, 0);
    ck_assert_int_eq(e->global, 0);
    /* Found for every address of the page under the same tags only. */
    ck_assert_ptr_eq(vx_tlb_lookup(t, &tag, 0x1234000), e);
    ck_assert_ptr_eq(vx_tlb_lookup(t, &tag, 0x1234FFF), e);
    ck_assert_uint_eq(get(lin(1, 1), 0x1235000), 0);
    ck_assert_uint_eq(get(lin(1, 1), 0x1233FFF), 0);
    ck_assert_uint_eq(get(lin(1, 2), 0x1234ABC), 0);
    ck_assert_uint_eq(get(lin(2, 1), 0x1234ABC), 0);
    ck_assert_uint_eq(get(lin(0, 1), 0x1234ABC), 0);
    ck_assert_uint_eq(get(comb(1, 1, 0), 0x1234ABC), 0);
    /* A linear tag's EPT root is not part of it. */
    vx_tlb_tag odd = {.vpid = 1, .pcid = 1, .ept = 0, .eptrta = 0x777000};
    ck_assert_uint_eq(get(odd, 0x1234ABC), 0x3456000);
    /* Combined mappings: the EPT root is. */
    put(comb(1, 1, 0x5000), 0x999000, 0xAAA000, 12, 0);
    ck_assert_uint_eq(get(comb(1, 1, 0x5000), 0x999123), 0xAAA000);
    ck_assert_uint_eq(get(comb(1, 1, 0x6000), 0x999123), 0);
    ck_assert_uint_eq(get(lin(1, 1), 0x999123), 0);
    /* The same page under two tags: two translations. */
    put(lin(1, 2), 0x1234000, 0x4444000, 12, 0);
    ck_assert_uint_eq(get(lin(1, 1), 0x1234000), 0x3456000);
    ck_assert_uint_eq(get(lin(1, 2), 0x1234000), 0x4444000);
    /* Hits and misses are counted. */
    uint64_t h = t->hits, m = t->misses;
    get(lin(1, 1), 0x1234000);
    get(lin(9, 9), 0x1234000);
    ck_assert_uint_eq(t->hits, h + 1);
    ck_assert_uint_eq(t->misses, m + 1);
}
END_TEST

START_TEST(page_sizes)
{
    vx_tlb_tag tag = lin(3, 0);
    put(tag, 0x40123456, 0x80000000ull + 0x123456, 21, 0); /* 2 MiB */
    ck_assert_uint_eq(get(tag, 0x40000000), 0x80000000ull);
    ck_assert_uint_eq(get(tag, 0x401FFFFF), 0x80000000ull);
    ck_assert_uint_eq(get(tag, 0x40200000), 0);
    ck_assert_uint_eq(get(tag, 0x3FFFFFFF), 0);
    put(tag, 0x00C01234, 0x01C00000, 22, 0); /* 4 MiB */
    ck_assert_uint_eq(get(tag, 0x00C00000), 0x01C00000);
    ck_assert_uint_eq(get(tag, 0x00FFFFFF), 0x01C00000);
    ck_assert_uint_eq(get(tag, 0x01000000), 0);
    put(tag, 0x7FC0000000ull + 0x2345678, 0x1C0000000ull, 30, 0); /* 1 GiB */
    ck_assert_uint_eq(get(tag, 0x7FC0000000ull), 0x1C0000000ull);
    ck_assert_uint_eq(get(tag, 0x7FFFFFFFFFull), 0x1C0000000ull);
    ck_assert_uint_eq(get(tag, 0x8000000000ull), 0);
    vx_tlb_entry *e = vx_tlb_lookup(t, &tag, 0x7FD0000000ull);
    ck_assert_uint_eq(e->la, 0x7FC0000000ull);
    ck_assert_int_eq(e->shift, 30);
    /* A 4 KiB translation of a page inside a cached 2 MiB one is found
     * for its page; the rest of the 2 MiB page still uses the large one. */
    put(lin(3, 0), 0x40100000, 0x123000, 12, 0);
    ck_assert_uint_eq(get(tag, 0x40100ABC), 0x123000);
    ck_assert_uint_eq(get(tag, 0x40101000), 0x80000000ull);
}
END_TEST

START_TEST(globals_across_pcids)
{
    put(lin(1, 1), 0x5000, 0x55000, 12, 1);
    for (uint16_t pcid = 0; pcid < 4096; pcid += 273) ck_assert_uint_eq(get(lin(1, pcid), 0x5000), 0x55000);
    ck_assert_uint_eq(get(lin(2, 1), 0x5000), 0);
    ck_assert_uint_eq(get(comb(1, 1, 0x1000), 0x5000), 0);
    vx_tlb_entry *e = vx_tlb_lookup(t, &(vx_tlb_tag){.vpid = 1, .pcid = 77}, 0x5000);
    ck_assert_int_eq(e->global, 1);
    /* A combined global: every PCID of its VPID and EPT root. */
    put(comb(1, 1, 0xA000), 0x6000, 0x66000, 12, 1);
    ck_assert_uint_eq(get(comb(1, 9, 0xA000), 0x6000), 0x66000);
    ck_assert_uint_eq(get(comb(1, 9, 0xB000), 0x6000), 0);
    ck_assert_uint_eq(get(comb(2, 1, 0xA000), 0x6000), 0);
    ck_assert_uint_eq(get(lin(1, 9), 0x6000), 0);
    /* The PCID's own translation comes before a global one. */
    put(lin(1, 2), 0x5000, 0x77000, 12, 0);
    ck_assert_uint_eq(get(lin(1, 2), 0x5000), 0x77000);
    ck_assert_uint_eq(get(lin(1, 3), 0x5000), 0x55000);
}
END_TEST

START_TEST(insert_replaces_and_remove)
{
    put(lin(1, 1), 0x5000, 0x11000, 12, 0);
    put(lin(1, 1), 0x5ABC, 0x22000, 12, 0);
    ck_assert_uint_eq(get(lin(1, 1), 0x5000), 0x22000);
    /* Replacing does not use up the table: re-inserting the same page
     * forever never empties it. */
    put(lin(1, 1), 0x9000, 0x99000, 12, 0);
    uint64_t f = t->flushes;
    for (unsigned i = 0; i < 3 * VX_TLB_CAPACITY; i++) put(lin(1, 1), 0x5000, 0x33000 + (i & 0xFF) * 0x1000, 12, 0);
    ck_assert_uint_eq(t->flushes, f);
    ck_assert_uint_eq(get(lin(1, 1), 0x9000), 0x99000);
    vx_tlb_entry *e = vx_tlb_lookup(t, &(vx_tlb_tag){.vpid = 1, .pcid = 1}, 0x5000);
    ck_assert_ptr_nonnull(e);
    vx_tlb_remove(t, e);
    ck_assert_uint_eq(get(lin(1, 1), 0x5000), 0);
    ck_assert_uint_eq(get(lin(1, 1), 0x9000), 0x99000);
}
END_TEST

/* The population every invalidation test starts from. */
enum {
    A_V1P1, A_V1P2, A_V1G, A_V1P1_E1, A_V1P1_E2, A_V1G_E1, A_V1P1_NEXT, A_V2P1, A_V2G, A_V0P0,
    A_V0P0_E1, A_V1P3_BIG, A_V1P3_BIG_OTHER, A_V2P1_E1, N_POP
};
#define PAGE 0x40000ull /* the page invalidated by address; inside BIG's 2 MiB */
static const struct pop {
    uint16_t vpid, pcid;
    int ept;
    uint64_t rta, la;
    unsigned shift;
    int global;
} pop[N_POP] = {
    [A_V1P1] = {1, 1, 0, 0, PAGE, 12, 0},
    [A_V1P2] = {1, 2, 0, 0, PAGE, 12, 0},
    [A_V1G] = {1, 5, 0, 0, PAGE + 0x1000, 12, 1},
    [A_V1P1_E1] = {1, 1, 1, 0xE1000, PAGE, 12, 0},
    [A_V1P1_E2] = {1, 1, 1, 0xE2000, PAGE, 12, 0},
    [A_V1G_E1] = {1, 1, 1, 0xE1000, PAGE + 0x2000, 12, 1},
    [A_V1P1_NEXT] = {1, 1, 0, 0, PAGE + 0x1000, 12, 0},
    [A_V2P1] = {2, 1, 0, 0, PAGE, 12, 0},
    [A_V2G] = {2, 1, 0, 0, PAGE + 0x3000, 12, 1},
    [A_V0P0] = {0, 0, 0, 0, PAGE, 12, 0},
    [A_V0P0_E1] = {0, 0, 1, 0xE1000, PAGE, 12, 0},
    [A_V1P3_BIG] = {1, 3, 0, 0, 0, 21, 0},
    [A_V1P3_BIG_OTHER] = {1, 3, 0, 0, 0x200000, 21, 0},
    [A_V2P1_E1] = {2, 1, 1, 0xE1000, PAGE, 12, 0},
};

static vx_tlb_tag pop_tag(int i)
{
    return (vx_tlb_tag){.vpid = pop[i].vpid, .pcid = pop[i].pcid, .ept = (uint8_t)pop[i].ept,
                        .eptrta = pop[i].rta};
}

static uint64_t pop_hpa(int i) { return 0x1000000ull * (uint64_t)(i + 1); }

/* Guest-physical mappings of two EPT roots. */
static vx_gpa_view gv1, gv2;
static vx_gpa_cache gc1, gc2;

static void populate(void)
{
    for (int i = 0; i < N_POP; i++) put(pop_tag(i), pop[i].la, pop_hpa(i), pop[i].shift, pop[i].global);
    for (int i = 0; i < N_POP; i++) ck_assert_uint_eq(get(pop_tag(i), pop[i].la), pop_hpa(i));
    gv1 = (vx_gpa_view){t, 0xE1000};
    gv2 = (vx_gpa_view){t, 0xE2000};
    gc1 = vx_tlb_gpa_cache(&gv1);
    gc2 = vx_tlb_gpa_cache(&gv2);
    vx_ept_xl x = {.status = VX_XL_OK, .hpa = 0x88000, .r = 1, .w = 1, .x = 1, .shift = 12, .memtype = 6};
    gc1.insert(gc1.ctx, 0x7000, &x);
    x.hpa = 0x99000;
    gc2.insert(gc2.ctx, 0x7000, &x);
}

/* Which of the population survive, as a bit mask. */
static unsigned survivors(void)
{
    unsigned m = 0;
    for (int i = 0; i < N_POP; i++)
        if (get(pop_tag(i), pop[i].la) == pop_hpa(i)) m |= 1u << i;
    return m;
}

static int gpa_cached(vx_gpa_cache *c)
{
    vx_ept_xl x;
    return c->lookup(c->ctx, 0x7123, &x);
}

#define ALL ((1u << N_POP) - 1)
#define B(i) (1u << (i))

START_TEST(flush_page)
{
    /* INVLPG, INVPCID 0, INVVPID 0: the page of PAGE in VPID 1, every
     * PCID, global or not, every EPT root, and a large page containing
     * it; nothing of another VPID or another page. */
    populate();
    vx_tlb_flush_page(t, 1, PAGE + 0x123);
    unsigned gone = B(A_V1P1) | B(A_V1P2) | B(A_V1P1_E1) | B(A_V1P1_E2) | B(A_V1P3_BIG);
    ck_assert_uint_eq(survivors(), ALL & ~gone);
    ck_assert(gpa_cached(&gc1) && gpa_cached(&gc2));
    /* A global page. */
    vx_tlb_flush_page(t, 1, PAGE + 0x1000);
    gone |= B(A_V1G) | B(A_V1P1_NEXT);
    ck_assert_uint_eq(survivors(), ALL & ~gone);
    vx_tlb_flush_page(t, 2, PAGE + 0x3FFF);
    gone |= B(A_V2G);
    ck_assert_uint_eq(survivors(), ALL & ~gone);
}
END_TEST

START_TEST(flush_pcid)
{
    /* MOV to CR3, INVPCID 1: the non-global translations of (VPID 1,
     * PCID 1), linear and combined. */
    populate();
    vx_tlb_flush_pcid(t, 1, 1);
    unsigned gone = B(A_V1P1) | B(A_V1P1_E1) | B(A_V1P1_E2) | B(A_V1P1_NEXT);
    ck_assert_uint_eq(survivors(), ALL & ~gone);
    ck_assert(gpa_cached(&gc1) && gpa_cached(&gc2));
    vx_tlb_flush_pcid(t, 0, 0);
    gone |= B(A_V0P0) | B(A_V0P0_E1);
    ck_assert_uint_eq(survivors(), ALL & ~gone);
}
END_TEST

START_TEST(flush_vpid)
{
    /* INVVPID 3, INVPCID 3: everything of VPID 1 but the globals. */
    populate();
    vx_tlb_flush_vpid(t, 1, 1);
    unsigned v1 = B(A_V1P1) | B(A_V1P2) | B(A_V1G) | B(A_V1P1_E1) | B(A_V1P1_E2) | B(A_V1G_E1) |
                  B(A_V1P1_NEXT) | B(A_V1P3_BIG) | B(A_V1P3_BIG_OTHER);
    ck_assert_uint_eq(survivors(), (ALL & ~v1) | B(A_V1G) | B(A_V1G_E1));
    ck_assert(gpa_cached(&gc1) && gpa_cached(&gc2));
    /* INVVPID 1, INVPCID 2: the globals too. */
    vx_tlb_flush_vpid(t, 1, 0);
    ck_assert_uint_eq(survivors(), ALL & ~v1);
    ck_assert(gpa_cached(&gc1) && gpa_cached(&gc2));
}
END_TEST

START_TEST(flush_all_vpids)
{
    /* INVVPID 2: every VPID but 0. */
    populate();
    vx_tlb_flush_all_vpids(t);
    ck_assert_uint_eq(survivors(), B(A_V0P0) | B(A_V0P0_E1));
    ck_assert(gpa_cached(&gc1) && gpa_cached(&gc2));
}
END_TEST

START_TEST(flush_ept)
{
    /* INVEPT 1: combined and guest-physical mappings of one EPT root,
     * every VPID and PCID, globals too; no linear mapping. */
    populate();
    vx_tlb_flush_ept(t, 0xE1000);
    unsigned e1 = B(A_V1P1_E1) | B(A_V1G_E1) | B(A_V0P0_E1) | B(A_V2P1_E1);
    ck_assert_uint_eq(survivors(), ALL & ~e1);
    ck_assert(!gpa_cached(&gc1));
    ck_assert(gpa_cached(&gc2));
    /* INVEPT 2: every EPT root. */
    vx_tlb_flush_ept(t, UINT64_MAX);
    ck_assert_uint_eq(survivors(), ALL & ~e1 & ~B(A_V1P1_E2));
    ck_assert(!gpa_cached(&gc2));
}
END_TEST

START_TEST(flush_all)
{
    /* --tlb off, a write to a watched paging structure: everything, of
     * every kind and tag, guest-physical mappings included. */
    populate();
    uint64_t f = t->flushes;
    vx_tlb_flush_all(t);
    ck_assert_uint_eq(survivors(), 0);
    ck_assert(!gpa_cached(&gc1) && !gpa_cached(&gc2));
    ck_assert_uint_eq(t->flushes, f + 1);
    /* And the table works afterwards. */
    put(lin(1, 1), PAGE, 0x1234000, 12, 1);
    ck_assert_uint_eq(get(lin(1, 7), PAGE), 0x1234000);
}
END_TEST

START_TEST(capacity)
{
    /* A full table holds VX_TLB_CAPACITY translations. */
    vx_tlb_tag tag = lin(4, 4);
    for (uint64_t i = 0; i < VX_TLB_CAPACITY; i++) put(tag, i << 12, (i + 1) << 12, 12, 0);
    ck_assert_uint_eq(t->flushes, 0);
    for (uint64_t i = 0; i < VX_TLB_CAPACITY; i++) ck_assert_uint_eq(get(tag, i << 12), (i + 1) << 12);
    /* A removed entry makes room: nothing else is lost. */
    vx_tlb_remove(t, vx_tlb_lookup(t, &tag, 0));
    put(tag, (uint64_t)VX_TLB_CAPACITY << 12, 0xABC000, 12, 0);
    ck_assert_uint_eq(t->flushes, 0);
    ck_assert_uint_eq(get(tag, 0), 0);
    for (uint64_t i = 1; i <= VX_TLB_CAPACITY; i++)
        ck_assert_uint_eq(get(tag, i << 12), i == VX_TLB_CAPACITY ? 0xABC000 : (i + 1) << 12);
    /* So does an invalidation. */
    vx_tlb_flush_page(t, 4, 0x5000);
    put(tag, 0x5000, 0x5555000, 12, 0);
    ck_assert_uint_eq(t->flushes, 0);
    ck_assert_uint_eq(get(tag, 0x6000), 0x7000);
    /* One more than fits: the table empties itself (the architecture
     * allows dropping translations at any time) and keeps the new one. */
    put(tag, 0x7FFF0000000ull, 0xDEF000, 12, 0);
    ck_assert_uint_eq(t->flushes, 1);
    ck_assert_uint_eq(get(tag, 0x7FFF0000000ull), 0xDEF000);
    ck_assert_uint_eq(get(tag, 0x6000), 0);
    ck_assert_uint_eq(get(tag, 0x5000), 0);
}
END_TEST

START_TEST(context_capacity)
{
    /* VX_TLB_MAX_CTX distinct tags fit; one more empties the table. */
    for (unsigned i = 0; i < VX_TLB_MAX_CTX; i++) put(lin((uint16_t)(i + 1), 0), 0x1000, 0x1000ull * (i + 2), 12, 0);
    ck_assert_uint_eq(t->flushes, 0);
    for (unsigned i = 0; i < VX_TLB_MAX_CTX; i++) ck_assert_uint_eq(get(lin((uint16_t)(i + 1), 0), 0x1000), 0x1000ull * (i + 2));
    put(lin(999, 0), 0x1000, 0x999000, 12, 0);
    ck_assert_uint_eq(t->flushes, 1);
    ck_assert_uint_eq(get(lin(999, 0), 0x1000), 0x999000);
    ck_assert_uint_eq(get(lin(1, 0), 0x1000), 0);
    /* A global translation's context counts as one too. */
    put(lin(999, 3), 0x2000, 0x222000, 12, 1);
    ck_assert_uint_eq(get(lin(999, 4), 0x2000), 0x222000);
}
END_TEST

START_TEST(guest_physical_mappings)
{
    vx_gpa_view v1 = {t, 0x1000}, v2 = {t, 0x2000};
    vx_gpa_cache c1 = vx_tlb_gpa_cache(&v1), c2 = vx_tlb_gpa_cache(&v2);
    vx_ept_xl x = {.status = VX_XL_OK, .hpa = 0x88ABC, .r = 1, .w = 0, .x = 1, .xu = 1, .shift = 12,
                   .memtype = 5, .ipat = 1, .dirty = 0};
    c1.insert(c1.ctx, 0x5ABC, &x);
    vx_ept_xl y;
    memset(&y, 0, sizeof y);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x5000, &y), 1);
    ck_assert_uint_eq(y.hpa, 0x88000); /* stored for the page */
    ck_assert_int_eq(y.w, 0);
    ck_assert_int_eq(y.xu, 1);
    ck_assert_int_eq(y.memtype, 5);
    ck_assert_int_eq(y.ipat, 1);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x5FFF, &y), 1);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x6000, &y), 0);
    ck_assert_int_eq(c2.lookup(c2.ctx, 0x5000, &y), 0); /* another EPT root */
    ck_assert_uint_eq(t->gpa_hits, 2);
    ck_assert_uint_eq(t->gpa_misses, 2);
    /* The same page again replaces it (a write walk setting D). */
    x.w = 1;
    x.dirty = 1;
    c1.insert(c1.ctx, 0x5000, &x);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x5123, &y), 1);
    ck_assert_int_eq(y.w, 1);
    ck_assert_int_eq(y.dirty, 1);
    /* 2 MiB and 1 GiB mappings. */
    x.shift = 21;
    x.hpa = 0x40000000ull + 0x12345;
    c1.insert(c1.ctx, 0x600000 + 0x12345, &x);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x7FFFFF, &y), 1);
    ck_assert_uint_eq(y.hpa, 0x40000000ull);
    ck_assert_int_eq(y.shift, 21);
    x.shift = 30;
    x.hpa = 0x80000000ull;
    c2.insert(c2.ctx, 0xC0000000ull, &x);
    ck_assert_int_eq(c2.lookup(c2.ctx, 0xFFFFFFFFull, &y), 1);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0xC0000000ull, &y), 0);
    /* Linear invalidations leave them alone. */
    vx_tlb_flush_vpid(t, 0, 0);
    vx_tlb_flush_all_vpids(t);
    vx_tlb_flush_page(t, 0, 0x5000);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x5000, &y), 1);
    /* A full table empties itself and keeps the new one. */
    x.shift = 12;
    uint64_t f = t->flushes;
    for (uint64_t i = 0; i <= VX_TLB_CAPACITY; i++) c2.insert(c2.ctx, (i + 1) << 12, &x);
    ck_assert_uint_eq(t->flushes, f + 1);
    ck_assert_int_eq(c2.lookup(c2.ctx, ((uint64_t)VX_TLB_CAPACITY + 1) << 12, &y), 1);
    ck_assert_int_eq(c2.lookup(c2.ctx, 1 << 12, &y), 0);
    ck_assert_int_eq(c1.lookup(c1.ctx, 0x5000, &y), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tlb");
    TCase *tc = tcase_create("tlb");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lookup_by_tags);
    tcase_add_test(tc, page_sizes);
    tcase_add_test(tc, globals_across_pcids);
    tcase_add_test(tc, insert_replaces_and_remove);
    tcase_add_test(tc, flush_page);
    tcase_add_test(tc, flush_pcid);
    tcase_add_test(tc, flush_vpid);
    tcase_add_test(tc, flush_all_vpids);
    tcase_add_test(tc, flush_ept);
    tcase_add_test(tc, flush_all);
    tcase_add_test(tc, capacity);
    tcase_add_test(tc, context_capacity);
    tcase_add_test(tc, guest_physical_mappings);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
