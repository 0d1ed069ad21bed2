/*
 * test_profile.c - CPU profiles (vmcs/profile.c, profiles/NAME.json): the
 * shipped profiles load with the values the rest of the suite relies
 * on (the cycle model's costs among them), CPUID follows Intel's rule
 * above the maximum leaf, and every validation rule rejects a profile
 * that breaks it with a one-line reason naming the file and the problem.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmcs/profile.h"
#include "../vmcs/vmcs.h"

START_TEST(shipped_profiles)
{
    vx_profile p;
    char err[256];
    ck_assert_msg(vx_profile_load("icelake-server", NULL, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.name, "icelake-server");
    ck_assert_uint_eq(p.maxphyaddr, 46);
    uint64_t v;
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x480, &v), 0);
    ck_assert_uint_eq(v, 0x00da040000000004ull);
    ck_assert_uint_eq(vx_profile_vmcs_revision(&p), 4);
    ck_assert_uint_eq(vx_profile_vmcs_size(&p), 1024);
    /* The model's image of the fields this processor has fits in it. */
    ck_assert_uint_le(vx_vmcs_image_bytes(&p), 1024);
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x48B, &v), 0);
    ck_assert_uint_eq(v >> 32 & 0xA2, 0xA2);        /* EPT, VPID, unrestricted guest */
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x481, &v), 0);
    ck_assert_uint_eq(v >> 32 & (1u << 6), 1u << 6); /* VMX-preemption timer */
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x48E, &v), 0); /* TRUE_* MSRs */
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x492, &v), -1);
    ck_assert_ptr_nonnull(vx_profile_msr_find(&p, 0x277));
    uint32_t r[4];
    vx_profile_cpuid(&p, 1, 0, r);
    ck_assert_uint_eq(r[0], 0x606a6);
    ck_assert_uint_eq(r[2] >> 5 & 1, 1);
    ck_assert_msg(vx_profile_load("minimal", NULL, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.maxphyaddr, 36);
    ck_assert_uint_le(vx_vmcs_image_bytes(&p), vx_profile_vmcs_size(&p));
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x48B, &v), -1);
    ck_assert_int_eq(vx_profile_vmx_msr(&p, 0x485, &v), 0);
    ck_assert_uint_eq(v >> 29 & 1, 0);
    char names[8][64];
    ck_assert_int_eq(vx_profile_list(NULL, names, 8), 2);
    ck_assert_str_eq(names[0], "icelake-server");
    ck_assert_str_eq(names[1], "minimal");
}
END_TEST

/* A description is kept whole (vmxsim profiles prints it), never cut. */
START_TEST(descriptions_whole)
{
    static const char *const names[] = {"icelake-server", "minimal"};
    for (int k = 0; k < 2; k++) {
        char src[512], err[256];
        snprintf(src, sizeof src, "%s/%s.json", getenv("VX_PROFILE_SRC"), names[k]);
        json_t *j = json_load_file(src, 0, NULL);
        ck_assert_ptr_nonnull(j);
        const char *d = json_string_value(json_object_get(j, "description"));
        ck_assert_ptr_nonnull(d);
        vx_profile p;
        ck_assert_msg(vx_profile_load(names[k], NULL, &p, err, sizeof err) == 0, "%s", err);
        ck_assert_str_eq(p.description, d);
        json_decref(j);
    }
}
END_TEST

START_TEST(cpuid_above_maximum)
{
    vx_profile p;
    char err[256];
    ck_assert_int_eq(vx_profile_load("icelake-server", NULL, &p, err, sizeof err), 0);
    uint32_t hi[4], top[4], zero[4];
    vx_profile_cpuid(&p, 0x1b, 0, top);       /* the highest basic leaf (absent: zeros) */
    vx_profile_cpuid(&p, 0x1c, 0, hi);        /* above it: the same */
    ck_assert_mem_eq(hi, top, sizeof hi);
    vx_profile_cpuid(&p, 0x80000009, 0, hi);  /* above the highest extended leaf */
    ck_assert_mem_eq(hi, top, sizeof hi);
    vx_profile_cpuid(&p, 2, 0, zero);         /* in range but not listed: zeros */
    ck_assert_uint_eq(zero[0] | zero[1] | zero[2] | zero[3], 0);
}
END_TEST

static char dir[64];

/* The minimal profile's JSON with one change (NULL = as is), written as
 * DIR/t.json and loaded into *p; returns the loader's error ("" if it
 * loaded). */
static const char *load_changed_into(void (*change)(json_t *), vx_profile *p)
{
    static char err[512];
    char src[512], dst[128];
    snprintf(src, sizeof src, "%s/minimal.json", getenv("VX_PROFILE_SRC"));
    json_t *j = json_load_file(src, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_object_set_new(j, "name", json_string("t"));
    if (change) change(j);
    snprintf(dst, sizeof dst, "%s/t.json", dir);
    ck_assert_int_eq(json_dump_file(j, dst, 0), 0);
    json_decref(j);
    err[0] = 0;
    vx_profile_load("t", dir, p, err, sizeof err);
    /* Drop the directory prefix for comparison. */
    size_t n = strlen(dir) + 1;
    return !strncmp(err, dir, strlen(dir)) ? err + n : err;
}

static const char *load_changed(void (*change)(json_t *))
{
    vx_profile p;
    return load_changed_into(change, &p);
}

static void set_msr(json_t *j, const char *name, const char *v)
{
    json_object_set_new(json_object_get(j, "vmx_msrs"), name, json_string(v));
}

static void c_none(json_t *j) { (void)j; }
/* Descriptions: the longest that fits is kept, one character more is
 * refused. */
static void c_desc(json_t *j, size_t n)
{
    char *d = malloc(n + 1);
    memset(d, 'd', n);
    d[n] = 0;
    json_object_set_new(j, "description", json_string(d));
    free(d);
}
static void c_desc_max(json_t *j) { c_desc(j, sizeof ((vx_profile *)0)->description - 1); }
static void c_desc_long(json_t *j) { c_desc(j, sizeof ((vx_profile *)0)->description); }
static void c_desc_type(json_t *j) { json_object_set_new(j, "description", json_integer(1)); }
static void c_key(json_t *j) { json_object_set_new(j, "costs", json_object()); }
static void c_hex(json_t *j) { set_msr(j, "IA32_VMX_MISC", "12"); }
static void c_msr(json_t *j) { set_msr(j, "0x47f", "0x0"); }
static void c_rev31(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x00d8040080000004"); }
static void c_size(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x00d8000000000004"); }
/* VMCS sizes too small for the model's image of the supported fields
 * (docs/vmcs-layout.md): 512 bytes, and 8 (not even the header). */
static void c_small(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x005a020000000004"); }
static void c_tiny(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x005a000800000004"); }
static void c_memtype(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x00d4040000000004"); }
static void c_ctl(json_t *j) { set_msr(j, "IA32_VMX_PINBASED_CTLS", "0x0000001600000017"); }
static void c_fixed(json_t *j) { set_msr(j, "IA32_VMX_CR0_FIXED1", "0x7fffffff"); }
static void c_vmxe(json_t *j) { set_msr(j, "IA32_VMX_CR4_FIXED0", "0x0"); }
static void c_proc2(json_t *j) { set_msr(j, "IA32_VMX_PROCBASED_CTLS", "0xfff9fffe0401e172"); }
static void c_true(json_t *j) { set_msr(j, "IA32_VMX_BASIC", "0x00da040000000004"); }
static void c_missing(json_t *j) { json_object_del(json_object_get(j, "vmx_msrs"), "IA32_VMX_MISC"); }
static void c_width(json_t *j) { json_object_set_new(j, "maxphyaddr", json_integer(40)); }
static void c_novmx(json_t *j)
{
    json_t *l1 = json_array_get(json_object_get(j, "cpuid"), 1);
    json_object_set_new(l1, "ecx", json_string("0x0"));
}
static void c_dupleaf(json_t *j)
{
    json_t *a = json_object_get(j, "cpuid");
    json_array_append(a, json_array_get(a, 0));
}
static void c_owned(json_t *j)
{
    json_array_append_new(json_object_get(j, "msrs"),
                          json_pack("{s:s, s:s}", "index", "0x3a", "value", "0x5"));
}

START_TEST(validation_rules)
{
    ck_assert_str_eq(load_changed(c_none), "");
    ck_assert_str_eq(load_changed(c_desc_max), "");
    ck_assert_str_eq(load_changed(c_desc_long), "t.json: \"description\" is 512 bytes long, at most 511 are allowed");
    ck_assert_str_eq(load_changed(c_desc_type), "t.json: \"description\" must be a string");
    ck_assert_str_eq(load_changed(c_key), "t.json: unknown key \"costs\" in the profile");
    ck_assert_str_eq(load_changed(c_hex), "t.json: vmx_msrs.IA32_VMX_MISC: '12' is not a hexadecimal string like \"0x1f\"");
    ck_assert_str_eq(load_changed(c_msr), "t.json: vmx_msrs: \"0x47f\" is not a VMX capability MSR (0x480-0x493 or a name such as IA32_VMX_BASIC)");
    ck_assert_str_eq(load_changed(c_rev31), "t.json: IA32_VMX_BASIC: bit 31 must be 0 (A.1)");
    ck_assert_str_eq(load_changed(c_size), "t.json: IA32_VMX_BASIC: VMCS size 0 is not in 1..4096 (A.1)");
    ck_assert_str_eq(load_changed(c_small), "t.json: IA32_VMX_BASIC: VMCS size 512 cannot hold field host_rsp (the image of the fields this profile supports needs 748 bytes, docs/vmcs-layout.md)");
    ck_assert_str_eq(load_changed(c_tiny), "t.json: IA32_VMX_BASIC: VMCS size 8 cannot hold the 16-byte header (the image of the fields this profile supports needs 748 bytes, docs/vmcs-layout.md)");
    ck_assert_str_eq(load_changed(c_memtype), "t.json: IA32_VMX_BASIC: memory type 5 is neither UC (0) nor WB (6) (A.1)");
    ck_assert_str_eq(load_changed(c_ctl), "t.json: IA32_VMX_PINBASED_CTLS: a bit required to be 1 (bits 31:0) is not allowed to be 1 (bits 63:32)");
    ck_assert_str_eq(load_changed(c_fixed), "t.json: IA32_VMX_CR0_FIXED0 has a bit that IA32_VMX_CR0_FIXED1 does not allow (A.7)");
    ck_assert_str_eq(load_changed(c_vmxe), "t.json: IA32_VMX_CR4_FIXED0: CR4.VMXE (bit 13) must be fixed to 1 (A.8)");
    ck_assert_str_eq(load_changed(c_proc2), "t.json: IA32_VMX_PROCBASED_CTLS2 must be present exactly when IA32_VMX_PROCBASED_CTLS allows bit 63 (A.3.3)");
    ck_assert_str_eq(load_changed(c_true), "t.json: IA32_VMX_TRUE_PINBASED_CTLS must be present exactly when IA32_VMX_BASIC[55] is 1 (A.1)");
    ck_assert_str_eq(load_changed(c_missing), "t.json: vmx_msrs: IA32_VMX_MISC is required (every VMX processor has 0x480-0x48A)");
    ck_assert_str_eq(load_changed(c_width), "t.json: \"maxphyaddr\" 40 disagrees with CPUID.80000008H:EAX[7:0] = 36");
    ck_assert_str_eq(load_changed(c_novmx), "t.json: CPUID.1:ECX.VMX[5] is 0: the profile has no VMX");
    ck_assert_str_eq(load_changed(c_dupleaf), "t.json: cpuid[9]: leaf 0x0 given twice");
    ck_assert_str_eq(load_changed(c_owned), "t.json: msrs[1]: MSR 0x3a is modelled by vmxsim itself and cannot be listed");
}
END_TEST

/* ---- The cycle model's costs ("cycles", docs/cycle-model.md) ---------- */

static const char *const class_names[] = {
#define VX_CYC_CLASS(n, d) #n,
#include "../vmcs/cycles.def"
};
static const char *const cost_names[] = {
#define VX_CYC_COST(n, d) #n,
#include "../vmcs/cycles.def"
};

/* Each shipped profile's costs arrive in vx_profile.cycles as its file
 * gives them, by the names of cycles.def; exit reasons without a cost of
 * their own are -1. */
START_TEST(shipped_cycles)
{
    static const char *const names[] = {"icelake-server", "minimal"};
    ck_assert_int_eq(sizeof class_names / sizeof class_names[0], VX_IC_COUNT);
    ck_assert_int_eq(sizeof cost_names / sizeof cost_names[0], VX_CC_COUNT);
    for (int k = 0; k < 2; k++) {
        char src[512], err[256];
        snprintf(src, sizeof src, "%s/%s.json", getenv("VX_PROFILE_SRC"), names[k]);
        json_t *j = json_load_file(src, 0, NULL);
        ck_assert_ptr_nonnull(j);
        json_t *cy = json_object_get(j, "cycles");
        vx_profile p;
        ck_assert_msg(vx_profile_load(names[k], NULL, &p, err, sizeof err) == 0, "%s", err);
        for (int i = 0; i < VX_IC_COUNT; i++)
            ck_assert_int_eq(p.cycles.cls[i], json_integer_value(json_object_get(
                                 json_object_get(cy, "classes"), class_names[i])));
        for (int i = 0; i < VX_CC_COUNT; i++)
            ck_assert_int_eq(p.cycles.cost[i], json_integer_value(json_object_get(
                                 json_object_get(cy, "costs"), cost_names[i])));
        /* The TSC runs at the core clock of the model: one tick a cycle. */
        ck_assert_uint_eq(p.cycles.tsc_num, 1);
        ck_assert_uint_eq(p.cycles.tsc_den, 1);
        json_t *r = json_object_get(cy, "vm_exit_by_reason");
        for (unsigned n = 0; n < VX_CYC_MAX_EXIT_REASON; n++) {
            json_t *v = json_object_get(r, vx_exit_reason_name(n));
            ck_assert_int_eq(p.cycles.exit_by_reason[n], v ? json_integer_value(v) : -1);
        }
        ck_assert_int_gt(p.cycles.exit_by_reason[VX_EXIT_CPUID], 0);
        ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_EPT_VIOLATION], -1);
        /* The cheap path is cheaper than the walk it saves. */
        ck_assert_uint_lt(p.cycles.cost[VX_CC_tlb_hit],
                          p.cycles.cost[VX_CC_walk_ref_guest] * 4);
        json_decref(j);
    }
}
END_TEST

static json_t *cyc(json_t *j, const char *table)
{
    json_t *c = json_object_get(j, "cycles");
    return table ? json_object_get(c, table) : c;
}
static void y_none(json_t *j) { json_object_del(j, "cycles"); }
static void y_type(json_t *j) { json_object_set_new(j, "cycles", json_array()); }
static void y_key(json_t *j) { json_object_set_new(cyc(j, NULL), "latencies", json_object()); }
static void y_noclasses(json_t *j) { json_object_del(cyc(j, NULL), "classes"); }
static void y_nocosts(json_t *j) { json_object_del(cyc(j, NULL), "costs"); }
static void y_classtype(json_t *j) { json_object_set_new(cyc(j, NULL), "costs", json_integer(3)); }
static void y_noclass(json_t *j) { json_object_del(cyc(j, "classes"), "div"); }
static void y_nocost(json_t *j) { json_object_del(cyc(j, "costs"), "vm_exit"); }
static void y_unkclass(json_t *j) { json_object_set_new(cyc(j, "classes"), "fma", json_integer(4)); }
static void y_unkcost(json_t *j) { json_object_set_new(cyc(j, "costs"), "vmlaunch", json_integer(4)); }
static void y_big(json_t *j) { json_object_set_new(cyc(j, "costs"), "vm_entry", json_integer(1000001)); }
static void y_max(json_t *j) { json_object_set_new(cyc(j, "costs"), "vm_entry", json_integer(1000000)); }
static void y_zero(json_t *j) { json_object_set_new(cyc(j, "classes"), "alu", json_integer(0)); }
static void y_neg(json_t *j) { json_object_set_new(cyc(j, "classes"), "alu", json_integer(-1)); }
static void y_real(json_t *j) { json_object_set_new(cyc(j, "classes"), "mul", json_real(3.5)); }
static void y_str(json_t *j) { json_object_set_new(cyc(j, "costs"), "io", json_string("2000")); }
static void y_tsc(json_t *j, json_t *v) { json_object_set_new(cyc(j, NULL), "tsc_per_cycle", v); }
static void y_notsc(json_t *j) { json_object_del(cyc(j, NULL), "tsc_per_cycle"); }
static void y_tsc1(json_t *j) { y_tsc(j, json_pack("[i]", 1)); }
static void y_tsc3(json_t *j) { y_tsc(j, json_pack("[i,i,i]", 1, 1, 1)); }
static void y_tsc0(json_t *j) { y_tsc(j, json_pack("[i,i]", 0, 1)); }
static void y_tscden0(json_t *j) { y_tsc(j, json_pack("[i,i]", 1, 0)); }
static void y_tscneg(json_t *j) { y_tsc(j, json_pack("[i,i]", -2, 1)); }
static void y_tscreal(json_t *j) { y_tsc(j, json_pack("[f,i]", 1.5, 1)); }
static void y_tscnum(json_t *j) { y_tsc(j, json_integer(1)); }
static void y_tscratio(json_t *j) { y_tsc(j, json_pack("[i,i]", 25, 30)); }
static void y_reasons(json_t *j, const char *name, json_t *v)
{
    json_object_set_new(cyc(j, "vm_exit_by_reason"), name, v);
}
static void y_badreason(json_t *j) { y_reasons(j, "EPT_VIOLATIONS", json_integer(900)); }
static void y_numreason(json_t *j) { y_reasons(j, "48", json_integer(900)); }
static void y_lowreason(json_t *j) { y_reasons(j, "cpuid", json_integer(900)); }
static void y_highreason(json_t *j) { y_reasons(j, "URDMSR", json_integer(900)); }
static void y_reasonbig(json_t *j) { y_reasons(j, "CPUID", json_integer(2000000)); }
static void y_reasontype(json_t *j) { json_object_set_new(cyc(j, NULL), "vm_exit_by_reason", json_pack("[i]", 1)); }
static void y_override(json_t *j)
{
    y_reasons(j, "EPT_VIOLATION", json_integer(2500));
    y_reasons(j, "SPP", json_integer(0));
    y_reasons(j, "WRMSRLIST", json_integer(7));   /* 79: the highest that has a slot */
}
static void y_noreasons(json_t *j) { json_object_del(cyc(j, NULL), "vm_exit_by_reason"); }

#define RANGE " must be an integer number of cycles from 0 to 1000000"
#define TSC "t.json: cycles.tsc_per_cycle must be [NUM, DEN], two integers from 1 to 1000000 " \
            "(TSC ticks per core cycle: NUM/DEN)"

START_TEST(cycle_rules)
{
    ck_assert_str_eq(load_changed(y_none), "t.json: \"cycles\" is required (the cycle model's costs, docs/cycle-model.md)");
    ck_assert_str_eq(load_changed(y_type), "t.json: \"cycles\" must be an object");
    ck_assert_str_eq(load_changed(y_key), "t.json: unknown key \"latencies\" in cycles");
    ck_assert_str_eq(load_changed(y_noclasses), "t.json: cycles has no \"classes\"");
    ck_assert_str_eq(load_changed(y_nocosts), "t.json: cycles has no \"costs\"");
    ck_assert_str_eq(load_changed(y_classtype), "t.json: cycles.costs must be an object");
    ck_assert_str_eq(load_changed(y_noclass), "t.json: cycles.classes has no \"div\" (every key of vmcs/cycles.def is required)");
    ck_assert_str_eq(load_changed(y_nocost), "t.json: cycles.costs has no \"vm_exit\" (every key of vmcs/cycles.def is required)");
    ck_assert_str_eq(load_changed(y_unkclass), "t.json: unknown key \"fma\" in cycles.classes");
    ck_assert_str_eq(load_changed(y_unkcost), "t.json: unknown key \"vmlaunch\" in cycles.costs");
    ck_assert_str_eq(load_changed(y_big), "t.json: cycles.costs.vm_entry" RANGE);
    ck_assert_str_eq(load_changed(y_neg), "t.json: cycles.classes.alu" RANGE);
    ck_assert_str_eq(load_changed(y_real), "t.json: cycles.classes.mul" RANGE);
    ck_assert_str_eq(load_changed(y_str), "t.json: cycles.costs.io" RANGE);
    ck_assert_str_eq(load_changed(y_notsc), "t.json: cycles has no \"tsc_per_cycle\"");
    ck_assert_str_eq(load_changed(y_tsc1), TSC);
    ck_assert_str_eq(load_changed(y_tsc3), TSC);
    ck_assert_str_eq(load_changed(y_tsc0), TSC);
    ck_assert_str_eq(load_changed(y_tscden0), TSC);
    ck_assert_str_eq(load_changed(y_tscneg), TSC);
    ck_assert_str_eq(load_changed(y_tscreal), TSC);
    ck_assert_str_eq(load_changed(y_tscnum), TSC);
    ck_assert_str_eq(load_changed(y_badreason), "t.json: cycles.vm_exit_by_reason: \"EPT_VIOLATIONS\" is not an exit-reason name (vmcs/exit_reasons.def, e.g. CPUID, EPT_VIOLATION)");
    ck_assert_str_eq(load_changed(y_numreason), "t.json: cycles.vm_exit_by_reason: \"48\" is not an exit-reason name (vmcs/exit_reasons.def, e.g. CPUID, EPT_VIOLATION)");
    ck_assert_str_eq(load_changed(y_lowreason), "t.json: cycles.vm_exit_by_reason: \"cpuid\" is not an exit-reason name (vmcs/exit_reasons.def, e.g. CPUID, EPT_VIOLATION)");
    /* Every exit reason of the table can have its own cost (reasons up to
     * VX_CYC_MAX_EXIT_REASON - 1). */
    ck_assert_str_eq(load_changed(y_highreason), "");
    ck_assert_str_eq(load_changed(y_reasonbig), "t.json: cycles.vm_exit_by_reason.CPUID" RANGE);
    ck_assert_str_eq(load_changed(y_reasontype), "t.json: cycles.vm_exit_by_reason must be an object");

    /* What loads, and what it loads as. */
    vx_profile p;
    ck_assert_str_eq(load_changed_into(y_max, &p), "");
    ck_assert_uint_eq(p.cycles.cost[VX_CC_vm_entry], 1000000);
    ck_assert_str_eq(load_changed_into(y_zero, &p), "");
    ck_assert_uint_eq(p.cycles.cls[VX_IC_alu], 0);
    ck_assert_str_eq(load_changed_into(y_tscratio, &p), "");
    ck_assert_uint_eq(p.cycles.tsc_num, 25);
    ck_assert_uint_eq(p.cycles.tsc_den, 30);
    ck_assert_str_eq(load_changed_into(y_override, &p), "");
    ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_EPT_VIOLATION], 2500);
    ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_SPP], 0);
    ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_WRMSRLIST], 7);
    ck_assert_int_gt(p.cycles.exit_by_reason[VX_EXIT_CPUID], 0);    /* the file's own */
    ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_EPT_MISCONFIG], -1);
    ck_assert_int_eq(p.cycles.exit_by_reason[VX_EXIT_EXCEPTION_NMI], -1);
    /* vm_exit_by_reason is optional: without it every reason is -1. */
    ck_assert_str_eq(load_changed_into(y_noreasons, &p), "");
    for (int n = 0; n < VX_CYC_MAX_EXIT_REASON; n++)
        ck_assert_int_eq(p.cycles.exit_by_reason[n], -1);
}
END_TEST

START_TEST(files_and_names)
{
    vx_profile p;
    char err[256], path[128];
    ck_assert_int_eq(vx_profile_load("no-such", NULL, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown CPU profile 'no-such' (see `vmxsim profiles`)");
    ck_assert_int_eq(vx_profile_load("../etc", NULL, &p, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"name\": \"bad\",\n \"vmx_msrs\": {}\n", f);
    fclose(f);
    ck_assert_int_eq(vx_profile_load(path, NULL, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad.json: line 3, column 0:"), "%s", err);
    snprintf(path, sizeof path, "%s/arr.json", dir);
    f = fopen(path, "w");
    fputs("[1]\n", f);
    fclose(f);
    ck_assert_int_eq(vx_profile_load(path, NULL, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "arr.json: a profile must be a JSON object"), "%s", err);
    char names[4][64];
    ck_assert_int_eq(vx_profile_list("/nonexistent", names, 4), -1);
}
END_TEST

int main(void)
{
    if (!getenv("VX_PROFILE_SRC")) {
        fprintf(stderr, "run through meson (VX_PROFILE_SRC)\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/vx-profile-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    Suite *s = suite_create("profile");
    TCase *t = tcase_create("profile");
    tcase_add_test(t, shipped_profiles);
    tcase_add_test(t, descriptions_whole);
    tcase_add_test(t, cpuid_above_maximum);
    tcase_add_test(t, validation_rules);
    tcase_add_test(t, files_and_names);
    tcase_add_test(t, shipped_cycles);
    tcase_add_test(t, cycle_rules);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) failed++;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
