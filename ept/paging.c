/*
 * paging.c - the model's page walker (SDM Vol. 3A 4.3 32-bit paging,
 * 4.4 PAE paging, 4.5 4-level and 5-level paging, 4.6 access rights,
 * 4.7 page-fault exceptions, 4.8 accessed and dirty flags).
 */
#include "paging.h"

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

static uint64_t bits(unsigned lo, unsigned hi) /* mask of bits lo..hi */
{
    return (hi >= 63 ? UINT64_MAX : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

/* Permission check over the combined rights of the walk (4.6). */
static int allowed(const vx_paging *pg, unsigned access, int rw, int us, int xd)
{
    int user = (access & VX_PF_U) != 0;
    if (user && !us) return 0;
    if (access & VX_PF_W) {
        if (!rw && (user || (pg->cr0 & CR0_WP))) return 0;
    }
    if (access & VX_PF_I) {
        if (xd) return 0;
        if (!user && us && (pg->cr4 & CR4_SMEP)) return 0;
    }
    return 1;
}

static int walk_64(const vx_paging *pg, const vx_physmem *mem, uint64_t la,
                   unsigned access, uint64_t *pa, uint32_t *pfec, int levels,
                   uint64_t table, int pae32)
{
    uint64_t rsvd_hi = bits(pg->maxphyaddr, 62) | ((pg->efer & EFER_NXE) ? 0 : PTE_XD);
    int rw = 1, us = 1, xd = 0;
    uint64_t entries[5], addrs[5];
    int n = 0;
    for (int level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t idx = (la >> shift) & 0x1FF;
        uint64_t ea = (table & bits(12, 51)) + idx * 8;
        uint64_t e = mem->read64(mem->ctx, ea);
        if (!(e & PTE_P)) {
            *pfec = access;
            return -1;
        }
        uint64_t rsvd = rsvd_hi;
        int leaf = level == 1 || ((e & PTE_PS) && level <= 3 && !(pae32 && level == 3));
        if (level >= 4 || (pae32 && level == 3)) rsvd |= PTE_PS;
        if (leaf && level == 2) rsvd |= bits(13, 20);
        if (leaf && level == 3) rsvd |= bits(13, 29);
        if (e & rsvd) {
            *pfec = access | VX_PF_P | VX_PF_RSVD;
            return -1;
        }
        rw &= (e & PTE_RW) != 0;
        us &= (e & PTE_US) != 0;
        xd |= (e & PTE_XD) != 0 && (pg->efer & EFER_NXE);
        entries[n] = e;
        addrs[n++] = ea;
        if (leaf) {
            if (!allowed(pg, access, rw, us, xd)) {
                *pfec = access | VX_PF_P;
                return -1;
            }
            /* Accessed flags on every entry used, dirty on the leaf for a
             * write (4.8). */
            for (int i = 0; i < n; i++) {
                uint64_t ne = entries[i] | PTE_A;
                if (i == n - 1 && (access & VX_PF_W)) ne |= PTE_D;
                if (ne != entries[i]) mem->write64(mem->ctx, addrs[i], ne);
            }
            uint64_t off = la & ((1ull << shift) - 1);
            *pa = (e & bits(shift, 51)) | off;
            return 0;
        }
        table = e;
    }
    return -1;
}

static int walk_32(const vx_paging *pg, const vx_physmem *mem, uint64_t la,
                   unsigned access, uint64_t *pa, uint32_t *pfec)
{
    uint32_t pdea = (uint32_t)((pg->cr3 & 0xFFFFF000u) + ((la >> 22) & 0x3FF) * 4);
    uint32_t pde = mem->read32(mem->ctx, pdea);
    if (!(pde & PTE_P)) { *pfec = access; return -1; }
    if ((pde & PTE_PS) && (pg->cr4 & CR4_PSE)) {
        /* 4-MByte page: bits 20:13 hold physical-address bits 39:32;
         * bit 21 is reserved (4.3). */
        if (pde & (1u << 21)) { *pfec = access | VX_PF_P | VX_PF_RSVD; return -1; }
        if (!allowed(pg, access, (pde & PTE_RW) != 0, (pde & PTE_US) != 0, 0)) {
            *pfec = access | VX_PF_P;
            return -1;
        }
        uint32_t ne = pde | PTE_A | ((access & VX_PF_W) ? PTE_D : 0);
        if (ne != pde) mem->write32(mem->ctx, pdea, ne);
        uint64_t hi = (uint64_t)((pde >> 13) & 0xFF) << 32;
        *pa = hi | (pde & 0xFFC00000u) | (la & 0x3FFFFF);
        return 0;
    }
    uint32_t ptea = (pde & 0xFFFFF000u) + (uint32_t)((la >> 12) & 0x3FF) * 4;
    uint32_t pte = mem->read32(mem->ctx, ptea);
    if (!(pte & PTE_P)) { *pfec = access; return -1; }
    int rw = (pde & PTE_RW) && (pte & PTE_RW), us = (pde & PTE_US) && (pte & PTE_US);
    if (!allowed(pg, access, rw, us, 0)) { *pfec = access | VX_PF_P; return -1; }
    if (!(pde & PTE_A)) mem->write32(mem->ctx, pdea, pde | PTE_A);
    uint32_t ne = pte | PTE_A | ((access & VX_PF_W) ? PTE_D : 0);
    if (ne != pte) mem->write32(mem->ctx, ptea, ne);
    *pa = (pte & 0xFFFFF000u) | (la & 0xFFF);
    return 0;
}

int vx_paging_walk(const vx_paging *pg, const vx_physmem *mem, uint64_t la,
                   unsigned access, uint64_t *pa, uint32_t *pfec)
{
    if (!(pg->cr0 & CR0_PG)) {
        *pa = la & 0xFFFFFFFFull; /* no paging: linear = physical (32-bit) */
        return 0;
    }
    if (pg->efer & EFER_LMA) {
        int levels = (pg->cr4 & CR4_LA57) ? 5 : 4;
        return walk_64(pg, mem, la, access, pa, pfec, levels, pg->cr3, 0);
    }
    if (pg->cr4 & CR4_PAE) {
        /* PAE paging: the PDPTE is read from the 32-byte aligned table at
         * CR3 (the CPU caches PDPTEs at MOV to CR3; the model reads them
         * at the walk, the same unless software changed them since). */
        uint64_t pdpte = mem->read64(mem->ctx, (pg->cr3 & 0xFFFFFFE0u) + ((la >> 30) & 3) * 8);
        if (!(pdpte & PTE_P)) { *pfec = access; return -1; }
        if (pdpte & (bits(pg->maxphyaddr, 63) | bits(5, 8) | 6)) {
            *pfec = access | VX_PF_P | VX_PF_RSVD;
            return -1;
        }
        return walk_64(pg, mem, la & 0x3FFFFFFF, access, pa, pfec, 2, pdpte, 1);
    }
    return walk_32(pg, mem, la, access, pa, pfec);
}
