/*
 * test_entry_checks.c - the VM-entry checks (vmcs/entry_checks.c).
 *
 * A hand-built Ice Lake server profile (the values of the icelake-server
 * capability MSRs, so the test does not depend on profile files) and a
 * VMCS with a valid 64-bit host and a valid 64-bit guest that passes every
 * check.  Then one case per check id: a mutation that breaks exactly that
 * rule, and the exact id, class, first field and exit qualification it
 * must report.  Every id of entry_checks.def must have a case or be in the
 * short list of ids this model can never reach, with the reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmcs/controls.h"
#include "../vmcs/entry_checks.h"

/* ---- Memory ------------------------------------------------------------- */

#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];

static int read_mem(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return -1;
    memcpy(buf, mem + pa, len);
    return 0;
}

static void poke64(uint64_t pa, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        mem[pa + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

static void poke32(uint64_t pa, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        mem[pa + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

/* ---- Addresses of the test world ---------------------------------------- */

enum {
    VMXON_PTR = 0x10000, CUR_VMCS = 0x11000, LINK_REGION = 0x12000,
    CR3_TABLE = 0x20000, VAPIC = 0x30000, APIC_ACCESS = 0x31000,
};
#define REVISION 4u
#define EPTP_OK 0x4001eull          /* WB, 4-level walk, at 0x40000 */
#define PAT_OK 0x0007040600070406ull
#define HI47 (1ull << 47)          /* not canonical with 48-bit addresses */
#define PA46 (1ull << 46)          /* beyond MAXPHYADDR 46 */

/* ---- The profile -------------------------------------------------------- */

static void set_msr(vx_profile *p, uint32_t msr, uint64_t v)
{
    p->vmx_msr[msr - VX_VMX_MSR_FIRST] = v;
    p->vmx_msr_present |= 1u << (msr - VX_VMX_MSR_FIRST);
}

static void add_cpuid(vx_profile *p, uint32_t leaf, uint32_t eax, uint32_t ebx,
                      uint32_t ecx, uint32_t edx)
{
    vx_cpuid_leaf *l = &p->cpuid[p->ncpuid++];
    *l = (vx_cpuid_leaf){ leaf, 0, 0, eax, ebx, ecx, edx };
}

/* Ice Lake server: IA32_VMX_* 0x480-0x491 as the icelake-server profile
 * has them, MAXPHYADDR 46, CPUID with VMX, NX/LM, RTM, 8 general-purpose
 * and 4 fixed counters; no SGX, no 5-level paging. */
static void icelake(vx_profile *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "test-icelake-server");
    p->maxphyaddr = 46;
    set_msr(p, VX_MSR_VMX_BASIC, 0x00da040000000004ull);
    set_msr(p, VX_MSR_VMX_PINBASED_CTLS, 0x000000ff00000016ull);
    set_msr(p, VX_MSR_VMX_PROCBASED_CTLS, 0xfff9fffe0401e172ull);
    set_msr(p, VX_MSR_VMX_EXIT_CTLS, 0x003fffff00036dffull);
    set_msr(p, VX_MSR_VMX_ENTRY_CTLS, 0x0000f3ff000011ffull);
    set_msr(p, VX_MSR_VMX_MISC, 0x7004c1e7ull);
    set_msr(p, VX_MSR_VMX_CR0_FIXED0, 0x80000021ull);
    set_msr(p, VX_MSR_VMX_CR0_FIXED1, 0xffffffffull);
    set_msr(p, VX_MSR_VMX_CR4_FIXED0, 0x2000ull);
    set_msr(p, VX_MSR_VMX_CR4_FIXED1, 0x3767ffull);
    set_msr(p, VX_MSR_VMX_VMCS_ENUM, 0x2eull);
    set_msr(p, VX_MSR_VMX_PROCBASED_CTLS2, 0x005ffcff00000000ull | 0x0003ffff00000000ull);
    set_msr(p, VX_MSR_VMX_EPT_VPID_CAP, 0xf0106f34141ull);
    set_msr(p, VX_MSR_VMX_TRUE_PINBASED_CTLS, 0xff00000016ull);
    set_msr(p, VX_MSR_VMX_TRUE_PROCBASED_CTLS, 0xfff9fffe04006172ull);
    set_msr(p, VX_MSR_VMX_TRUE_EXIT_CTLS, 0x003fffff00036dfbull);
    set_msr(p, VX_MSR_VMX_TRUE_ENTRY_CTLS, 0x0000f3ff000011fbull);
    set_msr(p, VX_MSR_VMX_VMFUNC, 1);
    add_cpuid(p, 1, 0x606a6, 0, 1u << 5, 0);
    add_cpuid(p, 7, 0, 1u << 11, 0, 0);
    add_cpuid(p, 0xa, 0x08300805, 0, 0, 0x4);
    add_cpuid(p, 0x80000001u, 0, 0, 0, (1u << 20) | (1u << 29));
    add_cpuid(p, 0x80000008u, 0x302e, 0, 0, 0);
}

/* Let a 32-bit control be 1 (its allowed-1 half, TRUE_ MSR too). */
static void allow(vx_profile *p, uint32_t msr, uint32_t true_msr, uint32_t bits)
{
    p->vmx_msr[msr - VX_VMX_MSR_FIRST] |= (uint64_t)bits << 32;
    if (true_msr)
        p->vmx_msr[true_msr - VX_VMX_MSR_FIRST] |= (uint64_t)bits << 32;
}

static void allow_entry(vx_profile *p, uint32_t bits)
{
    allow(p, VX_MSR_VMX_ENTRY_CTLS, VX_MSR_VMX_TRUE_ENTRY_CTLS, bits);
}

static void allow_exit(vx_profile *p, uint32_t bits)
{
    allow(p, VX_MSR_VMX_EXIT_CTLS, VX_MSR_VMX_TRUE_EXIT_CTLS, bits);
}

/* ---- The world: profile, VMCS, environment ------------------------------ */

typedef struct world {
    vx_profile prof;
    vx_vmcs *v;
    vx_entry_env env;
} world;

#define PUT(w, f, x) vx_vmcs_put((w)->v, VX_ENC_##f, (uint64_t)(x))
#define GET(w, f) vx_vmcs_get((w)->v, VX_ENC_##f)

#define PIN0   0x16u
#define PROC0  (0x04006172u | VX_PROC_SECONDARY)
#define EXIT0  (0x36dfbu | VX_EXIT_CTL_HOST_ADDR_SPACE)
#define ENTRY0 (0x11fbu | VX_ENTRY_CTL_LOAD_DEBUG | VX_ENTRY_CTL_IA32E_GUEST)
#define CR0_64 0x80050033ull   /* PG, AM, WP, NE, ET, MP, PE */
#define CR4_64 0x2020ull       /* VMXE, PAE */

/* A valid 64-bit host and a valid 64-bit guest. */
static void build_valid(world *w)
{
    PUT(w, pin_based_vm_exec_control, PIN0);
    PUT(w, cpu_based_vm_exec_control, PROC0);
    PUT(w, secondary_vm_exec_control, 0);
    PUT(w, vm_exit_controls, EXIT0);
    PUT(w, vm_entry_controls, ENTRY0);
    PUT(w, vmcs_link_pointer, UINT64_MAX);

    PUT(w, host_cr0, CR0_64);
    PUT(w, host_cr3, CR3_TABLE);
    PUT(w, host_cr4, CR4_64);
    PUT(w, host_cs_selector, 0x08);
    PUT(w, host_ss_selector, 0x10);
    PUT(w, host_tr_selector, 0x18);
    PUT(w, host_tr_base, 0x4000);
    PUT(w, host_gdtr_base, 0x2000);
    PUT(w, host_idtr_base, 0x3000);
    PUT(w, host_rsp, 0x9000);
    PUT(w, host_rip, 0x5000);

    PUT(w, guest_cr0, CR0_64);
    PUT(w, guest_cr3, CR3_TABLE);
    PUT(w, guest_cr4, CR4_64);
    PUT(w, guest_dr7, 0x400);
    PUT(w, guest_cs_selector, 0x08);
    PUT(w, guest_cs_limit, 0xffffffff);
    PUT(w, guest_cs_ar_bytes, 0xa09b);     /* G, L, P, S, type 11 */
    static const uint32_t data_sel[] = { VX_ENC_guest_ss_selector, VX_ENC_guest_ds_selector,
        VX_ENC_guest_es_selector, VX_ENC_guest_fs_selector, VX_ENC_guest_gs_selector };
    static const uint32_t data_lim[] = { VX_ENC_guest_ss_limit, VX_ENC_guest_ds_limit,
        VX_ENC_guest_es_limit, VX_ENC_guest_fs_limit, VX_ENC_guest_gs_limit };
    static const uint32_t data_ar[] = { VX_ENC_guest_ss_ar_bytes, VX_ENC_guest_ds_ar_bytes,
        VX_ENC_guest_es_ar_bytes, VX_ENC_guest_fs_ar_bytes, VX_ENC_guest_gs_ar_bytes };
    for (int i = 0; i < 5; i++) {
        vx_vmcs_put(w->v, data_sel[i], 0x10);
        vx_vmcs_put(w->v, data_lim[i], 0xffffffff);
        vx_vmcs_put(w->v, data_ar[i], 0xc093);  /* G, D/B, P, S, type 3 */
    }
    PUT(w, guest_ldtr_ar_bytes, VX_AR_UNUSABLE);
    PUT(w, guest_tr_selector, 0x18);
    PUT(w, guest_tr_base, 0x4000);
    PUT(w, guest_tr_limit, 0x67);
    PUT(w, guest_tr_ar_bytes, 0x8b);       /* P, busy 64-bit TSS */
    PUT(w, guest_gdtr_base, 0x2000);
    PUT(w, guest_gdtr_limit, 0x27);
    PUT(w, guest_idtr_base, 0x3000);
    PUT(w, guest_idtr_limit, 0xfff);
    PUT(w, guest_rip, 0x5000);
    PUT(w, guest_rsp, 0x9000);
    PUT(w, guest_rflags, 0x2);
}

static void world_init(world *w)
{
    memset(mem, 0, sizeof mem);
    memset(w, 0, sizeof *w);
    icelake(&w->prof);
    w->v = vx_vmcs_new(CUR_VMCS);
    ck_assert_ptr_nonnull(w->v);
    build_valid(w);
    w->env.prof = &w->prof;
    w->env.vmcs = w->v;
    w->env.cr0 = CR0_64;
    w->env.cr4 = CR4_64;
    w->env.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    w->env.read_phys = read_mem;
    w->env.vmxon_ptr = VMXON_PTR;
    w->env.current_vmcs_ptr = CUR_VMCS;
}

static void world_free(world *w)
{
    vx_vmcs_free(w->v);
    w->v = NULL;
}

/* Controls, then host, then guest: the first failure, or 0. */
static int run_checks(world *w, vx_entry_failure *f, uint64_t pdpte[4])
{
    if (vx_entry_check_controls(&w->env, f))
        return -1;
    if (vx_entry_check_host(&w->env, f))
        return -1;
    return vx_entry_check_guest(&w->env, f, pdpte);
}

/* ---- Mutations used by several cases ------------------------------------ */

static void use_ept(world *w)
{
    PUT(w, secondary_vm_exec_control, GET(w, secondary_vm_exec_control) | VX_PROC2_EPT);
    PUT(w, ept_pointer, EPTP_OK);
}

static void unrestricted(world *w)
{
    use_ept(w);
    PUT(w, secondary_vm_exec_control,
        GET(w, secondary_vm_exec_control) | VX_PROC2_UNRESTRICTED);
}

/* A 32-bit guest (not IA-32e mode), still paging with PAE. */
static void guest32(world *w)
{
    PUT(w, vm_entry_controls, ENTRY0 & ~VX_ENTRY_CTL_IA32E_GUEST);
    PUT(w, guest_cs_ar_bytes, 0xc09b);
}

/* A 32-bit guest with PAE paging; the PDPT at CR3 holds 4 valid entries. */
static void pae32(world *w)
{
    guest32(w);
    for (int i = 0; i < 4; i++)
        poke64(CR3_TABLE + 8u * (unsigned)i, 0x100001ull + 0x1000ull * (unsigned)i);
}

/* A virtual-8086 guest: 32-bit paging (no PAE), RFLAGS.VM, every segment
 * with base = selector * 16, limit FFFFH, access rights F3H. */
static void v86(world *w)
{
    guest32(w);
    PUT(w, guest_cr4, 0x2000);
    PUT(w, guest_rflags, 0x20002);
    static const uint32_t sel[] = { VX_ENC_guest_cs_selector, VX_ENC_guest_ss_selector,
        VX_ENC_guest_ds_selector, VX_ENC_guest_es_selector, VX_ENC_guest_fs_selector,
        VX_ENC_guest_gs_selector };
    for (int i = 0; i < 6; i++) {
        uint32_t s = sel[i];   /* selector 0x800 + 2i; limit +0x4000; AR +0x4014; base +0x6006 */
        uint64_t selv = 0x1000u + 0x100u * (unsigned)i;
        vx_vmcs_put(w->v, s, selv);
        vx_vmcs_put(w->v, s + 0x6006, selv << 4);
        vx_vmcs_put(w->v, s + 0x4000, 0xffff);
        vx_vmcs_put(w->v, s + 0x4014, VX_AR_V86);
    }
}

static void ldtr_usable(world *w)
{
    PUT(w, guest_ldtr_selector, 0x28);
    PUT(w, guest_ldtr_limit, 0xff);
    PUT(w, guest_ldtr_ar_bytes, 0x82);     /* P, LDT */
}

static void tpr_shadow(world *w)
{
    PUT(w, cpu_based_vm_exec_control, GET(w, cpu_based_vm_exec_control) | VX_PROC_TPR_SHADOW);
    PUT(w, virtual_apic_page_addr, VAPIC);
}

static void posted_base(world *w)
{
    tpr_shadow(w);
    PUT(w, pin_based_vm_exec_control, PIN0 | VX_PIN_POSTED_INTR | VX_PIN_EXT_INT_EXITING);
    PUT(w, secondary_vm_exec_control, VX_PROC2_VID);
}

static void posted_ack(world *w)
{
    posted_base(w);
    PUT(w, vm_exit_controls, EXIT0 | VX_EXIT_CTL_ACK_INTR);
    PUT(w, posted_intr_nv, 0xf2);
    PUT(w, posted_intr_desc_addr, 0x35000);
}

static void vtpr_4(world *w)
{
    tpr_shadow(w);
    mem[VAPIC + 0x80] = 0x40;
}

static void eptcap_no_ad(world *w)
{
    use_ept(w);
    w->prof.vmx_msr[VX_MSR_VMX_EPT_VPID_CAP - VX_VMX_MSR_FIRST] &= ~(1ull << VX_EPTCAP_AD_BIT);
}

static void eptcap_no_sss(world *w)
{
    use_ept(w);
    w->prof.vmx_msr[VX_MSR_VMX_EPT_VPID_CAP - VX_VMX_MSR_FIRST] &= ~(1ull << VX_EPTCAP_SSS_BIT);
}

static void allow_spp(world *w)
{
    allow(&w->prof, VX_MSR_VMX_PROCBASED_CTLS2, 0, VX_PROC2_SPP);
}

static void tertiary(world *w)
{
    allow(&w->prof, VX_MSR_VMX_PROCBASED_CTLS, VX_MSR_VMX_TRUE_PROCBASED_CTLS, VX_PROC_TERTIARY);
    set_msr(&w->prof, VX_MSR_VMX_PROCBASED_CTLS3, VX_PROC3_IPI_VIRT);
}

static void exit2(world *w)
{
    allow_exit(&w->prof, VX_EXIT_CTL_SECONDARY);
    set_msr(&w->prof, VX_MSR_VMX_EXIT_CTLS2, 0x3);
}

/* The stand-in EXIT MSR allows bits 21:0 only. */
static void allow_save_timer(world *w)
{
    allow_exit(&w->prof, VX_EXIT_CTL_SAVE_PREEMPT);
}

static void no_ilen0(world *w)
{
    w->prof.vmx_msr[VX_MSR_VMX_MISC - VX_VMX_MSR_FIRST] &= ~(1ull << VX_MISC_INJECT_ILEN0_BIT);
}

static void allow_smm(world *w)
{
    allow_entry(&w->prof, VX_ENTRY_CTL_ENTRY_SMM | VX_ENTRY_CTL_DEACT_DUAL);
}

static void cet_cr4(world *w)
{
    w->prof.vmx_msr[VX_MSR_VMX_CR4_FIXED1 - VX_VMX_MSR_FIRST] |= CR4_CET;
}

static void host_cet(world *w)
{
    allow_exit(&w->prof, VX_EXIT_CTL_LOAD_CET);
    PUT(w, vm_exit_controls, GET(w, vm_exit_controls) | VX_EXIT_CTL_LOAD_CET);
}

static void host_pkrs(world *w)
{
    allow_exit(&w->prof, VX_EXIT_CTL_LOAD_PKRS);
    PUT(w, vm_exit_controls, EXIT0 | VX_EXIT_CTL_LOAD_PKRS);
}

static void lma0(world *w)
{
    w->env.efer = EFER_SCE | EFER_NXE;
}

/* A 32-bit VMM (IA32_EFER.LMA = 0): 32-bit host and 32-bit guest. */
static void host32(world *w)
{
    lma0(w);
    guest32(w);
    PUT(w, vm_exit_controls, EXIT0 & ~VX_EXIT_CTL_HOST_ADDR_SPACE);
}

static void guest_entry(world *w, uint32_t bit)
{
    allow_entry(&w->prof, bit);
    PUT(w, vm_entry_controls, GET(w, vm_entry_controls) | bit);
}

static void guest_cet(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_CET); }
static void guest_bndcfgs(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_BNDCFGS); }
static void guest_rtit(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_RTIT); }
static void guest_lbr(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_LBR); }
static void guest_pkrs(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_PKRS); }
static void guest_uinv(world *w) { guest_entry(w, VX_ENTRY_CTL_LOAD_UINV); }

static void guest32_cet(world *w)
{
    guest32(w);
    guest_cet(w);
}

static void v86_ia32e(world *w)
{
    v86(w);
    PUT(w, vm_entry_controls, ENTRY0);
    PUT(w, guest_cr4, CR4_64);
}

static void v86_real(world *w)
{
    v86(w);
    unrestricted(w);
    PUT(w, guest_cr0, 0x30);    /* NE, ET: no PE, no PG */
}

static void ss_dpl3(world *w)
{
    PUT(w, guest_cs_selector, 0x0b);
    PUT(w, guest_cs_ar_bytes, 0xa0fb);
    PUT(w, guest_ss_selector, 0x13);
    PUT(w, guest_ss_ar_bytes, 0xc0f3);
}

static void no_rtm(world *w)
{
    for (int i = 0; i < w->prof.ncpuid; i++)
        if (w->prof.cpuid[i].leaf == 7)
            w->prof.cpuid[i].ebx &= ~(1u << 11);
}

static void link_region_ok(world *w)
{
    (void)w;
    poke32(LINK_REGION, REVISION);
}

static void link_region_shadow(world *w)
{
    (void)w;
    poke32(LINK_REGION, REVISION | 0x80000000u);
}

static void link_current(world *w)
{
    (void)w;
    poke32(CUR_VMCS, REVISION);
}

static void pae32_ept(world *w)
{
    pae32(w);
    use_ept(w);
    for (int i = 0; i < 4; i++)
        vx_vmcs_put(w->v, VX_ENC_guest_pdptr0 + 2u * (unsigned)i, 0x100001ull);
}

/* PDPTE n at CR3 sets reserved bit 1. */
static void pdpte_bad(world *w, int n)
{
    pae32(w);
    poke64(CR3_TABLE + 8u * (unsigned)n, 0x200003ull);
}
static void pdpte0_bad(world *w) { pdpte_bad(w, 0); }
static void pdpte1_bad(world *w) { pdpte_bad(w, 1); }
static void pdpte2_bad(world *w) { pdpte_bad(w, 2); }
static void pdpte3_bad(world *w) { pdpte_bad(w, 3); }

/* ---- The cases ---------------------------------------------------------- */

enum { OP_NONE, OP_SET, OP_OR, OP_CLR };
typedef struct op {
    uint32_t enc;
    uint64_t val;
    int op;
} op;

typedef struct tcase {
    int id;
    uint32_t field;      /* the first field the failure must name */
    uint64_t qual;       /* the exit qualification (GUEST checks) */
    void (*fix)(world *w);
    op ops[6];
} tcase;

#define ID(x) .id = VX_CHECK_##x
#define FLD(f) .field = VX_ENC_##f
#define SET(f, v) { VX_ENC_##f, (uint64_t)(v), OP_SET }
#define OR(f, v) { VX_ENC_##f, (uint64_t)(v), OP_OR }
#define CLR(f, v) { VX_ENC_##f, (uint64_t)(v), OP_CLR }

#define INFO(type, vec) (VX_INTR_INFO_VALID | ((uint32_t)(type) << 8) | (uint32_t)(vec))
#define EC VX_INTR_INFO_DELIVER_EC

static const tcase cases[] = {
    /* ---- 27.2.1.1 ---- */
    { ID(ctl_pin_reserved), FLD(pin_based_vm_exec_control), .ops = { SET(pin_based_vm_exec_control, 0) } },
    { ID(ctl_proc_reserved), FLD(cpu_based_vm_exec_control), .ops = { SET(cpu_based_vm_exec_control, VX_PROC_SECONDARY) } },
    { ID(ctl_proc2_reserved), FLD(secondary_vm_exec_control), .ops = { SET(secondary_vm_exec_control, VX_PROC2_PASID) } },
    { ID(ctl_proc3_reserved), FLD(tertiary_vm_exec_control), .fix = tertiary,
      .ops = { OR(cpu_based_vm_exec_control, VX_PROC_TERTIARY), SET(tertiary_vm_exec_control, VX_PROC3_LOADIWKEY) } },
    { ID(ctl_cr3_target_count), FLD(cr3_target_count), .ops = { SET(cr3_target_count, 5) } },
    { ID(ctl_io_bitmap_a), FLD(io_bitmap_a), .ops = { OR(cpu_based_vm_exec_control, VX_PROC_IO_BITMAPS),
      SET(io_bitmap_a, 0x32001), SET(io_bitmap_b, 0x33000) } },
    { ID(ctl_io_bitmap_b), FLD(io_bitmap_b), .ops = { OR(cpu_based_vm_exec_control, VX_PROC_IO_BITMAPS),
      SET(io_bitmap_a, 0x32000), SET(io_bitmap_b, PA46) } },
    { ID(ctl_msr_bitmap), FLD(msr_bitmap), .ops = { OR(cpu_based_vm_exec_control, VX_PROC_MSR_BITMAPS),
      SET(msr_bitmap, 0x34800) } },
    { ID(ctl_virtual_apic_addr), FLD(virtual_apic_page_addr), .ops = {
      OR(cpu_based_vm_exec_control, VX_PROC_TPR_SHADOW), SET(virtual_apic_page_addr, VAPIC + 0x10) } },
    { ID(ctl_tpr_threshold_reserved), FLD(tpr_threshold), .fix = tpr_shadow, .ops = { SET(tpr_threshold, 0x10) } },
    { ID(ctl_tpr_threshold_vtpr), FLD(tpr_threshold), .fix = vtpr_4, .ops = { SET(tpr_threshold, 5) } },
    { ID(ctl_virtual_nmis_need_nmi_exiting), FLD(pin_based_vm_exec_control), .ops = {
      OR(pin_based_vm_exec_control, VX_PIN_VIRTUAL_NMIS) } },
    { ID(ctl_nmi_window_needs_virtual_nmis), FLD(cpu_based_vm_exec_control), .ops = {
      OR(cpu_based_vm_exec_control, VX_PROC_NMI_WINDOW) } },
    { ID(ctl_apic_access_addr), FLD(apic_access_addr), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VIRT_APIC_ACCESS), SET(apic_access_addr, APIC_ACCESS + 1) } },
    { ID(ctl_x2apic_needs_tpr_shadow), FLD(secondary_vm_exec_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_X2APIC_MODE) } },
    { ID(ctl_apic_reg_virt_needs_tpr_shadow), FLD(secondary_vm_exec_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_APIC_REG_VIRT) } },
    { ID(ctl_vid_needs_tpr_shadow), FLD(secondary_vm_exec_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VID) } },
    { ID(ctl_x2apic_and_apic_access), FLD(secondary_vm_exec_control), .fix = tpr_shadow, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_X2APIC_MODE | VX_PROC2_VIRT_APIC_ACCESS),
      SET(apic_access_addr, APIC_ACCESS) } },
    { ID(ctl_vid_needs_ext_int_exiting), FLD(secondary_vm_exec_control), .fix = tpr_shadow, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VID) } },
    { ID(ctl_posted_needs_vid), FLD(pin_based_vm_exec_control), .ops = {
      OR(pin_based_vm_exec_control, VX_PIN_POSTED_INTR) } },
    { ID(ctl_posted_needs_ack_on_exit), FLD(pin_based_vm_exec_control), .fix = posted_base },
    { ID(ctl_posted_vector), FLD(posted_intr_nv), .fix = posted_ack, .ops = { SET(posted_intr_nv, 0x1f2) } },
    { ID(ctl_posted_desc_addr), FLD(posted_intr_desc_addr), .fix = posted_ack, .ops = {
      SET(posted_intr_desc_addr, 0x35020) } },
    { ID(ctl_vpid_zero), FLD(virtual_processor_id), .ops = { OR(secondary_vm_exec_control, VX_PROC2_VPID) } },
    { ID(ctl_eptp_memtype), FLD(ept_pointer), .fix = use_ept, .ops = { SET(ept_pointer, 0x40019) } },
    { ID(ctl_eptp_walk_length), FLD(ept_pointer), .fix = use_ept, .ops = { SET(ept_pointer, 0x40026) } },
    { ID(ctl_eptp_ad), FLD(ept_pointer), .fix = eptcap_no_ad, .ops = { SET(ept_pointer, EPTP_OK | VX_EPTP_AD) } },
    { ID(ctl_eptp_sss), FLD(ept_pointer), .fix = eptcap_no_sss, .ops = { SET(ept_pointer, EPTP_OK | VX_EPTP_SSS) } },
    { ID(ctl_eptp_reserved), FLD(ept_pointer), .fix = use_ept, .ops = { SET(ept_pointer, EPTP_OK | 0x100) } },
    { ID(ctl_pml_needs_ept), FLD(secondary_vm_exec_control), .ops = { OR(secondary_vm_exec_control, VX_PROC2_PML) } },
    { ID(ctl_pml_addr), FLD(pml_address), .fix = use_ept, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_PML), SET(pml_address, 0x36008) } },
    { ID(ctl_unrestricted_needs_ept), FLD(secondary_vm_exec_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_UNRESTRICTED) } },
    { ID(ctl_mbec_needs_ept), FLD(secondary_vm_exec_control), .ops = { OR(secondary_vm_exec_control, VX_PROC2_MBEC) } },
    { ID(ctl_spp_needs_ept), FLD(secondary_vm_exec_control), .fix = allow_spp, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_SPP) } },
    { ID(ctl_spptp), FLD(sub_page_permission_table_pointer), .fix = allow_spp, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_SPP | VX_PROC2_EPT), SET(ept_pointer, EPTP_OK),
      SET(sub_page_permission_table_pointer, 0x37800) } },
    { ID(ctl_vmfunc_reserved), FLD(vm_function_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VMFUNC), SET(vm_function_control, 2) } },
    { ID(ctl_eptp_switching_needs_ept), FLD(vm_function_control), .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VMFUNC), SET(vm_function_control, VX_VMFUNC_EPTP_SWITCHING) } },
    { ID(ctl_eptp_list_addr), FLD(eptp_list_address), .fix = use_ept, .ops = {
      OR(secondary_vm_exec_control, VX_PROC2_VMFUNC), SET(vm_function_control, VX_VMFUNC_EPTP_SWITCHING),
      SET(eptp_list_address, 1ull << 50) } },
    { ID(ctl_vmread_bitmap), FLD(vmread_bitmap), .ops = { OR(secondary_vm_exec_control, VX_PROC2_SHADOW_VMCS),
      SET(vmread_bitmap, 0x38004), SET(vmwrite_bitmap, 0x39000) } },
    { ID(ctl_vmwrite_bitmap), FLD(vmwrite_bitmap), .ops = { OR(secondary_vm_exec_control, VX_PROC2_SHADOW_VMCS),
      SET(vmread_bitmap, 0x38000), SET(vmwrite_bitmap, 0x39004) } },
    { ID(ctl_ve_info_addr), FLD(ve_information_address), .ops = { OR(secondary_vm_exec_control, VX_PROC2_EPT_VE),
      SET(ve_information_address, 0x3a001) } },
    /* ---- 27.2.1.2 ---- */
    { ID(ctl_exit_reserved), FLD(vm_exit_controls), .ops = { SET(vm_exit_controls, 0) } },
    { ID(ctl_exit2_reserved), FLD(secondary_vm_exit_controls), .fix = exit2, .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_SECONDARY), SET(secondary_vm_exit_controls, 4) } },
    { ID(ctl_save_timer_needs_timer), FLD(vm_exit_controls), .fix = allow_save_timer, .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_SAVE_PREEMPT) } },
    { ID(ctl_exit_msr_store_addr), FLD(vm_exit_msr_store_addr), .ops = {
      SET(vm_exit_msr_store_count, 1), SET(vm_exit_msr_store_addr, 0x3b008) } },
    { ID(ctl_exit_msr_store_end), FLD(vm_exit_msr_store_addr), .ops = {
      SET(vm_exit_msr_store_count, 9), SET(vm_exit_msr_store_addr, PA46 - 0x80) } },
    { ID(ctl_exit_msr_load_addr), FLD(vm_exit_msr_load_addr), .ops = {
      SET(vm_exit_msr_load_count, 1), SET(vm_exit_msr_load_addr, 0x3b004) } },
    { ID(ctl_exit_msr_load_end), FLD(vm_exit_msr_load_addr), .ops = {
      SET(vm_exit_msr_load_count, 2), SET(vm_exit_msr_load_addr, PA46 - 0x10) } },
    /* ---- 27.2.1.3 ---- */
    { ID(ctl_entry_reserved), FLD(vm_entry_controls), .ops = { OR(vm_entry_controls, 1u << 16) } },
    { ID(ctl_event_type), FLD(vm_entry_intr_info_field), .ops = { SET(vm_entry_intr_info_field, INFO(1, 0x20)) } },
    { ID(ctl_event_vector), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 3)) } },
    { ID(ctl_event_ec_missing), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 13)) } },
    { ID(ctl_event_ec_not_hw), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 2) | EC) } },
    { ID(ctl_event_ec_pe), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 13) | EC), CLR(guest_cr0, CR0_PE) } },
    { ID(ctl_event_ec_vector), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 6) | EC) } },
    { ID(ctl_event_reserved), FLD(vm_entry_intr_info_field), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_EXT_INT, 0x20) | (1u << 12)) } },
    { ID(ctl_event_ec_reserved), FLD(vm_entry_exception_error_code), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 13) | EC),
      SET(vm_entry_exception_error_code, 0x10000) } },
    { ID(ctl_event_ilen), FLD(vm_entry_instruction_len), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_SW_INT, 0x80)), SET(vm_entry_instruction_len, 16) } },
    { ID(ctl_event_ilen_zero), FLD(vm_entry_instruction_len), .fix = no_ilen0, .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_SW_XCPT, 3)), SET(vm_entry_instruction_len, 0) } },
    { ID(ctl_entry_msr_load_addr), FLD(vm_entry_msr_load_addr), .ops = {
      SET(vm_entry_msr_load_count, 2), SET(vm_entry_msr_load_addr, 0x3c001) } },
    { ID(ctl_entry_msr_load_end), FLD(vm_entry_msr_load_addr), .ops = {
      SET(vm_entry_msr_load_count, 8), SET(vm_entry_msr_load_addr, PA46 - 0x70) } },
    { ID(ctl_entry_smm_outside_smm), FLD(vm_entry_controls), .fix = allow_smm, .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_ENTRY_SMM) } },
    { ID(ctl_entry_dual_outside_smm), FLD(vm_entry_controls), .fix = allow_smm, .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_DEACT_DUAL) } },

    /* ---- 27.2.2 ---- */
    { ID(host_cr0_fixed0), FLD(host_cr0), .ops = { CLR(host_cr0, CR0_PE) } },
    { ID(host_cr0_fixed1), FLD(host_cr0), .ops = { OR(host_cr0, 1ull << 32) } },
    { ID(host_cr4_fixed0), FLD(host_cr4), .ops = { CLR(host_cr4, CR4_VMXE) } },
    { ID(host_cr4_fixed1), FLD(host_cr4), .ops = { OR(host_cr4, CR4_LA57) } },
    { ID(host_cr3_width), FLD(host_cr3), .ops = { SET(host_cr3, PA46) } },
    { ID(host_cet_needs_wp), FLD(host_cr4), .fix = cet_cr4, .ops = {
      OR(host_cr4, CR4_CET), CLR(host_cr0, CR0_WP) } },
    { ID(host_sysenter_esp_canonical), FLD(host_ia32_sysenter_esp), .ops = { SET(host_ia32_sysenter_esp, HI47) } },
    { ID(host_sysenter_eip_canonical), FLD(host_ia32_sysenter_eip), .ops = { SET(host_ia32_sysenter_eip, HI47) } },
    { ID(host_s_cet_canonical), FLD(host_s_cet), .fix = host_cet, .ops = { SET(host_s_cet, HI47) } },
    { ID(host_isst_canonical), FLD(host_intr_ssp_table), .fix = host_cet, .ops = { SET(host_intr_ssp_table, HI47) } },
    { ID(host_s_cet_reserved), FLD(host_s_cet), .fix = host_cet, .ops = { SET(host_s_cet, 0x40) } },
    { ID(host_s_cet_suppress_wait), FLD(host_s_cet), .fix = host_cet, .ops = { SET(host_s_cet, 0xc00) } },
    { ID(host_perf_global_reserved), FLD(host_ia32_perf_global_ctrl), .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_LOAD_PERF_GLOBAL), SET(host_ia32_perf_global_ctrl, 1ull << 20) } },
    { ID(host_pat), FLD(host_ia32_pat), .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_LOAD_PAT), SET(host_ia32_pat, (PAT_OK & ~0xffull) | 2) } },
    { ID(host_efer_reserved), FLD(host_ia32_efer), .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_LOAD_EFER), SET(host_ia32_efer, 0xd03) } },
    { ID(host_efer_lma), FLD(host_ia32_efer), .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_LOAD_EFER), SET(host_ia32_efer, 0x101) } },
    { ID(host_efer_lme), FLD(host_ia32_efer), .ops = {
      OR(vm_exit_controls, VX_EXIT_CTL_LOAD_EFER), SET(host_ia32_efer, 0x401) } },
    { ID(host_pkrs_reserved), FLD(host_ia32_pkrs), .fix = host_pkrs, .ops = { SET(host_ia32_pkrs, 1ull << 32) } },
    { ID(host_ssp_align), FLD(host_ssp), .fix = host_cet, .ops = { SET(host_ssp, 0x1002) } },
    { ID(host_ssp_high), FLD(host_ssp), .fix = host_cet, .ops = {
      CLR(vm_exit_controls, VX_EXIT_CTL_HOST_ADDR_SPACE), SET(host_ssp, 1ull << 32) } },
    { ID(host_ssp_canonical), FLD(host_ssp), .fix = host_cet, .ops = { SET(host_ssp, HI47) } },
    /* ---- 27.2.3 ---- */
    { ID(host_cs_sel), FLD(host_cs_selector), .ops = { SET(host_cs_selector, 0x0b) } },
    { ID(host_ss_sel), FLD(host_ss_selector), .ops = { SET(host_ss_selector, 0x13) } },
    { ID(host_ds_sel), FLD(host_ds_selector), .ops = { SET(host_ds_selector, 0x4) } },
    { ID(host_es_sel), FLD(host_es_selector), .ops = { SET(host_es_selector, 0x1) } },
    { ID(host_fs_sel), FLD(host_fs_selector), .ops = { SET(host_fs_selector, 0x2) } },
    { ID(host_gs_sel), FLD(host_gs_selector), .ops = { SET(host_gs_selector, 0x3) } },
    { ID(host_tr_sel), FLD(host_tr_selector), .ops = { SET(host_tr_selector, 0x1c) } },
    { ID(host_cs_sel_null), FLD(host_cs_selector), .ops = { SET(host_cs_selector, 0) } },
    { ID(host_tr_sel_null), FLD(host_tr_selector), .ops = { SET(host_tr_selector, 0) } },
    { ID(host_ss_sel_null), FLD(host_ss_selector), .ops = {
      CLR(vm_exit_controls, VX_EXIT_CTL_HOST_ADDR_SPACE), SET(host_ss_selector, 0) } },
    { ID(host_fs_base_canonical), FLD(host_fs_base), .ops = { SET(host_fs_base, HI47) } },
    { ID(host_gs_base_canonical), FLD(host_gs_base), .ops = { SET(host_gs_base, HI47) } },
    { ID(host_gdtr_base_canonical), FLD(host_gdtr_base), .ops = { SET(host_gdtr_base, HI47) } },
    { ID(host_idtr_base_canonical), FLD(host_idtr_base), .ops = { SET(host_idtr_base, HI47) } },
    { ID(host_tr_base_canonical), FLD(host_tr_base), .ops = { SET(host_tr_base, HI47) } },
    /* ---- 27.2.4 ---- */
    { ID(host_lma0_guest_ia32e), FLD(vm_entry_controls), .fix = lma0 },
    { ID(host_lma0_host_size), FLD(vm_exit_controls), .fix = lma0, .ops = {
      CLR(vm_entry_controls, VX_ENTRY_CTL_IA32E_GUEST) } },
    { ID(host_lma1_host_size), FLD(vm_exit_controls), .ops = { CLR(vm_exit_controls, VX_EXIT_CTL_HOST_ADDR_SPACE) } },
    { ID(host_size0_cr4_pcide), FLD(host_cr4), .fix = host32, .ops = { OR(host_cr4, CR4_PCIDE) } },
    { ID(host_size0_rip_high), FLD(host_rip), .fix = host32, .ops = { SET(host_rip, 1ull << 32) } },
    { ID(host_size1_cr4_pae), FLD(host_cr4), .ops = { CLR(host_cr4, CR4_PAE) } },
    { ID(host_size1_rip_canonical), FLD(host_rip), .ops = { SET(host_rip, HI47) } },

    /* ---- 27.3.1.1 ---- */
    { ID(guest_cr0_fixed0), FLD(guest_cr0), .ops = { CLR(guest_cr0, CR0_NE) } },
    { ID(guest_cr0_fixed1), FLD(guest_cr0), .ops = { OR(guest_cr0, 1ull << 32) } },
    { ID(guest_cr0_pg_pe), FLD(guest_cr0), .fix = unrestricted, .ops = { CLR(guest_cr0, CR0_PE) } },
    { ID(guest_cr4_fixed0), FLD(guest_cr4), .ops = { CLR(guest_cr4, CR4_VMXE) } },
    { ID(guest_cr4_fixed1), FLD(guest_cr4), .ops = { OR(guest_cr4, CR4_LA57) } },
    { ID(guest_cet_needs_wp), FLD(guest_cr4), .fix = cet_cr4, .ops = {
      OR(guest_cr4, CR4_CET), CLR(guest_cr0, CR0_WP) } },
    { ID(guest_debugctl_reserved), FLD(guest_ia32_debugctl), .ops = { SET(guest_ia32_debugctl, 1u << 3) } },
    { ID(guest_ia32e_cr0_pg), FLD(guest_cr0), .fix = unrestricted, .ops = { CLR(guest_cr0, CR0_PG) } },
    { ID(guest_ia32e_cr4_pae), FLD(guest_cr4), .ops = { CLR(guest_cr4, CR4_PAE) } },
    { ID(guest_cr4_pcide), FLD(guest_cr4), .fix = guest32, .ops = { OR(guest_cr4, CR4_PCIDE) } },
    { ID(guest_cr3_width), FLD(guest_cr3), .ops = { SET(guest_cr3, PA46) } },
    { ID(guest_dr7_high), FLD(guest_dr7), .ops = { SET(guest_dr7, (1ull << 32) | 0x400) } },
    { ID(guest_sysenter_esp_canonical), FLD(guest_sysenter_esp), .ops = { SET(guest_sysenter_esp, HI47) } },
    { ID(guest_sysenter_eip_canonical), FLD(guest_sysenter_eip), .ops = { SET(guest_sysenter_eip, HI47) } },
    { ID(guest_s_cet_canonical), FLD(guest_s_cet), .fix = guest_cet, .ops = { SET(guest_s_cet, HI47) } },
    { ID(guest_isst_canonical), FLD(guest_intr_ssp_table), .fix = guest_cet, .ops = { SET(guest_intr_ssp_table, HI47) } },
    { ID(guest_s_cet_reserved), FLD(guest_s_cet), .fix = guest_cet, .ops = { SET(guest_s_cet, 0x80) } },
    { ID(guest_s_cet_suppress_wait), FLD(guest_s_cet), .fix = guest_cet, .ops = { SET(guest_s_cet, 0xc00) } },
    { ID(guest_perf_global_reserved), FLD(guest_ia32_perf_global_ctrl), .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_LOAD_PERF_GLOBAL), SET(guest_ia32_perf_global_ctrl, 1ull << 36) } },
    { ID(guest_pat), FLD(guest_ia32_pat), .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_LOAD_PAT), SET(guest_ia32_pat, PAT_OK | (3ull << 56)) } },
    { ID(guest_efer_reserved), FLD(guest_ia32_efer), .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_LOAD_EFER), SET(guest_ia32_efer, 0xd01 | (1u << 9)) } },
    { ID(guest_efer_lma), FLD(guest_ia32_efer), .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_LOAD_EFER), SET(guest_ia32_efer, 0x901) } },
    { ID(guest_efer_lme), FLD(guest_ia32_efer), .ops = {
      OR(vm_entry_controls, VX_ENTRY_CTL_LOAD_EFER), SET(guest_ia32_efer, 0xc01) } },
    { ID(guest_bndcfgs_reserved), FLD(guest_bndcfgs), .fix = guest_bndcfgs, .ops = { SET(guest_bndcfgs, 4) } },
    { ID(guest_bndcfgs_canonical), FLD(guest_bndcfgs), .fix = guest_bndcfgs, .ops = {
      SET(guest_bndcfgs, HI47 | 1) } },
    { ID(guest_rtit_ctl_reserved), FLD(guest_ia32_rtit_ctl), .fix = guest_rtit, .ops = {
      SET(guest_ia32_rtit_ctl, 1u << 18) } },
    { ID(guest_lbr_ctl_reserved), FLD(guest_ia32_lbr_ctl), .fix = guest_lbr, .ops = { SET(guest_ia32_lbr_ctl, 1u << 4) } },
    { ID(guest_pkrs_reserved), FLD(guest_ia32_pkrs), .fix = guest_pkrs, .ops = { SET(guest_ia32_pkrs, 1ull << 32) } },

    /* ---- 27.3.1.2 selectors ---- */
    { ID(guest_tr_sel_ti), FLD(guest_tr_selector), .ops = { SET(guest_tr_selector, 0x1c) } },
    { ID(guest_ldtr_sel_ti), FLD(guest_ldtr_selector), .fix = ldtr_usable, .ops = { SET(guest_ldtr_selector, 0x2c) } },
    { ID(guest_ss_rpl_cs), FLD(guest_ss_selector), .ops = { SET(guest_ss_selector, 0x13) } },
    /* bases */
    { ID(guest_cs_base_v86), FLD(guest_cs_base), .fix = v86, .ops = { SET(guest_cs_base, 0x10001) } },
    { ID(guest_ss_base_v86), FLD(guest_ss_base), .fix = v86, .ops = { SET(guest_ss_base, 0) } },
    { ID(guest_ds_base_v86), FLD(guest_ds_base), .fix = v86, .ops = { SET(guest_ds_base, 0x1200) } },
    { ID(guest_es_base_v86), FLD(guest_es_base), .fix = v86, .ops = { SET(guest_es_base, 0x13001) } },
    { ID(guest_fs_base_v86), FLD(guest_fs_base), .fix = v86, .ops = { SET(guest_fs_base, 0x140000) } },
    { ID(guest_gs_base_v86), FLD(guest_gs_base), .fix = v86, .ops = { SET(guest_gs_base, 0x14000) } },
    { ID(guest_tr_base_canonical), FLD(guest_tr_base), .ops = { SET(guest_tr_base, HI47) } },
    { ID(guest_fs_base_canonical), FLD(guest_fs_base), .ops = { SET(guest_fs_base, HI47) } },
    { ID(guest_gs_base_canonical), FLD(guest_gs_base), .ops = { SET(guest_gs_base, HI47) } },
    { ID(guest_ldtr_base_canonical), FLD(guest_ldtr_base), .fix = ldtr_usable, .ops = { SET(guest_ldtr_base, HI47) } },
    { ID(guest_cs_base_high), FLD(guest_cs_base), .ops = { SET(guest_cs_base, 1ull << 32) } },
    { ID(guest_ss_base_high), FLD(guest_ss_base), .ops = { SET(guest_ss_base, 1ull << 32) } },
    { ID(guest_ds_base_high), FLD(guest_ds_base), .ops = { SET(guest_ds_base, 1ull << 32) } },
    { ID(guest_es_base_high), FLD(guest_es_base), .ops = { SET(guest_es_base, 1ull << 32) } },
    /* limits */
    { ID(guest_cs_limit_v86), FLD(guest_cs_limit), .fix = v86, .ops = { SET(guest_cs_limit, 0xfffe) } },
    { ID(guest_ss_limit_v86), FLD(guest_ss_limit), .fix = v86, .ops = { SET(guest_ss_limit, 0xffffffff) } },
    { ID(guest_ds_limit_v86), FLD(guest_ds_limit), .fix = v86, .ops = { SET(guest_ds_limit, 0) } },
    { ID(guest_es_limit_v86), FLD(guest_es_limit), .fix = v86, .ops = { SET(guest_es_limit, 0x1ffff) } },
    { ID(guest_fs_limit_v86), FLD(guest_fs_limit), .fix = v86, .ops = { SET(guest_fs_limit, 0xfff) } },
    { ID(guest_gs_limit_v86), FLD(guest_gs_limit), .fix = v86, .ops = { SET(guest_gs_limit, 0x7fff) } },
    /* access rights, virtual-8086 */
    { ID(guest_cs_ar_v86), FLD(guest_cs_ar_bytes), .fix = v86, .ops = { SET(guest_cs_ar_bytes, 0xfb) } },
    { ID(guest_ss_ar_v86), FLD(guest_ss_ar_bytes), .fix = v86, .ops = { SET(guest_ss_ar_bytes, 0x93) } },
    { ID(guest_ds_ar_v86), FLD(guest_ds_ar_bytes), .fix = v86, .ops = { SET(guest_ds_ar_bytes, 0xf3 | VX_AR_UNUSABLE) } },
    { ID(guest_es_ar_v86), FLD(guest_es_ar_bytes), .fix = v86, .ops = { SET(guest_es_ar_bytes, 0x40f3) } },
    { ID(guest_fs_ar_v86), FLD(guest_fs_ar_bytes), .fix = v86, .ops = { SET(guest_fs_ar_bytes, 0xf1) } },
    { ID(guest_gs_ar_v86), FLD(guest_gs_ar_bytes), .fix = v86, .ops = { SET(guest_gs_ar_bytes, 0x10f3) } },
    /* type */
    { ID(guest_cs_type), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa093) } },
    { ID(guest_ss_type), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_ar_bytes, 0xc09b) } },
    { ID(guest_ds_type_accessed), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0xc092) } },
    { ID(guest_ds_type_readable), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0xc099) } },
    { ID(guest_es_type_accessed), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0xc09a) } },
    { ID(guest_es_type_readable), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0xc09d) } },
    { ID(guest_fs_type_accessed), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0xc096) } },
    { ID(guest_fs_type_readable), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0xc099) } },
    { ID(guest_gs_type_accessed), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0xc090) } },
    { ID(guest_gs_type_readable), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0xc09d) } },
    /* S */
    { ID(guest_cs_s), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa08b) } },
    { ID(guest_ss_s), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_ar_bytes, 0xc083) } },
    { ID(guest_ds_s), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0xc083) } },
    { ID(guest_es_s), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0xc083) } },
    { ID(guest_fs_s), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0xc083) } },
    { ID(guest_gs_s), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0xc083) } },
    /* DPL */
    { ID(guest_cs_dpl_data), FLD(guest_cs_ar_bytes), .fix = unrestricted, .ops = { SET(guest_cs_ar_bytes, 0xc0f3) } },
    { ID(guest_cs_dpl_nonconforming), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa0bb) } },
    { ID(guest_cs_dpl_conforming), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa0ff) } },
    { ID(guest_ss_dpl_rpl), FLD(guest_ss_ar_bytes), .ops = {
      SET(guest_cs_ar_bytes, 0xa09f), SET(guest_ss_ar_bytes, 0xc0b3) } },
    { ID(guest_ss_dpl_zero), FLD(guest_ss_ar_bytes), .fix = unrestricted, .ops = {
      SET(guest_cs_ar_bytes, 0xc093), SET(guest_ss_ar_bytes, 0xc0f3) } },
    { ID(guest_ds_dpl_rpl), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_selector, 0x13) } },
    { ID(guest_es_dpl_rpl), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_selector, 0x11) } },
    { ID(guest_fs_dpl_rpl), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_selector, 0x12) } },
    { ID(guest_gs_dpl_rpl), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_selector, 0x13) } },
    /* P */
    { ID(guest_cs_p), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa01b) } },
    { ID(guest_ss_p), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_ar_bytes, 0xc013) } },
    { ID(guest_ds_p), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0xc013) } },
    { ID(guest_es_p), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0xc013) } },
    { ID(guest_fs_p), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0xc013) } },
    { ID(guest_gs_p), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0xc013) } },
    /* bits 11:8 */
    { ID(guest_cs_rsvd_11_8), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xa19b) } },
    { ID(guest_ss_rsvd_11_8), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_ar_bytes, 0xc293) } },
    { ID(guest_ds_rsvd_11_8), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0xc493) } },
    { ID(guest_es_rsvd_11_8), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0xc893) } },
    { ID(guest_fs_rsvd_11_8), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0xc193) } },
    { ID(guest_gs_rsvd_11_8), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0xcf93) } },
    /* D/B */
    { ID(guest_cs_db_long), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0xe09b) } },
    /* G */
    { ID(guest_cs_g), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_limit, 0xffffe) } },
    { ID(guest_ss_g), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_limit, 0x1000) } },
    { ID(guest_ds_g), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0x4093) } },
    { ID(guest_es_g), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_limit, 0xfffff000) } },
    { ID(guest_fs_g), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_limit, 0) } },
    { ID(guest_gs_g), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0x4093), SET(guest_gs_limit, 0x100000) } },
    /* bits 31:17 */
    { ID(guest_cs_rsvd_31_17), FLD(guest_cs_ar_bytes), .ops = { SET(guest_cs_ar_bytes, 0x2a09b) } },
    { ID(guest_ss_rsvd_31_17), FLD(guest_ss_ar_bytes), .ops = { SET(guest_ss_ar_bytes, 0x2c093) } },
    { ID(guest_ds_rsvd_31_17), FLD(guest_ds_ar_bytes), .ops = { SET(guest_ds_ar_bytes, 0x4c093) } },
    { ID(guest_es_rsvd_31_17), FLD(guest_es_ar_bytes), .ops = { SET(guest_es_ar_bytes, 0x8c093) } },
    { ID(guest_fs_rsvd_31_17), FLD(guest_fs_ar_bytes), .ops = { SET(guest_fs_ar_bytes, 0x8000c093) } },
    { ID(guest_gs_rsvd_31_17), FLD(guest_gs_ar_bytes), .ops = { SET(guest_gs_ar_bytes, 0x100c093) } },
    /* TR */
    { ID(guest_tr_type), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x83) } },
    { ID(guest_tr_s), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x9b) } },
    { ID(guest_tr_p), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x0b) } },
    { ID(guest_tr_rsvd_11_8), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x18b) } },
    { ID(guest_tr_g), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x808b) } },
    { ID(guest_tr_unusable), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x1008b) } },
    { ID(guest_tr_rsvd_31_17), FLD(guest_tr_ar_bytes), .ops = { SET(guest_tr_ar_bytes, 0x2008b) } },
    /* LDTR */
    { ID(guest_ldtr_type), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x83) } },
    { ID(guest_ldtr_s), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x92) } },
    { ID(guest_ldtr_p), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x02) } },
    { ID(guest_ldtr_rsvd_11_8), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x282) } },
    { ID(guest_ldtr_g), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x8082) } },
    { ID(guest_ldtr_rsvd_31_17), FLD(guest_ldtr_ar_bytes), .fix = ldtr_usable, .ops = { SET(guest_ldtr_ar_bytes, 0x40082) } },

    /* ---- 27.3.1.3 ---- */
    { ID(guest_gdtr_base_canonical), FLD(guest_gdtr_base), .ops = { SET(guest_gdtr_base, HI47) } },
    { ID(guest_idtr_base_canonical), FLD(guest_idtr_base), .ops = { SET(guest_idtr_base, 0x00ff000000000000ull) } },
    { ID(guest_gdtr_limit), FLD(guest_gdtr_limit), .ops = { SET(guest_gdtr_limit, 0x10000) } },
    { ID(guest_idtr_limit), FLD(guest_idtr_limit), .ops = { SET(guest_idtr_limit, 0xffffffff) } },

    /* ---- 27.3.1.4 ---- */
    { ID(guest_rip_high), FLD(guest_rip), .fix = guest32, .ops = { SET(guest_rip, 1ull << 32) } },
    { ID(guest_rip_canonical), FLD(guest_rip), .ops = { SET(guest_rip, HI47) } },
    { ID(guest_rflags_reserved), FLD(guest_rflags), .ops = { SET(guest_rflags, 0x8002) } },
    { ID(guest_rflags_bit1), FLD(guest_rflags), .ops = { SET(guest_rflags, 0) } },
    { ID(guest_rflags_vm_ia32e), FLD(guest_rflags), .fix = v86_ia32e },
    { ID(guest_rflags_vm_pe), FLD(guest_rflags), .fix = v86_real },
    { ID(guest_rflags_if_extint), FLD(guest_rflags), .ops = {
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_EXT_INT, 0x20)) } },
    { ID(guest_ssp_align), FLD(guest_ssp), .fix = guest_cet, .ops = { SET(guest_ssp, 0x1001) } },
    { ID(guest_ssp_high), FLD(guest_ssp), .fix = guest32_cet, .ops = { SET(guest_ssp, 1ull << 32) } },
    { ID(guest_ssp_canonical), FLD(guest_ssp), .fix = guest_cet, .ops = { SET(guest_ssp, HI47) } },

    /* ---- 27.3.1.5 activity ---- */
    { ID(guest_activity_supported), FLD(guest_activity_state), .ops = { SET(guest_activity_state, 4) } },
    { ID(guest_activity_hlt_ss_dpl), FLD(guest_activity_state), .fix = ss_dpl3, .ops = {
      SET(guest_activity_state, VX_ACTIVITY_HLT) } },
    { ID(guest_activity_not_active_blocking), FLD(guest_activity_state), .ops = {
      SET(guest_activity_state, VX_ACTIVITY_HLT), SET(guest_interruptibility_info, VX_INTR_BLOCK_MOV_SS) } },
    { ID(guest_activity_hlt_event), FLD(guest_activity_state), .ops = {
      SET(guest_activity_state, VX_ACTIVITY_HLT), SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 6)) } },
    { ID(guest_activity_shutdown_event), FLD(guest_activity_state), .ops = {
      SET(guest_activity_state, VX_ACTIVITY_SHUTDOWN), SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 1)) } },
    { ID(guest_activity_sipi_event), FLD(guest_activity_state), .ops = {
      SET(guest_activity_state, VX_ACTIVITY_WAIT_SIPI), SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 2)) } },
    /* interruptibility */
    { ID(guest_intr_reserved), FLD(guest_interruptibility_info), .ops = { SET(guest_interruptibility_info, 0x20) } },
    { ID(guest_intr_sti_movss), FLD(guest_interruptibility_info), .ops = {
      SET(guest_interruptibility_info, 3), SET(guest_rflags, 0x202) } },
    { ID(guest_intr_sti_if), FLD(guest_interruptibility_info), .ops = { SET(guest_interruptibility_info, 1) } },
    { ID(guest_intr_extint_blocking), FLD(guest_interruptibility_info), .ops = {
      SET(guest_interruptibility_info, 1), SET(guest_rflags, 0x202),
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_EXT_INT, 0x20)) } },
    { ID(guest_intr_nmi_movss), FLD(guest_interruptibility_info), .ops = {
      SET(guest_interruptibility_info, 2), SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 2)) } },
    { ID(guest_intr_nmi_sti), FLD(guest_interruptibility_info), .qual = 3, .ops = {
      SET(guest_interruptibility_info, 1), SET(guest_rflags, 0x202),
      SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 2)) } },
    { ID(guest_intr_smi_outside_smm), FLD(guest_interruptibility_info), .ops = { SET(guest_interruptibility_info, 4) } },
    { ID(guest_intr_nmi_virtual_nmi), FLD(guest_interruptibility_info), .ops = {
      OR(pin_based_vm_exec_control, VX_PIN_NMI_EXITING | VX_PIN_VIRTUAL_NMIS),
      SET(guest_interruptibility_info, VX_INTR_BLOCK_NMI), SET(vm_entry_intr_info_field, INFO(VX_INTR_TYPE_NMI, 2)) } },
    { ID(guest_intr_enclave_movss), FLD(guest_interruptibility_info), .ops = {
      SET(guest_interruptibility_info, VX_INTR_ENCLAVE | VX_INTR_BLOCK_MOV_SS) } },
    { ID(guest_intr_enclave_sgx), FLD(guest_interruptibility_info), .ops = {
      SET(guest_interruptibility_info, VX_INTR_ENCLAVE) } },
    /* pending debug exceptions */
    { ID(guest_pending_dbg_reserved), FLD(guest_pending_dbg_exceptions), .ops = { SET(guest_pending_dbg_exceptions, 0x10) } },
    { ID(guest_pending_dbg_bs_set), FLD(guest_pending_dbg_exceptions), .ops = {
      SET(guest_interruptibility_info, VX_INTR_BLOCK_MOV_SS), SET(guest_rflags, 0x102) } },
    { ID(guest_pending_dbg_bs_clear), FLD(guest_pending_dbg_exceptions), .ops = {
      SET(guest_activity_state, VX_ACTIVITY_HLT), SET(guest_pending_dbg_exceptions, VX_PENDING_DBG_BS) } },
    { ID(guest_pending_dbg_rtm_bits), FLD(guest_pending_dbg_exceptions), .ops = {
      SET(guest_pending_dbg_exceptions, VX_PENDING_DBG_RTM | VX_PENDING_DBG_ENABLED_BP | 1) } },
    { ID(guest_pending_dbg_rtm_bit12), FLD(guest_pending_dbg_exceptions), .ops = {
      SET(guest_pending_dbg_exceptions, VX_PENDING_DBG_RTM) } },
    { ID(guest_pending_dbg_rtm_support), FLD(guest_pending_dbg_exceptions), .fix = no_rtm, .ops = {
      SET(guest_pending_dbg_exceptions, VX_PENDING_DBG_RTM | VX_PENDING_DBG_ENABLED_BP) } },
    { ID(guest_pending_dbg_rtm_movss), FLD(guest_pending_dbg_exceptions), .ops = {
      SET(guest_pending_dbg_exceptions, VX_PENDING_DBG_RTM | VX_PENDING_DBG_ENABLED_BP),
      SET(guest_interruptibility_info, VX_INTR_BLOCK_MOV_SS) } },
    /* VMCS link pointer */
    { ID(guest_vmcs_link_align), FLD(vmcs_link_pointer), .qual = 4, .ops = { SET(vmcs_link_pointer, LINK_REGION + 8) } },
    { ID(guest_vmcs_link_width), FLD(vmcs_link_pointer), .qual = 4, .ops = { SET(vmcs_link_pointer, PA46) } },
    { ID(guest_vmcs_link_revision), FLD(vmcs_link_pointer), .qual = 4, .ops = { SET(vmcs_link_pointer, LINK_REGION) } },
    { ID(guest_vmcs_link_shadow), FLD(vmcs_link_pointer), .qual = 4, .fix = link_region_shadow, .ops = {
      SET(vmcs_link_pointer, LINK_REGION) } },
    { ID(guest_vmcs_link_current), FLD(vmcs_link_pointer), .qual = 4, .fix = link_current, .ops = {
      SET(vmcs_link_pointer, CUR_VMCS) } },
    { ID(guest_uinv_reserved), FLD(guest_uinv), .fix = guest_uinv, .ops = { SET(guest_uinv, 0x1f0) } },

    /* ---- 27.3.1.6 ---- */
    { ID(guest_pdpte0_mem), FLD(guest_cr3), .qual = 2, .fix = pdpte0_bad },
    { ID(guest_pdpte1_mem), FLD(guest_cr3), .qual = 2, .fix = pdpte1_bad },
    { ID(guest_pdpte2_mem), FLD(guest_cr3), .qual = 2, .fix = pdpte2_bad },
    { ID(guest_pdpte3_mem), FLD(guest_cr3), .qual = 2, .fix = pdpte3_bad },
    { ID(guest_pdptr0), FLD(guest_pdptr0), .qual = 2, .fix = pae32_ept, .ops = { SET(guest_pdptr0, 0x101) } },
    { ID(guest_pdptr1), FLD(guest_pdptr1), .qual = 2, .fix = pae32_ept, .ops = { SET(guest_pdptr1, 0x1 | PA46) } },
    { ID(guest_pdptr2), FLD(guest_pdptr2), .qual = 2, .fix = pae32_ept, .ops = { SET(guest_pdptr2, 0x5) } },
    { ID(guest_pdptr3), FLD(guest_pdptr3), .qual = 2, .fix = pae32_ept, .ops = { SET(guest_pdptr3, 0x1 | (1ull << 63)) } },
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* Ids no VMCS can reach in this model, whatever the profile, with why. */
static const struct { int id; const char *why; } unreachable[] = {
    { VX_CHECK_ctl_entry_smm_and_dual,
      "the model is never in SMM: either control alone fails ctl_entry_*_outside_smm first" },
    { VX_CHECK_host_size0_guest_ia32e,
      "27.2.4 order: IA-32e mode guest with host address-space size 0 fails host_lma0_guest_ia32e "
      "(LMA 0) or host_lma1_host_size (LMA 1) first" },
    { VX_CHECK_guest_activity_sipi_smm,
      "needs entry to SMM, which fails ctl_entry_smm_outside_smm (the model is never in SMM)" },
    { VX_CHECK_guest_intr_smi_entry_smm,
      "needs entry to SMM, which fails ctl_entry_smm_outside_smm (the model is never in SMM)" },
    { VX_CHECK_guest_vmcs_link_executive,
      "applies only in SMM (dual-monitor treatment), which the model does not have" },
};
#define NUNREACHABLE ((int)(sizeof unreachable / sizeof unreachable[0]))

static void apply(world *w, const tcase *tc)
{
    if (tc->fix)
        tc->fix(w);
    for (int i = 0; i < 6 && tc->ops[i].op != OP_NONE; i++) {
        const op *o = &tc->ops[i];
        uint64_t v = vx_vmcs_get(w->v, o->enc);
        v = o->op == OP_SET ? o->val : o->op == OP_OR ? v | o->val : v & ~o->val;
        ck_assert_int_eq(vx_vmcs_put(w->v, o->enc, v), 0);
    }
}

/* ---- Tests -------------------------------------------------------------- */

START_TEST(test_valid_64bit)
{
    world w;
    world_init(&w);
    vx_entry_failure f;
    uint64_t pd[4] = { 1, 1, 1, 1 };
    ck_assert_int_eq(vx_entry_check_controls(&w.env, &f), 0);
    ck_assert_int_eq(vx_entry_check_host(&w.env, &f), 0);
    ck_assert_int_eq(vx_entry_check_guest(&w.env, &f, pd), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pd[i], 0);   /* no PAE paging: nothing loaded */
    world_free(&w);
}
END_TEST

/* Other states that must pass, each on top of the valid 64-bit world. */
static void ok_pae32(world *w) { pae32(w); }
static void ok_v86(world *w) { v86(w); }
static void ok_real(world *w)
{
    unrestricted(w);
    guest32(w);
    PUT(w, guest_cr0, 0x30);
    PUT(w, guest_cr4, 0x2000);
    PUT(w, guest_cs_selector, 0xf000);
    PUT(w, guest_cs_base, 0xf0000);
    PUT(w, guest_cs_limit, 0xffff);
    PUT(w, guest_cs_ar_bytes, 0x93);       /* data type 3 CS: unrestricted guest only */
    PUT(w, guest_ss_selector, 0);
    PUT(w, guest_ss_limit, 0xffff);
    PUT(w, guest_ss_ar_bytes, 0x93);
    PUT(w, guest_tr_ar_bytes, 0x83);       /* busy 16-bit TSS: outside IA-32e mode only */
}
static void ok_host32(world *w) { host32(w); PUT(w, host_rip, 0xfffff000); }
static void ok_unusable(world *w)
{
    /* Unusable segments: only the unusable bit is looked at. */
    PUT(w, guest_ds_ar_bytes, VX_AR_UNUSABLE | 0xfffe0f00u);
    PUT(w, guest_ds_base, 1ull << 40);
    PUT(w, guest_ss_ar_bytes, VX_AR_UNUSABLE);  /* DPL 0 = RPL 0 */
    PUT(w, guest_ss_base, 1ull << 40);
    PUT(w, guest_es_selector, 0x17);
    PUT(w, guest_es_ar_bytes, VX_AR_UNUSABLE);
}
static void ok_vtpr(world *w) { vtpr_4(w); PUT(w, tpr_threshold, 4); }
static void ok_link(world *w) { link_region_ok(w); PUT(w, vmcs_link_pointer, LINK_REGION); }
static void ok_link_shadow(world *w)
{
    link_region_shadow(w);
    PUT(w, vmcs_link_pointer, LINK_REGION);
    PUT(w, secondary_vm_exec_control, VX_PROC2_SHADOW_VMCS);
    PUT(w, vmread_bitmap, 0x38000);
    PUT(w, vmwrite_bitmap, 0x39000);
}
static void ok_inject(world *w)
{
    PUT(w, vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 14) | EC);
    PUT(w, vm_entry_exception_error_code, 0xffff);
}
static void ok_posted(world *w) { posted_ack(w); }
static void ok_conforming(world *w)
{
    ss_dpl3(w);
    PUT(w, guest_cs_ar_bytes, 0xa09f);     /* conforming, DPL 0 <= SS DPL 3 */
}
static void ok_efer(world *w)
{
    PUT(w, vm_entry_controls, ENTRY0 | VX_ENTRY_CTL_LOAD_EFER | VX_ENTRY_CTL_LOAD_PAT);
    PUT(w, guest_ia32_efer, 0xd01);
    PUT(w, guest_ia32_pat, PAT_OK);
    PUT(w, vm_exit_controls, EXIT0 | VX_EXIT_CTL_LOAD_EFER | VX_EXIT_CTL_LOAD_PAT);
    PUT(w, host_ia32_efer, 0xd01);
    PUT(w, host_ia32_pat, PAT_OK);
}
static void ok_activity(world *w)
{
    PUT(w, guest_activity_state, VX_ACTIVITY_HLT);
    PUT(w, vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 18));
    PUT(w, guest_rflags, 0x102);
    PUT(w, guest_pending_dbg_exceptions, VX_PENDING_DBG_BS);
}
static void (*const ok_states[])(world *) = {
    ok_pae32, ok_v86, ok_real, ok_host32, ok_unusable, ok_vtpr, ok_link, ok_link_shadow,
    ok_inject, ok_posted, ok_conforming, ok_efer, ok_activity, pae32_ept,
};
#define NOK ((int)(sizeof ok_states / sizeof ok_states[0]))

START_TEST(test_valid_states)
{
    world w;
    world_init(&w);
    ok_states[_i](&w);
    vx_entry_failure f;
    memset(&f, 0, sizeof f);
    int r = run_checks(&w, &f, NULL);
    ck_assert_msg(r == 0, "state %d fails %s (%s)", _i, vx_check_name(f.check),
                  vx_check_desc(f.check));
    world_free(&w);
}
END_TEST

START_TEST(test_pdpte_loaded)
{
    world w;
    world_init(&w);
    pae32(&w);
    vx_entry_failure f;
    uint64_t pd[4];
    ck_assert_int_eq(run_checks(&w, &f, pd), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pd[i], 0x100001ull + 0x1000ull * (unsigned)i);
    world_free(&w);

    /* With EPT: the guest PDPTE fields. */
    world_init(&w);
    pae32_ept(&w);
    PUT(&w, guest_pdptr2, 0x0);
    PUT(&w, guest_pdptr3, 0x3ffffffff001ull);   /* highest page below 2^46 */
    ck_assert_int_eq(run_checks(&w, &f, pd), 0);
    ck_assert_uint_eq(pd[0], 0x100001ull);
    ck_assert_uint_eq(pd[2], 0);
    ck_assert_uint_eq(pd[3], 0x3ffffffff001ull);
    world_free(&w);

    /* A PDPTE that is not present may hold anything. */
    world_init(&w);
    pae32(&w);
    poke64(CR3_TABLE + 16, 0xfffffffffffffffeull);
    ck_assert_int_eq(run_checks(&w, &f, pd), 0);
    ck_assert_uint_eq(pd[2], 0xfffffffffffffffeull);
    world_free(&w);

    /* The failing PDPTE from memory is reported as the field it would be
     * loaded into, with its value. */
    world_init(&w);
    pdpte2_bad(&w);
    ck_assert_int_eq(run_checks(&w, &f, pd), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_pdpte2_mem);
    ck_assert_int_eq(f.nfields, 2);
    ck_assert_uint_eq(f.field[0], VX_ENC_guest_cr3);
    ck_assert_uint_eq(f.value[0], CR3_TABLE);
    ck_assert_uint_eq(f.field[1], VX_ENC_guest_pdptr2);
    ck_assert_uint_eq(f.value[1], 0x200003ull);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(pd[i], 0);     /* nothing loaded on failure */
    world_free(&w);

    /* A PDPT outside memory reads as all ones: present, reserved bits. */
    world_init(&w);
    pae32(&w);
    PUT(&w, guest_cr3, 0xfffff000);
    ck_assert_int_eq(run_checks(&w, &f, pd), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_pdpte0_mem);
    ck_assert_uint_eq(f.value[1], UINT64_MAX);
    world_free(&w);
}
END_TEST

START_TEST(test_case)
{
    const tcase *tc = &cases[_i];
    world w;
    world_init(&w);
    apply(&w, tc);
    vx_entry_failure f;
    memset(&f, 0xa5, sizeof f);
    int r = run_checks(&w, &f, NULL);
    const char *want = vx_check_name(tc->id);
    ck_assert_msg(r == -1, "case %s: entry passed", want);
    ck_assert_msg(f.check == tc->id, "case %s: got %s (%s)", want, vx_check_name(f.check),
                  vx_check_desc(f.check));
    ck_assert_int_eq(vx_check_class_of(f.check), vx_check_class_of(tc->id));
    ck_assert_msg(f.nfields >= 1 && f.nfields <= 3, "case %s: %d fields", want, f.nfields);
    ck_assert_msg(f.field[0] == tc->field, "case %s: field %#x, want %#x", want, f.field[0],
                  tc->field);
    /* Values are what the VMCS holds (a PDPTE read from memory aside). */
    for (int i = 0; i < f.nfields; i++)
        if (!(f.check >= VX_CHECK_guest_pdpte0_mem && f.check <= VX_CHECK_guest_pdpte3_mem && i == 1))
            ck_assert_msg(f.value[i] == vx_vmcs_get(w.v, f.field[i]), "case %s: value %d", want, i);
    ck_assert_msg(f.qualification == tc->qual, "case %s: qualification %llu", want,
                  (unsigned long long)f.qualification);
    /* The class decides which of the three calls failed. */
    int cls = vx_check_class_of(tc->id);
    vx_entry_failure g;
    ck_assert_int_eq(vx_entry_check_controls(&w.env, &g), cls == VX_CHECK_CONTROL ? -1 : 0);
    if (cls != VX_CHECK_CONTROL)
        ck_assert_int_eq(vx_entry_check_host(&w.env, &g), cls == VX_CHECK_HOST ? -1 : 0);
    world_free(&w);
}
END_TEST

/* Every check id has a case, or is listed as unreachable -- never both,
 * and never two cases for one id. */
START_TEST(test_coverage)
{
    int seen[VX_CHECK_COUNT];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < NCASES; i++) {
        ck_assert_int_ge(cases[i].id, 0);
        ck_assert_int_lt(cases[i].id, VX_CHECK_COUNT);
        ck_assert_msg(seen[cases[i].id] == 0, "two cases for %s", vx_check_name(cases[i].id));
        seen[cases[i].id] = 1;
    }
    for (int i = 0; i < NUNREACHABLE; i++) {
        ck_assert_msg(seen[unreachable[i].id] == 0, "%s has a case and is listed unreachable",
                      vx_check_name(unreachable[i].id));
        ck_assert_ptr_nonnull(unreachable[i].why);
        seen[unreachable[i].id] = 2;
    }
    for (int id = 0; id < VX_CHECK_COUNT; id++)
        ck_assert_msg(seen[id] != 0, "check %s (%s) has no test case", vx_check_name(id),
                      vx_check_sdm(id));
    ck_assert_int_eq(NCASES + NUNREACHABLE, VX_CHECK_COUNT);
}
END_TEST

START_TEST(test_table)
{
    int per_class[3] = { 0, 0, 0 };
    for (int i = 0; i < VX_CHECK_COUNT; i++) {
        const char *n = vx_check_name(i);
        ck_assert_int_gt((int)strlen(n), 0);
        ck_assert_uint_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(n));
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(n, vx_check_name(j));
        ck_assert_int_eq(strncmp(vx_check_sdm(i), "27.", 3), 0);
        ck_assert_int_gt((int)strlen(vx_check_desc(i)), 10);
        int c = vx_check_class_of(i);
        ck_assert(c == VX_CHECK_CONTROL || c == VX_CHECK_HOST || c == VX_CHECK_GUEST);
        per_class[c]++;
        /* Classes come in order: controls, host, guest (27.2 before 27.3). */
        if (i > 0)
            ck_assert_int_ge(c, vx_check_class_of(i - 1));
    }
    ck_assert_int_eq(per_class[VX_CHECK_CONTROL], 64);
    ck_assert_int_eq(per_class[VX_CHECK_HOST], 44);
    ck_assert_int_eq(per_class[VX_CHECK_GUEST], 174);
    ck_assert_str_eq(vx_check_name(VX_CHECK_guest_ss_rpl_cs), "guest_ss_rpl_cs");
    ck_assert_str_eq(vx_check_sdm(VX_CHECK_host_cr0_fixed0), "27.2.2");
    ck_assert_str_eq(vx_check_name(-1), "unknown");
    ck_assert_str_eq(vx_check_sdm(VX_CHECK_COUNT), "unknown");
    ck_assert_str_eq(vx_check_desc(100000), "unknown");
    ck_assert_int_eq(vx_check_class_of(VX_CHECK_COUNT), -1);
}
END_TEST

/* Bad environments are refused without a crash. */
START_TEST(test_bad_env)
{
    vx_entry_failure f;
    uint64_t pd[4] = { 7, 7, 7, 7 };
    ck_assert_int_eq(vx_entry_check_controls(NULL, &f), -1);
    ck_assert_int_eq(f.check, -1);
    ck_assert_int_eq(vx_entry_check_host(NULL, NULL), -1);
    ck_assert_int_eq(vx_entry_check_guest(NULL, &f, pd), -1);
    ck_assert_int_eq(f.check, -1);
    ck_assert_uint_eq(pd[0], 0);
    vx_entry_env e;
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(vx_entry_check_guest(&e, &f, NULL), -1);
    ck_assert_int_eq(f.nfields, 0);

    /* No read_phys: the link-pointer region reads as all ones. */
    world w;
    world_init(&w);
    w.env.read_phys = NULL;
    PUT(&w, vmcs_link_pointer, LINK_REGION);
    ck_assert_int_eq(run_checks(&w, NULL, NULL), -1);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_vmcs_link_revision);
    world_free(&w);
}
END_TEST

/* The first failure in the SDM's order wins. */
START_TEST(test_order)
{
    vx_entry_failure f;
    world w;

    /* Two control rules: pin reserved bits before the CR3-target count. */
    world_init(&w);
    PUT(&w, cr3_target_count, 9);
    PUT(&w, pin_based_vm_exec_control, 0);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_ctl_pin_reserved);
    world_free(&w);

    /* Host selectors (27.2.3) before address-space size (27.2.4). */
    world_init(&w);
    PUT(&w, host_rip, HI47);
    PUT(&w, host_tr_selector, 0);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_host_tr_sel_null);
    world_free(&w);

    /* Segment checks go by sub-field, then register: GS S before CS P. */
    world_init(&w);
    PUT(&w, guest_cs_ar_bytes, 0xa01b);
    PUT(&w, guest_gs_ar_bytes, 0xc083);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_gs_s);
    world_free(&w);

    /* Guest CR0 (27.3.1.1) before the link pointer (27.3.1.5). */
    world_init(&w);
    PUT(&w, vmcs_link_pointer, 1);
    PUT(&w, guest_cr0, 0);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_cr0_fixed0);
    ck_assert_uint_eq(f.qualification, 0);
    world_free(&w);

    /* "Activate secondary controls" 0: the secondary field is ignored. */
    world_init(&w);
    PUT(&w, cpu_based_vm_exec_control, PROC0 & ~VX_PROC_SECONDARY);
    PUT(&w, secondary_vm_exec_control, 0xffffffff);
    ck_assert_int_eq(run_checks(&w, &f, NULL), 0);
    world_free(&w);

    /* Without the TRUE_ MSRs (IA32_VMX_BASIC[55] = 0) the default-1 bits
     * of IA32_VMX_ENTRY_CTLS apply: "load debug controls" must be 1. */
    world_init(&w);
    w.prof.vmx_msr[0] &= ~(1ull << VX_BASIC_TRUE_CTLS_BIT);
    PUT(&w, vm_entry_controls, ENTRY0 & ~VX_ENTRY_CTL_LOAD_DEBUG);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_ctl_proc_reserved);   /* CR3-load/store exiting */
    PUT(&w, cpu_based_vm_exec_control,
        PROC0 | VX_PROC_CR3_LOAD_EXITING | VX_PROC_CR3_STORE_EXITING);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_ctl_exit_reserved);   /* save debug controls */
    PUT(&w, vm_exit_controls, EXIT0 | VX_EXIT_CTL_SAVE_DEBUG);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_ctl_entry_reserved);
    w.prof.vmx_msr[0] |= 1ull << VX_BASIC_TRUE_CTLS_BIT;
    ck_assert_int_eq(run_checks(&w, &f, NULL), 0);
    world_free(&w);

    /* IA32_VMX_BASIC[56]: any hardware exception with or without code. */
    world_init(&w);
    PUT(&w, vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 13));
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    w.prof.vmx_msr[0] |= 1ull << VX_BASIC_NO_EC_CHECK_BIT;
    ck_assert_int_eq(run_checks(&w, &f, NULL), 0);
    PUT(&w, vm_entry_intr_info_field, INFO(VX_INTR_TYPE_HW_XCPT, 6) | EC);
    ck_assert_int_eq(run_checks(&w, &f, NULL), 0);
    world_free(&w);

    /* 5-level paging widens canonical addresses to 57 bits. */
    world_init(&w);
    PUT(&w, guest_fs_base, HI47);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    for (int i = 0; i < w.prof.ncpuid; i++)
        if (w.prof.cpuid[i].leaf == 7)
            w.prof.cpuid[i].ecx |= 1u << 16;
    ck_assert_int_eq(run_checks(&w, &f, NULL), 0);
    PUT(&w, guest_fs_base, 1ull << 56);
    ck_assert_int_eq(run_checks(&w, &f, NULL), -1);
    ck_assert_int_eq(f.check, VX_CHECK_guest_fs_base_canonical);
    world_free(&w);
}
END_TEST

/* docs/entry-checks.md lists exactly the ids of entry_checks.def, in its
 * order, with their sections and classes. */
START_TEST(test_doc_matches_table)
{
    const char *root = getenv("VX_SOURCE_ROOT");
    ck_assert_msg(root != NULL, "VX_SOURCE_ROOT not set (run through meson test)");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/entry-checks.md", root);
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    static const char *cls_name[] = { "CONTROL", "HOST", "GUEST" };
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        /* Table rows: | `id` | section | class | description | */
        if (strncmp(line, "| `", 3) != 0)
            continue;
        char id[128], sec[32], cls[32];
        ck_assert_msg(sscanf(line, "| `%127[a-z0-9_]` | %31[0-9.] | %31[A-Z] |", id, sec, cls) == 3,
                      "bad row: %s", line);
        ck_assert_msg(n < VX_CHECK_COUNT, "the doc lists more checks than the table (%s)", id);
        ck_assert_msg(strcmp(id, vx_check_name(n)) == 0, "row %d is %s, the table has %s", n, id,
                      vx_check_name(n));
        ck_assert_str_eq(sec, vx_check_sdm(n));
        ck_assert_str_eq(cls, cls_name[vx_check_class_of(n)]);
        n++;
    }
    fclose(fp);
    ck_assert_msg(n == VX_CHECK_COUNT, "the doc lists %d checks, the table %d", n, VX_CHECK_COUNT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("entry_checks");
    TCase *t = tcase_create("checks");
    tcase_add_test(t, test_table);
    tcase_add_test(t, test_coverage);
    tcase_add_test(t, test_valid_64bit);
    tcase_add_loop_test(t, test_valid_states, 0, NOK);
    tcase_add_test(t, test_pdpte_loaded);
    tcase_add_loop_test(t, test_case, 0, NCASES);
    tcase_add_test(t, test_bad_env);
    tcase_add_test(t, test_order);
    tcase_add_test(t, test_doc_matches_table);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
