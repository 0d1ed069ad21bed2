/*
 * cycles.c - the cycle model (docs/cycle-model.md): time is the number of
 * core cycles the modelled processor has spent, charged from the CPU
 * profile's cost table (vmcs/cycles.def):
 *
 *  - every ordinary instruction its class's cost, plus a cost per memory
 *    operand it reads or writes; charged per translated block when the
 *    engine enters it (run.c), and taken back for the instructions after
 *    an early exit from the block, like the instruction count;
 *  - every instruction the model executes itself, its own cost;
 *  - VM entries and VM exits (by exit reason), event delivery, and each
 *    memory reference of a page walk (a TLB hit instead, when the
 *    model's TLB has the translation).
 *
 * The TSC is the cycle count times the profile's TSC ticks per cycle,
 * plus an offset software can set (WRMSR IA32_TSC).  Nothing here reads
 * the host's clock.
 */
#include <string.h>

#include "machine.h"

/* The cost of each instruction the model executes: C(key) names its
 * VX_CC_ entry; NONE marks those whose cost is that of a transition
 * (VMLAUNCH, VMRESUME: VM entry) or of the event they raise (INT n:
 * event delivery); an instruction not listed costs misc_model. */
#define C(key) (VX_CC_##key + 1)
#define NONE (-1)
static const int8_t op_cost[VX_OP_COUNT] = {
    [VX_OP_NONE] = NONE,
    [VX_OP_VMXON] = C(vmxon), [VX_OP_VMXOFF] = C(vmxoff),
    [VX_OP_VMCLEAR] = C(vmclear), [VX_OP_VMPTRLD] = C(vmptrld),
    [VX_OP_VMPTRST] = C(vmptrst), [VX_OP_VMREAD] = C(vmread),
    [VX_OP_VMWRITE] = C(vmwrite), [VX_OP_VMLAUNCH] = NONE, [VX_OP_VMRESUME] = NONE,
    [VX_OP_VMCALL] = C(vmcall), [VX_OP_VMFUNC] = C(vmfunc),
    [VX_OP_INVEPT] = C(invept), [VX_OP_INVVPID] = C(invvpid),
    [VX_OP_CPUID] = C(cpuid), [VX_OP_RDMSR] = C(rdmsr), [VX_OP_WRMSR] = C(wrmsr),
    [VX_OP_MOV_TO_CR] = C(mov_cr), [VX_OP_MOV_FROM_CR] = C(mov_cr),
    [VX_OP_CLTS] = C(mov_cr), [VX_OP_LMSW] = C(mov_cr), [VX_OP_SMSW] = C(mov_cr),
    [VX_OP_RDTSC] = C(rdtsc), [VX_OP_RDTSCP] = C(rdtsc), [VX_OP_HLT] = C(hlt),
    [VX_OP_IN] = C(io), [VX_OP_OUT] = C(io), [VX_OP_INS] = C(io), [VX_OP_OUTS] = C(io),
    [VX_OP_INT] = NONE, [VX_OP_INT3] = NONE, [VX_OP_INTO] = NONE, [VX_OP_INT1] = NONE,
    [VX_OP_INVLPG] = C(invlpg), [VX_OP_INVPCID] = C(invlpg),
};
#undef C

static uint64_t cost(const vmxsim *m, int cc)
{
    return m->prof.cycles.cost[cc];
}

void vx_cyc_block(vmxsim *m, vx_block *b, const uint8_t *cls, const uint8_t *mem)
{
    const vx_cycles *c = &m->prof.cycles;
    uint32_t sum = 0;
    for (int i = 0; i < b->ninsns; i++) {
        b->cyc_off[i] = sum;
        sum += c->cls[cls[i]];
        if (mem[i] & VX_MEM_READ) sum += c->cost[VX_CC_mem_read];
        if (mem[i] & VX_MEM_WRITE) sum += c->cost[VX_CC_mem_write];
    }
    b->cyc_off[b->ninsns] = sum;
    b->cyc = sum;
}

uint64_t vx_cyc_now(const vmxsim *m)
{
    return m->insn ? m->insn_cycles + m->cyc_pending : m->cycles;
}

void vx_cyc_add(vmxsim *m, uint64_t n)
{
    if (m->insn) m->cyc_pending += n;
    else m->cycles += n;
}

uint64_t vx_cyc_op(const vmxsim *m, vx_op op)
{
    if (op >= VX_OP_COUNT) return 0;
    int c = op_cost[op];
    if (c == NONE) return 0;
    return cost(m, c ? c - 1 : VX_CC_misc_model);
}
#undef NONE

/* ---- where the time goes: by mode, in transitions, in walks ---- */

static int mode_now(const vmxsim *m)
{
    return !m->vmx_on ? 0 : m->vmx_nonroot ? 2 : 1;
}

/* Give the cycles since the last change of mode to the mode they were
 * spent in. */
void vx_cyc_mode_sync(vmxsim *m)
{
    uint64_t now = vx_cyc_now(m);
    if (now > m->cyc_mode_start) m->cyc_mode[m->cyc_mode_cur] += now - m->cyc_mode_start;
    m->cyc_mode_start = now;
    m->cyc_mode_cur = mode_now(m);
}

void vx_cyc_transition(vmxsim *m, int entry, unsigned reason)
{
    vx_cyc_mode_sync(m);
    uint64_t c;
    if (entry) {
        c = cost(m, VX_CC_vm_entry);
        m->cyc_entries += c;
    } else {
        unsigned basic = reason & 0xFFFF;
        int32_t r = basic < VX_CYC_MAX_EXIT_REASON ? m->prof.cycles.exit_by_reason[basic] : -1;
        c = r >= 0 ? (uint64_t)r : cost(m, VX_CC_vm_exit);
        m->cyc_exits += c;
        if (basic < VX_CYC_MAX_EXIT_REASON) {
            m->cyc_exit_by_reason[basic] += c;
            m->exit_count_by_reason[basic]++;
        }
    }
    m->cycles += c;
    m->cyc_mode_start = m->cycles; /* not any mode's: the transition's */
}

void vx_cyc_walk(vmxsim *m, const vx_xlate *x, int hit)
{
    uint64_t c;
    if (hit) {
        c = cost(m, VX_CC_tlb_hit);
        m->cyc_tlb_hits++;
    } else {
        uint64_t g = (uint64_t)x->nref_guest * cost(m, VX_CC_walk_ref_guest);
        uint64_t e = (uint64_t)x->nref_ept * cost(m, VX_CC_walk_ref_ept);
        c = g + e;
        m->cyc_walk_guest += g;
        m->cyc_walk_ept += e;
        m->cyc_walk_refs_guest += x->nref_guest;
        m->cyc_walk_refs_ept += x->nref_ept;
        m->cyc_walk_count++;
    }
    m->cyc_walks += c;
    vx_cyc_add(m, c);
}

/* ---- the TSC ---- */

static uint64_t scale(const vmxsim *m, uint64_t cycles)
{
    const vx_cycles *c = &m->prof.cycles;
    if (!c->tsc_den) return cycles; /* the loader refuses this; no division by 0 */
    return (uint64_t)((unsigned __int128)cycles * c->tsc_num / c->tsc_den);
}

uint64_t vx_tsc(vmxsim *m)
{
    return m->tsc_base + scale(m, vx_cyc_now(m));
}

void vx_tsc_set(vmxsim *m, uint64_t v)
{
    m->tsc_base = v - scale(m, vx_cyc_now(m));
}

uint64_t vx_cyc_at_tsc(const vmxsim *m, uint64_t tsc)
{
    const vx_cycles *c = &m->prof.cycles;
    if (tsc <= m->tsc_base) return 0;
    if (!c->tsc_num || !c->tsc_den) return tsc - m->tsc_base;
    unsigned __int128 t = (unsigned __int128)(tsc - m->tsc_base) * c->tsc_den;
    return (uint64_t)((t + c->tsc_num - 1) / c->tsc_num);
}

/* ---- the summary on the end event ---- */

json_t *vx_cyc_summary(vmxsim *m)
{
    vx_cyc_mode_sync(m);
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)m->cycles));
    json_object_set_new(o, "off", json_integer((json_int_t)m->cyc_mode[0]));
    json_object_set_new(o, "root", json_integer((json_int_t)m->cyc_mode[1]));
    json_object_set_new(o, "nonroot", json_integer((json_int_t)m->cyc_mode[2]));
    json_t *t = json_object();
    json_object_set_new(t, "vm_entry", json_integer((json_int_t)m->cyc_entries));
    json_object_set_new(t, "vm_exit", json_integer((json_int_t)m->cyc_exits));
    json_t *by = json_object();
    for (unsigned r = 0; r < VX_CYC_MAX_EXIT_REASON; r++)
        if (m->exit_count_by_reason[r])
            json_object_set_new(by, vx_exit_reason_name(r), json_integer((json_int_t)m->cyc_exit_by_reason[r]));
    json_object_set_new(t, "by_exit_reason", by);
    json_object_set_new(o, "transitions", t);
    json_t *w = json_object();
    json_object_set_new(w, "walks", json_integer((json_int_t)m->cyc_walk_count));
    json_object_set_new(w, "guest_refs", json_integer((json_int_t)m->cyc_walk_refs_guest));
    json_object_set_new(w, "ept_refs", json_integer((json_int_t)m->cyc_walk_refs_ept));
    json_object_set_new(w, "cycles", json_integer((json_int_t)m->cyc_walks));
    json_object_set_new(w, "guest_cycles", json_integer((json_int_t)m->cyc_walk_guest));
    json_object_set_new(w, "ept_cycles", json_integer((json_int_t)m->cyc_walk_ept));
    json_object_set_new(w, "tlb_hits", json_integer((json_int_t)m->cyc_tlb_hits));
    json_object_set_new(o, "walks", w);
    return o;
}
