/*
 * insn.c - the ordinary instructions the model executes itself because
 * VMX defines or changes their behaviour, or because Unicorn's own
 * version would be wrong for the model (its CPUID, MSRs and CR4.VMXE are
 * QEMU's without VMX; its RDTSC reads the host clock; it does no I/O and
 * no IDT delivery).  Each follows the SDM Vol. 2 instruction page.
 */
#include <string.h>

#include "machine.h"


static int cpuid_bit(vmxsim *m, uint32_t leaf, int reg, int bit)
{
    uint32_t r[4];
    vx_profile_cpuid(&m->prof, leaf, 0, r);
    return (r[reg] >> bit) & 1;
}

static uint64_t vmx_msr(vmxsim *m, uint32_t msr)
{
    uint64_t v = 0;
    vx_profile_vmx_msr(&m->prof, msr, &v);
    return v;
}

/* Register operands are 64-bit in 64-bit mode and 32-bit otherwise for
 * MOV CR (SDM Vol. 2B: operand size is fixed by the mode). */
static uint64_t cr_operand_mask(const vx_insn *in)
{
    return in->mode == 64 ? UINT64_MAX : 0xFFFFFFFFull;
}

static void trace_cr(vmxsim *m, int cr, int write, uint64_t v, int ok)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_CR)) return;
    json_t *ev = vx_ev_new(m, write ? "cr_write" : "cr_read");
    json_object_set_new(ev, "cr", json_integer(cr));
    json_object_set_new(ev, "value", vx_json_hex(v));
    json_object_set_new(ev, "outcome", json_string(ok ? "ok" : "gp"));
    vx_ev_emit(m, VMXSIM_EV_CR, ev);
}

/* Checks of MOV to CR0 (SDM Vol. 2B MOV CR; Vol. 3C 24.8 for VMX). */
static int cr0_ok(vmxsim *m, uint64_t v)
{
    if (v >> 32) return 0;
    if ((v & CR0_PG) && !(v & CR0_PE)) return 0;
    if ((v & CR0_NW) && !(v & CR0_CD)) return 0;
    uint64_t cr4 = vx_reg(m, UC_X86_REG_CR4);
    uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
    if ((v & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE)) return 0;
    if (!(v & CR0_PG) && (efer & EFER_LMA) && vx_code_mode(m) == 64) return 0;
    if (!(v & CR0_WP) && (cr4 & CR4_CET)) return 0;
    if (m->vmx_on) {
        /* In VMX operation, bits fixed to 1 by IA32_VMX_CR0_FIXED0 and
         * fixed to 0 by IA32_VMX_CR0_FIXED1 cannot change (24.8). */
        uint64_t f0 = vmx_msr(m, VX_MSR_VMX_CR0_FIXED0), f1 = vmx_msr(m, VX_MSR_VMX_CR0_FIXED1);
        /* Unrestricted guests may clear PE and PG (26.3). */
        if (vx_nonroot_unrestricted(m)) f0 &= ~(CR0_PE | CR0_PG);
        if ((v & f0) != f0 || (v & ~f1)) return 0;
    }
    return 1;
}

/* The CR4 bits this processor has: IA32_VMX_CR4_FIXED1 lists the bits
 * that may be 1 in VMX operation, which is every implemented bit. */
static uint64_t cr4_supported(vmxsim *m)
{
    uint64_t f1 = vmx_msr(m, VX_MSR_VMX_CR4_FIXED1);
    if (!cpuid_bit(m, 1, 2, 5)) f1 &= ~CR4_VMXE;
    return f1;
}

static int cr4_ok(vmxsim *m, uint64_t v)
{
    uint64_t old = vx_reg(m, UC_X86_REG_CR4);
    uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
    if (v & ~cr4_supported(m)) return 0;
    if ((efer & EFER_LMA) && !(v & CR4_PAE)) return 0;
    if ((efer & EFER_LMA) && ((v ^ old) & CR4_LA57)) return 0;
    if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) &&
        (!(efer & EFER_LMA) || (vx_reg(m, UC_X86_REG_CR3) & 0xFFF)))
        return 0;
    if ((v & CR4_CET) && !(vx_reg(m, UC_X86_REG_CR0) & CR0_WP)) return 0;
    if (m->vmx_on) {
        uint64_t f0 = vmx_msr(m, VX_MSR_VMX_CR4_FIXED0), f1 = vmx_msr(m, VX_MSR_VMX_CR4_FIXED1);
        if ((v & f0) != f0 || (v & ~f1)) return 0; /* VMXE cannot be cleared */
    }
    return 1;
}

/* Unicorn keeps its own TLB of the program's translations, with their
 * permissions (it walks the paging structures for permissions, not for
 * addresses).  MOV to CR0, CR3 or CR4 invalidates TLB entries on the
 * processor (SDM Vol. 3A 4.10.4.1), but Unicorn 2.0.1 stores a control
 * register written through its API without flushing its TLB, so without
 * vx_flush_engine_tlb Unicorn went on using stale permissions: after
 * CR0.WP was set, a supervisor write to a read-only page still
 * succeeded, and a CR3 reload did not show changed paging entries. */

/* The TLB entries MOV to a control register invalidates (SDM Vol. 3A
 * 4.10.4.1), in the current VPID (Vol. 3C 29.4.3.1): MOV to CR3 those of
 * the PCID it loads, except global ones (none when CR4.PCIDE = 1 and bit
 * 63 of the source is set); MOV to CR0 changing PG, and MOV to CR4
 * changing how translation works, all of them, global ones too (the SDM
 * requires it for PG, PGE, PCIDE 1 -> 0, PAE, SMEP 0 -> 1; dropping more
 * is what a processor may do at any time).  Rights such as CR0.WP apply
 * when a cached translation is used (xlate.c). */
static void invalidate_for_mov_cr(vmxsim *m, int cr, uint64_t old, uint64_t v, int noflush)
{
    uint16_t vpid = vx_xl_tag(m).vpid;
    if (cr == 3) {
        int pcide = (m->arch_cr4 & CR4_PCIDE) != 0;
        if (!(pcide && noflush)) {
            vx_mmu_inv_pcid(m, vpid, pcide ? (uint16_t)(v & 0xFFF) : 0);
            vx_xl_trace_invalidation(m, "mov_cr3", "pcid", UINT64_MAX);
        }
    } else if ((cr == 0 && ((old ^ v) & CR0_PG)) ||
               (cr == 4 && ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_PCIDE | CR4_SMEP |
                                          CR4_SMAP | CR4_LA57 | CR4_PKE)))) {
        vx_mmu_inv_vpid(m, vpid, 0);
        vx_xl_trace_invalidation(m, cr == 0 ? "mov_cr0" : "mov_cr4", "vpid", UINT64_MAX);
    }
}

/* PAE paging loads the four PDPTE registers from CR3 (Vol. 3A 4.4.1) at
 * MOV to CR3, and at MOV to CR0/CR4 changing CR0.CD, NW, PG or CR4.PAE,
 * PGE, PSE, SMEP while PAE paging will be in use; a present PDPTE with a
 * reserved bit set is #GP(0) and nothing changes.  In VMX non-root
 * operation with EPT CR3 is a guest-physical address, translated through
 * EPT (an EPT violation reports no guest-linear address, 29.3.3.2).
 * Returns 0 (pdpte loaded, or PAE paging not in use), or -1 with the
 * fault raised. */
static int load_pdptes(vmxsim *m, int cr, uint64_t old, uint64_t v, uint64_t pdpte[4], int *load)
{
    uint64_t cr0 = cr == 0 ? v : m->arch_cr0, cr3 = cr == 3 ? v : m->arch_cr3;
    uint64_t cr4 = cr == 4 ? v : m->arch_cr4;
    *load = 0;
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (m->arch_efer & EFER_LME)) return 0;
    if (cr == 0 && !((old ^ v) & (CR0_CD | CR0_NW | CR0_PG))) return 0;
    if (cr == 4 && !((old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP))) return 0;
    if (cr != 0 && cr != 3 && cr != 4) return 0;
    int r = vx_load_pdptes(m, cr3, pdpte);
    if (r == -1) vx_raise_gp0(m);
    if (r < 0) return -1;
    *load = 1;
    return 0;
}

static vx_action mov_cr(vmxsim *m, const vx_insn *in, int to_cr)
{
    static const int cr_regs[9] = {UC_X86_REG_CR0, -1, UC_X86_REG_CR2,
                                   UC_X86_REG_CR3, UC_X86_REG_CR4, -1, -1, -1,
                                   UC_X86_REG_CR8};
    int cr = in->modrm_reg;
    if (cr > 8 || cr_regs[cr] < 0 || (cr == 8 && in->mode != 64))
        return vx_raise_ud(m);
    if (vx_cpl(m) > 0) return vx_raise_gp0(m);
    int gpr = in->rm.reg;
    uint64_t mask = cr_operand_mask(in);
    vx_action act;
    if (!to_cr) {
        uint64_t v = (cr == 8 ? m->cr8 : vx_reg(m, cr_regs[cr])) & mask;
        if (m->vmx_nonroot && vx_nonroot_cr_read(m, in, cr, &v, &act)) return act;
        vx_set_gpr(m, gpr, v);
        trace_cr(m, cr, 0, v, 1);
        return VX_NEXT;
    }
    uint64_t v = vx_gpr(m, gpr) & mask;
    if (m->vmx_nonroot && vx_nonroot_cr_write(m, in, cr, &v, &act)) return act;
    int ok = 1, noflush = 0;
    switch (cr) {
    case 0: ok = cr0_ok(m, v); break;
    case 2: break;
    case 3: {
        /* Bits above MAXPHYADDR are reserved; bit 63 is the no-flush bit
         * when CR4.PCIDE = 1 and is not stored (SDM Vol. 3A 4.10.4.1). */
        uint64_t cr4 = vx_reg(m, UC_X86_REG_CR4);
        if ((cr4 & CR4_PCIDE) && in->mode == 64) {
            noflush = (int)(v >> 63);
            v &= ~(1ull << 63);
        }
        if (in->mode == 64 && (v >> m->prof.maxphyaddr)) ok = 0;
        break;
    }
    case 4: ok = cr4_ok(m, v); break;
    case 8: if (v >> 4) ok = 0; break;
    }
    trace_cr(m, cr, 1, v, ok);
    if (!ok) return vx_raise_gp0(m);
    if (cr == 8) {
        if (m->vmx_nonroot) return vx_nonroot_cr8_write(m, in, v);
        m->cr8 = v;
        return VX_NEXT;
    }
    uint64_t old = vx_reg(m, cr_regs[cr]);
    uint64_t pdpte[4];
    int load;
    if (load_pdptes(m, cr, old, v, pdpte, &load) < 0) return VX_FAULT;
    if (load) memcpy(m->pdpte, pdpte, sizeof pdpte);
    vx_set_reg(m, cr_regs[cr], v);
    invalidate_for_mov_cr(m, cr, old, v, noflush);
    if (cr == 0 || cr == 4) {
        /* IA-32e mode is active while CR0.PG = 1 with EFER.LME = 1: MOV
         * to CR0 changing PG sets or clears EFER.LMA (SDM Vol. 3A
         * 10.8.5); the engine's mode flags (PE, TS/EM/MP, OSFXSR, SMAP)
         * follow CR0 and CR4 only when the model recomputes them. */
        uint64_t efer = vx_msr_get(m, VX_MSR_EFER);
        if (cr == 0 && ((old ^ v) & CR0_PG)) {
            efer &= ~(uint64_t)EFER_LMA;
            if ((v & CR0_PG) && (efer & EFER_LME)) efer |= EFER_LMA;
        }
        if (vx_set_efer(m, efer) < 0) {
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
            return VX_STOP;
        }
        /* Paging-mode changes retranslate all code (the decoded mode of
         * blocks may change too). */
        vx_flush_all(m);
    }
    return VX_NEXT;
}

static vx_action cpuid(vmxsim *m)
{
    uint32_t leaf = (uint32_t)vx_gpr(m, 0), sub = (uint32_t)vx_gpr(m, 1);
    uint32_t r[4];
    vx_profile_cpuid(&m->prof, leaf, sub, r);
    if (leaf == 1) {
        /* CPUID.1:ECX.OSXSAVE[27] mirrors CR4.OSXSAVE. */
        if (vx_reg(m, UC_X86_REG_CR4) & CR4_OSXSAVE) r[2] |= 1u << 27;
        else r[2] &= ~(1u << 27);
    }
    vx_set_gpr(m, 0, r[0]);
    vx_set_gpr(m, 3, r[1]);
    vx_set_gpr(m, 1, r[2]);
    vx_set_gpr(m, 2, r[3]);
    if (vx_ev_wanted(m, VMXSIM_EV_CPUID)) {
        json_t *ev = vx_ev_new(m, "cpuid");
        json_object_set_new(ev, "leaf", vx_json_hex(leaf));
        json_object_set_new(ev, "subleaf", vx_json_hex(sub));
        json_object_set_new(ev, "eax", vx_json_hex(r[0]));
        json_object_set_new(ev, "ebx", vx_json_hex(r[1]));
        json_object_set_new(ev, "ecx", vx_json_hex(r[2]));
        json_object_set_new(ev, "edx", vx_json_hex(r[3]));
        vx_ev_emit(m, VMXSIM_EV_CPUID, ev);
    }
    return VX_NEXT;
}

static vx_action rdtsc(vmxsim *m, int p)
{
    if (p && !cpuid_bit(m, 0x80000001, 3, 27)) return vx_raise_ud(m);
    if ((vx_reg(m, UC_X86_REG_CR4) & CR4_TSD) && vx_cpl(m) > 0)
        return vx_raise_gp0(m);
    uint64_t tsc = vx_tsc(m), t = tsc;
    if (m->vmx_nonroot) t = vx_nonroot_tsc(m, t);
    vx_set_gpr(m, 0, (uint32_t)t);
    vx_set_gpr(m, 2, t >> 32);
    if (p) vx_set_gpr(m, 1, (uint32_t)m->tsc_aux);
    if (vx_ev_wanted(m, VMXSIM_EV_TSC)) {
        /* The processor's TSC and what the program got (in VMX non-root
         * operation after TSC scaling and offsetting, 26.3). */
        json_t *ev = vx_ev_new(m, "rdtsc");
        json_object_set_new(ev, "instruction", json_string(p ? "rdtscp" : "rdtsc"));
        json_object_set_new(ev, "tsc", vx_json_hex(tsc));
        json_object_set_new(ev, "value", vx_json_hex(t));
        vx_ev_emit(m, VMXSIM_EV_TSC, ev);
    }
    return VX_NEXT;
}

static vx_action hlt(vmxsim *m, const vx_insn *in)
{
    if (vx_cpl(m) > 0) return vx_raise_gp0(m);
    if (m->vmx_nonroot) return vx_nonroot_hlt(m, in); /* the HLT activity state */
    uint64_t rflags = vx_reg(m, UC_X86_REG_EFLAGS);
    if (rflags & RFLAGS_IF)
        vx_end_run(m, VMXSIM_END_HLT, VMXSIM_STATUS_OK,
                   "HLT with RFLAGS.IF=1: no modelled device can wake the processor");
    else
        vx_end_run(m, VMXSIM_END_HLT, VMXSIM_STATUS_OK, "HLT with RFLAGS.IF=0");
    return VX_STOP;
}

/* I/O permission (SDM Vol. 1 19.5.1): in protected mode with CPL > IOPL,
 * or in virtual-8086 mode, the TSS I/O bitmap decides.  The start state
 * has no TSS (TR = 0), so such accesses fault as the CPU would on a TSS
 * whose limit excludes the bitmap. */
int vx_io_allowed(vmxsim *m)
{
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0);
    uint64_t rflags = vx_reg(m, UC_X86_REG_EFLAGS);
    if (!(cr0 & CR0_PE)) return 1;
    if (!(rflags & RFLAGS_VM) && vx_cpl(m) <= (int)RFLAGS_IOPL(rflags)) return 1;
    if (vx_reg(m, UC_X86_REG_TR) & ~3ull) {
        vx_not_modelled(m, "the TSS I/O permission bitmap");
        return -1;
    }
    return 0;
}

int vx_io_size(const vx_insn *in)
{
    uint8_t op = in->bytes[in->len - 1 - (in->has_imm ? 1 : 0)];
    if (!(op & 1)) return 1; /* E4/E6/EC/EE/6C/6E: byte forms */
    return in->op_size == 16 ? 2 : 4;
}

static vx_action port_io(vmxsim *m, const vx_insn *in, int out)
{
    int a = vx_io_allowed(m);
    if (a < 0) return VX_STOP;
    if (!a) return vx_raise_gp0(m);
    int size = vx_io_size(in);
    uint16_t port = in->has_imm ? (uint16_t)in->imm : (uint16_t)vx_gpr(m, 2);
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (out) {
        vx_port_out(m, port, size, (uint32_t)vx_gpr(m, 0) & mask);
    } else {
        uint32_t v = vx_port_in(m, port, size);
        uint64_t rax = vx_gpr(m, 0);
        if (size == 4) rax = v; /* 32-bit destination zero-extends */
        else if (size == 2) rax = (rax & ~0xFFFFull) | v;
        else rax = (rax & ~0xFFull) | v;
        vx_set_gpr(m, 0, rax);
    }
    return m->end != VMXSIM_END_NONE ? VX_STOP : VX_NEXT;
}

/* INS/OUTS, with REP (SDM Vol. 2B INS, OUTS, REP). Each iteration is
 * done in full; a fault mid-way leaves RCX/RSI/RDI at the faulting
 * iteration, as the CPU does. */
static vx_action string_io(vmxsim *m, const vx_insn *in, int out)
{
    int a = vx_io_allowed(m);
    if (a < 0) return VX_STOP;
    if (!a) return vx_raise_gp0(m);
    int size = vx_io_size(in);
    uint16_t port = (uint16_t)vx_gpr(m, 2);
    uint64_t amask = in->addr_size == 64 ? UINT64_MAX
                   : in->addr_size == 32 ? 0xFFFFFFFFull : 0xFFFFull;
    int idx = out ? 6 : 7; /* RSI for OUTS, RDI for INS */
    int64_t step = (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_DF) ? -size : size;
    uint64_t count = in->rep ? (vx_gpr(m, 1) & amask) : 1;
    while (count) {
        uint64_t ptr = vx_gpr(m, idx);
        vx_operand o = {.is_mem = 1, .base = idx, .index = -1, .scale = 1,
                        .seg = out ? in->rm.seg : 0 /* INS always uses ES */};
        uint64_t la;
        if (vx_operand_address(m, in, &o, (unsigned)size, !out, &la) < 0)
            return VX_FAULT;
        uint32_t v = 0;
        if (out) {
            if (vx_linear_read(m, la, &v, (size_t)size) < 0) return VX_FAULT;
            vx_port_out(m, port, size, v);
        } else {
            v = vx_port_in(m, port, size);
            if (vx_linear_write(m, la, &v, (size_t)size) < 0) return VX_FAULT;
        }
        ptr = (ptr & ~amask) | ((ptr + (uint64_t)step) & amask);
        vx_set_gpr(m, idx, ptr);
        count--;
        if (in->rep) vx_set_gpr(m, 1, (vx_gpr(m, 1) & ~amask) | count);
        if (m->end != VMXSIM_END_NONE) return VX_STOP;
    }
    return VX_NEXT;
}

/* Software interrupts are delivered by the model like any event (the
 * return address pushed is the next instruction). */
static vx_action soft_int(vmxsim *m, const vx_insn *in, int vector, int kind)
{
    vx_raise(m, vector, 0, 0);
    m->pend_rip = m->insn_eip + in->len;
    /* INT n, INT3 and INTO check the gate's DPL; INT1 does not. */
    m->pend_soft = kind != VX_PEND_PRIVSW;
    m->pend_kind = kind;
    m->pend_insn_len = in->len;
    return VX_FAULT;
}

vx_action vx_exec_insn(vmxsim *m, const vx_insn *in)
{
    switch (in->op) {
    case VX_OP_CPUID: return cpuid(m);
    case VX_OP_RDMSR: case VX_OP_WRMSR: return vx_exec_msr(m, in);
    case VX_OP_MOV_TO_CR: return mov_cr(m, in, 1);
    case VX_OP_MOV_FROM_CR: return mov_cr(m, in, 0);
    case VX_OP_RDTSC: return rdtsc(m, 0);
    case VX_OP_RDTSCP: return rdtsc(m, 1);
    case VX_OP_HLT: return hlt(m, in);
    case VX_OP_IN: return port_io(m, in, 0);
    case VX_OP_OUT: return port_io(m, in, 1);
    case VX_OP_INS: return string_io(m, in, 0);
    case VX_OP_OUTS: return string_io(m, in, 1);
    case VX_OP_GETSEC:
        /* GETSEC is #UD unless CR4.SMXE = 1, and SMX is not modelled:
         * CR4.SMXE cannot be set because no profile reports SMX. */
        if (!(vx_reg(m, UC_X86_REG_CR4) & CR4_SMXE)) return vx_raise_ud(m);
        vx_not_modelled(m, "GETSEC (SMX)");
        return VX_STOP;
    case VX_OP_INT: return soft_int(m, in, (int)in->imm, VX_PEND_SWINT);
    case VX_OP_INT3: return soft_int(m, in, VX_BP, VX_PEND_SWEXC);
    case VX_OP_INT1: return soft_int(m, in, VX_DB, VX_PEND_PRIVSW);
    case VX_OP_INVLPG: case VX_OP_INVPCID: return vx_exec_tlb(m, in);
    case VX_OP_INTO:
        if (in->mode == 64) return vx_raise_ud(m);
        if (!(vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_OF)) return VX_NEXT;
        return soft_int(m, in, VX_OF, VX_PEND_SWEXC);
    default:
        vx_not_modelled(m, "instruction %s", in->text);
        return VX_STOP;
    }
}
