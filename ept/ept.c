/*
 * ept.c - EPT paging structures, as far as the model uses them before
 * two-level translation arrives (issue 4): a check that an EPT maps a
 * range one to one with full access (SDM Vol. 3C 29.3).
 */
#include "ept.h"

/* Bits 2:0 of an EPT entry: read, write, execute (Tables 29-1 to 29-6). */
#define EPT_RWX 7ull
#define EPT_LARGE (1ull << 7)

/* Check the entries of the table at `table` (level 4 = PML4 ... 1 = PT)
 * that cover [base, base + span * 512) within [0, size). */
static int walk(const vx_physmem *mem, uint64_t table, int level, uint64_t base, uint64_t size,
                uint64_t addr_mask, uint64_t *where)
{
    uint64_t span = 1ull << (12 + 9 * (level - 1));
    for (unsigned i = 0; i < 512; i++) {
        uint64_t gpa = base + span * i;
        if (gpa >= size) break;
        uint64_t e = mem->read64(mem->ctx, table + 8ull * i);
        if ((e & EPT_RWX) != EPT_RWX) { *where = gpa; return -1; }
        int leaf = level == 1 || ((level == 2 || level == 3) && (e & EPT_LARGE));
        if (leaf) {
            uint64_t frame = e & addr_mask & ~(span - 1);
            if (frame != gpa) { *where = gpa; return -1; }
            continue;
        }
        if (level == 4 && (e & EPT_LARGE)) { *where = gpa; return -1; } /* reserved */
        if (walk(mem, e & addr_mask, level - 1, gpa, size, addr_mask, where) < 0) return -1;
    }
    return 0;
}

int vx_ept_identity(const vx_physmem *mem, uint64_t eptp, uint64_t size,
                    unsigned maxphyaddr, uint64_t *where)
{
    uint64_t addr_mask = ((1ull << maxphyaddr) - 1) & ~0xFFFull;
    *where = 0;
    if (((eptp >> 3) & 7) != 3) return -1; /* 4-level walks only */
    return walk(mem, eptp & addr_mask, 4, 0, size, addr_mask, where);
}
