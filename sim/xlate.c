/*
 * xlate.c - translating the running program's addresses: the processor
 * state the walk reads (SDM Vol. 3A 4; in VMX non-root operation also
 * EPT and the VPID, Vol. 3C 29), the model's TLB in front of the walker
 * (ept/tlb.h: a cached translation is used until an invalidation removes
 * it, as on hardware), the invalidating operations, and the trace of
 * every walk (`translation` events, reference by reference).
 *
 * Both the engine's faults (mmu.c fills its shadow page tables from
 * here) and the model's own accesses (linear.c) come through
 * vx_mmu_translate, so they see the same translations.
 */
#include <string.h>

#include "machine.h"
#include "x86.h"

/* ---- the state a walk reads ---- */

static uint64_t vmcs_get(vmxsim *m, uint32_t enc)
{
    vx_vmcs *v = vx_current_vmcs(m);
    return v ? vx_vmcs_get(v, enc) : 0;
}

void vx_xl_paging(vmxsim *m, vx_guest_paging *pg)
{
    pg->cr0 = m->arch_cr0;
    pg->cr3 = m->arch_cr3;
    pg->cr4 = m->arch_cr4;
    pg->efer = m->arch_efer;
    memcpy(pg->pdpte, m->pdpte, sizeof pg->pdpte);
    pg->pkru = 0;
    pg->pkrs = 0;
    pg->maxphyaddr = m->prof.maxphyaddr;
    /* The profile is the machine's for its whole life: its CPUID bit for
     * 1-GByte pages is looked up once, not on every walk. */
    if (!m->xl_page1gb) {
        uint32_t r[4];
        vx_profile_cpuid(&m->prof, 0x80000001u, 0, r);
        m->xl_page1gb = (uint8_t)(((r[3] >> 26) & 1) + 1);
    }
    pg->page1gb = m->xl_page1gb - 1;
}

/* EPT and the VPID of the guest, as VM entry found them (27.3), until
 * VM exit; VMFUNC may switch the EPTP in between (26.5.6.3). */
void vx_xl_enter_guest(vmxsim *m)
{
    uint64_t proc = vmcs_get(m, VX_ENC_cpu_based_vm_exec_control), proc2 = 0;
    if (proc & VX_PROC_SECONDARY) proc2 = vmcs_get(m, VX_ENC_secondary_vm_exec_control);
    vx_ept *e = &m->xl_ept;
    memset(e, 0, sizeof *e);
    e->enabled = (proc2 & VX_PROC2_EPT) != 0;
    e->mbec = e->enabled && (proc2 & VX_PROC2_MBEC);
    e->eptp = e->enabled ? vmcs_get(m, VX_ENC_ept_pointer) : 0;
    vx_profile_vmx_msr(&m->prof, VX_MSR_VMX_EPT_VPID_CAP, &e->cap);
    e->maxphyaddr = m->prof.maxphyaddr;
    m->xl_vpid = (proc2 & VX_PROC2_VPID) ? (uint16_t)vmcs_get(m, VX_ENC_virtual_processor_id) : 0;
}

void vx_xl_leave_guest(vmxsim *m)
{
    m->xl_ept.enabled = 0;
    m->xl_ept.mbec = 0;
    m->xl_vpid = 0;
}

void vx_xl_set_eptp(vmxsim *m, uint64_t eptp)
{
    m->xl_ept.eptp = eptp;
}

static const vx_ept *cur_ept(vmxsim *m)
{
    return m->vmx_nonroot && m->xl_ept.enabled ? &m->xl_ept : NULL;
}

static uint64_t eptrta(uint64_t eptp)
{
    return eptp & 0x000FFFFFFFFFF000ull;
}

vx_tlb_tag vx_xl_tag(vmxsim *m)
{
    vx_tlb_tag t = {0};
    t.vpid = m->vmx_nonroot ? m->xl_vpid : 0;
    if ((m->arch_cr4 & CR4_PCIDE) && (m->arch_efer & EFER_LMA)) t.pcid = m->arch_cr3 & 0xFFF;
    const vx_ept *e = cur_ept(m);
    if (e) {
        t.ept = 1;
        t.eptrta = eptrta(e->eptp);
    }
    return t;
}

/* PAE paging's PDPTE registers from the table at cr3 (Vol. 3A 4.4.1):
 * 0 and out, -1 if a present one has a reserved bit set (#GP for MOV to
 * CR, VMX abort for VM exit), -2 with an EPT-induced exit raised (in VMX
 * non-root operation with EPT the table's address is guest-physical; a
 * violation there reports no guest-linear address, 29.3.3.2). */
int vx_load_pdptes(vmxsim *m, uint64_t cr3, uint64_t out[4])
{
    uint64_t base = cr3 & 0xFFFFFFE0u;
    uint64_t rsvd = VX_PDPTE_RESERVED_LOW | ~((1ull << m->prof.maxphyaddr) - 1);
    const vx_ept *e = cur_ept(m);
    /* The paging registers, once for the four loads. */
    vx_guest_paging pg = {0};
    if (e) vx_xl_paging(m, &pg);
    for (int i = 0; i < 4; i++) {
        uint64_t pa = base + 8u * (unsigned)i;
        if (e) {
            vx_hostmem mem = {m->ram, m->mem_size};
            vx_xlate_env env = {&pg, e, &mem, NULL, NULL};
            vx_xlate x;
            if (vx_xlate_gpa(&env, pa, 0, &x) != VX_XL_OK) {
                vx_raise_xlate(m, &x, 0);
                return -2;
            }
            pa = x.hpa;
        }
        out[i] = vx_phys_read64(m, pa);
        if ((out[i] & 1) && (out[i] & rsvd)) return -1;
    }
    return 0;
}

/* ---- traces ---- */

static const char *level_name(int dim, int level, int levels)
{
    static const char *const names[6] = {"?", "PT", "PD", "PDPT", "PML4", "PML5"};
    if (dim == VX_DIM_GUEST && levels == 3 && level == 3) return "PDPTE register";
    return level >= 1 && level <= 5 ? names[level] : "?";
}

static json_t *access_json(unsigned acc)
{
    json_t *a = json_object();
    json_object_set_new(a, "type", json_string((acc & VX_ACC_I) ? "fetch" : (acc & VX_ACC_W) ? "write" : "read"));
    json_object_set_new(a, "mode", json_string((acc & VX_ACC_U) ? "user"
                                               : (acc & VX_ACC_IMPLICIT) ? "implicit-supervisor"
                                               : "supervisor"));
    return a;
}

static json_t *guest_rights_json(unsigned r)
{
    json_t *o = json_object();
    json_object_set_new(o, "rw", json_boolean(r & 1));
    json_object_set_new(o, "us", json_boolean(r & 2));
    json_object_set_new(o, "xd", json_boolean(r & 4));
    return o;
}

static json_t *ept_rights_json(unsigned r, int mbec)
{
    json_t *o = json_object();
    json_object_set_new(o, "r", json_boolean(r & 1));
    json_object_set_new(o, "w", json_boolean(r & 2));
    json_object_set_new(o, "x", json_boolean(r & 4));
    if (mbec) json_object_set_new(o, "xu", json_boolean(r & 8));
    return o;
}

json_t *vx_xl_refs_json(const vx_walk_log *log, int levels, int mbec)
{
    json_t *refs = json_array();
    for (unsigned i = 0; i < log->n; i++) {
        const vx_walk_ref *r = &log->ref[i];
        json_t *o = json_object();
        json_object_set_new(o, "dim", json_string(r->dim == VX_DIM_GUEST ? "guest" : "ept"));
        if (r->reg == 2) {
            json_object_set_new(o, "cached", json_true());
            json_object_set_new(o, "gpa", vx_json_hex(r->gpa));
            json_object_set_new(o, "hpa", vx_json_hex(r->hpa));
        } else {
            json_object_set_new(o, "level", json_string(level_name(r->dim, r->level, levels)));
            if (r->reg) {
                json_object_set_new(o, "register", json_true());
            } else {
                json_object_set_new(o, "gpa", vx_json_hex(r->gpa));
                json_object_set_new(o, "hpa", vx_json_hex(r->hpa));
            }
            json_object_set_new(o, "entry", vx_json_hex(r->entry));
        }
        if (r->dim == VX_DIM_EPT) {
            /* Which access this EPT walk translates: a guest
             * paging-structure entry, or the final guest-physical address. */
            json_object_set_new(o, "for", json_string(r->target ? level_name(VX_DIM_GUEST, r->target, levels)
                                                                : "final"));
            json_object_set_new(o, "rights", ept_rights_json(r->rights, mbec));
        } else {
            json_object_set_new(o, "rights", guest_rights_json(r->rights));
        }
        json_array_append_new(refs, o);
    }
    return refs;
}

json_t *vx_ept_qual_json(uint64_t q)
{
    json_t *o = json_object();
    json_object_set_new(o, "read", json_boolean(q & VX_EPTQ_READ));
    json_object_set_new(o, "write", json_boolean(q & VX_EPTQ_WRITE));
    json_object_set_new(o, "fetch", json_boolean(q & VX_EPTQ_FETCH));
    json_object_set_new(o, "readable", json_boolean(q & VX_EPTQ_READABLE));
    json_object_set_new(o, "writable", json_boolean(q & VX_EPTQ_WRITABLE));
    json_object_set_new(o, "executable", json_boolean(q & VX_EPTQ_EXECUTABLE));
    json_object_set_new(o, "user_executable", json_boolean(q & VX_EPTQ_USER_EXECUTABLE));
    json_object_set_new(o, "gla_valid", json_boolean(q & VX_EPTQ_GLA_VALID));
    if (q & VX_EPTQ_GLA_VALID) {
        json_object_set_new(o, "access", json_string((q & VX_EPTQ_TRANSLATION) ? "translation"
                                                                               : "paging-structure"));
        if (q & VX_EPTQ_TRANSLATION) {
            json_object_set_new(o, "user_la", json_boolean(q & VX_EPTQ_USER_LA));
            json_object_set_new(o, "writable_la", json_boolean(q & VX_EPTQ_WRITABLE_LA));
            json_object_set_new(o, "xd_la", json_boolean(q & VX_EPTQ_XD_LA));
        }
    }
    json_object_set_new(o, "nmi_unblocking", json_boolean(q & VX_EPTQ_NMI_UNBLOCKING));
    return o;
}

static const char *status_name(vx_xl_status s)
{
    switch (s) {
    case VX_XL_OK: return "ok";
    case VX_XL_PF: return "page_fault";
    case VX_XL_EPT_VIOLATION: return "ept_violation";
    case VX_XL_EPT_MISCONFIG: return "ept_misconfig";
    }
    return "?";
}

static void trace_walk(vmxsim *m, uint64_t la, unsigned acc, const vx_xlate *x,
                       const vx_walk_log *log, const vx_guest_paging *pg, const vx_tlb_tag *tagp)
{
    json_t *ev = vx_ev_new(m, "translation");
    const vx_ept *e = cur_ept(m);
    int levels = vx_paging_levels(pg);
    vx_tlb_tag tag = *tagp;
    json_object_set_new(ev, "la", vx_json_hex(la));
    json_object_set_new(ev, "access", access_json(acc));
    static const char *const modes[6] = {"none", "?", "32-bit", "PAE", "4-level", "5-level"};
    json_object_set_new(ev, "paging", json_string(modes[levels]));
    json_object_set_new(ev, "ept", json_boolean(e != NULL));
    json_object_set_new(ev, "vpid", json_integer(tag.vpid));
    json_object_set_new(ev, "pcid", json_integer(tag.pcid));
    json_object_set_new(ev, "result", json_string(status_name(x->status)));
    switch (x->status) {
    case VX_XL_OK:
        json_object_set_new(ev, "gpa", vx_json_hex(x->gpa));
        json_object_set_new(ev, "hpa", vx_json_hex(x->hpa));
        json_object_set_new(ev, "page_size", json_integer((json_int_t)1 << x->page_shift));
        break;
    case VX_XL_PF:
        json_object_set_new(ev, "error_code", vx_json_hex(x->pfec));
        break;
    case VX_XL_EPT_VIOLATION:
        json_object_set_new(ev, "gpa", vx_json_hex(x->gpa));
        json_object_set_new(ev, "exit_qualification", vx_json_hex(x->qual));
        json_object_set_new(ev, "qualification", vx_ept_qual_json(x->qual));
        break;
    case VX_XL_EPT_MISCONFIG:
        json_object_set_new(ev, "gpa", vx_json_hex(x->gpa));
        break;
    }
    json_object_set_new(ev, "references", json_integer(log->n));
    json_object_set_new(ev, "refs", vx_xl_refs_json(log, levels, e && e->mbec));
    vx_ev_emit(m, VMXSIM_EV_XLATE, ev);
}

static void trace_hit(vmxsim *m, uint64_t la, unsigned acc, const vx_tlb_entry *t)
{
    json_t *ev = vx_ev_new(m, "tlb_hit");
    json_object_set_new(ev, "la", vx_json_hex(la));
    json_object_set_new(ev, "access", access_json(acc));
    json_object_set_new(ev, "hpa", vx_json_hex(t->hpa | (la & ((1ull << t->shift) - 1))));
    json_object_set_new(ev, "page_size", json_integer((json_int_t)1 << t->shift));
    vx_ev_emit(m, VMXSIM_EV_XLATE, ev);
}

void vx_xl_trace_invalidation(vmxsim *m, const char *op, const char *scope, uint64_t la)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_XLATE)) return;
    json_t *ev = vx_ev_new(m, "tlb_invalidate");
    json_object_set_new(ev, "op", json_string(op));
    json_object_set_new(ev, "scope", json_string(scope));
    if (la != UINT64_MAX) json_object_set_new(ev, "la", vx_json_hex(la));
    vx_ev_emit(m, VMXSIM_EV_XLATE, ev);
}

/* ---- translation through the TLB ---- */

/* Does a cached translation allow this access under the current
 * control registers pg?  (The rights were cached; CR0.WP, SMEP, SMAP and
 * RFLAGS.AC are applied now, as a processor applies them to a TLB hit,
 * 4.10.2.2.) */
static int entry_allows(vmxsim *m, const vx_guest_paging *pg, const vx_tlb_entry *t,
                        unsigned acc)
{
    if ((pg->cr0 & CR0_PG) &&
        vx_paging_denied(pg, acc, t->rw, t->us, t->xd, vx_paging_levels(pg) >= 4, t->pkey))
        return 0;
    if ((acc & VX_ACC_W) && !t->dirty) return 0; /* the dirty flags need a walk */
    if (!cur_ept(m)) return 1;
    if (acc & VX_ACC_I) {
        int user_la = (pg->cr0 & CR0_PG) ? t->us : 1;
        return m->xl_ept.mbec && user_la ? t->exu : t->ex;
    }
    return (acc & VX_ACC_W) ? t->ew : t->er;
}

static void from_entry(const vx_tlb_entry *t, uint64_t la, vx_xlate *x)
{
    uint64_t off = la & ((1ull << t->shift) - 1);
    *x = (vx_xlate){.status = VX_XL_OK, .gpa = t->gpa | off, .hpa = t->hpa | off,
                    .page_shift = t->shift, .g_rw = t->rw, .g_us = t->us, .g_xd = t->xd,
                    .g_global = t->global, .g_pkey = t->pkey, .e_r = t->er, .e_w = t->ew,
                    .e_x = t->ex, .e_xu = t->exu, .e_memtype = t->memtype, .dirty = t->dirty};
}

/* The walk under the paging registers pg (vx_xl_paging's). */
static vx_xl_status walk_with(vmxsim *m, const vx_guest_paging *pg, uint64_t la, unsigned acc,
                              vx_xlate *x, vx_walk_log *log)
{
    vx_hostmem mem = {m->ram, m->mem_size};
    const vx_ept *e = cur_ept(m);
    vx_gpa_view view = {&m->mmu.tlb, e ? eptrta(e->eptp) : 0};
    vx_gpa_cache cache = vx_tlb_gpa_cache(&view);
    vx_xlate_env env = {pg, e, &mem, (e && !m->mmu.tlb_off && !(acc & VX_ACC_PEEK)) ? &cache : NULL,
                        log};
    return vx_xlate_linear(&env, la, acc, x);
}

vx_xl_status vx_mmu_walk(vmxsim *m, uint64_t la, unsigned acc, vx_xlate *x, vx_walk_log *log)
{
    vx_guest_paging pg;
    vx_xl_paging(m, &pg);
    return walk_with(m, &pg, la, acc, x, log);
}

vx_xl_status vx_mmu_translate(vmxsim *m, uint64_t la, unsigned acc, vx_xlate *x)
{
    vx_tlb *tlb = &m->mmu.tlb;
    vx_tlb_tag tag = vx_xl_tag(m);
    /* The paging registers, once an access: a hit checks the rights
     * under them, a miss walks under them, the trace names their mode;
     * nothing between changes them. */
    vx_guest_paging pg;
    vx_xl_paging(m, &pg);
    if (!m->mmu.tlb_off) {
        vx_tlb_entry *t = vx_tlb_lookup(tlb, &tag, la);
        if (t && entry_allows(m, &pg, t, acc)) {
            from_entry(t, la, x);
            m->mmu.tlb_hits++;
            vx_cyc_walk(m, x, 1);
            if (m->mmu.trace_tlb_hits && vx_ev_wanted(m, VMXSIM_EV_XLATE)) trace_hit(m, la, acc, t);
            return VX_XL_OK;
        }
        /* A cached translation that does not allow the access is dropped
         * and the tables are walked again: the access then succeeds or
         * faults as the paging structures say now (4.10.4.3 lets a
         * processor do either; Bochs and recent Intel cores re-walk). */
        if (t) vx_tlb_remove(tlb, t);
    }
    vx_walk_log log;
    log.n = 0;
    int traced = vx_ev_wanted(m, VMXSIM_EV_XLATE);
    int logged = traced || m->mmu.tlb_off;
    vx_xl_status st = walk_with(m, &pg, la, acc, x, logged ? &log : NULL);
    /* --tlb off: the tables this walk read are watched, so that a write
     * to them drops every translation the engine still holds (mmu.c). */
    if (m->mmu.tlb_off && !m->mmu.table_step)
        for (unsigned i = 0; i < log.n; i++)
            if (log.ref[i].reg == 0) vx_mmu_watch_table(m, log.ref[i].hpa);
    m->mmu.walks++;
    m->mmu.walk_refs += traced ? log.n : 0;
    vx_cyc_walk(m, x, 0);
    if (traced) trace_walk(m, la, acc, x, &log, &pg, &tag);
    if (st == VX_XL_OK && !m->mmu.tlb_off) vx_tlb_insert(tlb, &tag, la, x);
    /* A page fault invalidates the translations of its page (4.10.4.1). */
    if (st == VX_XL_PF) vx_mmu_inv_page(m, tag.vpid, la);
    return st;
}

/* ---- invalidation: the model's TLB and the engine's shadow of it ---- */

void vx_mmu_inv_page(vmxsim *m, uint16_t vpid, uint64_t la)
{
    vx_tlb_flush_page(&m->mmu.tlb, vpid, la);
    if (vpid == vx_xl_tag(m).vpid) vx_mmu_invalidate_page(m, la);
}

void vx_mmu_inv_pcid(vmxsim *m, uint16_t vpid, uint16_t pcid)
{
    vx_tlb_flush_pcid(&m->mmu.tlb, vpid, pcid);
    if (vpid == vx_xl_tag(m).vpid) vx_mmu_invalidate_nonglobal(m);
}

void vx_mmu_inv_vpid(vmxsim *m, uint16_t vpid, int keep_global)
{
    vx_tlb_flush_vpid(&m->mmu.tlb, vpid, keep_global);
    if (vpid == vx_xl_tag(m).vpid) {
        if (keep_global) vx_mmu_invalidate_nonglobal(m);
        else vx_mmu_invalidate_all(m);
    }
}

void vx_mmu_inv_all_vpids(vmxsim *m)
{
    vx_tlb_flush_all_vpids(&m->mmu.tlb);
    if (vx_xl_tag(m).vpid) vx_mmu_invalidate_all(m);
}

void vx_mmu_inv_ept(vmxsim *m, uint64_t eptp_or_all)
{
    uint64_t rta = eptp_or_all == UINT64_MAX ? UINT64_MAX : eptrta(eptp_or_all);
    vx_tlb_flush_ept(&m->mmu.tlb, rta);
    vx_tlb_tag t = vx_xl_tag(m);
    if (t.ept && (rta == UINT64_MAX || rta == t.eptrta)) vx_mmu_invalidate_all(m);
}
