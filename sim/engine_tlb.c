/*
 * engine_tlb.c - flushing the engine's TLB.
 *
 * The engine caches translations of its (shadow) page tables in QEMU's
 * TLB, and Unicorn 2.0.1 has no call that flushes it (2.1 added
 * UC_CTL_TLB_FLUSH); a control register written through its API does not
 * flush it either.  Mapping and unmapping a region does, at ~40 us a time
 * (measured; more with more regions).  The QEMU inside libunicorn exports
 * tlb_flush_x86_64(CPUState *) and tlb_flush_page_x86_64(CPUState *,
 * vaddr), ~0.4 us and ~0.08 us: what they need is the engine's CPUState,
 * which uc_struct holds but does not expose.
 *
 * It is found by experiment, as engine.c finds the exception state, and
 * trusted only when every step checks out:
 *  1. On a scratch engine, with eight registers set to distinctive
 *     values, search the process's small writable mappings for them: the
 *     one copy outside our own buffers is the CPU state (env), whose
 *     general registers come first.
 *  2. Among the pointers in the first words of the scratch uc_struct,
 *     find the one (P) that points a little below env and holds env's
 *     address within its first 4 KiB (CPUState.env_ptr): its word index,
 *     the env_ptr offset and env - P are the layout.
 *  3. Prove it on the scratch engine: a write through a page the engine
 *     has cached as writable still succeeds after the page table makes it
 *     read-only, and faults after tlb_flush (and after tlb_flush_page).
 *  4. On the real engine: the same word of its uc_struct, pointing at a
 *     CPUState whose env_ptr is at the same offset and whose env holds the
 *     real engine's registers.
 * Otherwise the model falls back to mapping and unmapping a page.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

typedef void (*tlb_flush_fn)(void *cpu);
typedef void (*tlb_flush_page_fn)(void *cpu, uint64_t addr);

/* The layout, found once per process. */
static struct {
    int done, ok;
    int uc_word;          /* index of uc_struct's cpu pointer */
    size_t envptr_off;    /* offset of CPUState.env_ptr */
    size_t env_delta;     /* env - CPUState */
    tlb_flush_fn flush;
    tlb_flush_page_fn flush_page;
} layout;

/* ---- the process's memory ---- */

typedef struct range {
    uintptr_t lo, hi;
} range;

static int read_maps(range *r, int max)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[512];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perm[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 && perm[0] == 'r' && perm[1] == 'w')
            r[n++] = (range){lo, hi};
    }
    fclose(f);
    return n;
}

/* The search reads memory that is not ours to read in C's terms (other
 * allocations, their padding): under AddressSanitizer it must not be
 * instrumented, and it uses its own loads rather than memmem/memcpy. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_ASAN __attribute__((no_sanitize_address))
#else
#define NO_ASAN
#endif

NO_ASAN static uintptr_t load_word(uintptr_t a)
{
    return *(const volatile uintptr_t *)a;
}

/* The first place at or after p (below end, 8-aligned) where the 8
 * words of pat are, or 0. */
NO_ASAN static uintptr_t find_words(uintptr_t p, uintptr_t end, const uint64_t *pat, int n)
{
    for (p = (p + 7) & ~(uintptr_t)7; p + 8 * (uintptr_t)n <= end; p += 8) {
        if (load_word(p) != pat[0]) continue;
        int i = 1;
        while (i < n && load_word(p + 8 * (uintptr_t)i) == pat[i]) i++;
        if (i == n) return p;
    }
    return 0;
}

static int readable(const range *r, int n, uintptr_t a, size_t len)
{
    for (int i = 0; i < n; i++)
        if (a >= r[i].lo && a + len <= r[i].hi && a + len >= a) return 1;
    return 0;
}

/* ---- step 3: the functional proof on a scratch engine ---- */

static int faulted;
static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
    (void)user;
    /* #PF, or #DF: Unicorn leaves the first fault "in progress" (engine.c),
     * so a second #PF may be reported as a double fault. */
    if (intno == 14 || intno == 8) faulted = 1;
    uc_emu_stop(uc);
}

/* Write through linear 0x200000 after a run that cached it writable,
 * with the page made read-only in between: 1 if the write faulted. */
static int write_faults(uc_engine *uc, uint8_t *mem, void (*flush)(void *))
{
    static const uint8_t code[] = {0x88, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xF4}; /* mov [0x200000], al; hlt */
    uint64_t pde = 0x200000 | 0x87 | 0x60; /* P, RW, US, A, D, PS */
    memcpy(mem + 0x3008, &pde, 8);
    memcpy(mem + 0x10000, code, sizeof code);
    faulted = 0;
    uc_emu_start(uc, 0x10000, 0x10000 + sizeof code, 0, 0);
    if (faulted) return -1;
    pde &= ~2ull; /* read-only */
    memcpy(mem + 0x3008, &pde, 8);
    if (flush) flush(uc);
    faulted = 0;
    uc_emu_start(uc, 0x10000, 0x10000 + sizeof code, 0, 0);
    return faulted;
}

static void *scratch_cpu(uc_engine *uc)
{
    return (void *)load_word((uintptr_t)(void *)uc + 8 * (uintptr_t)layout.uc_word);
}

static void flush_via_layout(void *uc)
{
    layout.flush(scratch_cpu(uc));
}

static void flush_page_via_layout(void *uc)
{
    layout.flush_page(scratch_cpu(uc), 0x200000);
}

static int prove(uc_engine *uc, uint8_t *mem)
{
    /* Identity-mapped 4-level paging of the first 4 MiB (the engine's
     * physical = linear, as always), CR0.WP = 1. */
    uint64_t e;
    e = 0x2000 | 7; memcpy(mem + 0x1000, &e, 8);
    e = 0x3000 | 7; memcpy(mem + 0x2000, &e, 8);
    e = 0x0 | 0x87 | 0x60; memcpy(mem + 0x3000, &e, 8);
    uint64_t cr3 = 0x1000, cr4 = 0x20, cr0 = 0x80010031;
    uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
    uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
    uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    /* Without a flush the stale writable entry is used: the proof means
     * something only if that is so. */
    if (write_faults(uc, mem, NULL) != 0) return 0;
    if (write_faults(uc, mem, flush_via_layout) != 1) return 0;
    if (write_faults(uc, mem, flush_page_via_layout) != 1) return 0;
    return 1;
}

/* ---- steps 1, 2: the layout ---- */

static void find_layout(void)
{
    layout.done = 1;
    layout.flush = (tlb_flush_fn)dlsym(RTLD_DEFAULT, "tlb_flush_x86_64");
    layout.flush_page = (tlb_flush_page_fn)dlsym(RTLD_DEFAULT, "tlb_flush_page_x86_64");
    if (!layout.flush || !layout.flush_page) return;
    uc_engine *uc = NULL;
    uint8_t *mem = calloc(1, 4u << 20);
    range *maps = calloc(4096, sizeof *maps);
    if (!mem || !maps || uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK ||
        uc_mem_map_ptr(uc, 0, 4u << 20, UC_PROT_ALL, mem) != UC_ERR_OK)
        goto out;
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0);
    static const int regs[8] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI};
    uint64_t *magic = malloc(sizeof(uint64_t) * 8);
    if (!magic) goto out;
    for (int i = 0; i < 8; i++) {
        magic[i] = 0x5A17C0DE00000000ull ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
        uc_reg_write(uc, regs[i], &magic[i]);
    }
    int n = read_maps(maps, 4096);
    uintptr_t env = 0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        if (maps[i].hi - maps[i].lo > (64u << 20)) continue; /* RAM, code buffers */
        uintptr_t p = maps[i].lo;
        while (p < maps[i].hi) {
            uintptr_t q = find_words(p, maps[i].hi, magic, 8);
            if (!q) break;
            if (q != (uintptr_t)magic) {
                env = q;
                hits++;
            }
            p = q + 8;
        }
    }
    free(magic);
    if (hits != 1) goto out;
    uintptr_t u = (uintptr_t)(void *)uc;
    int found = 0;
    for (int i = 0; i < 512 && readable(maps, n, u + 8 * (uintptr_t)i, 8); i++) {
        uintptr_t p = load_word(u + 8 * (uintptr_t)i);
        if (p >= env || env - p > (1u << 20) || !readable(maps, n, p, 4096)) continue;
        for (size_t k = 0; k < 4096; k += 8) {
            uintptr_t w = load_word(p + k);
            if (w == env) {
                if (found++ == 0) {
                    layout.uc_word = i;
                    layout.envptr_off = k;
                    layout.env_delta = env - p;
                } else if (layout.uc_word != i || layout.envptr_off != k) {
                    /* Two different candidates: not decisive. */
                    goto out;
                }
                break;
            }
        }
    }
    if (!found) goto out;
    layout.ok = prove(uc, mem);
out:
    if (uc) uc_close(uc);
    free(mem);
    free(maps);
}

/* ---- step 4 and use ---- */

void vx_engine_probe_tlb(vmxsim *m)
{
    m->engine_cpu = NULL;
    if (!layout.done) find_layout();
    if (!layout.ok) return;
    range *maps = calloc(4096, sizeof *maps);
    if (!maps) return;
    int n = read_maps(maps, 4096);
    uintptr_t up = (uintptr_t)(void *)m->uc + 8 * (uintptr_t)layout.uc_word;
    if (readable(maps, n, up, 8)) {
        uintptr_t p = load_word(up);
        uintptr_t env = p + layout.env_delta;
        if (readable(maps, n, p, layout.env_delta + 64)) {
            uint64_t rax = 0;
            uc_reg_read(m->uc, UC_X86_REG_RAX, &rax);
            if (load_word(p + layout.envptr_off) == env && load_word(env) == rax)
                m->engine_cpu = (void *)p;
        }
    }
    free(maps);
}

/* Drop the engine's whole TLB (after CR0/CR3/CR4 changes, shadow
 * resets, VM transitions). */
void vx_flush_engine_tlb(vmxsim *m)
{
    if (m->engine_cpu) {
        layout.flush(m->engine_cpu);
        return;
    }
    /* Mapping a region flushes the whole TLB (softmmu/memory.c,
     * memory_map): map and unmap one page above the physical-address
     * space the model uses. */
    uint64_t hole = 1ull << m->prof.maxphyaddr;
    if (uc_mem_map(m->uc, hole, 4096, UC_PROT_NONE) == UC_ERR_OK)
        uc_mem_unmap(m->uc, hole, 4096);
}

/* Drop the engine's translation of one linear page. */
void vx_flush_engine_tlb_page(vmxsim *m, uint64_t la)
{
    if (m->engine_cpu) layout.flush_page(m->engine_cpu, la & ~0xFFFull);
    else vx_flush_engine_tlb(m);
}

int vx_engine_tlb_direct(const vmxsim *m)
{
    return m->engine_cpu != NULL;
}
