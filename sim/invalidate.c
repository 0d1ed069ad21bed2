/*
 * invalidate.c - the instructions that invalidate cached translations
 * (SDM Vol. 3A 4.10.4.1, Vol. 2A INVLPG and INVPCID), in the current VPID
 * (Vol. 3C 29.4.3.1).  They remove at least what the SDM says, from the
 * model's TLB and the engine's shadow of it (xlate.c).  (MOV to
 * CR0/CR3/CR4 invalidates in insn.c, INVEPT and INVVPID in vmx.c, VM
 * entry and exit in vmentry.c and vmexit.c.)
 */
#include "machine.h"
#include "x86.h"

/* INVLPG m: CPL 0 (#GP(0) otherwise); the address is the operand's
 * linear address, never accessed, so no fault can come from it; the
 * entries for that page, global or not, go (Vol. 2A INVLPG).  A register
 * operand is #UD. */
static vx_action invlpg(vmxsim *m, const vx_insn *in)
{
    if (!in->rm.is_mem) return vx_raise_ud(m);
    if (vx_cpl(m) > 0) return vx_raise_gp0(m);
    uint64_t la;
    if (vx_operand_address(m, in, &in->rm, 1, 0, &la) < 0) {
        /* A non-canonical address is a no-op, not a fault. */
        m->pend_vector = -1;
        return VX_NEXT;
    }
    vx_mmu_inv_page(m, vx_xl_tag(m).vpid, la);
    vx_xl_trace_invalidation(m, "invlpg", "page", la);
    return VX_NEXT;
}

/* INVPCID r, m128 (Vol. 2A INVPCID): #UD without the CPUID feature; #GP(0)
 * at CPL > 0, for a type above 3, for reserved descriptor bits 63:12, a
 * non-canonical address (type 0) or a non-zero PCID with CR4.PCIDE = 0
 * (types 0 and 1).  The shadow holds one PCID's translations, so an
 * invalidation for any PCID drops at least what the SDM requires. */
static vx_action invpcid(vmxsim *m, const vx_insn *in)
{
    uint32_t r[4];
    vx_profile_cpuid(&m->prof, 7, 0, r);
    if (!((r[1] >> 10) & 1) || !in->rm.is_mem) return vx_raise_ud(m);
    if (vx_cpl(m) > 0) return vx_raise_gp0(m);
    uint64_t type = vx_gpr(m, in->modrm_reg);
    if (in->mode != 64) type &= 0xFFFFFFFFull;
    uint64_t la, desc[2];
    if (vx_operand_address(m, in, &in->rm, 16, 0, &la) < 0) return VX_FAULT;
    if (vx_linear_read(m, la, desc, sizeof desc) < 0) return VX_FAULT;
    if (type > 3) return vx_raise_gp0(m);
    uint64_t pcid = desc[0] & 0xFFF;
    if (desc[0] >> 12) return vx_raise_gp0(m);
    int pcide = (vx_reg(m, UC_X86_REG_CR4) & CR4_PCIDE) != 0;
    uint16_t vpid = vx_xl_tag(m).vpid;
    static const char *const scope[4] = {"address", "pcid", "all", "all-but-global"};
    switch (type) {
    case 0:
        if ((uint64_t)((int64_t)(desc[1] << 16) >> 16) != desc[1] || (!pcide && pcid))
            return vx_raise_gp0(m);
        vx_mmu_inv_page(m, vpid, desc[1]);
        break;
    case 1:
        if (!pcide && pcid) return vx_raise_gp0(m);
        vx_mmu_inv_pcid(m, vpid, (uint16_t)pcid);
        break;
    case 2: vx_mmu_inv_vpid(m, vpid, 0); break;
    case 3: vx_mmu_inv_vpid(m, vpid, 1); break;
    }
    vx_xl_trace_invalidation(m, "invpcid", scope[type], type == 0 ? desc[1] : UINT64_MAX);
    return VX_NEXT;
}

vx_action vx_exec_tlb(vmxsim *m, const vx_insn *in)
{
    return in->op == VX_OP_INVLPG ? invlpg(m, in) : invpcid(m, in);
}
