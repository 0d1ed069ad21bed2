/*
 * vmx.c - the VMX instructions in VMX root operation, each following the
 * pseudo-code of its page in SDM Vol. 3C chapter 31 ("VMX Instruction
 * Reference") step by step, in its order; the conventions VMsucceed,
 * VMfailInvalid and VMfailValid are 31.2.
 *
 * Model choices the SDM leaves open are in docs/vmx-choices.md.  What
 * VMLAUNCH/VMRESUME do once their own checks pass is VM entry
 * (vmentry.c).
 */
#include <string.h>

#include "machine.h"
#include "../vmcs/entry_checks.h"



/* Launch state values in the model (docs/vmx-choices.md): 2 marks a
 * VMCS that was launched and still active when VMXOFF ran.  The VMCS
 * store's region image keeps only clear/launched (docs/vmcs-layout.md:
 * any non-zero launch word reads as launched), so VMXOFF writes 2 into
 * the launch word of the image itself and VMPTRLD looks for it there. */
enum { LAUNCH_CLEAR = 0, LAUNCH_LAUNCHED = 1, LAUNCH_LOST_BY_VMXOFF = 2 };

typedef struct vmx_ev {
    json_t *operands;  /* NULL unless traced */
    const char *outcome;
    int error;
    int vector;
    uint32_t error_code;
    int has_error_code;
} vmx_ev;

static uint64_t msr(vmxsim *m, uint32_t index)
{
    uint64_t v = 0;
    vx_profile_vmx_msr(&m->prof, index, &v);
    return v;
}

static void operand_hex(vmx_ev *e, const char *name, uint64_t v)
{
    if (e->operands) json_object_set_new(e->operands, name, vx_json_hex(v));
}

static vx_vmcs *find_active(vmxsim *m, uint64_t addr)
{
    for (int i = 0; i < m->nactive; i++)
        if (m->active[i]->addr == addr) return m->active[i];
    return NULL;
}

static vx_vmcs *current_vmcs(vmxsim *m)
{
    return m->current_vmcs == VX_NO_VMCS ? NULL : find_active(m, m->current_vmcs);
}

vx_vmcs *vx_current_vmcs(vmxsim *m) { return current_vmcs(m); }

/* ---- 31.2 conventions ---- */

static void set_flags(vmxsim *m, uint64_t set)
{
    uint64_t f = vx_reg(m, UC_X86_REG_EFLAGS);
    vx_set_reg(m, UC_X86_REG_EFLAGS, (f & ~RFLAGS_ARITH) | set);
}

static vx_action vmsucceed(vmxsim *m, vmx_ev *e)
{
    set_flags(m, 0);
    e->outcome = "VMsucceed";
    return VX_NEXT;
}

static vx_action vmfail_invalid(vmxsim *m, vmx_ev *e)
{
    set_flags(m, RFLAGS_CF);
    e->outcome = "VMfailInvalid";
    return VX_NEXT;
}

static vx_action vmfail_valid(vmxsim *m, vmx_ev *e, int err)
{
    set_flags(m, RFLAGS_ZF);
    vx_vmcs *v = current_vmcs(m);
    int i = vx_field_index(VX_ENC_VM_INSTRUCTION_ERROR, NULL);
    if (v && i >= 0) v->val[i] = (uint64_t)err;
    e->outcome = "VMfailValid";
    e->error = err;
    return VX_NEXT;
}

/* VMfail(ErrorNumber): VMfailValid if there is a current VMCS, else
 * VMfailInvalid. */
static vx_action vmfail(vmxsim *m, vmx_ev *e, int err)
{
    return current_vmcs(m) ? vmfail_valid(m, e, err) : vmfail_invalid(m, e);
}

static vx_action fault(vmxsim *m, vmx_ev *e)
{
    e->outcome = "fault";
    e->vector = m->pend_vector;
    e->has_error_code = m->pend_has_err;
    e->error_code = m->pend_err;
    return VX_FAULT;
}

static vx_action ud(vmxsim *m, vmx_ev *e)
{
    vx_raise_ud(m);
    return fault(m, e);
}

static vx_action gp0(vmxsim *m, vmx_ev *e)
{
    vx_raise_gp0(m);
    return fault(m, e);
}

/* ---- operands ---- */

/* (RFLAGS.VM = 1) or (IA32_EFER.LMA = 1 and CS.L = 0): compatibility
 * mode and virtual-8086 mode, where VMX instructions are #UD. */
static int bad_mode(vmxsim *m, const vx_insn *in)
{
    if (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_VM) return 1;
    return vx_in_long_mode(m) && in->mode != 64;
}

/* VMX instructions' memory operands are 64 bits in every mode. */
static int read_m64(vmxsim *m, const vx_insn *in, uint64_t *v)
{
    uint64_t la;
    if (vx_operand_address(m, in, &in->rm, 8, 0, &la) < 0) return -1;
    return vx_linear_read(m, la, v, 8);
}

static int write_mem(vmxsim *m, const vx_insn *in, uint64_t v, unsigned size)
{
    uint64_t la;
    if (vx_operand_address(m, in, &in->rm, size, 1, &la) < 0) return -1;
    return vx_linear_write(m, la, &v, size);
}

/* The width physical addresses of VMXON and VMCS regions may use:
 * 32 bits if IA32_VMX_BASIC[48] is set (Appendix A.1), else MAXPHYADDR. */
static int bad_region_addr(vmxsim *m, uint64_t addr)
{
    unsigned width = (msr(m, VX_MSR_VMX_BASIC) >> 48 & 1) ? 32 : m->prof.maxphyaddr;
    return (addr & 0xFFF) || (addr >> width);
}

static int cr_fixed_ok(vmxsim *m)
{
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0), cr4 = vx_reg(m, UC_X86_REG_CR4);
    uint64_t f0 = msr(m, VX_MSR_VMX_CR0_FIXED0), f1 = msr(m, VX_MSR_VMX_CR0_FIXED1);
    uint64_t g0 = msr(m, VX_MSR_VMX_CR4_FIXED0), g1 = msr(m, VX_MSR_VMX_CR4_FIXED1);
    return (cr0 & f0) == f0 && !(cr0 & ~f1) && (cr4 & g0) == g0 && !(cr4 & ~g1);
}

static int vmcs_shadowing(vmxsim *m)
{
    return (msr(m, VX_MSR_VMX_PROCBASED_CTLS2) >> (32 + 14)) & 1;
}

/* ---- the instructions ---- */

static vx_action vmxon(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0), cr4 = vx_reg(m, UC_X86_REG_CR4);
    if (!in->rm.is_mem || !(cr0 & 1) || !(cr4 & (1u << 13)) || bad_mode(m, in))
        return ud(m, e);
    if (!m->vmx_on) {
        /* Outside SMX operation (the model has no SMX) the enable bit is
         * bit 2 of IA32_FEATURE_CONTROL. */
        if (vx_cpl(m) > 0 || !cr_fixed_ok(m) || !(m->feature_control & 1) ||
            !(m->feature_control & 4))
            return gp0(m, e);
        uint64_t addr;
        if (read_m64(m, in, &addr) < 0) return fault(m, e);
        operand_hex(e, "pointer", addr);
        if (bad_region_addr(m, addr)) return vmfail_invalid(m, e);
        uint32_t rev = vx_phys_read32(m, addr);
        if ((rev & 0x7FFFFFFF) != vx_profile_vmcs_revision(&m->prof) || (rev >> 31))
            return vmfail_invalid(m, e);
        m->current_vmcs = VX_NO_VMCS;
        m->vmx_on = 1;
        vx_cyc_mode_sync(m);
        m->vmxon_ptr = addr;
        m->blocked_init = 1;
        return vmsucceed(m, e);
    }
    if (m->vmx_nonroot) {
        vx_not_modelled(m, "VM exit for VMXON in VMX non-root operation");
        return VX_STOP;
    }
    if (vx_cpl(m) > 0) return gp0(m, e);
    return vmfail(m, e, VX_VMERR_VMXON_IN_ROOT);
}

/* Common head of VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * INVEPT, INVVPID: returns 1 to go on, 0 when *act is decided. */
static int common_checks(vmxsim *m, const vx_insn *in, vmx_ev *e, int need_mem,
                         vx_action *act)
{
    if ((need_mem && !in->rm.is_mem) || !m->vmx_on || bad_mode(m, in)) {
        *act = ud(m, e);
        return 0;
    }
    if (m->vmx_nonroot) {
        vx_not_modelled(m, "VM exit for %s in VMX non-root operation", vx_op_name(in->op));
        *act = VX_STOP;
        return 0;
    }
    if (vx_cpl(m) > 0) {
        *act = gp0(m, e);
        return 0;
    }
    return 1;
}

static void deactivate(vmxsim *m, vx_vmcs *v)
{
    for (int i = 0; i < m->nactive; i++) {
        if (m->active[i] != v) continue;
        m->active[i] = m->active[--m->nactive];
        break;
    }
    vx_vmcs_free(v);
}

/* Write the model's copy of a VMCS to its region (docs/vmcs-layout.md):
 * exactly the image's bytes, never more than the profile's VMCS size
 * (IA32_VMX_BASIC[44:32]), which the profile loader has checked can hold
 * the image.  Returns 0, or -1 with the run ended if it could not. */
static int write_back(vmxsim *m, const vx_vmcs *v)
{
    uint8_t region[4096];
    size_t size = vx_profile_vmcs_size(&m->prof);
    if (size > sizeof region) size = sizeof region;
    size_t n = vx_vmcs_to_region(&m->prof, v, region, size);
    if (!n) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                   "the VMCS image does not fit the profile's %zu-byte VMCS region", size);
        return -1;
    }
    vx_phys_write(m, v->addr, region, n);
    return 0;
}

static vx_action vmxoff(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 0, &act)) return act;
    /* Dual-monitor treatment of SMIs is never active in the model (no
     * profile reports it), so error 23 cannot occur. Leave VMX operation.
     * The SDM leaves the fate of active VMCSs open; the model writes them
     * back marked "launched before VMXOFF" (docs/vmx-choices.md). */
    while (m->nactive) {
        vx_vmcs *v = m->active[0];
        if (v->launched == LAUNCH_LAUNCHED) v->launched = LAUNCH_LOST_BY_VMXOFF;
        if (write_back(m, v) < 0) return VX_STOP;
        if (v->launched == LAUNCH_LOST_BY_VMXOFF)
            vx_phys_write32(m, v->addr + VX_VMCS_OFF_LAUNCH, LAUNCH_LOST_BY_VMXOFF);
        deactivate(m, v);
    }
    m->vmx_on = 0;
    vx_cyc_mode_sync(m);
    m->current_vmcs = VX_NO_VMCS;
    m->blocked_init = 0;
    return vmsucceed(m, e);
}

static vx_action vmclear(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 1, &act)) return act;
    uint64_t addr;
    if (read_m64(m, in, &addr) < 0) return fault(m, e);
    operand_hex(e, "pointer", addr);
    if (bad_region_addr(m, addr)) return vmfail(m, e, VX_VMERR_VMCLEAR_INVALID_ADDR);
    if (addr == m->vmxon_ptr) return vmfail(m, e, VX_VMERR_VMCLEAR_VMXON_PTR);
    vx_vmcs *v = find_active(m, addr);
    if (v) {
        /* Ensure the data is in memory, launch state clear. */
        v->launched = LAUNCH_CLEAR;
        if (write_back(m, v) < 0) return VX_STOP;
        deactivate(m, v);
    } else {
        vx_phys_write32(m, addr + VX_VMCS_OFF_LAUNCH, LAUNCH_CLEAR);
    }
    if (addr == m->current_vmcs) m->current_vmcs = VX_NO_VMCS;
    return vmsucceed(m, e);
}

static vx_action vmptrld(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 1, &act)) return act;
    uint64_t addr;
    if (read_m64(m, in, &addr) < 0) return fault(m, e);
    operand_hex(e, "pointer", addr);
    if (bad_region_addr(m, addr)) return vmfail(m, e, VX_VMERR_VMPTRLD_INVALID_ADDR);
    if (addr == m->vmxon_ptr) return vmfail(m, e, VX_VMERR_VMPTRLD_VMXON_PTR);
    uint32_t rev = vx_phys_read32(m, addr);
    if ((rev & 0x7FFFFFFF) != vx_profile_vmcs_revision(&m->prof) ||
        ((rev >> 31) && !vmcs_shadowing(m)))
        return vmfail(m, e, VX_VMERR_VMPTRLD_BAD_REVISION);
    if (!find_active(m, addr)) {
        vx_vmcs *v = vx_vmcs_new(addr);
        if (!v) {
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "out of memory");
            return VX_STOP;
        }
        /* Read exactly the image's bytes (within the VMCS size). */
        uint8_t region[4096];
        size_t n = vx_vmcs_image_bytes(&m->prof);
        if (n > sizeof region || n > vx_profile_vmcs_size(&m->prof)) {
            vx_vmcs_free(v);
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                       "the VMCS image does not fit the profile's VMCS region");
            return VX_STOP;
        }
        vx_phys_read(m, addr, region, n);
        vx_vmcs_from_region(&m->prof, v, region, n);
        uint32_t launch;
        memcpy(&launch, region + VX_VMCS_OFF_LAUNCH, 4);
        if (launch == LAUNCH_LOST_BY_VMXOFF) v->launched = LAUNCH_LOST_BY_VMXOFF;
        if (m->nactive == m->cap_active) {
            int cap = m->cap_active ? 2 * m->cap_active : 8;
            vx_vmcs **a = realloc(m->active, sizeof *a * (size_t)cap);
            if (!a) {
                vx_vmcs_free(v);
                vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "out of memory");
                return VX_STOP;
            }
            m->active = a;
            m->cap_active = cap;
        }
        m->active[m->nactive++] = v;
    }
    m->current_vmcs = addr;
    return vmsucceed(m, e);
}

static vx_action vmptrst(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 1, &act)) return act;
    if (write_mem(m, in, m->current_vmcs, 8) < 0) return fault(m, e);
    operand_hex(e, "pointer", m->current_vmcs);
    return vmsucceed(m, e);
}

static void trace_field(vmxsim *m, int write, uint32_t enc, uint64_t v)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_VMCS)) return;
    int high;
    int i = vx_field_index(enc, &high);
    json_t *ev = vx_ev_new(m, write ? "vmcs_write" : "vmcs_read");
    json_object_set_new(ev, "field", json_string(i >= 0 ? vx_fields[i].name : "?"));
    json_object_set_new(ev, "encoding", vx_json_hex(enc));
    json_object_set_new(ev, "value", vx_json_hex(v));
    json_object_set_new(ev, "width", json_string(i >= 0 ? (high == 1 ? "32" : vx_field_width_name(vx_fields[i].width)) : "?"));
    if (high == 1) json_object_set_new(ev, "high", json_true());
    vx_ev_emit(m, VMXSIM_EV_VMCS, ev);
}

/* VMREAD r/m, r and VMWRITE r, r/m: the field encoding is in the ModRM.reg
 * register; operand size is 64 bits in 64-bit mode and 32 bits outside
 * it (31.3). */
static vx_action vmread(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 0, &act)) return act;
    vx_vmcs *v = current_vmcs(m);
    if (!v) return vmfail_invalid(m, e);
    unsigned size = in->mode == 64 ? 8 : 4;
    uint64_t enc = vx_gpr(m, in->modrm_reg);
    if (size == 4) enc &= 0xFFFFFFFF;
    operand_hex(e, "encoding", enc);
    uint64_t val = 0;
    int err = enc >> 32 ? VX_VMERR_UNSUPPORTED_COMPONENT
                        : vx_vmcs_read(&m->prof, v, (uint32_t)enc, &val);
    if (err) return vmfail_valid(m, e, err);
    if (size == 4) val &= 0xFFFFFFFF;
    if (in->rm.is_mem) {
        if (write_mem(m, in, val, size) < 0) return fault(m, e);
    } else {
        vx_set_gpr(m, in->rm.reg, val);
    }
    operand_hex(e, "value", val);
    trace_field(m, 0, (uint32_t)enc, val);
    return vmsucceed(m, e);
}

static vx_action vmwrite(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    vx_action act;
    if (!common_checks(m, in, e, 0, &act)) return act;
    vx_vmcs *v = current_vmcs(m);
    if (!v) return vmfail_invalid(m, e);
    unsigned size = in->mode == 64 ? 8 : 4;
    uint64_t enc = vx_gpr(m, in->modrm_reg);
    if (size == 4) enc &= 0xFFFFFFFF;
    operand_hex(e, "encoding", enc);
    /* The component checks come before the source operand is read. */
    uint64_t probe;
    int err = enc >> 32 ? VX_VMERR_UNSUPPORTED_COMPONENT
                        : vx_vmcs_read(&m->prof, v, (uint32_t)enc, &probe);
    if (!err) {
        int i = vx_field_index((uint32_t)enc, NULL);
        if (vx_fields[i].type == VX_T_EXITINFO && !(msr(m, VX_MSR_VMX_MISC) >> 29 & 1))
            err = VX_VMERR_VMWRITE_READONLY;
    }
    if (err) return vmfail_valid(m, e, err);
    uint64_t val = 0;
    if (in->rm.is_mem) {
        uint64_t la;
        if (vx_operand_address(m, in, &in->rm, size, 0, &la) < 0 ||
            vx_linear_read(m, la, &val, size) < 0)
            return fault(m, e);
    } else {
        val = vx_gpr(m, in->rm.reg);
        if (size == 4) val &= 0xFFFFFFFF;
    }
    err = vx_vmcs_write(&m->prof, v, (uint32_t)enc, val);
    if (err) return vmfail_valid(m, e, err);
    operand_hex(e, "value", val);
    trace_field(m, 1, (uint32_t)enc, val);
    return vmsucceed(m, e);
}

/* Events blocked by MOV SS (24.4.2): the instruction right after a MOV
 * to SS or POP SS.  Unicorn runs those natively, so the model looks at
 * the instruction that retired just before, in decoded code. */
int vx_blocked_by_mov_ss(vmxsim *m, uint64_t la)
{
    const vx_block *b = m->cur_block;
    if (!b || la <= b->addr) return m->prev_mov_ss_end == la;
    if (la > b->addr + b->size) return 0; /* not in (or right after) this block */
    uint64_t off = la - b->addr;
    int prev = -1;
    for (int i = 0; i < b->ninsns && b->offs[i] < off; i++) prev = i;
    if (prev < 0) return 0;
    const uint8_t *p = b->bytes + b->offs[prev];
    size_t len = off - b->offs[prev];
    return vx_is_mov_ss(p, len, b->mode);
}

static vx_action vmlaunch_resume(vmxsim *m, const vx_insn *in, vmx_ev *e, int resume)
{
    if (!m->vmx_on || !(vx_reg(m, UC_X86_REG_CR0) & 1) || bad_mode(m, in))
        return ud(m, e);
    if (m->vmx_nonroot) {
        vx_not_modelled(m, "VM exit for %s in VMX non-root operation", vx_op_name(in->op));
        return VX_STOP;
    }
    if (vx_cpl(m) > 0) return gp0(m, e);
    vx_vmcs *v = current_vmcs(m);
    if (!v) return vmfail_invalid(m, e);
    if (vx_blocked_by_mov_ss(m, in->addr)) return vmfail_valid(m, e, VX_VMERR_ENTRY_MOV_SS_BLOCKING);
    if (!resume && v->launched != LAUNCH_CLEAR)
        return vmfail_valid(m, e, VX_VMERR_VMLAUNCH_NONCLEAR);
    if (resume && v->launched == LAUNCH_LOST_BY_VMXOFF)
        return vmfail_valid(m, e, VX_VMERR_VMRESUME_AFTER_VMXOFF);
    if (resume && v->launched != LAUNCH_LAUNCHED)
        return vmfail_valid(m, e, VX_VMERR_VMRESUME_NONLAUNCHED);
    int err;
    vx_action act = vx_vmentry(m, v, resume, &err);
    if (err) return vmfail_valid(m, e, err);
    /* "VM entry": the instruction passed its checks and those of 27.2;
     * the vm_entry or vm_entry_failed event that follows tells the rest. */
    e->outcome = act == VX_TRANSITION ? "VM entry" : NULL;
    return act;
}

static vx_action vmcall(vmxsim *m, const vx_insn *in, vmx_ev *e)
{
    if (!m->vmx_on) return ud(m, e);
    if (m->vmx_nonroot) {
        vx_not_modelled(m, "VM exit for VMCALL in VMX non-root operation");
        return VX_STOP;
    }
    if (bad_mode(m, in)) return ud(m, e);
    if (vx_cpl(m) > 0) return gp0(m, e);
    /* IA32_SMM_MONITOR_CTL[0] is 0 (the model has no SMM monitor), so the
     * dual-monitor treatment cannot be activated: VMfail(1). */
    return vmfail(m, e, VX_VMERR_VMCALL_IN_ROOT);
}

/* INVEPT and INVVPID (31.3): the type comes from the register operand,
 * the 128-bit descriptor from memory; a valid operand invalidates the
 * cached translations the type names (29.4.3.1), in the model's TLB and
 * the engine's shadow of it (xlate.c). */
static vx_action inv_ept_vpid(vmxsim *m, const vx_insn *in, vmx_ev *e, int vpid)
{
    uint64_t sec = msr(m, VX_MSR_VMX_PROCBASED_CTLS2) >> 32, cap = msr(m, VX_MSR_VMX_EPT_VPID_CAP);
    int supported = vpid ? ((sec >> 5) & 1) && ((cap >> 32) & 1)
                         : ((sec >> 1) & 1) && ((cap >> 20) & 1);
    if (!supported || !in->rm.is_mem || !m->vmx_on || !(vx_reg(m, UC_X86_REG_CR0) & 1) ||
        bad_mode(m, in))
        return ud(m, e);
    if (m->vmx_nonroot) {
        vx_not_modelled(m, "VM exit for %s in VMX non-root operation", vx_op_name(in->op));
        return VX_STOP;
    }
    if (vx_cpl(m) > 0) return gp0(m, e);
    uint64_t type = vx_gpr(m, in->modrm_reg);
    if (in->mode != 64) type &= 0xFFFFFFFF;
    operand_hex(e, "type", type);
    /* Supported types: INVEPT bits 25 (single) and 26 (all) of
     * IA32_VMX_EPT_VPID_CAP; INVVPID bits 40 (address), 41 (single),
     * 42 (all), 43 (single, retaining globals) (Appendix A.10). */
    int ok = vpid ? (type <= 3 && ((cap >> (40 + type)) & 1))
                  : ((type == 1 && ((cap >> 25) & 1)) || (type == 2 && ((cap >> 26) & 1)));
    if (!ok) return vmfail(m, e, VX_VMERR_INVALID_INVEPT_INVVPID);
    uint64_t desc[2], la;
    if (vx_operand_address(m, in, &in->rm, 16, 0, &la) < 0 ||
        vx_linear_read(m, la, desc, 16) < 0)
        return fault(m, e);
    operand_hex(e, "descriptor_low", desc[0]);
    operand_hex(e, "descriptor_high", desc[1]);
    if (vpid) {
        /* Descriptor bits 63:16 are reserved; VPID 0 is invalid for the
         * address and single-context types; the address must be
         * canonical for type 0. */
        uint64_t id = desc[0] & 0xFFFF;
        if ((desc[0] >> 16) || (type != 2 && id == 0) ||
            (type == 0 && (uint64_t)((int64_t)(desc[1] << 16) >> 16) != desc[1]))
            return vmfail(m, e, VX_VMERR_INVALID_INVEPT_INVVPID);
        static const char *const scope[4] = {"address", "vpid", "all-vpids", "vpid-but-global"};
        switch (type) {
        case 0: vx_mmu_inv_page(m, (uint16_t)id, desc[1]); break;
        case 1: vx_mmu_inv_vpid(m, (uint16_t)id, 0); break;
        case 2: vx_mmu_inv_all_vpids(m); break;
        case 3: vx_mmu_inv_vpid(m, (uint16_t)id, 1); break;
        }
        vx_xl_trace_invalidation(m, "invvpid", scope[type], type == 0 ? desc[1] : UINT64_MAX);
    } else {
        /* Single-context: the EPTP must be one VM entry accepts. */
        if (type == 1 && vx_eptp_check(&m->prof, desc[0]) >= 0)
            return vmfail(m, e, VX_VMERR_INVALID_INVEPT_INVVPID);
        vx_mmu_inv_ept(m, type == 1 ? desc[0] : UINT64_MAX);
        vx_xl_trace_invalidation(m, "invept", type == 1 ? "ept" : "all", UINT64_MAX);
    }
    return vmsucceed(m, e);
}

static void trace_vmx(vmxsim *m, const vx_insn *in, const vmx_ev *e)
{
    json_t *ev = vx_ev_new(m, "vmx");
    json_object_set_new(ev, "name", json_string(vx_op_name(in->op)));
    json_object_set_new(ev, "outcome", json_string(e->outcome));
    json_object_set_new(ev, "operands", json_incref(e->operands));
    if (e->error) {
        json_object_set_new(ev, "error", json_integer(e->error));
        json_object_set_new(ev, "error_name", json_string(vx_vmerr_name((unsigned)e->error)));
    }
    if (e->vector >= 0) {
        json_object_set_new(ev, "vector", json_integer(e->vector));
        if (e->has_error_code) json_object_set_new(ev, "error_code", vx_json_hex(e->error_code));
    }
    json_object_set_new(ev, "rflags", vx_json_hex(vx_reg(m, UC_X86_REG_EFLAGS)));
    vx_ev_emit(m, VMXSIM_EV_VMX, ev);
}

vx_action vx_exec_vmx(vmxsim *m, const vx_insn *in)
{
    vmx_ev e = {.operands = NULL, .outcome = NULL, .error = 0, .vector = -1};
    int traced = vx_ev_wanted(m, VMXSIM_EV_VMX);
    if (traced) e.operands = json_object();
    vx_action act;
    switch (in->op) {
    case VX_OP_VMXON: act = vmxon(m, in, &e); break;
    case VX_OP_VMXOFF: act = vmxoff(m, in, &e); break;
    case VX_OP_VMCLEAR: act = vmclear(m, in, &e); break;
    case VX_OP_VMPTRLD: act = vmptrld(m, in, &e); break;
    case VX_OP_VMPTRST: act = vmptrst(m, in, &e); break;
    case VX_OP_VMREAD: act = vmread(m, in, &e); break;
    case VX_OP_VMWRITE: act = vmwrite(m, in, &e); break;
    case VX_OP_VMLAUNCH: act = vmlaunch_resume(m, in, &e, 0); break;
    case VX_OP_VMRESUME: act = vmlaunch_resume(m, in, &e, 1); break;
    case VX_OP_VMCALL: act = vmcall(m, in, &e); break;
    case VX_OP_INVEPT: act = inv_ept_vpid(m, in, &e, 0); break;
    case VX_OP_INVVPID: act = inv_ept_vpid(m, in, &e, 1); break;
    case VX_OP_VMFUNC:
        /* VMFUNC outside VMX non-root operation is #UD (31.3 VMFUNC). */
        act = m->vmx_nonroot ? vx_nonroot_vmfunc(m, in)
                             : ud(m, &e);
        break;
    default:
        vx_not_modelled(m, "VMX instruction %s", in->text);
        act = VX_STOP;
    }
    if (traced && e.outcome) trace_vmx(m, in, &e);
    json_decref(e.operands);
    return act;
}
