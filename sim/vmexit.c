/*
 * vmexit.c - VM exits (Intel SDM Vol. 3C chapter 28), in the SDM's
 * order: record the exit information (28.2), save guest state (28.3),
 * store MSRs (28.4), load host state (28.5), load MSRs (28.6), and the
 * VMX abort when that fails (28.7).  VM-entry failures that happen after
 * the checks of controls and host state (27.8) leave through the same
 * path without saving guest state.
 */
#include <string.h>

#include "machine.h"
#include "../vmcs/controls.h"

static uint64_t get(vx_vmcs *v, uint32_t enc) { return vx_vmcs_get(v, enc); }
static void put(vx_vmcs *v, uint32_t enc, uint64_t val) { vx_vmcs_put(v, enc, val); }

/* The segment fields of the guest-state area, indexed like vx_seg. */
static const uint32_t guest_sel[VX_NSEGS] = {
    VX_ENC_guest_es_selector, VX_ENC_guest_cs_selector, VX_ENC_guest_ss_selector,
    VX_ENC_guest_ds_selector, VX_ENC_guest_fs_selector, VX_ENC_guest_gs_selector,
    VX_ENC_guest_ldtr_selector, VX_ENC_guest_tr_selector};
static const uint32_t guest_base[VX_NSEGS] = {
    VX_ENC_guest_es_base, VX_ENC_guest_cs_base, VX_ENC_guest_ss_base,
    VX_ENC_guest_ds_base, VX_ENC_guest_fs_base, VX_ENC_guest_gs_base,
    VX_ENC_guest_ldtr_base, VX_ENC_guest_tr_base};
static const uint32_t guest_limit[VX_NSEGS] = {
    VX_ENC_guest_es_limit, VX_ENC_guest_cs_limit, VX_ENC_guest_ss_limit,
    VX_ENC_guest_ds_limit, VX_ENC_guest_fs_limit, VX_ENC_guest_gs_limit,
    VX_ENC_guest_ldtr_limit, VX_ENC_guest_tr_limit};
static const uint32_t guest_ar[VX_NSEGS] = {
    VX_ENC_guest_es_ar_bytes, VX_ENC_guest_cs_ar_bytes, VX_ENC_guest_ss_ar_bytes,
    VX_ENC_guest_ds_ar_bytes, VX_ENC_guest_fs_ar_bytes, VX_ENC_guest_gs_ar_bytes,
    VX_ENC_guest_ldtr_ar_bytes, VX_ENC_guest_tr_ar_bytes};

void vx_guest_segs_from_vmcs(vx_vmcs *v, vx_seg s[VX_NSEGS])
{
    for (int i = 0; i < VX_NSEGS; i++)
        s[i] = (vx_seg){(uint16_t)get(v, guest_sel[i]), get(v, guest_base[i]),
                        (uint32_t)get(v, guest_limit[i]), (uint32_t)get(v, guest_ar[i])};
}

static void read_dtr(vmxsim *m, int reg, uint64_t *base, uint32_t *limit)
{
    uc_x86_mmr r = {0};
    uc_reg_read(m->uc, reg, &r);
    *base = r.base;
    *limit = r.limit;
}

/* IA32_SYSENTER_CS (32 bits), _ESP and _EIP, as VM entry and VM exit
 * load them (27.3.2.1, 28.5.1). */
void vx_load_sysenter(vmxsim *m, uint64_t cs, uint64_t esp, uint64_t eip)
{
    vx_msr_set(m, VX_MSR_SYSENTER_CS, cs & 0xFFFFFFFF);
    vx_msr_set(m, VX_MSR_SYSENTER_ESP, esp);
    vx_msr_set(m, VX_MSR_SYSENTER_EIP, eip);
}

void vx_write_dtr(vmxsim *m, int reg, uint64_t base, uint32_t limit)
{
    uc_x86_mmr r = {.selector = 0, .base = base, .limit = limit, .flags = 0};
    uc_reg_write(m->uc, reg, &r);
}

/* 28.2: the exit-information fields. */
static void record_exit_info(vx_vmcs *v, const vx_exit *x)
{
    put(v, VX_ENC_vm_exit_reason, x->reason);
    put(v, VX_ENC_exit_qualification, x->qual);
    if (x->reason & VX_EXIT_REASON_ENTRY_FAILURE) return; /* 27.8: only these two */
    put(v, VX_ENC_guest_linear_address, x->guest_linear);
    put(v, VX_ENC_guest_physical_address, x->guest_phys);
    put(v, VX_ENC_vm_exit_intr_info, x->intr_info);
    put(v, VX_ENC_vm_exit_intr_error_code, x->intr_err);
    put(v, VX_ENC_idt_vectoring_info_field, x->idt_info);
    put(v, VX_ENC_idt_vectoring_error_code, x->idt_err);
    put(v, VX_ENC_vm_exit_instruction_len, x->insn_len);
    put(v, VX_ENC_vmx_instruction_info, x->insn_info);
}

/* 28.3: save guest state. */
static void save_guest_state(vmxsim *m, vx_vmcs *v, const vx_exit *x)
{
    uint32_t exitc = (uint32_t)get(v, VX_ENC_vm_exit_controls);
    put(v, VX_ENC_guest_cr0, vx_reg(m, UC_X86_REG_CR0));
    put(v, VX_ENC_guest_cr3, vx_reg(m, UC_X86_REG_CR3));
    put(v, VX_ENC_guest_cr4, vx_reg(m, UC_X86_REG_CR4));
    /* With EPT, a guest using PAE paging has its PDPTE registers saved
     * (28.3.4): the VMM cannot read them from memory it does not map. */
    if (m->xl_ept.enabled && (m->arch_cr0 & CR0_PG) && (m->arch_cr4 & CR4_PAE) &&
        !(m->arch_efer & EFER_LMA)) {
        static const uint32_t enc[4] = {VX_ENC_guest_pdptr0, VX_ENC_guest_pdptr1,
                                        VX_ENC_guest_pdptr2, VX_ENC_guest_pdptr3};
        for (int i = 0; i < 4; i++) put(v, enc[i], m->pdpte[i]);
    }
    if (exitc & VX_EXIT_CTL_SAVE_DEBUG) {
        put(v, VX_ENC_guest_dr7, vx_reg(m, UC_X86_REG_DR7));
        put(v, VX_ENC_guest_ia32_debugctl, m->debugctl);
    }
    put(v, VX_ENC_guest_sysenter_cs, vx_msr_get(m, VX_MSR_SYSENTER_CS) & 0xFFFFFFFF);
    put(v, VX_ENC_guest_sysenter_esp, vx_msr_get(m, VX_MSR_SYSENTER_ESP));
    put(v, VX_ENC_guest_sysenter_eip, vx_msr_get(m, VX_MSR_SYSENTER_EIP));
    uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
    if (exitc & VX_EXIT_CTL_SAVE_PAT) put(v, VX_ENC_guest_ia32_pat, m->pat);
    if (exitc & VX_EXIT_CTL_SAVE_EFER) put(v, VX_ENC_guest_ia32_efer, efer);
    /* The IA-32e mode guest entry control follows EFER.LMA (28.3.1). */
    uint64_t entc = get(v, VX_ENC_vm_entry_controls) & ~(uint64_t)VX_ENTRY_CTL_IA32E_GUEST;
    put(v, VX_ENC_vm_entry_controls, entc | ((efer & EFER_LMA) ? VX_ENTRY_CTL_IA32E_GUEST : 0));

    vx_seg s[VX_NSEGS];
    if (vx_get_segs(m, s) == 0) {
        for (int i = 0; i < VX_NSEGS; i++) {
            put(v, guest_sel[i], s[i].sel);
            put(v, guest_base[i], s[i].base);
            put(v, guest_limit[i], s[i].limit);
            put(v, guest_ar[i], s[i].ar);
        }
    }
    uint64_t base;
    uint32_t limit;
    read_dtr(m, UC_X86_REG_GDTR, &base, &limit);
    put(v, VX_ENC_guest_gdtr_base, base);
    put(v, VX_ENC_guest_gdtr_limit, limit);
    read_dtr(m, UC_X86_REG_IDTR, &base, &limit);
    put(v, VX_ENC_guest_idtr_base, base);
    put(v, VX_ENC_guest_idtr_limit, limit);

    /* 28.3.3: RIP of the instruction that caused a fault-like exit, the
     * next one after a trap-like exit; RSP and RFLAGS as they are. */
    put(v, VX_ENC_guest_rip, x->guest_rip);
    put(v, VX_ENC_guest_rsp, vx_reg(m, UC_X86_REG_RSP));
    uint64_t rflags = vx_reg(m, UC_X86_REG_EFLAGS);
    if (x->rf == VX_RF_SET) rflags |= RFLAGS_RF;
    else if (x->rf == VX_RF_CLEAR) rflags &= ~RFLAGS_RF;
    put(v, VX_ENC_guest_rflags, rflags);
    put(v, VX_ENC_guest_activity_state, x->activity);
    put(v, VX_ENC_guest_interruptibility_info, x->interruptibility);
    put(v, VX_ENC_guest_pending_dbg_exceptions, 0);
    if ((exitc & VX_EXIT_CTL_SAVE_PREEMPT) && m->timer_armed)
        put(v, VX_ENC_vmx_preemption_timer_value, vx_nonroot_timer_value(m));
}

/* MSR areas (25.7.2): 16-byte entries {u32 index; u32 reserved; u64 data}.
 * Storing fails (28.4) for reserved bits 63:32, the x2APIC range, an MSR
 * readable only in SMM (IA32_SMBASE, 0x9E) and anything RDMSR refuses. */
static int store_msrs(vmxsim *m, uint64_t area, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = area + 16ull * i, val;
        uint32_t idx = vx_phys_read32(m, e);
        if (vx_phys_read32(m, e + 4) != 0 || (idx >> 8) == 0x8 || idx == 0x9E ||
            vx_rdmsr(m, idx, &val) < 0)
            return -1;
        vx_phys_write64(m, e + 8, val);
    }
    return 0;
}

/* Loads from an MSR-load area (27.4, 28.6): returns 0, or the 1-based
 * number of the entry that failed.  The two lists agree: FS/GS base,
 * the x2APIC range (bits 31:8 = 8), IA32_SMM_MONITOR_CTL (SMM only),
 * reserved bits 63:32, and anything WRMSR would refuse fail (Bochs's
 * LoadMSRs, shared by entries and exits, applies the same); IA32_SMBASE
 * is refused for the "model-specific reasons" both lists allow. */
int vx_load_msr_area(vmxsim *m, uint64_t area, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = area + 16ull * i;
        uint32_t idx = vx_phys_read32(m, e);
        uint64_t val = vx_phys_read64(m, e + 8);
        if (vx_phys_read32(m, e + 4) != 0 || (idx >> 8) == 0x8 || idx == 0x9B ||
            idx == VX_MSR_FS_BASE || idx == VX_MSR_GS_BASE ||
            idx == 0x9E /* IA32_SMBASE */ || vx_wrmsr(m, idx, val) < 0)
            return (int)i + 1;
    }
    return 0;
}

static vx_seg host_data_seg(uint16_t sel, uint64_t base)
{
    /* 28.5.2: a non-null selector loads a flat read/write data segment;
     * a null one leaves the register unusable (SS keeps DPL 0). */
    if (!sel) return (vx_seg){0, base, 0, VX_AR_UNUSABLE};
    return (vx_seg){sel, base, 0xFFFFFFFF, 0xC093};
}

/* 28.5: load host state.  Returns 0, or a VMX-abort indicator. */
static int load_host_state(vmxsim *m, vx_vmcs *v)
{
    uint32_t exitc = (uint32_t)get(v, VX_ENC_vm_exit_controls);
    int host64 = (exitc & VX_EXIT_CTL_HOST_ADDR_SPACE) != 0;

    /* 28.5.1: control registers, debug registers, MSRs. */
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0);
    cr0 = (cr0 & VX_CR0_UNCHANGED_BY_VMX) | (get(v, VX_ENC_host_cr0) & ~VX_CR0_UNCHANGED_BY_VMX);
    uint64_t cr4 = get(v, VX_ENC_host_cr4);
    if (host64) cr4 |= CR4_PAE;
    else cr4 &= ~CR4_PCIDE;
    vx_set_reg(m, UC_X86_REG_CR0, cr0);
    vx_set_reg(m, UC_X86_REG_CR4, cr4);
    vx_set_reg(m, UC_X86_REG_CR3, get(v, VX_ENC_host_cr3));
    /* A host with PAE paging loads its PDPTEs from host CR3; a reserved
     * bit in a present one is a VMX abort (28.5.1). */
    if (!host64 && (cr0 & CR0_PG) && (cr4 & CR4_PAE) &&
        vx_load_pdptes(m, get(v, VX_ENC_host_cr3), m->pdpte) < 0)
        return -2;
    vx_set_reg(m, UC_X86_REG_DR7, 0x400);
    m->debugctl = 0;
    vx_load_sysenter(m, get(v, VX_ENC_host_ia32_sysenter_cs), get(v, VX_ENC_host_ia32_sysenter_esp),
                     get(v, VX_ENC_host_ia32_sysenter_eip));
    if (exitc & VX_EXIT_CTL_LOAD_PAT) m->pat = get(v, VX_ENC_host_ia32_pat);
    uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
    if (exitc & VX_EXIT_CTL_LOAD_EFER) {
        efer = get(v, VX_ENC_host_ia32_efer);
    } else {
        efer &= ~(EFER_LMA | EFER_LME);
        if (host64) efer |= EFER_LMA | EFER_LME;
    }
    vx_set_reg(m, UC_X86_REG_EFLAGS, RFLAGS_FIXED); /* 28.5.3 */

    /* 28.5.2: segment registers and descriptor-table registers. */
    vx_seg s[VX_NSEGS];
    uint32_t cs_ar = 0x809B | (host64 ? 1u << 13 : 1u << 14); /* G, P, S, type 11; L or D */
    s[VX_SEG_CS] = (vx_seg){(uint16_t)get(v, VX_ENC_host_cs_selector), 0, 0xFFFFFFFF, cs_ar};
    s[VX_SEG_SS] = host_data_seg((uint16_t)get(v, VX_ENC_host_ss_selector), 0);
    s[VX_SEG_DS] = host_data_seg((uint16_t)get(v, VX_ENC_host_ds_selector), 0);
    s[VX_SEG_ES] = host_data_seg((uint16_t)get(v, VX_ENC_host_es_selector), 0);
    s[VX_SEG_FS] = host_data_seg((uint16_t)get(v, VX_ENC_host_fs_selector),
                                 get(v, VX_ENC_host_fs_base));
    s[VX_SEG_GS] = host_data_seg((uint16_t)get(v, VX_ENC_host_gs_selector),
                                 get(v, VX_ENC_host_gs_base));
    s[VX_SEG_TR] = (vx_seg){(uint16_t)get(v, VX_ENC_host_tr_selector),
                            get(v, VX_ENC_host_tr_base), 0x67, 0x8B};
    s[VX_SEG_LDTR] = (vx_seg){0, 0, 0, VX_AR_UNUSABLE};
    vx_write_dtr(m, UC_X86_REG_GDTR, get(v, VX_ENC_host_gdtr_base), 0xFFFF);
    vx_write_dtr(m, UC_X86_REG_IDTR, get(v, VX_ENC_host_idtr_base), 0xFFFF);
    vx_set_reg(m, UC_X86_REG_RSP, get(v, VX_ENC_host_rsp));
    vx_set_reg(m, UC_X86_REG_RIP, get(v, VX_ENC_host_rip));
    if (vx_set_efer_segs(m, efer, s, 0xFF) < 0) return -1;
    vx_msr_set(m, VX_MSR_FS_BASE, get(v, VX_ENC_host_fs_base));
    vx_msr_set(m, VX_MSR_GS_BASE, get(v, VX_ENC_host_gs_base));
    return 0;
}

/* 28.7: a VMX abort.  The indicator goes to the VMCS region (offset 4)
 * and the logical processor shuts down: the run ends with a report. */
static void vmx_abort(vmxsim *m, vx_vmcs *v, int indicator)
{
    v->abort = (uint32_t)indicator;
    vx_phys_write32(m, v->addr + VX_VMCS_OFF_ABORT, (uint32_t)indicator);
    if (vx_ev_wanted(m, VMXSIM_EV_VMEXIT)) {
        json_t *ev = vx_ev_new(m, "vmx_abort");
        json_object_set_new(ev, "indicator", json_integer(indicator));
        vx_ev_emit(m, VMXSIM_EV_VMEXIT, ev);
    }
    vx_end_run(m, VMXSIM_END_TRIPLE_FAULT, VMXSIM_STATUS_TRIPLE_FAULT,
               "VMX abort (indicator %d): the processor shuts down", indicator);
}

/* The vm_exit event; field names follow KVM's kvm_exit and
 * kvm_nested_vmexit tracepoints where they have a counterpart
 * (exit_reason, guest_rip, intr_info, error_code, and info1 / info2,
 * which KVM's vmx_get_exit_info fills with the exit qualification and
 * the IDT-vectoring information, 0 for a VM-entry failure). */
static void trace_exit(vmxsim *m, const vx_exit *x, vx_vmcs *v)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_VMEXIT)) return;
    unsigned basic = x->reason & 0xFFFF;
    json_t *ev = vx_ev_new(m, "vm_exit");
    json_object_set_new(ev, "exit_reason", json_integer(basic));
    json_object_set_new(ev, "name", json_string(vx_exit_reason_name(basic)));
    if (x->reason & VX_EXIT_REASON_ENTRY_FAILURE)
        json_object_set_new(ev, "entry_failure", json_true());
    json_object_set_new(ev, "exit_qualification", vx_json_hex(x->qual));
    json_object_set_new(ev, "info1", vx_json_hex(x->qual));
    json_object_set_new(ev, "info2", vx_json_hex((x->reason & VX_EXIT_REASON_ENTRY_FAILURE)
                                                 ? 0 : x->idt_info));
    json_t *q = vx_exit_qualification_fields(x->reason, x->qual);
    if (q) json_object_set_new(ev, "qualification", q);
    if (!(x->reason & VX_EXIT_REASON_ENTRY_FAILURE)) {
        json_object_set_new(ev, "guest_rip", vx_json_hex(x->guest_rip));
        if (x->insn_len) json_object_set_new(ev, "instruction_length", json_integer(x->insn_len));
        if (x->insn_info) {
            json_object_set_new(ev, "instruction_info", vx_json_hex(x->insn_info));
            json_object_set_new(ev, "instruction", vx_exit_instruction_info_fields(x->reason, x->insn_info));
        }
        if (x->intr_info & VX_INTR_INFO_VALID) {
            json_object_set_new(ev, "intr_info", vx_json_hex(x->intr_info));
            if (x->intr_info & VX_INTR_INFO_DELIVER_EC)
                json_object_set_new(ev, "error_code", vx_json_hex(x->intr_err));
        }
        if (x->idt_info & VX_INTR_INFO_VALID)
            json_object_set_new(ev, "idt_vectoring_info", vx_json_hex(x->idt_info));
        /* EPT-induced exits: the addresses they report (28.2.1). */
        if (basic == VX_EXIT_EPT_VIOLATION || basic == VX_EXIT_EPT_MISCONFIG) {
            json_object_set_new(ev, "guest_physical_address", vx_json_hex(x->guest_phys));
            if (basic == VX_EXIT_EPT_VIOLATION && (x->qual & VX_EPTQ_GLA_VALID))
                json_object_set_new(ev, "guest_linear_address", vx_json_hex(x->guest_linear));
        }
    }
    json_object_set_new(ev, "host_rip", vx_json_hex(get(v, VX_ENC_host_rip)));
    vx_ev_emit(m, VMXSIM_EV_VMEXIT, ev);
}

int vx_vmexit(vmxsim *m, const vx_exit *x)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "VM exit without a current VMCS");
        return -1;
    }
    record_exit_info(v, x);
    m->exits++;
    int store_failed = 0;
    if (!(x->reason & VX_EXIT_REASON_ENTRY_FAILURE)) {
        save_guest_state(m, v, x);
        store_failed = store_msrs(m, get(v, VX_ENC_vm_exit_msr_store_addr),
                                  (uint32_t)get(v, VX_ENC_vm_exit_msr_store_count)) < 0;
    }
    /* The exit's event is the guest instruction it saves (a fault during
     * delivery has moved RIP on already).  It comes before a VMX abort
     * of either kind (MSR store here, host state or MSR load below), so
     * that the trace names the exit that aborted. */
    if (!m->insn && !(x->reason & VX_EXIT_REASON_ENTRY_FAILURE))
        vx_set_reg(m, UC_X86_REG_RIP, x->guest_rip);
    trace_exit(m, x, v);
    /* Without VPIDs, VM exit invalidates the linear and combined mappings
     * of VPID 0 (29.4.3.1); the host's translations are untagged. */
    int vpid_on = m->xl_vpid != 0;
    vx_xl_leave_guest(m);
    m->vmx_nonroot = 0;
    vx_cyc_transition(m, 0, x->reason);
    if (store_failed) {
        vmx_abort(m, v, VX_ABORT_SAVE_GUEST_MSR);
        return -1;
    }
    if (!vpid_on) vx_mmu_inv_vpid(m, 0, 0);
    m->mtf_armed = 0;
    m->window_wait = 0;
    m->timer_armed = 0;
    int hs = load_host_state(m, v);
    if (hs == -2) {
        vmx_abort(m, v, VX_ABORT_HOST_PDPTE);
        return -1;
    }
    if (hs < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return -1;
    }
    if (vx_load_msr_area(m, get(v, VX_ENC_vm_exit_msr_load_addr),
                         (uint32_t)get(v, VX_ENC_vm_exit_msr_load_count))) {
        vmx_abort(m, v, VX_ABORT_LOAD_HOST_MSR);
        return -1;
    }
    return 0;
}
