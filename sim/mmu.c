/*
 * mmu.c - what Unicorn's address space holds: the model's translations.
 *
 * Unicorn 2.0.1 walks page tables for permissions but forces every
 * translation to identity (../shared/notes/unicorn-2.0.1.md), so the
 * model translates (ept/), and Unicorn's "physical" address space is made
 * to be the current linear address space:
 *
 *  - Windows.  Linear addresses are cut into 1 GiB chunks; a chunk in use
 *    is one Unicorn region over a host reserve of the same size, in which
 *    each translated page is the RAM page it translates to (an mmap of
 *    the RAM's memfd at that offset).  Pages are aliased, not copied, so
 *    every alias sees every write, and mapping a page costs a system call,
 *    not a Unicorn region (regions cost up to milliseconds each, and
 *    QEMU aborts beyond ~4,000 of them).
 *  - Shadow page tables.  Unicorn runs with paging on and CR3 at the
 *    shadow tables (at VX_SHADOW_BASE in its address space, which no
 *    program can reach: see below), whose entries exist only for the
 *    linear pages the model has translated, with the permissions of that
 *    translation.  Every other access faults (#PF) into the model.
 *  - Fills.  vx_mmu_fill translates (xlate.c: the model's TLB, else a
 *    walk of the program's paging structures and, in VMX non-root
 *    operation, EPT) for the access Unicorn attempted: the translation is
 *    filled in and the instruction restarted; otherwise the #PF or the
 *    EPT-induced VM exit the walk found is delivered.
 *
 * The shadow entries are a subset of the model's TLB (ept/tlb.h) for the
 * current tags (VPID, PCID, EPT root): every invalidation of the TLB
 * drops them too (xlate.c), and a change of tags or of the control bits
 * their permissions encode resets the shadow.  A stale translation thus
 * stays visible until software invalidates it, as on hardware.  Writes:
 * a page is filled read-only until a write has set every dirty flag it
 * needs (guest paging, SDM Vol. 3A 4.8; EPT, Vol. 3C 29.3.4).
 *
 * The engine's control registers therefore differ from the program's:
 * CR0.PG and CR0.WP are always 1 (WP so that every write the shadow
 * forbids faults), CR4.PAE is always 1 (the shadow is 4-level in IA-32e
 * mode, PAE otherwise; CR4.LA57/PKE/PCIDE are 0 as the shadow carries no
 * keys or PCIDs), EFER.NXE is 1 (execute permissions, and the I/D bit of
 * the engine's error code), CR3 is the shadow root.  The program's own
 * values are the model's (m->arch_*), read and written through
 * vx_reg/vx_set_reg and vx_msr_get/vx_msr_set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine.h"
#include "x86.h"

/* Unicorn's CPU model has a 40-bit physical-address width: the engine
 * treats higher table addresses as reserved bits, so the shadow tables
 * live just below 1 TiB.  A program cannot reach them: linear addresses
 * outside IA-32e mode are below 4 GiB, and in IA-32e mode a program
 * using linear addresses in this range is told it is not modelled. */
#define SHADOW_BYTES (64ull << 20)
#define WIN_SHIFT 30
#define WIN_PAGES (1u << (WIN_SHIFT - 12))
#define MAX_WINDOWS 64

/* Shadow entry bits (SDM Vol. 3A 4.5, Table 4-15 ff.). */
#define SH_P  (1ull << 0)
#define SH_RW (1ull << 1)
#define SH_US (1ull << 2)
#define SH_A  (1ull << 5)
#define SH_D  (1ull << 6)
#define SH_PS (1ull << 7)
#define SH_G  (1ull << 9)   /* ignored by the walk: the model's "global" mark */
#define SH_XD (1ull << 63)
#define SH_ADDR 0x000FFFFFFFFFF000ull
#define SH_TABLE (SH_P | SH_RW | SH_US | SH_A)

struct vx_window {
    uint64_t base;      /* linear address of the chunk */
    uint8_t *host;      /* host reserve of 1 GiB */
    uint64_t *backing;  /* per page: host-physical address + 1, 0 if none */
};

/* ---- memory ---- */

int vx_mmu_init(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    u->memfd = memfd_create("vmxsim-ram", MFD_CLOEXEC);
    /* RAM, then one page more: the scratch page that stands for memory
     * outside RAM while an instruction accesses it (vx_mmu_fill). */
    if (u->memfd < 0 || ftruncate(u->memfd, (off_t)m->mem_size + 4096) < 0) {
        vx_set_error(m, "cannot create guest memory: %s", strerror(errno));
        return -1;
    }
    m->ram = mmap(NULL, m->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, u->memfd, 0);
    if (m->ram == MAP_FAILED) {
        m->ram = NULL;
        vx_set_error(m, "cannot allocate %llu bytes of guest memory",
                     (unsigned long long)m->mem_size);
        return -1;
    }
    u->shadow = mmap(NULL, SHADOW_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (u->shadow == MAP_FAILED) {
        u->shadow = NULL;
        vx_set_error(m, "cannot allocate the shadow page tables");
        return -1;
    }
    if (uc_mem_map_ptr(m->uc, VX_SHADOW_BASE, SHADOW_BYTES, UC_PROT_READ | UC_PROT_WRITE,
                       u->shadow) != UC_ERR_OK) {
        vx_set_error(m, "cannot map the shadow page tables into the engine");
        return -1;
    }
    u->used = 1; /* page 0 is the root */
    u->format = -1;
    u->outside_page = UINT64_MAX;
    size_t pages = (size_t)(m->mem_size >> 12);
    u->watch = calloc(pages, 1);
    u->watch2m = calloc((pages >> 9) + 1, sizeof *u->watch2m);
    u->wlin = calloc(pages, sizeof *u->wlin);
    u->unprot = calloc(pages, 1);
    if (vx_tlb_init(&u->tlb) < 0 || !u->watch || !u->watch2m || !u->wlin || !u->unprot) {
        vx_set_error(m, "out of memory for the TLB");
        return -1;
    }
    return 0;
}

void vx_mmu_fini(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    for (int i = 0; i < u->nwin; i++) {
        munmap(u->win[i].host, 1ull << WIN_SHIFT);
        free(u->win[i].backing);
    }
    free(u->win);
    vx_tlb_fini(&u->tlb);
    free(u->watch);
    free(u->watch2m);
    free(u->wlin);
    free(u->unprot);
    if (u->scratch) munmap(u->scratch, 4096);
    if (u->shadow) munmap(u->shadow, SHADOW_BYTES);
    if (m->ram) munmap(m->ram, m->mem_size);
    if (u->memfd > 0) close(u->memfd);
}

/* ---- the engine's view of the control registers ---- */

void vx_mmu_engine_regs(vmxsim *m, uint64_t *cr0, uint64_t *cr4, uint64_t *efer)
{
    int paging = (m->arch_cr0 & CR0_PG) != 0;
    *cr0 = m->arch_cr0 | CR0_PG | CR0_WP;
    *cr4 = (m->arch_cr4 | CR4_PAE) & ~(CR4_LA57 | CR4_PKE | CR4_PCIDE);
    /* Without paging there are no supervisor/user page rules: every
     * shadow page is a user page, which SMEP and SMAP would refuse. */
    if (!paging) *cr4 &= ~(CR4_SMEP | CR4_SMAP);
    *efer = m->arch_efer | EFER_NXE;
}

void vx_mmu_write_engine_crs(vmxsim *m)
{
    uint64_t cr0, cr4, efer, cr3 = VX_SHADOW_BASE;
    vx_mmu_engine_regs(m, &cr0, &cr4, &efer);
    uc_reg_write(m->uc, UC_X86_REG_CR0, &cr0);
    uc_reg_write(m->uc, UC_X86_REG_CR4, &cr4);
    uc_reg_write(m->uc, UC_X86_REG_CR3, &cr3);
    (void)efer; /* written with the mode flags, cpustate.c */
}

/* ---- shadow tables ---- */

static uint64_t *shadow_table(vmxsim *m, uint64_t addr)
{
    return (uint64_t *)(m->mmu.shadow + (addr - VX_SHADOW_BASE));
}

static uint64_t shadow_alloc(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    if ((uint64_t)(u->used + 1) * 4096 > SHADOW_BYTES) return 0;
    uint64_t a = VX_SHADOW_BASE + (uint64_t)u->used++ * 4096;
    memset(shadow_table(m, a), 0, 4096);
    return a;
}

/* Drop every translation (the engine's TLB with it). */
static void shadow_reset(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    memset(u->shadow, 0, 4096);
    u->used = 1;
    u->nglobal = 0;
    u->format = vx_in_long_mode(m);
    u->gen++; /* every record of a writable mapping is void now */
    vx_flush_engine_tlb(m);
    u->engine_empty = 1;
    u->flushes++;
}

/* The shadow entry that maps la at the given level (1 = 4 KiB, 2 = 2 MiB),
 * creating tables on the way if create; NULL if absent.  The shadow is
 * 4-level in IA-32e mode and PAE otherwise (a 4-entry root). */
static uint64_t *shadow_slot(vmxsim *m, uint64_t la, int level, int create)
{
    int top = m->mmu.format ? 4 : 3;
    uint64_t table = VX_SHADOW_BASE;
    for (int l = top; l > level; l--) {
        unsigned idx = (unsigned)(la >> (12 + 9 * (l - 1))) & (l == 3 && top == 3 ? 3u : 511u);
        uint64_t *e = &shadow_table(m, table)[idx];
        if (!(*e & SH_P) || (*e & SH_PS)) {
            if (!create) return NULL;
            uint64_t t = shadow_alloc(m);
            if (!t) return NULL;
            /* A PAE PDPTE has no permission bits (SDM Vol. 3A 4.4.1). */
            *e = t | (top == 3 && l == 3 ? SH_P : SH_TABLE);
        }
        table = *e & SH_ADDR;
    }
    return &shadow_table(m, table)[(la >> (12 + 9 * (level - 1))) & 511];
}

/* ---- windows ---- */

static vx_window *window_for(vmxsim *m, uint64_t la, int create)
{
    vx_mmu *u = &m->mmu;
    uint64_t base = la & ~((1ull << WIN_SHIFT) - 1);
    if (u->last && u->last->base == base) return u->last;
    for (int i = 0; i < u->nwin; i++)
        if (u->win[i].base == base) return u->last = &u->win[i];
    if (!create) return NULL;
    if (base + (1ull << WIN_SHIFT) > VX_SHADOW_BASE && base < VX_SHADOW_BASE + SHADOW_BYTES) {
        vx_not_modelled(m, "linear address 0x%llx: the model keeps 0x%llx-0x%llx for itself",
                        (unsigned long long)la, (unsigned long long)VX_SHADOW_BASE,
                        (unsigned long long)(VX_SHADOW_BASE + SHADOW_BYTES - 1));
        return NULL;
    }
    if (u->nwin == MAX_WINDOWS) {
        vx_not_modelled(m, "more than %d GiB-chunks of linear addresses in use", MAX_WINDOWS);
        return NULL;
    }
    if (!u->win && !(u->win = calloc(MAX_WINDOWS, sizeof *u->win))) return NULL;
    vx_window *w = &u->win[u->nwin];
    /* Unfilled pages read as zeros and are never written: the shadow
     * tables keep the engine off them. */
    w->host = mmap(NULL, 1ull << WIN_SHIFT, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->host == MAP_FAILED) return NULL;
    w->backing = calloc(WIN_PAGES, sizeof *w->backing);
    if (!w->backing || uc_mem_map_ptr(m->uc, base, 1ull << WIN_SHIFT, UC_PROT_ALL,
                                      w->host) != UC_ERR_OK) {
        munmap(w->host, 1ull << WIN_SHIFT);
        free(w->backing);
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                   "cannot map linear chunk 0x%llx into the engine", (unsigned long long)base);
        return NULL;
    }
    w->base = base;
    u->nwin++;
    return u->last = w;
}

int vx_mmu_window(vmxsim *m, uint64_t la)
{
    return window_for(m, la, 1) ? 0 : -1;
}

/* Make the window page(s) at la show host-physical pa (size bytes). */
static int window_back(vmxsim *m, uint64_t la, uint64_t pa, uint64_t size)
{
    vx_window *w = window_for(m, la, 1);
    if (!w) return -1;
    uint64_t off = la - w->base;
    uint64_t *bk = &w->backing[off >> 12];
    int same = 1, was = 0;
    for (uint64_t i = 0; i < size >> 12; i++) {
        if (bk[i] != pa + (i << 12) + 1) same = 0;
        if (bk[i]) was = 1;
    }
    if (same) return 0;
    if (mmap(w->host + off, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             m->mmu.memfd, (off_t)pa) == MAP_FAILED) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                   "cannot map guest memory at linear 0x%llx: %s", (unsigned long long)la,
                   strerror(errno));
        return -1;
    }
    for (uint64_t i = 0; i < size >> 12; i++) bk[i] = pa + (i << 12) + 1;
    /* The engine keys its translated code by the address in its own
     * space: code translated from what this page showed before is stale. */
    if (was) vx_flush_code(m, la, la + size);
    return 0;
}

/* ---- shadow permissions ---- */

/* The bits of the processor state that the shadow's permissions encode:
 * a shadow built under other values is reset. */
static uint64_t shadow_key(vmxsim *m)
{
    return (m->arch_cr0 & (CR0_PG | CR0_WP)) |
           (m->arch_cr4 & (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PGE | CR4_LA57)) |
           ((m->arch_efer & (EFER_LMA | EFER_NXE)) << 32) |
           ((uint64_t)(m->vmx_nonroot && m->xl_ept.mbec) << 40) |
           ((uint64_t)(m->vmx_nonroot && m->xl_ept.enabled) << 41);
}

static int same_tag(const vx_tlb_tag *a, const vx_tlb_tag *b)
{
    return a->vpid == b->vpid && a->pcid == b->pcid && a->ept == b->ept && a->eptrta == b->eptrta;
}

/* The shadow entry for a translation: its rights as the engine, which
 * runs with CR0.WP = 1 and the program's SMEP/SMAP, must enforce them.
 * 0 with the run ended where the engine cannot be made to. */
static uint64_t shadow_perms(vmxsim *m, uint64_t la, unsigned access, const vx_xlate *x)
{
    int paging = (m->arch_cr0 & CR0_PG) != 0;
    int us = paging ? x->g_us : 1;
    uint64_t e = SH_P | SH_A | SH_D | (us ? SH_US : 0);
    /* Writable only once every dirty flag is set, and where EPT allows. */
    if (x->dirty && x->e_w) {
        if (!paging || x->g_rw) {
            e |= SH_RW;
        } else if (!(m->arch_cr0 & CR0_WP) && !us) {
            /* CR0.WP = 0: supervisor code writes read-only supervisor
             * pages, which user code cannot reach anyway. */
            e |= SH_RW;
        } else if (!(m->arch_cr0 & CR0_WP) && !(access & VX_ACC_U) && (access & VX_ACC_W)) {
            vx_not_modelled(m, "a supervisor write with CR0.WP = 0 to read-only user page 0x%llx",
                            (unsigned long long)la);
            return 0;
        }
    }
    int x_ok = (m->vmx_nonroot && m->xl_ept.mbec && us) ? x->e_xu : x->e_x;
    if (x->g_xd || !x_ok) e |= SH_XD;
    /* An execute-only EPT page: the engine's page tables cannot make a
     * page executable without making it readable. */
    if (!x->e_r && (access & VX_ACC_I)) {
        vx_not_modelled(m, "executing from an execute-only EPT page (linear 0x%llx): the engine "
                           "cannot run code from a page it may not read",
                        (unsigned long long)la);
        return 0;
    }
    return e;
}

static void take_flush(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    vx_tlb_tag tag = vx_xl_tag(m);
    uint64_t key = shadow_key(m);
    if (!u->shadow_valid || !same_tag(&tag, &u->shadow_tag) || key != u->shadow_key) {
        u->flush_all = 1;
        u->shadow_tag = tag;
        u->shadow_key = key;
        u->shadow_valid = 1;
    }
    if (u->format != vx_in_long_mode(m) || u->flush_all) {
        shadow_reset(m);
        u->flush_all = u->flush_nonglobal = 0;
    } else if (u->flush_nonglobal) {
        /* Global pages survive (SDM Vol. 3A 4.10.2.4); the model keeps
         * the shadow tables and drops the rest. */
        if (u->nglobal == 0) shadow_reset(m);
        else vx_mmu_flush_nonglobal_entries(m);
        u->flush_nonglobal = 0;
    }
}

void vx_mmu_before_run(vmxsim *m)
{
    take_flush(m);
}

/* The engine's first act when it starts is to fetch the instruction at
 * RIP.  After the shadow was emptied (a VM entry or exit without VPIDs
 * flushes it, mmu.c's take_flush), neither it nor the engine's TLB maps
 * anything, so that fetch faults, the engine stops, and it is started
 * again once vx_mmu_fill has filled the translation in: two copies of
 * the engine's whole state and a start more, on every VM transition.
 * Fill it before the start instead, exactly as that fault would (the
 * same access, the same walk, the same trace events), but only when a
 * walk that changes nothing says it succeeds; anything else is left to
 * the engine's fault and the model's usual path.  Only while nothing has
 * been filled since the reset: otherwise the engine's TLB may hold the
 * page, the engine would not fault, and filling here would add a TLB
 * look-up the run does not make.  IA-32e mode only, where the code is
 * almost always 64-bit with CS.base 0. */
void vx_mmu_prefetch_code(vmxsim *m, uint64_t rip)
{
    vx_mmu *u = &m->mmu;
    if (!u->engine_empty || u->tlb_off || u->table_step || u->outside_step ||
        !vx_in_long_mode(m))
        return;
    vx_seg s[VX_NSEGS];
    if (vx_get_segs(m, s) < 0) return;
    const vx_seg *cs = &s[VX_SEG_CS];
    uint64_t la = (cs->ar >> 13 & 1) ? rip : (uint32_t)(cs->base + rip);
    /* The access as the engine's #PF error code would give it (its EFER
     * has NXE, so fetches set the I bit), RFLAGS.AC as fault.c adds it. */
    unsigned acc = VX_ACC_I | ((cs->sel & 3) == 3 ? VX_ACC_U : 0);
    if (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_AC) acc |= VX_ACC_AC;
    vx_xlate x;
    if (vx_mmu_walk(m, la, acc | VX_ACC_PEEK, &x, NULL) != VX_XL_OK || x.hpa >= m->mem_size)
        return;
    vx_mmu_fill(m, la, acc, &x);
}

static void clear_nonglobal(vmxsim *m, uint64_t table, int level, int top)
{
    unsigned n = (level == 3 && top == 3) ? 4 : 512;
    uint64_t *t = shadow_table(m, table);
    for (unsigned i = 0; i < n; i++) {
        if (!(t[i] & SH_P)) continue;
        if (level == 1 || (t[i] & SH_PS)) {
            if (!(t[i] & SH_G)) t[i] = 0;
        } else {
            clear_nonglobal(m, t[i] & SH_ADDR, level - 1, top);
        }
    }
}

void vx_mmu_flush_nonglobal_entries(vmxsim *m)
{
    int top = m->mmu.format ? 4 : 3;
    clear_nonglobal(m, VX_SHADOW_BASE, top, top);
    vx_flush_engine_tlb(m);
    m->mmu.flushes++;
}

void vx_mmu_invalidate_all(vmxsim *m) { m->mmu.flush_all = 1; }
void vx_mmu_invalidate_nonglobal(vmxsim *m) { m->mmu.flush_nonglobal = 1; }

void vx_mmu_invalidate_page(vmxsim *m, uint64_t la)
{
    take_flush(m);
    for (int level = 1; level <= 2; level++) {
        uint64_t *e = shadow_slot(m, la, level, 0);
        if (e && (*e & SH_P) && (level == 1 || (*e & SH_PS))) *e = 0;
    }
    vx_flush_engine_tlb(m);
}

/* ---- watched pages: code, and paging structures under --tlb off ----
 *
 * Decoded blocks (run.c) are trusted without comparing their bytes each
 * time they run: instead, no shadow entry maps a host page holding
 * decoded code writable, so the first write to it, through any linear
 * alias, faults into the model, which drops the blocks decoded from it
 * before letting the write go on.  With --tlb off the pages the walks
 * read are watched the same way, and a write to one drops every cached
 * translation: no stale translation is ever used.  The model's own
 * writes to RAM report themselves (vx_mmu_ram_written). */

enum { WATCH_CODE = 1, WATCH_TABLE = 2 };

#define WLIN_SEVERAL (1ull << 63)      /* several linear pages */
#define PAGE_NUMBER 0xFFFFFFFFFFFFull /* linear-address bits 59:12 */
#define WLIN_GEN(u) ((uint64_t)((u)->gen & 0x7FFF) << 48)

static int wlin_current(const vx_mmu *u, uint64_t rec)
{
    return rec && (rec & (0x7FFFull << 48)) == WLIN_GEN(u);
}

/* A writable shadow mapping of host pages [pa, pa + size) at linear la. */
static void record_writable(vmxsim *m, uint64_t la, uint64_t pa, uint64_t size)
{
    vx_mmu *u = &m->mmu;
    for (uint64_t off = 0; off < size; off += 4096) {
        uint64_t p = (pa + off) >> 12;
        uint64_t rec = WLIN_GEN(u) | (((la + off) >> 12) & PAGE_NUMBER);
        uint64_t old = u->wlin[p];
        if (!wlin_current(u, old)) u->wlin[p] = rec;
        else if (old != rec) u->wlin[p] = WLIN_GEN(u) | WLIN_SEVERAL;
    }
}

/* Watch host page p for reason why: no writable shadow mapping of it may
 * remain.  1 if the engine must stop first (the shadow is rebuilt). */
static int watch(vmxsim *m, uint64_t p, uint8_t why)
{
    vx_mmu *u = &m->mmu;
    int was = u->watch[p] != 0;
    u->watch[p] |= why;
    if (was) return 0;
    u->watch2m[p >> 9]++;
    uint64_t rec = u->wlin[p];
    if (!wlin_current(u, rec) || u->format < 0) return 0;
    if (rec & WLIN_SEVERAL) {
        /* Mapped writable at several linear pages: start the shadow
         * again (its fills will respect the watch). */
        u->flush_all = 1;
        return 1;
    }
    uint64_t la = (rec & PAGE_NUMBER) << 12;
    if (la & (1ull << 59)) la |= 0xF000000000000000ull; /* canonical: sign-extend */
    uint64_t *e = shadow_slot(m, la, 1, 0);
    if (e && (*e & SH_P)) {
        *e &= ~SH_RW;
        vx_flush_engine_tlb_page(m, la);
        return 0;
    }
    e = shadow_slot(m, la, 2, 0);
    if (e && (*e & SH_P) && (*e & SH_PS)) {
        /* A 2-MiB entry: drop it; its pages come back as 4-KiB fills. */
        *e = 0;
        vx_flush_engine_tlb(m);
    }
    return 0;
}

#define MAX_UNPROTECTS 4

int vx_mmu_protect_code(vmxsim *m, uint64_t pa)
{
    vx_mmu *u = &m->mmu;
    uint64_t p = pa >> 12;
    if (pa >= m->mem_size) return -1;
    if (u->watch[p] & WATCH_CODE) return 0;
    /* A page whose code and data share it (written again and again)
     * stays unprotected: its blocks are checked byte by byte instead. */
    if (u->unprot[p] >= MAX_UNPROTECTS) return -1;
    return watch(m, p, WATCH_CODE);
}

int vx_mmu_watch_table(vmxsim *m, uint64_t pa)
{
    if (pa >= m->mem_size || (m->mmu.watch[pa >> 12] & WATCH_TABLE)) return 0;
    return watch(m, pa >> 12, WATCH_TABLE);
}

/* Host page p is being written: what watched it learns of it.  now: the
 * engine is stopped (a fill), so the shadow can be emptied at once;
 * otherwise that waits for the next start. */
static void unwatch(vmxsim *m, uint64_t p, int now)
{
    vx_mmu *u = &m->mmu;
    uint8_t why = u->watch[p];
    if (!why) return;
    u->watch[p] = 0;
    u->watch2m[p >> 9]--;
    if (why & WATCH_CODE) {
        if (u->unprot[p] < 255) u->unprot[p]++;
        vx_code_written(m, p << 12);
    }
    if (why & WATCH_TABLE) {
        /* A paging structure changed under --tlb off: nothing cached
         * survives (every TLB entry, the shadow with it). */
        vx_tlb_flush_all(&u->tlb);
        if (now) {
            /* The writing instruction may need the tables it writes to
             * translate itself: it runs alone, nothing watched meanwhile,
             * and everything it cached goes after it (run.c). */
            shadow_reset(m);
            u->table_step = 1;
            u->step_icount = m->icount;
        } else {
            u->flush_all = 1;
        }
    }
}

void vx_mmu_ram_written(vmxsim *m, uint64_t pa, size_t len)
{
    if (!len || pa >= m->mem_size) return;
    uint64_t end = pa + len > m->mem_size ? m->mem_size : pa + len;
    for (uint64_t p = pa >> 12; p <= (end - 1) >> 12; p++)
        if (m->mmu.watch[p]) unwatch(m, p, 0);
}

/* An instruction accesses memory outside RAM, which reads as all ones
 * and drops writes, as on a PC (docs/platform.md): the access is
 * counted (and traced), the page is the scratch page filled with ones,
 * writable, for this one instruction, which the run loop steps alone;
 * then the page goes again, so that the next access is counted too. */
static int fill_outside(vmxsim *m, uint64_t la, unsigned access, const vx_xlate *x)
{
    vx_mmu *u = &m->mmu;
    uint64_t page = la & ~0xFFFull;
    vx_outside_access(m, x->hpa, vx_access_size(m), (access & VX_ACC_W) != 0);
    if (!u->scratch) {
        u->scratch = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, u->memfd,
                          (off_t)m->mem_size);
        if (u->scratch == MAP_FAILED) {
            u->scratch = NULL;
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "cannot map a scratch page");
            return VX_MMU_ENDED;
        }
    }
    if (u->outside_page != page) memset(u->scratch, 0xFF, 4096);
    if (window_back(m, page, m->mem_size, 4096) < 0) return VX_MMU_ENDED;
    uint64_t *slot = shadow_slot(m, page, 1, 1);
    if (!slot) {
        shadow_reset(m);
        slot = shadow_slot(m, page, 1, 1);
        if (!slot) return VX_MMU_ENDED;
    }
    int paging = (m->arch_cr0 & CR0_PG) != 0;
    *slot = SH_P | SH_A | SH_D | SH_XD | ((access & VX_ACC_W) ? SH_RW : 0) |
            ((!paging || x->g_us) ? SH_US : 0);
    u->engine_empty = 0;
    u->outside_page = page;
    u->outside_step = 1;
    u->step_icount = m->icount;
    return VX_MMU_FILLED;
}

/* After the instruction that accessed memory outside RAM: its page goes,
 * and the scratch page holds ones again. */
void vx_mmu_outside_done(vmxsim *m)
{
    vx_mmu *u = &m->mmu;
    if (!u->outside_step) return;
    u->outside_step = 0;
    vx_mmu_invalidate_page(m, u->outside_page);
    if (u->scratch) memset(u->scratch, 0xFF, 4096);
    u->outside_page = UINT64_MAX;
}

/* Fill the translation of la for access, after a fault of the engine.
 * Returns VX_MMU_FILLED, VX_MMU_FAULT with *x (a #PF or an EPT-induced
 * VM exit to deliver), or VX_MMU_ENDED. */
int vx_mmu_fill(vmxsim *m, uint64_t la, unsigned access, vx_xlate *x)
{
    take_flush(m);
    if (vx_mmu_translate(m, la, access, x) != VX_XL_OK) return VX_MMU_FAULT;
    uint64_t size = 4096, page = la & ~0xFFFull, pa = x->hpa & ~0xFFFull;
    /* A translation of 2 MiB or more fills a 2-MiB shadow entry at once
     * (one system call, one engine TLB entry) when its host-physical
     * block lies in RAM. */
    if (x->page_shift >= 21) {
        uint64_t big = x->hpa & ~0x1FFFFFull;
        if (big + (2ull << 20) <= m->mem_size && !m->mmu.watch2m[big >> 21]) {
            size = 2ull << 20;
            page = la & ~0x1FFFFFull;
            pa = big;
        }
    }
    if (pa >= m->mem_size) {
        if (access & VX_ACC_I) {
            vx_not_modelled(m, "executing at host-physical 0x%llx (linear 0x%llx), outside RAM",
                            (unsigned long long)x->hpa, (unsigned long long)la);
            return VX_MMU_ENDED;
        }
        return fill_outside(m, la, access, x);
    }
    uint64_t e = shadow_perms(m, la, access, x);
    if (m->end != VMXSIM_END_NONE) return VX_MMU_ENDED;
    if ((e & SH_RW) && m->mmu.watch[pa >> 12]) {
        /* A watched page: a write tells the watchers first, anything
         * else leaves it read-only. */
        if (access & VX_ACC_W) unwatch(m, pa >> 12, 1);
        else e &= ~SH_RW;
    }
    if (window_back(m, page, pa, size) < 0) return VX_MMU_ENDED;
    if (e & SH_RW) record_writable(m, page, pa, size);
    int level = size == 4096 ? 1 : 2;
    uint64_t *slot = shadow_slot(m, page, level, 1);
    if (!slot) {
        /* Shadow tables full: start again with none. */
        shadow_reset(m);
        slot = shadow_slot(m, page, level, 1);
        if (!slot) return VX_MMU_ENDED;
    }
    if (level == 2) e |= SH_PS;
    if (x->g_global) e |= SH_G;
    if (x->g_global) m->mmu.nglobal++;
    *slot = e;
    m->mmu.fills++;
    m->mmu.engine_empty = 0;
    return VX_MMU_FILLED;
}

/* A host pointer to the bytes at linear la as the engine sees them
 * (valid up to the end of the page), or NULL if la has no translation
 * filled in. */
const uint8_t *vx_mmu_host(vmxsim *m, uint64_t la)
{
    if (m->mmu.format < 0) return NULL;
    uint64_t *e = shadow_slot(m, la, 1, 0);
    if (!e || !(*e & SH_P)) {
        e = shadow_slot(m, la, 2, 0);
        if (!e || !(*e & SH_P) || !(*e & SH_PS)) return NULL;
    }
    vx_window *w = window_for(m, la, 0);
    if (!w || !w->backing[(la - w->base) >> 12]) return NULL;
    return w->host + (la - w->base);
}

uint64_t vx_mmu_backing(vmxsim *m, uint64_t la)
{
    if (!vx_mmu_host(m, la)) return UINT64_MAX;
    vx_window *w = window_for(m, la, 0);
    return (w->backing[(la - w->base) >> 12] - 1) | (la & 0xFFF);
}

/* Read len bytes of code at linear la: what the engine executes if the
 * page is filled in, else what a walk without side effects finds (bytes
 * that cannot be read are 0xFF).  Returns how many bytes from the start
 * could be read. */
size_t vx_mmu_peek(vmxsim *m, uint64_t la, uint8_t *buf, size_t len)
{
    size_t readable = 0;
    int gap = 0;
    while (len) {
        size_t chunk = 4096 - (la & 0xFFF);
        if (chunk > len) chunk = len;
        const uint8_t *h = vx_mmu_host(m, la);
        vx_xlate x;
        if (h) memcpy(buf, h, chunk);
        else if (vx_mmu_walk(m, la, VX_ACC_PEEK, &x, NULL) == VX_XL_OK && x.hpa < m->mem_size &&
                 chunk <= m->mem_size - x.hpa)
            memcpy(buf, m->ram + x.hpa, chunk);
        else {
            memset(buf, 0xFF, chunk);
            gap = 1;
        }
        if (!gap) readable += chunk;
        la += chunk;
        buf += chunk;
        len -= chunk;
    }
    return readable;
}
