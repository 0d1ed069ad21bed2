/*
 * paging.c - linear-address translation (SDM Vol. 3A 4), in every paging
 * mode: none (4.1.1), 32-bit (4.3, with 4-MByte pages under CR4.PSE),
 * PAE (4.4, from the PDPTE registers), 4-level and 5-level (4.5); the
 * access rights of 4.6 (U/S, R/W with CR0.WP, XD with IA32_EFER.NXE,
 * SMEP, SMAP with RFLAGS.AC and implicit supervisor-mode accesses,
 * protection keys), the #PF error codes of 4.7 and the accessed and dirty
 * flags of 4.8.
 *
 * In VMX non-root operation with EPT each guest paging-structure entry
 * is read at the host-physical address EPT gives its guest-physical
 * address, and the final guest-physical address is translated last
 * (SDM Vol. 3C 29.3.2); an EPT fault at either step ends the walk.  The
 * order of the checks is the SDM's (and Bochs cpu/paging.cc's): each
 * entry is checked for presence, then reserved bits, as it is read;
 * rights are checked at the leaf; accessed and dirty flags are set only
 * for an access that is allowed.
 */
#include "ept.h"

#include "../sim/x86.h"

static uint64_t bits(unsigned lo, unsigned hi) /* mask of bits lo..hi */
{
    if (lo > hi) return 0;
    return (hi >= 63 ? UINT64_MAX : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

int vx_paging_levels(const vx_guest_paging *pg)
{
    if (!(pg->cr0 & CR0_PG)) return 0;
    if (pg->efer & EFER_LMA) return (pg->cr4 & CR4_LA57) ? 5 : 4;
    return (pg->cr4 & CR4_PAE) ? 3 : 2;
}

/* One guest walk in progress. */
typedef struct walk {
    const vx_xlate_env *env;
    uint64_t la;
    unsigned acc;
    vx_xlate *out;
    int n;                 /* entries used so far */
    uint64_t gpa[5], hpa[5], ent[5];
    int level[5];
    int wide;              /* 8-byte entries (not 32-bit paging) */
    int ept;               /* EPT is on: ew is prepared */
    vx_ept_walker ew;      /* the EPT configuration, worked out once a walk */
} walk;

static int ept_on(const vx_xlate_env *env)
{
    return env->ept && env->ept->enabled;
}

/* Prepare the EPT walks of one translation: a two-dimensional walk
 * makes up to 11 of them under one configuration (29.3.2). */
static void walk_init(walk *w, const vx_xlate_env *env, uint64_t la, unsigned acc, vx_xlate *out)
{
    w->env = env;
    w->la = la;
    w->acc = acc;
    w->out = out;
    w->n = 0;
    w->wide = 0;
    w->ept = ept_on(env);
    if (w->ept) vx_ept_prepare(&w->ew, env->ept, env->mem, env->cache, env->log,
                               (acc & VX_ACC_PEEK) != 0);
}

static void log_guest(walk *w, int level, uint64_t gpa, uint64_t hpa, uint64_t e,
                      unsigned rights, int reg)
{
    vx_walk_log *log = w->env->log;
    if (!log || log->n >= VX_WALK_MAX_REFS) return;
    vx_walk_ref *r = &log->ref[log->n++];
    r->dim = VX_DIM_GUEST;
    r->level = (uint8_t)level;
    r->target = 0;
    r->rights = (uint8_t)rights;
    r->reg = (uint8_t)reg;
    r->gpa = gpa;
    r->hpa = hpa;
    r->entry = e;
}

/* The error code of a #PF for this access (4.7): W and U from the
 * access; I/D for a fetch where the processor reports it (PAE or
 * 4/5-level paging with IA32_EFER.NXE = 1, or CR4.SMEP = 1). */
static vx_xl_status page_fault(walk *w, uint32_t extra)
{
    const vx_guest_paging *pg = w->env->pg;
    uint32_t ec = (w->acc & (VX_ACC_W | VX_ACC_U)) | extra;
    if ((w->acc & VX_ACC_I) &&
        (((pg->efer & EFER_NXE) && (pg->cr4 & CR4_PAE)) || (pg->cr4 & CR4_SMEP)))
        ec |= VX_PFEC_I;
    w->out->status = VX_XL_PF;
    w->out->pfec = ec;
    return VX_XL_PF;
}

/* An EPT fault while translating the guest-physical address gpa of a
 * guest paging-structure entry: the guest-linear address is valid, and
 * the access was not to the translation of it (bit 8 clear). */
static vx_xl_status ept_fault(walk *w, vx_xl_status st, uint64_t gpa, uint32_t qual)
{
    w->out->status = st;
    w->out->gpa = gpa;
    w->out->qual = st == VX_XL_EPT_VIOLATION ? (qual | VX_EPTQ_GLA_VALID) : 0;
    return st;
}

/* Read the guest paging-structure entry at guest-physical address gpa
 * (level: for the log).  With EPT the entry's address is translated
 * first: as a read, or as a write when EPT's accessed and dirty flags are
 * enabled (29.3.3.2).  Returns 0, or -1 with the EPT fault in w->out. */
static int read_entry(walk *w, uint64_t gpa, int level, uint64_t *e, uint64_t *hpa)
{
    const vx_xlate_env *env = w->env;
    *hpa = gpa;
    if (w->ept) {
        unsigned need = VX_EPTE_R | (w->ew.ad ? VX_EPTE_W : 0);
        vx_ept_xl x;
        vx_xl_status st = vx_ept_walk(&w->ew, gpa, need, 0, level, &x);
        w->out->nref_ept += x.nrefs;
        if (st != VX_XL_OK) {
            ept_fault(w, st, gpa, x.qual);
            return -1;
        }
        *hpa = x.hpa;
    }
    /* Two constant widths: each is then one load. */
    *e = w->wide ? vx_hm_load(env->mem, *hpa, 8) : vx_hm_load(env->mem, *hpa, 4);
    w->out->nref_guest++;
    return 0;
}

/* Set a flag in a guest paging-structure entry: a write to its
 * guest-physical address, which EPT must allow (29.3.3.2: "writes ... to
 * update accessed and dirty flags are considered to be data writes"). */
static int set_flag(walk *w, int i, uint64_t flag)
{
    const vx_xlate_env *env = w->env;
    if (w->ent[i] & flag) return 0;
    uint64_t hpa = w->hpa[i];
    if (w->ept && !w->ew.ad) {
        vx_ept_xl x;
        /* Flags are set only by a translation that is not a peek
         * (finish), so the walker's peek is 0 here, as this write
         * needs: its mapping may be cached. */
        vx_xl_status st = vx_ept_walk(&w->ew, w->gpa[i], VX_EPTE_W, 0, w->level[i], &x);
        w->out->nref_ept += x.nrefs;
        if (st != VX_XL_OK) {
            ept_fault(w, st, w->gpa[i], x.qual);
            return -1;
        }
        hpa = x.hpa;
    }
    w->ent[i] |= flag;
    if (w->wide) vx_hm_store(env->mem, hpa, 8, w->ent[i]);
    else vx_hm_store(env->mem, hpa, 4, w->ent[i]);
    return 0;
}

uint32_t vx_paging_denied(const vx_guest_paging *pg, unsigned acc, int rw, int us, int xd,
                          int keys, unsigned pkey)
{
    int user = (acc & VX_ACC_U) != 0, write = (acc & VX_ACC_W) != 0;
    int wp = (pg->cr0 & CR0_WP) != 0;
    /* Protection keys, 4- and 5-level paging only, data accesses only:
     * PKRU for user-mode pages, IA32_PKRS for supervisor-mode pages;
     * write-disable stops supervisor writes only with CR0.WP = 1.  The PK
     * flag reports the key's verdict whether or not the access is also
     * denied for another reason (4.7). */
    uint32_t pk = 0;
    if (keys && !(acc & VX_ACC_I)) {
        uint32_t rights = 0;
        if (us && (pg->cr4 & CR4_PKE)) rights = pg->pkru >> (2 * pkey);
        else if (!us && (pg->cr4 & CR4_PKS)) rights = pg->pkrs >> (2 * pkey);
        if ((rights & 1) || ((rights & 2) && write && (user || wp))) pk = VX_PFEC_P | VX_PFEC_PK;
    }
    if (user && !us) return VX_PFEC_P | pk;
    if (acc & VX_ACC_I) {
        if (xd) return VX_PFEC_P;
        if (!user && us && (pg->cr4 & CR4_SMEP)) return VX_PFEC_P;
        return 0;
    }
    /* Supervisor-mode data accesses to user-mode pages under SMAP: only
     * explicit ones with RFLAGS.AC = 1. */
    if (!user && us && (pg->cr4 & CR4_SMAP) &&
        (!(acc & VX_ACC_AC) || (acc & VX_ACC_IMPLICIT)))
        return VX_PFEC_P | pk;
    if (write && !rw && (user || wp)) return VX_PFEC_P | pk;
    return pk;
}

/* After the leaf: rights, accessed/dirty flags, then the final
 * guest-physical address through EPT. */
static vx_xl_status finish(walk *w, int rw, int us, int xd, uint64_t frame, unsigned shift,
                           int global, int keys, unsigned pkey)
{
    const vx_xlate_env *env = w->env;
    vx_xlate *out = w->out;
    uint32_t d = vx_paging_denied(env->pg, w->acc, rw, us, xd, keys, pkey);
    if (d) return page_fault(w, d);
    int write = (w->acc & VX_ACC_W) != 0;
    if (!(w->acc & VX_ACC_PEEK)) {
        /* Flags already set need no write (and no EPT translation): the
         * common case once a table has been used, tested here. */
        for (int i = 0; i < w->n; i++)
            if (!(w->ent[i] & PTE_A) && set_flag(w, i, PTE_A) < 0) return out->status;
        if (write && !(w->ent[w->n - 1] & PTE_D) && set_flag(w, w->n - 1, PTE_D) < 0)
            return out->status;
    }
    out->gpa = frame | (w->la & ((1ull << shift) - 1));
    out->g_rw = (uint8_t)rw;
    out->g_us = (uint8_t)us;
    out->g_xd = (uint8_t)xd;
    out->g_global = (uint8_t)global;
    out->g_pkey = (uint8_t)pkey;
    out->dirty = (w->ent[w->n - 1] & PTE_D) != 0;
    out->page_shift = (uint8_t)shift;
    return VX_XL_OK;
}

/* Which entries map a page: a PTE always, a PDPTE or PDE with PS set
 * (a PDPTE only in 4- and 5-level paging: a PAE walk starts at the PDE),
 * a PML4E or PML5E never (4.4.2, 4.5.4; PS is reserved there).  A
 * present entry has a bit of ~0 set. */
static const uint64_t maps_page[6] = {0, ~0ull, PTE_PS, PTE_PS, 0, 0};

/* The walk log's rights: R/W 1, U/S 2, XD 4. */
static unsigned log_rights(uint64_t allow, uint64_t deny)
{
    return (unsigned)((allow & PTE_RW) != 0) | (unsigned)((allow & PTE_US) != 0) << 1 |
           (unsigned)(deny != 0) << 2;
}

static vx_xl_status walk_wide(walk *w, int levels, uint64_t table)
{
    const vx_guest_paging *pg = w->env->pg;
    const unsigned m = pg->maxphyaddr;
    const int nxe = (pg->efer & EFER_NXE) != 0, pae = levels == 3;
    /* Bits beyond MAXPHYADDR are reserved; in PAE paging bits 62:52 are
     * too (Tables 4-8 to 4-11); XD is reserved without NXE. */
    uint64_t rsvd_any = bits(m, pae ? 62 : 51) | (nxe ? 0 : PTE_XD);
    const uint64_t addr_mask = bits(12, m - 1);
    /* The rights so far (4.6.1): R/W and U/S ANDed over the levels, XD
     * ORed where IA32_EFER.NXE = 1. */
    const uint64_t xd_bit = nxe ? PTE_XD : 0;
    uint64_t allow = PTE_RW | PTE_US, deny = 0;
    int level = levels;
    w->wide = 1;
    if (pae) {
        /* The PDPTE register for this address (4.4.1): its reserved bits
         * were checked when it was loaded. */
        uint64_t pdpte = pg->pdpte[(w->la >> 30) & 3];
        /* No R/W, U/S or XD bit in a PDPTE: the rights so far stay
         * read/write, user, executable. */
        log_guest(w, 3, 0, 0, pdpte, 3, 1);
        if (!(pdpte & PTE_P)) return page_fault(w, 0);
        table = pdpte;
        level = 2;
    }
    for (; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t gpa = (table & addr_mask) + ((w->la >> shift) & 0x1FF) * 8, hpa, e;
        if (read_entry(w, gpa, level, &e, &hpa) < 0) return w->out->status;
        int leaf = (e & maps_page[level]) != 0;
        allow &= e;
        deny |= e & xd_bit;
        if (w->env->log) log_guest(w, level, gpa, hpa, e, log_rights(allow, deny), 0);
        if (!(e & PTE_P)) return page_fault(w, 0);
        uint64_t rsvd = rsvd_any;
        if (level >= 4) rsvd |= PTE_PS;
        if (leaf && level == 3) rsvd |= pg->page1gb ? bits(13, 29) : PTE_PS;
        if (leaf && level == 2) rsvd |= bits(13, 20);
        if (e & rsvd) return page_fault(w, VX_PFEC_P | VX_PFEC_RSVD);
        w->gpa[w->n] = gpa;
        w->hpa[w->n] = hpa;
        w->ent[w->n] = e;
        w->level[w->n++] = level;
        if (leaf) {
            int global = (pg->cr4 & CR4_PGE) && (e & PTE_G);
            unsigned pkey = pae ? 0 : (unsigned)(e >> PTE_PKEY_SHIFT) & 15;
            return finish(w, (allow & PTE_RW) != 0, (allow & PTE_US) != 0, deny != 0,
                          e & bits(shift, m - 1), shift, global, !pae, pkey);
        }
        table = e;
    }
    return VX_XL_PF; /* not reached: level 1 is a leaf */
}

static vx_xl_status walk_32(walk *w)
{
    const vx_guest_paging *pg = w->env->pg;
    uint64_t la = w->la & 0xFFFFFFFFull, hpa, pde, pte;
    uint64_t gpa = (pg->cr3 & 0xFFFFF000ull) + ((la >> 22) & 0x3FF) * 4;
    w->wide = 0;
    if (read_entry(w, gpa, 2, &pde, &hpa) < 0) return w->out->status;
    int big = (pde & PTE_PS) && (pg->cr4 & CR4_PSE);
    log_guest(w, 2, gpa, hpa, pde, (unsigned)((pde >> 1) & 3), 0);
    if (!(pde & PTE_P)) return page_fault(w, 0);
    w->gpa[0] = gpa;
    w->hpa[0] = hpa;
    w->ent[0] = pde;
    w->level[0] = 2;
    w->n = 1;
    int rw = (pde & PTE_RW) != 0, us = (pde & PTE_US) != 0;
    if (big) {
        /* A 4-MByte page: bits 20:13 hold physical-address bits 39:32
         * (PSE-36); bit 21 and the bits beyond MAXPHYADDR (at most 40)
         * are reserved (Table 4-4). */
        unsigned m = pg->maxphyaddr < 40 ? pg->maxphyaddr : 40;
        if (pde & bits(m - 19, 21)) return page_fault(w, VX_PFEC_P | VX_PFEC_RSVD);
        uint64_t frame = (pde & 0xFFC00000ull) | (((pde >> 13) & 0xFF) << 32);
        int global = (pg->cr4 & CR4_PGE) && (pde & PTE_G);
        return finish(w, rw, us, 0, frame, 22, global, 0, 0);
    }
    uint64_t pgpa = (pde & 0xFFFFF000ull) + ((la >> 12) & 0x3FF) * 4;
    if (read_entry(w, pgpa, 1, &pte, &hpa) < 0) return w->out->status;
    rw = rw && (pte & PTE_RW);
    us = us && (pte & PTE_US);
    log_guest(w, 1, pgpa, hpa, pte, (unsigned)(rw | us << 1), 0);
    if (!(pte & PTE_P)) return page_fault(w, 0);
    w->gpa[1] = pgpa;
    w->hpa[1] = hpa;
    w->ent[1] = pte;
    w->level[1] = 1;
    w->n = 2;
    int global = (pg->cr4 & CR4_PGE) && (pte & PTE_G);
    return finish(w, rw, us, 0, pte & 0xFFFFF000ull, 12, global, 0, 0);
}

/* The last step: the guest-physical address of the access through EPT,
 * as the translation of the linear address (qualification bits 7 and 8,
 * and 11:9 where the processor reports them, Table 28-7). */
static vx_xl_status final_ept(walk *w, int paging)
{
    const vx_xlate_env *env = w->env;
    vx_xlate *out = w->out;
    unsigned acc = w->acc;
    out->hpa = out->gpa;
    out->e_r = out->e_w = out->e_x = out->e_xu = 1;
    out->e_memtype = 6;
    out->e_ipat = 0;
    if (!w->ept) return VX_XL_OK;
    unsigned need = (acc & VX_ACC_I) ? VX_EPTE_X : (acc & VX_ACC_W) ? VX_EPTE_W : VX_EPTE_R;
    /* Without paging Bochs treats the address as user-mode and writable
     * (no SDM text decides it; see docs/vmx-choices.md). */
    int us = paging ? out->g_us : 1, rw = paging ? out->g_rw : 1, xd = paging ? out->g_xd : 0;
    vx_ept_xl x;
    vx_xl_status st = vx_ept_walk(&w->ew, out->gpa, need, us, 0, &x);
    out->nref_ept += x.nrefs;
    if (st != VX_XL_OK) {
        out->status = st;
        if (st == VX_XL_EPT_VIOLATION) {
            out->qual = x.qual | VX_EPTQ_GLA_VALID | VX_EPTQ_TRANSLATION;
            if ((env->ept->cap >> 22) & 1)
                out->qual |= (us ? VX_EPTQ_USER_LA : 0) | (rw ? VX_EPTQ_WRITABLE_LA : 0) |
                             (xd ? VX_EPTQ_XD_LA : 0);
        } else {
            out->qual = 0;
        }
        return st;
    }
    out->hpa = x.hpa;
    out->e_r = x.r;
    out->e_w = x.w;
    out->e_x = x.x;
    out->e_xu = x.xu;
    out->e_memtype = x.memtype;
    out->e_ipat = x.ipat;
    out->dirty = out->dirty && x.dirty;
    if (x.shift < out->page_shift) out->page_shift = x.shift;
    return VX_XL_OK;
}

vx_xl_status vx_xlate_linear(const vx_xlate_env *env, uint64_t la, unsigned access,
                             vx_xlate *out)
{
    const vx_guest_paging *pg = env->pg;
    walk w;
    walk_init(&w, env, la, access, out);
    *out = (vx_xlate){.status = VX_XL_OK};
    int levels = vx_paging_levels(pg);
    vx_xl_status st;
    switch (levels) {
    case 0:
        /* No paging: the linear address is the guest-physical one. */
        out->gpa = la;
        out->g_rw = out->g_us = 1;
        out->dirty = 1;
        out->page_shift = 30;
        st = VX_XL_OK;
        break;
    case 2: st = walk_32(&w); break;
    case 3: st = walk_wide(&w, 3, 0); break;
    default: st = walk_wide(&w, levels, pg->cr3); break;
    }
    if (st != VX_XL_OK) return st;
    return final_ept(&w, levels != 0);
}

vx_xl_status vx_xlate_gpa(const vx_xlate_env *env, uint64_t gpa, unsigned access,
                          vx_xlate *out)
{
    *out = (vx_xlate){.status = VX_XL_OK, .gpa = gpa, .g_rw = 1, .g_us = 1, .dirty = 1,
                      .page_shift = 30};
    walk w;
    walk_init(&w, env, gpa, access, out);
    vx_xl_status st = final_ept(&w, 0);
    /* No linear address: bits 7 and 8 clear (29.3.3.2, PDPTE loads). */
    if (st == VX_XL_EPT_VIOLATION) out->qual &= 0x7F;
    return st;
}
