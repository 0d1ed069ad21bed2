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
#include "../../examples/common/vmm.h"

enum { REASON_CPUID = 10, REASON_VMCALL = 18 };

static uint8_t guest_stack[16384] __attribute__((aligned(16)));
static uint64_t exits;

extern void guest_main(void);
extern void vmm_exit_entry(void);   /* exit_stub.S */

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
static unsigned setup_guest_paging(void)
{
    if (!vmm_ept_setup) return 0;
    uint64_t proc2_cap = rdmsr(0x48B);   /* no TRUE_ form (A.3.3) */
    if (!(rdmsr(0x482) >> 63) || !(proc2_cap >> 32 & 2)) bench_finish(15);   /* no EPT */
    uint64_t eptp = vmm_ept_setup();
    if (!eptp) bench_finish(16);
    unsigned bad = vmwrite(PROC_CONTROLS, control(0x482, 0x48E, 1u << 31));
    bad |= vmwrite(PROC2_CONTROLS, ((uint32_t)proc2_cap | 2u) & (uint32_t)(proc2_cap >> 32));
    bad |= vmwrite(EPT_POINTER, eptp);
    return bad;
}

static unsigned setup_vmcs(void)
{
    unsigned bad = 0;
    /* Controls: only what the capability MSRs require, and 64-bit host
     * and guest.  No HLT, I/O, MSR or CR exiting: CPUID and VMCALL are
     * the only exits the workloads cause. */
    bad |= vmwrite(PIN_CONTROLS, control(0x481, 0x48D, 0));
    bad |= vmwrite(PROC_CONTROLS, control(0x482, 0x48E, 0));
    bad |= vmwrite(EXIT_CONTROLS, control(0x483, 0x48F, EXIT_HOST_64));
    bad |= vmwrite(ENTRY_CONTROLS, control(0x484, 0x490, ENTRY_GUEST_64));
    bad |= vmwrite(LINK_POINTER, ~0ull);
    bad |= vmm_host_state(vmm_exit_entry);
    /* Guest state (25.4): flat 64-bit code at CPL 0 on its own stack,
     * on the host's page tables and descriptor tables. */
    bad |= vmm_flat_guest(vmm_cr3(), (uint64_t)(uintptr_t)guest_main,
                          (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack),
                          (uint64_t)(uintptr_t)vmm_tss, (uint64_t)(uintptr_t)vmm_gdt,
                          sizeof vmm_gdt - 1);
    bad |= setup_guest_paging();
    return bad;
}

/* Called by exit_stub.S on every VM exit; returning resumes the guest. */
void vmm_exit_handler(void)
{
    uint32_t reason = (uint32_t)vmread(EXIT_REASON) & 0xFFFF;  /* basic reason, 25.9.1 */
    exits++;
    if (reason == REASON_CPUID) {
        if (vmm_ept_on_cpuid) vmm_ept_on_cpuid();
        vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_LENGTH));
        return;
    }
    BENCH_P->out[7] = exits;
    bench_finish(reason == REASON_VMCALL ? 0 : 20 + reason);
}

void vmm_resume_failed(void)
{
    BENCH_P->out[6] = vmread(VM_INSTRUCTION_ERROR);
    bench_finish(11);
}

int main(void)
{
    bench_check_params();
    if (vmm_enter_vmx()) bench_finish(12);
    if (setup_vmcs()) bench_finish(13);
    __asm__ volatile("vmlaunch" ::: "cc", "memory");
    /* VMLAUNCH falls through only when it fails (31.2). */
    BENCH_P->out[6] = vmread(VM_INSTRUCTION_ERROR);
    bench_finish(14);
}
