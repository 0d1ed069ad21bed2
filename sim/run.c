/*
 * run.c - the run loop: Unicorn executes ordinary code at full speed,
 * and the model takes control exactly at the instructions it owns.
 *
 * How control is taken (costs from ../shared/notes/unicorn-2.0.1.md):
 *  - One UC_HOOK_BLOCK over all code.  The first time a block is seen it
 *    is decoded once with capstone (decoder/), its instruction count is
 *    cached for instruction counting, and every model-owned instruction
 *    in it gets a single-address UC_HOOK_CODE ("site"); then the block's
 *    stale translation is dropped and it is re-entered, so the hooks are
 *    compiled into it.  A block hook costs ~20% of raw speed; a
 *    per-instruction hook would cost 17x.
 *  - A site's hook executes the instruction in the model and either
 *    writes RIP past it (Unicorn resumes there, ~60 ns) or stops the
 *    engine (never both: a RIP write inside a hook cancels uc_emu_stop).
 *  - UC_HOOK_INSN_INVALID catches VMX opcodes that reach Unicorn
 *    unhooked (fallback) and genuinely undefined opcodes (#UD).
 *  - UC_HOOK_INTR receives the exceptions Unicorn raises; the model
 *    delivers them through the IDT (Unicorn does not).
 *  - Emulation runs in Unicorn's "exits" mode with no exit address (or
 *    only the instruction-budget stop): a plain `until` address costs
 *    more per start and makes Unicorn probe that address through the
 *    program's page tables, which clobbers CR2 when it is unmapped.
 * Instructions are counted per block at block entry and corrected when a
 * block is left early by a site or a fault.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine.h"
#include "x86.h"

#define NBUCKETS 4096u
#define MAX_BLOCK_INSNS 1024

static double host_seconds(void)
{
    /* Only for the wall-clock limit: never feeds the model or the trace. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void vx_end_run(vmxsim *m, vmxsim_end why, int status, const char *fmt, ...)
{
    if (m->end != VMXSIM_END_NONE) return; /* the first reason wins */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->end_msg, sizeof m->end_msg, fmt, ap);
    va_end(ap);
    m->end = why;
    m->exit_status = status;
}

void vx_not_modelled(vmxsim *m, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (vx_ev_wanted(m, VMXSIM_EV_END)) {
        json_t *ev = vx_ev_new(m, "not_modelled");
        json_object_set_new(ev, "what", json_string(what));
        vx_ev_emit(m, VMXSIM_EV_END, ev);
    }
    vx_end_run(m, VMXSIM_END_NOT_MODELLED, VMXSIM_STATUS_NOT_MODELLED, "not modelled: %s", what);
}

void vx_flush_code(vmxsim *m, uint64_t lo, uint64_t hi)
{
    if (!m->flush_pending) {
        m->flush_lo = lo;
        m->flush_hi = hi;
    } else {
        if (lo < m->flush_lo) m->flush_lo = lo;
        if (hi > m->flush_hi) m->flush_hi = hi;
    }
    m->flush_pending = 1;
}

void vx_flush_all(vmxsim *m)
{
    m->flush_all = 1;
}

/* ---- decoded-block cache ---- */

static unsigned bucket(uint64_t addr)
{
    return (unsigned)((addr * 0x9E3779B97F4A7C15ull) >> 52) & (NBUCKETS - 1);
}

/* Code bytes at a linear address, as the engine sees them (mmu.c). */
static void read_code(vmxsim *m, uint64_t addr, uint8_t *buf, size_t len)
{
    vx_mmu_peek(m, addr, buf, len);
}

static int block_current(vmxsim *m, const vx_block *b, uint32_t size)
{
    if (b->size != size) return 0;
    const uint8_t *h = vx_mmu_host(m, b->addr);
    if (h && (b->addr & 0xFFF) + size <= 4096) return memcmp(b->bytes, h, size) == 0;
    uint8_t buf[4096 * 2];
    if (size > sizeof buf) return 0;
    read_code(m, b->addr, buf, size);
    return memcmp(b->bytes, buf, size) == 0;
}

#define DM_SIZE 65536u

static unsigned dm_index(uint64_t addr)
{
    return (unsigned)(addr ^ (addr >> 13)) & (DM_SIZE - 1);
}

static void block_free(vmxsim *m, vx_block *b)
{
    if (m->dm && m->dm[dm_index(b->addr)] == b) m->dm[dm_index(b->addr)] = NULL;
    if (m->cur_block == b) m->cur_block = NULL;
    free(b->offs);
    free(b->cyc_off);
    free(b->bytes);
    free(b);
}

/* Protect the host pages a block was decoded from (mmu.c): then it needs
 * no checking when it runs.  Returns 1 if the engine must stop first. */
static int block_protect(vmxsim *m, vx_block *b)
{
    uint64_t first = vx_mmu_backing(m, b->addr);
    uint64_t last = vx_mmu_backing(m, b->addr + (b->size ? b->size - 1 : 0));
    b->hpage[0] = first == UINT64_MAX ? UINT64_MAX : first >> 12;
    b->hpage[1] = last == UINT64_MAX ? UINT64_MAX : last >> 12;
    b->prot = 0;
    if (first == UINT64_MAX || last == UINT64_MAX) return 0;
    int r0 = vx_mmu_protect_code(m, first), r1 = vx_mmu_protect_code(m, last);
    b->prot = r0 >= 0 && r1 >= 0;
    return r0 == 1 || r1 == 1;
}

void vx_code_written(vmxsim *m, uint64_t pa)
{
    uint64_t p = pa >> 12;
    for (unsigned i = 0; i < m->nbuckets; i++)
        for (vx_block *b = m->blocks[i]; b; b = b->next)
            if (b->prot && (b->hpage[0] == p || b->hpage[1] == p)) {
                /* Checked byte by byte from now on, and decoded again if
                 * the write changed it (block_lookup). */
                b->prot = 0;
            }
}

static vx_block *block_decode(vmxsim *m, uint64_t addr, uint32_t size)
{
    vx_block *b = calloc(1, sizeof *b);
    uint16_t offs[MAX_BLOCK_INSNS];
    uint8_t ops[MAX_BLOCK_INSNS];
    if (!b) return NULL;
    b->addr = addr;
    b->size = size;
    b->bytes = malloc(size ? size : 1);
    if (!b->bytes) { free(b); return NULL; }
    read_code(m, addr, b->bytes, size);
    b->mode = (uint8_t)vx_code_mode(m);
    uint8_t cls[MAX_BLOCK_INSNS], mem[MAX_BLOCK_INSNS];
    int n = vx_decode_block_costs(m->dec, b->mode, b->bytes, size, addr, offs, ops, cls, mem,
                                  MAX_BLOCK_INSNS);
    b->ninsns = (uint16_t)n;
    b->offs = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
    b->cyc_off = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    if (!b->offs || !b->cyc_off) { block_free(m, b); return NULL; }
    memcpy(b->offs, offs, sizeof(uint16_t) * (size_t)n);
    vx_cyc_block(m, b, cls, mem);
    /* Instructions the model owns only in VMX non-root operation get
     * their sites in root operation too (on_site lets them run there), so
     * that decoded blocks and the engine's translations survive VM
     * transitions. */
    for (int i = 0; i < n; i++)
        if (ops[i] != VX_OP_NONE) b->has_sites = 1;
    if (n > 0)
        b->ends_mov_ss = (uint8_t)vx_is_mov_ss(b->bytes + offs[n - 1],
                                               size - offs[n - 1], b->mode);
    b->mov_ss_end = b->ends_mov_ss ? addr + size : 0;
    /* Remember the sites' addresses by hooking them now. */
    for (int i = 0; i < n && b->has_sites; i++) {
        if (ops[i] == VX_OP_NONE) continue;
        if (vx_site_add(m, addr + offs[i]) < 0) { block_free(m, b); return NULL; }
    }
    return b;
}

static vx_block *block_lookup(vmxsim *m, uint64_t addr, uint32_t size, int *fresh)
{
    unsigned h = bucket(addr);
    vx_block **pp = &m->blocks[h];
    *fresh = 0;
    for (vx_block *b = *pp; b; pp = &b->next, b = b->next) {
        if (b->addr != addr) continue;
        if (b->prot && b->size == size) return b;
        if (block_current(m, b, size)) {
            /* Unchanged although its page was written (data next to
             * code): protect it again. */
            if (!b->prot && block_protect(m, b)) *fresh = 3;
            return b;
        }
        /* Rewritten (possibly through another linear alias of the same
         * page, which the engine does not notice) or re-cut: decode it
         * again, and have the engine translate it again. */
        if (b->size == size) *fresh = 2;
        *pp = b->next;
        block_free(m, b);
        break;
    }
    vx_block *b = block_decode(m, addr, size);
    if (!b) return NULL;
    b->next = m->blocks[h];
    m->blocks[h] = b;
    if (block_protect(m, b) && !*fresh) *fresh = 3;
    if (!*fresh) *fresh = 1;
    return b;
}

/* Index of the instruction at addr in block b (its offset in offs[]). */
static int block_index(const vx_block *b, uint64_t addr)
{
    if (!b || addr < b->addr) return -1;
    uint64_t off = addr - b->addr;
    int lo = 0, hi = b->ninsns - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (b->offs[mid] == off) return mid;
        if (b->offs[mid] < off) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Instructions retired before the one at addr in the current block.
 * Entering a block charged all of it, and nothing changes icount or
 * cycles while the block runs (finish() below, which sets them, leaves
 * no current block), so what the instructions from addr on were charged
 * comes off. */
static uint64_t icount_at(vmxsim *m, uint64_t addr)
{
    const vx_block *b = m->cur_block;
    int i = block_index(b, addr);
    return i < 0 ? m->icount : m->icount - (uint64_t)(b->ninsns - i);
}

/* Cycles spent before the instruction at addr in the current block. */
static uint64_t cycles_at(vmxsim *m, uint64_t addr)
{
    const vx_block *b = m->cur_block;
    int i = block_index(b, addr);
    return i < 0 ? m->cycles : m->cycles - (b->cyc - b->cyc_off[i]);
}

/* The engine left the current block before the instruction at addr
 * retired: take back what entering the block charged for it and the
 * rest. */
static void back_to(vmxsim *m, uint64_t addr)
{
    uint64_t c = cycles_at(m, addr);
    m->icount = icount_at(m, addr);
    m->cycles = c;
}

/* ---- hooks ---- */

static void stop_engine(vmxsim *m)
{
    uc_emu_stop(m->uc);
}

/* The RIP of the instruction at linear address addr: hooks see linear
 * addresses (CS base + RIP), and the engine restarts at a RIP.  The two
 * differ only when CS has a base, as real-mode guests do; in 64-bit mode
 * the base is 0. */
static uint64_t rip_of(vmxsim *m, uint64_t addr, int mode)
{
    return mode == 64 ? addr : addr - vx_cs_base(m);
}

/* The instruction count up to which on_block may take its fast path:
 * the budget, and the next look at the wall clock (every 2^22
 * instructions, when there is a limit). */
#define WALL_CHECK_INSNS (1ull << 22)

static void update_fast_limit(vmxsim *m)
{
    uint64_t lim = m->max_insns ? m->max_insns : UINT64_MAX;
    if (m->wall_limit > 0 && m->wall_next < lim) lim = m->wall_next;
    m->fast_limit = lim;
    /* The VMX-preemption timer: blocks that end before it expires. */
    m->cyc_limit = (m->timer_armed && m->vmx_nonroot) ? m->timer_deadline : UINT64_MAX;
    if (m->setup_run) m->fast_limit = 0;
}

/* Stop the engine before instruction k of block b (at addr): an exit
 * address there, the block translated again to contain it (vx_run_loop
 * sets it). */
static void stop_before(vmxsim *m, uint64_t addr, const vx_block *b, int k, int timer)
{
    m->budget_until = addr + b->offs[k];
    m->stop_for_timer = timer;
    vx_flush_code(m, addr, addr + b->size);
    m->resume_rip = rip_of(m, addr, b->mode);
    m->restart = 1;
    m->cur_block = NULL;
    stop_engine(m);
}

/* Everything but the common case: a block not seen here before, or not
 * protected, or the budget or the wall clock due. */
static __attribute__((noinline)) void on_block_slow(vmxsim *m, uint64_t addr, uint32_t size,
                                                    vx_block *prev)
{
    if (!size || m->setup_run) return;
    /* Was the last instruction retired a MOV SS / POP SS (events are
     * then blocked for this block's first instruction, SDM Vol. 3C
     * 25.4.2)?  Decided from the block just left; when the engine was
     * restarted in between (cur_block NULL), from what was decided before
     * the restart, which is still right only if the run goes on exactly
     * here: a block is restarted at its own start after being armed or
     * cut for the instruction budget. */
    if (prev) m->prev_mov_ss_end = prev->mov_ss_end;
    else if (m->prev_mov_ss_end != addr) m->prev_mov_ss_end = 0;
    /* The block seen last at this address, trusted as it is when its
     * pages are protected (mmu.c: a write to them would have unset prot). */
    vx_block *b = m->dm[dm_index(addr)];
    if (!(b && b->addr == addr && b->size == size && (b->prot || block_current(m, b, size)))) {
        int fresh;
        b = block_lookup(m, addr, size, &fresh);
        if (!b) {
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "out of memory decoding code");
            stop_engine(m);
            return;
        }
        m->dm[dm_index(addr)] = b;
        if (fresh == 3) {
            /* Protecting its page needs the shadow rebuilt: stop, and
             * come back to this block. */
            m->resume_rip = rip_of(m, addr, b->mode);
            m->restart = 1;
            m->cur_block = NULL;
            stop_engine(m);
            return;
        }
        if (fresh == 2 || (b->has_sites && !b->armed)) {
            /* The translation Unicorn is about to run was made before the
             * sites were hooked: drop it and come back. */
            b->armed = 1;
            vx_flush_code(m, addr, addr + size);
            m->resume_rip = rip_of(m, addr, b->mode);
            m->restart = 1;
            m->cur_block = NULL;
            stop_engine(m);
            return;
        }
    }
    /* The VMX-preemption timer expires at the first instruction
     * boundary where the cycle count has reached its deadline (25.5.1):
     * the VM exit comes before that instruction. */
    if (m->timer_armed && m->vmx_nonroot && m->cycles + b->cyc >= m->timer_deadline) {
        int k = 0;
        while (k < b->ninsns && m->cycles + b->cyc_off[k] < m->timer_deadline) k++;
        if (k == 0) {
            m->timer_due = 1;
            m->resume_rip = rip_of(m, addr, b->mode);
            m->restart = 1;
            m->cur_block = NULL;
            stop_engine(m);
            return;
        }
        if (k < b->ninsns && !(m->budget_until && m->stop_for_timer)) {
            stop_before(m, addr, b, k, 1);
            return;
        }
    }
    if (m->max_insns && m->icount + b->ninsns > m->max_insns) {
        uint64_t k = m->max_insns - m->icount;
        if (k == 0 || (m->budget_until && !m->stop_for_timer)) {
            vx_end_run(m, VMXSIM_END_MAX_INSNS, VMXSIM_STATUS_LIMIT,
                       "instruction budget of %llu used up",
                       (unsigned long long)m->max_insns);
            stop_engine(m);
            return;
        }
        /* Stop exactly after k more instructions: run to the address of
         * the (k+1)-th instruction of this block (an exit of the engine,
         * see vx_run_loop), retranslating the block so that it has the
         * exit in it. */
        stop_before(m, addr, b, (int)k, 0);
        return;
    }
    m->cur_block = b;
    m->icount += b->ninsns;
    m->cycles += b->cyc;
    if (m->wall_limit > 0 && m->icount >= m->wall_next) {
        m->wall_next = m->icount + WALL_CHECK_INSNS;
        update_fast_limit(m);
        if (host_seconds() - m->wall_start >= m->wall_limit) {
            m->icount -= b->ninsns;
            vx_end_run(m, VMXSIM_END_WALL_LIMIT, VMXSIM_STATUS_LIMIT,
                       "wall-clock limit of %g s reached", m->wall_limit);
            stop_engine(m);
        }
    }
}

/* Every translated block, as the engine enters it (UC_HOOK_BLOCK): count
 * its instructions and charge its cycles.  The common case stays short,
 * three stores: a block seen here before whose pages are protected,
 * entered from one that did not end with MOV SS (the slow path keeps
 * track of those, and its answer for this case would be "none", which
 * prev_mov_ss_end already says). */
static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc;
    vmxsim *m = user;
    vx_block *prev = m->cur_block, *b = m->dm[dm_index(addr)];
    /* Kept out of line (noinline above, expect here): the fast path then
     * needs no saved registers and no stack frame. */
    if (__builtin_expect(b && b->addr == addr && b->size == size && b->prot &&
                         m->icount + b->ninsns <= m->fast_limit &&
                         m->cycles + b->cyc < m->cyc_limit && !m->prev_mov_ss_end &&
                         !(prev && prev->mov_ss_end), 1)) {
        m->cur_block = b;
        m->icount += b->ninsns;
        m->cycles += b->cyc;
        return;
    }
    on_block_slow(m, addr, size, prev);
}

/* Execute one model-owned instruction; returns its action. */
static vx_action dispatch(vmxsim *m, const vx_insn *in)
{
    vx_action act;
    if (m->vmx_nonroot && vx_nonroot_insn(m, in, &act)) return act;
    if (vx_op_nonroot_only(in->op)) return VX_NATIVE; /* no exit: run it */
    switch (in->op) {
    case VX_OP_VMXON: case VX_OP_VMXOFF: case VX_OP_VMCLEAR:
    case VX_OP_VMPTRLD: case VX_OP_VMPTRST: case VX_OP_VMREAD:
    case VX_OP_VMWRITE: case VX_OP_VMLAUNCH: case VX_OP_VMRESUME:
    case VX_OP_VMCALL: case VX_OP_VMFUNC: case VX_OP_INVEPT:
    case VX_OP_INVVPID:
        return vx_exec_vmx(m, in);
    default:
        return vx_exec_insn(m, in);
    }
}

/* Make sure the site's decoded instruction matches the bytes in memory. */
static const vx_insn *site_insn(vmxsim *m, vx_site *s)
{
    uint8_t cur[15];
    read_code(m, s->addr, cur, sizeof cur);
    if (s->insn.len && memcmp(cur, s->insn.bytes, s->insn.len) == 0 &&
        s->insn.mode == (m->cur_block ? m->cur_block->mode : s->insn.mode))
        return &s->insn;
    int mode = m->cur_block ? m->cur_block->mode : vx_code_mode(m);
    if (vx_decode(m->dec, mode, cur, sizeof cur, s->addr, &s->insn) < 0)
        s->insn.op = VX_OP_NONE;
    return &s->insn;
}

/* RFLAGS.RF is cleared when an instruction completes (SDM Vol. 3A
 * 18.3.1.1), which Unicorn never does (measured): the model clears it
 * after the model-owned instructions it completes, and before a start
 * whose first instruction is an ordinary one, which will complete or
 * fault (a fault pushes RF = 1 anyway; the model has no instruction
 * breakpoints for RF to suppress).  A VM exit caused by that first
 * instruction (a site) sees RF as it was. */
static void clear_rf(vmxsim *m)
{
    uint64_t f = vx_reg(m, UC_X86_REG_EFLAGS);
    if (f & RFLAGS_RF) vx_set_reg(m, UC_X86_REG_EFLAGS, f & ~RFLAGS_RF);
}

static void clear_rf_before_start(vmxsim *m, uint64_t rip)
{
    uint64_t f = vx_reg(m, UC_X86_REG_EFLAGS);
    if (!(f & RFLAGS_RF)) return;
    int mode = vx_code_mode(m);
    uint8_t code[15];
    vx_insn in;
    size_t n = vx_mmu_peek(m, mode == 64 ? rip : rip + vx_cs_base(m), code, sizeof code);
    if (n && vx_decode(m->dec, mode, code, n, rip, &in) == 0 && in.op != VX_OP_NONE &&
        (m->vmx_nonroot || !vx_op_nonroot_only(in.op)))
        return;
    vx_set_reg(m, UC_X86_REG_EFLAGS, f & ~RFLAGS_RF);
}

/* Carry out a handler's action from inside a hook.  Returns 1 if RIP was
 * written (the engine continues), 0 if the engine was stopped. */
static int finish(vmxsim *m, const vx_insn *in, vx_action act, uint64_t icnt)
{
    m->insn = NULL;
    /* icount and cycles are set below from the instruction's place: the
     * block's charge is settled, and the engine goes on (if it does) in
     * another block, so none is current (icount_at). */
    m->cur_block = NULL;
    /* Cycles: those before the instruction, what it charged while it ran
     * (walks, time in a state), and, if it completed here, its own cost
     * (cycles.c); a VM transition's cost comes with the transition. */
    m->cycles = m->insn_cycles + m->cyc_pending;
    m->cyc_pending = 0;
    if (act == VX_STOP || act == VX_NEXT || act == VX_JUMP) m->cycles += vx_cyc_op(m, in->op);
    switch (act) {
    case VX_FAULT:
        m->icount = icnt;
        stop_engine(m);
        return 0;
    case VX_STOP:
        m->icount = icnt + 1;
        if (!m->restart) m->resume_rip = m->insn_eip + in->len;
        m->restart = 1;
        stop_engine(m);
        return 0;
    case VX_TRANSITION:
        /* Stop at the instruction; the run loop carries out the VM entry
         * or exit with the engine stopped. */
        m->icount = icnt + 1;
        m->resume_rip = m->insn_eip;
        m->restart = 1;
        stop_engine(m);
        return 0;
    case VX_NATIVE: /* dispatch never returns it to here */
    case VX_NEXT:
    case VX_JUMP: {
        uint64_t next = act == VX_JUMP ? m->resume_rip : m->insn_eip + in->len;
        m->icount = icnt + 1;
        clear_rf(m); /* the instruction completed (Vol. 3A 18.3.1.1) */
        if (m->event_hit || m->end != VMXSIM_END_NONE || m->flush_pending ||
            m->flush_all || m->mmu.flush_all || m->mmu.flush_nonglobal || ((m->mtf_armed || m->window_wait) && m->vmx_nonroot)) {
            m->resume_rip = next;
            m->restart = 1;
            stop_engine(m);
            return 0;
        }
        vx_set_reg(m, UC_X86_REG_RIP, next);
        return 1;
    }
    }
    return 0;
}

static void on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc;
    (void)size;
    vx_site *s = user;
    vmxsim *m = s->m;
    if (m->setup_run) return;
    if (m->end != VMXSIM_END_NONE) { stop_engine(m); return; }
    const vx_insn *in = site_insn(m, s);
    if (in->op == VX_OP_NONE) return; /* rewritten into an ordinary one */
    if (!m->vmx_nonroot && vx_op_nonroot_only(in->op)) return;
    uint64_t icnt = icount_at(m, addr);
    m->insn = in;
    m->insn_icount = icnt;
    m->insn_cycles = cycles_at(m, addr);
    m->cyc_pending = 0;
    m->insn_eip = rip_of(m, addr, in->mode);
    vx_action act = dispatch(m, in);
    if (act == VX_NATIVE) {
        /* Run by the engine: the block's charge for it stands. */
        m->insn = NULL;
        m->cyc_pending = 0;
        return;
    }
    finish(m, in, act, icnt);
}

/* Is this instruction, which the decoder accepts but the engine cannot
 * run, undefined (#UD) on the profile's processor anyway?  0F C7 /6 and
 * /7 with a register operand are RDRAND and RDSEED, sharing their
 * opcode with the memory forms of VMXON, VMCLEAR, VMPTRLD and VMPTRST
 * (whose register forms the SDM lists as #UD).  They are #UD with an F2H
 * or F3H prefix (SDM Vol. 2B RDRAND, RDSEED: "#UD ... If the F2H or F3H
 * prefix is used"; so F3 0F C7 /6 with a register operand, VMXON's, is
 * #UD) and when CPUID does not report them (CPUID.01H:ECX.RDRAND[30],
 * CPUID.(EAX=07H,ECX=0):EBX.RDSEED[18]). */
static int undefined_here(vmxsim *m, const vx_insn *in)
{
    size_t i = 0;
    int rep = 0;
    while (i < in->len && (in->bytes[i] == 0x66 || in->bytes[i] == 0x67 ||
                           in->bytes[i] == 0xF0 || in->bytes[i] == 0xF2 ||
                           in->bytes[i] == 0xF3 || in->bytes[i] == 0x26 ||
                           in->bytes[i] == 0x2E || in->bytes[i] == 0x36 ||
                           in->bytes[i] == 0x3E || in->bytes[i] == 0x64 ||
                           in->bytes[i] == 0x65)) {
        if (in->bytes[i] == 0xF2 || in->bytes[i] == 0xF3) rep = 1;
        i++;
    }
    if (in->mode == 64 && i < in->len && (in->bytes[i] & 0xF0) == 0x40) i++;
    if (i + 2 >= in->len || in->bytes[i] != 0x0F || in->bytes[i + 1] != 0xC7 ||
        (in->bytes[i + 2] >> 6) != 3)
        return 0;
    unsigned reg = (in->bytes[i + 2] >> 3) & 7;
    if (reg != 6 && reg != 7) return 0;
    if (rep) return 1;
    uint32_t r[4];
    if (reg == 6) {
        vx_profile_cpuid(&m->prof, 1, 0, r);
        return !((r[2] >> 30) & 1);
    }
    vx_profile_cpuid(&m->prof, 7, 0, r);
    return !((r[1] >> 18) & 1);
}

static bool on_invalid(uc_engine *uc, void *user)
{
    (void)uc;
    vmxsim *m = user;
    if (m->setup_run) return false;
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    uint8_t code[15];
    vx_insn in;
    read_code(m, rip, code, sizeof code);
    int mode = m->cur_block ? m->cur_block->mode : vx_code_mode(m);
    uint64_t icnt = icount_at(m, rip);
    vx_action act = VX_NATIVE;
    if (vx_decode(m->dec, mode, code, sizeof code, rip, &in) == 0 &&
        in.op != VX_OP_NONE && (m->vmx_nonroot || !vx_op_nonroot_only(in.op))) {
        /* A model-owned instruction that reached Unicorn without its hook:
         * run it here, and hook it for next time. */
        vx_site_add(m, rip);
        vx_flush_code(m, rip, rip + in.len);
        m->insn = &in;
        m->insn_icount = icnt;
        m->insn_cycles = cycles_at(m, rip);
        m->cyc_pending = 0;
        m->insn_eip = rip;
        act = dispatch(m, &in);
        m->insn = NULL;
        m->cycles = m->insn_cycles + m->cyc_pending;
        m->cyc_pending = 0;
        if (act == VX_STOP || act == VX_NEXT || act == VX_JUMP) m->cycles += vx_cyc_op(m, in.op);
    }
    if (act != VX_NATIVE) {
        if (act == VX_FAULT) {
            m->icount = icnt;
        } else {
            m->icount = icnt + 1;
            if (!(act == VX_STOP && m->restart))
                m->resume_rip = act == VX_JUMP ? m->resume_rip
                              : act == VX_TRANSITION ? rip : rip + in.len;
            m->restart = 1;
        }
        stop_engine(m);
        return true;
    }
    back_to(m, rip);
    m->insn = NULL;
    if (vx_decode(m->dec, mode, code, sizeof code, rip, &in) == 0 &&
        strncmp(in.text, "ud", 2) != 0 && !undefined_here(m, &in)) {
        /* A valid instruction the engine cannot execute: saying #UD would
         * be a wrong answer for the profile's processor. */
        vx_not_modelled(m, "instruction '%s' at 0x%llx is not supported by the execution engine",
                        in.text, (unsigned long long)rip);
        stop_engine(m);
        return true;
    }
    vx_raise(m, VX_UD, 0, 0);
    m->pend_rip = rip;
    stop_engine(m);
    return true;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
    vmxsim *m = user;
    if (m->setup_run) { uc_emu_stop(uc); return; }
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    back_to(m, rip);
    vx_engine_exception(m, (int)intno);
    stop_engine(m);
}

/* ---- sites ---- */

int vx_site_add(vmxsim *m, uint64_t addr)
{
    for (vx_site *s = m->sites; s; s = s->next)
        if (s->addr == addr) return 0;
    vx_site *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->addr = addr;
    s->m = m;
    if (uc_hook_add(m->uc, &s->hook, UC_HOOK_CODE, (void *)on_site, s, addr,
                    addr) != UC_ERR_OK) {
        free(s);
        return -1;
    }
    s->next = m->sites;
    m->sites = s;
    return 0;
}

/* ---- setup ---- */

/* Unicorn looks the address up among its regions before its MMU walks
 * the (shadow) page tables: a linear address in a chunk without a window
 * is "unmapped" to it.  Give the chunk its window and let the access
 * retry; the shadow tables then decide (mmu.c). */
static bool on_unmapped(uc_engine *uc, uc_mem_type t, uint64_t a, int size, int64_t v, void *user)
{
    (void)uc; (void)t; (void)size; (void)v;
    vmxsim *m = user;
    if (m->setup_run) return false;
    return vx_mmu_window(m, a) == 0;
}

int vx_run_init(vmxsim *m)
{
    m->blocks = calloc(NBUCKETS, sizeof *m->blocks);
    m->dm = calloc(DM_SIZE, sizeof *m->dm);
    m->nbuckets = NBUCKETS;
    if (!m->blocks || !m->dm) {
        vx_set_error(m, "out of memory");
        return -1;
    }
    if (uc_hook_add(m->uc, &m->h_block, UC_HOOK_BLOCK, (void *)on_block, m, 1, 0) ||
        uc_hook_add(m->uc, &m->h_invalid, UC_HOOK_INSN_INVALID, (void *)on_invalid,
                    m, 1, 0) ||
        uc_hook_add(m->uc, &m->h_intr, UC_HOOK_INTR, (void *)on_intr, m, 1, 0) ||
        uc_hook_add(m->uc, &m->h_mem_unmapped, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, m,
                    1, 0)) {
        vx_set_error(m, "cannot install engine hooks");
        return -1;
    }
    if (vx_engine_probe(m) < 0) return -1;
    vx_engine_probe_tlb(m);
    /* Exits mode, with no exit until the instruction budget needs one.
     * Unicorn's `until` argument is not used: at the end of every
     * uc_emu_start Unicorn invalidates the translation at until - 1, and
     * for that translates the address through the program's page
     * tables; with an address the program does not map (any fixed
     * "never reached" value) that walk faults inside Unicorn after the
     * run, leaves CR2 = until - 1 and a pending exception behind, and the
     * next run then loses its invalid-opcode reports (measured: a VMX
     * instruction that Unicorn cuts short after a restart was silently
     * skipped).  An empty exit set is never translated. */
    if (uc_ctl_exits_enable(m->uc) || uc_ctl_set_exits(m->uc, NULL, 0)) {
        vx_set_error(m, "cannot configure the engine's exits");
        return -1;
    }
    return 0;
}

static void drop_blocks(vmxsim *m)
{
    for (unsigned i = 0; i < m->nbuckets; i++) {
        vx_block *b = m->blocks[i];
        while (b) {
            vx_block *n = b->next;
            block_free(m, b);
            b = n;
        }
        m->blocks[i] = NULL;
    }
    m->cur_block = NULL;
}

void vx_run_fini(vmxsim *m)
{
    if (m->blocks) {
        drop_blocks(m);
        free(m->blocks);
        m->blocks = NULL;
    }
    if (m->dm) {
        free(m->dm);
        m->dm = NULL;
    }
    vx_site *s = m->sites;
    while (s) {
        vx_site *n = s->next;
        free(s);
        s = n;
    }
    m->sites = NULL;
    if (m->ctx) uc_context_free(m->ctx);
    m->ctx = NULL;
}

static void engine_error(vmxsim *m, uc_err e)
{
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    switch (e) {
    case UC_ERR_READ_UNMAPPED: case UC_ERR_WRITE_UNMAPPED:
    case UC_ERR_FETCH_UNMAPPED:
        vx_not_modelled(m, "access above the physical-address width (%s) at RIP 0x%llx",
                        uc_strerror(e), (unsigned long long)rip);
        break;
    default:
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "engine error at RIP 0x%llx: %s",
                   (unsigned long long)rip, uc_strerror(e));
    }
}

/* Drop Unicorn's translations of [lo, hi).  Unicorn removes a range page
 * by page, and a range must not cross from one of the engine's regions
 * to the next (it is turned into an offset in the first region's RAM
 * block); its flush of everything (UC_CTL_TB_FLUSH) costs ~10 ms.  Every
 * translation Unicorn made was run, so its block was seen by on_block:
 * only the pages that hold decoded blocks are removed, in runs of
 * contiguous pages within one 1 GiB window (mmu.c).  (A range over the
 * span of all blocks took forever once code ran at both ends of the
 * address space.) */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void remove_run(vmxsim *m, uint64_t lo, uint64_t hi)
{
    /* Unicorn finds the translations by translating the start address
     * with the engine's MMU, and a page the shadow tables do not map
     * faults there, silently, leaving a #PF "in progress" that turns the
     * next real one into #DF.  The engine's address space is the linear
     * one (mmu.c), so it translates with paging off, then drops what
     * that put in its TLB. */
    uint64_t cr0 = 0, off;
    uc_reg_read(m->uc, UC_X86_REG_CR0, &cr0);
    off = cr0 & ~CR0_PG;
    uc_reg_write(m->uc, UC_X86_REG_CR0, &off);
    uc_ctl_remove_cache(m->uc, lo, hi);
    uc_reg_write(m->uc, UC_X86_REG_CR0, &cr0);
}

static void remove_translations(vmxsim *m, uint64_t lo, uint64_t hi)
{
    size_t n = 0, cap = 0;
    uint64_t *pages = NULL;
    for (unsigned i = 0; i < m->nbuckets; i++) {
        for (const vx_block *b = m->blocks[i]; b; b = b->next) {
            uint64_t end = b->addr + (b->size ? b->size : 1);
            if (end <= lo || b->addr >= hi) continue;
            for (uint64_t p = b->addr & ~0xFFFull; p < end; p += 4096) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    uint64_t *np = realloc(pages, nc * sizeof *np);
                    if (!np) { free(pages); vx_flush_engine_tlb(m); return; }
                    pages = np;
                    cap = nc;
                }
                pages[n++] = p;
            }
        }
    }
    if (!n) return;
    qsort(pages, n, sizeof *pages, cmp_u64);
    uint64_t run_lo = pages[0], run_hi = pages[0] + 4096;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && pages[i] <= run_hi && (pages[i] >> 30) == (run_lo >> 30)) {
            if (pages[i] + 4096 > run_hi) run_hi = pages[i] + 4096;
            continue;
        }
        remove_run(m, run_lo > lo ? run_lo : lo, run_hi < hi ? run_hi : hi);
        if (i < n) {
            run_lo = pages[i];
            run_hi = pages[i] + 4096;
        }
    }
    free(pages);
    vx_flush_engine_tlb(m);
}

/* Unicorn finds translated code to invalidate by translating its address
 * with the engine's MMU (uc_invalidate_tb).  Where the shadow tables do
 * not map it (mmu.c) that translation faults, silently: nothing is
 * reported, but the #PF stays "in progress" and turns the next real one
 * into #DF.  Two such invalidations happen inside uc_emu_start. */

/* After a run with an exit address (the instruction budget), Unicorn
 * invalidates the code before it: forget the fault that may leave, and
 * give the engine back the program's CR2. */
static void quiet_exit_invalidation(vmxsim *m)
{
    vx_engine_take_exception(m);
    uc_reg_write(m->uc, UC_X86_REG_CR2, &m->arch_cr2);
}

/* A start without an instruction count deletes the counting hook of the
 * last counted start, invalidating all code it was compiled into.  Let
 * that happen in a start that stops at once, with the engine's paging off
 * (its address space is the linear one, so the translation is right),
 * at an exit address in the shadow region where nothing executes. */
static void drop_count_hook(vmxsim *m, uint64_t rip)
{
    uint64_t cr0 = 0, off, stop = VX_SHADOW_BASE;
    uc_reg_read(m->uc, UC_X86_REG_CR0, &cr0);
    off = cr0 & ~CR0_PG;
    uc_reg_write(m->uc, UC_X86_REG_CR0, &off);
    m->setup_run = 1;
    m->fast_limit = 0; /* hooks idle: on_block's slow path returns */
    uc_ctl_set_exits(m->uc, &stop, 1);
    uc_emu_start(m->uc, stop, 0, 0, 0);
    if (m->budget_exit_set) uc_ctl_set_exits(m->uc, &m->budget_until, 1);
    else uc_ctl_set_exits(m->uc, NULL, 0);
    m->setup_run = 0;
    update_fast_limit(m);
    uc_reg_write(m->uc, UC_X86_REG_CR0, &cr0);
    vx_flush_engine_tlb(m);
    quiet_exit_invalidation(m);
    uc_reg_write(m->uc, UC_X86_REG_RIP, &rip);
}

void vx_run_loop(vmxsim *m)
{
    if (m->wall_limit > 0 && m->wall_start == 0) {
        m->wall_start = host_seconds();
        m->wall_next = m->icount + WALL_CHECK_INSNS;
    }
    update_fast_limit(m);
    while (m->end == VMXSIM_END_NONE) {
        if (m->flush_all) {
            /* Unicorn's own flush of everything (UC_CTL_TB_FLUSH) costs
             * ~10 ms; the span of the decoded blocks is all it has. */
            remove_translations(m, 0, UINT64_MAX);
            drop_blocks(m);
            m->flush_all = m->flush_pending = 0;
        }
        if (m->flush_pending) {
            remove_translations(m, m->flush_lo, m->flush_hi);
            m->flush_pending = 0;
        }
        uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
        if (m->budget_until && !m->budget_exit_set) {
            uc_ctl_set_exits(m->uc, &m->budget_until, 1);
            m->budget_exit_set = 1;
        }
        m->cur_block = NULL;
        /* The monitor trap flag and awaited event windows: one guest
         * instruction at a time (Unicorn's instruction count stops the
         * engine), then the checks of nonroot.c (26.5.2, 26.7). */
        int mtf = (m->mtf_armed || m->window_wait) && m->vmx_nonroot;
        uint64_t before = m->icount;
        int kind = VX_WIN_OTHER, mov_ss = 0, if_before = 0;
        if (mtf) {
            uint8_t code[15];
            int mode = vx_code_mode(m);
            read_code(m, mode == 64 ? rip : rip + vx_cs_base(m), code, sizeof code);
            kind = vx_window_insn(code, sizeof code, mode);
            mov_ss = vx_is_mov_ss(code, sizeof code, mode);
            if_before = (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF) != 0;
        }
        uint64_t count = (mtf || m->mmu.table_step || m->mmu.outside_step) ? 1 : 0;
        update_fast_limit(m);
        vx_mmu_before_run(m);
        if (!m->setup_run) {
            vx_mmu_prefetch_code(m, rip);
            if (m->end != VMXSIM_END_NONE) break;
        }
        /* Unicorn counts instructions with a hook on every instruction,
         * and deleting that hook (a start without a count) flushes every
         * translation, which costs tens of milliseconds: while counted
         * starts (stepping, the preemption timer) keep coming, uncounted
         * ones keep the hook with a count that is never reached; only a
         * long stretch without counting removes it. */
        uint64_t ucount = count;
        if (count) {
            m->count_hook_live = 1;
            m->uncounted_starts = 0;
        } else if (m->count_hook_live) {
            if (++m->uncounted_starts > 64) {
                drop_count_hook(m, rip);
                m->count_hook_live = 0;
            } else {
                ucount = 1ull << 62;
            }
        }
        if (m->vmx_nonroot) {
            m->dr6_start = vx_reg(m, UC_X86_REG_DR6);
            m->dr6_stale = 0;
        }
        clear_rf_before_start(m, rip);
        uc_err e = uc_emu_start(m->uc, rip, 0, 0, ucount);
        if (m->budget_exit_set) quiet_exit_invalidation(m);
        int stopped_at_exit = m->budget_until && vx_reg(m, UC_X86_REG_RIP) == m->budget_until &&
                              m->pend_vector < 0 && !m->restart;
        int delivered = 0;
        if (m->pend_vector >= 0) {
            delivered = vx_deliver_pending(m);
            /* An exception ends blocking by STI or MOV SS (27.7.1), and
             * the handler's first instruction is not the faulting IRET. */
            if (delivered && m->vmx_nonroot) {
                m->shadow_icount = UINT64_MAX;
                m->iret_icount = 0;
            }
        } else if (m->restart) {
            m->restart = 0;
            vx_set_reg(m, UC_X86_REG_RIP, m->resume_rip);
            /* VM transitions the instruction asked for (VX_TRANSITION). */
            if (m->pend_entry) vx_vmentry_perform(m);
            if (m->pend_exit_valid) {
                m->pend_exit_valid = 0;
                vx_vmexit(m, &m->pend_exit);
            }
        } else if (e != UC_ERR_OK) {
            engine_error(m, e);
        } else if (stopped_at_exit) {
            /* The engine stopped at the exit address: the instructions of
             * the block from there on did not run. */
            uint64_t r = vx_reg(m, UC_X86_REG_RIP);
            int mode = m->cur_block ? m->cur_block->mode : vx_code_mode(m);
            back_to(m, mode == 64 ? r : r + vx_cs_base(m));
            if (m->stop_for_timer) {
                /* The preemption timer's deadline: its exit comes below;
                 * the exit address goes, and the code translated with it. */
                uint64_t lo = m->budget_until;
                m->budget_until = 0;
                m->budget_exit_set = 0;
                m->stop_for_timer = 0;
                uc_ctl_set_exits(m->uc, NULL, 0);
                vx_flush_code(m, lo - (lo & 0xFFF), lo - (lo & 0xFFF) + 4096);
                m->timer_due = 1;
            } else {
                vx_end_run(m, VMXSIM_END_MAX_INSNS, VMXSIM_STATUS_LIMIT,
                           "instruction budget of %llu used up",
                           (unsigned long long)m->max_insns);
            }
        } else if (count && m->end == VMXSIM_END_NONE) {
            uint64_t r = vx_reg(m, UC_X86_REG_RIP);
            int mode = m->cur_block ? m->cur_block->mode : vx_code_mode(m);
            back_to(m, mode == 64 ? r : r + vx_cs_base(m));
        } else if (m->end == VMXSIM_END_NONE) {
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                       "engine stopped unexpectedly at RIP 0x%llx",
                       (unsigned long long)vx_reg(m, UC_X86_REG_RIP));
        }
        /* An instruction that accessed memory outside RAM has run. */
        if (m->mmu.outside_step && m->icount > m->mmu.step_icount) vx_mmu_outside_done(m);
        /* --tlb off: the instruction that wrote a paging structure has
         * run; what it cached without watching goes (mmu.c). */
        if (m->mmu.table_step && m->icount > m->mmu.step_icount) {
            m->mmu.table_step = 0;
            vx_tlb_flush_all(&m->mmu.tlb);
            vx_mmu_invalidate_all(m);
        }
        /* An instruction retired (or an event was delivered) in the guest
         * while stepping: the exit due after it, if any (trap-like). */
        int exited = 0;
        if (mtf && m->vmx_nonroot && m->end == VMXSIM_END_NONE &&
            (m->icount > before || delivered))
            exited = vx_nonroot_after_step(m, delivered ? VX_WIN_OTHER : kind,
                                           !delivered && mov_ss, if_before);
        if (!exited && m->timer_armed && m->vmx_nonroot && m->end == VMXSIM_END_NONE &&
            (m->timer_due || m->cycles >= m->timer_deadline)) {
            m->timer_due = 0;
            vx_nonroot_timer_expired(m);
        }
        m->timer_due = 0;
        if (m->event_hit) {
            m->event_hit = 0;
            if (m->end == VMXSIM_END_NONE) return;
        }
    }
}
