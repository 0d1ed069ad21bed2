/*
 * linear.c - memory operands of the instructions the model executes:
 * effective address and segmentation (SDM Vol. 3A 3.4, 5.3; 64-bit mode
 * Vol. 1 3.3.7), then translation through the program's paging structures
 * through the model's TLB and walker (xlate.c, ept/), since Unicorn's
 * translation is forced to identity (../shared/notes/unicorn-2.0.1.md).
 */
#include <string.h>

#include "machine.h"

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

vx_action vx_raise_xlate(vmxsim *m, const vx_xlate *x, uint64_t la)
{
    if (x->status == VX_XL_PF) {
        vx_raise(m, VX_PF, 1, x->pfec);
        m->pend_cr2 = la;
    } else {
        /* An EPT violation or misconfiguration: a VM exit, not an
         * exception (SDM Vol. 3C 29.3.3); delivered as a pseudo-vector so
         * that a fault during event delivery records the event. */
        vx_raise(m, VX_VEC_EPT, 0, 0);
        m->pend_xl = *x;
        m->pend_cr2 = la;
    }
    return VX_FAULT;
}

int vx_linear_to_phys_acc(vmxsim *m, uint64_t la, unsigned acc, uint64_t *pa)
{
    /* A user-mode access is an explicit one at CPL 3 (SDM Vol. 3A 4.6). */
    if (!(acc & VX_ACC_IMPLICIT) && vx_cpl(m) == 3) acc |= VX_ACC_U;
    if (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_AC) acc |= VX_ACC_AC;
    vx_xlate x;
    if (vx_mmu_translate(m, la, acc, &x) == VX_XL_OK) {
        *pa = x.hpa;
        return 0;
    }
    vx_raise_xlate(m, &x, la);
    return -1;
}

int vx_linear_to_phys(vmxsim *m, uint64_t la, int write, uint64_t *pa)
{
    return vx_linear_to_phys_acc(m, la, write ? VX_ACC_W : 0, pa);
}

static int linear_access_acc(vmxsim *m, uint64_t la, void *buf, size_t len, unsigned acc)
{
    uint8_t *p = buf;
    while (len) {
        size_t chunk = 4096 - (la & 0xFFF);
        if (chunk > len) chunk = len;
        uint64_t pa;
        if (vx_linear_to_phys_acc(m, la, acc, &pa) < 0) return -1;
        if (acc & VX_ACC_W) vx_phys_write(m, pa, p, chunk);
        else vx_phys_read(m, pa, p, chunk);
        la += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

int vx_linear_read_sys(vmxsim *m, uint64_t la, void *buf, size_t len)
{
    return linear_access_acc(m, la, buf, len, VX_ACC_IMPLICIT);
}

static int linear_access(vmxsim *m, uint64_t la, void *buf, size_t len, int write)
{
    return linear_access_acc(m, la, buf, len, write ? VX_ACC_W : 0);
}

int vx_linear_read(vmxsim *m, uint64_t la, void *buf, size_t len)
{
    /* Check every page before touching any (no partial reads matter, but
     * writes must not be half done): translate first, then copy. */
    return linear_access(m, la, buf, len, 0);
}

int vx_linear_write(vmxsim *m, uint64_t la, const void *buf, size_t len)
{
    /* Probe all pages for write permission first, so a fault on the
     * second page leaves the first one unchanged. */
    uint64_t pa;
    for (uint64_t a = la & ~0xFFFull; a < la + len; a += 4096)
        if (vx_linear_to_phys(m, a < la ? la : a, 1, &pa) < 0) return -1;
    return linear_access(m, la, (void *)buf, len, 1);
}

static const int seg_regs[6] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                                UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};

/* Base and limit of a segment outside 64-bit mode, from the descriptor
 * the selector names (the start states and multiboot use flat
 * descriptors loaded from the GDT, so the cache equals the descriptor). */
static void segment_cache(vmxsim *m, int seg, uint64_t *base, uint64_t *limit)
{
    uint16_t sel = (uint16_t)vx_reg(m, seg_regs[seg]);
    if (!(vx_reg(m, UC_X86_REG_CR0) & 1) ||
        (vx_reg(m, UC_X86_REG_EFLAGS) & (1u << 17))) {
        *base = (uint64_t)sel << 4; /* real and virtual-8086 mode */
        *limit = 0xFFFF;
        return;
    }
    uc_x86_mmr gdtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
    uint64_t d = 0;
    if (!(sel & 4) && (sel | 7u) <= gdtr.limit)
        vx_phys_read(m, gdtr.base + (sel & ~7u), &d, 8);
    *base = ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000);
    uint64_t lim = (d & 0xFFFF) | ((d >> 32) & 0xF0000);
    if (d & (1ull << 55)) lim = (lim << 12) | 0xFFF; /* granularity */
    *limit = lim;
}

static int canonical48(uint64_t la)
{
    return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

int vx_operand_address(vmxsim *m, const vx_insn *in, const vx_operand *o,
                       unsigned len, int write, uint64_t *la)
{
    (void)write;
    uint64_t ea = (uint64_t)o->disp;
    if (o->base == VX_BASE_RIP) ea += in->addr + in->len;
    else if (o->base >= 0) ea += vx_gpr(m, o->base);
    if (o->index >= 0) ea += vx_gpr(m, o->index) * (uint64_t)o->scale;
    if (in->addr_size == 32) ea &= 0xFFFFFFFFull;
    else if (in->addr_size == 16) ea &= 0xFFFF;
    int fault_vec = o->seg == SEG_SS ? VX_SS : VX_GP;
    if (in->mode == 64) {
        /* 64-bit mode: only FS and GS have a base; the address must be
         * canonical, else #SS(0) for SS references and #GP(0) otherwise. */
        if (o->seg == SEG_FS) ea += vx_msr_get(m, VX_MSR_FS_BASE);
        else if (o->seg == SEG_GS) ea += vx_msr_get(m, VX_MSR_GS_BASE);
        if (!canonical48(ea) || !canonical48(ea + len - 1)) {
            vx_raise(m, fault_vec, 1, 0);
            return -1;
        }
        *la = ea;
        return 0;
    }
    uint64_t base, limit;
    segment_cache(m, o->seg, &base, &limit);
    if (ea + len - 1 > limit) {
        vx_raise(m, fault_vec, 1, 0);
        return -1;
    }
    *la = (base + ea) & 0xFFFFFFFFull;
    return 0;
}
