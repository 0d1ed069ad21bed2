/*
 * vmentry.c - VM entries (Intel SDM Vol. 3C chapter 27), in the SDM's
 * order, after VMLAUNCH/VMRESUME passed their own checks (31.3): the
 * checks on the VMX controls and the host-state area (27.2; failures
 * are VMfailValid 7 and 8, reported by the caller), the checks on the
 * guest-state area (27.3.1), loading guest state (27.3.2), loading MSRs
 * (27.4), and event injection (27.6).  Failures after the host state was
 * checked are VM-entry failure exits (27.8): exit reason 33 (guest
 * state) or 34 (MSR loading) with bit 31 set, to the host state.
 */
#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "../vmcs/controls.h"
#include "../vmcs/entry_checks.h"
#include "../ept/ept.h"

static uint64_t get(vx_vmcs *v, uint32_t enc) { return vx_vmcs_get(v, enc); }

static int read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
    vmxsim *m = ctx;
    if (pa >= m->mem_size || len > m->mem_size - pa) return -1;
    vx_phys_read(m, pa, buf, len);
    return 0;
}

static void trace_check_failure(vmxsim *m, const vx_entry_failure *f, const char *outcome)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_VMENTRY)) return;
    json_t *ev = vx_ev_new(m, "vm_entry_failed");
    json_object_set_new(ev, "outcome", json_string(outcome));
    json_object_set_new(ev, "check", json_string(vx_check_name(f->check)));
    json_object_set_new(ev, "sdm", json_string(vx_check_sdm(f->check)));
    json_object_set_new(ev, "description", json_string(vx_check_desc(f->check)));
    json_t *fields = json_array();
    for (int i = 0; i < f->nfields && i < 3; i++) {
        json_t *fo = json_object();
        int idx = vx_field_index(f->field[i], NULL);
        json_object_set_new(fo, "field", json_string(idx >= 0 ? vx_fields[idx].name : "?"));
        json_object_set_new(fo, "encoding", vx_json_hex(f->field[i]));
        json_object_set_new(fo, "value", vx_json_hex(f->value[i]));
        json_array_append_new(fields, fo);
    }
    json_object_set_new(ev, "fields", fields);
    vx_ev_emit(m, VMXSIM_EV_VMENTRY, ev);
}

/* The failure explained in plain words on the console (--explain). */
static void explain(vmxsim *m, const vx_entry_failure *f)
{
    if (!m->explain) return;
    fprintf(stderr, "vmxsim: VM entry failed check %s (SDM %s): %s\n",
            vx_check_name(f->check), vx_check_sdm(f->check), vx_check_desc(f->check));
    for (int i = 0; i < f->nfields && i < 3; i++) {
        int idx = vx_field_index(f->field[i], NULL);
        fprintf(stderr, "vmxsim:   %s (0x%04x) = 0x%llx\n", idx >= 0 ? vx_fields[idx].name : "?",
                (unsigned)f->field[i], (unsigned long long)f->value[i]);
    }
}

/* Controls and guest states whose effects the model does not implement
 * yet: entering with them would run the guest wrongly, so VM entry says
 * so instead.  NULL when everything enabled is modelled. */
static const char *unmodelled_feature(vx_vmcs *v)
{
    uint32_t pin = (uint32_t)get(v, VX_ENC_pin_based_vm_exec_control);
    uint32_t proc = (uint32_t)get(v, VX_ENC_cpu_based_vm_exec_control);
    uint32_t proc2 = (proc & VX_PROC_SECONDARY) ? (uint32_t)get(v, VX_ENC_secondary_vm_exec_control) : 0;
    uint32_t entc = (uint32_t)get(v, VX_ENC_vm_entry_controls);
    uint32_t exitc = (uint32_t)get(v, VX_ENC_vm_exit_controls);
    static const struct { int which; uint32_t bit; const char *what; } table[] = {
        {0, VX_PIN_POSTED_INTR, "posted-interrupt processing"},
        {1, VX_PROC_TERTIARY, "tertiary processor-based controls"},
        {2, VX_PROC2_VIRT_APIC_ACCESS, "APIC-access virtualization"},
        {2, VX_PROC2_X2APIC_MODE, "x2APIC virtualization"},
        {2, VX_PROC2_APIC_REG_VIRT, "APIC-register virtualization"},
        {2, VX_PROC2_VID, "virtual-interrupt delivery"},
        {2, VX_PROC2_SHADOW_VMCS, "VMCS shadowing"},
        {2, VX_PROC2_PML, "page-modification logging"},
        {2, VX_PROC2_EPT_VE, "EPT-violation #VE"},
        {2, VX_PROC2_SPP, "sub-page write permissions"},
        {2, VX_PROC2_PT_CONCEAL, "Intel PT controls"},
        {3, VX_ENTRY_CTL_LOAD_PERF_GLOBAL, "loading IA32_PERF_GLOBAL_CTRL (no PMU is modelled)"},
        {3, VX_ENTRY_CTL_LOAD_BNDCFGS, "loading IA32_BNDCFGS"},
        {3, VX_ENTRY_CTL_PT_CONCEAL | VX_ENTRY_CTL_LOAD_RTIT, "Intel PT controls"},
        {3, VX_ENTRY_CTL_LOAD_UINV, "loading UINV"},
        {3, VX_ENTRY_CTL_LOAD_CET, "loading CET state"},
        {3, VX_ENTRY_CTL_LOAD_LBR, "loading IA32_LBR_CTL"},
        {3, VX_ENTRY_CTL_LOAD_PKRS, "loading IA32_PKRS"},
        {3, VX_ENTRY_CTL_LOAD_FRED, "loading FRED state"},
        {4, VX_EXIT_CTL_LOAD_PERF_GLOBAL | VX_EXIT_CTL_SAVE_PERF_GLOBAL,
         "saving or loading IA32_PERF_GLOBAL_CTRL (no PMU is modelled)"},
        {4, VX_EXIT_CTL_CLEAR_BNDCFGS, "clearing IA32_BNDCFGS"},
        {4, VX_EXIT_CTL_PT_CONCEAL | VX_EXIT_CTL_CLEAR_RTIT, "Intel PT controls"},
        {4, VX_EXIT_CTL_CLEAR_LBR, "clearing IA32_LBR_CTL"},
        {4, VX_EXIT_CTL_CLEAR_UINV, "clearing UINV"},
        {4, VX_EXIT_CTL_LOAD_CET, "loading CET state"},
        {4, VX_EXIT_CTL_LOAD_PKRS, "loading IA32_PKRS"},
        {4, VX_EXIT_CTL_SECONDARY, "secondary VM-exit controls"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        uint32_t ctl = table[i].which == 0 ? pin : table[i].which == 1 ? proc
                     : table[i].which == 2 ? proc2 : table[i].which == 3 ? entc : exitc;
        if (ctl & table[i].bit) return table[i].what;
    }
    if (get(v, VX_ENC_guest_pending_dbg_exceptions))
        return "pending debug exceptions on VM entry";
    if (get(v, VX_ENC_guest_rflags) & RFLAGS_VM) return "virtual-8086 guests";
    return NULL;
}

/* 27.3.2: load the guest state. */
static int load_guest_state(vmxsim *m, vx_vmcs *v, const uint64_t pdpte[4])
{
    uint32_t entc = (uint32_t)get(v, VX_ENC_vm_entry_controls);
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0);
    cr0 = (cr0 & VX_CR0_UNCHANGED_BY_VMX) | (get(v, VX_ENC_guest_cr0) & ~VX_CR0_UNCHANGED_BY_VMX);
    vx_set_reg(m, UC_X86_REG_CR0, cr0);
    vx_set_reg(m, UC_X86_REG_CR4, get(v, VX_ENC_guest_cr4));
    vx_set_reg(m, UC_X86_REG_CR3, get(v, VX_ENC_guest_cr3));
    if (entc & VX_ENTRY_CTL_LOAD_DEBUG) {
        vx_set_reg(m, UC_X86_REG_DR7, get(v, VX_ENC_guest_dr7));
        m->debugctl = get(v, VX_ENC_guest_ia32_debugctl);
    }
    vx_load_sysenter(m, get(v, VX_ENC_guest_sysenter_cs), get(v, VX_ENC_guest_sysenter_esp),
                     get(v, VX_ENC_guest_sysenter_eip));
    if (entc & VX_ENTRY_CTL_LOAD_PAT) m->pat = get(v, VX_ENC_guest_ia32_pat);
    uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
    if (entc & VX_ENTRY_CTL_LOAD_EFER) {
        efer = get(v, VX_ENC_guest_ia32_efer);
    } else {
        /* LMA follows the IA-32e mode guest control, and so does LME
         * when the guest has paging on (27.3.2.1). */
        efer &= ~EFER_LMA;
        if (entc & VX_ENTRY_CTL_IA32E_GUEST) efer |= EFER_LMA;
        if (cr0 & CR0_PG) {
            efer &= ~EFER_LME;
            if (entc & VX_ENTRY_CTL_IA32E_GUEST) efer |= EFER_LME;
        }
    }
    vx_set_reg(m, UC_X86_REG_EFLAGS, get(v, VX_ENC_guest_rflags));
    vx_set_reg(m, UC_X86_REG_RSP, get(v, VX_ENC_guest_rsp));
    vx_set_reg(m, UC_X86_REG_RIP, get(v, VX_ENC_guest_rip));
    vx_write_dtr(m, UC_X86_REG_GDTR, get(v, VX_ENC_guest_gdtr_base),
                 (uint32_t)get(v, VX_ENC_guest_gdtr_limit));
    vx_write_dtr(m, UC_X86_REG_IDTR, get(v, VX_ENC_guest_idtr_base),
                 (uint32_t)get(v, VX_ENC_guest_idtr_limit));
    vx_seg s[VX_NSEGS];
    vx_guest_segs_from_vmcs(v, s);
    if (vx_set_efer_segs(m, efer, s, 0xFF) < 0) return -1;
    /* 64-bit FS and GS bases live in the MSRs the engine uses. */
    vx_msr_set(m, VX_MSR_FS_BASE, s[VX_SEG_FS].base);
    vx_msr_set(m, VX_MSR_GS_BASE, s[VX_SEG_GS].base);
    memcpy(m->pdpte, pdpte, sizeof m->pdpte);
    m->guest_activity = (uint32_t)get(v, VX_ENC_guest_activity_state);
    m->guest_interruptibility = (uint32_t)get(v, VX_ENC_guest_interruptibility_info);
    return 0;
}

static void trace_entry(vmxsim *m, vx_vmcs *v, int resume)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_VMENTRY)) return;
    json_t *ev = vx_ev_new(m, "vm_entry");
    json_object_set_new(ev, "instruction", json_string(resume ? "vmresume" : "vmlaunch"));
    json_object_set_new(ev, "guest_rip", vx_json_hex(get(v, VX_ENC_guest_rip)));
    json_object_set_new(ev, "guest_rsp", vx_json_hex(get(v, VX_ENC_guest_rsp)));
    json_object_set_new(ev, "guest_cr0", vx_json_hex(get(v, VX_ENC_guest_cr0)));
    json_object_set_new(ev, "guest_cr4", vx_json_hex(get(v, VX_ENC_guest_cr4)));
    json_object_set_new(ev, "ia32e_mode_guest",
                        json_boolean(get(v, VX_ENC_vm_entry_controls) & VX_ENTRY_CTL_IA32E_GUEST));
    /* The event VM entry injects (27.6), if any. */
    uint32_t info = (uint32_t)get(v, VX_ENC_vm_entry_intr_info_field);
    if (info & VX_INTR_INFO_VALID) {
        json_t *inj = json_object();
        json_object_set_new(inj, "intr_info", vx_json_hex(info));
        json_object_set_new(inj, "type", json_integer(VX_INTR_INFO_TYPE(info)));
        json_object_set_new(inj, "vector", json_integer(VX_INTR_INFO_VECTOR(info)));
        if (info & VX_INTR_INFO_DELIVER_EC)
            json_object_set_new(inj, "error_code",
                                vx_json_hex(get(v, VX_ENC_vm_entry_exception_error_code)));
        json_object_set_new(ev, "injected", inj);
    }
    vx_ev_emit(m, VMXSIM_EV_VMENTRY, ev);
}

/* 27.6: deliver the event in the VM-entry interruption-information
 * field through the guest's IDT, as the guest would have delivered it
 * (27.6.1.1).  Software interrupts and software exceptions push the
 * RIP after the instruction (guest RIP + VM-entry instruction length);
 * type 7 ("other event") is the pending MTF VM exit (27.6.2). */
static vx_action inject_event(vmxsim *m, vx_vmcs *v, uint32_t info)
{
    unsigned type = VX_INTR_INFO_TYPE(info), vector = VX_INTR_INFO_VECTOR(info);
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    if (type == VX_INTR_TYPE_OTHER) {
        /* Type 7, vector 0: an MTF VM exit pending after VM entry
         * (27.6.2), whatever the monitor trap flag control says. */
        m->pend_mtf = 1;
        return VX_JUMP;
    }
    m->pend_vector = (int)vector;
    m->pend_has_err = (info & VX_INTR_INFO_DELIVER_EC) != 0;
    m->pend_err = (uint32_t)get(v, VX_ENC_vm_entry_exception_error_code);
    m->pend_engine = 0;
    m->pend_soft = type == VX_INTR_TYPE_SW_INT || type == VX_INTR_TYPE_SW_XCPT;
    m->pend_injected = 1;
    m->pend_rip = rip;
    m->pend_insn_len = 0;
    /* What the event is, for the IDT-vectoring information of a VM exit
     * during its delivery (28.2.3); a software interrupt or exception
     * has the VM-entry instruction length as its instruction's. */
    m->pend_kind = type == VX_INTR_TYPE_EXT_INT ? VX_PEND_EXTINT
                 : type == VX_INTR_TYPE_NMI ? VX_PEND_NMI
                 : type == VX_INTR_TYPE_SW_INT ? VX_PEND_SWINT
                 : type == VX_INTR_TYPE_PRIV_SW_XCPT ? VX_PEND_PRIVSW
                 : type == VX_INTR_TYPE_SW_XCPT ? VX_PEND_SWEXC : VX_PEND_HW;
    if (type >= VX_INTR_TYPE_SW_INT && type <= VX_INTR_TYPE_SW_XCPT) {
        m->pend_insn_len = (unsigned)get(v, VX_ENC_vm_entry_instruction_len);
        m->pend_rip = rip + m->pend_insn_len;
    }
    if (vector == VX_PF && type == VX_INTR_TYPE_HW_XCPT) m->pend_cr2 = vx_reg(m, UC_X86_REG_CR2);
    /* An injected NMI blocks NMIs (virtual-NMI blocking with "virtual
     * NMIs" = 1) from the start of its delivery: a VM exit during it
     * saves the blocking (27.6.1.2, 28.1). */
    if (type == VX_INTR_TYPE_NMI) m->nmi_blocked = 1;
    vx_deliver_pending(m);
    if (m->end != VMXSIM_END_NONE) return VX_STOP;
    m->resume_rip = vx_reg(m, UC_X86_REG_RIP);
    return VX_JUMP;
}

/* A VM exit right after VM entry, before any guest instruction (27.7):
 * trap-like, so the saved RIP is the next instruction's. */
static vx_action exit_after_entry(vmxsim *m, uint32_t reason)
{
    vx_exit x = {0};
    x.reason = reason;
    x.guest_rip = vx_reg(m, UC_X86_REG_RIP);
    x.interruptibility = vx_nonroot_shadow(m, m->icount, vx_reg(m, UC_X86_REG_RIP) + vx_cs_base(m)) |
                         (m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0);
    x.activity = m->guest_activity;   /* a halted guest stays halted (28.3.4) */
    if (vx_vmexit(m, &x) < 0) return VX_STOP;
    m->resume_rip = vx_reg(m, UC_X86_REG_RIP);
    return VX_JUMP;
}

/* The NMI window and the interrupt window, if open at VM entry, exit
 * before the first guest instruction, NMI window first (26.7.5, 26.7.6:
 * open = no virtual-NMI or MOV-SS blocking; RFLAGS.IF = 1 and no STI or
 * MOV-SS blocking).  A window that opens later (after STI, POPF, IRET) is
 * not modelled yet.  The monitor trap flag makes the first instruction
 * exit after it retires (the run loop), or exits at once after an
 * injected event was delivered (26.7.2: a pending MTF VM exit). */
static vx_action entry_windows(vmxsim *m, vx_vmcs *v, int injected)
{
    uint32_t proc = (uint32_t)get(v, VX_ENC_cpu_based_vm_exec_control);
    uint32_t intr = m->shadow_bits; /* blocking by STI / MOV SS after the entry */
    unsigned act = m->guest_activity;
    /* The activity state blocks some of these exits: the interrupt window
     * does not wake the shutdown and wait-for-SIPI states, nor the NMI
     * window and the timer wait-for-SIPI (27.7.5, 27.7.6, 26.7.1). */
    int nmi_open = !m->nmi_blocked && !(intr & VX_INTR_BLOCK_MOV_SS) &&
                   act != VX_ACTIVITY_WAIT_SIPI;
    int intr_open = (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF) &&
                    !(intr & (VX_INTR_BLOCK_STI | VX_INTR_BLOCK_MOV_SS)) &&
                    (act == VX_ACTIVITY_ACTIVE || act == VX_ACTIVITY_HLT);
    if (((proc & VX_PROC_MTF) && injected) || m->pend_mtf) {
        m->pend_mtf = 0;
        return exit_after_entry(m, VX_EXIT_MONITOR_TRAP_FLAG);
    }
    if (m->timer_armed && m->cycles >= m->timer_deadline && act != VX_ACTIVITY_WAIT_SIPI)
        return exit_after_entry(m, VX_EXIT_PREEMPTION_TIMER);
    if ((proc & VX_PROC_NMI_WINDOW) && nmi_open) return exit_after_entry(m, VX_EXIT_NMI_WINDOW);
    if ((proc & VX_PROC_INTR_WINDOW) && intr_open)
        return exit_after_entry(m, VX_EXIT_INTERRUPT_WINDOW);
    /* A window still closed opens when the guest executes STI, POPF or
     * IRET (or the blocking of one instruction ends): the run loop steps
     * the guest and looks after each instruction (nonroot.c). */
    m->window_wait = (proc & (VX_PROC_NMI_WINDOW | VX_PROC_INTR_WINDOW)) != 0;
    m->mtf_armed = (proc & VX_PROC_MTF) != 0;
    return VX_JUMP;
}

/* The VMX-preemption timer (25.5.1): from the value loaded, the TSC at
 * which the timer reaches 0 (it counts down each time TSC bit X
 * changes), and the cycle at which that happens (cycles.c). */
static void arm_preemption_timer(vmxsim *m, vx_vmcs *v)
{
    m->timer_armed = 0;
    if (!(get(v, VX_ENC_pin_based_vm_exec_control) & VX_PIN_PREEMPTION_TIMER)) return;
    uint64_t misc = 0;
    vx_profile_vmx_msr(&m->prof, VX_MSR_VMX_MISC, &misc);
    unsigned x = misc & 0x1F;
    uint64_t value = get(v, VX_ENC_vmx_preemption_timer_value) & 0xFFFFFFFF;
    uint64_t now = vx_tsc(m);
    m->timer_shift = x;
    m->timer_deadline_tsc = value ? ((now >> x) + value) << x : now;
    m->timer_deadline = vx_cyc_at_tsc(m, m->timer_deadline_tsc);
    m->timer_armed = 1;
}

/* A VM-entry failure exit (27.8) to the host state. */
static vx_action entry_failure(vmxsim *m, uint32_t basic, uint64_t qual)
{
    vx_exit x = {0};
    x.reason = VX_EXIT_REASON_ENTRY_FAILURE | basic;
    x.qual = qual;
    if (vx_vmexit(m, &x) < 0) return VX_STOP;
    m->resume_rip = vx_reg(m, UC_X86_REG_RIP);
    return VX_JUMP;
}

static vx_entry_env entry_env(vmxsim *m, vx_vmcs *v)
{
    return (vx_entry_env){
        .prof = &m->prof, .vmcs = v,
        .cr0 = vx_reg(m, UC_X86_REG_CR0), .cr4 = vx_reg(m, UC_X86_REG_CR4),
        .efer = vx_msr_get(m, VX_MSR_EFER),
        .read_phys = read_phys, .ctx = m,
        .vmxon_ptr = m->vmxon_ptr, .current_vmcs_ptr = m->current_vmcs,
    };
}

vx_action vx_vmentry(vmxsim *m, vx_vmcs *v, int resume, int *vmfail_error)
{
    *vmfail_error = 0;
    vx_entry_env env = entry_env(m, v);
    vx_entry_failure f;
    /* 27.2: controls, then host state: VMfailValid, nothing loaded. */
    if (vx_entry_check_controls(&env, &f) < 0) {
        trace_check_failure(m, &f, "VMfailValid");
        explain(m, &f);
        *vmfail_error = 7;
        return VX_NEXT;
    }
    if (vx_entry_check_host(&env, &f) < 0) {
        trace_check_failure(m, &f, "VMfailValid");
        explain(m, &f);
        *vmfail_error = 8;
        return VX_NEXT;
    }
    /* The rest changes the processor's state, which Unicorn must not see
     * from inside a hook (it would resume at the new RIP): the run loop
     * carries it out once the engine has stopped. */
    m->pend_entry = 1;
    m->pend_entry_resume = resume;
    return VX_TRANSITION;
}

void vx_vmentry_perform(vmxsim *m)
{
    vx_vmcs *v = vx_current_vmcs(m);
    int resume = m->pend_entry_resume;
    m->pend_entry = 0;
    if (!v) return;
    vx_cyc_transition(m, 1, 0); /* the entry, whether it succeeds or exits (27.8) */
    vx_entry_env env = entry_env(m, v);
    vx_entry_failure f;
    uint64_t pdpte[4] = {0};
    /* 27.3.1: guest state; failures exit with reason 33. */
    if (vx_entry_check_guest(&env, &f, pdpte) < 0) {
        trace_check_failure(m, &f, "entry_failure");
        explain(m, &f);
        entry_failure(m, VX_EXIT_INVALID_STATE, f.qualification);
        return;
    }
    const char *missing = unmodelled_feature(v);
    if (missing) {
        vx_not_modelled(m, "VM entry with %s", missing);
        return;
    }
    if (load_guest_state(m, v, pdpte) < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return;
    }
    /* 27.4: the VM-entry MSR-load area; a failure exits with reason 34
     * and the entry's number as qualification.  Only then is the VMCS
     * launched (VMLAUNCH pseudo-code, 31.3). */
    int bad = vx_load_msr_area(m, get(v, VX_ENC_vm_entry_msr_load_addr),
                               (uint32_t)get(v, VX_ENC_vm_entry_msr_load_count));
    if (bad) {
        entry_failure(m, VX_EXIT_MSR_LOAD_FAIL, (uint64_t)bad);
        return;
    }
    m->vmx_nonroot = 1;
    vx_cyc_mode_sync(m); /* from here on the guest's time */
    if (!resume) v->launched = 1;
    m->entries++;
    trace_entry(m, v, resume);
    /* The guest's EPT and VPID tag its translations from now on; without
     * VPIDs, VM entry invalidates the linear and combined mappings of
     * VPID 0, global ones too (29.4.3.1).  Guest-physical mappings stay. */
    vx_xl_enter_guest(m);
    if (!m->xl_vpid) vx_mmu_inv_vpid(m, 0, 0);
    /* 27.6: event injection. */
    uint32_t info = (uint32_t)get(v, VX_ENC_vm_entry_intr_info_field);
    int injected = (info & VX_INTR_INFO_VALID) != 0;
    /* Blocking after VM entry (27.7.1): by NMI (or virtual-NMI blocking)
     * as bit 3 says; by STI or MOV SS as bits 0 and 1 say, for the first
     * instruction, unless the entry is vectoring (injects an event of a
     * type other than 7). */
    int vectoring = injected && VX_INTR_INFO_TYPE(info) != VX_INTR_TYPE_OTHER;
    m->nmi_blocked = (m->guest_interruptibility & VX_INTR_BLOCK_NMI) != 0;
    m->shadow_icount = m->icount;
    m->shadow_bits = vectoring ? 0
                   : m->guest_interruptibility & (VX_INTR_BLOCK_STI | VX_INTR_BLOCK_MOV_SS);
    m->iret_icount = 0;
    if (injected) {
        vx_vmcs_put(v, VX_ENC_vm_entry_intr_info_field, info & ~VX_INTR_INFO_VALID);
        inject_event(m, v, info);
    }
    if (!m->vmx_nonroot || m->end != VMXSIM_END_NONE) return;
    /* A guest entered in HLT, shutdown or wait-for-SIPI state waits for
     * an event (27.7.4); an injected event wakes it (27.6), a pending MTF
     * VM exit (type 7) does not.  The model has no interrupt controller,
     * NMIs, INIT or SIPI: only a VM exit that the guest's state itself
     * causes can end the wait: the windows (entry_windows) and the
     * VMX-preemption timer (vx_nonroot_wake). */
    if (vectoring) m->guest_activity = VX_ACTIVITY_ACTIVE;
    /* PAUSE-loop exiting: the first PAUSE at CPL 0 after VM entry starts
     * a new loop (26.1.3). */
    m->ple_active = 0;
    arm_preemption_timer(m, v);
    entry_windows(m, v, injected);
    if (m->vmx_nonroot && m->end == VMXSIM_END_NONE && m->guest_activity != VX_ACTIVITY_ACTIVE) {
        static const char *const state[4] = {"active", "HLT", "shutdown", "wait-for-SIPI"};
        vx_exit x;
        if (vx_nonroot_wake(m, 0, m->cycles, &x)) {
            vx_vmexit(m, &x);
            return;
        }
        vx_end_run(m, VMXSIM_END_HLT, VMXSIM_STATUS_OK,
                   "the guest was entered in %s state and nothing can wake it",
                   state[m->guest_activity & 3]);
    }
}
