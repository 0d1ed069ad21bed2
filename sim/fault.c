/*
 * fault.c - delivering exceptions and software interrupts through the
 * program's IDT, as the processor does (SDM Vol. 3A 6.12 for protected
 * mode, 6.14 for IA-32e mode, 21.1.4 for real mode), with the double-
 * fault rules of 6.15 (Table 6-5) and shutdown on a triple fault.
 *
 * Unicorn raises exceptions but never delivers them; the model raises
 * its own (#UD, #GP, ... from the instructions it executes).  Both end up
 * here.  Privilege changes and the IST take their stack from the 64-bit
 * TSS that TR names.  Not modelled, and reported as such: task gates, and
 * 32-bit delivery with a privilege change.
 */
#include <string.h>

#include "machine.h"


static const char *const vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
    "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC",
    "#SX", "#31",
};

const char *vx_vector_name(int v)
{
    return v >= 0 && v < 32 ? vec_names[v] : "INTR";
}

vx_action vx_raise(vmxsim *m, int vector, int has_err, uint32_t err)
{
    m->pend_vector = vector;
    m->pend_has_err = has_err;
    m->pend_err = err;
    m->pend_engine = 0;
    m->pend_soft = 0;
    m->pend_kind = VX_PEND_HW;
    m->pend_insn_len = 0;
    m->pend_injected = 0;
    m->pend_rip = m->insn ? m->insn_eip : vx_reg(m, UC_X86_REG_RIP);
    return VX_FAULT;
}

/* Fault-class exceptions (SDM Vol. 3A Table 6-1), except #DB: the
 * RFLAGS image pushed for them has RF set, so that the handler's IRET
 * does not take an instruction breakpoint again on the restarted
 * instruction (SDM Vol. 3A 18.3.1.1: "For any fault-class exception
 * except a debug exception generated in response to an instruction
 * breakpoint, the value pushed for RF is 1"; Bochs exception.cc sets RF
 * the same way).  #DB is left out whole: the model has no instruction
 * breakpoints, and its other #DB conditions are traps. */
int vx_fault_sets_rf(int v)
{
    return v == VX_DE || v == VX_BR || v == VX_UD || v == VX_NM || v == VX_TS ||
           v == VX_NP || v == VX_SS || v == VX_GP || v == VX_PF || v == VX_MF ||
           v == VX_AC || v == VX_XM || v == 20 || v == 21;
}

static uint64_t desc_base(uint64_t d)
{
    return ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000);
}

static uint32_t desc_limit(uint64_t d)
{
    uint32_t lim = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    return (d & (1ull << 55)) ? (lim << 12) | 0xFFF : lim;
}

/* Load CS from descriptor cs_desc and, if load_ss, SS with a null
 * selector (IA-32e privilege change: DPL = RPL = the new CPL, base and
 * limit 0, SDM Vol. 3A 6.14.4; QEMU's do_interrupt64 caches the same).
 * Loading the caches sets the CPL and code size (cpustate.c). */
static int load_cs_ss(vmxsim *m, uint16_t cs_sel, uint64_t cs_desc, int load_ss, uint16_t ss_sel)
{
    vx_seg s[VX_NSEGS];
    s[VX_SEG_CS] = (vx_seg){cs_sel, desc_base(cs_desc), desc_limit(cs_desc),
                            (uint32_t)(cs_desc >> 40) & 0xF0FFu};
    s[VX_SEG_SS] = (vx_seg){ss_sel, 0, 0, (uint32_t)(ss_sel & 3) << 5};
    return vx_set_segs(m, s, (1u << VX_SEG_CS) | (load_ss ? 1u << VX_SEG_SS : 0));
}

/* Real-address mode: CS base = selector * 16 (the limit and attributes
 * stay, as QEMU's do_interrupt_real leaves them). */
static int load_cs_real(vmxsim *m, uint16_t sel)
{
    vx_seg s[VX_NSEGS];
    if (vx_get_segs(m, s) < 0) return -1;
    s[VX_SEG_CS].sel = sel;
    s[VX_SEG_CS].base = (uint64_t)sel << 4;
    return vx_set_segs(m, s, 1u << VX_SEG_CS);
}

/* Exception classes for double faults (Table 6-4). */
static int contributory(int v)
{
    return v == VX_DE || v == VX_TS || v == VX_NP || v == VX_SS || v == VX_GP;
}

/* A fault that happened while delivering: the caller decides (6.15). */
typedef struct nested {
    int vector;
    uint32_t err;
} nested;

static int fail(nested *n, int vector, uint32_t err)
{
    n->vector = vector;
    n->err = err;
    return -1;
}

/* The error code of a fault about IDT entry `vector` (6.13): index,
 * IDT flag, EXT for events not caused by INT n/INT3/INTO. */
static uint32_t idt_err(int vector, int soft)
{
    return ((uint32_t)vector << 3) | 2u | (soft ? 0u : 1u);
}

static int push(vmxsim *m, uint64_t *sp, uint64_t v, unsigned size, uint64_t ss_base,
                nested *n)
{
    *sp -= size;
    uint64_t la = ss_base + *sp;
    if (size == 4) la &= 0xFFFFFFFFull;
    if (size == 2) la = (ss_base + (*sp & 0xFFFF)) & 0xFFFFF;
    if (vx_linear_write(m, la, &v, size) < 0) {
        /* The write raised #PF through vx_raise: turn it into a nested
         * fault of the delivery. */
        int vec = m->pend_vector;
        uint32_t err = m->pend_err;
        m->pend_vector = -1;
        if (vec == VX_PF) vx_set_reg(m, UC_X86_REG_CR2, m->pend_cr2);
        return fail(n, vec, err);
    }
    return 0;
}

static uint64_t read_desc(vmxsim *m, uint16_t sel, int *ok)
{
    uc_x86_mmr gdtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
    uint64_t d = 0;
    *ok = !(sel & 4) && (sel | 7u) <= gdtr.limit && (sel & ~3u);
    if (*ok && vx_linear_read(m, gdtr.base + (sel & ~7u), &d, 8) < 0) {
        m->pend_vector = -1;
        *ok = 0;
    }
    return d;
}

static int deliver_real(vmxsim *m, int vector, uint64_t rip, nested *n)
{
    uc_x86_mmr idtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_IDTR, &idtr);
    if ((uint32_t)vector * 4 + 3 > idtr.limit) return fail(n, VX_GP, 0);
    uint32_t ivt = vx_phys_read32(m, idtr.base + (uint64_t)vector * 4);
    uint64_t flags = vx_reg(m, UC_X86_REG_EFLAGS);
    uint64_t sp = vx_reg(m, UC_X86_REG_RSP) & 0xFFFF;
    uint64_t ss = vx_reg(m, UC_X86_REG_SS) << 4;
    if (push(m, &sp, flags & 0xFFFF, 2, ss, n) ||
        push(m, &sp, vx_reg(m, UC_X86_REG_CS), 2, ss, n) ||
        push(m, &sp, rip & 0xFFFF, 2, ss, n))
        return -1;
    vx_set_reg(m, UC_X86_REG_RSP, (vx_reg(m, UC_X86_REG_RSP) & ~0xFFFFull) | sp);
    vx_set_reg(m, UC_X86_REG_EFLAGS, flags & ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC));
    vx_set_reg(m, UC_X86_REG_RIP, ivt & 0xFFFF);
    if (load_cs_real(m, (uint16_t)(ivt >> 16)) < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return -1;
    }
    return 0;
}

/* Protected mode and IA-32e mode through an interrupt or trap gate. */
static int deliver_gate(vmxsim *m, int vector, int has_err, uint32_t err,
                        uint64_t rip, int soft, nested *n)
{
    int ia32e = vx_in_long_mode(m);
    unsigned gsize = ia32e ? 16 : 8;
    uc_x86_mmr idtr = {0};
    uc_reg_read(m->uc, UC_X86_REG_IDTR, &idtr);
    uint32_t ierr = idt_err(vector, soft);
    if ((uint64_t)vector * gsize + gsize - 1 > idtr.limit) return fail(n, VX_GP, ierr);
    uint64_t g[2] = {0, 0};
    if (vx_linear_read(m, idtr.base + (uint64_t)vector * gsize, g, gsize) < 0) {
        int vec = m->pend_vector;
        uint32_t e = m->pend_err;
        m->pend_vector = -1;
        if (vec == VX_PF) vx_set_reg(m, UC_X86_REG_CR2, m->pend_cr2);
        return fail(n, vec, e);
    }
    unsigned type = (g[0] >> 40) & 0xF, dpl = (g[0] >> 45) & 3, present = (g[0] >> 47) & 1;
    int cpl = vx_cpl(m);
    if (type == 5 && !ia32e) {
        vx_not_modelled(m, "delivery through a task gate (vector %d)", vector);
        return -1;
    }
    int gate32 = type == 0xE || type == 0xF, gate16 = !ia32e && (type == 6 || type == 7);
    if (!gate32 && !gate16) return fail(n, VX_GP, ierr);
    if (soft && (int)dpl < cpl) return fail(n, VX_GP, ierr);
    if (!present) return fail(n, VX_NP, ierr);
    uint16_t sel = (uint16_t)(g[0] >> 16);
    uint64_t target = (g[0] & 0xFFFF) | ((g[0] >> 32) & 0xFFFF0000ull);
    if (ia32e) target |= g[1] << 32;
    if (gate16) target &= 0xFFFF;
    int ok;
    uint64_t cd = read_desc(m, sel, &ok);
    uint32_t serr = (sel & 0xFFFC) | (soft ? 0u : 1u);
    if (!ok || !((cd >> 43) & 1) || !((cd >> 44) & 1)) return fail(n, VX_GP, serr);
    unsigned cdpl = (cd >> 45) & 3;
    if ((int)cdpl > cpl) return fail(n, VX_GP, serr);
    if (!((cd >> 47) & 1)) return fail(n, VX_NP, serr);
    if (ia32e && !((cd >> 53) & 1)) return fail(n, VX_GP, serr); /* must be 64-bit code */
    int conforming = (cd >> 42) & 1;
    int newcpl = (!conforming && (int)cdpl < cpl) ? (int)cdpl : cpl;
    unsigned ist = ia32e ? (unsigned)((g[0] >> 32) & 7) : 0;
    if (newcpl != cpl && !ia32e) {
        vx_not_modelled(m, "32-bit interrupt delivery with a privilege change (vector %d)",
                        vector);
        return -1;
    }
    uint64_t flags = vx_reg(m, UC_X86_REG_EFLAGS);
    /* An event VM entry injects pushes RFLAGS as the guest-state area
     * has it, RF included (SDM Vol. 3C 27.6.1.1): the VMM sets RF for a
     * fault it re-injects. */
    uint64_t pushed_flags = (!soft && !m->delivering_injected && vx_fault_sets_rf(vector))
                          ? flags | RFLAGS_RF : flags;
    uint64_t cs = vx_reg(m, UC_X86_REG_CS);
    uint64_t sp = vx_reg(m, UC_X86_REG_RSP);
    uint64_t ss = vx_reg(m, UC_X86_REG_SS);
    int switch_stack = ia32e && (newcpl != cpl || ist);
    if (ia32e) {
        uint64_t old_sp = sp;
        if (switch_stack) {
            /* The new stack comes from the 64-bit TSS: RSPn for a
             * privilege change, or IST[ist] (6.14.4, 6.14.5). */
            uc_x86_mmr tr = {0};
            uc_reg_read(m->uc, UC_X86_REG_TR, &tr);
            uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * (uint32_t)newcpl;
            if (!(tr.selector & ~3u) || off + 7 > tr.limit)
                return fail(n, VX_TS, (tr.selector & 0xFFFC) | (soft ? 0u : 1u));
            if (vx_linear_read(m, tr.base + off, &sp, 8) < 0) {
                int vec = m->pend_vector;
                uint32_t e = m->pend_err;
                m->pend_vector = -1;
                return fail(n, vec, e);
            }
            if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp) return fail(n, VX_SS, 0);
        }
        /* 64-bit frame: SS, RSP, RFLAGS, CS, RIP, error code; RSP aligned
         * to 16 first (6.14.2). */
        sp &= ~0xFull;
        if (push(m, &sp, ss, 8, 0, n) || push(m, &sp, old_sp, 8, 0, n) ||
            push(m, &sp, pushed_flags, 8, 0, n) || push(m, &sp, cs, 8, 0, n) ||
            push(m, &sp, rip, 8, 0, n) || (has_err && push(m, &sp, err, 8, 0, n)))
            return -1;
    } else {
        unsigned w = gate32 ? 4 : 2;
        uint64_t ssb, d;
        int okss;
        d = read_desc(m, (uint16_t)vx_reg(m, UC_X86_REG_SS), &okss);
        ssb = okss ? (((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000)) : 0;
        int big = okss && ((d >> 54) & 1);
        uint64_t s = big ? sp & 0xFFFFFFFF : sp & 0xFFFF;
        if (push(m, &s, pushed_flags, w, ssb, n) || push(m, &s, cs, w, ssb, n) ||
            push(m, &s, rip, w, ssb, n) || (has_err && push(m, &s, err, w, ssb, n)))
            return -1;
        sp = big ? s : ((sp & ~0xFFFFull) | (s & 0xFFFF));
    }
    flags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xE || type == 6) flags &= ~RFLAGS_IF; /* interrupt gate */
    vx_set_reg(m, UC_X86_REG_RSP, sp);
    vx_set_reg(m, UC_X86_REG_EFLAGS, flags);
    vx_set_reg(m, UC_X86_REG_RIP, target);
    /* A privilege change in IA-32e mode loads SS with a null selector
     * whose RPL is the new CPL (6.14.4). */
    if (load_cs_ss(m, (uint16_t)((sel & ~3u) | (unsigned)newcpl), cd, newcpl != cpl,
                   (uint16_t)newcpl) < 0) {
        vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "%s", m->err);
        return -1;
    }
    return 0;
}

static void trace_exception(vmxsim *m, int vector, int has_err, uint32_t err,
                            int escalated_from)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_FAULT)) return;
    json_t *ev = vx_ev_new(m, "exception");
    json_object_set_new(ev, "vector", json_integer(vector));
    json_object_set_new(ev, "name", json_string(vx_vector_name(vector)));
    if (has_err) json_object_set_new(ev, "error_code", vx_json_hex(err));
    json_object_set_new(ev, "source", json_string(m->pend_engine ? "engine" : "model"));
    if (escalated_from >= 0)
        json_object_set_new(ev, "escalated_from", json_integer(escalated_from));
    vx_ev_emit(m, VMXSIM_EV_FAULT, ev);
}

static int has_error_code(int v)
{
    return v == VX_DF || v == VX_TS || v == VX_NP || v == VX_SS ||
           v == VX_GP || v == VX_PF || v == VX_AC || v == 21;
}

int vx_deliver_pending(vmxsim *m)
{
    int vector = m->pend_vector, has_err = m->pend_has_err, soft = m->pend_soft;
    int kind = m->pend_kind, injected = m->pend_injected;
    m->delivering_injected = injected;
    unsigned ilen = m->pend_insn_len; /* a nested fault's vx_raise clears it */
    uint32_t err = m->pend_err;
    uint64_t rip = m->pend_rip;
    m->pend_vector = -1;
    m->pend_injected = 0;
    uint64_t cr2 = m->pend_cr2;
    if (m->pend_engine) {
        vx_engine_take_exception(m);
        uint32_t e = m->pend_engine_err;
        if (has_err) err = e;
        if (vector == VX_PF) {
            /* The engine faults on every access the model has not
             * translated yet (mmu.c): fill the translation in and
             * restart, or deliver the #PF the walk finds, with the
             * program's own CR2 (the engine's is the model's). */
            uint64_t la = m->pend_engine_cr2;
            uc_reg_write(m->uc, UC_X86_REG_CR2, &m->arch_cr2);
            unsigned access = e & (VX_ACC_W | VX_ACC_U | VX_ACC_I);
            if (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_AC) access |= VX_ACC_AC;
            vx_xlate x;
            int r = vx_mmu_fill(m, la, access, &x);
            if (r != VX_MMU_FAULT) {
                vx_set_reg(m, UC_X86_REG_RIP, rip);
                return 0;
            }
            if (x.status != VX_XL_PF) {
                /* EPT said no: an EPT violation or misconfiguration exit
                 * (SDM Vol. 3C 29.3.3), the instruction not executed. */
                vx_set_reg(m, UC_X86_REG_RIP, rip);
                vx_nonroot_ept_exit(m, &x, la, rip, NULL, 0, 0);
                return 1;
            }
            err = x.pfec;
            cr2 = la;
            m->pend_engine = 0;
        } else {
            cr2 = m->pend_engine_cr2;
        }
    }
    if (vector == VX_VEC_EPT) {
        /* One of the model's own accesses met an EPT violation or
         * misconfiguration (linear.c): a VM exit. */
        vx_set_reg(m, UC_X86_REG_RIP, rip);
        if (m->vmx_nonroot) vx_nonroot_ept_exit(m, &m->pend_xl, cr2, rip, NULL, 0, 0);
        else vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR,
                        "EPT fault outside VMX non-root operation");
        return 1;
    }
    /* In VMX non-root operation the exception bitmap decides first
     * (26.2); INT n and events injected by VM entry are not subject to
     * it, and a #PF that exits leaves CR2 alone (28.1). */
    if (m->vmx_nonroot && !injected && kind != VX_PEND_SWINT &&
        vx_nonroot_exception(m, vector, has_err, err, kind, rip, cr2, NULL, 0, 0))
        return 1;
    if (!m->pend_engine && vector == VX_PF) vx_set_reg(m, UC_X86_REG_CR2, cr2);
    vx_set_reg(m, UC_X86_REG_RIP, rip);
    int from = -1;
    for (;;) {
        trace_exception(m, vector, has_err, err, from);
        nested n = {-1, 0};
        int pe = vx_reg(m, UC_X86_REG_CR0) & 1;
        if ((pe ? deliver_gate(m, vector, has_err, err, rip, soft, &n)
                : deliver_real(m, vector, rip, &n)) == 0) {
            vx_cyc_add(m, m->prof.cycles.cost[VX_CC_event_delivery]);
            break;
        }
        if (m->end != VMXSIM_END_NONE) break; /* not modelled */
        if (vector == VX_DF) {
            vx_triple_fault(m, "fault while delivering a double fault");
            break;
        }
        /* Table 6-5: benign then anything -> serial; contributory then
         * contributory, or page fault then page fault or contributory ->
         * double fault. */
        /* An exception while delivering another, which the bitmap
         * selects, exits with the first event in the IDT-vectoring
         * information (26.2, 28.2.4). */
        if (m->vmx_nonroot) {
            uint32_t idt = vx_nonroot_vectoring_info(vector, kind, has_err);
            /* An EPT violation while delivering the event (29.3.3.2):
             * the exit records the event in the IDT-vectoring info. */
            if (n.vector == VX_VEC_EPT) {
                vx_nonroot_ept_exit(m, &m->pend_xl, m->pend_cr2, rip, &idt, err,
                                    kind == VX_PEND_HW ? 0 : ilen);
                return 1;
            }
            int nerr = has_error_code(n.vector);
            if (vx_nonroot_exception(m, n.vector, nerr, n.err, VX_PEND_HW, rip,
                                     vx_reg(m, UC_X86_REG_CR2), &idt, err,
                                     kind == VX_PEND_HW ? 0 : ilen))
                return 1;
        }
        int df = (contributory(vector) && contributory(n.vector)) ||
                 (vector == VX_PF && (n.vector == VX_PF || contributory(n.vector)));
        from = vector;
        m->pend_engine = 0;
        if (df) {
            vector = VX_DF;
            err = 0;
        } else {
            vector = n.vector;
            err = n.err;
        }
        has_err = has_error_code(vector);
        soft = 0;
        kind = VX_PEND_HW;
        m->delivering_injected = 0; /* the new event is the processor's own */
    }
    return 1;
}

void vx_triple_fault(vmxsim *m, const char *why)
{
    /* In VMX non-root operation a triple fault is a VM exit (26.2). */
    if (m->vmx_nonroot) {
        vx_nonroot_triple_fault(m, vx_reg(m, UC_X86_REG_RIP));
        return;
    }
    if (vx_ev_wanted(m, VMXSIM_EV_FAULT)) {
        json_t *ev = vx_ev_new(m, "triple_fault");
        json_object_set_new(ev, "reason", json_string(why));
        json_t *regs = json_object();
        static const struct { const char *name; int id; } r[] = {
            {"rax", UC_X86_REG_RAX}, {"rbx", UC_X86_REG_RBX}, {"rcx", UC_X86_REG_RCX},
            {"rdx", UC_X86_REG_RDX}, {"rsi", UC_X86_REG_RSI}, {"rdi", UC_X86_REG_RDI},
            {"rsp", UC_X86_REG_RSP}, {"rbp", UC_X86_REG_RBP}, {"rip", UC_X86_REG_RIP},
            {"rflags", UC_X86_REG_EFLAGS}, {"cr0", UC_X86_REG_CR0},
            {"cr2", UC_X86_REG_CR2}, {"cr3", UC_X86_REG_CR3}, {"cr4", UC_X86_REG_CR4},
            {"cs", UC_X86_REG_CS}, {"ss", UC_X86_REG_SS},
        };
        for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
            json_object_set_new(regs, r[i].name, vx_json_hex(vx_reg(m, r[i].id)));
        json_object_set_new(ev, "registers", regs);
        json_t *vmx = json_object();
        json_object_set_new(vmx, "operation", json_string(!m->vmx_on ? "off"
                                                          : m->vmx_nonroot ? "nonroot" : "root"));
        if (m->vmx_on) {
            json_object_set_new(vmx, "vmxon_pointer", vx_json_hex(m->vmxon_ptr));
            json_object_set_new(vmx, "current_vmcs", vx_json_hex(m->current_vmcs));
        }
        json_object_set_new(ev, "vmx", vmx);
        vx_ev_emit(m, VMXSIM_EV_FAULT, ev);
    }
    vx_end_run(m, VMXSIM_END_TRIPLE_FAULT, VMXSIM_STATUS_TRIPLE_FAULT, "triple fault: %s", why);
}
