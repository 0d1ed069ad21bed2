/*
 * cpustate.c - the processor's hidden state: segment-descriptor caches
 * (SDM Vol. 3A 3.4.3) and the mode they imply, loaded and read by the
 * model wherever the architecture loads them itself: event delivery,
 * VM entry (guest state, SDM Vol. 3C 27.3.2.2), VM exit (host state,
 * 28.5.2) and the machine's start states.
 *
 * Unicorn 2.0.1 in 64-bit mode stores a CS or SS written through
 * uc_reg_write as a selector only (qemu/target/i386/unicorn.c, reg_write,
 * UC_MODE_64): the cached base, limit and attributes stay, and with them
 * QEMU's hidden flags (hflags), which decide the CPL, the code and stack
 * sizes, 64-bit versus compatibility mode and whether segment bases are
 * added.  So the model writes the caches and the flags itself into a
 * saved Unicorn context (a copy of QEMU's CPUX86State) and restores it.
 *
 * Where the caches and hflags are in that copy is found once, by
 * experiment on a scratch engine (an IRETQ from CPL 0 to CPL 3 changes
 * exactly those), and checked: a MOV from CR0 must fault at the CPL 3
 * state and run after the model's load of a CPL 0 code segment.  The
 * hflags bits and the SegmentCache layout {u32 selector; u64 base; u32
 * limit; u32 flags = descriptor bits 63:32} are QEMU's (target/i386/cpu.h;
 * the flags are recomputed the way cpu_x86_load_seg_cache,
 * cpu_x86_update_cr0/cr4 and cpu_load_efer set them).  QEMU keeps LDTR
 * and TR in the two caches that follow the six segment registers.
 */
#include <string.h>

#include "machine.h"

/* QEMU hflags bits (target/i386/cpu.h). */
enum {
    HF_CPL = 3u, HF_CS32 = 1u << 4, HF_SS32 = 1u << 5, HF_ADDSEG = 1u << 6,
    HF_PE = 1u << 7, HF_MP = 1u << 9, HF_EM = 1u << 10, HF_TS = 1u << 11,
    HF_LMA = 1u << 14, HF_CS64 = 1u << 15, HF_OSFXSR = 1u << 22,
    HF_SMAP = 1u << 23,
};
/* The bits this file decides; the others (SMM, SVM, inhibit-IRQ, ...)
 * are left as they are. */
#define HF_MODE (HF_CPL | HF_CS32 | HF_SS32 | HF_ADDSEG | HF_PE | HF_MP | HF_EM | \
                 HF_TS | HF_LMA | HF_CS64 | HF_OSFXSR | HF_SMAP)

enum { SEGCACHE_SIZE = 24, SC_BASE = 8, SC_LIMIT = 16, SC_FLAGS = 20 };
#define DESC_P (1u << 15)
#define DESC_L (1u << 21)
#define DESC_B (1u << 22)

static struct {
    int state;   /* 0 not probed, 1 found, -1 not found */
    int hflags;  /* offset of hflags in a saved context */
    int segs;    /* offset of segs[0] (ES) */
    int efer;    /* offset of efer */
} layout;

static uint32_t ctx_u32(const uc_context *c, int off)
{
    uint32_t v;
    memcpy(&v, (const char *)c + off, 4);
    return v;
}

static uint64_t ctx_u64(const uc_context *c, int off)
{
    uint64_t v;
    memcpy(&v, (const char *)c + off, 8);
    return v;
}

static void ctx_set_u32(uc_context *c, int off, uint32_t v) { memcpy((char *)c + off, &v, 4); }
static void ctx_set_u64(uc_context *c, int off, uint64_t v) { memcpy((char *)c + off, &v, 8); }

/* VMX access rights (SDM Vol. 3C Table 25-2: type 3:0, S 4, DPL 6:5,
 * P 7, AVL 12, L 13, D/B 14, G 15, unusable 16) <-> descriptor bits
 * 63:32 as QEMU caches them (type 11:8, S 12, DPL 14:13, P 15, AVL 20,
 * L 21, D/B 22, G 23).  An unusable segment is cached not present. */
static uint32_t ar_to_flags(uint32_t ar)
{
    if (ar & VX_AR_UNUSABLE) return (ar & 0xF0FFu) << 8 & ~DESC_P;
    return (ar & 0xF0FFu) << 8;
}

static uint32_t flags_to_ar(uint32_t flags)
{
    uint32_t ar = (flags >> 8) & 0xF0FFu;
    return (flags & DESC_P) ? ar : ar | VX_AR_UNUSABLE;
}

static void ctx_put_seg(uc_context *c, int seg, const vx_seg *s)
{
    int off = layout.segs + seg * SEGCACHE_SIZE;
    ctx_set_u32(c, off, s->sel);
    ctx_set_u64(c, off + SC_BASE, s->base);
    ctx_set_u32(c, off + SC_LIMIT, s->limit);
    ctx_set_u32(c, off + SC_FLAGS, ar_to_flags(s->ar));
}

static void ctx_get_seg(const uc_context *c, int seg, vx_seg *s)
{
    int off = layout.segs + seg * SEGCACHE_SIZE;
    s->sel = (uint16_t)ctx_u32(c, off);
    s->base = ctx_u64(c, off + SC_BASE);
    s->limit = ctx_u32(c, off + SC_LIMIT);
    s->ar = flags_to_ar(ctx_u32(c, off + SC_FLAGS));
}

/* The mode flags that follow from the caches and CR0, CR4, EFER and
 * RFLAGS, as QEMU computes them.  The CPL is SS.DPL (SDM Vol. 3C
 * 27.3.2.2 loads it that way on VM entry; QEMU derives it from SS on
 * every SS load); in virtual-8086 mode it is 3. */
static uint32_t mode_flags(const uc_context *c, uint64_t cr0, uint64_t cr4, uint64_t efer,
                           uint64_t rflags)
{
    int cs = layout.segs + VX_SEG_CS * SEGCACHE_SIZE;
    int ss = layout.segs + VX_SEG_SS * SEGCACHE_SIZE;
    uint32_t csf = ctx_u32(c, cs + SC_FLAGS), ssf = ctx_u32(c, ss + SC_FLAGS);
    uint32_t hf = 0;
    int v86 = (rflags >> 17) & 1;
    hf |= v86 ? 3u : (ssf >> 13) & 3u;
    if (cr0 & 1) hf |= HF_PE;
    hf |= (uint32_t)(cr0 & 0xE) << 8;           /* MP, EM, TS */
    if (efer & (1u << 10)) hf |= HF_LMA;
    if (cr4 & (1u << 9)) hf |= HF_OSFXSR;
    if (cr4 & (1u << 21)) hf |= HF_SMAP;
    if ((hf & HF_LMA) && (csf & DESC_L)) {
        hf |= HF_CS32 | HF_SS32 | HF_CS64;
        return hf;                              /* no segment bases added */
    }
    if (csf & DESC_B) hf |= HF_CS32;
    if (ssf & DESC_B) hf |= HF_SS32;
    if (!(cr0 & 1) || v86 || !(hf & HF_CS32)) {
        hf |= HF_ADDSEG;
    } else {
        uint64_t b = 0;
        for (int s = VX_SEG_ES; s <= VX_SEG_DS; s++)
            if (s != VX_SEG_CS) b |= ctx_u64(c, layout.segs + s * SEGCACHE_SIZE + SC_BASE);
        if (b) hf |= HF_ADDSEG;
    }
    return hf;
}

static void probe_intr(uc_engine *uc, uint32_t intno, void *user)
{
    *(int *)user = (int)intno;
    uc_emu_stop(uc);
}

/* Find the layout on a scratch engine (no paging, flat descriptors). */
static int probe_layout(void)
{
    static const uint64_t gdt[5] = {
        0, 0x00AF9B000000FFFFull, 0x00CF93000000FFFFull, /* 0x08, 0x10: DPL 0 */
        0x00AFFB000000FFFFull, 0x00CFF3000000FFFFull,   /* 0x18, 0x20: DPL 3 */
    };
    static const uint64_t frame[5] = {0x2000, 0x1B, 0x2, 0x9800, 0x23};
    static const uint8_t iretq[] = {0x48, 0xCF}, movcr0[] = {0x0F, 0x20, 0xC0, 0xF4};
    uc_engine *uc = NULL;
    uc_context *c0 = NULL, *c3 = NULL;
    uc_hook h;
    int vector = -1, ok = -1;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc)) return -1;
    uc_x86_mmr gdtr = {.base = 0x8000, .limit = sizeof gdt - 1};
    uc_x86_mmr tr = {.selector = 0x28, .base = 0x123456789000ull, .limit = 0x67, .flags = 0x8B00};
    uint64_t rsp = 0x9000;
    if (uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL) ||
        uc_mem_write(uc, 0x8000, gdt, sizeof gdt) || uc_mem_write(uc, 0x9000, frame, sizeof frame) ||
        uc_mem_write(uc, 0x1000, iretq, sizeof iretq) ||
        uc_mem_write(uc, 0x2000, movcr0, sizeof movcr0) ||
        uc_mem_write(uc, 0x3000, movcr0, sizeof movcr0) ||
        uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) || uc_reg_write(uc, UC_X86_REG_RSP, &rsp) ||
        uc_reg_write(uc, UC_X86_REG_TR, &tr) ||
        uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)probe_intr, &vector, 1, 0) ||
        uc_context_alloc(uc, &c0) || uc_context_alloc(uc, &c3) || uc_context_save(uc, c0))
        goto out;
    /* IRETQ to CPL 3 and run up to the MOV from CR0 there. */
    if (uc_emu_start(uc, 0x1000, 0x2000, 0, 0) || vector >= 0 || uc_context_save(uc, c3))
        goto out;
    int n = (int)uc_context_size(uc), cs = -1, hf = -1;
    for (int off = 0; off + 2 * SEGCACHE_SIZE + 4 <= n; off += 4) {
        if (ctx_u32(c3, off) == 0x1B && ctx_u32(c3, off + SC_FLAGS) == (uint32_t)(gdt[3] >> 32) &&
            ctx_u32(c3, off + SEGCACHE_SIZE) == 0x23 &&
            ctx_u32(c3, off + SEGCACHE_SIZE + SC_FLAGS) == (uint32_t)(gdt[4] >> 32)) {
            if (cs >= 0) goto out; /* ambiguous */
            cs = off;
        }
    }
    if (cs < SEGCACHE_SIZE || cs + 7 * SEGCACHE_SIZE > n) goto out;
    for (int off = 0; off + 4 <= cs - SEGCACHE_SIZE; off += 4) {
        uint32_t a = ctx_u32(c0, off), b = ctx_u32(c3, off);
        if ((a & 3) == 0 && (b & 3) == 3 && !((a ^ b) & ~3u) && (b & HF_LMA) && (b & HF_CS64)) {
            if (hf >= 0) goto out;
            hf = off;
        }
    }
    if (hf < 0) goto out;
    layout.segs = cs - SEGCACHE_SIZE;
    layout.hflags = hf;
    /* TR follows LDTR after the six segment registers. */
    int tro = layout.segs + VX_SEG_TR * SEGCACHE_SIZE;
    if (ctx_u32(c3, tro) != 0x28 || ctx_u64(c3, tro + SC_BASE) != tr.base ||
        ctx_u32(c3, tro + SC_LIMIT) != 0x67)
        goto out;
    /* EFER: WRMSR cannot change LMA (QEMU's helper_wrmsr keeps it, as
     * the processor does), and Unicorn's CR0 write does not update it
     * either, so the model writes it in the context: found as the one
     * word that follows a WRMSR clearing LME (Unicorn's processor has no
     * SYSCALL, so SCE is not writable there). */
    {
        uc_x86_msr efer = {VX_MSR_EFER, 0};
        uc_context *ca = c0;
        if (uc_reg_read(uc, UC_X86_REG_MSR, &efer) || uc_context_save(uc, ca)) goto out;
        uint64_t before = efer.value;
        efer.value &= ~(uint64_t)EFER_LME;
        if (uc_reg_write(uc, UC_X86_REG_MSR, &efer) || uc_context_save(uc, c3)) goto out;
        int eo = -1;
        for (int off = 0; off + 8 <= n; off += 4)
            if (ctx_u64(ca, off) == before && ctx_u64(c3, off) == (before & ~(uint64_t)EFER_LME)) {
                if (eo >= 0) goto out;
                eo = off;
            }
        if (eo < 0) goto out;
        layout.efer = eo;
        efer.value = before;
        if (uc_reg_write(uc, UC_X86_REG_MSR, &efer) || uc_context_save(uc, c3)) goto out;
    }
    /* Check: at CPL 3, MOV from CR0 is #GP; after loading the CPL 0 code
     * segment and a null SS the model's way, it runs. */
    vector = -1;
    uc_emu_start(uc, 0x2000, 0x2003, 0, 0);
    if (vector != VX_GP) goto out;
    vx_seg code = {0x08, 0, 0xFFFFFFFF, 0xA09B}, nul = {0, 0, 0, VX_AR_UNUSABLE};
    ctx_put_seg(c3, VX_SEG_CS, &code);
    ctx_put_seg(c3, VX_SEG_SS, &nul);
    uint32_t h3 = ctx_u32(c3, layout.hflags);
    ctx_set_u32(c3, layout.hflags, (h3 & ~HF_MODE) | mode_flags(c3, 0x80000011, 0, 0x500, 2));
    vector = -1;
    if (uc_context_restore(uc, c3) || uc_emu_start(uc, 0x3000, 0x3003, 0, 0) || vector >= 0)
        goto out;
    ok = 0;
out:
    if (c0) uc_context_free(c0);
    if (c3) uc_context_free(c3);
    uc_close(uc);
    return ok;
}

static int need_layout(vmxsim *m)
{
    if (layout.state == 0) layout.state = probe_layout() == 0 ? 1 : -1;
    if (layout.state < 0) {
        vx_set_error(m, "cannot locate Unicorn's segment caches (unsupported Unicorn build)");
        return -1;
    }
    return 0;
}

int vx_get_segs(vmxsim *m, vx_seg s[VX_NSEGS])
{
    if (need_layout(m) < 0 || uc_context_save(m->uc, m->ctx)) return -1;
    for (int i = 0; i < VX_NSEGS; i++) ctx_get_seg(m->ctx, i, &s[i]);
    return 0;
}

/* Load the selected caches (and EFER if efer is not NULL) into the
 * engine and recompute its mode flags. */
static int load_state(vmxsim *m, const vx_seg s[VX_NSEGS], unsigned which, const uint64_t *efer)
{
    if (need_layout(m) < 0 || uc_context_save(m->uc, m->ctx)) return -1;
    for (int i = 0; i < VX_NSEGS; i++)
        if (which >> i & 1) ctx_put_seg(m->ctx, i, &s[i]);
    if (efer) m->arch_efer = *efer;
    /* The engine's EFER is derived from the program's (mmu.c); the mode
     * flags follow the program's registers. */
    uint64_t ecr0, ecr4, eefer;
    vx_mmu_engine_regs(m, &ecr0, &ecr4, &eefer);
    ctx_set_u64(m->ctx, layout.efer, eefer);
    uint32_t hf = ctx_u32(m->ctx, layout.hflags) & ~HF_MODE;
    hf |= mode_flags(m->ctx, vx_reg(m, UC_X86_REG_CR0), vx_reg(m, UC_X86_REG_CR4),
                     m->arch_efer, vx_reg(m, UC_X86_REG_EFLAGS));
    ctx_set_u32(m->ctx, layout.hflags, hf);
    return uc_context_restore(m->uc, m->ctx) ? -1 : 0;
}

uint64_t vx_cs_base(vmxsim *m)
{
    if (need_layout(m) < 0 || uc_context_save(m->uc, m->ctx)) return 0;
    return ctx_u64(m->ctx, layout.segs + VX_SEG_CS * SEGCACHE_SIZE + SC_BASE);
}

int vx_set_segs(vmxsim *m, const vx_seg s[VX_NSEGS], unsigned which)
{
    return load_state(m, s, which, NULL);
}

int vx_set_seg(vmxsim *m, int seg, const vx_seg *s)
{
    vx_seg all[VX_NSEGS] = {0};
    all[seg] = *s;
    return load_state(m, all, 1u << seg, NULL);
}

int vx_sync_mode(vmxsim *m)
{
    return load_state(m, NULL, 0, NULL);
}

int vx_set_efer(vmxsim *m, uint64_t efer)
{
    return load_state(m, NULL, 0, &efer);
}

int vx_set_efer_segs(vmxsim *m, uint64_t efer, const vx_seg s[VX_NSEGS], unsigned which)
{
    return load_state(m, s, which, &efer);
}

