/*
 * ept.c - translating a guest-physical address through EPT (SDM Vol. 3C
 * 29.3.2), in the order the SDM lists the outcomes: an entry that is not
 * present is an EPT violation; a present entry with a reserved setting
 * is an EPT misconfiguration (29.3.3.1); a translation whose rights (the
 * AND over every level) do not allow the access is an EPT violation
 * (29.3.3.2); a successful one sets the accessed flag in every entry used
 * and the dirty flag in the leaf for a write, if the EPTP enables them
 * (29.3.4).
 *
 * Entry formats: Tables 29-1 (PML5E/PML4E), 29-2/29-3 (PDPTE), 29-4/29-5
 * (PDE), 29-6 (PTE); cross-checked with Bochs cpu/paging.cc
 * (translate_guest_physical) and Linux arch/x86/include/asm/vmx.h
 * (VMX_EPT_*).
 */
#include "ept.h"

#include "../vmcs/controls.h"

static uint64_t bits(unsigned lo, unsigned hi) /* mask of bits lo..hi */
{
    if (lo > hi) return 0;
    return (hi >= 63 ? UINT64_MAX : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

/* ---- host-physical memory ---- */

uint64_t vx_hm_read64(const vx_hostmem *mem, uint64_t pa)
{
    uint64_t v = UINT64_MAX;
    if (pa < mem->size && mem->size - pa >= 8) {
        v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | mem->ram[pa + (unsigned)i];
    }
    return v;
}

uint32_t vx_hm_read32(const vx_hostmem *mem, uint64_t pa)
{
    uint32_t v = UINT32_MAX;
    if (pa < mem->size && mem->size - pa >= 4) {
        v = 0;
        for (int i = 3; i >= 0; i--) v = (v << 8) | mem->ram[pa + (unsigned)i];
    }
    return v;
}

void vx_hm_write64(const vx_hostmem *mem, uint64_t pa, uint64_t v)
{
    if (pa >= mem->size || mem->size - pa < 8) return;
    for (int i = 0; i < 8; i++) mem->ram[pa + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

void vx_hm_write32(const vx_hostmem *mem, uint64_t pa, uint32_t v)
{
    if (pa >= mem->size || mem->size - pa < 4) return;
    for (int i = 0; i < 4; i++) mem->ram[pa + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

/* ---- the walk ---- */

static int present(uint64_t e, int mbec)
{
    /* With mode-based execute control, bit 10 (user-mode execute) alone
     * also makes an entry present (29.3.2). */
    return (e & 7) || (mbec && (e & VX_EPTE_XU));
}

/* Is this present entry misconfigured (29.3.3.1)?  level 5..1; leaf: it
 * maps a page. */
static int misconfigured(const vx_ept *ept, uint64_t e, int level, int leaf)
{
    unsigned rwx = (unsigned)(e & 7);
    /* Write without read: 010b, 110b. */
    if ((rwx & 3) == VX_EPTE_W) return 1;
    /* Execute-only (no read, no write), where the processor has none. */
    if (!(rwx & 3) && !((ept->cap >> VX_EPTCAP_XONLY_BIT) & 1)) return 1;
    uint64_t rsvd = bits(ept->maxphyaddr, 51);
    if (level >= 4) rsvd |= bits(3, 7);           /* PML5E, PML4E: bits 7:3 */
    else if (!leaf) rsvd |= bits(3, 6);           /* PDPTE/PDE to a table: bits 6:3 */
    else if (level == 3) rsvd |= bits(12, 29);    /* 1-GByte page */
    else if (level == 2) rsvd |= bits(12, 20);    /* 2-MByte page */
    if (e & rsvd) return 1;
    if (leaf) {
        /* A large page the processor does not support: bit 7 is then
         * reserved. */
        if (level == 3 && !((ept->cap >> VX_EPTCAP_1G_BIT) & 1)) return 1;
        if (level == 2 && !((ept->cap >> VX_EPTCAP_2M_BIT) & 1)) return 1;
        /* Memory types 2, 3 and 7 are reserved (29.3.7). */
        unsigned mt = (unsigned)(e >> 3) & 7;
        if (mt == 2 || mt == 3 || mt == 7) return 1;
    }
    return 0;
}

static void log_ref(vx_walk_log *log, int level, int target, uint64_t gpa, uint64_t hpa,
                    uint64_t e, unsigned rights)
{
    if (!log || log->n >= VX_WALK_MAX_REFS) return;
    vx_walk_ref *r = &log->ref[log->n++];
    r->dim = VX_DIM_EPT;
    r->level = (uint8_t)level;
    r->target = (uint8_t)target;
    r->rights = (uint8_t)rights;
    r->reg = 0;
    r->gpa = gpa;
    r->hpa = hpa;
    r->entry = e;
}

vx_xl_status vx_ept_translate(const vx_ept *ept, const vx_hostmem *mem,
                              const vx_gpa_cache *cache, uint64_t gpa, unsigned need,
                              int user_la, int peek, vx_walk_log *log, int target,
                              vx_ept_xl *out)
{
    const int mbec = ept->mbec;
    const int ad = (ept->eptp & VX_EPTP_AD) != 0;
    const uint64_t addr_mask = bits(12, ept->maxphyaddr - 1);
    /* What the access needs, and the qualification bits 2:0 it reports
     * (Table 28-7). */
    unsigned xbit = (mbec && user_la) ? VX_EPTE_XU : VX_EPTE_X;
    uint32_t qacc = (uint32_t)(need & 7);

    /* A cached guest-physical mapping that allows the access is used as
     * it is; one that does not, or a write through a mapping whose dirty
     * flag is not set yet, walks again (29.4.2). */
    if (cache && cache->lookup && cache->lookup(cache->ctx, gpa, out)) {
        int ok = (!(need & VX_EPTE_R) || out->r) && (!(need & VX_EPTE_W) || (out->w && out->dirty)) &&
                 (!(need & VX_EPTE_X) || (xbit == VX_EPTE_XU ? out->xu : out->x));
        if (ok) {
            out->nrefs = 0;
            out->hpa = (out->hpa & ~((1ull << out->shift) - 1)) | (gpa & ((1ull << out->shift) - 1));
            if (log && log->n < VX_WALK_MAX_REFS) {
                vx_walk_ref *c = &log->ref[log->n++];
                *c = (vx_walk_ref){.dim = VX_DIM_EPT, .target = (uint8_t)target, .reg = 2,
                                   .gpa = gpa, .hpa = out->hpa,
                                   .rights = (uint8_t)(out->r | out->w << 1 | out->x << 2 |
                                                       out->xu << 3)};
            }
            return VX_XL_OK;
        }
    }

    int levels = (int)((ept->eptp >> VX_EPTP_WALK_SHIFT) & 7) + 1;
    uint64_t table = ept->eptp & addr_mask;
    uint64_t addrs[5], ents[5];
    unsigned r = 1, w = 1, x = 1, xu = 1;
    int n = 0, level;
    out->status = VX_XL_OK;
    out->qual = 0;
    out->nrefs = 0;
    for (level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t ea = table + ((gpa >> shift) & 0x1FF) * 8;
        uint64_t e = vx_hm_read64(mem, ea);
        out->nrefs++;
        if (!present(e, mbec)) {
            log_ref(log, level, target, gpa, ea, e, 0);
            /* Not present: the rights bits report the AND including this
             * entry's zeros. */
            out->status = VX_XL_EPT_VIOLATION;
            out->qual = qacc;
            return out->status;
        }
        int leaf = level == 1 || (level <= 3 && (e & VX_EPTE_PS));
        r &= (unsigned)(e & 1);
        w &= (unsigned)(e >> 1) & 1;
        x &= (unsigned)(e >> 2) & 1;
        xu &= (unsigned)(e >> 10) & 1;
        log_ref(log, level, target, gpa, ea, e, r | w << 1 | x << 2 | (mbec ? xu << 3 : 0));
        if (misconfigured(ept, e, level, leaf)) {
            out->status = VX_XL_EPT_MISCONFIG;
            return out->status;
        }
        addrs[n] = ea;
        ents[n++] = e;
        if (leaf) break;
        table = e & addr_mask;
    }
    if (!mbec) xu = 0;
    unsigned shift = 12 + 9 * (unsigned)(level - 1);
    unsigned has = (r ? VX_EPTE_R : 0) | (w ? VX_EPTE_W : 0) |
                   ((xbit == VX_EPTE_XU ? xu : x) ? VX_EPTE_X : 0);
    if ((need & has) != (need & 7)) {
        out->status = VX_XL_EPT_VIOLATION;
        out->qual = qacc | (r << 3) | (w << 4) | (x << 5) | (xu << 6);
        return out->status;
    }
    uint64_t leafe = ents[n - 1];
    /* Accessed flags on every entry used, dirty on the leaf for a write
     * (29.3.4); all of them only if the EPTP enables them. */
    if (ad && !peek) {
        for (int i = 0; i < n; i++) {
            uint64_t ne = ents[i] | VX_EPTE_A;
            if (i == n - 1 && (need & VX_EPTE_W)) ne |= VX_EPTE_D;
            if (ne != ents[i]) vx_hm_write64(mem, addrs[i], ne);
            ents[i] = ne;
        }
        leafe = ents[n - 1];
    }
    out->hpa = (leafe & addr_mask & ~((1ull << shift) - 1)) | (gpa & ((1ull << shift) - 1));
    out->r = (uint8_t)r;
    out->w = (uint8_t)w;
    out->x = (uint8_t)x;
    out->xu = (uint8_t)xu;
    out->shift = (uint8_t)shift;
    out->memtype = (uint8_t)((leafe >> 3) & 7);
    out->ipat = (uint8_t)((leafe >> 6) & 1);
    out->dirty = (uint8_t)(!ad || (leafe & VX_EPTE_D));
    if (cache && cache->insert && !peek) cache->insert(cache->ctx, gpa, out);
    return VX_XL_OK;
}
