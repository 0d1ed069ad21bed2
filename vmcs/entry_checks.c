/*
 * entry_checks.c - the VM-entry checks of Intel SDM Vol. 3C 27.2 (VMX
 * controls, host-state area) and 27.3.1 (guest-state area), one function
 * per SDM subsection, each rule named in entry_checks.def and checked in
 * that order.  The first rule that fails is reported with the fields and
 * values that broke it.
 */
#include <string.h>

#include "../sim/x86.h"
#include "controls.h"
#include "entry_checks.h"

static const struct { const char *name, *sdm, *desc; int cls; } checks[] = {
#define VX_CHECK(id, cls, sdm, desc) {#id, sdm, desc, VX_CHECK_CLASS_##cls},
#include "entry_checks.def"
#undef VX_CHECK
};

const char *vx_check_name(int id) { return id >= 0 && id < VX_CHECK_COUNT ? checks[id].name : "?"; }
const char *vx_check_sdm(int id) { return id >= 0 && id < VX_CHECK_COUNT ? checks[id].sdm : "?"; }
const char *vx_check_desc(int id) { return id >= 0 && id < VX_CHECK_COUNT ? checks[id].desc : "?"; }
int vx_check_class(int id) { return id >= 0 && id < VX_CHECK_COUNT ? checks[id].cls : -1; }

/* ---- helpers ---- */

typedef struct ck {
    const vx_entry_env *e;
    const vx_vmcs *v;
    vx_entry_failure *f;
    unsigned width;        /* physical-address width */
    unsigned lin;          /* linear-address width (canonical checks) */
    uint32_t pin, proc, proc2, exitc, entryc;
    int unrestricted, ia32e_guest, host64;
} ck;

static uint64_t get(const ck *c, uint32_t enc) { return vx_vmcs_get(c->v, enc); }

static uint64_t cap(const ck *c, uint32_t msr)
{
    uint64_t v = 0;
    vx_profile_vmx_msr(c->e->prof, msr, &v);
    return v;
}

/* Fail rule `id`, naming one to three fields: the first always (the
 * VPID's encoding is 0), the others unless 0. */
static int fail(const ck *c, int id, uint32_t f1, uint32_t f2, uint32_t f3)
{
    vx_entry_failure *f = c->f;
    memset(f, 0, sizeof *f);
    f->check = id;
    uint32_t fs[3] = {f1, f2, f3};
    for (int i = 0; i < 3 && (i == 0 || fs[i]); i++) {
        f->field[i] = fs[i];
        f->value[i] = get(c, fs[i]);
        f->nfields = i + 1;
    }
    return -1;
}

#define FAIL1(id, a) return fail(c, VX_CHECK_##id, VX_ENC_##a, 0, 0)
#define FAIL2(id, a, b) return fail(c, VX_CHECK_##id, VX_ENC_##a, VX_ENC_##b, 0)
#define FAIL3(id, a, b, d) return fail(c, VX_CHECK_##id, VX_ENC_##a, VX_ENC_##b, VX_ENC_##d)

/* A control field against its capability MSR: the bits of 31:0 must be
 * 1, only the bits of 63:32 may be 1 (Appendix A.3-A.5). */
static int ctl_ok(uint32_t v, uint64_t capv)
{
    uint32_t must = (uint32_t)capv, may = (uint32_t)(capv >> 32);
    return (v & must) == must && !(v & ~may);
}

static int canonical(const ck *c, uint64_t a)
{
    int64_t s = (int64_t)(a << (64 - c->lin)) >> (64 - c->lin);
    return (uint64_t)s == a;
}

/* An address aligned to `align` bytes whose bits beyond the
 * physical-address width are 0. */
static int addr_ok(const ck *c, uint64_t a, uint64_t align)
{
    return !(a & (align - 1)) && !(a >> c->width);
}

/* A table of `count` 16-byte MSR entries (25.7.2, 25.8.2). */
static int msr_area_ok(const ck *c, uint64_t addr, uint64_t count)
{
    if (!count) return 1;
    if (addr & 15) return 0;
    uint64_t last = addr + count * 16 - 1;
    return last >= addr && !(last >> c->width);
}

static int pat_ok(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (unsigned)(v >> (8 * i)) & 0xFF;
        if (t == 2 || t == 3 || t > 7) return 0;
    }
    return 1;
}

/* IA32_PERF_GLOBAL_CTRL bits that exist: one per general-purpose and
 * fixed counter of the profile's architectural PMU (CPUID leaf 0AH:
 * EAX[15:8] general-purpose counters, EDX[4:0] fixed counters). */
static uint64_t perf_global_ok_bits(const ck *c)
{
    uint32_t r[4];
    vx_profile_cpuid(c->e->prof, 0xA, 0, r);
    if ((r[0] & 0xFF) == 0) return 0;
    unsigned gp = (r[0] >> 8) & 0xFF, fixed = r[3] & 0x1F;
    uint64_t bits = gp >= 32 ? 0xFFFFFFFFull : (1ull << gp) - 1;
    bits |= (fixed >= 32 ? 0xFFFFFFFFull : (1ull << fixed) - 1) << 32;
    return bits;
}

/* The IA32_EFER bits that exist (SDM Vol. 3A 2.2.1). */
#define EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static void setup(ck *c, const vx_entry_env *e, vx_entry_failure *f)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->v = e->vmcs;
    c->f = f;
    c->width = e->prof->maxphyaddr;
    uint32_t r[4];
    vx_profile_cpuid(e->prof, 0x80000008, 0, r);
    c->lin = (r[0] >> 8) & 0xFF;
    if (c->lin < 48 || c->lin > 64) c->lin = 48;
    c->pin = (uint32_t)get(c, VX_ENC_pin_based_vm_exec_control);
    c->proc = (uint32_t)get(c, VX_ENC_cpu_based_vm_exec_control);
    c->proc2 = (c->proc & PROC_SECONDARY_CONTROLS) ? (uint32_t)get(c, VX_ENC_secondary_vm_exec_control) : 0;
    c->exitc = (uint32_t)get(c, VX_ENC_vm_exit_controls);
    c->entryc = (uint32_t)get(c, VX_ENC_vm_entry_controls);
    c->unrestricted = (c->proc2 & PROC2_UNRESTRICTED_GUEST) != 0;
    c->ia32e_guest = (c->entryc & ENTRY_IA32E_MODE_GUEST) != 0;
    c->host64 = (c->exitc & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
}

/* ---- 27.2.1 checks on VMX controls ---- */

static int check_execution_controls(ck *c)
{
    int true_ctls = (cap(c, 0x480) >> 55) & 1;
    if (!ctl_ok(c->pin, cap(c, true_ctls ? 0x48D : 0x481))) FAIL1(ctl_pin_reserved, pin_based_vm_exec_control);
    if (!ctl_ok(c->proc, cap(c, true_ctls ? 0x48E : 0x482))) FAIL1(ctl_proc_reserved, cpu_based_vm_exec_control);
    if ((c->proc & PROC_SECONDARY_CONTROLS) && !ctl_ok(c->proc2, cap(c, 0x48B)))
        FAIL1(ctl_proc2_reserved, secondary_vm_exec_control);
    if (get(c, VX_ENC_cr3_target_count) > ((cap(c, 0x485) >> 16) & 0x1FF))
        FAIL1(ctl_cr3_target_count, cr3_target_count);
    if (c->proc & PROC_USE_IO_BITMAPS) {
        if (!addr_ok(c, get(c, VX_ENC_io_bitmap_a), 4096)) FAIL1(ctl_io_bitmap_a, io_bitmap_a);
        if (!addr_ok(c, get(c, VX_ENC_io_bitmap_b), 4096)) FAIL1(ctl_io_bitmap_b, io_bitmap_b);
    }
    if ((c->proc & PROC_USE_MSR_BITMAPS) && !addr_ok(c, get(c, VX_ENC_msr_bitmap), 4096))
        FAIL1(ctl_msr_bitmap, msr_bitmap);
    int vid = (c->proc2 & PROC2_VIRT_INTR_DELIVERY) != 0;
    if (c->proc & PROC_USE_TPR_SHADOW) {
        uint64_t vapic = get(c, VX_ENC_virtual_apic_page_addr);
        if (!addr_ok(c, vapic, 4096)) FAIL1(ctl_virtual_apic_page, virtual_apic_page_addr);
        uint64_t thr = get(c, VX_ENC_tpr_threshold);
        if (!vid && (thr >> 4)) FAIL1(ctl_tpr_threshold_reserved, tpr_threshold);
        if (!vid && !(c->proc2 & PROC2_VIRT_APIC_ACCESSES)) {
            uint8_t vtpr = 0xFF;
            if (c->e->read_phys) c->e->read_phys(c->e->ctx, vapic + 0x80, &vtpr, 1);
            if ((thr & 0xF) > (uint64_t)(vtpr >> 4)) FAIL2(ctl_tpr_threshold_vtpr, tpr_threshold, virtual_apic_page_addr);
        }
    } else if (c->proc2 & (PROC2_VIRT_X2APIC_MODE | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY)) {
        FAIL2(ctl_no_tpr_shadow, cpu_based_vm_exec_control, secondary_vm_exec_control);
    }
    if ((c->pin & PIN_VIRTUAL_NMIS) && !(c->pin & PIN_NMI_EXITING)) FAIL1(ctl_virtual_nmis, pin_based_vm_exec_control);
    if ((c->proc & PROC_NMI_WINDOW_EXITING) && !(c->pin & PIN_VIRTUAL_NMIS))
        FAIL2(ctl_nmi_window, cpu_based_vm_exec_control, pin_based_vm_exec_control);
    if ((c->proc2 & PROC2_VIRT_APIC_ACCESSES) && !addr_ok(c, get(c, VX_ENC_apic_access_addr), 4096))
        FAIL1(ctl_apic_access_page, apic_access_addr);
    if ((c->proc2 & PROC2_VIRT_X2APIC_MODE) && (c->proc2 & PROC2_VIRT_APIC_ACCESSES))
        FAIL1(ctl_x2apic_apic_access, secondary_vm_exec_control);
    if (vid && !(c->pin & PIN_EXT_INTR_EXITING)) FAIL2(ctl_vid_ext_intr, secondary_vm_exec_control, pin_based_vm_exec_control);
    if (c->pin & PIN_POSTED_INTR) {
        if (!vid) FAIL2(ctl_posted_intr_vid, pin_based_vm_exec_control, secondary_vm_exec_control);
        if (!(c->exitc & EXIT_ACK_INTR_ON_EXIT)) FAIL2(ctl_posted_intr_ack, pin_based_vm_exec_control, vm_exit_controls);
        if (get(c, VX_ENC_posted_intr_nv) & 0xFF00) FAIL1(ctl_posted_intr_vector, posted_intr_nv);
        if (!addr_ok(c, get(c, VX_ENC_posted_intr_desc_addr), 64)) FAIL1(ctl_posted_intr_desc, posted_intr_desc_addr);
    }
    if ((c->proc2 & PROC2_ENABLE_VPID) && get(c, VX_ENC_virtual_processor_id) == 0)
        FAIL1(ctl_vpid_zero, virtual_processor_id);
    if (c->proc2 & PROC2_ENABLE_EPT) {
        uint64_t eptp = get(c, VX_ENC_ept_pointer), ec = cap(c, 0x48C);
        unsigned mt = eptp & 7, walk = (eptp >> 3) & 7;
        if (!((mt == 0 && (ec >> 8 & 1)) || (mt == 6 && (ec >> 14 & 1)))) FAIL1(ctl_eptp_memtype, ept_pointer);
        if (!(walk == 3 && (ec >> 6 & 1)) && !(walk == 4 && (ec >> 7 & 1))) FAIL1(ctl_eptp_walk_length, ept_pointer);
        if ((eptp >> 6 & 1) && !(ec >> 21 & 1)) FAIL1(ctl_eptp_ad, ept_pointer);
        if ((eptp & 0xF80) || (eptp >> c->width)) FAIL1(ctl_eptp_reserved, ept_pointer);
    }
    if (c->proc2 & PROC2_ENABLE_PML) {
        if (!(c->proc2 & PROC2_ENABLE_EPT)) FAIL1(ctl_pml_ept, secondary_vm_exec_control);
        if (!addr_ok(c, get(c, VX_ENC_pml_address), 4096)) FAIL1(ctl_pml_address, pml_address);
    }
    if ((c->proc2 & PROC2_UNRESTRICTED_GUEST) && !(c->proc2 & PROC2_ENABLE_EPT))
        FAIL1(ctl_unrestricted_ept, secondary_vm_exec_control);
    if ((c->proc2 & PROC2_MODE_BASED_EPT_EXEC) && !(c->proc2 & PROC2_ENABLE_EPT))
        FAIL1(ctl_mode_based_ept, secondary_vm_exec_control);
    if (c->proc2 & PROC2_ENABLE_VMFUNC) {
        uint64_t fc = get(c, VX_ENC_vm_function_control);
        if (fc & ~cap(c, 0x491)) FAIL1(ctl_vmfunc_reserved, vm_function_control);
        if (fc & 1) {
            if (!(c->proc2 & PROC2_ENABLE_EPT)) FAIL2(ctl_eptp_switching_ept, vm_function_control, secondary_vm_exec_control);
            if (!addr_ok(c, get(c, VX_ENC_eptp_list_address), 4096)) FAIL1(ctl_eptp_list, eptp_list_address);
        }
    }
    if (c->proc2 & PROC2_VMCS_SHADOWING) {
        if (!addr_ok(c, get(c, VX_ENC_vmread_bitmap), 4096)) FAIL1(ctl_vmread_bitmap, vmread_bitmap);
        if (!addr_ok(c, get(c, VX_ENC_vmwrite_bitmap), 4096)) FAIL1(ctl_vmwrite_bitmap, vmwrite_bitmap);
    }
    if ((c->proc2 & PROC2_EPT_VE) && !addr_ok(c, get(c, VX_ENC_ve_information_address), 4096))
        FAIL1(ctl_ve_info, ve_information_address);
    return 0;
}

static int check_exit_controls(ck *c)
{
    int true_ctls = (cap(c, 0x480) >> 55) & 1;
    if (!ctl_ok(c->exitc, cap(c, true_ctls ? 0x48F : 0x483))) FAIL1(ctl_exit_reserved, vm_exit_controls);
    if ((c->exitc & EXIT_SAVE_PREEMPT_TIMER) && !(c->pin & PIN_PREEMPTION_TIMER))
        FAIL2(ctl_exit_save_preempt, vm_exit_controls, pin_based_vm_exec_control);
    if (!msr_area_ok(c, get(c, VX_ENC_vm_exit_msr_store_addr), get(c, VX_ENC_vm_exit_msr_store_count)))
        FAIL2(ctl_exit_msr_store, vm_exit_msr_store_addr, vm_exit_msr_store_count);
    if (!msr_area_ok(c, get(c, VX_ENC_vm_exit_msr_load_addr), get(c, VX_ENC_vm_exit_msr_load_count)))
        FAIL2(ctl_exit_msr_load, vm_exit_msr_load_addr, vm_exit_msr_load_count);
    return 0;
}

/* Hardware exceptions that push an error code (SDM Vol. 3A Table 6-1). */
static int has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static int check_entry_controls(ck *c)
{
    int true_ctls = (cap(c, 0x480) >> 55) & 1;
    if (!ctl_ok(c->entryc, cap(c, true_ctls ? 0x490 : 0x484))) FAIL1(ctl_entry_reserved, vm_entry_controls);
    if (c->entryc & (ENTRY_TO_SMM | ENTRY_DEACT_DUAL_MONITOR)) FAIL1(ctl_entry_smm, vm_entry_controls);
    uint32_t info = (uint32_t)get(c, VX_ENC_vm_entry_intr_info_field);
    if (info & INTR_INFO_VALID) {
        unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);
        int mtf = (cap(c, 0x482) >> (32 + 27)) & 1;
        if (type == 1 || (type == INTR_TYPE_OTHER && !mtf)) FAIL1(ctl_inject_type, vm_entry_intr_info_field);
        if (type == INTR_TYPE_NMI && vector != 2) FAIL1(ctl_inject_nmi_vector, vm_entry_intr_info_field);
        if (type == INTR_TYPE_HW_EXCEPTION && vector > 31) FAIL1(ctl_inject_exception_vector, vm_entry_intr_info_field);
        if (type == INTR_TYPE_OTHER && vector != 0) FAIL1(ctl_inject_other_vector, vm_entry_intr_info_field);
        int pe = get(c, VX_ENC_guest_cr0) & CR0_PE;
        int deliver = (info & INTR_INFO_DELIVER_CODE) != 0;
        if (deliver && c->unrestricted && !pe) FAIL2(ctl_inject_error_code_mode, vm_entry_intr_info_field, guest_cr0);
        int need = (!c->unrestricted || pe) && type == INTR_TYPE_HW_EXCEPTION && has_error_code(vector);
        if (deliver != need) FAIL1(ctl_inject_error_code_vector, vm_entry_intr_info_field);
        if (info & 0x7FFFF000u) FAIL1(ctl_inject_reserved, vm_entry_intr_info_field);
        if (deliver && (get(c, VX_ENC_vm_entry_exception_error_code) >> 16))
            FAIL1(ctl_inject_error_code, vm_entry_exception_error_code);
        if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION) {
            uint64_t len = get(c, VX_ENC_vm_entry_instruction_len);
            int zero_ok = (cap(c, 0x485) >> 30) & 1;
            if (len > 15 || (len == 0 && !zero_ok)) FAIL2(ctl_inject_length, vm_entry_instruction_len, vm_entry_intr_info_field);
        }
    }
    if (!msr_area_ok(c, get(c, VX_ENC_vm_entry_msr_load_addr), get(c, VX_ENC_vm_entry_msr_load_count)))
        FAIL2(ctl_entry_msr_load, vm_entry_msr_load_addr, vm_entry_msr_load_count);
    return 0;
}

int vx_entry_check_controls(const vx_entry_env *e, vx_entry_failure *f)
{
    ck c;
    setup(&c, e, f);
    if (check_execution_controls(&c) < 0 || check_exit_controls(&c) < 0 ||
        check_entry_controls(&c) < 0)
        return -1;
    return 0;
}

/* ---- 27.2.2-27.2.4 checks on the host-state area ---- */

static int check_host_registers(ck *c)
{
    uint64_t cr0 = get(c, VX_ENC_host_cr0), cr4 = get(c, VX_ENC_host_cr4);
    uint64_t f0 = cap(c, 0x486), f1 = cap(c, 0x487);
    if ((cr0 & f0) != f0) FAIL1(host_cr0_fixed0, host_cr0);
    if (cr0 & ~f1) FAIL1(host_cr0_fixed1, host_cr0);
    f0 = cap(c, 0x488);
    f1 = cap(c, 0x489);
    if ((cr4 & f0) != f0) FAIL1(host_cr4_fixed0, host_cr4);
    if (cr4 & ~f1) FAIL1(host_cr4_fixed1, host_cr4);
    if (get(c, VX_ENC_host_cr3) >> c->width) FAIL1(host_cr3, host_cr3);
    if (!canonical(c, get(c, VX_ENC_host_ia32_sysenter_esp))) FAIL1(host_sysenter_esp, host_ia32_sysenter_esp);
    if (!canonical(c, get(c, VX_ENC_host_ia32_sysenter_eip))) FAIL1(host_sysenter_eip, host_ia32_sysenter_eip);
    if ((c->exitc & EXIT_LOAD_PERF_GLOBAL) &&
        (get(c, VX_ENC_host_ia32_perf_global_ctrl) & ~perf_global_ok_bits(c)))
        FAIL1(host_perf_global_ctrl, host_ia32_perf_global_ctrl);
    if ((c->exitc & EXIT_LOAD_PAT) && !pat_ok(get(c, VX_ENC_host_ia32_pat))) FAIL1(host_pat, host_ia32_pat);
    if (c->exitc & EXIT_LOAD_EFER) {
        uint64_t efer = get(c, VX_ENC_host_ia32_efer);
        if (efer & ~(uint64_t)EFER_VALID) FAIL1(host_efer_reserved, host_ia32_efer);
        if (!!(efer & EFER_LMA) != c->host64) FAIL2(host_efer_lma, host_ia32_efer, vm_exit_controls);
        if (!!(efer & EFER_LME) != c->host64) FAIL2(host_efer_lme, host_ia32_efer, vm_exit_controls);
    }
    return 0;
}

static int check_host_segments(ck *c)
{
    if (get(c, VX_ENC_host_es_selector) & 7) FAIL1(host_es_selector, host_es_selector);
    if (get(c, VX_ENC_host_cs_selector) & 7) FAIL1(host_cs_selector, host_cs_selector);
    if (get(c, VX_ENC_host_ss_selector) & 7) FAIL1(host_ss_selector, host_ss_selector);
    if (get(c, VX_ENC_host_ds_selector) & 7) FAIL1(host_ds_selector, host_ds_selector);
    if (get(c, VX_ENC_host_fs_selector) & 7) FAIL1(host_fs_selector, host_fs_selector);
    if (get(c, VX_ENC_host_gs_selector) & 7) FAIL1(host_gs_selector, host_gs_selector);
    if (get(c, VX_ENC_host_tr_selector) & 7) FAIL1(host_tr_selector, host_tr_selector);
    if (get(c, VX_ENC_host_cs_selector) == 0) FAIL1(host_cs_null, host_cs_selector);
    if (get(c, VX_ENC_host_tr_selector) == 0) FAIL1(host_tr_null, host_tr_selector);
    if (!c->host64 && get(c, VX_ENC_host_ss_selector) == 0) FAIL2(host_ss_null, host_ss_selector, vm_exit_controls);
    if (!canonical(c, get(c, VX_ENC_host_fs_base))) FAIL1(host_fs_base, host_fs_base);
    if (!canonical(c, get(c, VX_ENC_host_gs_base))) FAIL1(host_gs_base, host_gs_base);
    if (!canonical(c, get(c, VX_ENC_host_gdtr_base))) FAIL1(host_gdtr_base, host_gdtr_base);
    if (!canonical(c, get(c, VX_ENC_host_idtr_base))) FAIL1(host_idtr_base, host_idtr_base);
    if (!canonical(c, get(c, VX_ENC_host_tr_base))) FAIL1(host_tr_base, host_tr_base);
    return 0;
}

static int check_address_space_size(ck *c)
{
    if (!(c->e->efer & EFER_LMA)) {
        if (c->ia32e_guest) FAIL1(size_guest_outside_ia32e, vm_entry_controls);
        if (c->host64) FAIL1(size_host_outside_ia32e, vm_exit_controls);
    } else if (!c->host64) {
        FAIL1(size_host_inside_ia32e, vm_exit_controls);
    }
    uint64_t rip = get(c, VX_ENC_host_rip);
    if (!c->host64) {
        if (c->ia32e_guest) FAIL2(size_host32_guest, vm_entry_controls, vm_exit_controls);
        if (get(c, VX_ENC_host_cr4) & CR4_PCIDE) FAIL2(size_host32_pcide, host_cr4, vm_exit_controls);
        if (rip >> 32) FAIL2(size_host32_rip, host_rip, vm_exit_controls);
    } else {
        if (!(get(c, VX_ENC_host_cr4) & CR4_PAE)) FAIL2(size_host64_pae, host_cr4, vm_exit_controls);
        if (!canonical(c, rip)) FAIL1(size_host64_rip, host_rip);
    }
    return 0;
}

int vx_entry_check_host(const vx_entry_env *e, vx_entry_failure *f)
{
    ck c;
    setup(&c, e, f);
    if (check_host_registers(&c) < 0 || check_host_segments(&c) < 0 ||
        check_address_space_size(&c) < 0)
        return -1;
    return 0;
}

/* ---- 27.3.1 checks on the guest-state area ---- */

static int check_guest_registers(ck *c)
{
    uint64_t cr0 = get(c, VX_ENC_guest_cr0), cr4 = get(c, VX_ENC_guest_cr4);
    uint64_t f0 = cap(c, 0x486), f1 = cap(c, 0x487);
    if (c->unrestricted) f0 &= ~(uint64_t)(CR0_PE | CR0_PG);
    if ((cr0 & f0) != f0) FAIL1(guest_cr0_fixed0, guest_cr0);
    if (cr0 & ~f1) FAIL1(guest_cr0_fixed1, guest_cr0);
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) FAIL1(guest_cr0_pg_pe, guest_cr0);
    f0 = cap(c, 0x488);
    f1 = cap(c, 0x489);
    if ((cr4 & f0) != f0) FAIL1(guest_cr4_fixed0, guest_cr4);
    if (cr4 & ~f1) FAIL1(guest_cr4_fixed1, guest_cr4);
    if ((c->entryc & ENTRY_LOAD_DEBUG_CONTROLS) && (get(c, VX_ENC_guest_ia32_debugctl) & ~0xFFC3ull))
        FAIL1(guest_debugctl, guest_ia32_debugctl);
    if (c->ia32e_guest && !(cr0 & CR0_PG)) FAIL2(guest_ia32e_pg, guest_cr0, vm_entry_controls);
    if (c->ia32e_guest && !(cr4 & CR4_PAE)) FAIL2(guest_ia32e_pae, guest_cr4, vm_entry_controls);
    if (!c->ia32e_guest && (cr4 & CR4_PCIDE)) FAIL2(guest_pcide, guest_cr4, vm_entry_controls);
    if (get(c, VX_ENC_guest_cr3) >> c->width) FAIL1(guest_cr3, guest_cr3);
    if ((c->entryc & ENTRY_LOAD_DEBUG_CONTROLS) && (get(c, VX_ENC_guest_dr7) >> 32)) FAIL1(guest_dr7, guest_dr7);
    if (!canonical(c, get(c, VX_ENC_guest_sysenter_esp))) FAIL1(guest_sysenter_esp, guest_sysenter_esp);
    if (!canonical(c, get(c, VX_ENC_guest_sysenter_eip))) FAIL1(guest_sysenter_eip, guest_sysenter_eip);
    if ((c->entryc & ENTRY_LOAD_PERF_GLOBAL) &&
        (get(c, VX_ENC_guest_ia32_perf_global_ctrl) & ~perf_global_ok_bits(c)))
        FAIL1(guest_perf_global_ctrl, guest_ia32_perf_global_ctrl);
    if ((c->entryc & ENTRY_LOAD_PAT) && !pat_ok(get(c, VX_ENC_guest_ia32_pat))) FAIL1(guest_pat, guest_ia32_pat);
    if (c->entryc & ENTRY_LOAD_EFER) {
        uint64_t efer = get(c, VX_ENC_guest_ia32_efer);
        if (efer & ~(uint64_t)EFER_VALID) FAIL1(guest_efer_reserved, guest_ia32_efer);
        if (!!(efer & EFER_LMA) != c->ia32e_guest) FAIL2(guest_efer_lma, guest_ia32_efer, vm_entry_controls);
        if ((cr0 & CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME))
            FAIL2(guest_efer_lme, guest_ia32_efer, guest_cr0);
    }
    return 0;
}

/* The segment fields, indexed ES, CS, SS, DS, FS, GS, LDTR, TR. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR };
static const uint32_t seg_sel[8] = {
    VX_ENC_guest_es_selector, VX_ENC_guest_cs_selector, VX_ENC_guest_ss_selector,
    VX_ENC_guest_ds_selector, VX_ENC_guest_fs_selector, VX_ENC_guest_gs_selector,
    VX_ENC_guest_ldtr_selector, VX_ENC_guest_tr_selector};
static const uint32_t seg_base[8] = {
    VX_ENC_guest_es_base, VX_ENC_guest_cs_base, VX_ENC_guest_ss_base, VX_ENC_guest_ds_base,
    VX_ENC_guest_fs_base, VX_ENC_guest_gs_base, VX_ENC_guest_ldtr_base, VX_ENC_guest_tr_base};
static const uint32_t seg_limit[8] = {
    VX_ENC_guest_es_limit, VX_ENC_guest_cs_limit, VX_ENC_guest_ss_limit, VX_ENC_guest_ds_limit,
    VX_ENC_guest_fs_limit, VX_ENC_guest_gs_limit, VX_ENC_guest_ldtr_limit, VX_ENC_guest_tr_limit};
static const uint32_t seg_ar[8] = {
    VX_ENC_guest_es_ar_bytes, VX_ENC_guest_cs_ar_bytes, VX_ENC_guest_ss_ar_bytes,
    VX_ENC_guest_ds_ar_bytes, VX_ENC_guest_fs_ar_bytes, VX_ENC_guest_gs_ar_bytes,
    VX_ENC_guest_ldtr_ar_bytes, VX_ENC_guest_tr_ar_bytes};

/* The six registers in the order the SDM's lists use (CS, SS, DS, ES,
 * FS, GS), with the rule of each list for each register. */
static const int order6[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};
#define RULES6(kind) {VX_CHECK_guest_cs_##kind, VX_CHECK_guest_ss_##kind, VX_CHECK_guest_ds_##kind, \
                      VX_CHECK_guest_es_##kind, VX_CHECK_guest_fs_##kind, VX_CHECK_guest_gs_##kind}
static const int r_base_v86[6] = RULES6(base_v86), r_limit_v86[6] = RULES6(limit_v86),
                 r_ar_v86[6] = RULES6(ar_v86), r_s[6] = RULES6(s), r_present[6] = RULES6(present),
                 r_ar_reserved[6] = RULES6(ar_reserved), r_gran[6] = RULES6(granularity);

#define AR_TYPE(a) ((a) & 0xF)
#define AR_S(a) (((a) >> 4) & 1)
#define AR_DPL(a) (((a) >> 5) & 3)
#define AR_P(a) (((a) >> 7) & 1)
#define AR_L(a) (((a) >> 13) & 1)
#define AR_DB(a) (((a) >> 14) & 1)
#define AR_G(a) (((a) >> 15) & 1)
#define AR_UNUSABLE(a) (((a) >> 16) & 1)
#define AR_RESERVED 0xFFFE0F00u

static int granularity_ok(uint32_t limit, uint32_t ar)
{
    if ((limit & 0xFFF) != 0xFFF && AR_G(ar)) return 0;
    if ((limit & 0xFFF00000) && !AR_G(ar)) return 0;
    return 1;
}

static int check_guest_segments(ck *c)
{
    uint64_t rflags = get(c, VX_ENC_guest_rflags), cr0 = get(c, VX_ENC_guest_cr0);
    int v86 = (rflags & RFLAGS_VM) != 0;
    uint64_t sel[8], base[8];
    uint32_t limit[8], ar[8];
    for (int i = 0; i < 8; i++) {
        sel[i] = get(c, seg_sel[i]);
        base[i] = get(c, seg_base[i]);
        limit[i] = (uint32_t)get(c, seg_limit[i]);
        ar[i] = (uint32_t)get(c, seg_ar[i]);
    }
    /* Selector fields. */
    if (sel[S_TR] & 4) return fail(c, VX_CHECK_guest_tr_ti, seg_sel[S_TR], 0, 0);
    if (!AR_UNUSABLE(ar[S_LDTR]) && (sel[S_LDTR] & 4)) return fail(c, VX_CHECK_guest_ldtr_ti, seg_sel[S_LDTR], 0, 0);
    if (!v86 && !c->unrestricted && (sel[S_SS] & 3) != (sel[S_CS] & 3))
        return fail(c, VX_CHECK_guest_ss_rpl, seg_sel[S_SS], seg_sel[S_CS], 0);
    /* Base-address fields. */
    if (v86)
        for (int k = 0; k < 6; k++) {
            int s = order6[k];
            if (base[s] != sel[s] << 4) return fail(c, r_base_v86[k], seg_base[s], seg_sel[s], 0);
        }
    if (!canonical(c, base[S_TR])) return fail(c, VX_CHECK_guest_tr_base, seg_base[S_TR], 0, 0);
    if (!canonical(c, base[S_FS])) return fail(c, VX_CHECK_guest_fs_base, seg_base[S_FS], 0, 0);
    if (!canonical(c, base[S_GS])) return fail(c, VX_CHECK_guest_gs_base, seg_base[S_GS], 0, 0);
    if (!AR_UNUSABLE(ar[S_LDTR]) && !canonical(c, base[S_LDTR]))
        return fail(c, VX_CHECK_guest_ldtr_base, seg_base[S_LDTR], 0, 0);
    if (base[S_CS] >> 32) return fail(c, VX_CHECK_guest_cs_base, seg_base[S_CS], 0, 0);
    if (!AR_UNUSABLE(ar[S_SS]) && (base[S_SS] >> 32)) return fail(c, VX_CHECK_guest_ss_base, seg_base[S_SS], 0, 0);
    if (!AR_UNUSABLE(ar[S_DS]) && (base[S_DS] >> 32)) return fail(c, VX_CHECK_guest_ds_base, seg_base[S_DS], 0, 0);
    if (!AR_UNUSABLE(ar[S_ES]) && (base[S_ES] >> 32)) return fail(c, VX_CHECK_guest_es_base, seg_base[S_ES], 0, 0);
    if (v86) {
        /* Limit fields, then access-rights fields, in virtual-8086 mode. */
        for (int k = 0; k < 6; k++)
            if (limit[order6[k]] != 0xFFFF) return fail(c, r_limit_v86[k], seg_limit[order6[k]], 0, 0);
        for (int k = 0; k < 6; k++)
            if (ar[order6[k]] != 0xF3) return fail(c, r_ar_v86[k], seg_ar[order6[k]], 0, 0);
    } else {
        /* Types. */
        unsigned cst = AR_TYPE(ar[S_CS]);
        if (!(cst == 9 || cst == 11 || cst == 13 || cst == 15 || (cst == 3 && c->unrestricted)))
            return fail(c, VX_CHECK_guest_cs_type, seg_ar[S_CS], 0, 0);
        if (!AR_UNUSABLE(ar[S_SS]) && AR_TYPE(ar[S_SS]) != 3 && AR_TYPE(ar[S_SS]) != 7)
            return fail(c, VX_CHECK_guest_ss_type, seg_ar[S_SS], 0, 0);
        static const int data_rule[4] = {VX_CHECK_guest_ds_type, VX_CHECK_guest_es_type,
                                         VX_CHECK_guest_fs_type, VX_CHECK_guest_gs_type};
        for (int k = 2; k < 6; k++) {
            int s = order6[k];
            unsigned t = AR_TYPE(ar[s]);
            if (!AR_UNUSABLE(ar[s]) && (!(t & 1) || ((t & 8) && !(t & 2))))
                return fail(c, data_rule[k - 2], seg_ar[s], 0, 0);
        }
        /* S: code or data segments. */
        for (int k = 0; k < 6; k++) {
            int s = order6[k];
            if ((s == S_CS || !AR_UNUSABLE(ar[s])) && !AR_S(ar[s])) return fail(c, r_s[k], seg_ar[s], 0, 0);
        }
        /* DPL. */
        unsigned cs_dpl = AR_DPL(ar[S_CS]), ss_dpl = AR_DPL(ar[S_SS]);
        if (cst == 3 && cs_dpl != 0) return fail(c, VX_CHECK_guest_cs_dpl_type3, seg_ar[S_CS], 0, 0);
        if ((cst == 9 || cst == 11) && cs_dpl != ss_dpl)
            return fail(c, VX_CHECK_guest_cs_dpl_nonconforming, seg_ar[S_CS], seg_ar[S_SS], 0);
        if ((cst == 13 || cst == 15) && cs_dpl > ss_dpl)
            return fail(c, VX_CHECK_guest_cs_dpl_conforming, seg_ar[S_CS], seg_ar[S_SS], 0);
        if (!c->unrestricted && ss_dpl != (sel[S_SS] & 3))
            return fail(c, VX_CHECK_guest_ss_dpl_rpl, seg_ar[S_SS], seg_sel[S_SS], 0);
        if ((cst == 3 || !(cr0 & CR0_PE)) && ss_dpl != 0)
            return fail(c, VX_CHECK_guest_ss_dpl_real, seg_ar[S_SS], seg_ar[S_CS], 0);
        static const int dpl_rule[4] = {VX_CHECK_guest_ds_dpl, VX_CHECK_guest_es_dpl,
                                        VX_CHECK_guest_fs_dpl, VX_CHECK_guest_gs_dpl};
        for (int k = 2; k < 6; k++) {
            int s = order6[k];
            if (!c->unrestricted && !AR_UNUSABLE(ar[s]) && AR_TYPE(ar[s]) <= 11 &&
                AR_DPL(ar[s]) < (sel[s] & 3))
                return fail(c, dpl_rule[k - 2], seg_ar[s], seg_sel[s], 0);
        }
        /* Present, reserved bits. */
        for (int k = 0; k < 6; k++) {
            int s = order6[k];
            if ((s == S_CS || !AR_UNUSABLE(ar[s])) && !AR_P(ar[s])) return fail(c, r_present[k], seg_ar[s], 0, 0);
        }
        for (int k = 0; k < 6; k++) {
            int s = order6[k];
            if ((s == S_CS || !AR_UNUSABLE(ar[s])) && (ar[s] & AR_RESERVED & ~(1u << 16)))
                return fail(c, r_ar_reserved[k], seg_ar[s], 0, 0);
        }
        if (c->ia32e_guest && AR_L(ar[S_CS]) && AR_DB(ar[S_CS]))
            return fail(c, VX_CHECK_guest_cs_db, seg_ar[S_CS], VX_ENC_vm_entry_controls, 0);
        for (int k = 0; k < 6; k++) {
            int s = order6[k];
            if ((s == S_CS || !AR_UNUSABLE(ar[s])) && !granularity_ok(limit[s], ar[s]))
                return fail(c, r_gran[k], seg_ar[s], seg_limit[s], 0);
        }
    }
    /* TR. */
    unsigned trt = AR_TYPE(ar[S_TR]);
    if (c->ia32e_guest ? trt != 11 : (trt != 3 && trt != 11))
        return fail(c, VX_CHECK_guest_tr_type, seg_ar[S_TR], VX_ENC_vm_entry_controls, 0);
    if (AR_S(ar[S_TR])) return fail(c, VX_CHECK_guest_tr_s, seg_ar[S_TR], 0, 0);
    if (!AR_P(ar[S_TR])) return fail(c, VX_CHECK_guest_tr_present, seg_ar[S_TR], 0, 0);
    if (ar[S_TR] & AR_RESERVED & ~(1u << 16)) return fail(c, VX_CHECK_guest_tr_ar_reserved, seg_ar[S_TR], 0, 0);
    if (!granularity_ok(limit[S_TR], ar[S_TR])) return fail(c, VX_CHECK_guest_tr_granularity, seg_ar[S_TR], seg_limit[S_TR], 0);
    if (AR_UNUSABLE(ar[S_TR])) return fail(c, VX_CHECK_guest_tr_unusable, seg_ar[S_TR], 0, 0);
    /* LDTR, if usable. */
    if (!AR_UNUSABLE(ar[S_LDTR])) {
        uint32_t a = ar[S_LDTR];
        if (AR_TYPE(a) != 2) return fail(c, VX_CHECK_guest_ldtr_type, seg_ar[S_LDTR], 0, 0);
        if (AR_S(a)) return fail(c, VX_CHECK_guest_ldtr_s, seg_ar[S_LDTR], 0, 0);
        if (!AR_P(a)) return fail(c, VX_CHECK_guest_ldtr_present, seg_ar[S_LDTR], 0, 0);
        if (a & AR_RESERVED) return fail(c, VX_CHECK_guest_ldtr_ar_reserved, seg_ar[S_LDTR], 0, 0);
        if (!granularity_ok(limit[S_LDTR], a))
            return fail(c, VX_CHECK_guest_ldtr_granularity, seg_ar[S_LDTR], seg_limit[S_LDTR], 0);
    }
    return 0;
}

static int check_guest_tables_rip_rflags(ck *c)
{
    if (!canonical(c, get(c, VX_ENC_guest_gdtr_base))) FAIL1(guest_gdtr_base, guest_gdtr_base);
    if (!canonical(c, get(c, VX_ENC_guest_idtr_base))) FAIL1(guest_idtr_base, guest_idtr_base);
    if (get(c, VX_ENC_guest_gdtr_limit) >> 16) FAIL1(guest_gdtr_limit, guest_gdtr_limit);
    if (get(c, VX_ENC_guest_idtr_limit) >> 16) FAIL1(guest_idtr_limit, guest_idtr_limit);
    uint64_t rip = get(c, VX_ENC_guest_rip), rflags = get(c, VX_ENC_guest_rflags);
    int cs_l = AR_L((uint32_t)get(c, VX_ENC_guest_cs_ar_bytes));
    if (!(c->ia32e_guest && cs_l) && (rip >> 32)) FAIL2(guest_rip_high, guest_rip, guest_cs_ar_bytes);
    if (c->ia32e_guest && cs_l && !canonical(c, rip)) FAIL1(guest_rip_canonical, guest_rip);
    if ((rflags & 0xFFFFFFFFFFC08028ull) || !(rflags & 2)) FAIL1(guest_rflags_reserved, guest_rflags);
    if ((c->ia32e_guest || !(get(c, VX_ENC_guest_cr0) & CR0_PE)) && (rflags & RFLAGS_VM))
        FAIL2(guest_rflags_vm, guest_rflags, guest_cr0);
    uint32_t info = (uint32_t)get(c, VX_ENC_vm_entry_intr_info_field);
    if ((info & INTR_INFO_VALID) && INTR_INFO_TYPE(info) == INTR_TYPE_EXT_INTR && !(rflags & RFLAGS_IF))
        FAIL2(guest_rflags_if, guest_rflags, vm_entry_intr_info_field);
    return 0;
}

static int check_guest_non_register(ck *c)
{
    uint64_t act = get(c, VX_ENC_guest_activity_state);
    uint32_t intr = (uint32_t)get(c, VX_ENC_guest_interruptibility_info);
    uint32_t info = (uint32_t)get(c, VX_ENC_vm_entry_intr_info_field);
    int inject = (info & INTR_INFO_VALID) != 0;
    unsigned type = INTR_INFO_TYPE(info), vector = INTR_INFO_VECTOR(info);
    uint64_t misc = cap(c, 0x485);
    if (act > 3 || (act && !((misc >> (5 + act)) & 1))) FAIL1(guest_activity, guest_activity_state);
    if (act == ACTIVITY_HLT && AR_DPL((uint32_t)get(c, VX_ENC_guest_ss_ar_bytes)) != 0)
        FAIL2(guest_activity_hlt_ss_dpl, guest_activity_state, guest_ss_ar_bytes);
    if (act != ACTIVITY_ACTIVE && (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
        FAIL2(guest_activity_blocking, guest_activity_state, guest_interruptibility_info);
    if (inject && act == ACTIVITY_HLT &&
        !(type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI || type == INTR_TYPE_OTHER ||
          (type == INTR_TYPE_HW_EXCEPTION && (vector == 1 || vector == 18))))
        FAIL2(guest_activity_hlt_event, guest_activity_state, vm_entry_intr_info_field);
    if (inject && act == ACTIVITY_SHUTDOWN &&
        !(type == INTR_TYPE_NMI || (type == INTR_TYPE_HW_EXCEPTION && vector == 18)))
        FAIL2(guest_activity_shutdown_event, guest_activity_state, vm_entry_intr_info_field);
    if (inject && act == ACTIVITY_WAIT_SIPI)
        FAIL2(guest_activity_sipi_event, guest_activity_state, vm_entry_intr_info_field);
    /* Bit 4 (enclave interruption) exists only with SGX, which no
     * profile has. */
    if (intr & ~0xFu) FAIL1(guest_intr_reserved, guest_interruptibility_info);
    if ((intr & INTERRUPTIBILITY_STI) && (intr & INTERRUPTIBILITY_MOV_SS))
        FAIL1(guest_intr_sti_movss, guest_interruptibility_info);
    uint64_t rflags = get(c, VX_ENC_guest_rflags);
    if ((intr & INTERRUPTIBILITY_STI) && !(rflags & RFLAGS_IF))
        FAIL2(guest_intr_sti_if, guest_interruptibility_info, guest_rflags);
    if (inject && type == INTR_TYPE_EXT_INTR && (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
        FAIL2(guest_intr_ext_inject, guest_interruptibility_info, vm_entry_intr_info_field);
    if (inject && type == INTR_TYPE_NMI && (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
        FAIL2(guest_intr_nmi_inject, guest_interruptibility_info, vm_entry_intr_info_field);
    if (intr & INTERRUPTIBILITY_SMI) FAIL1(guest_intr_smi, guest_interruptibility_info);
    if ((c->pin & PIN_VIRTUAL_NMIS) && inject && type == INTR_TYPE_NMI && (intr & INTERRUPTIBILITY_NMI))
        FAIL2(guest_intr_virtual_nmi, guest_interruptibility_info, vm_entry_intr_info_field);
    /* Pending debug exceptions (Table 25-4); bit 16 (RTM) is reserved:
     * no profile has RTM. */
    uint64_t pend = get(c, VX_ENC_guest_pending_dbg_exceptions);
    if (pend & ~0x500Full) FAIL1(guest_pending_dbg_reserved, guest_pending_dbg_exceptions);
    if ((intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) || act == ACTIVITY_HLT) {
        int btf = (get(c, VX_ENC_guest_ia32_debugctl) >> 1) & 1, tf = (rflags & RFLAGS_TF) != 0;
        int bs = (pend >> 14) & 1;
        if (tf && !btf && !bs) FAIL3(guest_pending_dbg_bs_set, guest_pending_dbg_exceptions, guest_rflags, guest_ia32_debugctl);
        if ((!tf || btf) && bs) FAIL3(guest_pending_dbg_bs_clear, guest_pending_dbg_exceptions, guest_rflags, guest_ia32_debugctl);
    }
    /* The VMCS link pointer; failures have exit qualification 4 (27.8). */
    uint64_t link = get(c, VX_ENC_vmcs_link_pointer);
    if (link != ~0ull) {
        int rule = -1;
        uint32_t rev = 0xFFFFFFFF;
        if (link & 0xFFF) rule = VX_CHECK_guest_link_alignment;
        else if (link >> c->width) rule = VX_CHECK_guest_link_width;
        else {
            if (!c->e->read_phys || c->e->read_phys(c->e->ctx, link, &rev, 4) < 0) rev = 0xFFFFFFFF;
            if ((rev & 0x7FFFFFFF) != (uint32_t)(cap(c, 0x480) & 0x7FFFFFFF)) rule = VX_CHECK_guest_link_revision;
            else if ((rev >> 31) != ((c->proc2 & PROC2_VMCS_SHADOWING) != 0)) rule = VX_CHECK_guest_link_shadow;
        }
        if (rule >= 0) {
            fail(c, rule, VX_ENC_vmcs_link_pointer, 0, 0);
            c->f->qualification = 4;
            return -1;
        }
    }
    return 0;
}

/* 27.3.1.6: PAE paging outside IA-32e mode uses four PDPTEs, from the
 * VMCS with EPT, from the table CR3 names without it; each present one
 * must have its reserved bits 0 (SDM Vol. 3A 4.4.1).  Failures have exit
 * qualification 2 (27.8). */
static int check_guest_pdptes(ck *c, uint64_t pdpte[4])
{
    uint64_t cr0 = get(c, VX_ENC_guest_cr0), cr4 = get(c, VX_ENC_guest_cr4);
    if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || c->ia32e_guest) return 0;
    static const uint32_t fields[4] = {VX_ENC_guest_pdptr0, VX_ENC_guest_pdptr1,
                                       VX_ENC_guest_pdptr2, VX_ENC_guest_pdptr3};
    int from_vmcs = (c->proc2 & PROC2_ENABLE_EPT) != 0;
    uint64_t table = get(c, VX_ENC_guest_cr3) & 0xFFFFFFE0ull;
    for (int i = 0; i < 4; i++) {
        uint64_t e = ~0ull;
        if (from_vmcs) e = get(c, fields[i]);
        else if (!c->e->read_phys || c->e->read_phys(c->e->ctx, table + 8u * i, &e, 8) < 0) e = ~0ull;
        pdpte[i] = e;
        if ((e & 1) && ((e & 0x1E6) || (e >> c->width))) {
            fail(c, VX_CHECK_guest_pdpte, from_vmcs ? fields[i] : VX_ENC_guest_cr3, 0, 0);
            if (!from_vmcs) c->f->value[0] = e; /* the entry, read from memory */
            c->f->qualification = 2;
            return -1;
        }
    }
    return 0;
}

int vx_entry_check_guest(const vx_entry_env *e, vx_entry_failure *f, uint64_t pdpte[4])
{
    ck c;
    setup(&c, e, f);
    memset(pdpte, 0, 4 * sizeof pdpte[0]);
    if (check_guest_registers(&c) < 0 || check_guest_segments(&c) < 0 ||
        check_guest_tables_rip_rflags(&c) < 0 || check_guest_non_register(&c) < 0 ||
        check_guest_pdptes(&c, pdpte) < 0)
        return -1;
    return 0;
}
