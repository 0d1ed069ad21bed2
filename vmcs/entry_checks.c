/*
 * entry_checks.c - the VM-entry checks of SDM Vol. 3C 27.2 (VMX controls,
 * host-state area, address-space size) and 27.3.1 (guest-state area),
 * each rule one line of vmcs/entry_checks.def, evaluated in that order;
 * the first failure is reported.  Section numbers: 2023+ SDM editions.
 *
 * Facts (not code) cross-checked against VirtualBox
 * src/VBox/VMM/VMMAll/IEMAllCImplVmxInstr.cpp (iemVmxVmentryCheck*) and
 * Bochs bochs/cpu/vmx.cc (VMenterLoadCheckVmControls/HostState/
 * GuestState); where they disagree with each other or with the SDM the
 * SDM text wins (docs/entry-checks.md lists the differences).
 */
#include <string.h>

#include "controls.h"
#include "entry_checks.h"

/* ---- The table ---------------------------------------------------------- */

static const struct vx_check_def {
    const char *name, *sdm, *desc;
    int cls;
} check_defs[VX_CHECK_COUNT] = {
#define VX_CHECK(id, cls, sec, desc) { #id, sec, desc, VX_CHECK_##cls },
#include "entry_checks.def"
#undef VX_CHECK
};

const char *vx_check_name(int id)
{
    return id >= 0 && id < VX_CHECK_COUNT ? check_defs[id].name : "unknown";
}

const char *vx_check_sdm(int id)
{
    return id >= 0 && id < VX_CHECK_COUNT ? check_defs[id].sdm : "unknown";
}

const char *vx_check_desc(int id)
{
    return id >= 0 && id < VX_CHECK_COUNT ? check_defs[id].desc : "unknown";
}

int vx_check_class_of(int id)
{
    return id >= 0 && id < VX_CHECK_COUNT ? check_defs[id].cls : -1;
}

/* The exit qualification of a VM-entry failure (27.8). */
static uint64_t qualification_of(int id)
{
    switch (id) {
    case VX_CHECK_guest_intr_nmi_sti:
        return VX_ENTRY_QUAL_NMI_STI;
    case VX_CHECK_guest_vmcs_link_align: case VX_CHECK_guest_vmcs_link_width:
    case VX_CHECK_guest_vmcs_link_revision: case VX_CHECK_guest_vmcs_link_shadow:
    case VX_CHECK_guest_vmcs_link_current: case VX_CHECK_guest_vmcs_link_executive:
        return VX_ENTRY_QUAL_VMCS_LINK;
    case VX_CHECK_guest_pdpte0_mem: case VX_CHECK_guest_pdpte1_mem:
    case VX_CHECK_guest_pdpte2_mem: case VX_CHECK_guest_pdpte3_mem:
    case VX_CHECK_guest_pdptr0: case VX_CHECK_guest_pdptr1:
    case VX_CHECK_guest_pdptr2: case VX_CHECK_guest_pdptr3:
        return VX_ENTRY_QUAL_PDPTE;
    default:
        return VX_ENTRY_QUAL_DEFAULT;
    }
}

/* ---- Context and failure reporting ------------------------------------- */

typedef struct chk {
    const vx_entry_env *e;
    const vx_profile *p;
    const vx_vmcs *v;
    vx_entry_failure *f;
} chk;

/* The model has no system-management mode: the logical processor is never
 * in SMM at VM entry, which decides several rules of 27.2.1.3 and 27.3.1.5. */
static const int in_smm = 0;

static int setup(chk *c, const vx_entry_env *e, vx_entry_failure *f,
                 vx_entry_failure *scratch)
{
    c->f = f ? f : scratch;
    memset(c->f, 0, sizeof *c->f);
    c->f->check = -1;
    if (!e || !e->prof || !e->vmcs || !e->vmcs->val)
        return -1;
    c->e = e;
    c->p = e->prof;
    c->v = e->vmcs;
    return 0;
}

static uint64_t get(const chk *c, uint32_t enc)
{
    return vx_vmcs_get(c->v, enc);
}

/* Record check id with up to three fields and their values; returns -1. */
static int fail_vals(chk *c, int id, int n, const uint32_t *enc,
                     const uint64_t *val)
{
    vx_entry_failure *f = c->f;
    f->check = id;
    f->nfields = n;
    for (int i = 0; i < n; i++) {
        f->field[i] = enc[i];
        f->value[i] = val[i];
    }
    f->qualification = qualification_of(id);
    return -1;
}

/* The same, the values being the fields' VMCS contents. */
static int fail_fields(chk *c, int id, int n, uint32_t e0, uint32_t e1, uint32_t e2)
{
    uint32_t enc[3] = { e0, e1, e2 };
    uint64_t val[3];
    for (int i = 0; i < n; i++)
        val[i] = get(c, enc[i]);
    return fail_vals(c, id, n, enc, val);
}

#define FAIL1(id, f0) fail_fields(c, VX_CHECK_##id, 1, VX_ENC_##f0, 0, 0)
#define FAIL2(id, f0, f1) fail_fields(c, VX_CHECK_##id, 2, VX_ENC_##f0, VX_ENC_##f1, 0)
#define FAIL3(id, f0, f1, f2) \
    fail_fields(c, VX_CHECK_##id, 3, VX_ENC_##f0, VX_ENC_##f1, VX_ENC_##f2)
#define G(name) get(c, VX_ENC_##name)
#define BIT(v, n) ((unsigned)(((v) >> (n)) & 1u))

/* ---- Processor facts from the profile ----------------------------------- */

static uint64_t cap(const vx_profile *p, uint32_t msr)
{
    uint64_t v = 0;
    if (vx_profile_vmx_msr(p, msr, &v) != 0)
        return 0;   /* an absent capability MSR allows nothing */
    return v;
}

/* A 32-bit control field's capability: allowed 0-settings in bits 31:0
 * (a 1 there means the control must be 1), allowed 1-settings in 63:32.
 * When IA32_VMX_BASIC[55] is 1 the TRUE_ MSR reports them (SDM Vol. 3D
 * A.3.1, A.3.2, A.4.1, A.5). */
static uint64_t ctl_cap(const vx_profile *p, uint32_t msr, uint32_t true_msr)
{
    uint64_t v;
    if (BIT(cap(p, VX_MSR_VMX_BASIC), VX_BASIC_TRUE_CTLS_BIT) &&
        vx_profile_vmx_msr(p, true_msr, &v) == 0)
        return v;
    return cap(p, msr);
}

static int ctl32_ok(uint64_t val, uint64_t capv)
{
    uint32_t must1 = (uint32_t)capv, may1 = (uint32_t)(capv >> 32);
    return (val & must1) == must1 && !(val & ~(uint64_t)may1);
}

/* CPUID as the profile lists it: the leaf (and subleaf) entry itself, 0
 * when absent.  Read here rather than through vx_profile_cpuid so that an
 * absent feature leaf reads as "no feature". */
enum { EAX, EBX, ECX, EDX };
static uint32_t cpuid_reg(const vx_profile *p, uint32_t leaf, uint32_t sub, int reg)
{
    int n = p->ncpuid < VX_PROFILE_MAX_CPUID ? p->ncpuid : VX_PROFILE_MAX_CPUID;
    for (int i = 0; i < n; i++) {
        const vx_cpuid_leaf *l = &p->cpuid[i];
        if (l->leaf != leaf || (l->has_subleaf && l->subleaf != sub))
            continue;
        switch (reg) {
        case EAX: return l->eax;
        case EBX: return l->ebx;
        case ECX: return l->ecx;
        default: return l->edx;
        }
    }
    return 0;
}

/* Physical-address width for the VMX structures the VMCS points to:
 * 32 when IA32_VMX_BASIC[48] is 1 (A.1, footnotes of 27.2.1), else
 * MAXPHYADDR. */
static unsigned vmx_pa_width(const vx_profile *p)
{
    return BIT(cap(p, VX_MSR_VMX_BASIC), VX_BASIC_ADDR32_BIT) ? 32 : p->maxphyaddr;
}

static int pa_ok(uint64_t a, unsigned width)
{
    return width >= 64 || !(a >> width);
}

static int page_ok(const chk *c, uint64_t a)
{
    return !(a & 0xfff) && pa_ok(a, vmx_pa_width(c->p));
}

/* Linear-address width: 57 on a processor with 5-level paging
 * (CPUID.(EAX=07H,ECX=0):ECX.LA57[bit 16]), else 48.  The VM-entry
 * canonicality checks use the processor's width, not the guest's CR4.LA57
 * (as KVM's consistency checks do since 2024). */
static unsigned la_width(const vx_profile *p)
{
    return BIT(cpuid_reg(p, 7, 0, ECX), 16) ? 57 : 48;
}

static int canonical(const chk *c, uint64_t a)
{
    uint64_t top = a >> (la_width(c->p) - 1);
    return top == 0 || top == (UINT64_MAX >> (la_width(c->p) - 1));
}

/* IA32_EFER bits the processor has: SCE, LME, LMA, and NXE with
 * CPUID.80000001H:EDX.NX[bit 20] (the same rule as WRMSR in sim/msr.c). */
static uint64_t efer_valid(const vx_profile *p)
{
    uint64_t ok = EFER_SCE | EFER_LME | EFER_LMA;
    if (BIT(cpuid_reg(p, 0x80000001u, 0, EDX), 20))
        ok |= EFER_NXE;
    return ok;
}

/* IA32_PERF_GLOBAL_CTRL (Vol. 3B 21.2.2): one enable bit per general-purpose
 * counter (CPUID.0AH:EAX[15:8]) from bit 0 and per fixed counter
 * (CPUID.0AH:EDX[4:0]) from bit 32; the rest is reserved. */
static uint64_t perf_global_valid(const vx_profile *p)
{
    unsigned gp = (cpuid_reg(p, 0xa, 0, EAX) >> 8) & 0xff;
    unsigned fixed = cpuid_reg(p, 0xa, 0, EDX) & 0x1f;
    uint64_t v = gp >= 32 ? 0xffffffffull : ((1ull << gp) - 1);
    v |= (fixed >= 32 ? 0xffffffffull : ((1ull << fixed) - 1)) << 32;
    return v;
}

/* IA32_PAT: every byte a memory type WRMSR accepts (Vol. 3A 13.12.2). */
static int pat_ok(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (unsigned)(pat >> (8 * i)) & 0xff;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return 0;
    }
    return 1;
}

/* IA32_DEBUGCTL bits (Vol. 3B 18.4.1, 17.3.3): LBR, BTF, TR, BTS, BTINT,
 * BTS_OFF_OS, BTS_OFF_USR, FREEZE_LBRS_ON_PMI, FREEZE_PERFMON_ON_PMI,
 * ENABLE_UNCORE_PMI, FREEZE_WHILE_SMM, RTM_DEBUG (bits 0, 1, 6-15), and bus
 * lock detection (bit 2) with CPUID.(EAX=07H,ECX=0):ECX[24]. */
static uint64_t debugctl_valid(const vx_profile *p)
{
    uint64_t v = 0xffc3;
    if (BIT(cpuid_reg(p, 7, 0, ECX), 24))
        v |= 1u << 2;
    return v;
}

/* IA32_RTIT_CTL reserved bits (Vol. 3C 33.2.8.2): 18, 23, 31:28, 55:48,
 * 63:57.  Bits that depend on Intel PT capabilities are not narrowed
 * further (the model has no Intel PT). */
#define RTIT_CTL_RESERVED 0xfeff0000f0840000ull
/* IA32_LBR_CTL (Vol. 3B 18.1.2.1): LBREn, OS, USR, CALL_STACK (3:0) and the
 * branch-type filters (22:16). */
#define LBR_CTL_VALID 0x7f000full
/* IA32_S_CET (Vol. 1 18.3.1): reserved bits 9:6; SUPPRESS (10) and
 * TRACKER (11). */
#define S_CET_RESERVED 0x3c0ull
#define S_CET_SUPPRESS_TRACKER 0xc00ull
/* IA32_BNDCFGS (Vol. 1 17.3.3): reserved bits 11:2. */
#define BNDCFGS_RESERVED 0xffcull

/* ---- 27.2.1 Checks on VMX controls ------------------------------------- */

/* The EPTP rules of 27.2.1.1, which INVEPT (single-context) and VMFUNC
 * EPTP switching apply too (31.3 INVEPT, 26.5.6.3): the identifier of the
 * first rule eptp breaks, or -1. */
int vx_eptp_check(const vx_profile *p, uint64_t eptp)
{
    const uint64_t ec = cap(p, VX_MSR_VMX_EPT_VPID_CAP);
    const unsigned mt = (unsigned)(eptp & VX_EPTP_MEMTYPE_MASK);
    const unsigned walk = (unsigned)(eptp >> VX_EPTP_WALK_SHIFT) & 7;
    if (!((mt == VX_MEMTYPE_UC && BIT(ec, VX_EPTCAP_UC_BIT)) ||
          (mt == VX_MEMTYPE_WB && BIT(ec, VX_EPTCAP_WB_BIT))))
        return VX_CHECK_ctl_eptp_memtype;
    if (!((walk == 3 && BIT(ec, VX_EPTCAP_WALK4_BIT)) ||
          (walk == 4 && BIT(ec, VX_EPTCAP_WALK5_BIT))))
        return VX_CHECK_ctl_eptp_walk_length;
    if ((eptp & VX_EPTP_AD) && !BIT(ec, VX_EPTCAP_AD_BIT)) return VX_CHECK_ctl_eptp_ad;
    if ((eptp & VX_EPTP_SSS) && !BIT(ec, VX_EPTCAP_SSS_BIT)) return VX_CHECK_ctl_eptp_sss;
    if ((eptp & VX_EPTP_RESERVED_LOW) || !pa_ok(eptp, p->maxphyaddr))
        return VX_CHECK_ctl_eptp_reserved;
    return -1;
}

/* An MSR area (27.2.1.2, 27.2.1.3): 16-byte aligned, start and last byte
 * within the physical-address width (the end is computed in 64 bits; the
 * start is below 2^52 once its own check passed, so nothing overflows). */
static int msr_area_start_ok(const chk *c, uint64_t a)
{
    return !(a & 0xf) && pa_ok(a, vmx_pa_width(c->p));
}

static int msr_area_end_ok(const chk *c, uint64_t a, uint64_t count)
{
    return pa_ok(a + count * 16 - 1, vmx_pa_width(c->p));
}

int vx_entry_check_controls(const vx_entry_env *e, vx_entry_failure *f)
{
    vx_entry_failure scratch;
    chk cc, *c = &cc;
    if (setup(c, e, f, &scratch))
        return -1;
    const vx_profile *p = c->p;

    const uint64_t pin = G(pin_based_vm_exec_control);
    const uint64_t proc = G(cpu_based_vm_exec_control);
    const uint64_t exit = G(vm_exit_controls);
    const uint64_t entry = G(vm_entry_controls);

    /* ---- 27.2.1.1 VM-execution control fields ---- */
    if (!ctl32_ok(pin, ctl_cap(p, VX_MSR_VMX_PINBASED_CTLS, VX_MSR_VMX_TRUE_PINBASED_CTLS)))
        return FAIL1(ctl_pin_reserved, pin_based_vm_exec_control);
    const uint64_t proc_cap = ctl_cap(p, VX_MSR_VMX_PROCBASED_CTLS,
                                      VX_MSR_VMX_TRUE_PROCBASED_CTLS);
    if (!ctl32_ok(proc, proc_cap))
        return FAIL1(ctl_proc_reserved, cpu_based_vm_exec_control);
    /* With "activate secondary controls" 0 the secondary controls are not
     * checked and act as 0; likewise the tertiary ones. */
    uint64_t proc2 = 0;
    if (proc & VX_PROC_SECONDARY) {
        proc2 = G(secondary_vm_exec_control);
        if (!ctl32_ok(proc2, cap(p, VX_MSR_VMX_PROCBASED_CTLS2)))
            return FAIL1(ctl_proc2_reserved, secondary_vm_exec_control);
    }
    if (proc & VX_PROC_TERTIARY) {
        if (G(tertiary_vm_exec_control) & ~cap(p, VX_MSR_VMX_PROCBASED_CTLS3))
            return FAIL1(ctl_proc3_reserved, tertiary_vm_exec_control);
    }
    if (G(cr3_target_count) > ((cap(p, VX_MSR_VMX_MISC) >> VX_MISC_CR3_TARGETS_SHIFT) &
                               VX_MISC_CR3_TARGETS_MASK))
        return FAIL1(ctl_cr3_target_count, cr3_target_count);
    if (proc & VX_PROC_IO_BITMAPS) {
        if (!page_ok(c, G(io_bitmap_a)))
            return FAIL1(ctl_io_bitmap_a, io_bitmap_a);
        if (!page_ok(c, G(io_bitmap_b)))
            return FAIL1(ctl_io_bitmap_b, io_bitmap_b);
    }
    if ((proc & VX_PROC_MSR_BITMAPS) && !page_ok(c, G(msr_bitmap)))
        return FAIL1(ctl_msr_bitmap, msr_bitmap);
    if ((proc & VX_PROC_TPR_SHADOW) && !page_ok(c, G(virtual_apic_page_addr)))
        return FAIL1(ctl_virtual_apic_addr, virtual_apic_page_addr);
    if ((proc & VX_PROC_TPR_SHADOW) && !(proc2 & VX_PROC2_VID) &&
        (G(tpr_threshold) & ~0xfull))
        return FAIL1(ctl_tpr_threshold_reserved, tpr_threshold);
    if ((proc & VX_PROC_TPR_SHADOW) &&
        !(proc2 & (VX_PROC2_VIRT_APIC_ACCESS | VX_PROC2_VID))) {
        /* VTPR is byte 80H of the virtual-APIC page (29.1.1). */
        uint8_t vtpr = 0xff;
        if (!c->e->read_phys ||
            c->e->read_phys(c->e->ctx, G(virtual_apic_page_addr) + 0x80, &vtpr, 1) != 0)
            vtpr = 0xff;
        if ((G(tpr_threshold) & 0xf) > (uint64_t)(vtpr >> 4))
            return FAIL2(ctl_tpr_threshold_vtpr, tpr_threshold, virtual_apic_page_addr);
    }
    if (!(pin & VX_PIN_NMI_EXITING) && (pin & VX_PIN_VIRTUAL_NMIS))
        return FAIL1(ctl_virtual_nmis_need_nmi_exiting, pin_based_vm_exec_control);
    if (!(pin & VX_PIN_VIRTUAL_NMIS) && (proc & VX_PROC_NMI_WINDOW))
        return FAIL2(ctl_nmi_window_needs_virtual_nmis, cpu_based_vm_exec_control,
                     pin_based_vm_exec_control);
    if ((proc2 & VX_PROC2_VIRT_APIC_ACCESS) && !page_ok(c, G(apic_access_addr)))
        return FAIL1(ctl_apic_access_addr, apic_access_addr);
    if (!(proc & VX_PROC_TPR_SHADOW)) {
        if (proc2 & VX_PROC2_X2APIC_MODE)
            return FAIL2(ctl_x2apic_needs_tpr_shadow, secondary_vm_exec_control,
                         cpu_based_vm_exec_control);
        if (proc2 & VX_PROC2_APIC_REG_VIRT)
            return FAIL2(ctl_apic_reg_virt_needs_tpr_shadow, secondary_vm_exec_control,
                         cpu_based_vm_exec_control);
        if (proc2 & VX_PROC2_VID)
            return FAIL2(ctl_vid_needs_tpr_shadow, secondary_vm_exec_control,
                         cpu_based_vm_exec_control);
    }
    if ((proc2 & VX_PROC2_X2APIC_MODE) && (proc2 & VX_PROC2_VIRT_APIC_ACCESS))
        return FAIL1(ctl_x2apic_and_apic_access, secondary_vm_exec_control);
    if ((proc2 & VX_PROC2_VID) && !(pin & VX_PIN_EXT_INT_EXITING))
        return FAIL2(ctl_vid_needs_ext_int_exiting, secondary_vm_exec_control,
                     pin_based_vm_exec_control);
    if (pin & VX_PIN_POSTED_INTR) {
        if (!(proc2 & VX_PROC2_VID))
            return FAIL2(ctl_posted_needs_vid, pin_based_vm_exec_control,
                         secondary_vm_exec_control);
        if (!(exit & VX_EXIT_CTL_ACK_INTR))
            return FAIL2(ctl_posted_needs_ack_on_exit, pin_based_vm_exec_control,
                         vm_exit_controls);
        if (G(posted_intr_nv) & 0xff00)
            return FAIL1(ctl_posted_vector, posted_intr_nv);
        uint64_t d = G(posted_intr_desc_addr);
        if ((d & 0x3f) || !pa_ok(d, vmx_pa_width(p)))
            return FAIL1(ctl_posted_desc_addr, posted_intr_desc_addr);
    }
    if ((proc2 & VX_PROC2_VPID) && G(virtual_processor_id) == 0)
        return FAIL1(ctl_vpid_zero, virtual_processor_id);
    if (proc2 & VX_PROC2_EPT) {
        int bad = vx_eptp_check(p, G(ept_pointer));
        if (bad >= 0) return fail_fields(c, bad, 1, VX_ENC_ept_pointer, 0, 0);
    }
    if (proc2 & VX_PROC2_PML) {
        if (!(proc2 & VX_PROC2_EPT))
            return FAIL1(ctl_pml_needs_ept, secondary_vm_exec_control);
        if (!page_ok(c, G(pml_address)))
            return FAIL1(ctl_pml_addr, pml_address);
    }
    if ((proc2 & VX_PROC2_UNRESTRICTED) && !(proc2 & VX_PROC2_EPT))
        return FAIL1(ctl_unrestricted_needs_ept, secondary_vm_exec_control);
    if ((proc2 & VX_PROC2_MBEC) && !(proc2 & VX_PROC2_EPT))
        return FAIL1(ctl_mbec_needs_ept, secondary_vm_exec_control);
    if (proc2 & VX_PROC2_SPP) {
        if (!(proc2 & VX_PROC2_EPT))
            return FAIL1(ctl_spp_needs_ept, secondary_vm_exec_control);
        if (!page_ok(c, G(sub_page_permission_table_pointer)))
            return FAIL1(ctl_spptp, sub_page_permission_table_pointer);
    }
    if (proc2 & VX_PROC2_VMFUNC) {
        const uint64_t vmf = G(vm_function_control);
        if (vmf & ~cap(p, VX_MSR_VMX_VMFUNC))
            return FAIL1(ctl_vmfunc_reserved, vm_function_control);
        if (vmf & VX_VMFUNC_EPTP_SWITCHING) {
            if (!(proc2 & VX_PROC2_EPT))
                return FAIL2(ctl_eptp_switching_needs_ept, vm_function_control,
                             secondary_vm_exec_control);
            if (!page_ok(c, G(eptp_list_address)))
                return FAIL1(ctl_eptp_list_addr, eptp_list_address);
        }
    }
    if (proc2 & VX_PROC2_SHADOW_VMCS) {
        if (!page_ok(c, G(vmread_bitmap)))
            return FAIL1(ctl_vmread_bitmap, vmread_bitmap);
        if (!page_ok(c, G(vmwrite_bitmap)))
            return FAIL1(ctl_vmwrite_bitmap, vmwrite_bitmap);
    }
    if ((proc2 & VX_PROC2_EPT_VE) && !page_ok(c, G(ve_information_address)))
        return FAIL1(ctl_ve_info_addr, ve_information_address);

    /* ---- 27.2.1.2 VM-exit control fields ---- */
    if (!ctl32_ok(exit, ctl_cap(p, VX_MSR_VMX_EXIT_CTLS, VX_MSR_VMX_TRUE_EXIT_CTLS)))
        return FAIL1(ctl_exit_reserved, vm_exit_controls);
    if ((exit & VX_EXIT_CTL_SECONDARY) &&
        (G(secondary_vm_exit_controls) & ~cap(p, VX_MSR_VMX_EXIT_CTLS2)))
        return FAIL1(ctl_exit2_reserved, secondary_vm_exit_controls);
    if (!(pin & VX_PIN_PREEMPTION_TIMER) && (exit & VX_EXIT_CTL_SAVE_PREEMPT))
        return FAIL2(ctl_save_timer_needs_timer, vm_exit_controls, pin_based_vm_exec_control);
    if (G(vm_exit_msr_store_count)) {
        if (!msr_area_start_ok(c, G(vm_exit_msr_store_addr)))
            return FAIL1(ctl_exit_msr_store_addr, vm_exit_msr_store_addr);
        if (!msr_area_end_ok(c, G(vm_exit_msr_store_addr), G(vm_exit_msr_store_count)))
            return FAIL2(ctl_exit_msr_store_end, vm_exit_msr_store_addr, vm_exit_msr_store_count);
    }
    if (G(vm_exit_msr_load_count)) {
        if (!msr_area_start_ok(c, G(vm_exit_msr_load_addr)))
            return FAIL1(ctl_exit_msr_load_addr, vm_exit_msr_load_addr);
        if (!msr_area_end_ok(c, G(vm_exit_msr_load_addr), G(vm_exit_msr_load_count)))
            return FAIL2(ctl_exit_msr_load_end, vm_exit_msr_load_addr, vm_exit_msr_load_count);
    }

    /* ---- 27.2.1.3 VM-entry control fields ---- */
    if (!ctl32_ok(entry, ctl_cap(p, VX_MSR_VMX_ENTRY_CTLS, VX_MSR_VMX_TRUE_ENTRY_CTLS)))
        return FAIL1(ctl_entry_reserved, vm_entry_controls);
    const uint64_t info = G(vm_entry_intr_info_field);
    if (info & VX_INTR_INFO_VALID) {
        const unsigned type = (unsigned)(info >> VX_INTR_INFO_TYPE_SHIFT) & VX_INTR_INFO_TYPE_MASK;
        const unsigned vec = (unsigned)info & VX_INTR_INFO_VECTOR_MASK;
        const int ec = (info & VX_INTR_INFO_DELIVER_EC) != 0;
        const int pe = (G(guest_cr0) & CR0_PE) != 0;
        const int any_ec = BIT(cap(p, VX_MSR_VMX_BASIC), VX_BASIC_NO_EC_CHECK_BIT);
        const int vec_has_ec = vec < 32 && BIT(VX_XCPT_WITH_ERROR_CODE, vec);
        /* Type 7 (other event) needs the 1-setting of "monitor trap flag". */
        if (type == VX_INTR_TYPE_RESERVED ||
            (type == VX_INTR_TYPE_OTHER && !BIT(proc_cap >> 32, 27)))
            return FAIL1(ctl_event_type, vm_entry_intr_info_field);
        if ((type == VX_INTR_TYPE_NMI && vec != VX_INTR_NMI_VECTOR) ||
            (type == VX_INTR_TYPE_HW_XCPT && vec > 31) ||
            (type == VX_INTR_TYPE_OTHER && vec != 0))
            return FAIL1(ctl_event_vector, vm_entry_intr_info_field);
        if (!ec && type == VX_INTR_TYPE_HW_XCPT && pe && !any_ec && vec_has_ec)
            return FAIL2(ctl_event_ec_missing, vm_entry_intr_info_field, guest_cr0);
        if (ec && type != VX_INTR_TYPE_HW_XCPT)
            return FAIL1(ctl_event_ec_not_hw, vm_entry_intr_info_field);
        if (ec && !pe)
            return FAIL2(ctl_event_ec_pe, vm_entry_intr_info_field, guest_cr0);
        if (ec && !any_ec && !vec_has_ec)
            return FAIL1(ctl_event_ec_vector, vm_entry_intr_info_field);
        if (info & VX_INTR_INFO_RESERVED)
            return FAIL1(ctl_event_reserved, vm_entry_intr_info_field);
        if (ec && (G(vm_entry_exception_error_code) & 0xffff0000u))
            return FAIL2(ctl_event_ec_reserved, vm_entry_exception_error_code,
                         vm_entry_intr_info_field);
        if (type == VX_INTR_TYPE_SW_INT || type == VX_INTR_TYPE_PRIV_SW_XCPT ||
            type == VX_INTR_TYPE_SW_XCPT) {
            const uint64_t len = G(vm_entry_instruction_len);
            if (len > 15)
                return FAIL2(ctl_event_ilen, vm_entry_instruction_len, vm_entry_intr_info_field);
            if (len == 0 && !BIT(cap(p, VX_MSR_VMX_MISC), VX_MISC_INJECT_ILEN0_BIT))
                return FAIL2(ctl_event_ilen_zero, vm_entry_instruction_len,
                             vm_entry_intr_info_field);
        }
    }
    if (G(vm_entry_msr_load_count)) {
        if (!msr_area_start_ok(c, G(vm_entry_msr_load_addr)))
            return FAIL1(ctl_entry_msr_load_addr, vm_entry_msr_load_addr);
        if (!msr_area_end_ok(c, G(vm_entry_msr_load_addr), G(vm_entry_msr_load_count)))
            return FAIL2(ctl_entry_msr_load_end, vm_entry_msr_load_addr, vm_entry_msr_load_count);
    }
    if (!in_smm && (entry & VX_ENTRY_CTL_ENTRY_SMM))
        return FAIL1(ctl_entry_smm_outside_smm, vm_entry_controls);
    if (!in_smm && (entry & VX_ENTRY_CTL_DEACT_DUAL))
        return FAIL1(ctl_entry_dual_outside_smm, vm_entry_controls);
    if ((entry & VX_ENTRY_CTL_ENTRY_SMM) && (entry & VX_ENTRY_CTL_DEACT_DUAL))
        return FAIL1(ctl_entry_smm_and_dual, vm_entry_controls);
    return 0;
}

/* ---- 27.2.2-27.2.4 Checks on the host-state area ----------------------- */

int vx_entry_check_host(const vx_entry_env *e, vx_entry_failure *f)
{
    vx_entry_failure scratch;
    chk cc, *c = &cc;
    if (setup(c, e, f, &scratch))
        return -1;
    const vx_profile *p = c->p;
    const uint64_t exit = G(vm_exit_controls), entry = G(vm_entry_controls);
    const int host64 = (exit & VX_EXIT_CTL_HOST_ADDR_SPACE) != 0;
    const uint64_t cr0 = G(host_cr0), cr4 = G(host_cr4);

    /* ---- 27.2.2 control registers, MSRs and SSP ---- */
    const uint64_t cr0f0 = cap(p, VX_MSR_VMX_CR0_FIXED0), cr0f1 = cap(p, VX_MSR_VMX_CR0_FIXED1);
    const uint64_t cr4f0 = cap(p, VX_MSR_VMX_CR4_FIXED0), cr4f1 = cap(p, VX_MSR_VMX_CR4_FIXED1);
    if ((cr0 & cr0f0) != cr0f0)
        return FAIL1(host_cr0_fixed0, host_cr0);
    if (cr0 & ~cr0f1)
        return FAIL1(host_cr0_fixed1, host_cr0);
    if ((cr4 & cr4f0) != cr4f0)
        return FAIL1(host_cr4_fixed0, host_cr4);
    if (cr4 & ~cr4f1)
        return FAIL1(host_cr4_fixed1, host_cr4);
    if ((cr4 & CR4_CET) && !(cr0 & CR0_WP))
        return FAIL2(host_cet_needs_wp, host_cr4, host_cr0);
    if (!pa_ok(G(host_cr3), p->maxphyaddr))
        return FAIL1(host_cr3_width, host_cr3);
    if (!canonical(c, G(host_ia32_sysenter_esp)))
        return FAIL1(host_sysenter_esp_canonical, host_ia32_sysenter_esp);
    if (!canonical(c, G(host_ia32_sysenter_eip)))
        return FAIL1(host_sysenter_eip_canonical, host_ia32_sysenter_eip);
    if (exit & VX_EXIT_CTL_LOAD_CET) {
        if (!canonical(c, G(host_s_cet)))
            return FAIL1(host_s_cet_canonical, host_s_cet);
        if (!canonical(c, G(host_intr_ssp_table)))
            return FAIL1(host_isst_canonical, host_intr_ssp_table);
        if (G(host_s_cet) & S_CET_RESERVED)
            return FAIL1(host_s_cet_reserved, host_s_cet);
        if ((G(host_s_cet) & S_CET_SUPPRESS_TRACKER) == S_CET_SUPPRESS_TRACKER)
            return FAIL1(host_s_cet_suppress_wait, host_s_cet);
    }
    if ((exit & VX_EXIT_CTL_LOAD_PERF_GLOBAL) &&
        (G(host_ia32_perf_global_ctrl) & ~perf_global_valid(p)))
        return FAIL1(host_perf_global_reserved, host_ia32_perf_global_ctrl);
    if ((exit & VX_EXIT_CTL_LOAD_PAT) && !pat_ok(G(host_ia32_pat)))
        return FAIL1(host_pat, host_ia32_pat);
    if (exit & VX_EXIT_CTL_LOAD_EFER) {
        const uint64_t efer = G(host_ia32_efer);
        if (efer & ~efer_valid(p))
            return FAIL1(host_efer_reserved, host_ia32_efer);
        if (((efer & EFER_LMA) != 0) != host64)
            return FAIL2(host_efer_lma, host_ia32_efer, vm_exit_controls);
        if (((efer & EFER_LME) != 0) != host64)
            return FAIL2(host_efer_lme, host_ia32_efer, vm_exit_controls);
    }
    if ((exit & VX_EXIT_CTL_LOAD_PKRS) && (G(host_ia32_pkrs) >> 32))
        return FAIL1(host_pkrs_reserved, host_ia32_pkrs);
    if (exit & VX_EXIT_CTL_LOAD_CET) {
        const uint64_t ssp = G(host_ssp);
        if (ssp & 3)
            return FAIL1(host_ssp_align, host_ssp);
        if (!host64 && (ssp >> 32))
            return FAIL2(host_ssp_high, host_ssp, vm_exit_controls);
        if (host64 && !canonical(c, ssp))
            return FAIL1(host_ssp_canonical, host_ssp);
    }

    /* ---- 27.2.3 segment and descriptor-table registers ---- */
    static const struct { int id; uint32_t enc; } sels[] = {
        { VX_CHECK_host_cs_sel, VX_ENC_host_cs_selector },
        { VX_CHECK_host_ss_sel, VX_ENC_host_ss_selector },
        { VX_CHECK_host_ds_sel, VX_ENC_host_ds_selector },
        { VX_CHECK_host_es_sel, VX_ENC_host_es_selector },
        { VX_CHECK_host_fs_sel, VX_ENC_host_fs_selector },
        { VX_CHECK_host_gs_sel, VX_ENC_host_gs_selector },
        { VX_CHECK_host_tr_sel, VX_ENC_host_tr_selector },
    };
    for (size_t i = 0; i < sizeof sels / sizeof sels[0]; i++)
        if (get(c, sels[i].enc) & (VX_SEL_RPL_MASK | VX_SEL_TI))
            return fail_fields(c, sels[i].id, 1, sels[i].enc, 0, 0);
    if (G(host_cs_selector) == 0)
        return FAIL1(host_cs_sel_null, host_cs_selector);
    if (G(host_tr_selector) == 0)
        return FAIL1(host_tr_sel_null, host_tr_selector);
    if (!host64 && G(host_ss_selector) == 0)
        return FAIL2(host_ss_sel_null, host_ss_selector, vm_exit_controls);
    static const struct { int id; uint32_t enc; } bases[] = {
        { VX_CHECK_host_fs_base_canonical, VX_ENC_host_fs_base },
        { VX_CHECK_host_gs_base_canonical, VX_ENC_host_gs_base },
        { VX_CHECK_host_gdtr_base_canonical, VX_ENC_host_gdtr_base },
        { VX_CHECK_host_idtr_base_canonical, VX_ENC_host_idtr_base },
        { VX_CHECK_host_tr_base_canonical, VX_ENC_host_tr_base },
    };
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
        if (!canonical(c, get(c, bases[i].enc)))
            return fail_fields(c, bases[i].id, 1, bases[i].enc, 0, 0);

    /* ---- 27.2.4 address-space size ---- */
    const int ia32e_guest = (entry & VX_ENTRY_CTL_IA32E_GUEST) != 0;
    if (!(c->e->efer & EFER_LMA)) {
        if (ia32e_guest)
            return FAIL1(host_lma0_guest_ia32e, vm_entry_controls);
        if (host64)
            return FAIL1(host_lma0_host_size, vm_exit_controls);
    } else if (!host64) {
        return FAIL1(host_lma1_host_size, vm_exit_controls);
    }
    if (!host64) {
        if (ia32e_guest)
            return FAIL2(host_size0_guest_ia32e, vm_entry_controls, vm_exit_controls);
        if (cr4 & CR4_PCIDE)
            return FAIL2(host_size0_cr4_pcide, host_cr4, vm_exit_controls);
        if (G(host_rip) >> 32)
            return FAIL2(host_size0_rip_high, host_rip, vm_exit_controls);
    } else {
        if (!(cr4 & CR4_PAE))
            return FAIL2(host_size1_cr4_pae, host_cr4, vm_exit_controls);
        if (!canonical(c, G(host_rip)))
            return FAIL1(host_size1_rip_canonical, host_rip);
    }
    return 0;
}

/* ---- 27.3.1 Checks on the guest-state area ----------------------------- */

/* The six segment registers in the order the SDM names them (CS, SS, DS,
 * ES, FS, GS), with their VMCS fields and their per-register check ids. */
enum { S_CS, S_SS, S_DS, S_ES, S_FS, S_GS, NSEG };

#define PER_SEG(x) { VX_CHECK_guest_cs_##x, VX_CHECK_guest_ss_##x, VX_CHECK_guest_ds_##x, \
                     VX_CHECK_guest_es_##x, VX_CHECK_guest_fs_##x, VX_CHECK_guest_gs_##x }
static const int id_base_v86[NSEG] = PER_SEG(base_v86);
static const int id_limit_v86[NSEG] = PER_SEG(limit_v86);
static const int id_ar_v86[NSEG] = PER_SEG(ar_v86);
static const int id_s[NSEG] = PER_SEG(s);
static const int id_p[NSEG] = PER_SEG(p);
static const int id_rsvd_11_8[NSEG] = PER_SEG(rsvd_11_8);
static const int id_g[NSEG] = PER_SEG(g);
static const int id_rsvd_31_17[NSEG] = PER_SEG(rsvd_31_17);
#undef PER_SEG
/* DS, ES, FS, GS only (index - S_DS). */
static const int id_type_accessed[4] = { VX_CHECK_guest_ds_type_accessed,
    VX_CHECK_guest_es_type_accessed, VX_CHECK_guest_fs_type_accessed,
    VX_CHECK_guest_gs_type_accessed };
static const int id_type_readable[4] = { VX_CHECK_guest_ds_type_readable,
    VX_CHECK_guest_es_type_readable, VX_CHECK_guest_fs_type_readable,
    VX_CHECK_guest_gs_type_readable };
static const int id_dpl_rpl[4] = { VX_CHECK_guest_ds_dpl_rpl, VX_CHECK_guest_es_dpl_rpl,
    VX_CHECK_guest_fs_dpl_rpl, VX_CHECK_guest_gs_dpl_rpl };

static const struct segf { uint32_t sel, base, limit, ar; } seg_fields[NSEG] = {
    { VX_ENC_guest_cs_selector, VX_ENC_guest_cs_base, VX_ENC_guest_cs_limit, VX_ENC_guest_cs_ar_bytes },
    { VX_ENC_guest_ss_selector, VX_ENC_guest_ss_base, VX_ENC_guest_ss_limit, VX_ENC_guest_ss_ar_bytes },
    { VX_ENC_guest_ds_selector, VX_ENC_guest_ds_base, VX_ENC_guest_ds_limit, VX_ENC_guest_ds_ar_bytes },
    { VX_ENC_guest_es_selector, VX_ENC_guest_es_base, VX_ENC_guest_es_limit, VX_ENC_guest_es_ar_bytes },
    { VX_ENC_guest_fs_selector, VX_ENC_guest_fs_base, VX_ENC_guest_fs_limit, VX_ENC_guest_fs_ar_bytes },
    { VX_ENC_guest_gs_selector, VX_ENC_guest_gs_base, VX_ENC_guest_gs_limit, VX_ENC_guest_gs_ar_bytes },
};

typedef struct seg {
    uint64_t sel, base, limit, ar;
} seg;

static seg read_seg(const chk *c, uint32_t sel, uint32_t base, uint32_t limit, uint32_t ar)
{
    seg s = { get(c, sel), get(c, base), get(c, limit), get(c, ar) };
    return s;
}

static int usable(const seg *s) { return !(s->ar & VX_AR_UNUSABLE); }
static unsigned seg_type(const seg *s) { return (unsigned)s->ar & VX_AR_TYPE_MASK; }
static unsigned seg_dpl(const seg *s) { return (unsigned)(s->ar & VX_AR_DPL_MASK) >> VX_AR_DPL_SHIFT; }
static unsigned seg_rpl(const seg *s) { return (unsigned)s->sel & VX_SEL_RPL_MASK; }

/* G must be 0 if any of limit bits 11:0 is 0, 1 if any of bits 31:20 is 1. */
static int g_ok(const seg *s)
{
    if ((s->limit & 0xfff) != 0xfff && (s->ar & VX_AR_G))
        return 0;
    if ((s->limit & 0xfff00000u) && !(s->ar & VX_AR_G))
        return 0;
    return 1;
}

/* Report one field of a segment register. */
enum { F_SEL, F_BASE, F_LIMIT, F_AR };
static int fail_seg(chk *c, int id, const struct segf *sf, int which)
{
    return fail_fields(c, id, 1, which == F_SEL ? sf->sel : which == F_BASE ? sf->base :
                       which == F_LIMIT ? sf->limit : sf->ar, 0, 0);
}

/* 27.3.1.2: selector, base-address, limit and access-rights fields, in
 * that order, each for the registers in the SDM's order. */
static int check_guest_segments(chk *c, int v86, int ug, int ia32e, uint64_t cr0)
{
    seg s[NSEG];
    for (int i = 0; i < NSEG; i++)
        s[i] = read_seg(c, seg_fields[i].sel, seg_fields[i].base, seg_fields[i].limit,
                        seg_fields[i].ar);
    const seg tr = read_seg(c, VX_ENC_guest_tr_selector, VX_ENC_guest_tr_base,
                            VX_ENC_guest_tr_limit, VX_ENC_guest_tr_ar_bytes);
    const seg ldtr = read_seg(c, VX_ENC_guest_ldtr_selector, VX_ENC_guest_ldtr_base,
                              VX_ENC_guest_ldtr_limit, VX_ENC_guest_ldtr_ar_bytes);

    /* Selector fields. */
    if (tr.sel & VX_SEL_TI)
        return FAIL1(guest_tr_sel_ti, guest_tr_selector);
    if (usable(&ldtr) && (ldtr.sel & VX_SEL_TI))
        return FAIL2(guest_ldtr_sel_ti, guest_ldtr_selector, guest_ldtr_ar_bytes);
    if (!v86 && !ug && seg_rpl(&s[S_SS]) != seg_rpl(&s[S_CS]))
        return FAIL2(guest_ss_rpl_cs, guest_ss_selector, guest_cs_selector);

    /* Base-address fields. */
    if (v86)
        for (int i = 0; i < NSEG; i++)
            if (s[i].base != s[i].sel << 4)
                return fail_fields(c, id_base_v86[i], 2, seg_fields[i].base,
                                   seg_fields[i].sel, 0);
    if (!canonical(c, tr.base))
        return FAIL1(guest_tr_base_canonical, guest_tr_base);
    if (!canonical(c, s[S_FS].base))
        return FAIL1(guest_fs_base_canonical, guest_fs_base);
    if (!canonical(c, s[S_GS].base))
        return FAIL1(guest_gs_base_canonical, guest_gs_base);
    if (usable(&ldtr) && !canonical(c, ldtr.base))
        return FAIL1(guest_ldtr_base_canonical, guest_ldtr_base);
    if (s[S_CS].base >> 32)
        return FAIL1(guest_cs_base_high, guest_cs_base);
    if (usable(&s[S_SS]) && (s[S_SS].base >> 32))
        return FAIL1(guest_ss_base_high, guest_ss_base);
    if (usable(&s[S_DS]) && (s[S_DS].base >> 32))
        return FAIL1(guest_ds_base_high, guest_ds_base);
    if (usable(&s[S_ES]) && (s[S_ES].base >> 32))
        return FAIL1(guest_es_base_high, guest_es_base);

    /* Limit fields. */
    if (v86)
        for (int i = 0; i < NSEG; i++)
            if (s[i].limit != 0xffff)
                return fail_seg(c, id_limit_v86[i], &seg_fields[i], F_LIMIT);

    /* Access-rights fields: CS, SS, DS, ES, FS, GS. */
    if (v86) {
        for (int i = 0; i < NSEG; i++)
            if (s[i].ar != VX_AR_V86)
                return fail_seg(c, id_ar_v86[i], &seg_fields[i], F_AR);
    } else {
        /* "Checked" below means: the register is CS or it is usable. */
        int checked[NSEG];
        for (int i = 0; i < NSEG; i++)
            checked[i] = i == S_CS || usable(&s[i]);
        const unsigned cst = seg_type(&s[S_CS]);

        /* Type. */
        if (!(cst == 9 || cst == 11 || cst == 13 || cst == 15 || (ug && cst == 3)))
            return FAIL1(guest_cs_type, guest_cs_ar_bytes);
        if (usable(&s[S_SS]) && seg_type(&s[S_SS]) != 3 && seg_type(&s[S_SS]) != 7)
            return FAIL1(guest_ss_type, guest_ss_ar_bytes);
        for (int i = S_DS; i < NSEG; i++) {
            if (!usable(&s[i]))
                continue;
            const unsigned t = seg_type(&s[i]);
            if (!(t & VX_SEG_TYPE_ACCESSED))
                return fail_seg(c, id_type_accessed[i - S_DS], &seg_fields[i], F_AR);
            if ((t & VX_SEG_TYPE_CODE) && !(t & VX_SEG_TYPE_RW))
                return fail_seg(c, id_type_readable[i - S_DS], &seg_fields[i], F_AR);
        }
        /* S. */
        for (int i = 0; i < NSEG; i++)
            if (checked[i] && !(s[i].ar & VX_AR_S))
                return fail_seg(c, id_s[i], &seg_fields[i], F_AR);
        /* DPL. */
        const unsigned ssdpl = seg_dpl(&s[S_SS]);
        if (cst == 3 && seg_dpl(&s[S_CS]) != 0)
            return FAIL1(guest_cs_dpl_data, guest_cs_ar_bytes);
        if ((cst == 9 || cst == 11) && seg_dpl(&s[S_CS]) != ssdpl)
            return FAIL2(guest_cs_dpl_nonconforming, guest_cs_ar_bytes, guest_ss_ar_bytes);
        if ((cst == 13 || cst == 15) && seg_dpl(&s[S_CS]) > ssdpl)
            return FAIL2(guest_cs_dpl_conforming, guest_cs_ar_bytes, guest_ss_ar_bytes);
        /* The SS DPL is the CPL, usable or not (25.4.1). */
        if (!ug && ssdpl != seg_rpl(&s[S_SS]))
            return FAIL2(guest_ss_dpl_rpl, guest_ss_ar_bytes, guest_ss_selector);
        if ((cst == 3 || !(cr0 & CR0_PE)) && ssdpl != 0)
            return FAIL2(guest_ss_dpl_zero, guest_ss_ar_bytes, guest_cs_ar_bytes);
        for (int i = S_DS; i < NSEG; i++)
            if (!ug && usable(&s[i]) && seg_type(&s[i]) <= 11 && seg_dpl(&s[i]) < seg_rpl(&s[i]))
                return fail_fields(c, id_dpl_rpl[i - S_DS], 2, seg_fields[i].ar,
                                   seg_fields[i].sel, 0);
        /* P. */
        for (int i = 0; i < NSEG; i++)
            if (checked[i] && !(s[i].ar & VX_AR_P))
                return fail_seg(c, id_p[i], &seg_fields[i], F_AR);
        /* Bits 11:8. */
        for (int i = 0; i < NSEG; i++)
            if (checked[i] && (s[i].ar & VX_AR_RSVD_11_8))
                return fail_seg(c, id_rsvd_11_8[i], &seg_fields[i], F_AR);
        /* D/B. */
        if (ia32e && (s[S_CS].ar & VX_AR_L) && (s[S_CS].ar & VX_AR_DB))
            return FAIL1(guest_cs_db_long, guest_cs_ar_bytes);
        /* G. */
        for (int i = 0; i < NSEG; i++)
            if (checked[i] && !g_ok(&s[i]))
                return fail_fields(c, id_g[i], 2, seg_fields[i].ar, seg_fields[i].limit, 0);
        /* Bits 31:17. */
        for (int i = 0; i < NSEG; i++)
            if (checked[i] && (s[i].ar & VX_AR_RSVD_31_17))
                return fail_seg(c, id_rsvd_31_17[i], &seg_fields[i], F_AR);
    }

    /* TR. */
    const unsigned trt = seg_type(&tr);
    if (!(trt == VX_SEG_TYPE_TSS_BUSY || (!ia32e && trt == VX_SEG_TYPE_TSS16_BUSY)))
        return FAIL1(guest_tr_type, guest_tr_ar_bytes);
    if (tr.ar & VX_AR_S)
        return FAIL1(guest_tr_s, guest_tr_ar_bytes);
    if (!(tr.ar & VX_AR_P))
        return FAIL1(guest_tr_p, guest_tr_ar_bytes);
    if (tr.ar & VX_AR_RSVD_11_8)
        return FAIL1(guest_tr_rsvd_11_8, guest_tr_ar_bytes);
    if (!g_ok(&tr))
        return FAIL2(guest_tr_g, guest_tr_ar_bytes, guest_tr_limit);
    if (tr.ar & VX_AR_UNUSABLE)
        return FAIL1(guest_tr_unusable, guest_tr_ar_bytes);
    if (tr.ar & VX_AR_RSVD_31_17)
        return FAIL1(guest_tr_rsvd_31_17, guest_tr_ar_bytes);

    /* LDTR. */
    if (usable(&ldtr)) {
        if (seg_type(&ldtr) != VX_SEG_TYPE_LDT)
            return FAIL1(guest_ldtr_type, guest_ldtr_ar_bytes);
        if (ldtr.ar & VX_AR_S)
            return FAIL1(guest_ldtr_s, guest_ldtr_ar_bytes);
        if (!(ldtr.ar & VX_AR_P))
            return FAIL1(guest_ldtr_p, guest_ldtr_ar_bytes);
        if (ldtr.ar & VX_AR_RSVD_11_8)
            return FAIL1(guest_ldtr_rsvd_11_8, guest_ldtr_ar_bytes);
        if (!g_ok(&ldtr))
            return FAIL2(guest_ldtr_g, guest_ldtr_ar_bytes, guest_ldtr_limit);
        if (ldtr.ar & VX_AR_RSVD_31_17)
            return FAIL1(guest_ldtr_rsvd_31_17, guest_ldtr_ar_bytes);
    }
    return 0;
}

/* Read a little-endian value of len bytes; all ones when the memory is not
 * there. */
static uint64_t read_le(const chk *c, uint64_t pa, size_t len)
{
    uint8_t b[8];
    if (len > sizeof b || !c->e->read_phys || c->e->read_phys(c->e->ctx, pa, b, len) != 0)
        return len >= 8 ? UINT64_MAX : (1ull << (8 * len)) - 1;
    uint64_t v = 0;
    for (size_t i = len; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

int vx_entry_check_guest(const vx_entry_env *e, vx_entry_failure *f, uint64_t pdpte_out[4])
{
    vx_entry_failure scratch;
    chk cc, *c = &cc;
    if (pdpte_out)
        memset(pdpte_out, 0, 4 * sizeof pdpte_out[0]);
    if (setup(c, e, f, &scratch))
        return -1;
    const vx_profile *p = c->p;
    const uint64_t pin = G(pin_based_vm_exec_control);
    const uint64_t proc = G(cpu_based_vm_exec_control);
    const uint64_t proc2 = (proc & VX_PROC_SECONDARY) ? G(secondary_vm_exec_control) : 0;
    const uint64_t entry = G(vm_entry_controls);
    const int ug = (proc2 & VX_PROC2_UNRESTRICTED) != 0;
    const int ia32e = (entry & VX_ENTRY_CTL_IA32E_GUEST) != 0;
    const uint64_t cr0 = G(guest_cr0), cr4 = G(guest_cr4), rflags = G(guest_rflags);
    const uint64_t info = G(vm_entry_intr_info_field);
    const int inject = (info & VX_INTR_INFO_VALID) != 0;
    const unsigned itype = (unsigned)(info >> VX_INTR_INFO_TYPE_SHIFT) & VX_INTR_INFO_TYPE_MASK;
    const unsigned ivec = (unsigned)info & VX_INTR_INFO_VECTOR_MASK;

    /* ---- 27.3.1.1 control registers, debug registers, MSRs ---- */
    /* NW and CD are never checked (VM entry does not change them); PE and
     * PG are not checked with unrestricted guest. */
    const uint64_t skip = CR0_NW | CR0_CD | (ug ? CR0_PE | CR0_PG : 0);
    const uint64_t cr0f0 = cap(p, VX_MSR_VMX_CR0_FIXED0) & ~skip;
    const uint64_t cr0f1 = cap(p, VX_MSR_VMX_CR0_FIXED1) | skip;
    const uint64_t cr4f0 = cap(p, VX_MSR_VMX_CR4_FIXED0), cr4f1 = cap(p, VX_MSR_VMX_CR4_FIXED1);
    if ((cr0 & cr0f0) != cr0f0)
        return FAIL1(guest_cr0_fixed0, guest_cr0);
    if (cr0 & ~cr0f1)
        return FAIL1(guest_cr0_fixed1, guest_cr0);
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        return FAIL1(guest_cr0_pg_pe, guest_cr0);
    if ((cr4 & cr4f0) != cr4f0)
        return FAIL1(guest_cr4_fixed0, guest_cr4);
    if (cr4 & ~cr4f1)
        return FAIL1(guest_cr4_fixed1, guest_cr4);
    if ((cr4 & CR4_CET) && !(cr0 & CR0_WP))
        return FAIL2(guest_cet_needs_wp, guest_cr4, guest_cr0);
    if ((entry & VX_ENTRY_CTL_LOAD_DEBUG) && (G(guest_ia32_debugctl) & ~debugctl_valid(p)))
        return FAIL1(guest_debugctl_reserved, guest_ia32_debugctl);
    if (ia32e) {
        if (!(cr0 & CR0_PG))
            return FAIL2(guest_ia32e_cr0_pg, guest_cr0, vm_entry_controls);
        if (!(cr4 & CR4_PAE))
            return FAIL2(guest_ia32e_cr4_pae, guest_cr4, vm_entry_controls);
    } else if (cr4 & CR4_PCIDE) {
        return FAIL2(guest_cr4_pcide, guest_cr4, vm_entry_controls);
    }
    if (!pa_ok(G(guest_cr3), p->maxphyaddr))
        return FAIL1(guest_cr3_width, guest_cr3);
    if ((entry & VX_ENTRY_CTL_LOAD_DEBUG) && (G(guest_dr7) >> 32))
        return FAIL1(guest_dr7_high, guest_dr7);
    if (!canonical(c, G(guest_sysenter_esp)))
        return FAIL1(guest_sysenter_esp_canonical, guest_sysenter_esp);
    if (!canonical(c, G(guest_sysenter_eip)))
        return FAIL1(guest_sysenter_eip_canonical, guest_sysenter_eip);
    if (entry & VX_ENTRY_CTL_LOAD_CET) {
        if (!canonical(c, G(guest_s_cet)))
            return FAIL1(guest_s_cet_canonical, guest_s_cet);
        if (!canonical(c, G(guest_intr_ssp_table)))
            return FAIL1(guest_isst_canonical, guest_intr_ssp_table);
        if (G(guest_s_cet) & S_CET_RESERVED)
            return FAIL1(guest_s_cet_reserved, guest_s_cet);
        if ((G(guest_s_cet) & S_CET_SUPPRESS_TRACKER) == S_CET_SUPPRESS_TRACKER)
            return FAIL1(guest_s_cet_suppress_wait, guest_s_cet);
    }
    if ((entry & VX_ENTRY_CTL_LOAD_PERF_GLOBAL) &&
        (G(guest_ia32_perf_global_ctrl) & ~perf_global_valid(p)))
        return FAIL1(guest_perf_global_reserved, guest_ia32_perf_global_ctrl);
    if ((entry & VX_ENTRY_CTL_LOAD_PAT) && !pat_ok(G(guest_ia32_pat)))
        return FAIL1(guest_pat, guest_ia32_pat);
    if (entry & VX_ENTRY_CTL_LOAD_EFER) {
        const uint64_t efer = G(guest_ia32_efer);
        const int lma = (efer & EFER_LMA) != 0, lme = (efer & EFER_LME) != 0;
        if (efer & ~efer_valid(p))
            return FAIL1(guest_efer_reserved, guest_ia32_efer);
        if (lma != ia32e)
            return FAIL2(guest_efer_lma, guest_ia32_efer, vm_entry_controls);
        if ((cr0 & CR0_PG) && lma != lme)
            return FAIL2(guest_efer_lme, guest_ia32_efer, guest_cr0);
    }
    if (entry & VX_ENTRY_CTL_LOAD_BNDCFGS) {
        if (G(guest_bndcfgs) & BNDCFGS_RESERVED)
            return FAIL1(guest_bndcfgs_reserved, guest_bndcfgs);
        if (!canonical(c, G(guest_bndcfgs) & ~0xfffull))
            return FAIL1(guest_bndcfgs_canonical, guest_bndcfgs);
    }
    if ((entry & VX_ENTRY_CTL_LOAD_RTIT) && (G(guest_ia32_rtit_ctl) & RTIT_CTL_RESERVED))
        return FAIL1(guest_rtit_ctl_reserved, guest_ia32_rtit_ctl);
    if ((entry & VX_ENTRY_CTL_LOAD_LBR) && (G(guest_ia32_lbr_ctl) & ~LBR_CTL_VALID))
        return FAIL1(guest_lbr_ctl_reserved, guest_ia32_lbr_ctl);
    if ((entry & VX_ENTRY_CTL_LOAD_PKRS) && (G(guest_ia32_pkrs) >> 32))
        return FAIL1(guest_pkrs_reserved, guest_ia32_pkrs);

    /* ---- 27.3.1.2 segment registers ---- */
    if (check_guest_segments(c, (rflags & RFLAGS_VM) != 0, ug, ia32e, cr0))
        return -1;

    /* ---- 27.3.1.3 descriptor-table registers ---- */
    if (!canonical(c, G(guest_gdtr_base)))
        return FAIL1(guest_gdtr_base_canonical, guest_gdtr_base);
    if (!canonical(c, G(guest_idtr_base)))
        return FAIL1(guest_idtr_base_canonical, guest_idtr_base);
    if (G(guest_gdtr_limit) >> 16)
        return FAIL1(guest_gdtr_limit, guest_gdtr_limit);
    if (G(guest_idtr_limit) >> 16)
        return FAIL1(guest_idtr_limit, guest_idtr_limit);

    /* ---- 27.3.1.4 RIP, RFLAGS, SSP ---- */
    const int code64 = ia32e && (G(guest_cs_ar_bytes) & VX_AR_L);
    if (!code64 && (G(guest_rip) >> 32))
        return FAIL2(guest_rip_high, guest_rip, guest_cs_ar_bytes);
    if (code64 && !canonical(c, G(guest_rip)))
        return FAIL1(guest_rip_canonical, guest_rip);
    if (rflags & RFLAGS_RESERVED)
        return FAIL1(guest_rflags_reserved, guest_rflags);
    if (!(rflags & RFLAGS_FIXED))
        return FAIL1(guest_rflags_bit1, guest_rflags);
    if ((rflags & RFLAGS_VM) && ia32e)
        return FAIL2(guest_rflags_vm_ia32e, guest_rflags, vm_entry_controls);
    if ((rflags & RFLAGS_VM) && !(cr0 & CR0_PE))
        return FAIL2(guest_rflags_vm_pe, guest_rflags, guest_cr0);
    if (inject && itype == VX_INTR_TYPE_EXT_INT && !(rflags & RFLAGS_IF))
        return FAIL2(guest_rflags_if_extint, guest_rflags, vm_entry_intr_info_field);
    if (entry & VX_ENTRY_CTL_LOAD_CET) {
        const uint64_t ssp = G(guest_ssp);
        if (ssp & 3)
            return FAIL1(guest_ssp_align, guest_ssp);
        if (!code64 && (ssp >> 32))
            return FAIL1(guest_ssp_high, guest_ssp);
        if (code64 && !canonical(c, ssp))
            return FAIL1(guest_ssp_canonical, guest_ssp);
    }

    /* ---- 27.3.1.5 non-register state ---- */
    const uint64_t act = G(guest_activity_state), intr = G(guest_interruptibility_info);
    const uint64_t misc = cap(p, VX_MSR_VMX_MISC);
    if (!(act == VX_ACTIVITY_ACTIVE ||
          (act == VX_ACTIVITY_HLT && BIT(misc, VX_MISC_ACT_HLT_BIT)) ||
          (act == VX_ACTIVITY_SHUTDOWN && BIT(misc, VX_MISC_ACT_SHUTDOWN_BIT)) ||
          (act == VX_ACTIVITY_WAIT_SIPI && BIT(misc, VX_MISC_ACT_SIPI_BIT))))
        return FAIL1(guest_activity_supported, guest_activity_state);
    if (act == VX_ACTIVITY_HLT && (G(guest_ss_ar_bytes) & VX_AR_DPL_MASK))
        return FAIL2(guest_activity_hlt_ss_dpl, guest_activity_state, guest_ss_ar_bytes);
    if (act != VX_ACTIVITY_ACTIVE && (intr & (VX_INTR_BLOCK_STI | VX_INTR_BLOCK_MOV_SS)))
        return FAIL2(guest_activity_not_active_blocking, guest_activity_state,
                     guest_interruptibility_info);
    if (inject) {
        const int hw = itype == VX_INTR_TYPE_HW_XCPT;
        if (act == VX_ACTIVITY_HLT &&
            !(itype == VX_INTR_TYPE_EXT_INT || itype == VX_INTR_TYPE_NMI ||
              (hw && ivec < 32 && BIT(VX_XCPT_ALLOWED_IN_HLT, ivec)) ||
              (itype == VX_INTR_TYPE_OTHER && ivec == 0)))
            return FAIL2(guest_activity_hlt_event, guest_activity_state, vm_entry_intr_info_field);
        if (act == VX_ACTIVITY_SHUTDOWN &&
            !(itype == VX_INTR_TYPE_NMI || (hw && ivec < 32 && BIT(VX_XCPT_ALLOWED_IN_SHUTDOWN, ivec))))
            return FAIL2(guest_activity_shutdown_event, guest_activity_state,
                         vm_entry_intr_info_field);
        if (act == VX_ACTIVITY_WAIT_SIPI)
            return FAIL2(guest_activity_sipi_event, guest_activity_state, vm_entry_intr_info_field);
    }
    if (act == VX_ACTIVITY_WAIT_SIPI && (entry & VX_ENTRY_CTL_ENTRY_SMM))
        return FAIL2(guest_activity_sipi_smm, guest_activity_state, vm_entry_controls);

    if (intr & VX_INTR_STATE_RESERVED)
        return FAIL1(guest_intr_reserved, guest_interruptibility_info);
    if ((intr & VX_INTR_BLOCK_STI) && (intr & VX_INTR_BLOCK_MOV_SS))
        return FAIL1(guest_intr_sti_movss, guest_interruptibility_info);
    if ((intr & VX_INTR_BLOCK_STI) && !(rflags & RFLAGS_IF))
        return FAIL2(guest_intr_sti_if, guest_interruptibility_info, guest_rflags);
    if (inject && itype == VX_INTR_TYPE_EXT_INT &&
        (intr & (VX_INTR_BLOCK_STI | VX_INTR_BLOCK_MOV_SS)))
        return FAIL2(guest_intr_extint_blocking, guest_interruptibility_info,
                     vm_entry_intr_info_field);
    if (inject && itype == VX_INTR_TYPE_NMI && (intr & VX_INTR_BLOCK_MOV_SS))
        return FAIL2(guest_intr_nmi_movss, guest_interruptibility_info, vm_entry_intr_info_field);
    if (inject && itype == VX_INTR_TYPE_NMI && (intr & VX_INTR_BLOCK_STI))
        return FAIL2(guest_intr_nmi_sti, guest_interruptibility_info, vm_entry_intr_info_field);
    if (!in_smm && (intr & VX_INTR_BLOCK_SMI))
        return FAIL1(guest_intr_smi_outside_smm, guest_interruptibility_info);
    if ((entry & VX_ENTRY_CTL_ENTRY_SMM) && !(intr & VX_INTR_BLOCK_SMI))
        return FAIL2(guest_intr_smi_entry_smm, guest_interruptibility_info, vm_entry_controls);
    if ((pin & VX_PIN_VIRTUAL_NMIS) && inject && itype == VX_INTR_TYPE_NMI &&
        (intr & VX_INTR_BLOCK_NMI))
        return FAIL3(guest_intr_nmi_virtual_nmi, guest_interruptibility_info,
                     vm_entry_intr_info_field, pin_based_vm_exec_control);
    if ((intr & VX_INTR_ENCLAVE) && (intr & VX_INTR_BLOCK_MOV_SS))
        return FAIL1(guest_intr_enclave_movss, guest_interruptibility_info);
    if ((intr & VX_INTR_ENCLAVE) && !BIT(cpuid_reg(p, 7, 0, EBX), 2))
        return FAIL1(guest_intr_enclave_sgx, guest_interruptibility_info);

    const uint64_t pd = G(guest_pending_dbg_exceptions);
    if (pd & ~VX_PENDING_DBG_VALID)
        return FAIL1(guest_pending_dbg_reserved, guest_pending_dbg_exceptions);
    if ((intr & (VX_INTR_BLOCK_STI | VX_INTR_BLOCK_MOV_SS)) || act == VX_ACTIVITY_HLT) {
        const int tf = (rflags & RFLAGS_TF) != 0;
        const int btf = (G(guest_ia32_debugctl) & VX_DEBUGCTL_BTF) != 0;
        if (tf && !btf && !(pd & VX_PENDING_DBG_BS))
            return FAIL3(guest_pending_dbg_bs_set, guest_pending_dbg_exceptions, guest_rflags,
                         guest_ia32_debugctl);
        if ((!tf || btf) && (pd & VX_PENDING_DBG_BS))
            return FAIL3(guest_pending_dbg_bs_clear, guest_pending_dbg_exceptions, guest_rflags,
                         guest_ia32_debugctl);
    }
    if (pd & VX_PENDING_DBG_RTM) {
        if (pd & ~(VX_PENDING_DBG_RTM | VX_PENDING_DBG_ENABLED_BP))
            return FAIL1(guest_pending_dbg_rtm_bits, guest_pending_dbg_exceptions);
        if (!(pd & VX_PENDING_DBG_ENABLED_BP))
            return FAIL1(guest_pending_dbg_rtm_bit12, guest_pending_dbg_exceptions);
        if (!BIT(cpuid_reg(p, 7, 0, EBX), 11))
            return FAIL1(guest_pending_dbg_rtm_support, guest_pending_dbg_exceptions);
        if (intr & VX_INTR_BLOCK_MOV_SS)
            return FAIL2(guest_pending_dbg_rtm_movss, guest_pending_dbg_exceptions,
                         guest_interruptibility_info);
    }

    const uint64_t link = G(vmcs_link_pointer);
    if (link != UINT64_MAX) {
        if (link & 0xfff)
            return FAIL1(guest_vmcs_link_align, vmcs_link_pointer);
        if (!pa_ok(link, vmx_pa_width(p)))
            return FAIL1(guest_vmcs_link_width, vmcs_link_pointer);
        /* The first 32 bits of the region: revision identifier and, in
         * bit 31, the shadow-VMCS indicator (25.2). */
        const uint64_t rev = read_le(c, link, 4);
        if ((rev & VX_BASIC_REVISION_MASK) != vx_profile_vmcs_revision(p)) {
            const uint32_t enc[1] = { VX_ENC_vmcs_link_pointer };
            const uint64_t val[1] = { link };
            return fail_vals(c, VX_CHECK_guest_vmcs_link_revision, 1, enc, val);
        }
        if (((rev >> 31) & 1) != ((proc2 & VX_PROC2_SHADOW_VMCS) != 0))
            return FAIL2(guest_vmcs_link_shadow, vmcs_link_pointer, secondary_vm_exec_control);
        if ((!in_smm || (entry & VX_ENTRY_CTL_ENTRY_SMM)) && link == c->e->current_vmcs_ptr)
            return FAIL1(guest_vmcs_link_current, vmcs_link_pointer);
        if (in_smm && !(entry & VX_ENTRY_CTL_ENTRY_SMM) && link == G(executive_vmcs_pointer))
            return FAIL2(guest_vmcs_link_executive, vmcs_link_pointer, executive_vmcs_pointer);
    }
    if ((entry & VX_ENTRY_CTL_LOAD_UINV) && (G(guest_uinv) & 0xff00))
        return FAIL1(guest_uinv_reserved, guest_uinv);

    /* ---- 27.3.1.6 PDPTEs under PAE paging ---- */
    if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !ia32e) {
        /* A present PDPTE must not set bits 2:1, 8:5 or bits at or above
         * MAXPHYADDR (Vol. 3A 4.4.1): what MOV to CR3 checks. */
        uint64_t rsvd = VX_PDPTE_RESERVED_LOW;
        if (p->maxphyaddr < 64)
            rsvd |= ~0ull << p->maxphyaddr;
        static const int id_mem[4] = { VX_CHECK_guest_pdpte0_mem, VX_CHECK_guest_pdpte1_mem,
                                       VX_CHECK_guest_pdpte2_mem, VX_CHECK_guest_pdpte3_mem };
        static const int id_fld[4] = { VX_CHECK_guest_pdptr0, VX_CHECK_guest_pdptr1,
                                       VX_CHECK_guest_pdptr2, VX_CHECK_guest_pdptr3 };
        static const uint32_t enc[4] = { VX_ENC_guest_pdptr0, VX_ENC_guest_pdptr1,
                                         VX_ENC_guest_pdptr2, VX_ENC_guest_pdptr3 };
        uint64_t pdpte[4];
        const int ept = (proc2 & VX_PROC2_EPT) != 0;
        /* Without EPT the 32-byte table at CR3[31:5]; the model always
         * checks it (27.3.1.6 allows it even when CR3 does not change). */
        const uint64_t table = G(guest_cr3) & 0xffffffe0u;
        for (int i = 0; i < 4; i++) {
            pdpte[i] = ept ? get(c, enc[i]) : read_le(c, table + 8u * (unsigned)i, 8);
            if ((pdpte[i] & VX_PDPTE_P) && (pdpte[i] & rsvd)) {
                if (ept)
                    return fail_fields(c, id_fld[i], 1, enc[i], 0, 0);
                const uint32_t encs[2] = { VX_ENC_guest_cr3, enc[i] };
                const uint64_t vals[2] = { G(guest_cr3), pdpte[i] };
                return fail_vals(c, id_mem[i], 2, encs, vals);
            }
        }
        if (pdpte_out)
            memcpy(pdpte_out, pdpte, sizeof pdpte);
    }
    return 0;
}
