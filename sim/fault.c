/*
 * fault.c - delivering exceptions and software interrupts through the
 * program's IDT, as the processor does (SDM Vol. 3A 6.12 for protected
 * mode, 6.14 for IA-32e mode, 21.1.4 for real mode), with the double-
 * fault rules of 6.15 (Table 6-5) and shutdown on a triple fault.
 *
 * Unicorn raises exceptions but never delivers them; the model raises
 * its own (#UD, #GP, ... from the instructions it executes).  Both end up
 * here.  Privilege changes and the IST take their stack from the 64-bit
 * TSS that TR names.  Not modelled, and reported as such: task gates, and
 * 32-bit delivery with a privilege change.
 */
#include <string.h>

#include "machine.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_AC (1ull << 18)

static const char *const vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
    "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC",
    "#SX", "#31",
};

const char *vx_vector_name(int v)
{
    return v >= 0 && v < 32 ? vec_names[v] : "INTR";
}

vx_action vx_raise(vmxsim *m, int vector, int has_err, uint32_t err)
{
    m->pend_vector = vector;
    m->pend_has_err = has_err;
    m->pend_err = err;
    m->pend_engine = 0;
    m->pend_soft = 0;
    m->pend_rip = m->insn ? m->insn->addr : vx_reg(m, UC_X86_REG_RIP);
    return VX_FAULT;
}

/* Fault-class exceptions (SDM Vol. 3A Table 6-1), except #DB: the
 * RFLAGS image pushed for them has RF set, so that the handler's IRET
 * does not take an instruction breakpoint again on the restarted
 * instruction (SDM Vol. 3A 18.3.1.1: "For any fault-class exception
 * except a debug exception generated in response to an instruction
 * breakpoint, the value pushed for RF is 1"; Bochs exception.cc sets RF
 * the same way).  #DB is left out whole: the model has no instruction
 * breakpoints, and its other #DB conditions are traps. */
static int sets_rf(int v)
{
    return v == VX_DE || v == VX_BR || v == VX_UD || v == VX_NM || v == VX_TS ||
           v == VX_NP || v == VX_SS || v == VX_GP || v == VX_PF || v == VX_MF ||
           v == VX_AC || v == VX_XM || v == 20 || v == 21;
}

/* ---- loading CS and SS the way event delivery does ----
 *
 * Delivery loads CS (and, with a privilege change, SS) with the cached
 * base, limit and attributes of the new segment, which also sets the CPL
 * and the code size (SDM Vol. 3A 3.4.3, 6.14.4).  Unicorn 2.0.1 in 64-bit
 * mode stores a CS or SS written through uc_reg_write as a selector only
 * (qemu/target/i386/unicorn.c, reg_write, UC_MODE_64): the cached
 * attributes stay, and with them the CPL (QEMU's CPL is the DPL of the
 * cached SS) and 64-bit versus compatibility mode.  A #GP at CPL 3 was
 * then handled at CPL 3 (whose first privileged instruction faulted
 * again, forever), and a #UD in compatibility mode was handled by 64-bit
 * code run as 32-bit code.
 *
 * So the model writes the caches itself into a saved Unicorn context
 * (a copy of QEMU's CPUX86State) and restores it.  Where the segment
 * caches and QEMU's hidden flags (hflags) are in that copy is found once,
 * by experiment on a scratch engine (an IRETQ from CPL 0 to CPL 3 changes
 * exactly those), and checked: a MOV from CR0 must fault at the CPL 3
 * state and run after the model's load of a CPL 0 code segment.  The
 * hflags bits and the SegmentCache layout {u32 selector; u64 base; u32
 * limit; u32 flags = descriptor bits 63:32} are QEMU's (target/i386/cpu.h,
 * cpu_x86_load_seg_cache, whose updates load_cs_ss mirrors). */
enum { HF_CPL = 3u, HF_CS32 = 1u << 4, HF_SS32 = 1u << 5, HF_ADDSEG = 1u << 6,
       HF_LMA = 1u << 14, HF_CS64 = 1u << 15 };
enum { SEGCACHE_SIZE = 24, SC_BASE = 8, SC_LIMIT = 16, SC_FLAGS = 20 };
enum { SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3 };
#define DESC_L (1u << 21)
#define DESC_B (1u << 22)

static struct {
    int state;   /* 0 not probed, 1 found, -1 not found */
    int hflags;  /* offset of hflags in a saved context */
    int segs;    /* offset of segs[0] (ES) */
} layout;

static uint32_t ctx_u32(const uc_context *c, int off)
{
    uint32_t v;
    memcpy(&v, (const char *)c + off, 4);
    return v;
}

static void ctx_set_u32(uc_context *c, int off, uint32_t v)
{
    memcpy((char *)c + off, &v, 4);
}

static void ctx_set_u64(uc_context *c, int off, uint64_t v)
{
    memcpy((char *)c + off, &v, 8);
}

static void probe_intr(uc_engine *uc, uint32_t intno, void *user)
{
    *(int *)user = (int)intno;
    uc_emu_stop(uc);
}

/* Segment caches and hflags of a context; see above. */
static void ctx_load_seg(uc_context *c, int seg, uint16_t sel, uint64_t base,
                         uint32_t limit, uint32_t flags)
{
    int off = layout.segs + seg * SEGCACHE_SIZE;
    ctx_set_u32(c, off, sel);
    ctx_set_u64(c, off + SC_BASE, base);
    ctx_set_u32(c, off + SC_LIMIT, limit);
    ctx_set_u32(c, off + SC_FLAGS, flags);
}

static void ctx_update_hflags(uc_context *c, int cs_loaded, int ss_loaded, uint64_t cr0,
                              uint64_t rflags)
{
    uint32_t hf = ctx_u32(c, layout.hflags);
    uint32_t csf = ctx_u32(c, layout.segs + SEG_CS * SEGCACHE_SIZE + SC_FLAGS);
    uint32_t ssf = ctx_u32(c, layout.segs + SEG_SS * SEGCACHE_SIZE + SC_FLAGS);
    if (cs_loaded) {
        if ((hf & HF_LMA) && (csf & DESC_L))
            hf = (hf | HF_CS32 | HF_SS32 | HF_CS64) & ~(uint32_t)HF_ADDSEG;
        else
            hf = (hf & ~(uint32_t)(HF_CS32 | HF_CS64)) | ((csf & DESC_B) ? HF_CS32 : 0);
    }
    if (ss_loaded) hf = (hf & ~(uint32_t)HF_CPL) | ((ssf >> 13) & 3);
    uint32_t nf = (ssf & DESC_B) ? HF_SS32 : 0;
    if (hf & HF_CS64) {
        nf |= hf & HF_ADDSEG;
    } else if (!(cr0 & 1) || (rflags & RFLAGS_VM) || !(hf & HF_CS32)) {
        nf |= HF_ADDSEG;
    } else {
        uint64_t b = 0, v;
        for (int s = SEG_ES; s <= SEG_DS; s++) {
            if (s == SEG_CS) continue;
            memcpy(&v, (const char *)c + layout.segs + s * SEGCACHE_SIZE + SC_BASE, 8);
            b |= v;
        }
        if (b) nf |= HF_ADDSEG;
    }
    hf = (hf & ~(uint32_t)(HF_SS32 | HF_ADDSEG)) | nf;
    ctx_set_u32(c, layout.hflags, hf);
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
    uint64_t rsp = 0x9000;
    if (uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL) ||
        uc_mem_write(uc, 0x8000, gdt, sizeof gdt) || uc_mem_write(uc, 0x9000, frame, sizeof frame) ||
        uc_mem_write(uc, 0x1000, iretq, sizeof iretq) ||
        uc_mem_write(uc, 0x2000, movcr0, sizeof movcr0) ||
        uc_mem_write(uc, 0x3000, movcr0, sizeof movcr0) ||
        uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) || uc_reg_write(uc, UC_X86_REG_RSP, &rsp) ||
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
    if (cs < SEGCACHE_SIZE) goto out;
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
    /* Check: at CPL 3, MOV from CR0 is #GP; after loading the CPL 0 code
     * segment and a null SS the model's way, it runs. */
    vector = -1;
    uc_emu_start(uc, 0x2000, 0x2003, 0, 0);
    if (vector != VX_GP) goto out;
    ctx_load_seg(c3, SEG_CS, 0x08, 0, 0xFFFFFFFF, (uint32_t)(gdt[1] >> 32));
    ctx_load_seg(c3, SEG_SS, 0x00, 0, 0, 0);
    ctx_update_hflags(c3, 1, 1, 0x80000011, 2);
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

static uint64_t desc_base(uint64_t d)
{
    return ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000);
}

static uint32_t desc_limit(uint64_t d)
{
    uint32_t lim = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    return (d & (1ull << 55)) ? (lim << 12) | 0xFFF : lim;
}

/* Load CS from descriptor cs_desc and, if load_ss, SS with a null
 * selector (IA-32e privilege change: DPL = RPL = the new CPL, base and
 * limit 0, SDM Vol. 3A 6.14.4; QEMU's do_interrupt64 caches the same). */
static int load_cs_ss(vmxsim *m, uint16_t cs_sel, uint64_t cs_desc, int load_ss, uint16_t ss_sel)
{
    if (need_layout(m) < 0) return -1;
    vx_set_reg(m, UC_X86_REG_CS, cs_sel);
    if (load_ss) vx_set_reg(m, UC_X86_REG_SS, ss_sel);
    if (uc_context_save(m->uc, m->ctx)) return -1;
    ctx_load_seg(m->ctx, SEG_CS, cs_sel, desc_base(cs_desc), desc_limit(cs_desc),
                 (uint32_t)(cs_desc >> 32));
    if (load_ss) ctx_load_seg(m->ctx, SEG_SS, ss_sel, 0, 0, (uint32_t)(ss_sel & 3) << 13);
    ctx_update_hflags(m->ctx, 1, load_ss, vx_reg(m, UC_X86_REG_CR0),
                      vx_reg(m, UC_X86_REG_EFLAGS));
    return uc_context_restore(m->uc, m->ctx) ? -1 : 0;
}

/* Real-address mode: CS base = selector * 16 (the limit and attributes
 * stay, as QEMU's do_interrupt_real leaves them). */
static int load_cs_real(vmxsim *m, uint16_t sel)
{
    if (need_layout(m) < 0) return -1;
    vx_set_reg(m, UC_X86_REG_CS, sel);
    if (uc_context_save(m->uc, m->ctx)) return -1;
    ctx_set_u32(m->ctx, layout.segs + SEG_CS * SEGCACHE_SIZE, sel);
    ctx_set_u64(m->ctx, layout.segs + SEG_CS * SEGCACHE_SIZE + SC_BASE, (uint64_t)sel << 4);
    return uc_context_restore(m->uc, m->ctx) ? -1 : 0;
}

/* Exception classes for double faults (Table 6-4). */
static int contributory(int v)
{
    return v == VX_DE || v == VX_TS || v == VX_NP || v == VX_SS || v == VX_GP;
}

/* A fault that happened while delivering: the caller decides (6.15). */
typedef struct nested {
    int vector;
    uint32_t err;
} nested;

static int fail(nested *n, int vector, uint32_t err)
{
    n->vector = vector;
    n->err = err;
    return -1;
}

/* The error code of a fault about IDT entry `vector` (6.13): index,
 * IDT flag, EXT for events not caused by INT n/INT3/INTO. */
static uint32_t idt_err(int vector, int soft)
{
    return ((uint32_t)vector << 3) | 2u | (soft ? 0u : 1u);
}

static int push(vmxsim *m, uint64_t *sp, uint64_t v, unsigned size, uint64_t ss_base,
                nested *n)
{
    *sp -= size;
    uint64_t la = ss_base + *sp;
    if (size == 4) la &= 0xFFFFFFFFull;
    if (size == 2) la = (ss_base + (*sp & 0xFFFF)) & 0xFFFFF;
    if (vx_linear_write(m, la, &v, size) < 0) {
        /* The write raised #PF through vx_raise: turn it into a nested
         * fault of the delivery. */
        int vec = m->pend_vector;
        uint32_t err = m->pend_err;
        m->pend_vector = -1;
        if (vec == VX_PF) vx_set_reg(m, UC_X86_REG_CR2, m->pend_cr2);
        return fail(n, vec, err);
    }
    return 0;
}

static uint64_t read_desc(vmxsim *m, uint16_t sel, int *ok)
{
    uc_x86_mmr gdtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
    uint64_t d = 0;
    *ok = !(sel & 4) && (sel | 7u) <= gdtr.limit && (sel & ~3u);
    if (*ok && vx_linear_read(m, gdtr.base + (sel & ~7u), &d, 8) < 0) {
        m->pend_vector = -1;
        *ok = 0;
    }
    return d;
}

static int deliver_real(vmxsim *m, int vector, uint64_t rip, nested *n)
{
    uc_x86_mmr idtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_IDTR, &idtr);
    if ((uint32_t)vector * 4 + 3 > idtr.limit) return fail(n, VX_GP, 0);
    uint32_t ivt = vx_phys_read32(m, idtr.base + (uint64_t)vector * 4);
    uint64_t flags = vx_reg(m, UC_X86_REG_EFLAGS);
    uint64_t sp = vx_reg(m, UC_X86_REG_RSP) & 0xFFFF;
    uint64_t ss = vx_reg(m, UC_X86_REG_SS) << 4;
    if (push(m, &sp, flags & 0xFFFF, 2, ss, n) ||
        push(m, &sp, vx_reg(m, UC_X86_REG_CS), 2, ss, n) ||
        push(m, &sp, rip & 0xFFFF, 2, ss, n))
        return -1;
    vx_set_reg(m, UC_X86_REG_RSP, (vx_reg(m, UC_X86_REG_RSP) & ~0xFFFFull) | sp);
    vx_set_reg(m, UC_X86_REG_EFLAGS, flags & ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC));
    vx_set_reg(m, UC_X86_REG_RIP, ivt & 0xFFFF);
    if (load_cs_real(m, (uint16_t)(ivt >> 16)) < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return -1;
    }
    return 0;
}

/* Protected mode and IA-32e mode through an interrupt or trap gate. */
static int deliver_gate(vmxsim *m, int vector, int has_err, uint32_t err,
                        uint64_t rip, int soft, nested *n)
{
    int ia32e = vx_in_long_mode(m);
    unsigned gsize = ia32e ? 16 : 8;
    uc_x86_mmr idtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_IDTR, &idtr);
    uint32_t ierr = idt_err(vector, soft);
    if ((uint64_t)vector * gsize + gsize - 1 > idtr.limit) return fail(n, VX_GP, ierr);
    uint64_t g[2] = {0, 0};
    if (vx_linear_read(m, idtr.base + (uint64_t)vector * gsize, g, gsize) < 0) {
        int vec = m->pend_vector;
        uint32_t e = m->pend_err;
        m->pend_vector = -1;
        if (vec == VX_PF) vx_set_reg(m, UC_X86_REG_CR2, m->pend_cr2);
        return fail(n, vec, e);
    }
    unsigned type = (g[0] >> 40) & 0xF, dpl = (g[0] >> 45) & 3, present = (g[0] >> 47) & 1;
    int cpl = vx_cpl(m);
    if (type == 5 && !ia32e) {
        vx_not_modelled(m, "delivery through a task gate (vector %d)", vector);
        return -1;
    }
    int gate32 = type == 0xE || type == 0xF, gate16 = !ia32e && (type == 6 || type == 7);
    if (!gate32 && !gate16) return fail(n, VX_GP, ierr);
    if (soft && (int)dpl < cpl) return fail(n, VX_GP, ierr);
    if (!present) return fail(n, VX_NP, ierr);
    uint16_t sel = (uint16_t)(g[0] >> 16);
    uint64_t target = (g[0] & 0xFFFF) | ((g[0] >> 32) & 0xFFFF0000ull);
    if (ia32e) target |= g[1] << 32;
    if (gate16) target &= 0xFFFF;
    int ok;
    uint64_t cd = read_desc(m, sel, &ok);
    uint32_t serr = (sel & 0xFFFC) | (soft ? 0u : 1u);
    if (!ok || !((cd >> 43) & 1) || !((cd >> 44) & 1)) return fail(n, VX_GP, serr);
    unsigned cdpl = (cd >> 45) & 3;
    if ((int)cdpl > cpl) return fail(n, VX_GP, serr);
    if (!((cd >> 47) & 1)) return fail(n, VX_NP, serr);
    if (ia32e && !((cd >> 53) & 1)) return fail(n, VX_GP, serr); /* must be 64-bit code */
    int conforming = (cd >> 42) & 1;
    int newcpl = (!conforming && (int)cdpl < cpl) ? (int)cdpl : cpl;
    unsigned ist = ia32e ? (unsigned)((g[0] >> 32) & 7) : 0;
    if (newcpl != cpl && !ia32e) {
        vx_not_modelled(m, "32-bit interrupt delivery with a privilege change (vector %d)",
                        vector);
        return -1;
    }
    uint64_t flags = vx_reg(m, UC_X86_REG_EFLAGS);
    uint64_t pushed_flags = (!soft && sets_rf(vector)) ? flags | RFLAGS_RF : flags;
    uint64_t cs = vx_reg(m, UC_X86_REG_CS);
    uint64_t sp = vx_reg(m, UC_X86_REG_RSP);
    uint64_t ss = vx_reg(m, UC_X86_REG_SS);
    int switch_stack = ia32e && (newcpl != cpl || ist);
    if (ia32e) {
        uint64_t old_sp = sp;
        if (switch_stack) {
            /* The new stack comes from the 64-bit TSS: RSPn for a
             * privilege change, or IST[ist] (6.14.4, 6.14.5). */
            uc_x86_mmr tr = {0};
            uc_reg_read(m->uc, UC_X86_REG_TR, &tr);
            uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * (uint32_t)newcpl;
            if (!(tr.selector & ~3u) || off + 7 > tr.limit)
                return fail(n, VX_TS, (tr.selector & 0xFFFC) | (soft ? 0u : 1u));
            if (vx_linear_read(m, tr.base + off, &sp, 8) < 0) {
                int vec = m->pend_vector;
                uint32_t e = m->pend_err;
                m->pend_vector = -1;
                return fail(n, vec, e);
            }
            if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp) return fail(n, VX_SS, 0);
        }
        /* 64-bit frame: SS, RSP, RFLAGS, CS, RIP, error code; RSP aligned
         * to 16 first (6.14.2). */
        sp &= ~0xFull;
        if (push(m, &sp, ss, 8, 0, n) || push(m, &sp, old_sp, 8, 0, n) ||
            push(m, &sp, pushed_flags, 8, 0, n) || push(m, &sp, cs, 8, 0, n) ||
            push(m, &sp, rip, 8, 0, n) || (has_err && push(m, &sp, err, 8, 0, n)))
            return -1;
    } else {
        unsigned w = gate32 ? 4 : 2;
        uint64_t ssb, d;
        int okss;
        d = read_desc(m, (uint16_t)vx_reg(m, UC_X86_REG_SS), &okss);
        ssb = okss ? (((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000)) : 0;
        int big = okss && ((d >> 54) & 1);
        uint64_t s = big ? sp & 0xFFFFFFFF : sp & 0xFFFF;
        if (push(m, &s, pushed_flags, w, ssb, n) || push(m, &s, cs, w, ssb, n) ||
            push(m, &s, rip, w, ssb, n) || (has_err && push(m, &s, err, w, ssb, n)))
            return -1;
        sp = big ? s : ((sp & ~0xFFFFull) | (s & 0xFFFF));
    }
    flags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xE || type == 6) flags &= ~RFLAGS_IF; /* interrupt gate */
    vx_set_reg(m, UC_X86_REG_RSP, sp);
    vx_set_reg(m, UC_X86_REG_EFLAGS, flags);
    vx_set_reg(m, UC_X86_REG_RIP, target);
    /* A privilege change in IA-32e mode loads SS with a null selector
     * whose RPL is the new CPL (6.14.4). */
    if (load_cs_ss(m, (uint16_t)((sel & ~3u) | (unsigned)newcpl), cd, newcpl != cpl,
                   (uint16_t)newcpl) < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return -1;
    }
    return 0;
}

static void trace_exception(vmxsim *m, int vector, int has_err, uint32_t err,
                            int escalated_from)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_FAULT)) return;
    json_t *ev = vx_ev_new(m, "exception");
    json_object_set_new(ev, "vector", json_integer(vector));
    json_object_set_new(ev, "name", json_string(vx_vector_name(vector)));
    if (has_err) json_object_set_new(ev, "error_code", vx_json_hex(err));
    json_object_set_new(ev, "source", json_string(m->pend_engine ? "engine" : "model"));
    if (escalated_from >= 0)
        json_object_set_new(ev, "escalated_from", json_integer(escalated_from));
    vx_ev_emit(m, VMXSIM_EV_FAULT, ev);
}

static int has_error_code(int v)
{
    return v == VX_DF || v == VX_TS || v == VX_NP || v == VX_SS ||
           v == VX_GP || v == VX_PF || v == VX_AC || v == 21;
}

void vx_deliver_pending(vmxsim *m)
{
    int vector = m->pend_vector, has_err = m->pend_has_err, soft = m->pend_soft;
    uint32_t err = m->pend_err;
    uint64_t rip = m->pend_rip;
    m->pend_vector = -1;
    if (m->pend_engine) {
        uint32_t e = vx_engine_take_exception(m);
        if (has_err) err = e;
    } else if (vector == VX_PF) {
        vx_set_reg(m, UC_X86_REG_CR2, m->pend_cr2);
    }
    vx_set_reg(m, UC_X86_REG_RIP, rip);
    int from = -1;
    for (;;) {
        trace_exception(m, vector, has_err, err, from);
        nested n = {-1, 0};
        int pe = vx_reg(m, UC_X86_REG_CR0) & 1;
        if ((pe ? deliver_gate(m, vector, has_err, err, rip, soft, &n)
                : deliver_real(m, vector, rip, &n)) == 0)
            break;
        if (m->end != VMXSIM_END_NONE) break; /* not modelled */
        if (vector == VX_DF) {
            vx_triple_fault(m, "fault while delivering a double fault");
            break;
        }
        /* Table 6-5: benign then anything -> serial; contributory then
         * contributory, or page fault then page fault or contributory ->
         * double fault. */
        int df = (contributory(vector) && contributory(n.vector)) ||
                 (vector == VX_PF && (n.vector == VX_PF || contributory(n.vector)));
        from = vector;
        m->pend_engine = 0;
        if (df) {
            vector = VX_DF;
            err = 0;
        } else {
            vector = n.vector;
            err = n.err;
        }
        has_err = has_error_code(vector);
        soft = 0;
    }
}

void vx_triple_fault(vmxsim *m, const char *why)
{
    if (vx_ev_wanted(m, VMXSIM_EV_FAULT)) {
        json_t *ev = vx_ev_new(m, "triple_fault");
        json_object_set_new(ev, "reason", json_string(why));
        json_t *regs = json_object();
        static const struct { const char *name; int id; } r[] = {
            {"rax", UC_X86_REG_RAX}, {"rbx", UC_X86_REG_RBX}, {"rcx", UC_X86_REG_RCX},
            {"rdx", UC_X86_REG_RDX}, {"rsi", UC_X86_REG_RSI}, {"rdi", UC_X86_REG_RDI},
            {"rsp", UC_X86_REG_RSP}, {"rbp", UC_X86_REG_RBP}, {"rip", UC_X86_REG_RIP},
            {"rflags", UC_X86_REG_EFLAGS}, {"cr0", UC_X86_REG_CR0},
            {"cr2", UC_X86_REG_CR2}, {"cr3", UC_X86_REG_CR3}, {"cr4", UC_X86_REG_CR4},
            {"cs", UC_X86_REG_CS}, {"ss", UC_X86_REG_SS},
        };
        for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
            json_object_set_new(regs, r[i].name, vx_json_hex(vx_reg(m, r[i].id)));
        json_object_set_new(ev, "registers", regs);
        vx_ev_emit(m, VMXSIM_EV_FAULT, ev);
    }
    vx_end_run(m, VMXSIM_END_TRIPLE_FAULT, VMXSIM_STATUS_TRIPLE_FAULT, "triple fault: %s", why);
}
