/*
 * lazy_ept.c - an example VMM in freestanding C that maps its guest's
 * memory lazily, on EPT violations (SDM Vol. 3C 29.3).
 *
 * The guest (guest.S) runs in 64-bit mode with paging on, through its
 * own 4-level page tables, which live in guest-physical memory like
 * everything else it touches.  The VMM starts it with an empty EPT: a
 * PML4 with no present entry, so the guest's very first reference - the
 * read of its PML4 entry while translating the first instruction fetch -
 * is an EPT violation (exit reason 48).  For each violation the VMM
 *   - reads the guest-physical address (VMCS field 0x2400), the
 *     qualification (Table 28-7) and the guest-linear address (0x640A);
 *   - takes a host page from its pool (host-physical 0x4000000 upward, so
 *     guest-physical and host-physical addresses differ), fills it with
 *     what the guest's memory image holds there (the page tables it
 *     built, the guest's code) or zeros;
 *   - creates the missing EPT paging structures and the leaf (4-level
 *     EPT, write-back, read/write/execute);
 *   - resumes the guest, which performs the access again.
 * The guest's first VMCALL reports what it computed, which the VMM checks
 * against the host pages it mapped.  Then the VMM moves the guest's data
 * to other host pages: changing the address in a present EPT entry is
 * the case where the SDM requires INVEPT, and the guest's second VMCALL
 * shows that it sees its data in the new pages (the old ones are
 * overwritten).  Its HLT ends the run with a summary.
 *
 * Build: meson (examples/lazy_ept/meson.build); run: vmxsim run
 * build/examples/lazy_ept/lazy_ept.elf (exit status 1 = all checks
 * passed).  entry.S is the example VMM's (examples/vmm/entry.S).
 */
#include "../common/vmm.h"

static void __attribute__((noreturn)) fail(const char *what, uint64_t value)
{
    print("vmm: FAILED: ");
    print(what);
    print(" ");
    print_hex(value);
    print("\n");
    finish(1);
}

extern void exit_stub(void);
extern const uint8_t lazy_guest_start[], lazy_guest_end[];

/* ---- the guest's memory ----
 *
 * Guest-physical layout (what the guest's page tables point at):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 PT (the guest's paging
 *   structures, 4-level paging), 0x10000 code, 0x20000 stack,
 *   0x40000000-0x40003FFF data.
 * The guest has GUEST_RAM bytes of guest-physical memory; none of it is
 * backed by a host page until the guest touches it. */
#define GUEST_RAM     0x80000000ull      /* 2 GiB */
#define GPA_PML4      0x1000ull
#define GPA_PDPT      0x2000ull
#define GPA_PD        0x3000ull
#define GPA_PT        0x4000ull
#define GPA_CODE      0x10000ull
#define GPA_STACK     0x20000ull
#define GPA_DATA      0x40000000ull
#define LA_CODE       0x400000ull
#define LA_DATA       0x480000ull
#define LA_ALIAS      0x500000ull
#define LA_STACK_TOP  0x600000ull
#define DATA_PAGES    4
#define PTE_P_RW      3ull               /* present, writable, supervisor */

/* Guest paging structures as the guest will find them: the image of
 * guest-physical pages 0x1000-0x4FFF. */
static uint64_t guest_pml4[512] __attribute__((aligned(4096)));
static uint64_t guest_pdpt[512] __attribute__((aligned(4096)));
static uint64_t guest_pd[512] __attribute__((aligned(4096)));
static uint64_t guest_pt[512] __attribute__((aligned(4096)));

static void build_guest_page_tables(void)
{
    guest_pml4[0] = GPA_PDPT | PTE_P_RW;
    guest_pdpt[0] = GPA_PD | PTE_P_RW;
    guest_pd[LA_CODE >> 21] = GPA_PT | PTE_P_RW;   /* 0x400000-0x5FFFFF */
    guest_pt[0] = GPA_CODE | PTE_P_RW;
    for (unsigned i = 0; i < DATA_PAGES; i++) {
        uint64_t pte = (GPA_DATA + 0x1000ull * i) | PTE_P_RW;
        guest_pt[((LA_DATA >> 12) & 511) + i] = pte;   /* DATA */
        guest_pt[((LA_ALIAS >> 12) & 511) + i] = pte;  /* ALIAS: the same page */
    }
    guest_pt[((LA_STACK_TOP - 0x1000) >> 12) & 511] = GPA_STACK | PTE_P_RW;
}

/* What a guest-physical page holds before the guest writes it. */
static const uint8_t *image_of(uint64_t gpa_page, uint64_t *len)
{
    *len = 4096;
    switch (gpa_page) {
    case GPA_PML4: return (const uint8_t *)guest_pml4;
    case GPA_PDPT: return (const uint8_t *)guest_pdpt;
    case GPA_PD: return (const uint8_t *)guest_pd;
    case GPA_PT: return (const uint8_t *)guest_pt;
    case GPA_CODE:
        *len = (uint64_t)(lazy_guest_end - lazy_guest_start);
        return lazy_guest_start;
    }
    *len = 0;
    return 0;
}

/* ---- host pages and EPT ----
 *
 * Host-physical pages for guest memory come from a pool at 64 MiB, in
 * the identity-mapped low memory of this program (docs/start-state.md),
 * so this VMM reaches them at their host-physical address.  EPT paging
 * structures are pages of this program's BSS. */
#define POOL_BASE     0x4000000ull
#define POOL_PAGES    64
#define EPT_TABLES    16
#define EPT_RWX       7ull
#define EPT_WB        (6ull << 3)        /* memory type 6 in bits 5:3 (29.3.7) */
#define EPT_ADDR      0x000FFFFFFFFFF000ull

static uint64_t ept[EPT_TABLES][512] __attribute__((aligned(4096)));
static unsigned ept_used = 1;            /* ept[0] is the PML4 */
static unsigned pool_used;
static uint64_t mapped_gpa[POOL_PAGES];  /* pool page i backs guest page mapped_gpa[i] */

static uint64_t *ept_table(uint64_t *table, unsigned index)
{
    if (!(table[index] & EPT_RWX)) {
        if (ept_used == EPT_TABLES) fail("out of EPT paging-structure pages at", index);
        /* A non-leaf entry: read/write/execute for everything below it
         * (the rights are ANDed over the levels, 29.3.2); bits 7:3 are
         * reserved (misconfiguration if set, 29.3.3.1). */
        table[index] = (uint64_t)(uintptr_t)ept[ept_used++] | EPT_RWX;
    }
    return (uint64_t *)(uintptr_t)(table[index] & EPT_ADDR);
}

/* Back guest-physical page gpa with a new host page; returns its
 * host-physical address. */
static uint64_t map_guest_page(uint64_t gpa)
{
    if (pool_used == POOL_PAGES) fail("out of host pages for guest-physical", gpa);
    uint64_t hpa = POOL_BASE + 0x1000ull * pool_used;
    mapped_gpa[pool_used++] = gpa;
    /* The page's contents first, then the mapping. */
    uint8_t *page = (uint8_t *)(uintptr_t)hpa;
    uint64_t len;
    const uint8_t *src = image_of(gpa, &len);
    for (uint64_t i = 0; i < 4096; i++) page[i] = i < len ? src[i] : 0;
    /* 4-level EPT: PML4E bits 47:39, PDPTE 38:30, PDE 29:21, PTE 20:12. */
    uint64_t *pdpt = ept_table(ept[0], (unsigned)(gpa >> 39) & 511);
    uint64_t *pd = ept_table(pdpt, (unsigned)(gpa >> 30) & 511);
    uint64_t *pt = ept_table(pd, (unsigned)(gpa >> 21) & 511);
    pt[(gpa >> 12) & 511] = hpa | EPT_WB | EPT_RWX;
    /* No INVEPT: this entry and any new table entries above it went from
     * not present to present.  A processor caches no guest-physical or
     * combined mapping for a translation that found an entry not present
     * (SDM Vol. 3C 29.4.2), and the EPT violation itself invalidated the
     * mappings that access would use (29.4.3.1); so the guest's retried
     * access walks the tables again and finds the new entries.  The
     * SDM's guidelines (29.4.3.3) ask for INVEPT only after an entry's
     * rights are reduced or its address or memory type changes; for a
     * change from 0 to 1 of the rights bits it is optional, at worst an
     * EPT violation that would not otherwise occur. */
    return hpa;
}

/* The host page backing guest-physical gpa (0 if none). */
static uint8_t *host_page(uint64_t gpa)
{
    for (unsigned i = 0; i < pool_used; i++)
        if (mapped_gpa[i] == (gpa & ~0xFFFull)) return (uint8_t *)(uintptr_t)(POOL_BASE + 0x1000ull * i);
    return 0;
}

/* ---- checks ---- */

#define NWORDS 2048
#define MARK_INDEX 5
#define MARK 0x600DF00Dull

static uint64_t checksum(uint64_t (*word)(unsigned))
{
    uint64_t a = 0, b = 0;
    for (unsigned i = 0; i < NWORDS; i++) {
        a += word(i);
        b += a;
    }
    return a ^ (b << 32 | b >> 32);
}

/* The words the guest writes, computed here: the LCG of guest.S. */
static uint64_t lcg[NWORDS];

static void compute_lcg(void)
{
    uint64_t x = 0x0123456789ABCDEFull;
    for (unsigned i = 0; i < NWORDS; i++) lcg[i] = x = x * 6364136223846793005ull + 1442695040888963407ull;
}

static uint64_t lcg_word(unsigned i) { return lcg[i]; }
static uint64_t lcg_marked(unsigned i) { return i == MARK_INDEX ? MARK : lcg[i]; }

/* The words as they are in the host pages backing the guest's data. */
static uint64_t host_word(unsigned i)
{
    uint64_t gpa = GPA_DATA + 8ull * i;
    const uint8_t *p = host_page(gpa);
    if (!p) fail("no host page backs guest-physical", gpa);
    return *(const uint64_t *)(p + (gpa & 0xFFF));
}

/* ---- exits ---- */

static unsigned violations, vmcalls, moved, failures;

static void check(const char *what, uint64_t got, uint64_t want)
{
    print(got == want ? "vmm:   ok     " : "vmm:   WRONG  ");
    print(what);
    print(" ");
    print_hex(got);
    if (got != want) {
        print(", expected ");
        print_hex(want);
        failures++;
    }
    print("\n");
}

/* EPT violation (48): qualification bits (Table 28-7). */
static void ept_violation(void)
{
    uint64_t q = vmread(EXIT_QUALIFICATION), gpa = vmread(GUEST_PHYSICAL);
    violations++;
    print("vmm: EPT violation ");
    print_dec(violations);
    print(": ");
    print((q & 4) ? "fetch" : (q & 2) ? "write" : "read");
    print(" of guest-physical ");
    print_hex(gpa);
    if (q & (1u << 7)) {
        print((q & (1u << 8)) ? " (linear " : " (guest paging structure, walking linear ");
        print_hex(vmread(GUEST_LINEAR));
        print(")");
    }
    /* Bits 5:3: what the EPT entries allowed.  Every violation here must
     * be a page not yet mapped, which allows nothing. */
    if (q & 0x38) fail("violation on a page already mapped, qualification", q);
    if (gpa >= GUEST_RAM) fail("access beyond the guest's memory at", gpa);
    uint64_t hpa = map_guest_page(gpa & ~0xFFFull);
    print(" -> host-physical ");
    print_hex(hpa);
    print("\n");
}

/* INVEPT (SDM Vol. 3C 31.3): single-context for this EPTP where the
 * processor has it (IA32_VMX_EPT_VPID_CAP[25]), else all-context ([26]). */
static void invept(void)
{
    uint64_t type = (rdmsr(0x48C) >> 25) & 1 ? 1 : 2;
    struct { uint64_t eptp, zero; } desc = {vmread(EPT_POINTER), 0};
    uint8_t bad;
    __asm__ volatile("invept %1, %2; setbe %0" : "=q"(bad) : "m"(desc), "r"(type) : "cc", "memory");
    if (bad) fail("INVEPT failed, VM-instruction error", vmread(VM_INSTRUCTION_ERROR));
    print(type == 1 ? "vmm: INVEPT single-context\n" : "vmm: INVEPT all-context\n");
}

/* Move the guest's data to new host pages: copy each page, point its
 * EPT leaf at the copy, overwrite the old page.  The leaf stays present
 * with the same rights, but its address (bits 51:12) changes: the
 * processor may still hold guest-physical and combined mappings to the
 * old page (29.4.1), so software must invalidate them with INVEPT
 * (29.4.3.3, "Guidelines for Use of the INVEPT Instruction") before the
 * guest runs again.  (Without it the guest would read the overwritten
 * page: tests/vmx/ept_stale.S shows that.) */
static void migrate_data(void)
{
    for (unsigned i = 0; i < DATA_PAGES; i++) {
        uint64_t gpa = GPA_DATA + 0x1000ull * i;
        uint64_t *old = (uint64_t *)host_page(gpa);
        if (pool_used == POOL_PAGES) fail("out of host pages moving guest-physical", gpa);
        uint64_t hpa = POOL_BASE + 0x1000ull * pool_used;
        uint64_t *copy = (uint64_t *)(uintptr_t)hpa;
        for (unsigned k = 0; k < 512; k++) copy[k] = old[k];
        for (unsigned k = 0; k < 512; k++) old[k] = 0xDEADDEADDEADDEADull;
        mapped_gpa[pool_used++] = gpa;
        mapped_gpa[((uintptr_t)old - POOL_BASE) >> 12] = ~0ull;   /* free */
        uint64_t *pt = ept_table(ept_table(ept_table(ept[0], (unsigned)(gpa >> 39) & 511),
                                           (unsigned)(gpa >> 30) & 511),
                                 (unsigned)(gpa >> 21) & 511);
        pt[(gpa >> 12) & 511] = hpa | EPT_WB | EPT_RWX;
        print("vmm: moved guest-physical ");
        print_hex(gpa);
        print(" from host-physical ");
        print_hex((uintptr_t)old);
        print(" to ");
        print_hex(hpa);
        print("\n");
        moved++;
    }
    invept();
}

/* VMCALL (18): the guest's results (guest.S, steps 5 and 6). */
static void guest_results(struct guest_regs *r)
{
    uint64_t after = checksum(lcg_marked);
    vmcalls++;
    print("vmm: the guest reports (VMCALL ");
    print_dec(vmcalls);
    print("):\n");
    if (vmcalls == 1) {
        check("checksum through ALIAS    ", r->rax, checksum(lcg_word));
        check("mark written through ALIAS", r->rbx, MARK);
        check("checksum through DATA     ", r->rcx, after);
        check("checksum of the host pages", checksum(host_word), after);
        migrate_data();
    } else {
        check("checksum of the moved DATA", r->rax, after);
        check("checksum of the new pages ", checksum(host_word), after);
    }
}

static void __attribute__((noreturn)) guest_done(void)
{
    print("vmm: the guest halted after ");
    print_dec(violations);
    print(" EPT violations; ");
    print_dec(pool_used);
    print(" pages mapped (");
    print_dec(moved);
    print(" of them moved), ");
    print_dec(ept_used);
    print(" EPT paging structures (the PML4 and ");
    print_dec(ept_used - 1);
    print(" created on demand):\n");
    for (unsigned i = 0; i < pool_used; i++) {
        if (mapped_gpa[i] == ~0ull) continue;   /* moved away */
        print("vmm:   guest-physical ");
        print_hex(mapped_gpa[i]);
        print(" -> host-physical ");
        print_hex(POOL_BASE + 0x1000ull * i);
        print("\n");
    }
    /* 4 paging-structure pages, code, stack, 4 data pages; the data
     * moved once. */
    if (violations != 10 || pool_used != 10 + DATA_PAGES || vmcalls != 2) failures++;
    vmm_leave_vmx();
    print(failures ? "vmm: FAILED\n" : "vmm: done, all as expected\n");
    finish(failures ? 1 : 0);
}

void resume_failed(void)
{
    fail("VMRESUME failed, VM-instruction error", vmread(VM_INSTRUCTION_ERROR));
}

void handle_exit(struct guest_regs *r)
{
    uint32_t reason = (uint32_t)vmread(EXIT_REASON);
    switch (reason) {
    case 48:
        /* The access did not happen: resume at the same instruction. */
        ept_violation();
        return;
    case 18:
        guest_results(r);
        vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_LENGTH));
        return;
    case 12:
        guest_done();
    default:
        fail("unexpected VM exit, reason", reason);
    }
}

/* ---- set-up ---- */

static int setup_vmcs(void)
{
    unsigned bad = 0;
    /* Controls: HLT exiting (bit 7) and the secondary controls (31):
     * enable EPT (bit 1), and enable VPID (bit 5) where the processor
     * has it, so that the guest's translations survive its VM exits
     * (29.4.3.1).  A 64-bit host and guest. */
    uint64_t proc2_cap = rdmsr(0x48B) >> 32;
    if (!(rdmsr(0x482) >> 63) || !(proc2_cap & 2)) {
        print("vmm: this processor has no EPT\n");
        return -1;
    }
    uint32_t proc2 = 2 | (uint32_t)(proc2_cap & 0x20);
    bad |= vmwrite(PIN_CONTROLS, control(0x481, 0x48D, 0));
    bad |= vmwrite(PROC_CONTROLS, control(0x482, 0x48E, 1u << 7 | 1u << 31));
    bad |= vmwrite(PROC2_CONTROLS, proc2);
    if (proc2 & 0x20) bad |= vmwrite(VPID, 1);
    bad |= vmwrite(EXIT_CONTROLS, control(0x483, 0x48F, EXIT_HOST_64));
    bad |= vmwrite(ENTRY_CONTROLS, control(0x484, 0x490, ENTRY_GUEST_64));
    /* EPTP: the empty PML4, page-walk length 4 (bits 5:3 = 3), memory
     * type WB for the paging structures (bits 2:0 = 6) (25.6.11). */
    bad |= vmwrite(EPT_POINTER, (uint64_t)(uintptr_t)ept[0] | 3u << 3 | 6);
    bad |= vmwrite(LINK_POINTER, ~0ull);
    bad |= vmm_host_state(exit_stub);
    /* Guest state: 64-bit mode with paging, CR3 at the guest-physical
     * address of its PML4; no descriptor table in guest memory (the
     * guest loads no segment and takes no exception). */
    bad |= vmm_flat_guest(GPA_PML4, LA_CODE, LA_STACK_TOP, 0, 0, 0);
    return bad ? -1 : 0;
}

int main(void)
{
    print("vmm: lazy EPT - the guest starts with no guest-physical memory mapped\n");
    build_guest_page_tables();
    compute_lcg();
    if (vmm_enter_vmx()) return 5;
    if (setup_vmcs() < 0) {
        print("vmm: the VMCS could not be set up\n");
        return 6;
    }
    print("vmm: launching the guest at linear ");
    print_hex(LA_CODE);
    print(", EPT PML4 at host-physical ");
    print_hex((uint64_t)(uintptr_t)ept[0]);
    print(" (empty)\n");
    __asm__ volatile("vmlaunch" ::: "cc", "memory");
    print("vmm: VMLAUNCH failed, VM-instruction error ");
    print_dec(vmread(VM_INSTRUCTION_ERROR));
    print(" (vmxsim run --explain says which check)\n");
    return 7;
}
