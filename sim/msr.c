/*
 * msr.c - RDMSR and WRMSR.  The model has: IA32_FEATURE_CONTROL with its
 * lock (SDM Vol. 3C 24.7), the VMX capability MSRs from the profile
 * (read-only, Appendix A), IA32_TSC and IA32_TSC_AUX from the model's
 * counter, IA32_PAT with its memory-type checks, IA32_EFER, the
 * system-call and segment-base MSRs (held by Unicorn), and whatever other
 * MSRs the profile lists.  Anything else is #GP(0), as on hardware.
 */
#include "machine.h"

static int canonical(vmxsim *m, uint64_t v)
{
    (void)m;
    int64_t s = (int64_t)(v << 16) >> 16; /* 48-bit linear addresses */
    return (uint64_t)s == v;
}

/* IA32_FEATURE_CONTROL bits a write may set (SDM Vol. 4 Table 2-2):
 * 0 lock, 1 VMX in SMX (only with SMX), 2 VMX outside SMX, 8-14 SENTER
 * local functions and 15 SENTER global (only with SMX), 17/18 SGX launch
 * control and global enable, 20 LMCE. */
static uint64_t feature_control_writable(vmxsim *m)
{
    uint32_t r[4];
    uint64_t bits = 1u | (1u << 2) | (1u << 20);
    vx_profile_cpuid(&m->prof, 1, 0, r);
    if (r[2] & (1u << 6)) bits |= (1u << 1) | (0xFFull << 8);
    vx_profile_cpuid(&m->prof, 7, 0, r);
    if (r[1] & (1u << 2)) bits |= (1u << 17) | (1u << 18);
    return bits;
}

/* PAT entries must hold a valid memory type: 0 UC, 1 WC, 4 WT, 5 WP,
 * 6 WB, 7 UC- (SDM Vol. 3A 12.12.2). */
static int pat_ok(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (v >> (8 * i)) & 0xFF;
        if (t == 2 || t == 3 || t > 7) return 0;
    }
    return 1;
}

static int efer_ok(vmxsim *m, uint64_t v)
{
    uint32_t r[4];
    vx_profile_cpuid(&m->prof, 0x80000001, 0, r);
    uint64_t ok = 1u | (1u << 8) | (1u << 10); /* SCE, LME, LMA (ignored) */
    if (r[3] & (1u << 20)) ok |= 1u << 11;     /* NXE with CPUID NX */
    if (v & ~ok) return 0;
    uint64_t old = vx_msr_get(m, VX_MSR_EFER);
    /* LME cannot change while paging is on (SDM Vol. 3A 10.8.5). */
    if (((v ^ old) & (1u << 8)) && (vx_reg(m, UC_X86_REG_CR0) >> 31 & 1)) return 0;
    return 1;
}

static int unicorn_msr(uint32_t msr)
{
    switch (msr) {
    case VX_MSR_SYSENTER_CS: case VX_MSR_SYSENTER_ESP: case VX_MSR_SYSENTER_EIP:
    case VX_MSR_FS_BASE: case VX_MSR_GS_BASE: case VX_MSR_KERNEL_GS_BASE:
    case VX_MSR_STAR: case VX_MSR_LSTAR: case VX_MSR_CSTAR: case VX_MSR_FMASK:
    case VX_MSR_EFER:
        return 1;
    default:
        return 0;
    }
}

int vx_rdmsr(vmxsim *m, uint32_t msr, uint64_t *v)
{
    if (msr == VX_MSR_FEATURE_CONTROL) { *v = m->feature_control; return 0; }
    if (msr >= VX_VMX_MSR_FIRST && msr <= VX_VMX_MSR_LAST)
        return vx_profile_vmx_msr(&m->prof, msr, v);
    if (msr == VX_MSR_TSC) { *v = vx_tsc(m); return 0; }
    if (msr == VX_MSR_TSC_AUX) { *v = m->tsc_aux; return 0; }
    if (msr == VX_MSR_PAT) { *v = m->pat; return 0; }
    if (msr == VX_MSR_DEBUGCTL) { *v = m->debugctl; return 0; }
    if (unicorn_msr(msr)) { *v = vx_msr_get(m, msr); return 0; }
    const vx_profile_msr *p = vx_profile_msr_find(&m->prof, msr);
    if (p) { *v = m->profile_msr_val[p - m->prof.msrs]; return 0; }
    return -1;
}

int vx_wrmsr(vmxsim *m, uint32_t msr, uint64_t v)
{
    switch (msr) {
    case VX_MSR_FEATURE_CONTROL:
        /* Once locked, writes #GP until reset (SDM Vol. 3C 24.7). */
        if (m->feature_control & 1) return -1;
        if (v & ~feature_control_writable(m)) return -1;
        m->feature_control = v;
        return 0;
    case VX_MSR_TSC:
        vx_tsc_set(m, v);
        return 0;
    case VX_MSR_TSC_AUX:
        if (v >> 32) return -1;
        m->tsc_aux = v;
        return 0;
    case VX_MSR_PAT:
        if (!pat_ok(v)) return -1;
        m->pat = v;
        return 0;
    case VX_MSR_DEBUGCTL:
        /* Bits 5:2 and 63:16 are reserved (SDM Vol. 4 Table 2-2); the
         * model keeps the value (VM entry and exit load it) but traces,
         * branch recording and freezing are not modelled. */
        if (v & ~0xFFC3ull) return -1;
        m->debugctl = v;
        return 0;
    case VX_MSR_EFER:
        if (!efer_ok(m, v)) return -1;
        /* LMA is read-only: keep the processor's value. */
        v = (v & ~(1ull << 10)) | (vx_msr_get(m, VX_MSR_EFER) & (1ull << 10));
        vx_msr_set(m, msr, v);
        vx_flush_all(m);
        return 0;
    case VX_MSR_FS_BASE: case VX_MSR_GS_BASE: case VX_MSR_KERNEL_GS_BASE:
    case VX_MSR_LSTAR: case VX_MSR_CSTAR: case VX_MSR_SYSENTER_ESP:
    case VX_MSR_SYSENTER_EIP:
        if (!canonical(m, v)) return -1;
        vx_msr_set(m, msr, v);
        return 0;
    case VX_MSR_SYSENTER_CS: case VX_MSR_STAR: case VX_MSR_FMASK:
        vx_msr_set(m, msr, v);
        return 0;
    default:
        break;
    }
    if (msr >= VX_VMX_MSR_FIRST && msr <= VX_VMX_MSR_LAST) return -1; /* read-only */
    const vx_profile_msr *p = vx_profile_msr_find(&m->prof, msr);
    if (!p) return -1;
    m->profile_msr_val[p - m->prof.msrs] = v;
    return 0;
}

static void trace_msr(vmxsim *m, int write, uint32_t msr, uint64_t v, int ok)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_MSR)) return;
    json_t *ev = vx_ev_new(m, write ? "msr_write" : "msr_read");
    json_object_set_new(ev, "msr", vx_json_hex(msr));
    const char *name = vx_msr_name(msr);
    if (name) json_object_set_new(ev, "name", json_string(name));
    json_object_set_new(ev, "value", vx_json_hex(v));
    json_object_set_new(ev, "outcome", json_string(ok ? "ok" : "gp"));
    vx_ev_emit(m, VMXSIM_EV_MSR, ev);
}

vx_action vx_exec_msr(vmxsim *m, const vx_insn *in)
{
    if (vx_cpl(m) > 0) return vx_raise_gp0(m);
    uint32_t msr = (uint32_t)vx_gpr(m, 1);
    if (in->op == VX_OP_RDMSR) {
        uint64_t v = 0;
        int ok = vx_rdmsr(m, msr, &v) == 0;
        /* In VMX non-root operation RDMSR of IA32_TSC returns the TSC
         * with the guest's scaling and offset, as RDTSC does (26.3). */
        if (ok && msr == VX_MSR_TSC && m->vmx_nonroot) v = vx_nonroot_tsc(m, v);
        trace_msr(m, 0, msr, v, ok);
        if (!ok) return vx_raise_gp0(m);
        vx_set_gpr(m, 0, (uint32_t)v);
        vx_set_gpr(m, 2, v >> 32);
        return VX_NEXT;
    }
    uint64_t v = (vx_gpr(m, 2) << 32) | (uint32_t)vx_gpr(m, 0);
    int ok = vx_wrmsr(m, msr, v) == 0;
    trace_msr(m, 1, msr, v, ok);
    return ok ? VX_NEXT : vx_raise_gp0(m);
}

/* Names for the trace (SDM Vol. 4). */
const char *vx_msr_name(uint32_t msr)
{
    static const char *const vmx[VX_VMX_MSR_COUNT] = {
        "IA32_VMX_BASIC", "IA32_VMX_PINBASED_CTLS", "IA32_VMX_PROCBASED_CTLS",
        "IA32_VMX_EXIT_CTLS", "IA32_VMX_ENTRY_CTLS", "IA32_VMX_MISC",
        "IA32_VMX_CR0_FIXED0", "IA32_VMX_CR0_FIXED1", "IA32_VMX_CR4_FIXED0",
        "IA32_VMX_CR4_FIXED1", "IA32_VMX_VMCS_ENUM", "IA32_VMX_PROCBASED_CTLS2",
        "IA32_VMX_EPT_VPID_CAP", "IA32_VMX_TRUE_PINBASED_CTLS",
        "IA32_VMX_TRUE_PROCBASED_CTLS", "IA32_VMX_TRUE_EXIT_CTLS",
        "IA32_VMX_TRUE_ENTRY_CTLS", "IA32_VMX_VMFUNC", "IA32_VMX_PROCBASED_CTLS3",
        "IA32_VMX_EXIT_CTLS2",
    };
    if (msr >= VX_VMX_MSR_FIRST && msr <= VX_VMX_MSR_LAST)
        return vmx[msr - VX_VMX_MSR_FIRST];
    switch (msr) {
    case VX_MSR_TSC: return "IA32_TSC";
    case VX_MSR_FEATURE_CONTROL: return "IA32_FEATURE_CONTROL";
    case VX_MSR_PAT: return "IA32_PAT";
    case VX_MSR_EFER: return "IA32_EFER";
    case VX_MSR_TSC_AUX: return "IA32_TSC_AUX";
    case VX_MSR_SYSENTER_CS: return "IA32_SYSENTER_CS";
    case VX_MSR_SYSENTER_ESP: return "IA32_SYSENTER_ESP";
    case VX_MSR_SYSENTER_EIP: return "IA32_SYSENTER_EIP";
    case VX_MSR_DEBUGCTL: return "IA32_DEBUGCTL";
    case VX_MSR_FS_BASE: return "IA32_FS_BASE";
    case VX_MSR_GS_BASE: return "IA32_GS_BASE";
    case VX_MSR_KERNEL_GS_BASE: return "IA32_KERNEL_GS_BASE";
    case VX_MSR_STAR: return "IA32_STAR";
    case VX_MSR_LSTAR: return "IA32_LSTAR";
    case VX_MSR_CSTAR: return "IA32_CSTAR";
    case VX_MSR_FMASK: return "IA32_FMASK";
    default: return NULL;
    }
}
