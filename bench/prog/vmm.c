/*
 * vmm.c - the benchmarks' VMM: the smallest VMM that runs one 64-bit
 * guest (guest_main, from the workload's guest file) and handles only
 * what the workloads make it handle.  Same approach as examples/vmm
 * (VMXON, one VMCS, VMLAUNCH, an exit stub that saves the registers C
 * may clobber), but with no more exits than the controls require, so
 * that a round trip is what the benchmark says it is:
 *
 *   CPUID (exit reason 10)   exits unconditionally in VMX non-root
 *                            operation (SDM Vol. 3C 26.1.2); the VMM
 *                            does not emulate it, only skips it: guest
 *                            RIP += VM-exit instruction length (28.2.4),
 *                            then VMRESUME (under vmm_ept.c's EPT, with
 *                            an INVEPT first when the guest asked).
 *   VMCALL (18)              also unconditional: the guest is done; the
 *                            run ends through port 0xF4.
 *   anything else            a failure (status 20 + reason).
 *
 * Guest paging: the guest starts on the VMM's own page tables (guest CR3
 * = host CR3), without EPT unless vmm_ept.c is linked in (then with the
 * EPT it builds: setup_guest_paging() below; docs/bench.md); a guest
 * that wants its own paging loads CR3 itself (CR3-load exiting is off
 * with the TRUE_ capability MSRs).
 *
 * Out: out[7] = VM exits handled (all reasons, VMCALL included).
 */
#include "bench.h"

/* ---- VMCS fields (SDM Vol. 3D Appendix B) ---- */
enum {
    F_PIN = 0x4000, F_PROC = 0x4002, F_PROC2 = 0x401E, F_EXIT_CTLS = 0x400C,
    F_ENTRY_CTLS = 0x4012, F_LINK = 0x2800, F_EPTP = 0x201A,
    F_INSN_ERROR = 0x4400, F_EXIT_REASON = 0x4402, F_EXIT_LEN = 0x440C,
    F_HOST_CR0 = 0x6C00, F_HOST_CR3 = 0x6C02, F_HOST_CR4 = 0x6C04,
    F_HOST_ES = 0x0C00, F_HOST_TR = 0x0C0C, F_HOST_TR_BASE = 0x6C0A,
    F_HOST_GDTR_BASE = 0x6C0C, F_HOST_IDTR_BASE = 0x6C0E,
    F_HOST_RSP = 0x6C14, F_HOST_RIP = 0x6C16,
    F_GUEST_CR0 = 0x6800, F_GUEST_CR3 = 0x6802, F_GUEST_CR4 = 0x6804,
    F_GUEST_SEL = 0x0800, F_GUEST_LIMIT = 0x4800, F_GUEST_AR = 0x4814,
    F_GUEST_BASE = 0x6806, F_GUEST_GDTR_BASE = 0x6816, F_GUEST_GDTR_LIMIT = 0x4810,
    F_GUEST_IDTR_BASE = 0x6818, F_GUEST_IDTR_LIMIT = 0x4812,
    F_GUEST_DR7 = 0x681A, F_GUEST_RSP = 0x681C, F_GUEST_RIP = 0x681E,
    F_GUEST_RFLAGS = 0x6820,
};
/* Segment fields come in the order ES, CS, SS, DS, FS, GS, LDTR, TR,
 * two encodings apart (Appendix B.1.2, B.3.3, B.4.3). */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR };

enum {
    EXIT_HOST_64 = 1u << 9,      /* host address-space size (25.7.1) */
    ENTRY_GUEST_64 = 1u << 9,    /* IA-32e mode guest (25.8.1) */
    REASON_CPUID = 10, REASON_VMCALL = 18,
};

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t vmread(uint64_t field)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
    return v;
}

/* Nonzero when the VMWRITE failed: CF or ZF set (VMfailInvalid,
 * VMfailValid, 31.2). */
static unsigned vmwrite(uint64_t field, uint64_t v)
{
    uint8_t bad;
    __asm__ volatile("vmwrite %2, %1; setbe %0" : "=q"(bad) : "r"(field), "rm"(v) : "cc");
    return bad;
}

static unsigned vmx_region_op_failed(int which, uint64_t pa)
{
    uint8_t bad;
    switch (which) {
    case 0: __asm__ volatile("vmxon %1; setbe %0" : "=q"(bad) : "m"(pa) : "cc", "memory"); break;
    case 1: __asm__ volatile("vmclear %1; setbe %0" : "=q"(bad) : "m"(pa) : "cc", "memory"); break;
    default: __asm__ volatile("vmptrld %1; setbe %0" : "=q"(bad) : "m"(pa) : "cc", "memory"); break;
    }
    return bad;
}

static uint8_t vmxon_page[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_page[4096] __attribute__((aligned(4096)));
static uint8_t host_stack[16384] __attribute__((aligned(16)));
static uint8_t guest_stack[16384] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint64_t gdt[5] __attribute__((aligned(8)));
static uint64_t exits;

extern void guest_main(void);
extern void vmm_exit_entry(void);   /* exit_stub.S */

/* A GDT with a TSS: VM exits load TR from the host-state area, and
 * its selector must not be null (27.2.3). */
static void setup_gdt(void)
{
    uint64_t t = (uint64_t)(uintptr_t)tss;
    gdt[1] = 0x00AF9B000000FFFFull;   /* 64-bit code, DPL 0 */
    gdt[2] = 0x00CF93000000FFFFull;   /* flat data */
    gdt[3] = 0x0000890000000067ull | (t & 0xFFFFFF) << 16 | (t >> 24 & 0xFF) << 56;
    gdt[4] = t >> 32;                 /* the 64-bit TSS takes two slots */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {
        sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0; ltr %w1" : : "m"(d), "r"(SEL_TSS));
}

/* A VM-execution, exit or entry control: the bits the capability MSR
 * says must be 1, plus `want`, minus what it says must be 0 (Appendix
 * A.3-A.5; the TRUE_ MSRs when IA32_VMX_BASIC bit 55 says they exist,
 * which lets CR3-load and CR3-store exiting be 0). */
static uint32_t control(uint32_t msr, uint32_t true_msr, uint32_t want)
{
    uint64_t cap = rdmsr(rdmsr(0x480) >> 55 & 1 ? true_msr : msr);
    return ((uint32_t)cap | want) & (uint32_t)(cap >> 32);
}

/* A program under a real EPT links vmm_ept.c, which defines these; the
 * others leave them undefined (weak: null). */
uint64_t vmm_ept_setup(void) __attribute__((weak));
void vmm_ept_on_cpuid(void) __attribute__((weak));

/* Guest paging: the guest's CR3 is the host's.  Without EPT that is all
 * (guest-physical = physical, 29.3).  With vmm_ept.c linked, the VMM
 * also builds an EPT and enables it: the primary control "activate
 * secondary controls" (bit 31, 25.6.2), the secondary control "enable
 * EPT" (bit 1), the EPT pointer (25.6.11).  The guest's CR3 is then a
 * guest-physical address, which that EPT maps to the same host-physical
 * one (low memory is mapped one to one; pw_layout.h). */
static unsigned setup_guest_paging(uint64_t cr3)
{
    unsigned bad = vmwrite(F_GUEST_CR3, cr3);
    if (!vmm_ept_setup) return bad;
    uint64_t proc2_cap = rdmsr(0x48B);   /* no TRUE_ form (A.3.3) */
    if (!(rdmsr(0x482) >> 63) || !(proc2_cap >> 32 & 2)) bench_finish(15);   /* no EPT */
    uint64_t eptp = vmm_ept_setup();
    if (!eptp) bench_finish(16);
    bad |= vmwrite(F_PROC, control(0x482, 0x48E, 1u << 31));
    bad |= vmwrite(F_PROC2, ((uint32_t)proc2_cap | 2u) & (uint32_t)(proc2_cap >> 32));
    bad |= vmwrite(F_EPTP, eptp);
    return bad;
}

static unsigned setup_vmcs(void)
{
    uint64_t cr0, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    unsigned bad = 0;
    /* Controls: only what the capability MSRs require, and 64-bit host
     * and guest.  No HLT, I/O, MSR or CR exiting: CPUID and VMCALL are
     * the only exits the workloads cause. */
    bad |= vmwrite(F_PIN, control(0x481, 0x48D, 0));
    bad |= vmwrite(F_PROC, control(0x482, 0x48E, 0));
    bad |= vmwrite(F_EXIT_CTLS, control(0x483, 0x48F, EXIT_HOST_64));
    bad |= vmwrite(F_ENTRY_CTLS, control(0x484, 0x490, ENTRY_GUEST_64));
    bad |= vmwrite(F_LINK, ~0ull);

    /* Host state (25.5): this program as it runs now. */
    bad |= vmwrite(F_HOST_CR0, cr0) | vmwrite(F_HOST_CR3, cr3) | vmwrite(F_HOST_CR4, cr4);
    for (unsigned s = S_ES; s <= S_GS; s++)
        bad |= vmwrite(F_HOST_ES + 2 * s, s == S_CS ? SEL_CODE : SEL_DATA);
    bad |= vmwrite(F_HOST_TR, SEL_TSS) | vmwrite(F_HOST_TR_BASE, (uint64_t)(uintptr_t)tss);
    bad |= vmwrite(F_HOST_GDTR_BASE, (uint64_t)(uintptr_t)gdt) | vmwrite(F_HOST_IDTR_BASE, 0);
    bad |= vmwrite(F_HOST_RSP, (uint64_t)(uintptr_t)(host_stack + sizeof host_stack));
    bad |= vmwrite(F_HOST_RIP, (uint64_t)(uintptr_t)vmm_exit_entry);

    /* Guest state (25.4): flat 64-bit code at CPL 0 on its own stack. */
    bad |= vmwrite(F_GUEST_CR0, cr0) | vmwrite(F_GUEST_CR4, cr4) | setup_guest_paging(cr3);
    bad |= vmwrite(F_GUEST_DR7, 0x400) | vmwrite(F_GUEST_RFLAGS, 2);
    bad |= vmwrite(F_GUEST_RSP, (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack));
    bad |= vmwrite(F_GUEST_RIP, (uint64_t)(uintptr_t)guest_main);
    for (unsigned s = S_ES; s <= S_GS; s++) {
        bad |= vmwrite(F_GUEST_SEL + 2 * s, s == S_CS ? SEL_CODE : SEL_DATA);
        bad |= vmwrite(F_GUEST_LIMIT + 2 * s, 0xFFFFFFFF);
        bad |= vmwrite(F_GUEST_AR + 2 * s, s == S_CS ? 0xA09B : 0xC093);  /* G, L/DB, P, S, type */
    }
    bad |= vmwrite(F_GUEST_AR + 2 * S_LDTR, 0x10000);                      /* unusable */
    bad |= vmwrite(F_GUEST_SEL + 2 * S_TR, SEL_TSS);
    bad |= vmwrite(F_GUEST_BASE + 2 * S_TR, (uint64_t)(uintptr_t)tss);
    bad |= vmwrite(F_GUEST_LIMIT + 2 * S_TR, sizeof tss - 1);
    bad |= vmwrite(F_GUEST_AR + 2 * S_TR, 0x8B);                           /* busy 64-bit TSS */
    bad |= vmwrite(F_GUEST_GDTR_BASE, (uint64_t)(uintptr_t)gdt);
    bad |= vmwrite(F_GUEST_GDTR_LIMIT, sizeof gdt - 1);
    bad |= vmwrite(F_GUEST_IDTR_BASE, 0) | vmwrite(F_GUEST_IDTR_LIMIT, 0);
    return bad;
}

/* Called by exit_stub.S on every VM exit; returning resumes the guest. */
void vmm_exit_handler(void)
{
    uint32_t reason = (uint32_t)vmread(F_EXIT_REASON) & 0xFFFF;  /* basic reason, 25.9.1 */
    exits++;
    if (reason == REASON_CPUID) {
        if (vmm_ept_on_cpuid) vmm_ept_on_cpuid();
        vmwrite(F_GUEST_RIP, vmread(F_GUEST_RIP) + vmread(F_EXIT_LEN));
        return;
    }
    BENCH_P->out[7] = exits;
    bench_finish(reason == REASON_VMCALL ? 0 : 20 + reason);
}

void vmm_resume_failed(void)
{
    BENCH_P->out[6] = vmread(F_INSN_ERROR);
    bench_finish(11);
}

int main(void)
{
    bench_check_params();
    setup_gdt();
    /* CR0 and CR4 with the bits VMX operation needs fixed to 1 (IA32_VMX_CR0/
     * CR4_FIXED0, A.7-A.8), CR4.VMXE among them (24.7). */
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    cr0 |= rdmsr(0x486);
    cr4 |= rdmsr(0x488) | 1u << 13;
    __asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" : : "r"(cr0), "r"(cr4));
    uint32_t revision = (uint32_t)rdmsr(0x480) & 0x7FFFFFFF;
    *(uint32_t *)vmxon_page = revision;
    *(uint32_t *)vmcs_page = revision;
    uint64_t on = (uint64_t)(uintptr_t)vmxon_page, vmcs = (uint64_t)(uintptr_t)vmcs_page;
    if (vmx_region_op_failed(0, on) || vmx_region_op_failed(1, vmcs) || vmx_region_op_failed(2, vmcs))
        bench_finish(12);
    if (setup_vmcs()) bench_finish(13);
    __asm__ volatile("vmlaunch" ::: "cc", "memory");
    /* VMLAUNCH falls through only when it fails (31.2). */
    BENCH_P->out[6] = vmread(F_INSN_ERROR);
    bench_finish(14);
}
