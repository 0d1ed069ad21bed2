/*
 * test_entry_checks.c - every VM-entry check (vmcs/entry_checks.def):
 * from a VMCS that passes them all (a 64-bit host entering a 64-bit
 * guest, on icelake-server), each case breaks exactly one rule and the
 * checks must report exactly that rule first, with its class of failure
 * (VMfailValid 7, VMfailValid 8, or a VM-entry failure exit).  A rule
 * without a case fails the test, unless listed as unreachable with the
 * reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/x86.h"
#include "../vmcs/controls.h"
#include "../vmcs/entry_checks.h"

typedef struct tc {
    vx_profile p;
    vx_vmcs *v;
    vx_entry_env env;
    uint8_t mem[0x10000];   /* physical memory 0-0xFFFF for the checks' reads */
} tc;

static int read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
    tc *t = ctx;
    if (pa >= sizeof t->mem || len > sizeof t->mem - pa) return -1;
    memcpy(buf, t->mem + pa, len);
    return 0;
}

#define P(f, val) vx_vmcs_put(t->v, VX_ENC_##f, (uint64_t)(val))
#define G(f) vx_vmcs_get(t->v, VX_ENC_##f)
#define OR(f, bits) P(f, G(f) | (uint64_t)(bits))
#define AND(f, bits) P(f, G(f) & (uint64_t)(bits))

static void base(tc *t)
{
    char err[256];
    ck_assert_msg(vx_profile_load("icelake-server", getenv("VX_PROFILE_SRC"), &t->p, err, sizeof err) == 0,
                  "%s", err);
    t->v = vx_vmcs_new(0x8000);
    ck_assert_ptr_nonnull(t->v);
    memset(t->mem, 0, sizeof t->mem);
    t->env = (vx_entry_env){.prof = &t->p, .vmcs = t->v, .cr0 = 0x80000031, .cr4 = 0x2020,
                            .efer = 0x500, .read_phys = read_phys, .ctx = t,
                            .vmxon_ptr = 0x7000, .current_vmcs_ptr = 0x8000};
    /* Controls: what the TRUE_* MSRs require, a 64-bit host and guest. */
    P(pin_based_vm_exec_control, 0x16);
    P(cpu_based_vm_exec_control, 0x04006172);
    P(vm_exit_controls, 0x36dfb | EXIT_HOST_ADDR_SPACE_SIZE);
    P(vm_entry_controls, 0x11fb | ENTRY_IA32E_MODE_GUEST);
    /* Host state. */
    P(host_cr0, 0x80000031);
    P(host_cr3, 0x1000);
    P(host_cr4, 0x2020);
    P(host_cs_selector, 0x08);
    P(host_ss_selector, 0x10);
    P(host_ds_selector, 0x10);
    P(host_es_selector, 0x10);
    P(host_fs_selector, 0x10);
    P(host_gs_selector, 0x10);
    P(host_tr_selector, 0x30);
    P(host_rip, 0x100000);
    P(host_rsp, 0x90000);
    /* Guest state: flat 64-bit. */
    P(guest_cr0, 0x80000031);
    P(guest_cr3, 0x1000);
    P(guest_cr4, 0x2020);
    P(guest_dr7, 0x400);
    P(guest_rflags, 2);
    P(guest_rip, 0x100000);
    P(guest_rsp, 0x90000);
    P(guest_cs_selector, 0x08);
    P(guest_cs_limit, 0xffffffff);
    P(guest_cs_ar_bytes, 0xa09b);
    static const uint32_t sel[5] = {VX_ENC_guest_ss_selector, VX_ENC_guest_ds_selector,
                                    VX_ENC_guest_es_selector, VX_ENC_guest_fs_selector,
                                    VX_ENC_guest_gs_selector};
    static const uint32_t lim[5] = {VX_ENC_guest_ss_limit, VX_ENC_guest_ds_limit,
                                    VX_ENC_guest_es_limit, VX_ENC_guest_fs_limit,
                                    VX_ENC_guest_gs_limit};
    static const uint32_t ar[5] = {VX_ENC_guest_ss_ar_bytes, VX_ENC_guest_ds_ar_bytes,
                                   VX_ENC_guest_es_ar_bytes, VX_ENC_guest_fs_ar_bytes,
                                   VX_ENC_guest_gs_ar_bytes};
    for (int i = 0; i < 5; i++) {
        vx_vmcs_put(t->v, sel[i], 0x10);
        vx_vmcs_put(t->v, lim[i], 0xffffffff);
        vx_vmcs_put(t->v, ar[i], 0xc093);
    }
    P(guest_ldtr_ar_bytes, 0x10000);
    P(guest_tr_selector, 0x30);
    P(guest_tr_limit, 0x67);
    P(guest_tr_ar_bytes, 0x8b);
    P(guest_gdtr_limit, 0x37);
    P(guest_idtr_limit, 0xfff);
    P(vmcs_link_pointer, ~0ull);
}

/* ---- helpers for the cases ---- */

static void sec(tc *t, uint32_t bits)
{
    OR(cpu_based_vm_exec_control, PROC_SECONDARY_CONTROLS);
    OR(secondary_vm_exec_control, bits);
}

static void ept(tc *t, uint32_t more)
{
    sec(t, PROC2_ENABLE_EPT | more);
    P(ept_pointer, 0x2000 | (3 << 3) | 6);
}

static void tpr_shadow(tc *t)
{
    OR(cpu_based_vm_exec_control, PROC_USE_TPR_SHADOW);
    P(virtual_apic_page_addr, 0x3000);
}

static void host32(tc *t)
{
    t->env.efer = 0;
    AND(vm_entry_controls, ~ENTRY_IA32E_MODE_GUEST);
    AND(vm_exit_controls, ~EXIT_HOST_ADDR_SPACE_SIZE);
}

static void not_ia32e_guest(tc *t)
{
    AND(vm_entry_controls, ~ENTRY_IA32E_MODE_GUEST);
    P(guest_cs_ar_bytes, 0xc09b);
}

/* Virtual-8086 segments that pass: base = selector << 4, limit FFFFH,
 * access rights F3H. */
static void v86(tc *t)
{
    OR(guest_rflags, 1u << 17);
    static const uint32_t s[6][4] = {
        {VX_ENC_guest_cs_selector, VX_ENC_guest_cs_base, VX_ENC_guest_cs_limit, VX_ENC_guest_cs_ar_bytes},
        {VX_ENC_guest_ss_selector, VX_ENC_guest_ss_base, VX_ENC_guest_ss_limit, VX_ENC_guest_ss_ar_bytes},
        {VX_ENC_guest_ds_selector, VX_ENC_guest_ds_base, VX_ENC_guest_ds_limit, VX_ENC_guest_ds_ar_bytes},
        {VX_ENC_guest_es_selector, VX_ENC_guest_es_base, VX_ENC_guest_es_limit, VX_ENC_guest_es_ar_bytes},
        {VX_ENC_guest_fs_selector, VX_ENC_guest_fs_base, VX_ENC_guest_fs_limit, VX_ENC_guest_fs_ar_bytes},
        {VX_ENC_guest_gs_selector, VX_ENC_guest_gs_base, VX_ENC_guest_gs_limit, VX_ENC_guest_gs_ar_bytes},
    };
    for (int i = 0; i < 6; i++) {
        vx_vmcs_put(t->v, s[i][1], vx_vmcs_get(t->v, s[i][0]) << 4);
        vx_vmcs_put(t->v, s[i][2], 0xffff);
        vx_vmcs_put(t->v, s[i][3], 0xf3);
    }
}

static void ldtr_usable(tc *t)
{
    P(guest_ldtr_selector, 0x40);
    P(guest_ldtr_limit, 0xffff);
    P(guest_ldtr_ar_bytes, 0x82);
}

static void inject(tc *t, uint32_t type, uint32_t vector, int code)
{
    P(vm_entry_intr_info_field, INTR_INFO_VALID | type << 8 | vector | (code ? INTR_INFO_DELIVER_CODE : 0));
}

static void ring3(tc *t)
{
    P(guest_cs_selector, 0x0b);
    P(guest_ss_selector, 0x13);
    P(guest_cs_ar_bytes, 0xa0fb);
    P(guest_ss_ar_bytes, 0xc0f3);
}

#define NC 0x800000000000ull /* not canonical with 48-bit linear addresses */

/* ---- the cases: one per rule ---- */

typedef struct kase {
    int id;
    void (*breaks)(tc *t);
} kase;

#define CASE(rule, body) static void c_##rule(tc *t) { body; }
CASE(ctl_pin_reserved, P(pin_based_vm_exec_control, 0))
CASE(ctl_proc_reserved, P(cpu_based_vm_exec_control, 0))
CASE(ctl_proc2_reserved, sec(t, 1u << 21))
CASE(ctl_cr3_target_count, P(cr3_target_count, 5))
CASE(ctl_io_bitmap_a, OR(cpu_based_vm_exec_control, PROC_USE_IO_BITMAPS); P(io_bitmap_a, 0x1001))
CASE(ctl_io_bitmap_b, OR(cpu_based_vm_exec_control, PROC_USE_IO_BITMAPS); P(io_bitmap_b, 1ull << 46))
CASE(ctl_msr_bitmap, OR(cpu_based_vm_exec_control, PROC_USE_MSR_BITMAPS); P(msr_bitmap, 0x10))
CASE(ctl_virtual_apic_page, tpr_shadow(t); P(virtual_apic_page_addr, 0x3123))
CASE(ctl_tpr_threshold_reserved, tpr_shadow(t); P(tpr_threshold, 0x10))
CASE(ctl_tpr_threshold_vtpr, tpr_shadow(t); t->mem[0x3080] = 0x20; P(tpr_threshold, 3))
CASE(ctl_no_tpr_shadow, sec(t, PROC2_VIRT_X2APIC_MODE))
CASE(ctl_virtual_nmis, OR(pin_based_vm_exec_control, PIN_VIRTUAL_NMIS))
CASE(ctl_nmi_window, OR(cpu_based_vm_exec_control, PROC_NMI_WINDOW_EXITING))
CASE(ctl_apic_access_page, sec(t, PROC2_VIRT_APIC_ACCESSES); P(apic_access_addr, 5))
CASE(ctl_x2apic_apic_access, tpr_shadow(t); sec(t, PROC2_VIRT_X2APIC_MODE | PROC2_VIRT_APIC_ACCESSES);
     P(apic_access_addr, 0x4000))
CASE(ctl_vid_ext_intr, tpr_shadow(t); sec(t, PROC2_VIRT_INTR_DELIVERY))
CASE(ctl_posted_intr_vid, OR(pin_based_vm_exec_control, PIN_POSTED_INTR))
CASE(ctl_posted_intr_ack, OR(pin_based_vm_exec_control, PIN_POSTED_INTR | PIN_EXT_INTR_EXITING);
     tpr_shadow(t); sec(t, PROC2_VIRT_INTR_DELIVERY))
CASE(ctl_posted_intr_vector, c_ctl_posted_intr_ack(t); OR(vm_exit_controls, EXIT_ACK_INTR_ON_EXIT);
     P(posted_intr_nv, 0x100))
CASE(ctl_posted_intr_desc, c_ctl_posted_intr_vector(t); P(posted_intr_nv, 0xf2); P(posted_intr_desc_addr, 0x1001))
CASE(ctl_vpid_zero, sec(t, PROC2_ENABLE_VPID))
CASE(ctl_eptp_memtype, ept(t, 0); P(ept_pointer, 0x2000 | (3 << 3) | 5))
CASE(ctl_eptp_walk_length, ept(t, 0); P(ept_pointer, 0x2000 | (2 << 3) | 6))
CASE(ctl_eptp_ad, ept(t, 0); OR(ept_pointer, 1u << 6); t->p.vmx_msr[0x48C - 0x480] &= ~(1ull << 21))
CASE(ctl_eptp_reserved, ept(t, 0); OR(ept_pointer, 1u << 8))
CASE(ctl_pml_ept, sec(t, PROC2_ENABLE_PML))
CASE(ctl_pml_address, ept(t, PROC2_ENABLE_PML); P(pml_address, 0x10))
CASE(ctl_unrestricted_ept, sec(t, PROC2_UNRESTRICTED_GUEST))
CASE(ctl_mode_based_ept, sec(t, PROC2_MODE_BASED_EPT_EXEC))
CASE(ctl_vmfunc_reserved, sec(t, PROC2_ENABLE_VMFUNC); P(vm_function_control, 2))
CASE(ctl_eptp_switching_ept, sec(t, PROC2_ENABLE_VMFUNC); P(vm_function_control, 1))
CASE(ctl_eptp_list, ept(t, PROC2_ENABLE_VMFUNC); P(vm_function_control, 1); P(eptp_list_address, 8))
CASE(ctl_vmread_bitmap, sec(t, PROC2_VMCS_SHADOWING); P(vmread_bitmap, 1))
CASE(ctl_vmwrite_bitmap, sec(t, PROC2_VMCS_SHADOWING); P(vmwrite_bitmap, 1))
CASE(ctl_ve_info, sec(t, PROC2_EPT_VE); P(ve_information_address, 1))
CASE(ctl_exit_reserved, P(vm_exit_controls, 0))
CASE(ctl_exit_save_preempt, OR(vm_exit_controls, EXIT_SAVE_PREEMPT_TIMER))
CASE(ctl_exit_msr_store, P(vm_exit_msr_store_count, 1); P(vm_exit_msr_store_addr, 8))
CASE(ctl_exit_msr_load, P(vm_exit_msr_load_count, 1); P(vm_exit_msr_load_addr, 8))
CASE(ctl_entry_reserved, P(vm_entry_controls, 0))
CASE(ctl_entry_smm, t->p.vmx_msr[0x490 - 0x480] |= 0xC00ull << 32; OR(vm_entry_controls, ENTRY_TO_SMM))
CASE(ctl_inject_type, inject(t, 1, 0, 0))
CASE(ctl_inject_nmi_vector, inject(t, INTR_TYPE_NMI, 3, 0))
CASE(ctl_inject_exception_vector, inject(t, INTR_TYPE_HW_EXCEPTION, 32, 0))
CASE(ctl_inject_other_vector, inject(t, INTR_TYPE_OTHER, 1, 0))
CASE(ctl_inject_error_code_mode, ept(t, PROC2_UNRESTRICTED_GUEST); P(guest_cr0, 0x20);
     inject(t, INTR_TYPE_HW_EXCEPTION, 13, 1))
CASE(ctl_inject_error_code_vector, inject(t, INTR_TYPE_HW_EXCEPTION, 13, 0))
CASE(ctl_inject_reserved, inject(t, INTR_TYPE_HW_EXCEPTION, 6, 0); OR(vm_entry_intr_info_field, 1u << 20))
CASE(ctl_inject_error_code, inject(t, INTR_TYPE_HW_EXCEPTION, 13, 1); P(vm_entry_exception_error_code, 0x10000))
CASE(ctl_inject_length, inject(t, INTR_TYPE_SW_INTR, 0x30, 0); P(vm_entry_instruction_len, 16))
CASE(ctl_entry_msr_load, P(vm_entry_msr_load_count, 1); P(vm_entry_msr_load_addr, 4))
CASE(host_cr0_fixed0, P(host_cr0, 0x80000011))
CASE(host_cr0_fixed1, OR(host_cr0, 1ull << 32))
CASE(host_cr4_fixed0, P(host_cr4, 0x20))
CASE(host_cr4_fixed1, OR(host_cr4, 1u << 24))
CASE(host_cr3, P(host_cr3, 1ull << 50))
CASE(host_sysenter_esp, P(host_ia32_sysenter_esp, NC))
CASE(host_sysenter_eip, P(host_ia32_sysenter_eip, NC))
CASE(host_perf_global_ctrl, OR(vm_exit_controls, EXIT_LOAD_PERF_GLOBAL); P(host_ia32_perf_global_ctrl, 1))
CASE(host_pat, OR(vm_exit_controls, EXIT_LOAD_PAT); P(host_ia32_pat, 2))
CASE(host_efer_reserved, OR(vm_exit_controls, EXIT_LOAD_EFER); P(host_ia32_efer, 0x502))
CASE(host_efer_lma, OR(vm_exit_controls, EXIT_LOAD_EFER); P(host_ia32_efer, 0x100))
CASE(host_efer_lme, OR(vm_exit_controls, EXIT_LOAD_EFER); P(host_ia32_efer, 0x400))
CASE(host_es_selector, P(host_es_selector, 0x13))
CASE(host_cs_selector, P(host_cs_selector, 0x0c))
CASE(host_ss_selector, P(host_ss_selector, 0x11))
CASE(host_ds_selector, P(host_ds_selector, 0x12))
CASE(host_fs_selector, P(host_fs_selector, 0x14))
CASE(host_gs_selector, P(host_gs_selector, 0x17))
CASE(host_tr_selector, P(host_tr_selector, 0x33))
CASE(host_cs_null, P(host_cs_selector, 0))
CASE(host_tr_null, P(host_tr_selector, 0))
CASE(host_ss_null, AND(vm_exit_controls, ~EXIT_HOST_ADDR_SPACE_SIZE); P(host_ss_selector, 0))
CASE(host_fs_base, P(host_fs_base, NC))
CASE(host_gs_base, P(host_gs_base, NC))
CASE(host_gdtr_base, P(host_gdtr_base, NC))
CASE(host_idtr_base, P(host_idtr_base, NC))
CASE(host_tr_base, P(host_tr_base, NC))
CASE(size_guest_outside_ia32e, t->env.efer = 0)
CASE(size_host_outside_ia32e, t->env.efer = 0; AND(vm_entry_controls, ~ENTRY_IA32E_MODE_GUEST))
CASE(size_host_inside_ia32e, AND(vm_exit_controls, ~EXIT_HOST_ADDR_SPACE_SIZE))
CASE(size_host32_pcide, host32(t); OR(host_cr4, CR4_PCIDE))
CASE(size_host32_rip, host32(t); P(host_rip, 1ull << 32))
CASE(size_host64_pae, P(host_cr4, 0x2000))
CASE(size_host64_rip, P(host_rip, NC))
CASE(guest_cr0_fixed0, P(guest_cr0, 0x80000011))
CASE(guest_cr0_fixed1, OR(guest_cr0, 1ull << 32))
CASE(guest_cr0_pg_pe, ept(t, PROC2_UNRESTRICTED_GUEST); P(guest_cr0, 0x80000030))
CASE(guest_cr4_fixed0, P(guest_cr4, 0x20))
CASE(guest_cr4_fixed1, OR(guest_cr4, 1u << 24))
CASE(guest_debugctl, OR(vm_entry_controls, ENTRY_LOAD_DEBUG_CONTROLS); P(guest_ia32_debugctl, 4))
CASE(guest_ia32e_pg, ept(t, PROC2_UNRESTRICTED_GUEST); P(guest_cr0, 0x31))
CASE(guest_ia32e_pae, P(guest_cr4, 0x2000))
CASE(guest_pcide, not_ia32e_guest(t); OR(guest_cr4, CR4_PCIDE))
CASE(guest_cr3, P(guest_cr3, 1ull << 50))
CASE(guest_dr7, OR(vm_entry_controls, ENTRY_LOAD_DEBUG_CONTROLS); P(guest_dr7, 1ull << 32))
CASE(guest_sysenter_esp, P(guest_sysenter_esp, NC))
CASE(guest_sysenter_eip, P(guest_sysenter_eip, NC))
CASE(guest_perf_global_ctrl, OR(vm_entry_controls, ENTRY_LOAD_PERF_GLOBAL); P(guest_ia32_perf_global_ctrl, 1))
CASE(guest_pat, OR(vm_entry_controls, ENTRY_LOAD_PAT); P(guest_ia32_pat, 2))
CASE(guest_efer_reserved, OR(vm_entry_controls, ENTRY_LOAD_EFER); P(guest_ia32_efer, 0x502))
CASE(guest_efer_lma, OR(vm_entry_controls, ENTRY_LOAD_EFER); P(guest_ia32_efer, 0x100))
CASE(guest_efer_lme, OR(vm_entry_controls, ENTRY_LOAD_EFER); P(guest_ia32_efer, 0x400))
CASE(guest_tr_ti, P(guest_tr_selector, 0x34))
CASE(guest_ldtr_ti, ldtr_usable(t); P(guest_ldtr_selector, 0x44))
CASE(guest_ss_rpl, P(guest_ss_selector, 0x13))
CASE(guest_cs_base_v86, v86(t); P(guest_cs_base, 0x1234))
CASE(guest_ss_base_v86, v86(t); P(guest_ss_base, 0x1234))
CASE(guest_ds_base_v86, v86(t); P(guest_ds_base, 0x1234))
CASE(guest_es_base_v86, v86(t); P(guest_es_base, 0x1234))
CASE(guest_fs_base_v86, v86(t); P(guest_fs_base, 0x1234))
CASE(guest_gs_base_v86, v86(t); P(guest_gs_base, 0x1234))
CASE(guest_tr_base, P(guest_tr_base, NC))
CASE(guest_fs_base, P(guest_fs_base, NC))
CASE(guest_gs_base, P(guest_gs_base, NC))
CASE(guest_ldtr_base, ldtr_usable(t); P(guest_ldtr_base, NC))
CASE(guest_cs_base, P(guest_cs_base, 1ull << 32))
CASE(guest_ss_base, P(guest_ss_base, 1ull << 32))
CASE(guest_ds_base, P(guest_ds_base, 1ull << 32))
CASE(guest_es_base, P(guest_es_base, 1ull << 32))
CASE(guest_cs_limit_v86, v86(t); P(guest_cs_limit, 0xfffff))
CASE(guest_ss_limit_v86, v86(t); P(guest_ss_limit, 0xfffff))
CASE(guest_ds_limit_v86, v86(t); P(guest_ds_limit, 0xfffff))
CASE(guest_es_limit_v86, v86(t); P(guest_es_limit, 0xfffff))
CASE(guest_fs_limit_v86, v86(t); P(guest_fs_limit, 0xfffff))
CASE(guest_gs_limit_v86, v86(t); P(guest_gs_limit, 0xfffff))
CASE(guest_cs_ar_v86, v86(t); P(guest_cs_ar_bytes, 0xf2))
CASE(guest_ss_ar_v86, v86(t); P(guest_ss_ar_bytes, 0xf2))
CASE(guest_ds_ar_v86, v86(t); P(guest_ds_ar_bytes, 0xf2))
CASE(guest_es_ar_v86, v86(t); P(guest_es_ar_bytes, 0xf2))
CASE(guest_fs_ar_v86, v86(t); P(guest_fs_ar_bytes, 0xf2))
CASE(guest_gs_ar_v86, v86(t); P(guest_gs_ar_bytes, 0xf2))
CASE(guest_cs_type, P(guest_cs_ar_bytes, 0xa091))
CASE(guest_ss_type, P(guest_ss_ar_bytes, 0xc091))
CASE(guest_ds_type, P(guest_ds_ar_bytes, 0xc092))
CASE(guest_es_type, P(guest_es_ar_bytes, 0xc09a))
CASE(guest_fs_type, P(guest_fs_ar_bytes, 0xc092))
CASE(guest_gs_type, P(guest_gs_ar_bytes, 0xc099))
CASE(guest_cs_s, P(guest_cs_ar_bytes, 0xa08b))
CASE(guest_ss_s, P(guest_ss_ar_bytes, 0xc083))
CASE(guest_ds_s, P(guest_ds_ar_bytes, 0xc083))
CASE(guest_es_s, P(guest_es_ar_bytes, 0xc083))
CASE(guest_fs_s, P(guest_fs_ar_bytes, 0xc083))
CASE(guest_gs_s, P(guest_gs_ar_bytes, 0xc083))
CASE(guest_cs_dpl_type3, ept(t, PROC2_UNRESTRICTED_GUEST); P(guest_cs_ar_bytes, 0xa0f3))
CASE(guest_cs_dpl_nonconforming, P(guest_cs_ar_bytes, 0xa0fb))
CASE(guest_cs_dpl_conforming, P(guest_cs_ar_bytes, 0xa0ff))
CASE(guest_ss_dpl_rpl, P(guest_cs_ar_bytes, 0xa0fb); P(guest_ss_ar_bytes, 0xc0f3))
CASE(guest_ss_dpl_real, ept(t, PROC2_UNRESTRICTED_GUEST); P(guest_cs_ar_bytes, 0xa093);
     P(guest_ss_ar_bytes, 0xc0f3))
CASE(guest_ds_dpl, P(guest_ds_selector, 0x13))
CASE(guest_es_dpl, P(guest_es_selector, 0x13))
CASE(guest_fs_dpl, P(guest_fs_selector, 0x13))
CASE(guest_gs_dpl, P(guest_gs_selector, 0x13))
CASE(guest_cs_present, P(guest_cs_ar_bytes, 0xa01b))
CASE(guest_ss_present, P(guest_ss_ar_bytes, 0xc013))
CASE(guest_ds_present, P(guest_ds_ar_bytes, 0xc013))
CASE(guest_es_present, P(guest_es_ar_bytes, 0xc013))
CASE(guest_fs_present, P(guest_fs_ar_bytes, 0xc013))
CASE(guest_gs_present, P(guest_gs_ar_bytes, 0xc013))
CASE(guest_cs_ar_reserved, OR(guest_cs_ar_bytes, 0x100))
CASE(guest_ss_ar_reserved, OR(guest_ss_ar_bytes, 0x100))
CASE(guest_ds_ar_reserved, OR(guest_ds_ar_bytes, 0x200))
CASE(guest_es_ar_reserved, OR(guest_es_ar_bytes, 0x400))
CASE(guest_fs_ar_reserved, OR(guest_fs_ar_bytes, 0x800))
CASE(guest_gs_ar_reserved, OR(guest_gs_ar_bytes, 0x20000))
CASE(guest_cs_db, P(guest_cs_ar_bytes, 0xe09b))
CASE(guest_cs_granularity, P(guest_cs_limit, 0xfffffff0))
CASE(guest_ss_granularity, P(guest_ss_limit, 0xffff0))
CASE(guest_ds_granularity, P(guest_ds_limit, 0xffff0))
CASE(guest_es_granularity, P(guest_es_limit, 0xffff0))
CASE(guest_fs_granularity, P(guest_fs_limit, 0xffff0))
CASE(guest_gs_granularity, P(guest_gs_ar_bytes, 0x4093))
CASE(guest_tr_type, P(guest_tr_ar_bytes, 0x89))
CASE(guest_tr_s, P(guest_tr_ar_bytes, 0x9b))
CASE(guest_tr_present, P(guest_tr_ar_bytes, 0x0b))
CASE(guest_tr_ar_reserved, P(guest_tr_ar_bytes, 0x18b))
CASE(guest_tr_granularity, P(guest_tr_ar_bytes, 0x808b))
CASE(guest_tr_unusable, P(guest_tr_ar_bytes, 0x1008b))
CASE(guest_ldtr_type, ldtr_usable(t); P(guest_ldtr_ar_bytes, 0x83))
CASE(guest_ldtr_s, ldtr_usable(t); P(guest_ldtr_ar_bytes, 0x92))
CASE(guest_ldtr_present, ldtr_usable(t); P(guest_ldtr_ar_bytes, 0x02))
CASE(guest_ldtr_ar_reserved, ldtr_usable(t); P(guest_ldtr_ar_bytes, 0x182))
CASE(guest_ldtr_granularity, ldtr_usable(t); P(guest_ldtr_ar_bytes, 0x8082); P(guest_ldtr_limit, 0x10))
CASE(guest_gdtr_base, P(guest_gdtr_base, NC))
CASE(guest_idtr_base, P(guest_idtr_base, NC))
CASE(guest_gdtr_limit, P(guest_gdtr_limit, 0x10000))
CASE(guest_idtr_limit, P(guest_idtr_limit, 0x10000))
CASE(guest_rip_high, P(guest_cs_ar_bytes, 0xc09b); P(guest_rip, 1ull << 32))
CASE(guest_rip_canonical, P(guest_rip, NC))
CASE(guest_rflags_reserved, P(guest_rflags, 0))
CASE(guest_rflags_vm, v86(t))
CASE(guest_rflags_if, inject(t, INTR_TYPE_EXT_INTR, 0x20, 0))
CASE(guest_activity, P(guest_activity_state, 4))
CASE(guest_activity_hlt_ss_dpl, ring3(t); P(guest_activity_state, ACTIVITY_HLT))
CASE(guest_activity_blocking, P(guest_activity_state, ACTIVITY_HLT); P(guest_rflags, 0x202);
     P(guest_interruptibility_info, INTERRUPTIBILITY_STI))
CASE(guest_activity_hlt_event, P(guest_activity_state, ACTIVITY_HLT); inject(t, INTR_TYPE_HW_EXCEPTION, 6, 0))
CASE(guest_activity_shutdown_event, P(guest_activity_state, ACTIVITY_SHUTDOWN); P(guest_rflags, 0x202);
     inject(t, INTR_TYPE_EXT_INTR, 0x20, 0))
CASE(guest_activity_sipi_event, P(guest_activity_state, ACTIVITY_WAIT_SIPI); inject(t, INTR_TYPE_NMI, 2, 0))
CASE(guest_intr_reserved, P(guest_interruptibility_info, 0x10))
CASE(guest_intr_sti_movss, P(guest_rflags, 0x202); P(guest_interruptibility_info, 3))
CASE(guest_intr_sti_if, P(guest_interruptibility_info, INTERRUPTIBILITY_STI))
CASE(guest_intr_ext_inject, P(guest_rflags, 0x202); inject(t, INTR_TYPE_EXT_INTR, 0x20, 0);
     P(guest_interruptibility_info, INTERRUPTIBILITY_MOV_SS))
CASE(guest_intr_nmi_inject, inject(t, INTR_TYPE_NMI, 2, 0); P(guest_interruptibility_info, INTERRUPTIBILITY_MOV_SS))
CASE(guest_intr_smi, P(guest_interruptibility_info, INTERRUPTIBILITY_SMI))
CASE(guest_intr_virtual_nmi, OR(pin_based_vm_exec_control, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
     inject(t, INTR_TYPE_NMI, 2, 0); P(guest_interruptibility_info, INTERRUPTIBILITY_NMI))
CASE(guest_pending_dbg_reserved, P(guest_pending_dbg_exceptions, 0x10))
CASE(guest_pending_dbg_bs_set, P(guest_interruptibility_info, INTERRUPTIBILITY_MOV_SS); P(guest_rflags, 0x102))
CASE(guest_pending_dbg_bs_clear, P(guest_interruptibility_info, INTERRUPTIBILITY_MOV_SS);
     P(guest_pending_dbg_exceptions, 0x4000))
CASE(guest_link_alignment, P(vmcs_link_pointer, 0x5001))
CASE(guest_link_width, P(vmcs_link_pointer, 1ull << 50))
CASE(guest_link_revision, P(vmcs_link_pointer, 0x5000); t->mem[0x5000] = 0x34)
CASE(guest_link_shadow, P(vmcs_link_pointer, 0x5000); t->mem[0x5000] = 4; t->mem[0x5003] = 0x80)
CASE(guest_pdpte, not_ia32e_guest(t); P(guest_cr3, 0x6000); t->mem[0x6000] = 3)

#define K(rule) {VX_CHECK_##rule, c_##rule}
static const kase cases[] = {
    K(ctl_pin_reserved), K(ctl_proc_reserved), K(ctl_proc2_reserved), K(ctl_cr3_target_count),
    K(ctl_io_bitmap_a), K(ctl_io_bitmap_b), K(ctl_msr_bitmap), K(ctl_virtual_apic_page),
    K(ctl_tpr_threshold_reserved), K(ctl_tpr_threshold_vtpr), K(ctl_no_tpr_shadow),
    K(ctl_virtual_nmis), K(ctl_nmi_window), K(ctl_apic_access_page), K(ctl_x2apic_apic_access),
    K(ctl_vid_ext_intr), K(ctl_posted_intr_vid), K(ctl_posted_intr_ack), K(ctl_posted_intr_vector),
    K(ctl_posted_intr_desc), K(ctl_vpid_zero), K(ctl_eptp_memtype), K(ctl_eptp_walk_length),
    K(ctl_eptp_ad), K(ctl_eptp_reserved), K(ctl_pml_ept), K(ctl_pml_address),
    K(ctl_unrestricted_ept), K(ctl_mode_based_ept), K(ctl_vmfunc_reserved),
    K(ctl_eptp_switching_ept), K(ctl_eptp_list), K(ctl_vmread_bitmap), K(ctl_vmwrite_bitmap),
    K(ctl_ve_info), K(ctl_exit_reserved), K(ctl_exit_save_preempt), K(ctl_exit_msr_store),
    K(ctl_exit_msr_load), K(ctl_entry_reserved), K(ctl_entry_smm), K(ctl_inject_type),
    K(ctl_inject_nmi_vector), K(ctl_inject_exception_vector), K(ctl_inject_other_vector),
    K(ctl_inject_error_code_mode), K(ctl_inject_error_code_vector), K(ctl_inject_reserved),
    K(ctl_inject_error_code), K(ctl_inject_length), K(ctl_entry_msr_load),
    K(host_cr0_fixed0), K(host_cr0_fixed1), K(host_cr4_fixed0), K(host_cr4_fixed1), K(host_cr3),
    K(host_sysenter_esp), K(host_sysenter_eip), K(host_perf_global_ctrl), K(host_pat),
    K(host_efer_reserved), K(host_efer_lma), K(host_efer_lme), K(host_es_selector),
    K(host_cs_selector), K(host_ss_selector), K(host_ds_selector), K(host_fs_selector),
    K(host_gs_selector), K(host_tr_selector), K(host_cs_null), K(host_tr_null), K(host_ss_null),
    K(host_fs_base), K(host_gs_base), K(host_gdtr_base), K(host_idtr_base), K(host_tr_base),
    K(size_guest_outside_ia32e), K(size_host_outside_ia32e), K(size_host_inside_ia32e),
    K(size_host32_pcide), K(size_host32_rip), K(size_host64_pae), K(size_host64_rip),
    K(guest_cr0_fixed0), K(guest_cr0_fixed1), K(guest_cr0_pg_pe), K(guest_cr4_fixed0),
    K(guest_cr4_fixed1), K(guest_debugctl), K(guest_ia32e_pg), K(guest_ia32e_pae), K(guest_pcide),
    K(guest_cr3), K(guest_dr7), K(guest_sysenter_esp), K(guest_sysenter_eip),
    K(guest_perf_global_ctrl), K(guest_pat), K(guest_efer_reserved), K(guest_efer_lma),
    K(guest_efer_lme), K(guest_tr_ti), K(guest_ldtr_ti), K(guest_ss_rpl), K(guest_cs_base_v86),
    K(guest_ss_base_v86), K(guest_ds_base_v86), K(guest_es_base_v86), K(guest_fs_base_v86),
    K(guest_gs_base_v86), K(guest_tr_base), K(guest_fs_base), K(guest_gs_base), K(guest_ldtr_base),
    K(guest_cs_base), K(guest_ss_base), K(guest_ds_base), K(guest_es_base), K(guest_cs_limit_v86),
    K(guest_ss_limit_v86), K(guest_ds_limit_v86), K(guest_es_limit_v86), K(guest_fs_limit_v86),
    K(guest_gs_limit_v86), K(guest_cs_ar_v86), K(guest_ss_ar_v86), K(guest_ds_ar_v86),
    K(guest_es_ar_v86), K(guest_fs_ar_v86), K(guest_gs_ar_v86), K(guest_cs_type), K(guest_ss_type),
    K(guest_ds_type), K(guest_es_type), K(guest_fs_type), K(guest_gs_type), K(guest_cs_s),
    K(guest_ss_s), K(guest_ds_s), K(guest_es_s), K(guest_fs_s), K(guest_gs_s),
    K(guest_cs_dpl_type3), K(guest_cs_dpl_nonconforming), K(guest_cs_dpl_conforming),
    K(guest_ss_dpl_rpl), K(guest_ss_dpl_real), K(guest_ds_dpl), K(guest_es_dpl), K(guest_fs_dpl),
    K(guest_gs_dpl), K(guest_cs_present), K(guest_ss_present), K(guest_ds_present),
    K(guest_es_present), K(guest_fs_present), K(guest_gs_present), K(guest_cs_ar_reserved),
    K(guest_ss_ar_reserved), K(guest_ds_ar_reserved), K(guest_es_ar_reserved),
    K(guest_fs_ar_reserved), K(guest_gs_ar_reserved), K(guest_cs_db), K(guest_cs_granularity),
    K(guest_ss_granularity), K(guest_ds_granularity), K(guest_es_granularity),
    K(guest_fs_granularity), K(guest_gs_granularity), K(guest_tr_type), K(guest_tr_s),
    K(guest_tr_present), K(guest_tr_ar_reserved), K(guest_tr_granularity), K(guest_tr_unusable),
    K(guest_ldtr_type), K(guest_ldtr_s), K(guest_ldtr_present), K(guest_ldtr_ar_reserved),
    K(guest_ldtr_granularity), K(guest_gdtr_base), K(guest_idtr_base), K(guest_gdtr_limit),
    K(guest_idtr_limit), K(guest_rip_high), K(guest_rip_canonical), K(guest_rflags_reserved),
    K(guest_rflags_vm), K(guest_rflags_if), K(guest_activity), K(guest_activity_hlt_ss_dpl),
    K(guest_activity_blocking), K(guest_activity_hlt_event), K(guest_activity_shutdown_event),
    K(guest_activity_sipi_event), K(guest_intr_reserved), K(guest_intr_sti_movss),
    K(guest_intr_sti_if), K(guest_intr_ext_inject), K(guest_intr_nmi_inject), K(guest_intr_smi),
    K(guest_intr_virtual_nmi), K(guest_pending_dbg_reserved), K(guest_pending_dbg_bs_set),
    K(guest_pending_dbg_bs_clear), K(guest_link_alignment), K(guest_link_width),
    K(guest_link_revision), K(guest_link_shadow), K(guest_pdpte),
};

/* Rules no VMCS can break first, and why. */
static const struct { int id; const char *why; } unreachable[] = {
    {VX_CHECK_size_host32_guest, "implied: with LMA = 0 size_guest_outside_ia32e fails first, "
                                 "with LMA = 1 size_host_inside_ia32e does"},
};

/* The first rule the three groups report, or -1 if all pass. */
static int first_failure(tc *t, vx_entry_failure *f)
{
    uint64_t pdpte[4];
    if (vx_entry_check_controls(&t->env, f) < 0) return f->check;
    if (vx_entry_check_host(&t->env, f) < 0) return f->check;
    if (vx_entry_check_guest(&t->env, f, pdpte) < 0) return f->check;
    return -1;
}

START_TEST(valid_state_passes)
{
    tc *t = calloc(1, sizeof *t);
    base(t);
    vx_entry_failure f;
    int r = first_failure(t, &f);
    ck_assert_msg(r < 0, "the base state fails %s", vx_check_name(r));
    vx_vmcs_free(t->v);
    free(t);
}
END_TEST

START_TEST(each_rule)
{
    tc *t = calloc(1, sizeof *t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        base(t);
        cases[i].breaks(t);
        vx_entry_failure f;
        int r = first_failure(t, &f);
        ck_assert_msg(r == cases[i].id, "breaking %s: %s reported", vx_check_name(cases[i].id),
                      r < 0 ? "nothing" : vx_check_name(r));
        ck_assert_msg(f.nfields >= 1, "%s: no fields reported", vx_check_name(r));
        if (!strncmp(vx_check_name(r), "guest_link", 10)) ck_assert_uint_eq(f.qualification, 4);
        else if (r == VX_CHECK_guest_pdpte) ck_assert_uint_eq(f.qualification, 2);
        else ck_assert_uint_eq(f.qualification, 0);
        vx_vmcs_free(t->v);
    }
    free(t);
}
END_TEST

START_TEST(every_rule_has_a_case)
{
    for (int id = 0; id < VX_CHECK_COUNT; id++) {
        int n = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) n += cases[i].id == id;
        for (size_t i = 0; i < sizeof unreachable / sizeof unreachable[0]; i++) n += unreachable[i].id == id;
        ck_assert_msg(n == 1, "rule %s has %d cases", vx_check_name(id), n);
    }
    /* Classes follow the prefixes. */
    for (int id = 0; id < VX_CHECK_COUNT; id++) {
        const char *n = vx_check_name(id);
        int cls = !strncmp(n, "ctl_", 4) ? VX_CHECK_CLASS_CONTROL
                : !strncmp(n, "guest_", 6) ? VX_CHECK_CLASS_GUEST : VX_CHECK_CLASS_HOST;
        ck_assert_msg(vx_check_class(id) == cls, "%s: class %d", n, vx_check_class(id));
        ck_assert_msg(vx_check_sdm(id)[0] == '2' && strlen(vx_check_desc(id)) > 10, "%s", n);
    }
}
END_TEST

/* docs/entry-checks.md lists exactly the rules of the table. */
START_TEST(documented)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../docs/entry-checks.md", getenv("VX_PROFILE_SRC"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "%s", path);
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = 0;
    fclose(f);
    int rows = 0;
    for (const char *p = doc; (p = strstr(p, "\n| ")); p++) rows++;
    for (int id = 0; id < VX_CHECK_COUNT; id++) {
        char cell[96];
        snprintf(cell, sizeof cell, "| `%s` |", vx_check_name(id));
        ck_assert_msg(strstr(doc, cell), "docs/entry-checks.md lacks %s", vx_check_name(id));
    }
    /* Two tables: the classes (header and 3 rows), the rules (header and
     * one row each): no rule listed twice or missing. */
    ck_assert_int_eq(rows, 4 + 1 + VX_CHECK_COUNT);
}
END_TEST

int main(void)
{
    if (!getenv("VX_PROFILE_SRC")) {
        fprintf(stderr, "run through meson (VX_PROFILE_SRC)\n");
        return 1;
    }
    Suite *s = suite_create("entry_checks");
    TCase *tcs = tcase_create("entry_checks");
    tcase_add_test(tcs, valid_state_passes);
    tcase_add_test(tcs, each_rule);
    tcase_add_test(tcs, every_rule_has_a_case);
    tcase_add_test(tcs, documented);
    suite_add_tcase(s, tcs);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
