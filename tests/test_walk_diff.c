/*
 * test_walk_diff.c - vx_xlate_linear against a second walker, written here
 * from the SDM and kept deliberately simple (no code shared with ept/):
 * random paging structures, random EPT structures, random control
 * registers and random accesses, with fixed seeds.  Every case compares
 * the outcome (status, host- and guest-physical address, #PF error code,
 * EPT-violation qualification, the rights and sizes of a translation) and
 * the side effects (the two memories, byte for byte, after each case).
 *
 * The reference follows SDM Vol. 3A 4.3-4.8 (paging: the entry formats of
 * Tables 4-4 to 4-20, access rights 4.6.1, protection keys 4.6.2, the
 * error code 4.7, accessed and dirty flags 4.8) and Vol. 3C 29.3 (EPT:
 * Tables 29-1 to 29-6, misconfigurations 29.3.3.1, violations 29.3.3.2
 * with the qualification of Table 28-7, accessed and dirty flags
 * 29.3.4).  Where the SDM leaves the model a choice, the reference makes
 * the model's documented one, and says so:
 *   - accessed and dirty flags are set only for an access the guest's
 *     paging allows, root first, then the dirty flag (ept/paging.c);
 *   - with EPT and EPT A/D flags off, each of those flag writes is a
 *     write to the entry's guest-physical address that EPT must allow;
 *   - EPT flags are set only by a translation that succeeds;
 *   - without paging, the page size reported is 1 GiB.
 *
 * VX_DIFF_SEED (a number) replaces the fixed seeds; VX_DIFF_SETS the
 * number of table sets per paging/EPT combination.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ept/xlate.h"

/* ---- a deterministic generator (xorshift64*) ---- */

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}
static int chance(unsigned percent) { return rnd() % 100 < percent; }
static uint64_t bit(unsigned n) { return 1ull << n; }
static int has(uint64_t v, unsigned n) { return (int)((v >> n) & 1); }

/* ---- host memory: NG pages of guest-format pages, then EPT pages ---- */

#define NG 28u
#define NP 40u
#define MEMB (NP * 4096u)
static uint8_t *memA; /* the model's */
static uint8_t *memB; /* the reference's */

/* Page roles.  Guest: 1-2 PML5 tables, 3-4 PML4, 5-7 PDPT, 8-10 PD,
 * 11-14 PT, 0 and 15-27 anything.  EPT: 28 PML5, 29-30 PML4, 31-32 PDPT,
 * 33-34 PD, 35-37 PT, 38-39 anything. */
static const unsigned groles[6][2] = {{15, 13}, {11, 4}, {8, 3}, {5, 3}, {3, 2}, {1, 2}};
static const unsigned eroles[6][2] = {{38, 2}, {35, 3}, {33, 2}, {31, 2}, {29, 2}, {28, 1}};
static uint64_t gpage(unsigned level) { return (groles[level][0] + rnd() % groles[level][1]) * 4096ull; }
static uint64_t epage(unsigned level) { return (eroles[level][0] + rnd() % eroles[level][1]) * 4096ull; }

/* ---- the reference walker ---- */

static uint64_t ref_read(uint64_t pa, unsigned width)
{
    uint64_t v = 0;
    if (pa >= MEMB || MEMB - pa < width) return width == 8 ? UINT64_MAX : 0xFFFFFFFFu;
    for (unsigned i = 0; i < width; i++) v |= (uint64_t)memB[pa + i] << (8 * i);
    return v;
}

static void ref_write(uint64_t pa, unsigned width, uint64_t v)
{
    if (pa >= MEMB || MEMB - pa < width) return;
    for (unsigned i = 0; i < width; i++) memB[pa + i] = (uint8_t)(v >> (8 * i));
}

/* Bits lo..hi of v, shifted down. */
static uint64_t field(uint64_t v, unsigned lo, unsigned hi)
{
    uint64_t r = 0;
    for (unsigned b = hi + 1; b-- > lo;) r = (r << 1) | (uint64_t)has(v, b);
    return r;
}

/* v with bits below lo and from hi up cleared: an address field. */
static uint64_t addr_bits(uint64_t v, unsigned lo, unsigned hi_excl)
{
    uint64_t r = 0;
    for (unsigned b = lo; b < hi_excl && b < 64; b++) r |= v & bit(b);
    return r;
}

typedef struct ref_result {
    vx_xl_status status;
    uint64_t gpa, hpa, qual;
    uint32_t pfec;
    unsigned shift, g_rw, g_us, g_xd, g_global, g_pkey;
    unsigned e_r, e_w, e_x, e_xu, e_memtype, e_ipat, dirty;
} ref_result;

typedef struct ref_in {
    const vx_guest_paging *pg;
    const vx_ept *ept; /* NULL: no EPT */
    unsigned acc;
    uint64_t la;
} ref_in;

/* ---- EPT (Vol. 3C 29.3) ---- */

/* Is bit b reserved in an EPT entry at level, mapping a page (leaf) or
 * referencing a table?  Tables 29-1 to 29-6. */
static int ept_reserved(unsigned level, int leaf, unsigned b, unsigned maxphy)
{
    if (b >= maxphy && b <= 51) return 1;
    if (level >= 4) return b >= 3 && b <= 7;
    if (!leaf) return b >= 3 && b <= 6; /* bit 7 is 0 here */
    if (level == 3) return b >= 12 && b <= 29;
    if (level == 2) return b >= 12 && b <= 20;
    return 0;
}

typedef struct ept_out {
    int status; /* 0 ok, 1 violation, 2 misconfiguration */
    uint64_t hpa, qual;
    unsigned r, w, x, xu, shift, memtype, ipat, dirty;
} ept_out;

/* need: bit 0 read, bit 1 write, bit 2 fetch.  user: the linear address
 * is a user-mode one (mode-based execute control). */
static ept_out ref_ept(const vx_ept *ept, uint64_t gpa, unsigned need, int user, int peek)
{
    ept_out o = {0};
    unsigned levels = (unsigned)field(ept->eptp, 3, 5) + 1;
    unsigned m = ept->maxphyaddr;
    int ad = has(ept->eptp, 6), mbec = ept->mbec;
    uint64_t table = addr_bits(ept->eptp, 12, m);
    uint64_t where[5], ent[5];
    unsigned n = 0, r = 1, w = 1, x = 1, xu = 1, level;
    for (level = levels; level >= 1; level--) {
        uint64_t a = table + 8 * field(gpa, 12 + 9 * (level - 1), 20 + 9 * (level - 1));
        uint64_t e = ref_read(a, 8);
        int R = has(e, 0), W = has(e, 1), X = has(e, 2), XU = has(e, 10);
        if (!R && !W && !X && !(mbec && XU)) { /* not present */
            o.status = 1;
            o.qual = need;
            return o;
        }
        /* 29.3.3.1: write without read; execute-only without support. */
        if (W && !R) { o.status = 2; return o; }
        if (!R && !W && !has(ept->cap, 0)) { o.status = 2; return o; }
        int leaf = level == 1 || ((level == 2 || level == 3) && has(e, 7));
        for (unsigned b = 0; b < 64; b++)
            if (has(e, b) && ept_reserved(level, leaf, b, m)) { o.status = 2; return o; }
        if (leaf && level == 3 && !has(ept->cap, 17)) { o.status = 2; return o; }
        if (leaf && level == 2 && !has(ept->cap, 16)) { o.status = 2; return o; }
        if (leaf) {
            unsigned mt = (unsigned)field(e, 3, 5);
            if (mt == 2 || mt == 3 || mt == 7) { o.status = 2; return o; }
        }
        r &= (unsigned)R;
        w &= (unsigned)W;
        x &= (unsigned)X;
        xu &= (unsigned)XU;
        where[n] = a;
        ent[n++] = e;
        if (leaf) break;
        table = addr_bits(e, 12, m);
    }
    if (!mbec) xu = 0;
    unsigned xok = mbec ? (user ? xu : x) : x;
    if ((has(need, 0) && !r) || (has(need, 1) && !w) || (has(need, 2) && !xok)) {
        o.status = 1;
        o.qual = need | r << 3 | w << 4 | x << 5 | xu << 6;
        return o;
    }
    unsigned shift = 12 + 9 * (level - 1);
    if (ad && !peek) {
        for (unsigned i = 0; i < n; i++) {
            uint64_t v = ent[i] | bit(8);
            if (i == n - 1 && has(need, 1)) v |= bit(9);
            if (v != ent[i]) ref_write(where[i], 8, v);
            ent[i] = v;
        }
    }
    uint64_t leafe = ent[n - 1];
    o.hpa = addr_bits(leafe, shift, m) | addr_bits(gpa, 0, shift);
    o.r = r;
    o.w = w;
    o.x = x;
    o.xu = xu;
    o.shift = shift;
    o.memtype = (unsigned)field(leafe, 3, 5);
    o.ipat = (unsigned)has(leafe, 6);
    o.dirty = !ad || has(leafe, 9);
    return o;
}

/* ---- guest paging (Vol. 3A 4) ---- */

/* Is bit b reserved in a guest entry at level (mode: 2 32-bit, 3 PAE, 4,
 * 5) that maps a page (leaf) or references a table? */
static int guest_reserved(const vx_guest_paging *pg, int mode, unsigned level, int leaf, unsigned b)
{
    unsigned m = pg->maxphyaddr;
    int nxe = has(pg->efer, 11);
    if (mode == 2) {
        /* Only a 4-MByte PDE: 21:(M-19), M at most 40 (Table 4-4). */
        unsigned m32 = m < 40 ? m : 40;
        return level == 2 && leaf && b >= m32 - 19 && b <= 21;
    }
    if (b == 63) return !nxe;
    if (mode == 3 && b >= m && b <= 62) return 1;
    if (mode >= 4 && b >= m && b <= 51) return 1;
    if (level >= 4 && b == 7) return 1;
    if (level == 3 && leaf && b == 7 && !pg->page1gb) return 1;
    if (level == 3 && leaf && b >= 13 && b <= 29) return 1;
    if (level == 2 && leaf && b >= 13 && b <= 20) return 1;
    return 0;
}

/* 4.6.1 without protection keys: may this access use a translation with
 * these combined rights? */
static int rights_allow(const vx_guest_paging *pg, unsigned acc, int rw, int us, int xd)
{
    int user = (acc & VX_ACC_U) != 0, write = (acc & VX_ACC_W) != 0, fetch = (acc & VX_ACC_I) != 0;
    int wp = has(pg->cr0, 16), smep = has(pg->cr4, 20), smap = has(pg->cr4, 21);
    int explicit_ac = (acc & VX_ACC_AC) && !(acc & VX_ACC_IMPLICIT);
    if (user) {
        if (!us) return 0;                /* user-mode access to a supervisor-mode address */
        if (fetch) return !xd;
        if (write) return rw;
        return 1;
    }
    if (fetch) {
        if (us && smep) return 0;
        return !xd;
    }
    if (us && smap && !explicit_ac) return 0;  /* SMAP */
    if (write) return rw || !wp;
    return 1;
}

/* 4.6.2 / 4.7: does the protection key deny this access? */
static int key_denies(const vx_guest_paging *pg, unsigned acc, int us, unsigned key)
{
    if (acc & VX_ACC_I) return 0;
    uint32_t reg;
    if (us && has(pg->cr4, 22)) reg = pg->pkru;
    else if (!us && has(pg->cr4, 24)) reg = pg->pkrs;
    else return 0;
    int ad = has(reg, 2 * key), wd = has(reg, 2 * key + 1);
    int write = (acc & VX_ACC_W) != 0, user = (acc & VX_ACC_U) != 0;
    return ad || (wd && write && (user || has(pg->cr0, 16)));
}

typedef struct gwalk {
    const ref_in *in;
    ref_result *out;
    int mode, wide;
    unsigned n;
    uint64_t gpa[5], hpa[5], ent[5];
} gwalk;

static void ref_pf(gwalk *g, uint32_t bits)
{
    const vx_guest_paging *pg = g->in->pg;
    uint32_t ec = bits;
    if (g->in->acc & VX_ACC_W) ec |= 2;
    if (g->in->acc & VX_ACC_U) ec |= 4;
    /* I/D: a fetch, with SMEP, or with PAE and NXE. */
    if ((g->in->acc & VX_ACC_I) && (has(pg->cr4, 20) || (has(pg->cr4, 5) && has(pg->efer, 11))))
        ec |= 16;
    g->out->status = VX_XL_PF;
    g->out->pfec = ec;
}

/* An EPT failure while accessing a guest paging-structure entry. */
static void ref_ept_fail(gwalk *g, const ept_out *e, uint64_t gpa)
{
    g->out->status = e->status == 1 ? VX_XL_EPT_VIOLATION : VX_XL_EPT_MISCONFIG;
    g->out->gpa = gpa;
    g->out->qual = e->status == 1 ? (e->qual | bit(7)) : 0;
}

/* Read the guest entry at gpa: through EPT first (a read; a write too
 * when EPT A/D flags are on). */
static int ref_entry(gwalk *g, uint64_t gpa, uint64_t *e, uint64_t *hpa)
{
    *hpa = gpa;
    if (g->in->ept) {
        unsigned need = 1 | (has(g->in->ept->eptp, 6) ? 2 : 0);
        ept_out x = ref_ept(g->in->ept, gpa, need, 0, (g->in->acc & VX_ACC_PEEK) != 0);
        if (x.status) {
            ref_ept_fail(g, &x, gpa);
            return -1;
        }
        *hpa = x.hpa;
    }
    *e = ref_read(*hpa, g->wide ? 8 : 4);
    return 0;
}

/* Set flag in entry i: a write to its guest-physical address. */
static int ref_flag(gwalk *g, unsigned i, uint64_t flag)
{
    if (g->ent[i] & flag) return 0;
    uint64_t hpa = g->hpa[i];
    if (g->in->ept && !has(g->in->ept->eptp, 6)) {
        ept_out x = ref_ept(g->in->ept, g->gpa[i], 2, 0, 0);
        if (x.status) {
            ref_ept_fail(g, &x, g->gpa[i]);
            return -1;
        }
        hpa = x.hpa;
    }
    g->ent[i] |= flag;
    ref_write(hpa, g->wide ? 8 : 4, g->ent[i]);
    return 0;
}

/* The translation of the linear address, level by level from the top;
 * returns 0 with the leaf found (out->gpa and rights), else -1. */
static int ref_guest(gwalk *g)
{
    const vx_guest_paging *pg = g->in->pg;
    const int mode = g->mode;
    const unsigned m = pg->maxphyaddr;
    uint64_t la = g->in->la;
    int rw = 1, us = 1, xd = 0;
    int nxe = has(pg->efer, 11);
    uint64_t table;
    unsigned level;
    if (mode == 2) {
        la &= 0xFFFFFFFFu;
        table = addr_bits(pg->cr3, 12, 32);
        level = 2;
    } else if (mode == 3) {
        uint64_t pdpte = pg->pdpte[field(la, 30, 31)];
        if (!has(pdpte, 0)) {
            ref_pf(g, 0);
            return -1;
        }
        table = addr_bits(pdpte, 12, m);
        level = 2;
    } else {
        table = addr_bits(pg->cr3, 12, m);
        level = (unsigned)mode;
    }
    for (;; level--) {
        uint64_t gpa, hpa, e;
        if (mode == 2) gpa = table + 4 * field(la, 12 + 10 * (level - 1), 21 + 10 * (level - 1));
        else gpa = table + 8 * field(la, 12 + 9 * (level - 1), 20 + 9 * (level - 1));
        if (ref_entry(g, gpa, &e, &hpa) < 0) return -1;
        if (!has(e, 0)) {
            ref_pf(g, 0);
            return -1;
        }
        int leaf;
        if (mode == 2) leaf = level == 1 || (has(e, 7) && has(pg->cr4, 4));
        else leaf = level == 1 || ((level == 2 || level == 3) && has(e, 7));
        for (unsigned b = 0; b < (g->wide ? 64u : 32u); b++)
            if (has(e, b) && guest_reserved(pg, mode, level, leaf, b)) {
                ref_pf(g, 1 | 8);
                return -1;
            }
        rw &= has(e, 1);
        us &= has(e, 2);
        if (mode != 2 && nxe) xd |= has(e, 63);
        g->gpa[g->n] = gpa;
        g->hpa[g->n] = hpa;
        g->ent[g->n++] = e;
        if (!leaf) {
            table = mode == 2 ? addr_bits(e, 12, 32) : addr_bits(e, 12, m);
            continue;
        }
        /* The page. */
        unsigned shift;
        uint64_t frame;
        if (mode == 2 && level == 2) {
            shift = 22;
            frame = addr_bits(e, 22, 32) | field(e, 13, 20) << 32;
        } else if (mode == 2) {
            shift = 12;
            frame = addr_bits(e, 12, 32);
        } else {
            shift = 12 + 9 * (level - 1);
            frame = addr_bits(e, shift, m);
        }
        int keys = mode >= 4;
        unsigned key = keys ? (unsigned)field(e, 59, 62) : 0;
        int allowed = rights_allow(pg, g->in->acc, rw, us, xd);
        int pk = keys && key_denies(pg, g->in->acc, us, key);
        if (!allowed || pk) {
            ref_pf(g, 1 | (pk ? 32 : 0));
            return -1;
        }
        ref_result *o = g->out;
        o->gpa = frame | addr_bits(la, 0, shift);
        o->shift = shift;
        o->g_rw = (unsigned)rw;
        o->g_us = (unsigned)us;
        o->g_xd = (unsigned)xd;
        o->g_global = has(pg->cr4, 7) && has(e, 8);
        o->g_pkey = key;
        return 0;
    }
}

static void ref_translate(const ref_in *in, ref_result *o)
{
    const vx_guest_paging *pg = in->pg;
    memset(o, 0, sizeof *o);
    int mode = !has(pg->cr0, 31) ? 0 : has(pg->efer, 10) ? (has(pg->cr4, 12) ? 5 : 4)
                                                          : has(pg->cr4, 5) ? 3 : 2;
    gwalk g = {.in = in, .out = o, .mode = mode, .wide = mode != 2};
    int us = 1, rw = 1, xd = 0;
    if (mode == 0) {
        o->gpa = in->la;
        o->shift = 30;
        o->g_rw = o->g_us = 1;
        o->dirty = 1;
    } else {
        if (ref_guest(&g) < 0) return;
        if (!(in->acc & VX_ACC_PEEK)) {
            for (unsigned i = 0; i < g.n; i++)
                if (ref_flag(&g, i, 0x20) < 0) return;
            if ((in->acc & VX_ACC_W) && ref_flag(&g, g.n - 1, 0x40) < 0) return;
        }
        o->dirty = has(g.ent[g.n - 1], 6);
        us = (int)o->g_us;
        rw = (int)o->g_rw;
        xd = (int)o->g_xd;
    }
    o->hpa = o->gpa;
    o->e_r = o->e_w = o->e_x = o->e_xu = 1;
    o->e_memtype = 6;
    o->e_ipat = 0;
    o->status = VX_XL_OK;
    if (!in->ept) return;
    unsigned need = (in->acc & VX_ACC_I) ? 4 : (in->acc & VX_ACC_W) ? 2 : 1;
    ept_out x = ref_ept(in->ept, o->gpa, need, us, (in->acc & VX_ACC_PEEK) != 0);
    if (x.status == 1) {
        o->status = VX_XL_EPT_VIOLATION;
        o->qual = x.qual | bit(7) | bit(8);
        if (has(in->ept->cap, 22)) o->qual |= (uint64_t)us << 9 | (uint64_t)rw << 10 | (uint64_t)xd << 11;
        return;
    }
    if (x.status == 2) {
        o->status = VX_XL_EPT_MISCONFIG;
        o->qual = 0;
        return;
    }
    o->hpa = x.hpa;
    o->e_r = x.r;
    o->e_w = x.w;
    o->e_x = x.x;
    o->e_xu = x.xu;
    o->e_memtype = x.memtype;
    o->e_ipat = x.ipat;
    o->dirty = o->dirty && x.dirty;
    if (x.shift < o->shift) o->shift = x.shift;
}

/* ---- random tables ---- */

static unsigned pbad;     /* per table set: how often entries are made wrong (percent) */
static unsigned gmaxphy;  /* per table set */

/* A bit in lo..hi, the ends more often than the rest. */
static unsigned edge_bit(unsigned lo, unsigned hi)
{
    unsigned r = (unsigned)(rnd() % 4);
    return r == 0 ? lo : r == 1 ? hi : lo + (unsigned)(rnd() % (hi - lo + 1));
}

/* A 64-bit guest entry in a table of level (PAE: pae). */
static uint64_t gen_guest64(unsigned level, int pae)
{
    uint64_t e = 0;
    if (!chance(1 + 2 * pbad)) e |= 1;
    if (chance(92)) e |= 2;
    if (chance(90)) e |= 4;
    e |= rnd() & 0x18;              /* PWT, PCD */
    if (chance(40)) e |= 0x20;      /* A */
    if (chance(40)) e |= 0x40;      /* D */
    if (chance(30)) e |= 0x100;     /* G */
    e |= rnd() & 0xE00;             /* ignored */
    int ps = ((level == 2 || level == 3) && chance(20)) || (level >= 4 && chance(pbad / 2));
    if (ps) e |= 0x80;
    uint64_t frame;
    if (ps && level <= 3) {
        unsigned sh = level == 3 ? 30 : 21;
        frame = (rnd() % 4) << sh;
        if (chance(30)) frame |= bit(12); /* PAT */
        if (chance(pbad)) frame |= bit(edge_bit(13, sh - 1));
    } else if (level == 1) {
        frame = chance(85) ? (rnd() % NG) * 4096 : rnd() & 0xFFFFFF000ull;
    } else {
        frame = !chance(2 + pbad) ? gpage(level - 1) : chance(50) ? (rnd() % NG) * 4096 : rnd() & 0xFFFFFF000ull;
    }
    e |= frame;
    if (chance(6)) e |= bit(63);
    if (pae) {
        if (chance(pbad)) e |= bit(52 + (unsigned)(rnd() % 11));
    } else {
        if (chance(50)) e |= (rnd() & 0xF) << 59; /* protection key */
        if (chance(15)) e |= (rnd() & 0x7F) << 52;
    }
    if (gmaxphy < 52 && chance(pbad / 2)) e |= bit(edge_bit(gmaxphy, 51));
    return e;
}

/* A 32-bit guest entry in a table of level 2 or 1. */
static uint32_t gen_guest32(unsigned level)
{
    uint32_t e = 0;
    if (!chance(1 + 2 * pbad)) e |= 1;
    if (chance(92)) e |= 2;
    if (chance(90)) e |= 4;
    e |= (uint32_t)rnd() & 0xE18;
    if (chance(40)) e |= 0x20;
    if (chance(40)) e |= 0x40;
    if (chance(30)) e |= 0x100;
    int ps = chance(level == 2 ? 30 : 20);
    if (ps) e |= 0x80;
    if (level == 2 && ps) {
        e |= (uint32_t)(rnd() % 4) << 22;
        if (chance(30)) e |= 1u << 12;                       /* PAT */
        if (chance(40)) e |= (uint32_t)(rnd() & 0xFF) << 13; /* PSE-36 */
        if (chance(pbad + 3)) e |= 1u << 21;
    } else if (level == 2) {
        e |= chance(90) ? (uint32_t)gpage(1) : (uint32_t)rnd() & 0xFFFFF000u;
    } else {
        e |= chance(85) ? (uint32_t)(rnd() % NG) * 4096 : (uint32_t)rnd() & 0xFFFFF000u;
    }
    return e;
}

/* An EPT entry at index idx of a table of level. */
static uint64_t gen_ept(unsigned level, unsigned idx)
{
    /* Rights: any value (write-only, execute-only...) when made wrong,
     * else mostly RWX, sometimes a valid subset. */
    static const unsigned subsets[] = {1, 3, 5, 7, 7};
    uint64_t e = chance(pbad) ? rnd() & 7 : chance(10) ? subsets[rnd() % 5] : 7;
    if (chance(80)) e |= bit(10);
    int ps = ((level == 2 || level == 3) && chance(15)) || (level >= 4 && chance(pbad / 3));
    int leaf = level == 1 || (ps && level <= 3);
    if (ps) e |= bit(7);
    if (leaf) {
        static const unsigned types[] = {6, 6, 6, 6, 0, 1, 4, 5};
        e |= (uint64_t)(chance(pbad) ? rnd() % 8 : types[rnd() % 8]) << 3;
        if (chance(30)) e |= bit(6);
    } else if (chance(pbad / 2)) {
        e |= bit(3 + (unsigned)(rnd() % 4));
    }
    if (chance(40)) e |= bit(8);
    if (chance(40)) e |= bit(9);
    e |= rnd() & bit(11);
    if (chance(10)) e |= (rnd() & 0xFFF) << 52;
    uint64_t frame;
    if (level == 1) {
        frame = chance(80) && idx < NG ? idx * 4096ull : chance(70) ? (rnd() % NG) * 4096 : rnd() & 0xFFFFFF000ull;
    } else if (leaf) {
        unsigned sh = level == 3 ? 30 : 21;
        frame = chance(70) ? 0 : (rnd() % 4) << sh;
        if (chance(pbad)) frame |= bit(edge_bit(12, sh - 1));
    } else {
        frame = !chance(pbad) ? epage(level - 1) : (rnd() % NP) * 4096ull;
    }
    e |= frame;
    if (gmaxphy < 52 && chance(pbad / 2)) e |= bit(edge_bit(gmaxphy, 51));
    return e;
}

static void put64(uint8_t *m, uint64_t pa, uint64_t v) { memcpy(m + pa, &v, 8); }
static void put32(uint8_t *m, uint64_t pa, uint32_t v) { memcpy(m + pa, &v, 4); }

/* Fill every page for guest paging mode `mode`. */
static void gen_tables(int mode)
{
    for (unsigned p = 0; p < NP; p++) {
        unsigned glevel = 0, elevel = 0;
        for (unsigned l = 1; l <= 5; l++) {
            if (p >= groles[l][0] && p < groles[l][0] + groles[l][1]) glevel = l;
            if (p >= eroles[l][0] && p < eroles[l][0] + eroles[l][1]) elevel = l;
        }
        uint64_t base = p * 4096ull;
        if (p >= NG) {
            for (unsigned i = 0; i < 512; i++) put64(memA, base + 8 * i, gen_ept(elevel ? elevel : 1, i));
        } else if (mode == 2 && (glevel == 2 || glevel == 1)) {
            for (unsigned i = 0; i < 1024; i++) put32(memA, base + 4 * i, gen_guest32(glevel));
        } else {
            for (unsigned i = 0; i < 512; i++)
                put64(memA, base + 8 * i, gen_guest64(glevel ? glevel : 1, mode == 3));
        }
    }
    memcpy(memB, memA, MEMB);
}

/* ---- one case ---- */

typedef struct stats {
    unsigned long cases, ok, pf, viol, misc, mismatches;
} stats;

static const char *stname(int s)
{
    static const char *n[] = {"OK", "#PF", "EPT violation", "EPT misconfig"};
    return s >= 0 && s <= 3 ? n[s] : "?";
}

static void print_case(const char *why, uint64_t seed, int mode, int elev, unsigned set, unsigned k,
                       const vx_guest_paging *pg, const vx_ept *ept, uint64_t la, unsigned acc,
                       const vx_xlate *x, const ref_result *r)
{
    fprintf(stderr,
            "MISMATCH (%s): seed %#llx guest mode %d EPT %d set %u case %u\n"
            "  la %#llx access %#x\n"
            "  cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx pdpte %#llx %#llx %#llx %#llx\n"
            "  pkru %#x pkrs %#x maxphyaddr %u page1gb %d\n",
            why, (unsigned long long)seed, mode, elev, set, k, (unsigned long long)la, acc,
            (unsigned long long)pg->cr0, (unsigned long long)pg->cr3, (unsigned long long)pg->cr4,
            (unsigned long long)pg->efer, (unsigned long long)pg->pdpte[0],
            (unsigned long long)pg->pdpte[1], (unsigned long long)pg->pdpte[2],
            (unsigned long long)pg->pdpte[3], pg->pkru, pg->pkrs, pg->maxphyaddr, pg->page1gb);
    if (ept)
        fprintf(stderr, "  eptp %#llx cap %#llx mbec %d\n", (unsigned long long)ept->eptp,
                (unsigned long long)ept->cap, ept->mbec);
    fprintf(stderr,
            "  model:     %s gpa %#llx hpa %#llx pfec %#x qual %#llx shift %u rw/us/xd/g/pk %u%u%u%u/%u "
            "ept rwx/xu %u%u%u/%u mt %u ipat %u dirty %u\n",
            stname(x->status), (unsigned long long)x->gpa, (unsigned long long)x->hpa, x->pfec,
            (unsigned long long)x->qual, x->page_shift, x->g_rw, x->g_us, x->g_xd, x->g_global,
            x->g_pkey, x->e_r, x->e_w, x->e_x, x->e_xu, x->e_memtype, x->e_ipat, x->dirty);
    fprintf(stderr,
            "  reference: %s gpa %#llx hpa %#llx pfec %#x qual %#llx shift %u rw/us/xd/g/pk %u%u%u%u/%u "
            "ept rwx/xu %u%u%u/%u mt %u ipat %u dirty %u\n",
            stname(r->status), (unsigned long long)r->gpa, (unsigned long long)r->hpa, r->pfec,
            (unsigned long long)r->qual, r->shift, r->g_rw, r->g_us, r->g_xd, r->g_global, r->g_pkey,
            r->e_r, r->e_w, r->e_x, r->e_xu, r->e_memtype, r->e_ipat, r->dirty);
}

static int same(const vx_xlate *x, const ref_result *r)
{
    if ((int)x->status != (int)r->status) return 0;
    switch (r->status) {
    case VX_XL_PF: return x->pfec == r->pfec;
    case VX_XL_EPT_VIOLATION: return x->gpa == r->gpa && x->qual == r->qual;
    case VX_XL_EPT_MISCONFIG: return x->gpa == r->gpa && x->qual == 0;
    case VX_XL_OK:
        return x->gpa == r->gpa && x->hpa == r->hpa && x->page_shift == r->shift &&
               x->g_rw == r->g_rw && x->g_us == r->g_us && x->g_xd == r->g_xd &&
               x->g_global == r->g_global && x->g_pkey == r->g_pkey && x->e_r == r->e_r &&
               x->e_w == r->e_w && x->e_x == r->e_x && x->e_xu == r->e_xu &&
               x->e_memtype == r->e_memtype && x->e_ipat == r->e_ipat && x->dirty == r->dirty;
    }
    return 0;
}

static const unsigned maxphys[] = {36, 39, 40, 46, 52};

/* sets table sets of guest mode `mode` over EPT elev (0: none), each
 * with cases random accesses. */
static void run_combo(uint64_t seed, int mode, int elev, unsigned sets, unsigned cases, stats *st)
{
    rng = seed ^ ((uint64_t)mode << 32) ^ ((uint64_t)elev << 40) ^ 0x9E3779B97F4A7C15ull;
    if (!rng) rng = 1;
    static const unsigned bads[] = {0, 0, 1, 2, 5, 10};
    vx_hostmem hm = {memA, MEMB};
    vx_walk_log log;
    for (unsigned set = 0; set < sets; set++) {
        pbad = bads[rnd() % 6];
        gmaxphy = maxphys[rnd() % 5];
        gen_tables(mode);
        for (unsigned k = 0; k < cases; k++) {
            vx_guest_paging pg = {0};
            pg.maxphyaddr = gmaxphy;
            pg.page1gb = chance(70);
            pg.pkru = chance(50) ? (uint32_t)rnd() : 0;
            pg.pkrs = chance(50) ? (uint32_t)rnd() : 0;
            pg.cr0 = 1 | (chance(60) ? bit(16) : 0) | (mode ? bit(31) : 0);
            pg.cr4 = (chance(50) ? bit(7) : 0) | (chance(30) ? bit(20) : 0) | (chance(30) ? bit(21) : 0);
            pg.efer = chance(70) ? bit(11) : 0;
            if (mode == 2 && chance(75)) pg.cr4 |= bit(4);
            if (mode >= 3) pg.cr4 |= bit(5);
            if (mode >= 4) {
                pg.efer |= bit(8) | bit(10);
                if (chance(35)) pg.cr4 |= bit(22);
                if (chance(25)) pg.cr4 |= bit(24);
            }
            if (mode == 5) pg.cr4 |= bit(12);
            if (mode == 2) pg.cr3 = gpage(2) | (rnd() & 0x18);
            if (mode >= 4) pg.cr3 = gpage((unsigned)mode) | (rnd() & 0x18);
            if (mode == 3)
                for (int i = 0; i < 4; i++)
                    pg.pdpte[i] = chance(92) ? gpage(2) | 1 | (rnd() & 0x18) : rnd() & ~1ull;
            vx_ept ept = {0};
            if (elev) {
                ept.enabled = 1;
                ept.maxphyaddr = gmaxphy;
                ept.eptp = epage((unsigned)elev) | 6 | (uint64_t)(elev - 1) << 3 | (chance(50) ? bit(6) : 0);
                ept.cap = (chance(60) ? bit(0) : 0) | (chance(85) ? bit(16) : 0) |
                          (chance(75) ? bit(17) : 0) | (chance(50) ? bit(22) : 0) | bit(21);
                ept.mbec = chance(40);
            }
            /* The access. */
            unsigned kind = (unsigned)(rnd() % 100), acc;
            if (kind < 40) acc = 0;
            else if (kind < 75) acc = VX_ACC_W;
            else acc = VX_ACC_I;
            unsigned who = (unsigned)(rnd() % 100);
            if (who < 40) acc |= VX_ACC_U;
            else if (who < 55 && !(acc & VX_ACC_I)) acc |= VX_ACC_IMPLICIT;
            if (chance(50)) acc |= VX_ACC_AC;
            if (chance(10)) acc |= VX_ACC_PEEK;
            uint64_t la;
            if (mode >= 4) la = rnd();
            else if (mode == 0 && chance(60)) la = rnd() % (NG * 4096u);
            else la = rnd() & 0xFFFFFFFFu;

            vx_xlate x;
            log.n = 0;
            vx_xlate_env env = {&pg, elev ? &ept : NULL, &hm, NULL, &log};
            vx_xlate_linear(&env, la, acc, &x);
            ref_in in = {&pg, elev ? &ept : NULL, acc, la};
            ref_result r;
            ref_translate(&in, &r);
            st->cases++;
            switch (r.status) {
            case VX_XL_OK: st->ok++; break;
            case VX_XL_PF: st->pf++; break;
            case VX_XL_EPT_VIOLATION: st->viol++; break;
            default: st->misc++; break;
            }
            const char *why = NULL;
            if (!same(&x, &r)) why = "result";
            else if (memcmp(memA, memB, MEMB)) why = "memory";
            if (why) {
                if (st->mismatches++ < 8) {
                    print_case(why, seed, mode, elev, set, k, &pg, elev ? &ept : NULL, la, acc, &x, &r);
                    for (unsigned i = 0; i < MEMB; i += 8)
                        if (memcmp(memA + i, memB + i, 8)) {
                            uint64_t a, b;
                            memcpy(&a, memA + i, 8);
                            memcpy(&b, memB + i, 8);
                            fprintf(stderr, "  memory at %#x: model %#llx reference %#llx\n", i,
                                    (unsigned long long)a, (unsigned long long)b);
                        }
                }
                memcpy(memB, memA, MEMB); /* go on from the model's memory */
            }
        }
    }
}

START_TEST(differential)
{
    static const uint64_t seeds[] = {0x5EED0001ull, 0xC0FFEE12345ull};
    uint64_t one_seed = 0;
    const char *s = getenv("VX_DIFF_SEED");
    if (s) one_seed = strtoull(s, NULL, 0);
    unsigned sets = 60;
    if (getenv("VX_DIFF_SETS")) sets = (unsigned)strtoul(getenv("VX_DIFF_SETS"), NULL, 0);
    const unsigned cases = 16;
    setvbuf(stdout, NULL, _IOLBF, 0);
    memA = malloc(MEMB);
    memB = malloc(MEMB);
    ck_assert_ptr_nonnull(memA);
    ck_assert_ptr_nonnull(memB);
    stats total = {0};
    clock_t t0 = clock();
    for (size_t si = 0; si < (s ? 1 : sizeof seeds / sizeof *seeds); si++) {
        uint64_t seed = s ? one_seed : seeds[si];
        static const int modes[] = {0, 2, 3, 4, 5};
        for (int mi = 0; mi < 5; mi++)
            for (int elev = 0; elev <= 5; elev++) {
                if (elev && elev < 4) continue;
                stats st = {0};
                run_combo(seed, modes[mi], elev, sets, cases, &st);
                printf("seed %#llx guest mode %d EPT %d: %lu cases: %lu OK, %lu #PF, %lu violations, "
                       "%lu misconfigurations, %lu mismatches\n",
                       (unsigned long long)seed, modes[mi], elev, st.cases, st.ok, st.pf, st.viol,
                       st.misc, st.mismatches);
                /* Every combination reaches each outcome it can have. */
                ck_assert_msg(st.ok > 0, "no successful translation");
                if (modes[mi]) ck_assert_msg(st.pf > 0, "no page fault");
                if (elev) ck_assert_msg(st.viol > 0 && st.misc > 0, "no EPT violation or misconfiguration");
                total.cases += st.cases;
                total.ok += st.ok;
                total.pf += st.pf;
                total.viol += st.viol;
                total.misc += st.misc;
                total.mismatches += st.mismatches;
            }
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("total: %lu cases (%lu OK, %lu #PF, %lu violations, %lu misconfigurations) in %.2f s CPU, "
           "%lu mismatches\n",
           total.cases, total.ok, total.pf, total.viol, total.misc, secs, total.mismatches);
    free(memA);
    free(memB);
    ck_assert_msg(total.mismatches == 0, "%lu mismatches (see above)", total.mismatches);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("walk_diff");
    TCase *tc = tcase_create("diff");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, differential);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
