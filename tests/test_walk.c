/*
 * test_walk.c - the address-translation walker (ept/paging.c, ept/ept.c)
 * over hand-built tables: every permission rule and every outcome, with
 * exact values.
 *
 *   guest paging (SDM Vol. 3A 4): not-present entries at each level, the
 *   #PF error code (P, W, U, RSVD, I/D, PK, 4.7), reserved bits at each
 *   level in each mode, U/S, R/W with CR0.WP, XD with IA32_EFER.NXE,
 *   SMEP, SMAP with RFLAGS.AC and implicit supervisor-mode accesses,
 *   protection keys (4.6), accessed and dirty flags (4.8), large pages
 *   (1 GiB with and without CPUID 1-GByte pages, PSE-36), 5-level paging;
 *
 *   EPT (SDM Vol. 3C 29.3): violations at each level with the exit
 *   qualification of Table 28-7 (access bits 2:0, rights 6:3, guest-linear
 *   address valid, translation versus paging-structure access, advanced
 *   information 11:9), misconfigurations (29.3.3.1), EPT accessed and
 *   dirty flags (29.3.4), guest paging-structure accesses as writes when
 *   EPTP bit 6 is set, guest A/D updates needing EPT write access,
 *   mode-based execute control, the references of the two-dimensional
 *   walk and their order, the guest-physical mapping cache hook.
 *
 * Constants are written out here from the SDM rather than taken from the
 * model's headers, so that a wrong constant there shows up as a failure.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ept/ept.h"

/* ---- architectural bits (SDM Vol. 3A 2.5, 4.5; Vol. 3C 29.3.2) ---- */

#define CR0_PE_ (1ull << 0)
#define CR0_WP_ (1ull << 16)
#define CR0_PG_ (1ull << 31)
#define CR4_PSE_ (1ull << 4)
#define CR4_PAE_ (1ull << 5)
#define CR4_PGE_ (1ull << 7)
#define CR4_LA57_ (1ull << 12)
#define CR4_SMEP_ (1ull << 20)
#define CR4_SMAP_ (1ull << 21)
#define CR4_PKE_ (1ull << 22)
#define CR4_PKS_ (1ull << 24)
#define EFER_LME_ (1ull << 8)
#define EFER_LMA_ (1ull << 10)
#define EFER_NXE_ (1ull << 11)

/* Guest paging-structure entries. */
enum { P = 1, RW = 2, US = 4, PWT = 8, PCD = 0x10, A = 0x20, D = 0x40, PS = 0x80, G = 0x100 };
#define XD (1ull << 63)
#define PKEY(k) ((uint64_t)(k) << 59)
#define BIT(n) (1ull << (n))

/* EPT entries. */
enum { ER = 1, EW = 2, EX = 4, EIPAT = 0x40, EPS = 0x80, EA = 0x100, ED = 0x200, EXU = 0x400 };
#define EMT(t) ((uint64_t)(t) << 3)
#define ERWX (ER | EW | EX)
#define EWB EMT(6)

/* IA32_VMX_EPT_VPID_CAP (Appendix A.10). */
#define CAP_XONLY BIT(0)
#define CAP_2M BIT(16)
#define CAP_1G BIT(17)
#define CAP_AD BIT(21)
#define CAP_ADV BIT(22)
/* Every capability but advanced VM-exit information (tests that want bits
 * 11:9 of the qualification turn it on). */
#define CAP_ALL (CAP_XONLY | BIT(6) | BIT(7) | BIT(8) | BIT(14) | CAP_2M | CAP_1G | CAP_AD)

/* #PF error code (4.7). */
enum { EC_P = 1, EC_W = 2, EC_U = 4, EC_RSVD = 8, EC_I = 0x10, EC_PK = 0x20 };
/* Accesses. */
enum { RD = 0, WR = VX_ACC_W, USR = VX_ACC_U, FE = VX_ACC_I, IMP = VX_ACC_IMPLICIT,
       AC = VX_ACC_AC, PEEK = VX_ACC_PEEK };
/* EPT-violation exit qualification (Table 28-7). */
enum { QR = 1, QW = 2, QX = 4, QRD = 8, QWR = 0x10, QEX = 0x20, QUX = 0x40, QGLA = 0x80,
       QTR = 0x100, QUSER = 0x200, QWLA = 0x400, QXDLA = 0x800 };

/* ---- memory and table builders ---- */

#define MEMSZ (4u << 20)
static uint8_t *ram;
static vx_hostmem hm;
static vx_guest_paging pg;
static vx_ept ept;
static vx_walk_log wlog;
static vx_xlate X;
static const vx_gpa_cache *gcache;
static int glevels;
static uint64_t gnext, enext, eroot;
static int elevels;

static uint64_t rd64(uint64_t pa) { uint64_t v; memcpy(&v, ram + pa, 8); return v; }
static uint32_t rd32(uint64_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static void wr64(uint64_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }
static void wr32(uint64_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }

static void reset(void)
{
    memset(ram, 0, MEMSZ);
    gnext = 0x10000;  /* guest paging structures (guest-physical) */
    enext = 0x200000; /* EPT paging structures (host-physical) */
    memset(&ept, 0, sizeof ept);
    gcache = NULL;
}

static void setup(void)
{
    ram = calloc(1, MEMSZ);
    hm = (vx_hostmem){ram, MEMSZ};
    reset();
}

static void teardown(void) { free(ram); }

static uint64_t galloc(void) { uint64_t a = gnext; gnext += 0x1000; return a; }
static uint64_t ealloc(void) { uint64_t a = enext; enext += 0x1000; return a; }

#define FRAME 0x000FFFFFFFFFF000ull

/* Guest paging in a mode: 2 (32-bit), 3 (PAE), 4, 5 levels; CR0.WP = 1,
 * EFER.NXE = 1 (not for 32-bit), MAXPHYADDR 46, 1-GByte pages. */
static void mode(int levels)
{
    memset(&pg, 0, sizeof pg);
    glevels = levels;
    pg.maxphyaddr = 46;
    pg.page1gb = 1;
    pg.cr0 = CR0_PE_ | CR0_PG_ | CR0_WP_;
    switch (levels) {
    case 0: pg.cr0 = CR0_PE_; break;
    case 2: pg.cr3 = galloc(); pg.cr4 = CR4_PSE_; break;
    case 3:
        pg.cr4 = CR4_PAE_;
        pg.efer = EFER_NXE_;
        for (int i = 0; i < 4; i++) pg.pdpte[i] = galloc() | P;
        break;
    default:
        pg.cr3 = galloc();
        pg.cr4 = CR4_PAE_ | (levels == 5 ? CR4_LA57_ : 0);
        pg.efer = EFER_LME_ | EFER_LMA_ | EFER_NXE_;
        break;
    }
}

/* Guest-physical = host-physical for the guest's tables (the EPT built by
 * ept_on maps them one to one). */
static uint64_t gentry(uint64_t a) { return glevels == 2 ? rd32(a) : rd64(a); }
static void gput(uint64_t a, uint64_t v)
{
    if (glevels == 2) wr32(a, (uint32_t)v);
    else wr64(a, v);
}

/* The address of la's guest entry at level, creating missing tables
 * (their entries P, R/W, U/S). */
static uint64_t gslot(uint64_t la, int level)
{
    if (glevels == 2) {
        uint64_t pde = (pg.cr3 & 0xFFFFF000u) + ((la >> 22) & 0x3FF) * 4;
        if (level == 2) return pde;
        uint32_t e = rd32(pde);
        if (!(e & P)) {
            e = (uint32_t)galloc() | P | RW | US;
            wr32(pde, e);
        }
        return (e & 0xFFFFF000u) + ((la >> 12) & 0x3FF) * 4;
    }
    uint64_t t;
    int l;
    if (glevels == 3) {
        t = pg.pdpte[(la >> 30) & 3] & FRAME;
        l = 2;
    } else {
        t = pg.cr3 & FRAME;
        l = glevels;
    }
    for (;; l--) {
        uint64_t ea = t + ((la >> (12 + 9 * (l - 1))) & 511) * 8;
        if (l == level) return ea;
        uint64_t e = rd64(ea);
        if (!(e & P)) {
            e = galloc() | P | RW | US;
            wr64(ea, e);
        }
        t = e & FRAME;
    }
}

/* Map la to pa with a leaf at level (PS added above level 1). */
static uint64_t gmap(uint64_t la, int level, uint64_t pa, uint64_t flags)
{
    uint64_t a = gslot(la, level);
    gput(a, pa | flags | (level > 1 ? PS : 0));
    return a;
}

/* Clear, then set bits in la's entry at level (which must exist). */
static void gmod(uint64_t la, int level, uint64_t set, uint64_t clr)
{
    uint64_t a = gslot(la, level);
    gput(a, (gentry(a) & ~clr) | set);
}

/* EPT: the address of gpa's entry at level, creating missing tables
 * (their entries RWX). */
static uint64_t eslot(uint64_t gpa, int level)
{
    uint64_t t = eroot;
    for (int l = elevels;; l--) {
        uint64_t ea = t + ((gpa >> (12 + 9 * (l - 1))) & 511) * 8;
        if (l == level) return ea;
        uint64_t e = rd64(ea);
        if (!(e & 7)) {
            e = ealloc() | ERWX;
            wr64(ea, e);
        }
        t = e & FRAME;
    }
}

static uint64_t emap(uint64_t gpa, int level, uint64_t hpa, uint64_t flags)
{
    uint64_t a = eslot(gpa, level);
    wr64(a, hpa | flags | (level > 1 ? EPS : 0));
    return a;
}

static void emod(uint64_t gpa, int level, uint64_t set, uint64_t clr)
{
    uint64_t a = eslot(gpa, level);
    wr64(a, (rd64(a) & ~clr) | set);
}

/* EPT with levels (4 or 5), A/D flags if ad, every capability; guest-
 * physical [0, 2 MiB) mapped one to one with 4-KByte pages, RWX, WB. */
static void ept_on(int levels, int ad)
{
    elevels = levels;
    eroot = ealloc();
    ept.enabled = 1;
    ept.eptp = eroot | (uint64_t)(levels - 1) << 3 | 6 | (ad ? BIT(6) : 0);
    ept.cap = CAP_ALL;
    ept.mbec = 0;
    ept.maxphyaddr = 46;
    for (uint64_t pa = 0; pa < 0x200000; pa += 0x1000) emap(pa, 1, pa, ERWX | EWB);
}

static vx_xl_status xl(uint64_t la, unsigned acc)
{
    vx_xlate_env env = {&pg, ept.enabled ? &ept : NULL, &hm, gcache, &wlog};
    wlog.n = 0;
    memset(&X, 0xA5, sizeof X);
    return vx_xlate_linear(&env, la, acc, &X);
}

#define EXPECT_OK(la, acc, hpa_)                                                                \
    do {                                                                                        \
        vx_xl_status s_ = xl(la, acc);                                                          \
        ck_assert_msg(s_ == VX_XL_OK && X.hpa == (uint64_t)(hpa_),                              \
                      "la %#llx acc %#x: status %d hpa %#llx pfec %#x qual %#llx, want OK %#llx", \
                      (unsigned long long)(la), (unsigned)(acc), s_, (unsigned long long)X.hpa, \
                      X.pfec, (unsigned long long)X.qual, (unsigned long long)(hpa_));         \
    } while (0)

#define EXPECT_PF(la, acc, ec)                                                                 \
    do {                                                                                       \
        vx_xl_status s_ = xl(la, acc);                                                         \
        ck_assert_msg(s_ == VX_XL_PF && X.status == VX_XL_PF && X.pfec == (uint32_t)(ec),     \
                      "la %#llx acc %#x: status %d pfec %#x, want #PF %#x",                    \
                      (unsigned long long)(la), (unsigned)(acc), s_, X.pfec, (unsigned)(ec)); \
    } while (0)

#define EXPECT_VIOL(la, acc, gpa_, q)                                                          \
    do {                                                                                       \
        vx_xl_status s_ = xl(la, acc);                                                         \
        ck_assert_msg(s_ == VX_XL_EPT_VIOLATION && X.gpa == (uint64_t)(gpa_) &&               \
                          X.qual == (uint64_t)(q),                                             \
                      "la %#llx acc %#x: status %d gpa %#llx qual %#llx, want violation at "  \
                      "%#llx qual %#llx", (unsigned long long)(la), (unsigned)(acc), s_,       \
                      (unsigned long long)X.gpa, (unsigned long long)X.qual,                   \
                      (unsigned long long)(gpa_), (unsigned long long)(q));                    \
    } while (0)

#define EXPECT_MISC(la, acc, gpa_)                                                             \
    do {                                                                                       \
        vx_xl_status s_ = xl(la, acc);                                                         \
        ck_assert_msg(s_ == VX_XL_EPT_MISCONFIG && X.gpa == (uint64_t)(gpa_) && X.qual == 0,  \
                      "la %#llx acc %#x: status %d gpa %#llx qual %#llx, want misconfig at "  \
                      "%#llx", (unsigned long long)(la), (unsigned)(acc), s_,                  \
                      (unsigned long long)X.gpa, (unsigned long long)X.qual,                   \
                      (unsigned long long)(gpa_));                                             \
    } while (0)

/* The linear address most tests use and its page. */
#define LA 0x00007F8040201ABCull /* every index distinct: 255, 1, 1, 1 */
#define LA32 0x00C01ABCull       /* PDE 3, PTE 1 */
#define DATA 0x150000ull

/* The entries of la's walk, root first, and their values. */
static int gpath(uint64_t la, uint64_t *addr)
{
    int n = 0;
    int top = glevels == 3 ? 2 : glevels;
    for (int l = top; l >= 1; l--) {
        addr[n] = gslot(la, l);
        uint64_t e = gentry(addr[n++]);
        if (!(e & P) || (l > 1 && (e & PS) && (glevels != 2 || (pg.cr4 & CR4_PSE_)))) break;
    }
    return n;
}

static int count_flag(const uint64_t *addr, int n, uint64_t flag)
{
    int c = 0;
    for (int i = 0; i < n; i++) c += (gentry(addr[i]) & flag) != 0;
    return c;
}

/* ==== guest paging ==== */

START_TEST(not_present_each_level)
{
    static const unsigned accs[] = {RD, WR, USR, WR | USR, FE, FE | USR};
    for (int levels = 2; levels <= 5; levels++) {
        int top = levels == 3 ? 3 : levels;
        for (int l = top; l >= 1; l--) {
            reset();
            mode(levels);
            uint64_t la = levels <= 3 ? LA32 : LA;
            gmap(la, 1, DATA, P | RW | US);
            uint64_t addr[5];
            int n = gpath(la, addr);
            if (levels == 3 && l == 3) pg.pdpte[(la >> 30) & 3] &= ~(uint64_t)P;
            else gmod(la, l, 0, P);
            for (size_t i = 0; i < sizeof accs / sizeof *accs; i++) {
                /* P = 0; W and U from the access; I/D for a fetch with
                 * NXE = 1 and PAE (not for 32-bit paging, 4.7). */
                unsigned ec = accs[i] & (EC_W | EC_U);
                if ((accs[i] & FE) && levels >= 3) ec |= EC_I;
                EXPECT_PF(la, accs[i], ec);
            }
            ck_assert_int_eq(count_flag(addr, n, A), 0);
        }
    }
}
END_TEST

START_TEST(id_flag_needs_nxe_and_pae_or_smep)
{
    for (int levels = 2; levels <= 4; levels++)
        for (int nxe = 0; nxe <= 1; nxe++)
            for (int smep = 0; smep <= 1; smep++) {
                reset();
                mode(levels);
                uint64_t la = levels <= 3 ? LA32 : LA;
                gmap(la, 1, DATA, RW | US); /* not present */
                pg.efer = (pg.efer & ~EFER_NXE_) | (nxe ? EFER_NXE_ : 0);
                if (smep) pg.cr4 |= CR4_SMEP_;
                unsigned id = (smep || (nxe && levels >= 3)) ? EC_I : 0;
                EXPECT_PF(la, FE, id);
                EXPECT_PF(la, FE | USR, EC_U | id);
                EXPECT_PF(la, RD, 0); /* never for data accesses */
                /* A reserved-bit fault reports I/D the same way. */
                if (levels >= 3) {
                    gmap(la, 1, DATA | BIT(46), P | RW | US);
                    EXPECT_PF(la, FE, EC_P | EC_RSVD | id);
                }
            }
}
END_TEST

/* One reserved-bit case: in mode levels, set bits in the entry at level
 * of a translation whose leaf is at leaf_level. */
typedef struct rsvd_case {
    int levels, level, leaf;
    uint64_t bits;
    int nxe, page1gb;
    unsigned maxphy;
    int rsvd;
} rsvd_case;

static const rsvd_case rsvd_cases[] = {
    /* 5-level: PML5E bit 7, bits 51:M, XD without NXE; 62:52 ignored. */
    {5, 5, 1, PS, 1, 1, 46, 1},
    {5, 5, 1, BIT(46), 1, 1, 46, 1},
    {5, 5, 1, BIT(51), 1, 1, 46, 1},
    {5, 5, 1, XD, 0, 1, 46, 1},
    {5, 5, 1, XD, 1, 1, 46, 0},
    {5, 5, 1, BIT(52) | BIT(62), 1, 1, 46, 0},
    {5, 4, 1, PS, 1, 1, 46, 1},
    /* 4-level: PML4E. */
    {4, 4, 1, PS, 1, 1, 46, 1},
    {4, 4, 1, BIT(46), 1, 1, 46, 1},
    {4, 4, 1, BIT(51), 1, 1, 46, 1},
    {4, 4, 1, BIT(40), 1, 1, 40, 1},
    {4, 4, 1, XD, 0, 1, 46, 1},
    {4, 4, 1, BIT(52) | BIT(58) | BIT(62), 1, 1, 46, 0},
    {4, 4, 1, G | BIT(9) | BIT(10) | BIT(11), 1, 1, 46, 0},
    /* PDPTE referencing a page directory. */
    {4, 3, 1, BIT(46), 1, 1, 46, 1},
    {4, 3, 1, BIT(51), 1, 1, 46, 1},
    {4, 3, 1, XD, 0, 1, 46, 1},
    {4, 3, 1, BIT(62), 1, 1, 46, 0},
    /* PDPTE mapping 1 GiB: bits 29:13; bit 12 is PAT; without 1-GByte
     * pages bit 7 is reserved. */
    {4, 3, 3, BIT(13), 1, 1, 46, 1},
    {4, 3, 3, BIT(20), 1, 1, 46, 1},
    {4, 3, 3, BIT(29), 1, 1, 46, 1},
    {4, 3, 3, BIT(12), 1, 1, 46, 0},
    {4, 3, 3, BIT(46), 1, 1, 46, 1},
    {4, 3, 3, XD, 0, 1, 46, 1},
    {4, 3, 3, 0, 1, 0, 46, 1},
    {4, 3, 3, 0, 1, 1, 46, 0},
    /* PDE referencing a page table. */
    {4, 2, 1, BIT(46), 1, 1, 46, 1},
    {4, 2, 1, BIT(51), 1, 1, 46, 1},
    {4, 2, 1, XD, 0, 1, 46, 1},
    /* PDE mapping 2 MiB: bits 20:13; bit 12 is PAT. */
    {4, 2, 2, BIT(13), 1, 1, 46, 1},
    {4, 2, 2, BIT(20), 1, 1, 46, 1},
    {4, 2, 2, BIT(12), 1, 1, 46, 0},
    {4, 2, 2, BIT(46), 1, 1, 46, 1},
    {4, 2, 2, BIT(21), 1, 1, 46, 0},
    /* PTE: bits 51:M, XD without NXE; bit 7 is PAT, 62:52 ignored. */
    {4, 1, 1, BIT(46), 1, 1, 46, 1},
    {4, 1, 1, BIT(51), 1, 1, 46, 1},
    {4, 1, 1, BIT(39), 1, 1, 39, 1},
    {4, 1, 1, BIT(38), 1, 1, 39, 0},
    {4, 1, 1, XD, 0, 1, 46, 1},
    {4, 1, 1, PS | G, 1, 1, 46, 0},
    {4, 1, 1, BIT(52) | BIT(58) | PKEY(15), 1, 1, 46, 0},
    /* PAE: bits 62:52 and 51:M reserved in PDEs and PTEs (Tables 4-9 to
     * 4-11); XD without NXE. */
    {3, 2, 1, BIT(52), 1, 1, 46, 1},
    {3, 2, 1, BIT(62), 1, 1, 46, 1},
    {3, 2, 1, BIT(46), 1, 1, 46, 1},
    {3, 2, 1, XD, 0, 1, 46, 1},
    {3, 2, 1, XD, 1, 1, 46, 0},
    {3, 2, 2, BIT(13), 1, 1, 46, 1},
    {3, 2, 2, BIT(20), 1, 1, 46, 1},
    {3, 2, 2, BIT(12), 1, 1, 46, 0},
    {3, 2, 2, BIT(57), 1, 1, 46, 1},
    {3, 1, 1, BIT(52), 1, 1, 46, 1},
    {3, 1, 1, BIT(62), 1, 1, 46, 1},
    {3, 1, 1, BIT(46), 1, 1, 46, 1},
    {3, 1, 1, XD, 0, 1, 46, 1},
    {3, 1, 1, PS | G, 1, 1, 46, 0},
    /* 32-bit: a 4-MByte PDE reserves bits 21:(M-19), M = min(MAXPHYADDR,
     * 40) (Table 4-4); PTEs and PDEs referencing a table have none. */
    {2, 2, 2, BIT(21), 0, 1, 46, 1},
    {2, 2, 2, BIT(20), 0, 1, 46, 0},
    {2, 2, 2, BIT(13), 0, 1, 40, 0},
    {2, 2, 2, BIT(17), 0, 1, 36, 1},
    {2, 2, 2, BIT(16), 0, 1, 36, 0},
    {2, 2, 2, BIT(13), 0, 1, 32, 1},
    {2, 2, 2, BIT(12), 0, 1, 32, 0},
    {2, 1, 1, PS | G | BIT(9) | BIT(10) | BIT(11), 0, 1, 46, 0},
    {2, 2, 1, G | BIT(9) | BIT(11), 0, 1, 46, 0},
};

START_TEST(reserved_bits_each_level_each_mode)
{
    for (size_t i = 0; i < sizeof rsvd_cases / sizeof *rsvd_cases; i++) {
        const rsvd_case *c = &rsvd_cases[i];
        reset();
        mode(c->levels);
        pg.maxphyaddr = c->maxphy;
        pg.page1gb = c->page1gb;
        if (!c->nxe) pg.efer &= ~EFER_NXE_;
        uint64_t la = c->levels <= 3 ? LA32 : LA;
        uint64_t frame = c->leaf == 3 ? 0x40000000ull : c->leaf == 2 ? (c->levels == 2 ? 0x400000 : 0x200000) : DATA;
        gmap(la, c->leaf, frame, P | RW | US);
        uint64_t addr[5];
        int n = gpath(la, addr);
        gmod(la, c->level, c->bits, 0);
        for (unsigned acc = 0; acc < 8; acc++) {
            unsigned a = (acc & 1 ? WR : 0) | (acc & 2 ? USR : 0) | (acc & 4 ? FE : 0);
            if ((a & WR) && (a & FE)) continue;
            vx_xl_status s = xl(la, a | PEEK);
            if (c->rsvd) {
                unsigned ec = EC_P | EC_RSVD | (a & (EC_W | EC_U));
                if ((a & FE) && c->levels >= 3 && c->nxe) ec |= EC_I;
                ck_assert_msg(s == VX_XL_PF && X.pfec == ec, "case %zu acc %#x: status %d pfec %#x, want %#x",
                              i, a, s, X.pfec, ec);
            } else {
                ck_assert_msg(s == VX_XL_OK || (s == VX_XL_PF && !(X.pfec & EC_RSVD)),
                              "case %zu acc %#x: status %d pfec %#x, want no reserved-bit fault", i,
                              a, s, X.pfec);
            }
        }
        /* A fault sets no accessed flag anywhere. */
        vx_xl_status s = xl(la, RD);
        ck_assert_int_eq(s, c->rsvd ? VX_XL_PF : VX_XL_OK);
        ck_assert_int_eq(count_flag(addr, n, A), c->rsvd ? 0 : n);
    }
}
END_TEST

START_TEST(pse36_and_large_pages)
{
    /* 32-bit, 4-MByte page: PDE bits 20:13 are physical-address bits
     * 39:32 (PSE-36, M = 40). */
    mode(2);
    gmap(LA32, 2, 0x00C00000 | (0xABull << 13), P | RW);
    EXPECT_OK(LA32, RD, 0xAB00C01ABCull);
    ck_assert_int_eq(X.page_shift, 22);
    pg.maxphyaddr = 36; /* bits 39:36 of 0xAB are 1010: bits 20 and 18 are reserved */
    EXPECT_PF(LA32, RD, EC_P | EC_RSVD);
    gmap(LA32, 2, 0x00C00000 | (0x0Bull << 13), P | RW);
    EXPECT_OK(LA32, RD, 0xB00C01ABCull);
    /* CR4.PSE = 0: bit 7 is ignored and the PDE references a page table. */
    pg.cr4 &= ~CR4_PSE_;
    uint64_t pt = galloc();
    gput(gslot(LA32, 2), pt | P | RW | PS);
    gput(pt + 1 * 4, DATA | P | RW);
    EXPECT_OK(LA32, RD, DATA | 0xABC);
    ck_assert_int_eq(X.page_shift, 12);

    /* 4-level: 1 GiB and 2 MiB pages. */
    reset();
    mode(4);
    gmap(LA, 3, 0x2C0000000ull, P | RW);
    EXPECT_OK(LA, RD, 0x2C0000000ull | (LA & 0x3FFFFFFF));
    ck_assert_int_eq(X.page_shift, 30);
    pg.page1gb = 0; /* without 1-GByte pages, PS in a PDPTE is reserved */
    EXPECT_PF(LA, RD, EC_P | EC_RSVD);
    EXPECT_PF(LA, WR | USR, EC_P | EC_RSVD | EC_W | EC_U);
    reset();
    mode(4);
    gmap(LA, 2, 0x7E00000ull | BIT(12), P | RW); /* bit 12: PAT, not an address bit */
    EXPECT_OK(LA, RD, 0x7E00000ull | (LA & 0x1FFFFF));
    ck_assert_int_eq(X.page_shift, 21);
    /* PAE: a 2 MiB page. */
    reset();
    mode(3);
    gmap(LA32, 2, 0x3400000ull, P | RW);
    EXPECT_OK(LA32, RD, 0x3400000ull | (LA32 & 0x1FFFFF));
    ck_assert_int_eq(X.page_shift, 21);
}
END_TEST

START_TEST(five_level_indexes)
{
    mode(5);
    uint64_t la = (0x1A5ull << 48) | LA;
    gmap(la, 1, DATA, P | RW);
    gmap(LA, 1, 0x160000, P | RW); /* PML5 index 0: another translation */
    EXPECT_OK(la, RD, DATA | 0xABC);
    EXPECT_OK(LA, RD, 0x160ABC);
    ck_assert_uint_eq(gslot(la, 5), (pg.cr3 & FRAME) + 0x1A5 * 8);
    /* With 4-level paging, bits 56:48 are not used. */
    reset();
    mode(4);
    gmap(LA, 1, DATA, P | RW);
    EXPECT_OK(la, RD, DATA | 0xABC);
}
END_TEST

/* The permission rules, each mode with paging: a path whose every entry
 * is P|RW|US, then one bit taken away at one level. */
START_TEST(user_supervisor_each_level)
{
    for (int levels = 2; levels <= 5; levels++) {
        int top = levels == 3 ? 2 : levels;
        uint64_t la = levels <= 3 ? LA32 : LA;
        for (int l = top; l >= 1; l--) {
            reset();
            mode(levels);
            gmap(la, 1, DATA, P | RW | US);
            gmod(la, l, 0, US);
            unsigned id = levels >= 3 ? EC_I : 0;
            EXPECT_PF(la, USR, EC_P | EC_U);
            EXPECT_PF(la, USR | WR, EC_P | EC_W | EC_U);
            EXPECT_PF(la, USR | FE, EC_P | EC_U | id);
            EXPECT_OK(la, RD, DATA | 0xABC);
            EXPECT_OK(la, WR, DATA | 0xABC);
            EXPECT_OK(la, FE, DATA | 0xABC);
            ck_assert_int_eq(X.g_us, 0);
        }
    }
}
END_TEST

START_TEST(read_write_and_cr0_wp)
{
    for (int levels = 2; levels <= 5; levels++) {
        int top = levels == 3 ? 2 : levels;
        uint64_t la = levels <= 3 ? LA32 : LA;
        for (int l = top; l >= 1; l--) {
            for (int user_page = 0; user_page <= 1; user_page++) {
                reset();
                mode(levels);
                gmap(la, 1, DATA, P | RW | US);
                gmod(la, l, 0, RW);
                if (!user_page) gmod(la, 1, 0, US);
                if (user_page) EXPECT_PF(la, USR | WR, EC_P | EC_W | EC_U);
                EXPECT_OK(la, RD, DATA | 0xABC);
                EXPECT_PF(la, WR, EC_P | EC_W); /* CR0.WP = 1 */
                pg.cr0 &= ~CR0_WP_;
                /* CR0.WP = 0: supervisor writes ignore R/W, to user-mode
                 * and supervisor-mode addresses alike (SMAP off). */
                EXPECT_OK(la, WR, DATA | 0xABC);
                ck_assert_int_eq(X.g_rw, 0);
                ck_assert_uint_eq(gentry(gslot(la, 1)) & D, D);
                if (user_page) EXPECT_PF(la, USR | WR, EC_P | EC_W | EC_U);
            }
        }
    }
}
END_TEST

START_TEST(execute_disable)
{
    for (int levels = 3; levels <= 5; levels++) {
        int top = levels == 3 ? 2 : levels;
        uint64_t la = levels == 3 ? LA32 : LA;
        for (int l = top; l >= 1; l--) {
            reset();
            mode(levels);
            gmap(la, 1, DATA, P | RW | US);
            gmod(la, l, XD, 0);
            EXPECT_PF(la, FE, EC_P | EC_I);
            EXPECT_PF(la, FE | USR, EC_P | EC_U | EC_I);
            EXPECT_OK(la, RD, DATA | 0xABC);
            ck_assert_int_eq(X.g_xd, 1);
            EXPECT_OK(la, WR | USR, DATA | 0xABC);
            /* Without NXE bit 63 is reserved (and I/D is 0). */
            pg.efer &= ~EFER_NXE_;
            EXPECT_PF(la, FE, EC_P | EC_RSVD);
            EXPECT_PF(la, RD, EC_P | EC_RSVD);
        }
    }
    /* 32-bit paging has no execute-disable bit: fetches are allowed. */
    reset();
    mode(2);
    pg.efer = EFER_NXE_;
    gmap(LA32, 1, DATA, P | RW | US);
    EXPECT_OK(LA32, FE, DATA | 0xABC);
    EXPECT_OK(LA32, FE | USR, DATA | 0xABC);
    ck_assert_int_eq(X.g_xd, 0);
}
END_TEST

START_TEST(smep)
{
    for (int levels = 2; levels <= 5; levels++) {
        uint64_t la = levels <= 3 ? LA32 : LA;
        for (int nxe = 0; nxe <= 1; nxe++) {
            reset();
            mode(levels);
            if (!nxe) pg.efer &= ~EFER_NXE_;
            gmap(la, 1, DATA, P | RW | US);
            EXPECT_OK(la, FE, DATA | 0xABC); /* SMEP off */
            pg.cr4 |= CR4_SMEP_;
            /* Supervisor fetch from a user-mode address; I/D is reported
             * because SMEP is on, whatever NXE and the mode. */
            EXPECT_PF(la, FE, EC_P | EC_I);
            EXPECT_OK(la, FE | USR, DATA | 0xABC);
            EXPECT_OK(la, RD, DATA | 0xABC); /* SMEP is about fetches only */
            EXPECT_OK(la, WR, DATA | 0xABC);
            /* A supervisor-mode address (U/S = 0 at any level) may be
             * fetched from. */
            gmod(la, levels == 3 ? 2 : levels, 0, US);
            EXPECT_OK(la, FE, DATA | 0xABC);
            EXPECT_PF(la, FE | USR, EC_P | EC_U | EC_I);
        }
    }
}
END_TEST

START_TEST(smap_ac_and_implicit)
{
    typedef struct {
        int smap, wp, user_page, rw;
        unsigned acc;
        unsigned ec; /* 0: allowed */
    } smap_case;
    static const smap_case cs[] = {
        {0, 1, 1, 1, RD, 0},
        {0, 1, 1, 1, WR, 0},
        {0, 1, 1, 1, IMP, 0},
        {0, 1, 1, 1, IMP | WR, 0},
        /* SMAP, AC = 0: no supervisor data access to user-mode addresses. */
        {1, 1, 1, 1, RD, EC_P},
        {1, 1, 1, 1, WR, EC_P | EC_W},
        {1, 0, 1, 1, WR, EC_P | EC_W},
        {1, 0, 1, 0, WR, EC_P | EC_W},
        /* AC = 1: explicit accesses allowed, by the ordinary rules. */
        {1, 1, 1, 1, RD | AC, 0},
        {1, 1, 1, 1, WR | AC, 0},
        {1, 1, 1, 0, WR | AC, EC_P | EC_W},
        {1, 0, 1, 0, WR | AC, 0},
        /* Implicit supervisor-mode accesses: never, whatever AC. */
        {1, 1, 1, 1, IMP, EC_P},
        {1, 1, 1, 1, IMP | AC, EC_P},
        {1, 1, 1, 1, IMP | AC | WR, EC_P | EC_W},
        {1, 0, 1, 1, IMP | WR, EC_P | EC_W},
        /* Supervisor-mode addresses are not affected. */
        {1, 1, 0, 1, RD, 0},
        {1, 1, 0, 1, WR, 0},
        {1, 1, 0, 1, IMP | WR, 0},
        {1, 1, 0, 0, IMP | WR, EC_P | EC_W},
        /* User-mode accesses and fetches are not affected. */
        {1, 1, 1, 1, USR, 0},
        {1, 1, 1, 1, USR | WR, 0},
        {1, 1, 1, 1, FE, 0},
    };
    for (int levels = 2; levels <= 5; levels++) {
        uint64_t la = levels <= 3 ? LA32 : LA;
        for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
            const smap_case *c = &cs[i];
            reset();
            mode(levels);
            gmap(la, 1, DATA, P | (c->rw ? RW : 0) | (c->user_page ? US : 0));
            if (c->smap) pg.cr4 |= CR4_SMAP_;
            if (!c->wp) pg.cr0 &= ~CR0_WP_;
            vx_xl_status s = xl(la, c->acc);
            if (c->ec)
                ck_assert_msg(s == VX_XL_PF && X.pfec == c->ec, "levels %d case %zu: %d %#x", levels,
                              i, s, X.pfec);
            else
                ck_assert_msg(s == VX_XL_OK, "levels %d case %zu: %d %#x", levels, i, s, X.pfec);
        }
    }
}
END_TEST

START_TEST(protection_keys)
{
    typedef struct {
        uint64_t cr4;
        uint32_t pkru, pkrs;
        int user_page, rw, wp;
        unsigned acc;
        unsigned ec;
    } pk_case;
    const uint32_t AD5 = 1u << 10, WD5 = 1u << 11, AD4 = 1u << 8, WD4 = 1u << 9;
    const pk_case cs[] = {
        /* PKRU: user-mode addresses with key 5. */
        {CR4_PKE_, AD5, 0, 1, 1, 1, USR, EC_P | EC_U | EC_PK},
        {CR4_PKE_, AD5, 0, 1, 1, 1, USR | WR, EC_P | EC_W | EC_U | EC_PK},
        {CR4_PKE_, AD5, 0, 1, 1, 1, RD, EC_P | EC_PK},          /* supervisor too */
        {CR4_PKE_, AD5, 0, 1, 1, 1, USR | FE, 0},              /* not fetches */
        {CR4_PKE_, AD4 | WD4, 0, 1, 1, 1, USR | WR, 0},        /* another key */
        {CR4_PKE_, WD5, 0, 1, 1, 1, USR, 0},
        {CR4_PKE_, WD5, 0, 1, 1, 1, USR | WR, EC_P | EC_W | EC_U | EC_PK},
        {CR4_PKE_, WD5, 0, 1, 1, 1, WR, EC_P | EC_W | EC_PK},  /* supervisor, WP = 1 */
        {CR4_PKE_, WD5, 0, 1, 1, 0, WR, 0},                    /* supervisor, WP = 0 */
        {CR4_PKE_, WD5, 0, 1, 1, 0, USR | WR, EC_P | EC_W | EC_U | EC_PK},
        {0, AD5 | WD5, 0, 1, 1, 1, USR | WR, 0},               /* CR4.PKE = 0 */
        {CR4_PKE_, AD5, 0, 0, 1, 1, RD, 0},                    /* supervisor page: PKRU no */
        /* IA32_PKRS: supervisor-mode addresses with key 5 (CR4.PKS). */
        {CR4_PKS_, 0, AD5, 0, 1, 1, RD, EC_P | EC_PK},
        {CR4_PKS_, 0, AD5, 0, 1, 1, FE, 0},
        {CR4_PKS_, 0, WD5, 0, 1, 1, RD, 0},
        {CR4_PKS_, 0, WD5, 0, 1, 1, WR, EC_P | EC_W | EC_PK},
        {CR4_PKS_, 0, WD5, 0, 1, 0, WR, 0},
        {CR4_PKS_, 0, AD5, 1, 1, 1, RD, 0},                    /* user page: PKRS no */
        {0, 0, AD5, 0, 1, 1, RD, 0},                           /* CR4.PKS = 0 */
        /* The PK flag reports the key's denial also when the access is
         * denied for another reason as well (4.7: PK is 1 if the access
         * was a data access to a user-mode address with a key the PKRU
         * disallows). */
        {CR4_PKE_, WD5, 0, 1, 0, 1, USR | WR, EC_P | EC_W | EC_U | EC_PK},
        {CR4_PKE_, AD5, 0, 1, 0, 1, USR | WR, EC_P | EC_W | EC_U | EC_PK},
        {CR4_PKE_ | CR4_SMAP_, AD5, 0, 1, 1, 1, RD, EC_P | EC_PK},
        {CR4_PKE_, WD5, 0, 1, 0, 1, USR, 0},
    };
    for (int levels = 4; levels <= 5; levels++)
        for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
            const pk_case *c = &cs[i];
            reset();
            mode(levels);
            gmap(LA, 1, DATA, P | (c->rw ? RW : 0) | (c->user_page ? US : 0) | PKEY(5));
            pg.cr4 |= c->cr4;
            pg.pkru = c->pkru;
            pg.pkrs = c->pkrs;
            if (!c->wp) pg.cr0 &= ~CR0_WP_;
            vx_xl_status s = xl(LA, c->acc);
            if (c->ec)
                ck_assert_msg(s == VX_XL_PF && X.pfec == c->ec, "levels %d case %zu: %d %#x, want %#x",
                              levels, i, s, X.pfec, c->ec);
            else {
                ck_assert_msg(s == VX_XL_OK, "levels %d case %zu: %d %#x", levels, i, s, X.pfec);
                ck_assert_int_eq(X.g_pkey, 5);
            }
        }
    /* PAE and 32-bit paging have no protection keys. */
    for (int levels = 2; levels <= 3; levels++) {
        reset();
        mode(levels);
        gmap(LA32, 1, DATA, P | RW | US);
        pg.cr4 |= CR4_PKE_ | CR4_PKS_;
        pg.pkru = pg.pkrs = 0xFFFFFFFF;
        EXPECT_OK(LA32, USR | WR, DATA | 0xABC);
        EXPECT_OK(LA32, WR, DATA | 0xABC);
        ck_assert_int_eq(X.g_pkey, 0);
    }
}
END_TEST

START_TEST(accessed_and_dirty)
{
    uint64_t addr[5];
    for (int levels = 2; levels <= 5; levels++) {
        uint64_t la = levels <= 3 ? LA32 : LA;
        for (int leaf = 1; leaf <= (levels >= 4 ? 3 : 2); leaf++) {
            reset();
            mode(levels);
            uint64_t frame = leaf == 3 ? 0x40000000ull : leaf == 2 ? (levels == 2 ? 0x400000 : 0x200000) : DATA;
            gmap(la, leaf, frame, P | RW | US);
            /* A neighbour in the same table, which the flag updates must
             * leave alone (4-byte entries in 32-bit paging). */
            uint64_t nb = gslot(la, leaf) + (levels == 2 ? 4 : 8);
            gput(nb, levels == 2 ? 0xFFFFF09Eu : 0x8FFFFFFFFFFFF09Eull);
            int n = gpath(la, addr);
            ck_assert_int_eq(n, (levels == 3 ? 2 : levels) - leaf + 1);
            /* PEEK: the translation, but no flag. */
            ck_assert_int_eq(xl(la, WR | PEEK), VX_XL_OK);
            ck_assert_int_eq(X.dirty, 0);
            ck_assert_int_eq(count_flag(addr, n, A | D), 0);
            /* A read: A in every entry used, D nowhere. */
            ck_assert_int_eq(xl(la, RD), VX_XL_OK);
            ck_assert_int_eq(count_flag(addr, n, A), n);
            ck_assert_int_eq(count_flag(addr, n, D), 0);
            ck_assert_int_eq(X.dirty, 0);
            /* A write: D in the leaf only. */
            ck_assert_int_eq(xl(la, WR), VX_XL_OK);
            ck_assert_int_eq(count_flag(addr, n, D), 1);
            ck_assert_uint_eq(gentry(addr[n - 1]) & (A | D), A | D);
            ck_assert_int_eq(X.dirty, 1);
            ck_assert_int_eq(xl(la, RD), VX_XL_OK);
            ck_assert_int_eq(X.dirty, 1);
            ck_assert_uint_eq(gentry(nb), levels == 2 ? 0xFFFFF09Eu : 0x8FFFFFFFFFFFF09Eull);
            /* Exactly the flag bits changed. */
            ck_assert_uint_eq(gentry(addr[n - 1]), frame | P | RW | US | A | D | (leaf > 1 ? PS : 0));
        }
    }
    if (1) {
        /* PAE: the PDPTE registers are not written. */
        reset();
        mode(3);
        gmap(LA32, 1, DATA, P | RW);
        uint64_t before = pg.pdpte[0];
        ck_assert_int_eq(xl(LA32, WR), VX_XL_OK);
        ck_assert_uint_eq(pg.pdpte[0], before);
    }
}
END_TEST

START_TEST(no_flags_on_a_fault)
{
    uint64_t addr[5];
    for (int levels = 2; levels <= 5; levels++) {
        uint64_t la = levels <= 3 ? LA32 : LA;
        reset();
        mode(levels);
        gmap(la, 1, DATA, P | US); /* read-only */
        int n = gpath(la, addr);
        EXPECT_PF(la, USR | WR, EC_P | EC_W | EC_U); /* protection */
        ck_assert_int_eq(count_flag(addr, n, A | D), 0);
        gmod(la, 1, 0, US);
        EXPECT_PF(la, USR, EC_P | EC_U);
        ck_assert_int_eq(count_flag(addr, n, A | D), 0);
        gmod(la, 1, 0, P); /* not present at the leaf */
        EXPECT_PF(la, RD, 0);
        ck_assert_int_eq(count_flag(addr, n, A | D), 0);
        if (levels >= 3) {
            gmod(la, 1, P | BIT(50), 0); /* reserved bit at the leaf */
            EXPECT_PF(la, RD, EC_P | EC_RSVD);
            ck_assert_int_eq(count_flag(addr, n, A | D), 0);
        }
    }
}
END_TEST

START_TEST(result_fields)
{
    mode(4);
    gmap(LA, 1, DATA, P | RW | US | G | PKEY(9));
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_uint_eq(X.gpa, DATA | 0xABC);
    ck_assert_int_eq(X.g_global, 0); /* CR4.PGE = 0 */
    ck_assert_int_eq(X.g_pkey, 9);
    ck_assert_int_eq(X.g_rw, 1);
    ck_assert_int_eq(X.g_us, 1);
    ck_assert_int_eq(X.g_xd, 0);
    ck_assert_int_eq(X.page_shift, 12);
    /* Without EPT: EPT rights all 1, WB. */
    ck_assert_int_eq(X.e_r & X.e_w & X.e_x & X.e_xu, 1);
    ck_assert_int_eq(X.e_memtype, 6);
    pg.cr4 |= CR4_PGE_;
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_int_eq(X.g_global, 1);
    gmod(LA, 1, 0, G);
    gmod(LA, 2, G, 0); /* G counts in the leaf only */
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_int_eq(X.g_global, 0);
    /* 32-bit: G of a 4-MByte PDE. */
    reset();
    mode(2);
    pg.cr4 |= CR4_PGE_;
    gmap(LA32, 2, 0x800000, P | G);
    EXPECT_OK(LA32, RD, 0x800000 | (LA32 & 0x3FFFFF));
    ck_assert_int_eq(X.g_global, 1);
    ck_assert_int_eq(X.g_rw, 0);
    ck_assert_int_eq(X.g_us, 0);
    /* No paging: linear = physical, all rights. */
    reset();
    mode(0);
    EXPECT_OK(0x12345678, USR | WR, 0x12345678);
    ck_assert_int_eq(X.g_rw & X.g_us, 1);
    ck_assert_int_eq(X.g_xd, 0);
    ck_assert_int_eq(X.dirty, 1);
    EXPECT_OK(0xFFFFF000, FE | USR, 0xFFFFF000);
}
END_TEST

/* ==== EPT ==== */

/* A guest-physical address whose EPT path shares no entry with the one-
 * to-one map of [0, 2 MiB) (PML4 index 1), mapped to host DATA. */
#define FAR 0x8000005000ull
#define FARLA 0x00007F8040205ABCull /* PT index 5 of LA's table */

/* 4-level guest over EPT: LA -> DATA (one to one), FARLA -> FAR -> DATA. */
static void two_dim(int glev, int elev, int ad)
{
    reset();
    mode(glev);
    ept_on(elev, ad);
    gmap(LA, 1, DATA, P | RW | US);
    gmap(FARLA, 1, FAR, P | RW | US);
    emap(FAR, 1, DATA, ERWX | EWB);
}

START_TEST(ept_not_present_each_level)
{
    for (int elev = 4; elev <= 5; elev++) {
        for (int l = elev; l >= 1; l--) {
            two_dim(4, elev, 0);
            EXPECT_OK(FARLA, RD, DATA | 0xABC);
            if (l == 5) {
                /* The PML5E covers everything: the first reference, the
                 * guest PML4E, violates (a paging-structure access: bit 8
                 * clear, bits 3-5 clear). */
                emod(FAR, 5, 0, ERWX);
                EXPECT_VIOL(FARLA, RD, gslot(FARLA, 4), QR | QGLA);
                continue;
            }
            emod(FAR, l, 0, ERWX);
            /* The final guest-physical address: bits 2:0 the access,
             * 5:3 clear, 7 and 8 set. */
            EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QGLA | QTR);
            EXPECT_VIOL(FARLA, WR, FAR | 0xABC, QW | QGLA | QTR);
            EXPECT_VIOL(FARLA, FE, FAR | 0xABC, QX | QGLA | QTR);
            EXPECT_VIOL(FARLA, USR | WR, FAR | 0xABC, QW | QGLA | QTR);
            /* An entry with reserved bits but no rights is just not
             * present. */
            emod(FAR, l, EMT(7) | BIT(50) | (l > 1 ? 0 : EPS), 0);
            EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QGLA | QTR);
            EXPECT_OK(LA, RD, DATA | 0xABC);
        }
        /* A guest paging structure not present in EPT: the PT page. */
        two_dim(4, elev, 0);
        uint64_t pt = gslot(LA, 1) & ~0xFFFull;
        emod(pt, 1, 0, ERWX);
        EXPECT_VIOL(LA, RD, gslot(LA, 1), QR | QGLA);
        EXPECT_VIOL(LA, WR, gslot(LA, 1), QR | QGLA);
        EXPECT_VIOL(LA, FE, gslot(LA, 1), QR | QGLA);
        /* With EPT A/D flags, guest paging-structure reads are writes:
         * bits 0 and 1. */
        ept.eptp |= BIT(6);
        EXPECT_VIOL(LA, RD, gslot(LA, 1), QR | QW | QGLA);
    }
}
END_TEST

START_TEST(ept_rights_are_the_and)
{
    typedef struct {
        uint64_t r4, r3, r2, r1;
        unsigned acc;
        uint64_t qual; /* 0: allowed */
    } and_case;
    static const and_case cs[] = {
        {ERWX, ERWX, ERWX, ERWX, WR, 0},
        {ERWX, ER | EW, ER | EX, ERWX, WR, QW | QRD | QGLA | QTR},
        {ERWX, ER | EW, ER | EX, ERWX, FE, QX | QRD | QGLA | QTR},
        {ERWX, ER | EW, ER | EX, ERWX, RD, 0},
        {ER | EX, ERWX, ERWX, ERWX, WR, QW | QRD | QEX | QGLA | QTR},
        {ERWX, ERWX, ERWX, ER, FE | USR, QX | QRD | QGLA | QTR},
        {ERWX, ERWX, ERWX, ER | EW, FE, QX | QRD | QWR | QGLA | QTR},
        {ERWX, ER, ERWX, ERWX, WR, QW | QRD | QGLA | QTR},
        /* Execute-only (supported): reads violate. */
        {ERWX, ERWX, ERWX, EX, RD, QR | QEX | QGLA | QTR},
        {ERWX, ERWX, ERWX, EX, WR, QW | QEX | QGLA | QTR},
        {ERWX, ERWX, ERWX, EX, FE, 0},
        {EX, ER | EX, ERWX, ERWX, RD, QR | QEX | QGLA | QTR},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        const and_case *c = &cs[i];
        two_dim(4, 4, 0);
        emod(FAR, 4, 0, ERWX);
        emod(FAR, 4, c->r4, 0);
        emod(FAR, 3, 0, ERWX);
        emod(FAR, 3, c->r3, 0);
        emod(FAR, 2, 0, ERWX);
        emod(FAR, 2, c->r2, 0);
        emod(FAR, 1, 0, ERWX);
        emod(FAR, 1, c->r1, 0);
        vx_xl_status s = xl(FARLA, c->acc);
        if (c->qual)
            ck_assert_msg(s == VX_XL_EPT_VIOLATION && X.qual == c->qual && X.gpa == (FAR | 0xABC),
                          "case %zu: %d qual %#llx gpa %#llx", i, s, (unsigned long long)X.qual,
                          (unsigned long long)X.gpa);
        else {
            ck_assert_msg(s == VX_XL_OK && X.hpa == (DATA | 0xABC), "case %zu: %d", i, s);
            ck_assert_int_eq(X.e_r, (c->r4 & c->r3 & c->r2 & c->r1 & ER) != 0);
            ck_assert_int_eq(X.e_w, (c->r4 & c->r3 & c->r2 & c->r1 & EW) != 0);
            ck_assert_int_eq(X.e_x, (c->r4 & c->r3 & c->r2 & c->r1 & EX) != 0);
        }
    }
}
END_TEST

START_TEST(ept_advanced_information)
{
    /* Bits 11:9 for a violation on the translation of a linear address,
     * if IA32_VMX_EPT_VPID_CAP bit 22: user-mode, writable, execute-
     * disable, as guest paging says. */
    typedef struct {
        uint64_t leaf, upper;
        uint64_t bits;
    } adv_case;
    static const adv_case cs[] = {
        {P | RW | US, P | RW | US, QUSER | QWLA},
        {P, P | RW | US, 0},
        {P | RW | US | XD, P | RW | US, QUSER | QWLA | QXDLA},
        {P | RW | US, P | US, QUSER},
        {P | RW | US, P | RW, QWLA},
        {P | RW | US, P | RW | US | XD, QUSER | QWLA | QXDLA},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        two_dim(4, 4, 0);
        ept.cap |= CAP_ADV;
        gmap(FARLA, 1, FAR, cs[i].leaf);
        for (int l = 4; l >= 2; l--) gput(gslot(FARLA, l), (gentry(gslot(FARLA, l)) & FRAME) | cs[i].upper);
        emod(FAR, 1, 0, ERWX); /* not present */
        EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QGLA | QTR | cs[i].bits);
        ept.cap &= ~CAP_ADV;
        EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QGLA | QTR);
    }
    /* Not reported for paging-structure accesses (bit 8 clear). */
    two_dim(4, 4, 0);
    ept.cap |= CAP_ADV;
    emod(gslot(LA, 1) & ~0xFFFull, 1, 0, ERWX);
    EXPECT_VIOL(LA, RD, gslot(LA, 1), QR | QGLA);
    /* Without paging every linear address is user-mode, writable and
     * executable (bits 9 and 10 set, 11 clear). */
    reset();
    mode(0);
    ept_on(4, 0);
    ept.cap |= CAP_ADV;
    EXPECT_OK(DATA | 0x123, FE, DATA | 0x123);
    emod(DATA, 1, 0, ERWX);
    EXPECT_VIOL(DATA | 0x123, WR, DATA | 0x123, QW | QGLA | QTR | QUSER | QWLA);
}
END_TEST

START_TEST(ept_misconfigurations)
{
    for (int elev = 4; elev <= 5; elev++) {
        for (int l = elev; l >= 1; l--) {
            /* Write-only (010b) and write/execute (110b). */
            static const uint64_t bad[] = {EW, EW | EX};
            for (int b = 0; b < 2; b++) {
                two_dim(4, elev, 0);
                if (l == 5) {
                    emod(FAR, 5, 0, ERWX);
                    emod(FAR, 5, bad[b], 0);
                    EXPECT_MISC(FARLA, RD, gslot(FARLA, 4));
                    continue;
                }
                emod(FAR, l, 0, ERWX);
                emod(FAR, l, bad[b], 0);
                EXPECT_MISC(FARLA, RD, FAR | 0xABC);
                EXPECT_MISC(FARLA, WR, FAR | 0xABC);
                EXPECT_MISC(FARLA, FE, FAR | 0xABC);
            }
            if (l == 5) continue;
            /* Execute-only without IA32_VMX_EPT_VPID_CAP bit 0. */
            two_dim(4, elev, 0);
            emod(FAR, l, 0, ER | EW);
            ept.cap &= ~CAP_XONLY;
            EXPECT_MISC(FARLA, FE, FAR | 0xABC);
            EXPECT_MISC(FARLA, RD, FAR | 0xABC);
            ept.cap |= CAP_XONLY;
            EXPECT_OK(FARLA, FE, DATA | 0xABC);
            EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QEX | QGLA | QTR);
        }
        /* Reserved bits of each entry (Tables 29-1 to 29-6). */
        typedef struct {
            int level, leaf;
            uint64_t bits;
            int bad;
        } rs;
        static const rs cs[] = {
            {5, 1, BIT(3), 1}, {5, 1, BIT(7), 1}, {5, 1, BIT(46), 1}, {5, 1, BIT(51), 1},
            {5, 1, EA | ED | BIT(11) | BIT(52) | BIT(63), 0},
            {4, 1, BIT(3), 1}, {4, 1, BIT(4), 1}, {4, 1, BIT(5), 1}, {4, 1, BIT(6), 1},
            {4, 1, BIT(7), 1}, {4, 1, BIT(46), 1}, {4, 1, BIT(51), 1},
            {4, 1, EA | ED | BIT(11) | BIT(52) | BIT(62) | BIT(63), 0},
            {3, 1, BIT(3), 1}, {3, 1, BIT(6), 1}, {3, 1, BIT(46), 1},
            {3, 1, EA | ED | BIT(11) | BIT(52) | BIT(63), 0},
            {3, 3, BIT(12), 1}, {3, 3, BIT(20), 1}, {3, 3, BIT(29), 1}, {3, 3, BIT(46), 1},
            {3, 3, EIPAT | EA | ED | BIT(52) | BIT(63), 0},
            {2, 1, BIT(3), 1}, {2, 1, BIT(5), 1}, {2, 1, BIT(6), 1}, {2, 1, BIT(46), 1},
            {2, 2, BIT(12), 1}, {2, 2, BIT(20), 1}, {2, 2, BIT(46), 1}, {2, 2, BIT(51), 1},
            {2, 2, EIPAT | EA | ED | BIT(11) | BIT(63), 0},
            {1, 1, BIT(46), 1}, {1, 1, BIT(51), 1},
            {1, 1, EPS | EIPAT | EA | ED | BIT(11) | BIT(52) | BIT(63), 0},
            {1, 1, BIT(45), 0},
        };
        for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
            const rs *c = &cs[i];
            if (c->level > elev) continue;
            two_dim(4, elev, 0);
            if (c->leaf == 3) emap(FAR, 3, 0, ERWX | EWB);
            if (c->leaf == 2) emap(FAR, 2, 0, ERWX | EWB);
            emod(FAR, c->level, c->bits, 0);
            vx_xl_status s = xl(FARLA, RD);
            uint64_t gpa = c->level == 5 ? gslot(FARLA, 4) : FAR | 0xABC;
            if (c->bad)
                ck_assert_msg(s == VX_XL_EPT_MISCONFIG && X.gpa == gpa, "elev %d case %zu: %d", elev, i, s);
            else
                ck_assert_msg(s == VX_XL_OK, "elev %d case %zu: %d qual %#llx", elev, i, s,
                              (unsigned long long)X.qual);
        }
    }
    /* Memory types 2, 3 and 7 in the entry that maps the page. */
    for (int leaf = 1; leaf <= 3; leaf++)
        for (unsigned mt = 0; mt < 8; mt++) {
            two_dim(4, 4, 0);
            uint64_t base = leaf == 3 ? 0 : leaf == 2 ? 0 : DATA;
            emap(FAR, leaf, base, ERWX | EMT(mt) | EIPAT);
            uint64_t hpa = base | (FAR & ((1ull << (12 + 9 * (leaf - 1))) - 1)) | 0xABC;
            if (mt == 2 || mt == 3 || mt == 7) {
                EXPECT_MISC(FARLA, RD, FAR | 0xABC);
            } else {
                EXPECT_OK(FARLA, RD, hpa);
                ck_assert_int_eq(X.e_memtype, mt);
                ck_assert_int_eq(X.e_ipat, 1);
            }
        }
    /* Large pages the processor does not support: bit 7 is reserved. */
    two_dim(4, 4, 0);
    emap(FAR, 3, 0, ERWX | EWB);
    EXPECT_OK(FARLA, RD, 0x5ABC);
    ept.cap &= ~CAP_1G;
    EXPECT_MISC(FARLA, RD, FAR | 0xABC);
    two_dim(4, 4, 0);
    emap(FAR, 2, 0, ERWX | EWB);
    EXPECT_OK(FARLA, RD, 0x5ABC);
    ept.cap &= ~CAP_2M;
    EXPECT_MISC(FARLA, RD, FAR | 0xABC);
    /* The walk stops at the first bad entry: a misconfigured PDPTE above
     * a not-present PDE, a not-present PDPTE above a misconfigured PDE. */
    two_dim(4, 4, 0);
    emod(FAR, 3, BIT(4), 0);
    emod(FAR, 2, 0, ERWX);
    EXPECT_MISC(FARLA, RD, FAR | 0xABC);
    two_dim(4, 4, 0);
    emod(FAR, 2, BIT(4), 0);
    emod(FAR, 3, 0, ERWX);
    EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QGLA | QTR);
    /* A misconfiguration while translating a guest paging structure. */
    two_dim(4, 4, 0);
    emod(gslot(LA, 1) & ~0xFFFull, 1, EMT(2), EMT(7));
    EXPECT_MISC(LA, RD, gslot(LA, 1));
    /* Misconfigurations come before rights: a write-only leaf under a
     * read-only PDE. */
    two_dim(4, 4, 0);
    emod(FAR, 2, 0, EW | EX);
    emod(FAR, 1, 0, ER);
    EXPECT_MISC(FARLA, RD, FAR | 0xABC);
}
END_TEST

START_TEST(ept_large_pages)
{
    /* EPT 1 GiB and 2 MiB pages; the combined page size is the smaller. */
    two_dim(4, 4, 0);
    emap(FAR, 3, 0x40000000ull, ERWX | EWB);
    EXPECT_OK(FARLA, RD, 0x40000000ull | (FAR & 0x3FFFFFFF) | 0xABC);
    ck_assert_int_eq(X.page_shift, 12);
    two_dim(4, 4, 0);
    emap(FAR, 2, 0x600000ull, ER | EX | EMT(4));
    EXPECT_OK(FARLA, FE, 0x600000ull | (FAR & 0x1FFFFF) | 0xABC);
    ck_assert_int_eq(X.page_shift, 12);
    ck_assert_int_eq(X.e_memtype, 4);
    ck_assert_int_eq(X.e_w, 0);
    /* Guest 1 GiB over EPT 2 MiB and 1 GiB. */
    reset();
    mode(4);
    ept_on(4, 0);
    uint64_t la = 0x40000000ull * 3 + 0x123456;
    gmap(la, 3, 0x80000000ull, P | RW);
    emap(0x80000000ull + 0x123456, 2, 0x400000, ERWX | EWB);
    EXPECT_OK(la, RD, 0x400000 | 0x123456 % 0x200000);
    ck_assert_int_eq(X.page_shift, 21);
    ck_assert_uint_eq(X.gpa, 0x80123456ull);
    emap(0x80000000ull, 3, 0xC0000000ull, ERWX | EWB);
    EXPECT_OK(la, RD, 0xC0123456ull);
    ck_assert_int_eq(X.page_shift, 30);
}
END_TEST

/* Every EPT entry on gpa's path, root first. */
static int epath(uint64_t gpa, uint64_t *addr)
{
    int n = 0;
    for (int l = elevels; l >= 1; l--) {
        addr[n] = eslot(gpa, l);
        uint64_t e = rd64(addr[n++]);
        if (l <= 3 && l > 1 && (e & EPS)) break;
    }
    return n;
}

START_TEST(ept_accessed_and_dirty)
{
    for (int elev = 4; elev <= 5; elev++) {
        two_dim(4, elev, 1);
        uint64_t ga[5], tables[5], ea[5];
        int gn = gpath(LA, ga);
        for (int i = 0; i < gn; i++) tables[i] = ga[i] & ~0xFFFull;
        /* PEEK: nothing. */
        EXPECT_OK(LA, WR | PEEK, DATA | 0xABC);
        for (int i = 0; i < gn; i++) {
            int n = epath(tables[i], ea);
            for (int j = 0; j < n; j++) ck_assert_uint_eq(rd64(ea[j]) & (EA | ED), 0);
        }
        /* A read: A on every EPT entry used; D on the leaves mapping the
         * guest's paging structures (their accesses are writes), not on
         * the data page's leaf. */
        EXPECT_OK(LA, RD, DATA | 0xABC);
        for (int i = 0; i < gn; i++) {
            int n = epath(tables[i], ea);
            ck_assert_int_eq(n, elev);
            for (int j = 0; j < n; j++)
                ck_assert_uint_eq(rd64(ea[j]) & (EA | ED), j == n - 1 ? EA | ED : EA);
        }
        int n = epath(DATA, ea);
        ck_assert_uint_eq(rd64(ea[n - 1]) & (EA | ED), EA);
        ck_assert_int_eq(X.dirty, 0);
        /* A write: D on the data page's leaf. */
        EXPECT_OK(LA, WR, DATA | 0xABC);
        ck_assert_uint_eq(rd64(ea[n - 1]) & (EA | ED), EA | ED);
        for (int j = 0; j < n - 1; j++) ck_assert_uint_eq(rd64(ea[j]) & (EA | ED), EA);
        ck_assert_int_eq(X.dirty, 1);
        /* A 2 MiB EPT leaf gets D the same way. */
        emap(FAR, 2, 0, ERWX | EWB);
        EXPECT_OK(FARLA, WR, 0x5ABC);
        ck_assert_uint_eq(rd64(eslot(FAR, 2)) & (EA | ED), EA | ED);
        ck_assert_uint_eq(rd64(eslot(FAR, 3)) & (EA | ED), EA);

        /* A read-only EPT mapping of a guest page table: with A/D flags
         * enabled the walk's access is a write: bits 0 and 1, readable. */
        two_dim(4, elev, 1);
        uint64_t pt = gslot(LA, 1) & ~0xFFFull;
        emod(pt, 1, 0, EW | EX);
        EXPECT_VIOL(LA, RD, gslot(LA, 1), QR | QW | QRD | QGLA);
        /* That failed translation set no EPT flag. */
        n = epath(pt, ea);
        ck_assert_uint_eq(rd64(ea[n - 1]) & (EA | ED), 0);
        /* ... and the guest's entries got none either. */
        ck_assert_int_eq(count_flag(ga, gn, A), 0);
    }
    /* EPT A/D flags off: none ever. */
    two_dim(4, 4, 0);
    EXPECT_OK(LA, WR, DATA | 0xABC);
    ck_assert_int_eq(X.dirty, 1);
    uint64_t ea[5];
    int n = epath(DATA, ea);
    for (int j = 0; j < n; j++) ck_assert_uint_eq(rd64(ea[j]) & (EA | ED), 0);
    n = epath(pg.cr3 & FRAME, ea);
    for (int j = 0; j < n; j++) ck_assert_uint_eq(rd64(ea[j]) & (EA | ED), 0);
    /* With A/D on, a write through a leaf whose D is clear is not dirty
     * yet in the result of a read. */
    two_dim(4, 4, 1);
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_int_eq(X.dirty, 0);
    gmod(LA, 1, D, 0);
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_int_eq(X.dirty, 0); /* guest D set, EPT D not */
}
END_TEST

START_TEST(ept_guest_flag_updates_need_write)
{
    /* EPT A/D flags off: reading guest paging structures needs only read
     * access, but setting their accessed and dirty flags is a write
     * (29.3.3.2): a violation with bit 1 alone, bit 8 clear. */
    two_dim(4, 4, 0);
    uint64_t ga[5];
    int gn = gpath(LA, ga);
    uint64_t pt = ga[3] & ~0xFFFull;
    emod(pt, 1, 0, EW | EX); /* the page table read-only */
    EXPECT_VIOL(LA, RD, ga[3], QW | QRD | QGLA);
    /* The entries above it got their accessed flag first (their pages
     * are writable); the PTE got none. */
    ck_assert_int_eq(count_flag(ga, gn - 1, A), 3);
    ck_assert_uint_eq(gentry(ga[3]) & A, 0);
    /* With the PTE's accessed flag already set, a read needs no write. */
    gmod(LA, 1, A, 0);
    EXPECT_OK(LA, RD, DATA | 0xABC);
    /* A write needs the dirty flag: a violation again, at the PTE. */
    EXPECT_VIOL(LA, WR, ga[3], QW | QRD | QGLA);
    gmod(LA, 1, D, 0);
    EXPECT_OK(LA, WR, DATA | 0xABC);
    /* An execute-only page table with accessed flags set: reading it
     * violates (bit 0, executable bit 5). */
    emod(pt, 1, EX, ER);
    EXPECT_VIOL(LA, RD, ga[3], QR | QEX | QGLA);
    /* 32-bit paging: the same for 4-byte entries. */
    reset();
    mode(2);
    ept_on(4, 0);
    gmap(LA32, 1, DATA, P | RW | US);
    uint64_t pde = gslot(LA32, 2), pte = gslot(LA32, 1);
    emod(pte & ~0xFFFull, 1, 0, EW);
    EXPECT_VIOL(LA32, RD, pte, QW | QRD | QEX | QGLA);
    ck_assert_uint_eq(rd32(pde) & A, A);
}
END_TEST

START_TEST(ept_mode_based_execute)
{
    two_dim(4, 4, 0);
    ept.mbec = 1;
    ept.cap |= CAP_ADV;
    for (int l = 4; l >= 2; l--) {
        emod(FAR, l, EXU, 0);
        emod(DATA, l, EXU, 0);
    }
    gmap(LA, 1, DATA, P | RW);           /* supervisor-mode page */
    gmap(FARLA, 1, FAR, P | RW | US);    /* user-mode page */
    emap(FAR, 1, DATA, ER | EX | EWB);   /* X, no XU */
    emod(DATA, 1, 0, EXU);
    emod(DATA, 1, EX, 0);
    EXPECT_OK(LA, FE, DATA | 0xABC);     /* supervisor page: bit 2 */
    /* User-mode page: bit 10, clear: bit 2 of the qualification, bit 5
     * set (X), bit 6 clear (XU). */
    EXPECT_VIOL(FARLA, FE, FAR | 0xABC, QX | QRD | QEX | QGLA | QTR | QUSER | QWLA);
    EXPECT_VIOL(FARLA, FE | USR, FAR | 0xABC, QX | QRD | QEX | QGLA | QTR | QUSER | QWLA);
    EXPECT_OK(FARLA, RD, DATA | 0xABC);
    emap(FAR, 1, DATA, ER | EXU | EWB);  /* XU, no X */
    EXPECT_OK(FARLA, FE | USR, DATA | 0xABC);
    ck_assert_int_eq(X.e_xu, 1);
    ck_assert_int_eq(X.e_x, 0);
    emod(DATA, 1, EXU, EX);
    EXPECT_VIOL(LA, FE, DATA | 0xABC, QX | QRD | QWR | QUX | QGLA | QTR | QWLA);
    /* XU in an upper entry counts too (the AND). */
    emap(FAR, 1, DATA, ER | EX | EXU | EWB);
    EXPECT_OK(FARLA, FE, DATA | 0xABC);
    emod(FAR, 2, 0, EXU);
    EXPECT_VIOL(FARLA, FE, FAR | 0xABC, QX | QRD | QEX | QGLA | QTR | QUSER | QWLA);
    emod(FAR, 2, EXU, 0);
    /* Bit 10 alone makes an entry present under the control: execute-
     * only, so a misconfiguration without execute-only support. */
    emap(FAR, 1, DATA, EXU | EWB);
    EXPECT_OK(FARLA, FE, DATA | 0xABC);
    EXPECT_VIOL(FARLA, RD, FAR | 0xABC, QR | QUX | QGLA | QTR | QUSER | QWLA);
    ept.cap &= ~CAP_XONLY;
    EXPECT_MISC(FARLA, FE, FAR | 0xABC);
    ept.cap |= CAP_XONLY;
    /* Without the control bit 10 is ignored: not present, and qualification
     * bit 6 is not reported. */
    ept.mbec = 0;
    EXPECT_VIOL(FARLA, FE, FAR | 0xABC, QX | QGLA | QTR | QUSER | QWLA);
    emap(FAR, 1, DATA, ER | EXU | EWB);
    EXPECT_VIOL(FARLA, FE, FAR | 0xABC, QX | QRD | QGLA | QTR | QUSER | QWLA);
    ck_assert_int_eq(xl(FARLA, RD), VX_XL_OK);
    ck_assert_int_eq(X.e_xu, 0);
    /* Without guest paging the linear address is a user-mode one. */
    reset();
    mode(0);
    ept_on(4, 0);
    ept.mbec = 1;
    ept.cap |= CAP_ADV;
    emod(DATA, 1, 0, EX);
    EXPECT_VIOL(DATA, FE, DATA, QX | QRD | QWR | QGLA | QTR | QUSER | QWLA);
    for (int l = 4; l >= 1; l--) emod(DATA, l, EXU, 0);
    EXPECT_OK(DATA, FE, DATA);
}
END_TEST

/* The references of one walk: (dim, level, target) triples. */
static void expect_refs(const char *what, unsigned want_n)
{
    ck_assert_msg(wlog.n == want_n, "%s: %u references, want %u", what, wlog.n, want_n);
}

START_TEST(walk_log_references)
{
    /* 4-level over 4-level: each of the 4 guest entries is preceded by
     * the 4 EPT references translating its address, then 4 for the final
     * address: 24. */
    two_dim(4, 4, 1);
    uint64_t ga[5];
    gpath(LA, ga);
    EXPECT_OK(LA, RD, DATA | 0xABC);
    expect_refs("4 over 4", 24);
    unsigned k = 0;
    for (int gl = 4; gl >= 1; gl--) {
        for (int el = 4; el >= 1; el--, k++) {
            const vx_walk_ref *r = &wlog.ref[k];
            ck_assert_int_eq(r->dim, VX_DIM_EPT);
            ck_assert_int_eq(r->level, el);
            ck_assert_int_eq(r->target, gl);
            ck_assert_int_eq(r->reg, 0);
            ck_assert_uint_eq(r->gpa, ga[4 - gl]);
            ck_assert_uint_eq(r->hpa, eslot(ga[4 - gl], el));
        }
        const vx_walk_ref *r = &wlog.ref[k++];
        ck_assert_int_eq(r->dim, VX_DIM_GUEST);
        ck_assert_int_eq(r->level, gl);
        ck_assert_int_eq(r->reg, 0);
        ck_assert_uint_eq(r->gpa, ga[4 - gl]);
        ck_assert_uint_eq(r->hpa, ga[4 - gl]);
        ck_assert_uint_eq(r->entry, gentry(ga[4 - gl]) & ~(uint64_t)A); /* as read: before A */
    }
    for (int el = 4; el >= 1; el--, k++) {
        const vx_walk_ref *r = &wlog.ref[k];
        ck_assert_int_eq(r->dim, VX_DIM_EPT);
        ck_assert_int_eq(r->level, el);
        ck_assert_int_eq(r->target, 0);
        ck_assert_uint_eq(r->gpa, DATA | 0xABC);
    }
    /* Flags already set: the same 24 on the next walk. */
    EXPECT_OK(LA, WR, DATA | 0xABC);
    expect_refs("4 over 4, again", 24);
    /* A fault ends the walk: a violation at the guest PDE's address
     * after 2 guest entries (5 references each) and 3 EPT references. */
    emod(gslot(LA, 1) & ~0xFFFull, 1, 0, ERWX);
    EXPECT_VIOL(LA, RD, ga[3], QR | QW | QGLA);
    expect_refs("4 over 4, violation at the PT", 3 * 5 + 4);
    ck_assert_int_eq(wlog.ref[wlog.n - 1].dim, VX_DIM_EPT);
    ck_assert_int_eq(wlog.ref[wlog.n - 1].target, 1);

    typedef struct {
        int glev, elev;
        unsigned n;
    } combo;
    static const combo cs[] = {
        {5, 5, 5 * 6 + 5}, {4, 5, 4 * 6 + 5}, {5, 4, 5 * 5 + 4}, {2, 4, 2 * 5 + 4},
        {3, 4, 1 + 2 * 5 + 4}, /* the PDPTE register, then PD and PT */
        {0, 4, 4}, {0, 5, 5}, {4, 0, 4}, {5, 0, 5}, {2, 0, 2}, {3, 0, 3}, {0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        reset();
        mode(cs[i].glev);
        if (cs[i].elev) ept_on(cs[i].elev, 1);
        uint64_t la = cs[i].glev <= 3 ? LA32 : LA;
        if (cs[i].glev) gmap(la, 1, DATA, P | RW | US);
        else la = DATA | 0xABC;
        ck_assert_int_eq(xl(la, RD), VX_XL_OK);
        ck_assert_msg(wlog.n == cs[i].n, "guest %d EPT %d: %u references, want %u", cs[i].glev,
                      cs[i].elev, wlog.n, cs[i].n);
        if (cs[i].glev == 3) {
            ck_assert_int_eq(wlog.ref[0].dim, VX_DIM_GUEST);
            ck_assert_int_eq(wlog.ref[0].reg, 1);
            ck_assert_int_eq(wlog.ref[0].level, 3);
            ck_assert_uint_eq(wlog.ref[0].entry, pg.pdpte[0]);
            /* Rights so far after a PDPTE register: PAE PDPTEs have no
             * R/W, U/S or XD bits, so read/write, user, executable. */
            ck_assert_uint_eq(wlog.ref[0].rights, 1 | 2);
        }
        if (cs[i].glev == 2 && cs[i].elev) {
            /* 4-byte entries at their guest-physical addresses. */
            ck_assert_uint_eq(wlog.ref[4].gpa, gslot(la, 2));
            ck_assert_uint_eq(wlog.ref[9].gpa, gslot(la, 1));
            ck_assert_uint_eq(wlog.ref[9].entry, gentry(gslot(la, 1)) & ~(uint64_t)A);
        }
    }
    /* EPT A/D flags off and no guest accessed flag set yet: each flag
     * write is translated (29.3.3.2: a data write), 4 more references per
     * guest entry, 4 for the dirty flag: 24 + 16 + 4 = 44, the final
     * translation's 4 last. */
    two_dim(4, 4, 0);
    EXPECT_OK(LA, WR, DATA | 0xABC);
    expect_refs("4 over 4, flags written through EPT", 44);
    for (unsigned i = 40; i < 44; i++) {
        ck_assert_int_eq(wlog.ref[i].dim, VX_DIM_EPT);
        ck_assert_int_eq(wlog.ref[i].target, 0);
        ck_assert_int_eq(wlog.ref[i].level, (int)(44 - i));
    }
    /* The most a walk makes: 5-level over 5-level, the same way. */
    reset();
    mode(5);
    ept_on(5, 0);
    gmap(LA, 1, DATA, P | RW | US);
    EXPECT_OK(LA, WR, DATA | 0xABC);
    expect_refs("5 over 5, flags written through EPT", 5 * 6 + 5 * 5 + 5 + 5);
    ck_assert_int_eq(wlog.ref[wlog.n - 1].target, 0);
    ck_assert_int_eq(wlog.ref[wlog.n - 1].level, 1);
    /* EPT 2 MiB pages: 3 references per translation. */
    reset();
    mode(4);
    ept_on(4, 1);
    gmap(LA, 1, DATA, P | RW | US);
    emap(0, 2, 0, ERWX | EWB);
    ck_assert_int_eq(xl(LA, RD), VX_XL_OK);
    expect_refs("4 over 4 with 2 MiB EPT pages", 4 * 4 + 3);
    /* Guest 2 MiB page over EPT 4 KiB: 3 guest entries. */
    reset();
    mode(4);
    ept_on(4, 1);
    gmap(LA, 2, 0x000000, P | RW | US);
    ck_assert_int_eq(xl(LA, RD), VX_XL_OK);
    expect_refs("2 MiB guest page over 4 over 4", 3 * 5 + 4);
}
END_TEST

/* ---- the guest-physical mapping cache hook ---- */

typedef struct tcache {
    int has;
    uint64_t gpa;
    vx_ept_xl x;
    int lookups, hits, inserts;
    uint64_t last_gpa;
    vx_ept_xl last;
} tcache;

static int tc_lookup(void *ctx, uint64_t gpa, vx_ept_xl *x)
{
    tcache *c = ctx;
    c->lookups++;
    if (!c->has || (gpa >> 12) != (c->gpa >> 12)) return 0;
    *x = c->x;
    c->hits++;
    return 1;
}

static void tc_insert(void *ctx, uint64_t gpa, const vx_ept_xl *x)
{
    tcache *c = ctx;
    c->inserts++;
    c->last_gpa = gpa;
    c->last = *x;
}

START_TEST(gpa_cache_hook)
{
    two_dim(4, 4, 1);
    tcache tc = {0};
    vx_gpa_cache hook = {tc_lookup, tc_insert, &tc};
    gcache = &hook;
    /* A miss: the walk, and every translation inserted (4 tables, data). */
    EXPECT_OK(LA, RD, DATA | 0xABC);
    ck_assert_int_eq(tc.lookups, 5);
    ck_assert_int_eq(tc.hits, 0);
    ck_assert_int_eq(tc.inserts, 5);
    ck_assert_uint_eq(tc.last_gpa, DATA | 0xABC);
    ck_assert_int_eq(tc.last.status, VX_XL_OK);
    ck_assert_uint_eq(tc.last.hpa, DATA | 0xABC);
    ck_assert_int_eq(tc.last.dirty, 0);
    /* A hit on the data page, pointing elsewhere: no EPT memory reference
     * for it, the cached host-physical page is used. */
    tc.has = 1;
    tc.gpa = DATA;
    tc.x = (vx_ept_xl){.status = VX_XL_OK, .hpa = 0x3AB000, .r = 1, .w = 1, .x = 1, .xu = 0,
                       .shift = 12, .memtype = 6, .dirty = 0};
    tc.inserts = 0;
    EXPECT_OK(LA, RD, 0x3ABABC);
    ck_assert_int_eq(tc.inserts, 4);
    ck_assert_uint_eq(wlog.n, 4 * 5 + 1);
    const vx_walk_ref *r = &wlog.ref[wlog.n - 1];
    ck_assert_int_eq(r->dim, VX_DIM_EPT);
    ck_assert_int_eq(r->reg, 2);
    ck_assert_int_eq(r->target, 0);
    ck_assert_uint_eq(r->hpa, 0x3ABABC);
    /* A write through a cached mapping that is not dirty yet walks (and
     * sets the dirty flag, and inserts the result). */
    tc.inserts = 0;
    EXPECT_OK(LA, WR, DATA | 0xABC);
    ck_assert_uint_eq(wlog.n, 4 * 5 + 4);
    ck_assert_int_eq(tc.inserts, 5);
    ck_assert_int_eq(tc.last.dirty, 1);
    ck_assert_uint_eq(rd64(eslot(DATA, 1)) & ED, ED);
    /* A dirty one is used. */
    tc.x.dirty = 1;
    EXPECT_OK(LA, WR, 0x3ABABC);
    ck_assert_uint_eq(wlog.n, 4 * 5 + 1);
    /* One without the right walks: the tables decide. */
    tc.x.w = 0;
    EXPECT_OK(LA, WR, DATA | 0xABC);
    tc.x.x = 0;
    EXPECT_OK(LA, FE, DATA | 0xABC);
    ck_assert_uint_eq(wlog.n, 4 * 5 + 4);
    tc.x.x = 1;
    emod(DATA, 1, 0, EX);
    EXPECT_OK(LA, FE, 0x3ABABC); /* the cache allowed it: stale, as a TLB may be */
    tc.x.x = 0;
    EXPECT_VIOL(LA, FE, DATA | 0xABC, QX | QRD | QWR | QGLA | QTR);
    /* PEEK inserts nothing. */
    tc.has = 0;
    tc.inserts = 0;
    EXPECT_OK(LA, RD | PEEK, DATA | 0xABC);
    ck_assert_int_eq(tc.inserts, 0);
    /* Nor does a failed translation. */
    emod(DATA, 1, 0, ERWX);
    EXPECT_VIOL(LA, RD, DATA | 0xABC, QR | QGLA | QTR);
    ck_assert_int_eq(tc.inserts, 4);
}
END_TEST

START_TEST(guest_physical_only)
{
    /* vx_xlate_gpa (PDPTE loads): no guest-linear address, so bits 7 and
     * 8 (and 11:9) are clear. */
    reset();
    mode(3);
    ept_on(4, 0);
    vx_xlate_env env = {&pg, &ept, &hm, NULL, &wlog};
    wlog.n = 0;
    ck_assert_int_eq(vx_xlate_gpa(&env, DATA | 0x18, RD, &X), VX_XL_OK);
    ck_assert_uint_eq(X.hpa, DATA | 0x18);
    ck_assert_uint_eq(wlog.n, 4);
    emod(DATA, 1, 0, ERWX);
    ck_assert_int_eq(vx_xlate_gpa(&env, DATA | 0x18, RD, &X), VX_XL_EPT_VIOLATION);
    ck_assert_uint_eq(X.qual, QR);
    ck_assert_uint_eq(X.gpa, DATA | 0x18);
    emod(DATA, 1, ER | EW, 0);
    ck_assert_int_eq(vx_xlate_gpa(&env, DATA | 0x18, FE, &X), VX_XL_EPT_VIOLATION);
    ck_assert_uint_eq(X.qual, QX | QRD | QWR);
    emod(DATA, 1, EMT(3), 0);
    ck_assert_int_eq(vx_xlate_gpa(&env, DATA | 0x18, RD, &X), VX_XL_EPT_MISCONFIG);
    ck_assert_uint_eq(X.gpa, DATA | 0x18);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("walk");
    TCase *g = tcase_create("guest");
    tcase_add_checked_fixture(g, setup, teardown);
    tcase_add_test(g, not_present_each_level);
    tcase_add_test(g, id_flag_needs_nxe_and_pae_or_smep);
    tcase_add_test(g, reserved_bits_each_level_each_mode);
    tcase_add_test(g, pse36_and_large_pages);
    tcase_add_test(g, five_level_indexes);
    tcase_add_test(g, user_supervisor_each_level);
    tcase_add_test(g, read_write_and_cr0_wp);
    tcase_add_test(g, execute_disable);
    tcase_add_test(g, smep);
    tcase_add_test(g, smap_ac_and_implicit);
    tcase_add_test(g, protection_keys);
    tcase_add_test(g, accessed_and_dirty);
    tcase_add_test(g, no_flags_on_a_fault);
    tcase_add_test(g, result_fields);
    suite_add_tcase(s, g);
    TCase *e = tcase_create("ept");
    tcase_add_checked_fixture(e, setup, teardown);
    tcase_add_test(e, ept_not_present_each_level);
    tcase_add_test(e, ept_rights_are_the_and);
    tcase_add_test(e, ept_advanced_information);
    tcase_add_test(e, ept_misconfigurations);
    tcase_add_test(e, ept_large_pages);
    tcase_add_test(e, ept_accessed_and_dirty);
    tcase_add_test(e, ept_guest_flag_updates_need_write);
    tcase_add_test(e, ept_mode_based_execute);
    tcase_add_test(e, walk_log_references);
    tcase_add_test(e, gpa_cache_hook);
    tcase_add_test(e, guest_physical_only);
    suite_add_tcase(s, e);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
