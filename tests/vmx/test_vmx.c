/*
 * test_vmx.c - the VMX root-operation instructions, end to end: each
 * program of tests/vmx runs on the model and checks every outcome itself
 * (RFLAGS, VM-instruction error, exception vector, error code, pushed
 * RIP/RFLAGS, CR2; see common.inc); this test then checks the run's
 * result and console output, and, from the trace, the exact sequence of
 * "vmx" events (instruction, outcome, error number, vector, RFLAGS and
 * some operands), of "exception" events, and the MSR and CR events that
 * matter.  Expected outcomes follow the pseudo-code of SDM Vol. 3C 31.3
 * and the conventions of 31.2; tests/vmx/README.md lists which test
 * produces which VM-instruction error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../vmcs/profile.h"

/* ---- expected vmx events ---- */

typedef struct exp_vmx {
    const char *name;     /* "vmxon" */
    const char *outcome;  /* VMsucceed, VMfailInvalid, VMfailValid, fault */
    int error;            /* VM-instruction error (VMfailValid) */
    int vector;           /* exception vector (fault), else -1 */
    long error_code;      /* error code pushed (fault), -1 if none */
    uint64_t rflags;      /* after the instruction; before it for a fault */
    const char *key;      /* an operand to check, or NULL */
    uint64_t value;
} exp_vmx;

/* RFLAGS: the programs run each instruction with 0xCD7 (CF PF AF ZF SF
 * OF DF, bit 1); VMsucceed leaves 0x402, VMfailInvalid 0x403, VMfailValid
 * 0x442 (31.2); a fault changes nothing. */
#define F_IN 0xCD7u
#define OK(n) {n, "VMsucceed", 0, -1, -1, 0x402, NULL, 0}
#define OKV(n, k, v) {n, "VMsucceed", 0, -1, -1, 0x402, k, v}
#define INV(n) {n, "VMfailInvalid", 0, -1, -1, 0x403, NULL, 0}
#define VALID(n, e) {n, "VMfailValid", e, -1, -1, 0x442, NULL, 0}
#define UD(n) {n, "fault", 0, 6, -1, F_IN, NULL, 0}
#define GP(n) {n, "fault", 0, 13, 0, F_IN, NULL, 0}
#define SSF(n) {n, "fault", 0, 12, 0, F_IN, NULL, 0}
#define PF(n, ec) {n, "fault", 0, 14, ec, F_IN, NULL, 0}
#define NONE UINT64_MAX
#define DO_VMPTRLD OK("vmclear"), OK("vmptrld")

/* The SDM's names of the VM-instruction errors, as the trace spells them
 * ("error_name"), from vmcs/errors.def. */
static const char *err_name(int num)
{
    switch (num) {
#define VX_ERR(n, id, text) case n: return text;
#include "../../vmcs/errors.def"
#undef VX_ERR
    default: return NULL;
    }
}

static char *dump(const json_t *ev)
{
    static char buf[1024];
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(buf, sizeof buf, "%s", s ? s : "?");
    free(s);
    return buf;
}

static const json_t *operand(const json_t *ev, const char *key)
{
    return json_object_get(json_object_get(ev, "operands"), key);
}

static void check_one(const json_t *ev, const exp_vmx *x, size_t k)
{
    const char *d = dump(ev);
    ck_assert_msg(!strcmp(vx_test_str(ev, "name"), x->name),
                  "vmx event %zu: expected %s: %s", k, x->name, d);
    ck_assert_msg(!strcmp(vx_test_str(ev, "outcome"), x->outcome),
                  "vmx event %zu: expected %s %s: %s", k, x->name, x->outcome, d);
    ck_assert_msg(vx_test_u64(ev, "rflags", NONE) == x->rflags,
                  "vmx event %zu: expected rflags 0x%llx: %s", k,
                  (unsigned long long)x->rflags, d);
    if (x->error) {
        ck_assert_msg(vx_test_u64(ev, "error", NONE) == (uint64_t)x->error,
                      "vmx event %zu: expected error %d: %s", k, x->error, d);
        ck_assert_msg(err_name(x->error) && !strcmp(vx_test_str(ev, "error_name"), err_name(x->error)),
                      "vmx event %zu: error_name: %s", k, d);
    } else {
        ck_assert_msg(!json_object_get(ev, "error"), "vmx event %zu: no error expected: %s", k, d);
    }
    if (x->vector >= 0) {
        ck_assert_msg(vx_test_u64(ev, "vector", NONE) == (uint64_t)x->vector,
                      "vmx event %zu: expected vector %d: %s", k, x->vector, d);
        if (x->error_code >= 0)
            ck_assert_msg(vx_test_u64(ev, "error_code", NONE) == (uint64_t)x->error_code,
                          "vmx event %zu: expected error code %ld: %s", k, x->error_code, d);
        else
            ck_assert_msg(!json_object_get(ev, "error_code"),
                          "vmx event %zu: no error code expected: %s", k, d);
    } else {
        ck_assert_msg(!json_object_get(ev, "vector"), "vmx event %zu: no vector expected: %s", k, d);
    }
    if (x->key) {
        const json_t *o = operand(ev, x->key);
        ck_assert_msg(o && vx_test_u64(json_object_get(ev, "operands"), x->key, NONE - 1) == x->value,
                      "vmx event %zu: expected operand %s = 0x%llx: %s", k, x->key,
                      (unsigned long long)x->value, d);
    }
}

/* The "vmx" events of the run must be exp[0..n) in order.  After each
 * VMfailValid the programs read the VM-instruction error with VMREAD
 * (common.inc, VMX_FAILVALID): that VMREAD must succeed with the error
 * number as its value, and is not listed in exp. */
static void check_vmx(json_t *events, const exp_vmx *exp, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    int pending = -1;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "vmx")) continue;
        if (pending >= 0) {
            const char *d = dump(ev);
            ck_assert_msg(!strcmp(vx_test_str(ev, "name"), "vmread") &&
                          !strcmp(vx_test_str(ev, "outcome"), "VMsucceed") &&
                          vx_test_u64(json_object_get(ev, "operands"), "encoding", 0) == 0x4400 &&
                          vx_test_u64(json_object_get(ev, "operands"), "value", NONE) == (uint64_t)pending,
                          "after vmx event %zu: expected VMREAD of error %d: %s", k, pending, d);
            pending = -1;
            continue;
        }
        ck_assert_msg(k < n, "more vmx events than the %zu expected: %s", n, dump(ev));
        check_one(ev, &exp[k], k);
        if (exp[k].error) pending = exp[k].error;
        k++;
    }
    ck_assert_msg(k == n, "%zu vmx events, expected %zu", k, n);
    ck_assert_msg(pending < 0, "no VMREAD of the last VM-instruction error");
}

/* The "exception" events, in order: vector and error code (-1 none). */
typedef struct exp_exc {
    int vector;
    long error_code;
} exp_exc;

static void check_exceptions(json_t *events, const exp_exc *exp, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "exception")) continue;
        const char *d = dump(ev);
        ck_assert_msg(k < n, "more exceptions than the %zu expected: %s", n, d);
        ck_assert_msg(vx_test_u64(ev, "vector", NONE) == (uint64_t)exp[k].vector,
                      "exception %zu: expected vector %d: %s", k, exp[k].vector, d);
        if (exp[k].error_code >= 0)
            ck_assert_msg(vx_test_u64(ev, "error_code", NONE) == (uint64_t)exp[k].error_code,
                          "exception %zu: expected error code %ld: %s", k, exp[k].error_code, d);
        else
            ck_assert_msg(!json_object_get(ev, "error_code"),
                          "exception %zu: no error code expected: %s", k, d);
        ck_assert_msg(!json_object_get(ev, "escalated_from"), "exception %zu escalated: %s", k, d);
        k++;
    }
    ck_assert_msg(k == n, "%zu exceptions, expected %zu", k, n);
    ck_assert_msg(vx_test_count(events, "triple_fault", NULL) == 0, "triple fault");
}

/* A "msr_*" or "cr_*" event, with its value and outcome. */
typedef struct exp_reg {
    const char *event;    /* msr_read, msr_write, cr_read, cr_write */
    uint64_t value;
    const char *outcome;  /* ok, gp */
} exp_reg;

/* The events for MSR `index` (msr_read/msr_write) or control register
 * `index` (cr_read/cr_write, kind "cr"), in order. */
static void check_regs(json_t *events, const char *kind, uint64_t index,
                       const exp_reg *exp, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    size_t klen = strlen(kind);
    json_array_foreach(events, i, ev) {
        const char *e = vx_test_str(ev, "event");
        if (strncmp(e, kind, klen) || e[klen] != '_') continue;
        if (vx_test_u64(ev, kind, NONE) != index) continue;
        const char *d = dump(ev);
        ck_assert_msg(k < n, "more %s 0x%llx events than expected: %s", kind,
                      (unsigned long long)index, d);
        ck_assert_msg(!strcmp(e, exp[k].event) && vx_test_u64(ev, "value", NONE) == exp[k].value &&
                      !strcmp(vx_test_str(ev, "outcome"), exp[k].outcome),
                      "%s 0x%llx event %zu: expected %s 0x%llx %s: %s", kind,
                      (unsigned long long)index, k, exp[k].event,
                      (unsigned long long)exp[k].value, exp[k].outcome, d);
        k++;
    }
    ck_assert_msg(k == n, "%zu %s 0x%llx events, expected %zu", k, kind,
                  (unsigned long long)index, n);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The first vmcs_read or vmcs_write event of field encoding enc. */
static const json_t *find_field(json_t *events, const char *event, uint64_t enc)
{
    for (int i = 0; i < vx_test_count(events, event, NULL); i++) {
        const json_t *ev = vx_test_find(events, event, NULL, i);
        if (vx_test_u64(ev, "encoding", NONE) == enc) return ev;
    }
    return NULL;
}

/* Run a program that must report PASS; returns its events. */
static json_t *run_pass(const char *prog, const char *cpu, const char *extra)
{
    vmxsim_result res;
    json_t *events = NULL;
    ck_assert_msg(vx_test_run(prog, cpu, extra, &res, &events) == 0, "%s: %s", prog,
                  vx_test_error());
    ck_assert_msg(res.end == VMXSIM_END_DEBUG_EXIT && res.exit_status == 1,
                  "%s on %s: %s; console: %s", prog, cpu ? cpu : "default", res.message,
                  vx_test_console());
    ck_assert_str_eq(vx_test_console(), "PASS\n");
    const json_t *end = vx_test_find(events, "end", NULL, 0);
    ck_assert_msg(end && !strcmp(vx_test_str(end, "reason"), "debug_exit") &&
                  vx_test_u64(end, "exit_status", NONE) == 1, "end event: %s",
                  end ? dump(end) : "missing");
    return events;
}

/* ---- the programs ---- */

#define ALL_UD UD("vmxoff"), UD("vmclear"), UD("vmptrld"), UD("vmptrst"), UD("vmread"), \
    UD("vmwrite"), UD("vmlaunch"), UD("vmresume"), UD("vmcall"), UD("invept"),       \
    UD("invvpid"), UD("vmfunc")

static const exp_exc ud_x26[26] = {
    {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1},
    {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1},
    {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1},
};

START_TEST(ud_outside)
{
    json_t *ev = run_pass("ud_outside.elf", NULL, NULL);
    static const exp_vmx x[] = {UD("vmxon"), ALL_UD, ALL_UD, UD("vmxon")};
    check_vmx(ev, x, N(x));
    check_exceptions(ev, ud_x26, 26);
    /* CR4.VMXE set, then cleared again outside VMX operation */
    static const exp_reg cr4[] = {
        {"cr_read", 0x20, "ok"}, {"cr_write", 0x2020, "ok"},
        {"cr_read", 0x2020, "ok"}, {"cr_write", 0x20, "ok"}, {"cr_read", 0x20, "ok"},
    };
    check_regs(ev, "cr", 4, cr4, N(cr4));
    /* The programs ask CPUID.1 whether VMX exists (ECX bit 5). */
    const json_t *c = vx_test_find(ev, "cpuid", NULL, 1);
    ck_assert_msg(c && vx_test_u64(c, "leaf", NONE) == 1 && (vx_test_u64(c, "ecx", 0) & 0x20),
                  "cpuid leaf 1: %s", c ? dump(c) : "missing");
    /* Every vmx event happened outside VMX operation. */
    for (int i = 0; i < vx_test_count(ev, "vmx", NULL); i++)
        ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", NULL, i), "mode"), "off");
    json_decref(ev);
}
END_TEST

START_TEST(vmxon)
{
    json_t *ev = run_pass("vmxon.elf", NULL, NULL);
    static const exp_vmx x[] = {
        INV("vmxon"), INV("vmxon"),       /* not 4 KiB aligned */
        INV("vmxon"), INV("vmxon"),       /* beyond the physical-address width */
        INV("vmxon"), INV("vmxon"),       /* wrong revision identifier */
        INV("vmxon"),                     /* revision bit 31 */
        INV("vmxon"),                     /* outside RAM: reads all ones */
        UD("vmxoff"),
        OK("vmxon"), OKV("vmptrst", "pointer", UINT64_MAX),
        INV("vmxon"), INV("vmxon"),       /* in root, no current VMCS */
        DO_VMPTRLD,
        VALID("vmxon", 15),
        OK("vmptrst"), OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {{6, -1}};
    check_exceptions(ev, e, N(e));
    /* The successful VMXON is the first event in root operation; VMXOFF
     * the first back outside. */
    const json_t *on = vx_test_find(ev, "vmx", "vmxon", 8);
    ck_assert_str_eq(vx_test_str(on, "outcome"), "VMsucceed");
    ck_assert_str_eq(vx_test_str(on, "mode"), "root");
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmxon", 7), "mode"), "off");
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmxoff", 1), "mode"), "off");
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmptrst", 1), "mode"), "root");
    /* The region at 1 GiB is outside the 256 MiB of RAM: one traced read
     * of its revision identifier. */
    const json_t *o = vx_test_find(ev, "outside_memory", NULL, 0);
    ck_assert_msg(o && vx_test_u64(o, "address", 0) == 0x40000000 &&
                  !strcmp(vx_test_str(o, "access"), "read") && vx_test_u64(o, "size", 0) == 4,
                  "outside_memory: %s", o ? dump(o) : "missing");
    ck_assert_int_eq(vx_test_count(ev, "outside_memory", NULL), 1);
    ck_assert_uint_eq(vx_test_u64(vx_test_find(ev, "vmx", "vmxon", 7), "rflags", 0), 0x403);
    json_decref(ev);
}
END_TEST

START_TEST(vmxon_unlocked)
{
    json_t *ev = run_pass("vmxon_gp.elf", NULL, "--feature-control-unlocked");
    static const exp_vmx x[] = {GP("vmxon"), GP("vmxon"), UD("vmxoff")};
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {{13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0}, {6, -1}};
    check_exceptions(ev, e, N(e));
    /* MSR 0x1234 does not exist: both accesses #GP, and the events (valid
     * against the schema, as every trace the harness reads) have no name. */
    static const exp_reg absent[] = {{"msr_read", 0, "gp"}, {"msr_write", 0x0123456789ABCDEFull, "gp"}};
    check_regs(ev, "msr", 0x1234, absent, N(absent));
    for (int i = 0; i < vx_test_count(ev, "msr_read", NULL); i++) {
        const json_t *r = vx_test_find(ev, "msr_read", NULL, i);
        if (vx_test_u64(r, "msr", NONE) == 0x1234)
            ck_assert_msg(!json_object_get(r, "name"), "a name for MSR 0x1234: %s", dump(r));
        else    /* IA32_FEATURE_CONTROL and the VMX capability MSRs */
            ck_assert_msg(strncmp(vx_test_str(r, "name"), "IA32_", 5) == 0, "no name: %s", dump(r));
    }
    static const exp_reg fc[] = {
        {"msr_read", 0, "ok"}, {"msr_write", 1, "ok"}, {"msr_read", 1, "ok"},
        {"msr_write", 5, "gp"}, {"msr_read", 1, "ok"},
    };
    check_regs(ev, "msr", 0x3A, fc, N(fc));
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "msr_write", NULL, 0), "name"),
                     "IA32_FEATURE_CONTROL");
    json_decref(ev);
}
END_TEST

START_TEST(vmxon_fixed_bits)
{
    json_t *ev = run_pass("vmxon_fixed.elf", NULL, NULL);
    static const exp_vmx x[] = {GP("vmxon"), OK("vmxon"), OK("vmxoff")};
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {{13, 0}, {13, 0}, {13, 0}, {13, 0}};
    check_exceptions(ev, e, N(e));
    static const exp_reg fc[] = {{"msr_read", 5, "ok"}, {"msr_write", 5, "gp"}};
    check_regs(ev, "msr", 0x3A, fc, N(fc));
    static const exp_reg cr0[] = {
        {"cr_read", 0x80000031, "ok"}, {"cr_write", 0x80000011, "ok"},
        {"cr_write", 0x80000031, "ok"}, {"cr_write", 0x80000011, "gp"},
        {"cr_read", 0x80000031, "ok"},
    };
    check_regs(ev, "cr", 0, cr0, N(cr0));
    static const exp_reg cr4[] = {
        {"cr_read", 0x20, "ok"}, {"cr_write", 0x2020, "ok"}, {"cr_read", 0x2020, "ok"},
        {"cr_write", 0x20, "gp"}, {"cr_read", 0x2020, "ok"}, {"cr_write", 0x20, "ok"},
        {"cr_read", 0x20, "ok"},
    };
    check_regs(ev, "cr", 4, cr4, N(cr4));
    json_decref(ev);
}
END_TEST

/* CPUID bit as the program saw it (its cpuid event for leaf). */
static int cpuid_bit(json_t *events, uint64_t leaf, const char *reg, int bit)
{
    for (int i = 0; i < vx_test_count(events, "cpuid", NULL); i++) {
        const json_t *c = vx_test_find(events, "cpuid", NULL, i);
        if (vx_test_u64(c, "leaf", NONE) == leaf) return (int)((vx_test_u64(c, reg, 0) >> bit) & 1);
    }
    ck_abort_msg("no cpuid event for leaf 0x%llx", (unsigned long long)leaf);
    return 0;
}

static void check_ud_register_operand(const char *cpu)
{
    json_t *ev = run_pass("ud_regop.elf", cpu, NULL);
    /* The decoder takes the register forms for RDRAND/RDSEED (or cannot
     * decode INVEPT/INVVPID's): no vmx event, only the #UD.  VMXON's is
     * tried twice, INVEPT's and INVVPID's once; VMCLEAR's and VMPTRLD's
     * only without RDRAND, VMPTRST's only without RDSEED. */
    static const exp_vmx x[] = {OK("vmxon"), DO_VMPTRLD, OK("vmptrst"), OK("vmxoff")};
    check_vmx(ev, x, N(x));
    size_t n = 4 + (cpuid_bit(ev, 1, "ecx", 30) ? 0 : 2) + (cpuid_bit(ev, 7, "ebx", 18) ? 0 : 1);
    check_exceptions(ev, ud_x26, n);
    json_decref(ev);
}

START_TEST(ud_register_operand)
{
    check_ud_register_operand(NULL);
    check_ud_register_operand("minimal");
}
END_TEST

START_TEST(ud_compat_mode)
{
    json_t *ev = run_pass("ud_compat.elf", NULL, NULL);
    static const exp_vmx x[] = {
        UD("vmxon"), OK("vmxon"), DO_VMPTRLD, UD("vmxon"), ALL_UD, OK("vmptrst"), OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, ud_x26, 14);
    /* The compatibility-mode events are 32-bit code: the decoder saw
     * 32-bit operands. */
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmread", 0), "insn"), "vmread ebx, ecx");
    json_decref(ev);
}
END_TEST

START_TEST(gp_cpl3)
{
    json_t *ev = run_pass("gp_cpl3.elf", NULL, NULL);
    static const exp_vmx x[] = {
        GP("vmxon"), UD("vmxoff"), UD("vmptrld"), UD("vmread"), UD("vmcall"), UD("vmfunc"),
        OK("vmxon"), DO_VMPTRLD,
        GP("vmxon"), GP("vmxoff"), GP("vmclear"), GP("vmptrld"), GP("vmptrst"), GP("vmread"),
        GP("vmwrite"), GP("vmlaunch"), GP("vmresume"), GP("vmcall"), GP("invept"),
        GP("invvpid"), UD("vmfunc"),
        OK("vmptrst"), OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {
        {13, 0}, {6, -1}, {6, -1}, {6, -1}, {6, -1}, {6, -1},
        {13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0}, {13, 0},
        {13, 0}, {13, 0}, {13, 0}, {6, -1},
    };
    check_exceptions(ev, e, N(e));
    json_decref(ev);
}
END_TEST

static const exp_vmx vmcs_ptr_head[] = {
    OK("vmxon"), OKV("vmptrst", "pointer", UINT64_MAX),
    INV("vmclear"), INV("vmclear"), INV("vmclear"),
    INV("vmptrld"), INV("vmptrld"), INV("vmptrld"), INV("vmptrld"),
    OKV("vmptrst", "pointer", UINT64_MAX),
    DO_VMPTRLD, OK("vmptrst"),
    VALID("vmclear", 2), VALID("vmclear", 2), VALID("vmclear", 3),
    VALID("vmptrld", 9), VALID("vmptrld", 9), VALID("vmptrld", 10),
    VALID("vmptrld", 11), VALID("vmptrld", 11),
    OK("vmptrst"),
};

static const exp_vmx vmcs_ptr_tail[] = {
    DO_VMPTRLD,
    OK("vmwrite"), OK("vmwrite"), OK("vmwrite"),
    OK("vmclear"), OKV("vmptrst", "pointer", UINT64_MAX), INV("vmread"),
    OK("vmclear"),
    DO_VMPTRLD, OK("vmwrite"),
    DO_VMPTRLD, OK("vmptrst"),
    OKV("vmread", "value", 0x123456789ABCDEF0ull), OKV("vmread", "value", 0x1234),
    OKV("vmread", "value", 0x0011223344556677ull),
    OK("vmptrld"), OKV("vmread", "value", 0x2222),
    OK("vmxoff"),
};

/* head, then the shadow-VMCS part (\shadow entries), then tail */
static void check_vmcs_ptr(json_t *ev, const exp_vmx *shadow, size_t nshadow)
{
    exp_vmx all[N(vmcs_ptr_head) + 3 + N(vmcs_ptr_tail)];
    size_t n = 0;
    for (size_t i = 0; i < N(vmcs_ptr_head); i++) all[n++] = vmcs_ptr_head[i];
    for (size_t i = 0; i < nshadow; i++) all[n++] = shadow[i];
    for (size_t i = 0; i < N(vmcs_ptr_tail); i++) all[n++] = vmcs_ptr_tail[i];
    check_vmx(ev, all, n);
    check_exceptions(ev, NULL, 0);
}

/* Each VMPTRST after a successful VMPTRLD (with no VMCLEAR of it in
 * between) stores the pointer VMPTRLD loaded. */
static void check_vmptrst_pointers(json_t *events, int at_least)
{
    size_t i;
    json_t *ev;
    uint64_t cur = UINT64_MAX;
    int checked = 0;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "vmx") ||
            strcmp(vx_test_str(ev, "outcome"), "VMsucceed"))
            continue;
        const char *name = vx_test_str(ev, "name");
        uint64_t p = vx_test_u64(json_object_get(ev, "operands"), "pointer", NONE);
        if (!strcmp(name, "vmptrld")) cur = p;
        else if (!strcmp(name, "vmclear") && p == cur) cur = UINT64_MAX;
        else if (!strcmp(name, "vmptrst")) {
            ck_assert_msg(p == cur, "vmptrst stored 0x%llx, expected 0x%llx: %s",
                          (unsigned long long)p, (unsigned long long)cur, dump(ev));
            checked++;
        }
    }
    ck_assert_int_ge(checked, at_least);
}

START_TEST(vmcs_pointers)
{
    json_t *ev = run_pass("vmcs_ptr.elf", NULL, NULL);
    check_vmptrst_pointers(ev, 5);
    /* icelake-server may enable VMCS shadowing: a shadow VMCS loads. */
    static const exp_vmx shadow[] = {OK("vmptrld"), OK("vmptrst"), OK("vmclear")};
    check_vmcs_ptr(ev, shadow, N(shadow));
    json_decref(ev);
}
END_TEST

static const exp_vmx vmrw_head[] = {
    OK("vmxon"),
    INV("vmread"), INV("vmwrite"), INV("vmread"), INV("vmwrite"), INV("vmread"),
    DO_VMPTRLD,
    OKV("vmread", "value", 0),
    VALID("vmread", 12), VALID("vmwrite", 12), VALID("vmread", 12), VALID("vmread", 12),
    VALID("vmwrite", 12), VALID("vmread", 12), VALID("vmread", 12), VALID("vmwrite", 12),
    OK("vmwrite"), OKV("vmread", "value", 12),
    OKV("vmwrite", "value", 0xFEDCBA987654ABCDull), OKV("vmread", "value", 0xABCD),
    OK("vmwrite"), OKV("vmread", "value", 0x9ABCDEF0),
    OK("vmwrite"), OKV("vmread", "value", 0x1122334455667788ull),
    OKV("vmread", "value", 0x11223344),
    OK("vmwrite"), OKV("vmread", "value", 0xAABBCCDD55667788ull),
    OKV("vmread", "value", 0xAABBCCDD),
    OK("vmwrite"), OKV("vmread", "value", 0xFEDCBA9876543210ull),
    OKV("vmread", "value", 0xABCD),
    OKV("vmwrite", "value", 0x0BADC0DE12345678ull), OKV("vmread", "value", 0x12345678),
    OK("vmwrite"), OKV("vmread", "value", 0x0BADC0DE12345678ull),
    OKV("vmread", "value", 0),
};

static void check_vmrw(json_t *ev, const exp_vmx *mid, size_t nmid)
{
    exp_vmx all[N(vmrw_head) + 8 + 1];
    size_t n = 0;
    for (size_t i = 0; i < N(vmrw_head); i++) all[n++] = vmrw_head[i];
    for (size_t i = 0; i < nmid; i++) all[n++] = mid[i];
    all[n++] = (exp_vmx)OK("vmxoff");
    check_vmx(ev, all, n);
    check_exceptions(ev, NULL, 0);
}

START_TEST(vmread_vmwrite)
{
    json_t *ev = run_pass("vmrw.elf", NULL, NULL);
    /* icelake-server: IA32_VMX_MISC[29] = 1 (VM-exit information fields
     * writable) and EPT (the EPT pointer exists). */
    static const exp_vmx mid[] = {
        OK("vmwrite"), OKV("vmread", "value", 0x30), OK("vmwrite"), OKV("vmread", "value", 0x30),
        OK("vmwrite"), OKV("vmread", "value", UINT64_MAX),
    };
    check_vmrw(ev, mid, N(mid));
    /* The vmcs_read / vmcs_write events name the fields and widths. */
    const json_t *w = find_field(ev, "vmcs_write", 0x800);
    ck_assert_msg(w && !strcmp(vx_test_str(w, "field"), "guest_es_selector") &&
                  vx_test_u64(w, "encoding", 0) == 0x800 && !strcmp(vx_test_str(w, "width"), "16"),
                  "vmcs_write: %s", w ? dump(w) : "missing");
    const json_t *r = find_field(ev, "vmcs_read", 0x2801);
    ck_assert_msg(r && !strcmp(vx_test_str(r, "field"), "vmcs_link_pointer") &&
                  vx_test_u64(r, "encoding", 0) == 0x2801 && json_is_true(json_object_get(r, "high")) &&
                  !strcmp(vx_test_str(r, "width"), "32") && vx_test_u64(r, "value", 0) == 0x11223344,
                  "vmcs_read: %s", r ? dump(r) : "missing");
    json_decref(ev);
}
END_TEST

START_TEST(vmlaunch_checks)
{
    json_t *ev = run_pass("vmlaunch.elf", NULL, NULL);
    static const exp_vmx x[] = {
        OK("vmxon"), INV("vmlaunch"), INV("vmresume"), INV("vmlaunch"),
        DO_VMPTRLD,
        VALID("vmresume", 5), VALID("vmresume", 26), VALID("vmlaunch", 26),
        VALID("vmlaunch", 26), VALID("vmresume", 5),
        OK("vmptrld"), VALID("vmlaunch", 4), VALID("vmresume", 26),
        OK("vmxoff"), OK("vmxon"), OK("vmptrld"), VALID("vmresume", 6), VALID("vmlaunch", 4),
        OK("vmclear"), OK("vmptrld"), VALID("vmresume", 5),
        OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, NULL, 0);
    json_decref(ev);
}
END_TEST

/* VM entry's checks before any state is loaded (27.2): the first rule
 * that fails is named in a "vm_entry_failed" event, and the instruction fails
 * with VMfailValid 7 (controls) or 8 (host state); the VMCS stays clear. */
START_TEST(vmentry_check_failures)
{
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("entry_checks.elf", cpu ? "minimal" : NULL, NULL);
        static const struct { const char *insn; int error; const char *check; } x[] = {
            {"vmlaunch", 7, "ctl_pin_reserved"},
            {"vmlaunch", 8, "host_cr0_fixed0"},
        };
        for (int k = 0; k < 2; k++) {
            const json_t *v = vx_test_find(ev, "vmx", x[k].insn, k);
            ck_assert_msg(v && !strcmp(vx_test_str(v, "outcome"), "VMfailValid") &&
                          vx_test_u64(v, "error", 0) == (uint64_t)x[k].error,
                          "VMLAUNCH %d: %s", k, v ? dump(v) : "missing");
            const json_t *e = vx_test_find(ev, "vm_entry_failed", NULL, k);
            ck_assert_msg(e && !strcmp(vx_test_str(e, "outcome"), "VMfailValid") &&
                          !strcmp(vx_test_str(e, "check"), x[k].check),
                          "vmentry %d: %s", k, e ? dump(e) : "missing");
        }
        const json_t *r = vx_test_find(ev, "vmx", "vmresume", 0);
        ck_assert_msg(r && vx_test_u64(r, "error", 0) == 5, "VMRESUME: %s", r ? dump(r) : "missing");
        ck_assert_int_eq(vx_test_count(ev, "vm_entry_failed", NULL), 2);
        ck_assert_int_eq(vx_test_count(ev, "vm_exit", NULL), 0);
        json_decref(ev);
    }
}
END_TEST


/* A control whose effect is not modelled yet stops the run at VM entry
 * with a report that names it, rather than running the guest wrongly. */
START_TEST(unmodelled_control)
{
    vmxsim_result res;
    json_t *ev;
    ck_assert_msg(vx_test_run("guest_unmodelled.elf", NULL, NULL, &res, &ev) == 0, "%s",
                  vx_test_error());
    ck_assert_msg(res.end == VMXSIM_END_NOT_MODELLED && res.exit_status == 4, "%s", res.message);
    ck_assert_str_eq(res.message, "not modelled: VM entry with VMCS shadowing");
    ck_assert_int_eq(vx_test_count(ev, "vm_exit", NULL), 0);
    json_decref(ev);
}
END_TEST

/* The VM exits of a run: basic reason, entry-failure bit and
 * qualification of each, in order. */

typedef struct exp_exit {
    unsigned reason;
    int entry_failure;
    uint64_t qual;
} exp_exit;

static void check_exits(json_t *events, const exp_exit *x, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "vm_exit")) continue;
        const char *d = dump(ev);
        ck_assert_msg(k < n, "more VM exits than the %zu expected: %s", n, d);
        ck_assert_msg(vx_test_u64(ev, "exit_reason", NONE) == x[k].reason &&
                      json_is_true(json_object_get(ev, "entry_failure")) == x[k].entry_failure &&
                      vx_test_u64(ev, "exit_qualification", NONE) == x[k].qual,
                      "VM exit %zu: expected reason %u (entry failure %d), qualification 0x%llx: %s",
                      k, x[k].reason, x[k].entry_failure, (unsigned long long)x[k].qual, d);
        k++;
    }
    ck_assert_msg(k == n, "%zu VM exits, expected %zu", k, n);
}

/* Guests in each mode the model runs (issue 3 item 5): 32-bit protected
 * mode with paging (both profiles), and under unrestricted guest with the
 * identity EPT, 32-bit protected mode without paging and real mode. */
START_TEST(guest_modes)
{
    static const exp_exit x[] = {{10, 0, 0}, {30, 0, 0x800040}, {18, 0, 0}};
    static const struct { const char *prog, *cpu; uint64_t cr0; } runs[] = {
        {"guest_prot32.elf", NULL, 0x80000031}, {"guest_prot32.elf", "minimal", 0x80000031},
        {"guest_nopg32.elf", NULL, 0x31}, {"guest_real.elf", NULL, 0x30},
    };
    for (size_t r = 0; r < N(runs); r++) {
        json_t *ev = run_pass(runs[r].prog, runs[r].cpu, NULL);
        check_exits(ev, x, N(x));
        const json_t *e = vx_test_find(ev, "vm_entry", NULL, 0);
        ck_assert_msg(e && json_is_false(json_object_get(e, "ia32e_mode_guest")) &&
                      vx_test_u64(e, "guest_cr0", 0) == runs[r].cr0, "%s: %s", runs[r].prog,
                      e ? dump(e) : "missing");
        json_decref(ev);
    }
}
END_TEST

/* A guest whose instructions exit unconditionally or under the primary
 * controls (26.1), on both profiles. */
START_TEST(guest_instruction_exits)
{
    static const exp_exit x[] = {
        {10, 0, 0}, {12, 0, 0}, {31, 0, 0}, {30, 0, 0x800040}, {0, 0, 0}, {18, 0, 0},
    };
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_exits.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        const json_t *bp = vx_test_find(ev, "vm_exit", "EXCEPTION_NMI", 0);
        ck_assert_msg(vx_test_u64(bp, "intr_info", 0) == 0x80000603 &&
                      vx_test_u64(bp, "instruction_length", 0) == 1, "%s", dump(bp));
        ck_assert_int_eq(vx_test_count(ev, "vm_entry", NULL), 6);
        json_decref(ev);
    }
}
END_TEST

/* Exits under the processor-based controls, with their qualifications
 * and instruction information (icelake-server: secondary controls). */
START_TEST(guest_control_exits)
{
    static const exp_exit x[] = {
        {14, 0, 0x12345000}, {29, 0, 7}, {46, 0, 0x10}, {54, 0, 0}, {40, 0, 0},
        {28, 0, 0x100}, {28, 0, 0x203}, {28, 0, 0x613}, {15, 0, 0},
    };
    json_t *ev = run_pass("guest_controls.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    const json_t *sgdt = vx_test_find(ev, "vm_exit", "GDTR_IDTR", 0);
    ck_assert_msg(vx_test_u64(sgdt, "instruction_info", 0) == 0x1c18100, "%s", dump(sgdt));
    /* RDTSC in the guest without RDTSC exiting: the host-side TSC (the
     * cycle count: tsc_per_cycle 1/1, IA32_TSC never written) plus the TSC
     * offset, 0x100000000000 (26.3). */
    ck_assert_int_eq(vx_test_count(ev, "rdtsc", NULL), 1);
    const json_t *r = vx_test_find(ev, "rdtsc", NULL, 0);
    ck_assert_str_eq(vx_test_str(r, "mode"), "nonroot");
    ck_assert_uint_eq(vx_test_u64(r, "tsc", 0), vx_test_u64(r, "cycle", 1));
    ck_assert_uint_eq(vx_test_u64(r, "value", 0), vx_test_u64(r, "tsc", 0) + 0x100000000000ull);
    json_decref(ev);
}
END_TEST

/* The other exit reasons the model produces, in order; the program checks
 * lengths, instruction information and saved guest state itself. */
START_TEST(guest_more_exits)
{
    static const unsigned reasons[] = {13, 16, 51, 19, 21, 22, 23, 25, 20, 24, 26, 27, 50, 53,
                                       55, 47, 57, 61, 58, 39, 36, 32, 30, 30, 2};
    exp_exit x[N(reasons)];
    for (size_t i = 0; i < N(reasons); i++) x[i] = (exp_exit){reasons[i], 0, 0};
    x[N(reasons) - 3].qual = 0x800030;   /* REP OUTSB: DX, string, REP, byte */
    x[N(reasons) - 2].qual = 0x800009;   /* IN AX, DX: 2 bytes, IN */
    json_t *ev = run_pass("guest_more.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    const json_t *outs = vx_test_find(ev, "vm_exit", "IO_INSTRUCTION", 0);
    const json_t *oq = json_object_get(outs, "qualification");
    ck_assert_msg(oq && json_is_true(json_object_get(oq, "rep")) &&
                  json_is_true(json_object_get(oq, "string")) &&
                  !strcmp(vx_test_str(oq, "operand"), "dx"), "%s", dump(outs));
    const json_t *vr = vx_test_find(ev, "vm_exit", "VMREAD", 0);
    const json_t *insn = json_object_get(vr, "instruction");
    ck_assert_msg(insn && !strcmp(vx_test_str(insn, "register"), "rcx") &&
                  !strcmp(vx_test_str(insn, "register2"), "rax"), "%s", dump(vr));
    json_decref(ev);
}
END_TEST

/* The monitor trap flag (an exit after each instruction that does not
 * exit itself) and the NMI and interrupt windows open at VM entry. */
START_TEST(guest_mtf_and_windows)
{
    static const exp_exit x[] = {{37, 0, 0}, {37, 0, 0}, {18, 0, 0}, {8, 0, 0}, {7, 0, 0}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_mtf.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        json_decref(ev);
    }
}
END_TEST

/* Event windows that open while the guest runs: after STI and one more
 * instruction, after IRET (virtual-NMI blocking ends), after POPF. */
START_TEST(guest_windows_open_later)
{
    static const exp_exit x[] = {{7, 0, 0}, {8, 0, 0}, {7, 0, 0}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_windows.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        json_decref(ev);
    }
}
END_TEST

/* CLTS and LMSW under the CR0 guest/host mask, and task switches (far
 * JMP, far CALL, IRET with NT) in a 32-bit guest. */
START_TEST(guest_clts_lmsw_task_switch)
{
    static const exp_exit x[] = {{28, 0, 0x20}, {28, 0, 0x30030}, {9, 0, 0x80000020},
                                 {9, 0, 0x20}, {9, 0, 0x40000028}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_task.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        const json_t *t = vx_test_find(ev, "vm_exit", "TASK_SWITCH", 2);
        const json_t *q = json_object_get(t, "qualification");
        ck_assert_msg(q && !strcmp(vx_test_str(q, "source"), "iret"), "%s", dump(t));
        json_decref(ev);
    }
}
END_TEST

/* PAUSE-loop exiting by the model's TSC, and an entry in HLT state woken
 * by an open interrupt window (HLT saved). */
START_TEST(guest_pause_loop_and_hlt_state)
{
    static const exp_exit x[] = {{40, 0, 0}, {7, 0, 0}, {18, 0, 0}};
    json_t *ev = run_pass("guest_pause.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    json_decref(ev);
    /* A VM entry starts a new PAUSE loop: the PAUSE right after it does
     * not exit, however long the VMM took (26.1.3). */
    static const exp_exit y[] = {{10, 0, 0}, {40, 0, 0}, {18, 0, 0}};
    ev = run_pass("guest_ple.elf", NULL, NULL);
    check_exits(ev, y, N(y));
    json_decref(ev);
}
END_TEST

/* The VMX-preemption timer: exit 52 at the cycle the TSC predicts: the
 * timer counts down each time bit X = IA32_VMX_MISC[4:0] of the TSC
 * changes, so from TSC t0 with value V it reaches 0 at
 * ((t0 >> X) + V) << X.  Here the TSC is the cycle count (the profile's
 * tsc_per_cycle is 1/1, and the program never writes IA32_TSC), and the
 * guest spins on `jmp $`, one `branch` (1 cycle in the profile) a block,
 * so an instruction boundary falls on every cycle: the exit comes at
 * exactly that cycle. */
START_TEST(guest_preemption_timer)
{
    static const exp_exit x[] = {{52, 0, 0}, {52, 0, 0}, {18, 0, 0}};
    json_t *ev = run_pass("guest_timer.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    uint64_t misc = 0;
    ck_assert_int_eq(vx_test_msr(NULL, 0x485, &misc), 0);
    unsigned shift = misc & 0x1F;
    vx_profile p;
    char err[256];
    ck_assert_msg(vx_profile_load("icelake-server", NULL, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.cycles.cls[VX_IC_branch], 1);
    ck_assert_uint_eq(p.cycles.tsc_num, 1);
    ck_assert_uint_eq(p.cycles.tsc_den, 1);
    const json_t *entry = vx_test_find(ev, "vm_entry", NULL, 0);
    const json_t *exit = vx_test_find(ev, "vm_exit", "PREEMPTION_TIMER", 0);
    uint64_t t0 = vx_test_u64(entry, "cycle", 0), t1 = vx_test_u64(exit, "cycle", 0);
    ck_assert_uint_eq(t1, ((t0 >> shift) + 20) << shift);
    /* Value 0: the exit comes before any guest instruction. */
    const json_t *entry2 = vx_test_find(ev, "vm_entry", NULL, 1);
    const json_t *exit2 = vx_test_find(ev, "vm_exit", "PREEMPTION_TIMER", 1);
    ck_assert_uint_eq(vx_test_u64(exit2, "icount", 0), vx_test_u64(entry2, "icount", 1));
    json_decref(ev);
}
END_TEST

/* VMFUNC in the guest: EPTP switching without an exit, exits for an
 * invalid EPTP and a disabled function; an injected type-7 event is a
 * pending MTF VM exit. */
START_TEST(guest_vmfunc_and_pending_mtf)
{
    static const exp_exit x[] = {{59, 0, 0}, {59, 0, 0}, {37, 0, 0}, {18, 0, 0}};
    json_t *ev = run_pass("guest_vmfunc.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    json_decref(ev);
}
END_TEST

/* Event injection (27.6): #UD, #GP with an error code, INT 0x30 with an
 * instruction length, each delivered through the guest's IDT (the
 * program checks the frames). */
START_TEST(guest_injection)
{
    static const exp_exit x[] = {{18, 0, 0}, {18, 0, 0}, {18, 0, 0}};
    static const uint64_t injected[] = {0x80000306, 0x80000b0d, 0x80000430};
    json_t *ev = run_pass("guest_inject.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    for (int k = 0; k < 3; k++) {
        const json_t *e = vx_test_find(ev, "vm_entry", NULL, k);
        const json_t *inj = e ? json_object_get(e, "injected") : NULL;
        ck_assert_msg(inj && vx_test_u64(inj, "intr_info", 0) == injected[k], "entry %d: %s", k,
                      e ? dump(e) : "missing");
    }
    ck_assert_int_eq(vx_test_count(ev, "exception", NULL), 3);
    json_decref(ev);
}
END_TEST

/* Exits checked one by one (guest_misc.S checks qualifications and
 * instruction information itself): RIP-relative operands of VMPTRST,
 * SGDT and VMCLEAR (67H) give the operand's address as qualification;
 * INVEPT and INVVPID exit with "enable EPT" and "enable VPID" 0. */
START_TEST(guest_misc_exits)
{
    static const exp_exit x[] = {{22, 0, 0}, {46, 0, 0}, {19, 0, 0}, {50, 0, 0}, {53, 0, 0},
                                 {18, 0, 0}};
    exp_exit xx[N(x)];
    memcpy(xx, x, sizeof x);
    json_t *ev = run_pass("guest_misc.elf", NULL, NULL);
    /* The qualification is an address in the program: take it from the
     * first exit, and check the others against it. */
    const json_t *e = vx_test_find(ev, "vm_exit", NULL, 0);
    uint64_t target = vx_test_u64(e, "exit_qualification", 0);
    ck_assert_msg(target >= 0x100000 && target < 0x200000, "%s", dump(e));
    for (int k = 0; k < 5; k++) xx[k].qual = target;
    check_exits(ev, xx, N(xx));
    json_decref(ev);
}
END_TEST

/* HLT in a guest without HLT exiting is the HLT activity state, ended by
 * the VMX-preemption timer, the monitor trap flag or the interrupt window,
 * each saving HLT; entered in the shutdown state, the timer and the NMI
 * window wake it but not the interrupt window; nothing wakes the
 * wait-for-SIPI state, and the run ends there (the program checks the
 * saved activity states and RIPs). */
START_TEST(guest_hlt_state)
{
    static const exp_exit x[] = {{52, 0, 0}, {37, 0, 0}, {7, 0, 0}, {52, 0, 0}, {8, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        vmxsim_result res;
        json_t *ev;
        ck_assert_msg(vx_test_run("guest_hlt.elf", cpu ? "minimal" : NULL, NULL, &res, &ev) == 0,
                      "%s", vx_test_error());
        ck_assert_msg(res.end == VMXSIM_END_HLT && res.exit_status == 0 &&
                      !strcmp(res.message, "the guest was entered in wait-for-SIPI state and "
                                           "nothing can wake it"),
                      "%d %d %s", res.end, res.exit_status, res.message);
        ck_assert_msg(!strstr(vx_test_console(), "FAIL"), "%s", vx_test_console());
        check_exits(ev, x, N(x));
        ck_assert_int_eq(vx_test_count(ev, "vm_entry", NULL), 6);
        json_decref(ev);
    }
}
END_TEST

/* #DB through the exception bitmap: a single-step trap exits with BS in
 * the qualification (Table 28-1) and DR6 unchanged (28.1); INT1 exits as a
 * privileged software exception. */
START_TEST(guest_debug_exceptions)
{
    static const exp_exit x[] = {{0, 0, 0x4000}, {0, 0, 0}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_db.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        json_decref(ev);
    }
}
END_TEST

/* VM exits during event delivery (28.2.3): the IDT-vectoring information
 * has the type of the event being delivered (injected external
 * interrupt, software interrupt, NMI, privileged software exception; the
 * guest's INT n and INT3); the program checks the saved RIP and the
 * instruction length of the software ones. */
START_TEST(guest_idt_vectoring)
{
    static const uint64_t idt[] = {0x80000040, 0x80000430, 0x80000202, 0x80000431,
                                   0x80000603, 0x80000501};
    exp_exit x[N(idt) + 1];
    for (size_t k = 0; k < N(idt); k++) x[k] = (exp_exit){0, 0, 0};
    x[N(idt)] = (exp_exit){18, 0, 0};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_vector.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        for (int k = 0; k < (int)N(idt); k++) {
            const json_t *e = vx_test_find(ev, "vm_exit", "EXCEPTION_NMI", k);
            ck_assert_msg(vx_test_u64(e, "intr_info", 0) == 0x80000b0d &&
                          vx_test_u64(e, "idt_vectoring_info", 0) == idt[k] &&
                          vx_test_u64(e, "info2", 0) == idt[k] &&
                          vx_test_u64(e, "info1", 1) == 0,
                          "exit %d: expected IDT-vectoring information 0x%llx: %s", k,
                          (unsigned long long)idt[k], e ? dump(e) : "missing");
        }
        json_decref(ev);
    }
}
END_TEST

/* The interruptibility state each VM exit saves (28.3.4): blocking by STI
 * and MOV SS for one instruction, (virtual-)NMI blocking from VM entry or
 * an injected NMI until IRET (or kept by IRET under NMI exiting), ended
 * by a faulting IRET (bit 12 of the exit's interruption information);
 * none after a vectoring entry.  The program checks each saved value. */
START_TEST(guest_interruptibility)
{
    /* An EPT violation too saves the blocking before its instruction. */
    static const exp_exit v[] = {{48, 0, 0x581}};
    json_t *e = run_pass("guest_eptv.elf", NULL, NULL);
    check_exits(e, v, N(v));
    json_decref(e);

    exp_exit x[14];
    for (int k = 0; k < 14; k++) x[k] = (exp_exit){10, 0, 0};
    x[10] = (exp_exit){0, 0, 0};
    x[13] = (exp_exit){33, 1, 3};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_intr.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        const json_t *gp = vx_test_find(ev, "vm_exit", "EXCEPTION_NMI", 0);
        ck_assert_msg(vx_test_u64(gp, "intr_info", 0) == 0x80001b0d, "%s", dump(gp));
        const json_t *f = vx_test_find(ev, "vm_entry_failed", NULL, 0);
        ck_assert_msg(f && !strcmp(vx_test_str(f, "check"), "guest_intr_nmi_sti"), "%s",
                      f ? dump(f) : "missing");
        /* Exit qualification 3 of a VM-entry failure (27.8). */
        const json_t *fx = vx_test_find(ev, "vm_exit", "INVALID_STATE", 0);
        const json_t *fq = json_object_get(fx, "qualification");
        ck_assert_msg(fq && !strcmp(vx_test_str(fq, "meaning"), "NMI injection with blocking by STI"),
                      "%s", fx ? dump(fx) : "missing");
        json_decref(ev);
    }
}
END_TEST

/* VM-entry failures after the host-state checks exit to the host with
 * bit 31 of the exit reason set (27.8): invalid guest state (33, with
 * qualification 0 or 4 for the VMCS link pointer), MSR loading (34, the
 * failing entry). */
START_TEST(guest_entry_failures)
{
    static const exp_exit x[] = {{33, 1, 0}, {33, 1, 4}, {34, 1, 1}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_fail.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        /* Errors 4 and 6 from a VMCS that a VM entry really launched. */
        const json_t *l = vx_test_find(ev, "vmx", "vmlaunch", 4);
        ck_assert_msg(l && vx_test_u64(l, "error", 0) == 4, "%s", l ? dump(l) : "missing");
        const json_t *r = vx_test_find(ev, "vmx", "vmresume", 0);
        ck_assert_msg(r && vx_test_u64(r, "error", 0) == 6, "%s", r ? dump(r) : "missing");
        static const char *const checks[] = {"guest_cs_type", "guest_vmcs_link_revision"};
        for (int k = 0; k < 2; k++) {
            const json_t *e = vx_test_find(ev, "vm_entry_failed", NULL, k);
            ck_assert_msg(e && !strcmp(vx_test_str(e, "outcome"), "entry_failure") &&
                          !strcmp(vx_test_str(e, "check"), checks[k]), "%s", e ? dump(e) : "missing");
        }
        json_decref(ev);
    }
}
END_TEST

/* ---- exits of issue 3 item 8: one program per area ---- */

/* The exits' VM-exit interruption information and error code as the
 * trace reports them (KVM's names intr_info, error_code); error_code -1:
 * none (bit 11 clear, no field). */
typedef struct exp_intr {
    uint64_t intr_info;
    long error_code;
} exp_intr;

static void check_exception_exits(json_t *events, const exp_intr *x, size_t n)
{
    int k = 0;
    for (; k < vx_test_count(events, "vm_exit", "EXCEPTION_NMI"); k++) {
        const json_t *e = vx_test_find(events, "vm_exit", "EXCEPTION_NMI", k);
        const char *d = dump(e);
        ck_assert_msg((size_t)k < n, "more exception exits than the %zu expected: %s", n, d);
        ck_assert_msg(vx_test_u64(e, "intr_info", NONE) == x[k].intr_info,
                      "exception exit %d: expected intr_info 0x%llx: %s", k,
                      (unsigned long long)x[k].intr_info, d);
        if (x[k].error_code >= 0)
            ck_assert_msg(vx_test_u64(e, "error_code", NONE) == (uint64_t)x[k].error_code,
                          "exception exit %d: expected error code 0x%lx: %s", k, x[k].error_code, d);
        else
            ck_assert_msg(!json_object_get(e, "error_code"), "exception exit %d: error code: %s", k, d);
        ck_assert_msg(!json_object_get(e, "idt_vectoring_info"), "exception exit %d: %s", k, d);
    }
    ck_assert_int_eq(k, (int)n);
}

/* Exceptions through the exception bitmap with the #PF error-code mask
 * and match (25.6.3): the exits (qualification = the #PF's linear
 * address) and, in the trace, the two #PFs the guest's IDT delivered
 * (bit 14 = 1 with a mismatch, bit 14 = 0 with a match).  The program
 * checks CR2, RF and the interruption fields itself. */
START_TEST(guest_exception_bitmap)
{
    static const exp_exit x[] = {
        {0, 0, 0x401123}, {0, 0, 0x402ff8}, {18, 0, 0}, {0, 0, 0x401ff0}, {18, 0, 0},
        {0, 0, 0x401040}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {18, 0, 0},
    };
    static const exp_intr in[] = {
        {0x80000b0e, 0}, {0x80000b0e, 3}, {0x80000b0e, 2}, {0x80000b0e, 0},
        {0x80000306, -1}, {0x80000b0d, 0x78}, {0x80000300, -1},
    };
    static const exp_exc delivered[] = {{14, 0}, {14, 2}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_exc.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        check_exception_exits(ev, in, N(in));
        check_exceptions(ev, delivered, N(delivered));
        for (int k = 0; k < 2; k++)
            ck_assert_str_eq(vx_test_str(vx_test_find(ev, "exception", NULL, k), "mode"), "nonroot");
        json_decref(ev);
    }
}
END_TEST

/* RDTSCP, INVPCID, XSAVES and XRSTORS raise #UD while their secondary
 * control is 0, and while "activate secondary controls" is 0 whatever
 * the secondary controls say (25.6.2, 26.3); with the controls on,
 * RDTSCP and INVPCID exit (51, 58); the last #UD is delivered in the
 * guest. */
START_TEST(guest_disabled_instructions_ud)
{
    static const exp_exit x[] = {
        {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {18, 0, 0},
        {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {18, 0, 0},
        {51, 0, 0}, {58, 0, 0}, {18, 0, 0}, {18, 0, 0},
    };
    static const exp_intr in[] = {
        {0x80000306, -1}, {0x80000306, -1}, {0x80000306, -1}, {0x80000306, -1},
        {0x80000306, -1}, {0x80000306, -1}, {0x80000306, -1}, {0x80000306, -1},
    };
    static const char *const insn[] = {"rdtscp", "invpcid", "xsaves", "xrstors"};
    json_t *ev = run_pass("guest_ud.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    check_exception_exits(ev, in, N(in));
    for (int k = 0; k < 8; k++) {
        const json_t *e = vx_test_find(ev, "vm_exit", "EXCEPTION_NMI", k);
        ck_assert_msg(!strncmp(vx_test_str(e, "insn"), insn[k % 4], strlen(insn[k % 4])),
                      "#UD exit %d: expected %s: %s", k, insn[k % 4], dump(e));
    }
    static const exp_exc delivered[] = {{6, -1}};
    check_exceptions(ev, delivered, N(delivered));
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "exception", NULL, 0), "insn"), "rdtscp");
    json_decref(ev);
}
END_TEST

/* The cr_read / cr_write events of the guest (mode nonroot), in order:
 * the first n must be x[0..n), and there must be `total`. */
static void check_guest_regs(json_t *events, const exp_reg *x, size_t n, size_t total)
{
    size_t i, k = 0;
    json_t *e;
    json_array_foreach(events, i, e) {
        const char *name = vx_test_str(e, "event");
        if (strncmp(name, "cr_", 3) || strcmp(vx_test_str(e, "mode"), "nonroot")) continue;
        const char *d = dump(e);
        ck_assert_msg(k < total, "more guest CR accesses than the %zu expected: %s", total, d);
        if (k >= n) {
            k++;
            continue;
        }
        ck_assert_msg(!strcmp(name, x[k].event) && vx_test_u64(e, "value", NONE) == x[k].value &&
                      !strcmp(vx_test_str(e, "outcome"), x[k].outcome),
                      "guest CR access %zu: expected %s 0x%llx: %s", k, x[k].event,
                      (unsigned long long)x[k].value, d);
        k++;
    }
    ck_assert_uint_eq(k, total);
}

/* GETSEC with CR4.SMXE = 1 (11); MOV to CR4 under the CR4 guest/host
 * mask (28, only when an owned bit differs from the read shadow); MOV to
 * and from CR8 with CR8-load and CR8-store exiting (Table 28-3: CR 8,
 * access type, register). */
START_TEST(guest_getsec_cr4_cr8)
{
    static const exp_exit x[] = {
        {11, 0, 0}, {28, 0, 0xb04}, {28, 0, 0x604}, {28, 0, 0xa08}, {28, 0, 0x318},
        {18, 0, 0}, {18, 0, 0},
    };
    static const struct { int cr; const char *access, *gpr; } q[] = {
        {4, "mov_to_cr", "r11"}, {4, "mov_to_cr", "rsi"}, {8, "mov_to_cr", "r10"},
        {8, "mov_from_cr", "rbx"},
    };
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_cr.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        for (int k = 0; k < 4; k++) {
            const json_t *e = vx_test_find(ev, "vm_exit", "CR_ACCESS", k);
            const json_t *o = json_object_get(e, "qualification");
            ck_assert_msg(o && vx_test_u64(o, "cr", NONE) == (uint64_t)q[k].cr &&
                          !strcmp(vx_test_str(o, "access"), q[k].access) &&
                          !strcmp(vx_test_str(o, "gpr"), q[k].gpr), "CR exit %d: %s", k, dump(e));
        }
        /* The MOV to CR4 that matched the shadow ran in the guest (real
         * PGE 0 kept, DE set), and so did the later CR8 accesses. */
        static const exp_reg g[] = {
            {"cr_read", 0x60a0, "ok"}, {"cr_write", 0x6028, "ok"}, {"cr_write", 9, "ok"},
            /* CR8 keeps what MOV to CR8 wrote (the model's TPR). */
            {"cr_read", 9, "ok"},
        };
        check_guest_regs(ev, g, N(g), 4);
        json_decref(ev);
    }
}
END_TEST

/* The TPR shadow (30.1, 30.3): MOV from/to CR8 read and write VTPR; a
 * VTPR below the TPR threshold is a trap-like exit 43 after the MOV (the
 * program checks VTPR and what the guest read). */
START_TEST(guest_tpr_shadow)
{
    static const exp_exit x[] = {{43, 0, 0}, {18, 0, 0}};
    json_t *ev = run_pass("guest_tpr.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    const json_t *e = vx_test_find(ev, "vm_exit", "TPR_BELOW_THRESHOLD", 0);
    ck_assert_msg(e && !json_object_get(e, "instruction_length"), "%s", e ? dump(e) : "missing");
    static const exp_reg g[] = {
        {"cr_read", 5, "ok"}, {"cr_write", 4, "ok"}, {"cr_read", 4, "ok"}, {"cr_write", 2, "ok"},
        {"cr_write", 0, "ok"},
    };
    check_guest_regs(ev, g, N(g), 5);
    json_decref(ev);
}
END_TEST

/* I/O instructions under the I/O bitmaps (25.6.4): INS with and without
 * REP, 4-byte IN/OUT, bitmap B, multi-byte accesses exiting on any
 * byte's bit, accesses wrapping past FFFFH; the accesses that did not
 * exit reached the platform (io events, in the guest). */
START_TEST(guest_io_bitmaps)
{
#define IOQ(port, size, in, str, rep, imm)                                        \
    (((uint64_t)(port) << 16) | ((size) - 1) | ((in) << 3) | ((str) << 4) | ((rep) << 5) | \
     ((imm) << 6))
    static const exp_exit x[] = {
        {30, 0, IOQ(0x70, 1, 1, 1, 1, 0)},   {30, 0, IOQ(0x78, 4, 1, 1, 0, 0)},
        {30, 0, IOQ(0x7c, 2, 1, 1, 1, 0)},   {30, 0, IOQ(0x84, 4, 0, 0, 0, 1)},
        {30, 0, IOQ(0x88, 4, 1, 0, 0, 0)},   {30, 0, IOQ(0x7fff, 2, 0, 0, 0, 0)},
        {30, 0, IOQ(0x9000, 1, 0, 0, 0, 0)}, {30, 0, IOQ(0x8fff, 2, 0, 0, 0, 0)},
        {30, 0, IOQ(0xfffe, 4, 0, 0, 0, 0)}, {30, 0, IOQ(0xffff, 2, 1, 0, 0, 0)},
        {18, 0, 0},                          {30, 0, IOQ(0xffff, 1, 1, 0, 0, 0)},
        {30, 0, IOQ(0x90, 2, 0, 1, 1, 0)},   {18, 0, 0},
    };
#undef IOQ
    static const struct { uint64_t port; int size; const char *dir; } io[] = {
        {0x9001, 1, "out"}, {0xfffd, 2, "out"}, {0xffff, 1, "in"}, {0xfffe, 1, "in"},
    };
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_io.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        int k = 0;
        for (int i = 0; i < vx_test_count(ev, "io", NULL); i++) {
            const json_t *e = vx_test_find(ev, "io", NULL, i);
            if (strcmp(vx_test_str(e, "mode"), "nonroot")) continue;
            ck_assert_msg(k < (int)N(io), "unexpected guest I/O: %s", dump(e));
            ck_assert_msg(vx_test_u64(e, "port", NONE) == io[k].port &&
                          vx_test_u64(e, "size", NONE) == (uint64_t)io[k].size &&
                          !strcmp(vx_test_str(e, "direction"), io[k].dir),
                          "guest I/O %d: %s", k, dump(e));
            k++;
        }
        ck_assert_int_eq(k, (int)N(io));
        /* REP OUTSW with FS: the decoded instruction information. */
        const json_t *o = vx_test_find(ev, "vm_exit", "IO_INSTRUCTION", 11);
        const json_t *ii = json_object_get(o, "instruction");
        ck_assert_msg(ii && !strcmp(vx_test_str(ii, "segment"), "fs") &&
                      !strcmp(vx_test_str(ii, "address_size"), "64"), "%s", dump(o));
        json_decref(ev);
    }
}
END_TEST

/* Descriptor-table exiting: LGDT, LIDT, SIDT (46) and LLDT, LTR, STR (47)
 * in memory and register forms; the program checks the defined bits of
 * the instruction information, the trace shows them decoded. */
START_TEST(guest_descriptor_table_exits)
{
    static const exp_exit x[] = {
        {46, 0, 0x20}, {46, 0, (uint64_t)-8}, {46, 0, 0x1000}, {46, 0, 8}, {47, 0, 0},
        {47, 0, 0}, {47, 0, 0x30}, {47, 0, 0}, {47, 0, 0x10}, {47, 0, 0}, {18, 0, 0},
    };
    json_t *ev = run_pass("guest_desc.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    static const struct { const char *name; int nth; const char *key, *val; } d[] = {
        {"GDTR_IDTR", 0, "instruction", "lgdt"}, {"GDTR_IDTR", 1, "segment", "ss"},
        {"GDTR_IDTR", 1, "base", "rbp"},         {"GDTR_IDTR", 2, "index", "rdx"},
        {"GDTR_IDTR", 3, "address_size", "32"},  {"LDTR_TR", 1, "register", "r9"},
        {"LDTR_TR", 1, "instruction", "ltr"},    {"LDTR_TR", 3, "instruction", "str"},
        {"LDTR_TR", 5, "index", "r14"},          {"LDTR_TR", 5, "base", "r13"},
    };
    for (size_t k = 0; k < N(d); k++) {
        const json_t *e = vx_test_find(ev, "vm_exit", d[k].name, d[k].nth);
        const json_t *ii = json_object_get(e, "instruction");
        ck_assert_msg(ii && !strcmp(vx_test_str(ii, d[k].key), d[k].val), "%s %d: %s = %s: %s",
                      d[k].name, d[k].nth, d[k].key, d[k].val, e ? dump(e) : "missing");
    }
    json_decref(ev);
}
END_TEST

/* MSR bitmaps: the high-range read and write bitmaps, the low-range write
 * bitmap, MSRs outside both ranges; the MSR accesses that did not exit
 * ran in the guest. */
START_TEST(guest_msr_bitmaps)
{
    static const exp_exit x[] = {
        {31, 0, 0}, {31, 0, 0}, {31, 0, 0}, {32, 0, 0}, {32, 0, 0}, {31, 0, 0},
        {32, 0, 0}, {31, 0, 0}, {32, 0, 0}, {31, 0, 0}, {18, 0, 0},
    };
    static const struct { const char *event; uint64_t msr; } g[] = {
        {"msr_read", 0xc0000080}, {"msr_read", 0xc0000081}, {"msr_write", 0xc0000102},
        {"msr_read", 0x174},
    };
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_msr.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        size_t i, k = 0;
        json_t *e;
        json_array_foreach(ev, i, e) {
            const char *name = vx_test_str(e, "event");
            if (strncmp(name, "msr_", 4) || strcmp(vx_test_str(e, "mode"), "nonroot")) continue;
            ck_assert_msg(k < N(g), "unexpected guest MSR access: %s", dump(e));
            ck_assert_msg(!strcmp(name, g[k].event) && vx_test_u64(e, "msr", NONE) == g[k].msr &&
                          !strcmp(vx_test_str(e, "outcome"), "ok"), "guest MSR access %zu: %s", k,
                          dump(e));
            k++;
        }
        ck_assert_uint_eq(k, N(g));
        json_decref(ev);
    }
}
END_TEST

/* The VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas
 * (the program checks the stored values, in order, and the host's MSRs
 * after each exit). */
START_TEST(guest_msr_areas)
{
    static const exp_exit x[] = {{18, 0, 0}, {18, 0, 0}};
    for (int cpu = 0; cpu < 2; cpu++) {
        json_t *ev = run_pass("guest_msrarea.elf", cpu ? "minimal" : NULL, NULL);
        check_exits(ev, x, N(x));
        json_decref(ev);
    }
}
END_TEST

/* The VMX-abort indicator in bytes 4-7 of the VMCS region at pa after a
 * run of prog (run again through the API, which can read memory after
 * the run; the harness cannot). */
static uint32_t abort_indicator(const char *prog, const char *cpu, uint64_t pa)
{
    char path[4096], why[256];
    const char *dir = getenv("VX_BUILDDIR");
    ck_assert_msg(dir && *dir, "VX_BUILDDIR is not set");
    snprintf(path, sizeof path, "%s/%s", dir, prog);
    vmxsim_options opt = {0};
    opt.cpu = cpu;
    opt.max_insns = VX_TEST_MAX_INSNS;
    FILE *con = tmpfile();
    ck_assert_ptr_nonnull(con);
    opt.console = con;
    vmxsim *m = vmxsim_create(&opt, why, sizeof why);
    ck_assert_msg(m, "vmxsim_create: %s", why);
    ck_assert_msg(vmxsim_load(m, path) == 0, "%s", vmxsim_error(m));
    vmxsim_result res;
    ck_assert_msg(vmxsim_run(m, &res) == 0, "%s", vmxsim_error(m));
    ck_assert_int_eq(res.end, VMXSIM_END_TRIPLE_FAULT);
    uint32_t ind = 0;
    ck_assert_msg(vmxsim_mem_read(m, pa + 4, &ind, 4) == 0, "%s", vmxsim_error(m));
    vmxsim_destroy(m);
    fclose(con);
    return ind;
}

/* A VMX abort (28.7): a failing VM-exit MSR-load entry (indicator 4) or
 * MSR-store entry (indicator 1) shuts the processor down; the run ends
 * with a report that names the indicator, the trace has a vmx_abort
 * event, the host never runs again (no PASS, no FAIL), and the indicator
 * is in the VMCS region. */
START_TEST(vmx_abort)
{
    static const struct { const char *prog; int indicator; } r[] = {
        {"guest_abort.elf", 4}, {"guest_abort_store.elf", 1},
        /* IA32_FS_BASE in the VM-exit MSR-load area fails too (28.6,
         * first item): indicator 4. */
        {"guest_abort_fsbase.elf", 4},
    };
    for (int cpu = 0; cpu < 2; cpu++) {
        for (size_t k = 0; k < N(r); k++) {
            vmxsim_result res;
            json_t *ev;
            const char *c = cpu ? "minimal" : NULL;
            ck_assert_msg(vx_test_run(r[k].prog, c, NULL, &res, &ev) == 0, "%s", vx_test_error());
            char msg[128];
            snprintf(msg, sizeof msg, "VMX abort (indicator %d): the processor shuts down",
                     r[k].indicator);
            ck_assert_msg(res.end == VMXSIM_END_TRIPLE_FAULT && res.exit_status == 2 &&
                          !strcmp(res.message, msg), "%s: %d %d %s; console: %s", r[k].prog,
                          res.end, res.exit_status, res.message, vx_test_console());
            ck_assert_str_eq(vx_test_console(), "");
            ck_assert_int_eq(vx_test_count(ev, "vmx_abort", NULL), 1);
            const json_t *a = vx_test_find(ev, "vmx_abort", NULL, 0);
            ck_assert_msg(vx_test_u64(a, "indicator", NONE) == (uint64_t)r[k].indicator, "%s",
                          dump(a));
            /* The exit it aborted: the guest's VMCALL, traced before the
             * abort whichever step failed. */
            ck_assert_int_eq(vx_test_count(ev, "vm_exit", NULL), 1);
            ck_assert_uint_eq(vx_test_u64(vx_test_find(ev, "vm_exit", NULL, 0), "exit_reason", NONE),
                              18);
            ck_assert_str_eq(vx_test_str(a, "mode"), "root");
            const json_t *end = vx_test_find(ev, "end", NULL, 0);
            ck_assert_msg(end && !strcmp(vx_test_str(end, "reason"), "triple_fault") &&
                          !strcmp(vx_test_str(end, "message"), msg), "%s",
                          end ? dump(end) : "missing");
            /* Nothing after the abort: the end event follows it. */
            ck_assert_uint_eq(vx_test_u64(end, "seq", 0), vx_test_u64(a, "seq", 0) + 1);
            const json_t *ld = vx_test_find(ev, "vmx", "vmptrld", 0);
            uint64_t vmcs = vx_test_u64(json_object_get(ld, "operands"), "pointer", NONE);
            ck_assert_msg(vmcs != NONE, "%s", ld ? dump(ld) : "no vmptrld");
            json_decref(ev);
            ck_assert_uint_eq(abort_indicator(r[k].prog, c, vmcs), (uint32_t)r[k].indicator);
        }
    }
}
END_TEST

/* The guest state saved by six exits of different reasons (the program
 * checks each field). */
START_TEST(guest_saved_state)
{
    static const exp_exit x[] = {{10, 0, 0}, {18, 0, 0}, {12, 0, 0}, {31, 0, 0}, {10, 0, 0},
                                 {18, 0, 0}};
    json_t *ev = run_pass("guest_state.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    /* The CPL 3 exits: the vm_exit events are in the guest's user mode
     * code, the entries after them resume at CPL 3. */
    const json_t *e = vx_test_find(ev, "vm_exit", "CPUID", 1);
    ck_assert_msg(e && !strcmp(vx_test_str(e, "insn"), "cpuid"), "%s", e ? dump(e) : "missing");
    json_decref(ev);
}
END_TEST

START_TEST(vmcall_root)
{
    json_t *ev = run_pass("vmcall.elf", NULL, NULL);
    static const exp_vmx x[] = {
        UD("vmcall"), OK("vmxon"), INV("vmcall"), DO_VMPTRLD, VALID("vmcall", 1),
        OK("vmxoff"), UD("vmcall"),
    };
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {{6, -1}, {6, -1}};
    check_exceptions(ev, e, N(e));
    json_decref(ev);
}
END_TEST

START_TEST(invept_invvpid)
{
    json_t *ev = run_pass("invept.elf", NULL, NULL);
    /* icelake-server: INVEPT single and all-context, EPT A/D flags,
     * INVVPID types 0-3. */
    static const exp_vmx x[] = {
        OK("vmxon"), INV("invept"), DO_VMPTRLD,
        VALID("invept", 28), VALID("invept", 28), VALID("invept", 28),
        OK("invept"),                                 /* all-context */
        OK("invept"),                                 /* single-context, valid EPTP */
        VALID("invept", 28), VALID("invept", 28), VALID("invept", 28),
        OK("invept"),                                 /* bit 7 with EPT cap bit 23 */
        VALID("invept", 28),
        OK("invept"),                                 /* A/D flags */
        OK("vmclear"), INV("invvpid"), DO_VMPTRLD,
        VALID("invvpid", 28), VALID("invvpid", 28),
        OK("invvpid"), OK("invvpid"), OK("invvpid"), OK("invvpid"),
        VALID("invvpid", 28), VALID("invvpid", 28), VALID("invvpid", 28),
        VALID("invvpid", 28), VALID("invvpid", 28), VALID("invvpid", 28), VALID("invvpid", 28),
        VALID("invvpid", 28), OK("invvpid"),
        OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, NULL, 0);
    /* The type operand as traced: all 64 bits in 64-bit mode */
    ck_assert_uint_eq(vx_test_u64(json_object_get(vx_test_find(ev, "vmx", "invept", 3), "operands"),
                                  "type", 0), 0x100000002ull);
    json_decref(ev);
}
END_TEST

START_TEST(page_faults)
{
    json_t *ev = run_pass("pf_operand.elf", NULL, NULL);
    static const exp_vmx x[] = {
        PF("vmxon", 0), PF("vmxon", 0), GP("vmxon"), SSF("vmxon"), GP("vmxon"),
        UD("vmxoff"), OK("vmxon"), INV("vmxon"),
        PF("vmclear", 0), PF("vmptrld", 0), PF("vmptrst", 2),
        GP("vmclear"), GP("vmptrld"), GP("vmptrst"), SSF("vmptrst"),
        OK("vmptrst"), PF("vmptrst", 3), PF("vmptrst", 2),
        DO_VMPTRLD,
        PF("vmread", 2), PF("vmwrite", 0), PF("vmread", 3),
        VALID("vmread", 12), VALID("vmwrite", 12),
        VALID("invept", 28), PF("invept", 0), GP("invept"),
        VALID("invvpid", 28), PF("invvpid", 0), PF("invvpid", 0),
        OK("vmptrst"), OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    static const exp_exc e[] = {
        {14, 0}, {14, 0}, {13, 0}, {12, 0}, {13, 0}, {6, -1},
        {14, 0}, {14, 0}, {14, 2}, {13, 0}, {13, 0}, {13, 0}, {12, 0},
        {14, 3}, {14, 3}, {14, 0}, {14, 2}, {14, 2}, {14, 0}, {14, 3},
        {14, 0}, {13, 0}, {14, 0}, {14, 0},
    };
    check_exceptions(ev, e, N(e));
    json_decref(ev);
}
END_TEST

/* Root operation under paging structures that map linear addresses to
 * other physical ones (the model translates, sim/mmu.c): aliases, A/D
 * flags, stale translations until INVLPG or MOV to CR3, #PF for a
 * not-present page (read 0, write 2), a read-only page under CR0.WP (3),
 * and an execute-disable page (P | I/D = 0x11). */
START_TEST(root_paging)
{
    json_t *ev = run_pass("paging.elf", NULL, NULL);
    static const exp_exc e[] = {{14, 0}, {14, 2}, {14, 3}, {14, 0x11}};
    check_exceptions(ev, e, N(e));
    json_decref(ev);
}
END_TEST

/* --tlb off: no stale translation is ever used.  paging.elf checks in
 * check 5 that a changed entry is NOT seen before INVLPG (the TLB keeps
 * the old translation, SDM Vol. 3A 4.10.4): with the TLB off the new
 * frame (0xC0C) is seen at once, so exactly that check fails. */
START_TEST(tlb_off_sees_changes_at_once)
{
    vmxsim_result res;
    json_t *ev = NULL;
    ck_assert_msg(vx_test_run("paging.elf", NULL, "--tlb-off", &res, &ev) == 0, "%s",
                  vx_test_error());
    ck_assert_msg(res.end == VMXSIM_END_DEBUG_EXIT && res.exit_status == ((5 << 1) | 1),
                  "status %d: %s", res.exit_status, vx_test_console());
    ck_assert_str_eq(vx_test_console(), "FAIL check 5: value 0x0000000000000c0c\n");
    /* Checks 1-4 passed: the aliases, the A/D flags, all through walks
     * that the trace shows. */
    ck_assert_int_gt(vx_test_count(ev, "translation", NULL), 10);
    json_decref(ev);
}
END_TEST

/* --trace-tlb-hits: translations found in the model's TLB are traced
 * (tlb_hit events), and only with the option. */
START_TEST(trace_tlb_hits)
{
    vmxsim_result res;
    json_t *ev = NULL;
    ck_assert_msg(vx_test_run("paging.elf", NULL, "--trace-tlb-hits", &res, &ev) == 0, "%s",
                  vx_test_error());
    ck_assert_str_eq(vx_test_console(), "PASS\n");
    ck_assert_int_gt(vx_test_count(ev, "tlb_hit", NULL), 0);
    json_decref(ev);
    ck_assert_msg(vx_test_run("paging.elf", NULL, NULL, &res, &ev) == 0, "%s", vx_test_error());
    ck_assert_int_eq(vx_test_count(ev, "tlb_hit", NULL), 0);
    json_decref(ev);
}
END_TEST

START_TEST(vmxoff_then_ud)
{
    json_t *ev = run_pass("vmxoff.elf", NULL, NULL);
    static const exp_vmx x[] = {
        OK("vmxon"), DO_VMPTRLD, OK("vmxoff"), ALL_UD,
        OK("vmxon"), OKV("vmptrst", "pointer", UINT64_MAX), INV("vmread"), OK("vmxoff"),
        UD("vmxon"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, ud_x26, 13);
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmxoff", 0), "mode"), "off");
    json_decref(ev);
}
END_TEST

START_TEST(operand_forms)
{
    json_t *ev = run_pass("operands.elf", NULL, NULL);
    static const exp_vmx x[] = {
        OK("vmxon"), OK("vmptrld"), OK("vmptrst"), OK("vmptrst"),
        OKV("vmwrite", "value", 0x1234567890ull), OKV("vmread", "value", 0x1234567890ull),
        OK("vmclear"), OK("vmptrld"), OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, NULL, 0);
    check_vmptrst_pointers(ev, 2);
    /* The decoder's view of the operands, as traced */
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmptrld", 0), "insn"),
                     "vmptrld qword ptr [rbx + rcx*8]");
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmptrst", 1), "insn"),
                     "vmptrst qword ptr fs:[8]");
    ck_assert_str_eq(vx_test_str(vx_test_find(ev, "vmx", "vmclear", 0), "insn"),
                     "vmclear qword ptr [ebx]");
    json_decref(ev);
}
END_TEST

START_TEST(vmfunc_root)
{
    json_t *ev = run_pass("vmfunc.elf", NULL, NULL);
    static const exp_vmx x[] = {
        UD("vmfunc"), OK("vmxon"), UD("vmfunc"), DO_VMPTRLD, UD("vmfunc"), UD("vmfunc"),
        OK("vmxoff"),
    };
    check_vmx(ev, x, N(x));
    check_exceptions(ev, ud_x26, 4);
    json_decref(ev);
}
END_TEST

/* ---- EPT: stale translations, violations, misconfigurations ---- */

/* How many vm_exit events come before events[idx]. */
static int exits_before(json_t *events, size_t idx)
{
    int n = 0;
    for (size_t i = 0; i < idx && i < json_array_size(events); i++)
        if (!strcmp(vx_test_str(json_array_get(events, i), "event"), "vm_exit")) n++;
    return n;
}

/* The last EPT reference of a translation event that translates the
 * final guest-physical address ("for": "final"), or NULL. */
static const json_t *final_ept_ref(const json_t *tr)
{
    const json_t *refs = json_object_get(tr, "refs"), *last = NULL, *r;
    size_t i;
    json_array_foreach(refs, i, r) {
        if (!strcmp(vx_test_str(r, "dim"), "ept") && !strcmp(vx_test_str(r, "for"), "final")) last = r;
    }
    return last;
}

/* A guest translation of linear address la: after `exits` VM exits, to
 * guest-physical gpa and host-physical hpa, the final guest-physical
 * address through a cached guest-physical mapping (cached = 1) or a walk
 * of EPT whose PTE is ept_pte (cached = 0). */
typedef struct exp_xl {
    int exits;
    uint64_t gpa, hpa;
    int cached;
    uint64_t ept_pte;
} exp_xl;

static void check_xlates(json_t *events, uint64_t la, uint16_t vpid, const exp_xl *x, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "translation") ||
            strcmp(vx_test_str(ev, "mode"), "nonroot") || vx_test_u64(ev, "la", NONE) != la)
            continue;
        const char *d = dump(ev);
        ck_assert_msg(k < n, "more translations of 0x%llx than the %zu expected: %s",
                      (unsigned long long)la, n, d);
        const json_t *f = final_ept_ref(ev);
        ck_assert_msg(!strcmp(vx_test_str(ev, "result"), "ok") && json_is_true(json_object_get(ev, "ept")) &&
                      vx_test_u64(ev, "vpid", NONE) == vpid && exits_before(events, i) == x[k].exits &&
                      vx_test_u64(ev, "gpa", NONE) == x[k].gpa && vx_test_u64(ev, "hpa", NONE) == x[k].hpa,
                      "translation %zu of 0x%llx: expected after %d exits, VPID %u, gpa 0x%llx, hpa 0x%llx (%d exits before): %s",
                      k, (unsigned long long)la, x[k].exits, vpid, (unsigned long long)x[k].gpa,
                      (unsigned long long)x[k].hpa, exits_before(events, i), d);
        ck_assert_msg(f && json_is_true(json_object_get(f, "cached")) == x[k].cached &&
                      (x[k].cached ? vx_test_u64(f, "hpa", NONE) == x[k].hpa
                                   : !strcmp(vx_test_str(f, "level"), "PT") &&
                                     vx_test_u64(f, "entry", NONE) == x[k].ept_pte),
                      "translation %zu of 0x%llx: final EPT reference: %s", k, (unsigned long long)la, d);
        k++;
    }
    ck_assert_msg(k == n, "%zu translations of 0x%llx, expected %zu", k, (unsigned long long)la, n);
}

/* The tlb_invalidate events of INVEPT, INVVPID and INVLPG, in order:
 * op, scope, linear address (NONE: none) and the VM exits before it. */
typedef struct exp_inv {
    const char *op, *scope;
    uint64_t la;
    int exits;
    const char *mode;
} exp_inv;

static void check_invalidations(json_t *events, const exp_inv *x, size_t n)
{
    size_t i, k = 0;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (strcmp(vx_test_str(ev, "event"), "tlb_invalidate")) continue;
        const char *op = vx_test_str(ev, "op");
        if (strcmp(op, "invept") && strcmp(op, "invvpid") && strcmp(op, "invlpg")) continue;
        const char *d = dump(ev);
        ck_assert_msg(k < n, "more invalidations than the %zu expected: %s", n, d);
        ck_assert_msg(!strcmp(op, x[k].op) && !strcmp(vx_test_str(ev, "scope"), x[k].scope) &&
                      vx_test_u64(ev, "la", NONE) == x[k].la && exits_before(events, i) == x[k].exits &&
                      !strcmp(vx_test_str(ev, "mode"), x[k].mode),
                      "invalidation %zu: expected %s %s after %d exits in %s: %s", k, x[k].op,
                      x[k].scope, x[k].exits, x[k].mode, d);
        k++;
    }
    ck_assert_msg(k == n, "%zu invalidations, expected %zu", k, n);
}

/* Issue 4's stale-translation test (tests/vmx/ept_stale.S): an EPT PTE
 * changed without INVEPT leaves the old host page visible until INVEPT
 * single-context for its EPTP (not for another one), with VPIDs (the
 * combined mapping survives the VM exit and entry: no new walk at all)
 * and without (VM entry invalidates the combined mappings of VPID 0, so
 * the guest walks again, but the final guest-physical address comes from
 * the cached guest-physical mapping, 29.4.1); a guest PTE change is
 * invisible until INVVPID individual-address (not single-context for
 * VPID 2), then single-context (VPID 1), or at once after the next VM
 * entry (VPID 0); the guest's own PTE change until its INVLPG.  The
 * program checks each value read (OLD 0x01D0..., NEW 0x0E30..., V0-V3)
 * at the next VMCALL; here the trace shows how. */
START_TEST(ept_stale_translations)
{
    static const exp_exit x[] = {
        {18, 0, 0}, {18, 0, 0}, {18, 0, 0}, {18, 0, 0}, {18, 0, 0},
        {18, 0, 0}, {18, 0, 0}, {18, 0, 0}, {18, 0, 0},
    };
    enum { P = 0x800000, H_OLD = 0x800000, H_NEW = 0x801000, L = 0xA00000 };
    enum { Q0 = 0x810000, Q1 = 0x811000, Q2 = 0x812000, Q3 = 0x813000 };
    /* With VPID 1. */
    json_t *ev = run_pass("ept_stale.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    static const exp_xl p1[] = {
        {0, P, H_OLD, 0, H_OLD | 0x37},
        {3, P, H_NEW, 0, H_NEW | 0x37},   /* only after INVEPT of this EPTP */
    };
    check_xlates(ev, P, 1, p1, N(p1));
    static const exp_xl l1[] = {
        {3, Q0, Q0, 0, Q0 | 0x37},
        {6, Q1, Q1, 0, Q1 | 0x37},        /* only after INVVPID individual-address, VPID 1 */
        {8, Q2, Q2, 0, Q2 | 0x37},        /* after INVVPID single-context, VPID 1 */
        {8, Q3, Q3, 0, Q3 | 0x37},        /* after INVLPG */
    };
    check_xlates(ev, L, 1, l1, N(l1));
    static const exp_inv i1[] = {
        {"invept", "ept", NONE, 2, "root"},        /* another EPTP */
        {"invept", "ept", NONE, 3, "root"},
        {"invvpid", "vpid", NONE, 5, "root"},      /* VPID 2 */
        {"invvpid", "address", L, 6, "root"},
        {"invvpid", "vpid", NONE, 8, "root"},
        {"invlpg", "page", L, 8, "nonroot"},
    };
    check_invalidations(ev, i1, N(i1));
    check_exceptions(ev, NULL, 0);
    json_decref(ev);
    /* With VPID 0. */
    ev = run_pass("ept_stale_novpid.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    static const exp_xl p0[] = {
        {0, P, H_OLD, 0, H_OLD | 0x37},
        {1, P, H_OLD, 1, 0},              /* walked again; P's mapping cached */
        {2, P, H_OLD, 1, 0},              /* still, after INVEPT of another EPTP */
        {3, P, H_NEW, 0, H_NEW | 0x37},
    };
    check_xlates(ev, P, 0, p0, N(p0));
    static const exp_xl l0[] = {
        {3, Q0, Q0, 0, Q0 | 0x37}, {4, Q1, Q1, 0, Q1 | 0x37}, {5, Q1, Q1, 1, 0},
        {6, Q1, Q1, 1, 0}, {7, Q2, Q2, 0, Q2 | 0x37}, {8, Q2, Q2, 1, 0},
        {8, Q3, Q3, 0, Q3 | 0x37},
    };
    check_xlates(ev, L, 0, l0, N(l0));
    static const exp_inv i0[] = {
        {"invept", "ept", NONE, 2, "root"},
        {"invept", "ept", NONE, 3, "root"},
        {"invlpg", "page", L, 8, "nonroot"},
    };
    check_invalidations(ev, i0, N(i0));
    check_exceptions(ev, NULL, 0);
    json_decref(ev);
}
END_TEST

/* The vm_exit and translation events of an EPT-induced exit. */
typedef struct exp_ept_exit {
    unsigned reason;
    uint64_t qual;
    int len;              /* instruction_length, 0: absent */
    uint64_t idt;         /* idt_vectoring_info, 0: absent */
    uint64_t la, gpa;     /* of the failed translation */
    const char *result;   /* its result */
} exp_ept_exit;

/* EPT violations and misconfigurations (tests/vmx/ept_violations.S,
 * which checks the qualification, guest-physical and guest-linear
 * addresses, instruction length, IDT-vectoring information (also of an
 * event injected by VM entry) and the EPT A/D flags itself): the exits
 * and qualifications, and the translation event that found each. */
START_TEST(ept_violation_exits)
{
    static const exp_exit x[] = {
        {48, 0, 0x581}, {48, 0, 0x58A}, {48, 0, 0x59C}, {48, 0, 0x5A1}, {48, 0, 0x83},
        {49, 0, 0}, {49, 0, 0}, {18, 0, 0}, {48, 0, 0x581}, {48, 0, 0x581}, {48, 0, 0x582},
        {18, 0, 0},
    };
    json_t *ev = run_pass("ept_violations.elf", NULL, NULL);
    check_exits(ev, x, N(x));
    static const exp_ept_exit e[] = {
        {48, 0x581, 3, 0, 0x820008, 0x820008, "ept_violation"},
        {48, 0x58A, 3, 0, 0x821010, 0x821010, "ept_violation"},
        {48, 0x59C, 1, 0, 0x822000, 0x822000, "ept_violation"},
        {48, 0x5A1, 3, 0, 0x823018, 0x823018, "ept_violation"},
        {48, 0x83, 3, 0, 0xC00020, 0x830000, "ept_violation"},
        {49, 0, 3, 0, 0x824010, 0x824010, "ept_misconfig"},
        {49, 0, 3, 0, 0x825020, 0x825020, "ept_misconfig"},
        {18, 0, 3, 0, 0, 0, NULL},
        /* instruction length: see ept_violation_during_int3_delivery */
        {48, 0x581, -1, 0x80000603, 0x831030, 0x831030, "ept_violation"},
        {48, 0x581, -1, 0x80000300, 0x831000, 0x831000, "ept_violation"},   /* injected #DE */
        {48, 0x582, 0, 0x80000306, 0x832FF8, 0x832FF8, "ept_violation"},
    };
    /* Each EPT exit follows the translation event that failed. */
    for (size_t k = 0; k < N(e); k++) {
        const json_t *vx = vx_test_find(ev, "vm_exit", NULL, (int)k);
        const char *d = dump(vx);
        ck_assert_msg(e[k].len < 0 || (e[k].len ? vx_test_u64(vx, "instruction_length", NONE) == (uint64_t)e[k].len
                                                : !json_object_get(vx, "instruction_length")),
                      "exit %zu: instruction length %d: %s", k, e[k].len, d);
        ck_assert_msg(e[k].idt ? vx_test_u64(vx, "idt_vectoring_info", NONE) == e[k].idt
                               : !json_object_get(vx, "idt_vectoring_info"),
                      "exit %zu: IDT-vectoring information 0x%llx: %s", k, (unsigned long long)e[k].idt, d);
        if (!e[k].result) continue;
        const json_t *tr = NULL;
        size_t i;
        json_t *t;
        json_array_foreach(ev, i, t) {
            if (t == vx) break;
            if (!strcmp(vx_test_str(t, "event"), "translation")) tr = t;
        }
        d = dump(tr);
        ck_assert_msg(tr && !strcmp(vx_test_str(tr, "result"), e[k].result) &&
                      vx_test_u64(tr, "la", NONE) == e[k].la && vx_test_u64(tr, "gpa", NONE) == e[k].gpa &&
                      (e[k].reason == 49 || vx_test_u64(tr, "exit_qualification", NONE) == e[k].qual),
                      "exit %zu: the translation before it: %s", k, d);
    }
    /* The decoded qualifications: a fetch from a readable, writable page;
     * a paging-structure access (the guest PTE at 0x830000). */
    const json_t *q;
    for (int k = 0, n = 0; k < vx_test_count(ev, "translation", NULL); k++) {
        const json_t *t = vx_test_find(ev, "translation", NULL, k);
        if (strcmp(vx_test_str(t, "result"), "ept_violation")) continue;
        q = json_object_get(t, "qualification");
        if (n == 2) {
            ck_assert_msg(json_is_true(json_object_get(q, "fetch")) && json_is_true(json_object_get(q, "readable")) &&
                          json_is_true(json_object_get(q, "writable")) && json_is_false(json_object_get(q, "executable")) &&
                          json_is_true(json_object_get(q, "gla_valid")) &&
                          !strcmp(vx_test_str(q, "access"), "translation") &&
                          json_is_true(json_object_get(q, "writable_la")) && json_is_false(json_object_get(q, "user_la")),
                          "fetch violation: %s", dump(t));
        }
        if (n == 4) {
            const json_t *refs = json_object_get(t, "refs");
            const json_t *last = json_array_get(refs, json_array_size(refs) - 1);
            ck_assert_msg(json_is_true(json_object_get(q, "read")) && json_is_true(json_object_get(q, "write")) &&
                          !strcmp(vx_test_str(q, "access"), "paging-structure") &&
                          !strcmp(vx_test_str(last, "dim"), "ept") && !strcmp(vx_test_str(last, "for"), "PT") &&
                          vx_test_u64(last, "gpa", NONE) == 0x830000 && vx_test_u64(last, "entry", NONE) == 0,
                          "paging-structure violation: %s", dump(t));
        }
        n++;
    }
    /* INT3, the injected #DE and #UD: #UD delivered again once the VMM
     * fixed its stack (the VMM drops #BP and #DE). */
    static const exp_exc ex[] = {{3, -1}, {0, -1}, {6, -1}, {6, -1}};
    check_exceptions(ev, ex, N(ex));
    json_decref(ev);
    /* Without EPT A/D flags: the guest's accessed-flag update of a PTE in
     * a page EPT maps read-only (tests/vmx/ept_flag_write.S). */
    static const exp_exit xf[] = {{48, 0, 0x8A}, {18, 0, 0}};
    ev = run_pass("ept_flag_write.elf", NULL, NULL);
    check_exits(ev, xf, N(xf));
    const json_t *tf = NULL;
    for (int k = 0; k < vx_test_count(ev, "translation", NULL); k++) {
        const json_t *t = vx_test_find(ev, "translation", NULL, k);
        if (!strcmp(vx_test_str(t, "result"), "ept_violation")) tf = t;
    }
    q = json_object_get(tf, "qualification");
    ck_assert_msg(vx_test_u64(tf, "gpa", NONE) == 0x828000 && json_is_true(json_object_get(q, "write")) &&
                  json_is_false(json_object_get(q, "read")) && json_is_true(json_object_get(q, "readable")) &&
                  !strcmp(vx_test_str(q, "access"), "paging-structure"), "%s", dump(tf));
    json_decref(ev);
}
END_TEST

/* Two rules of ept_violations.S once broken in the model (now fixed):
 *  1. An EPT violation during delivery of a software exception (INT3,
 *     IDT on a page EPT does not map): the VM-exit instruction length
 *     is the INT3's, 1 (SDM Vol. 3C 28.2.5), and the saved RIP
 *     references the INT3 (28.3.3), so that a VMM can re-inject the
 *     event from the IDT-vectoring information with that length (as
 *     KVM's __vmx_complete_interrupts does).
 *  2. Guest RFLAGS.RF saved by an EPT violation or misconfiguration that
 *     did not occur during event delivery is 1 (28.3.3); during
 *     delivery, what the event would have pushed (1 for a #UD fault; as
 *     the guest state has it for an injected event, 27.6.1.1). */
START_TEST(ept_violation_during_int3_delivery)
{
    json_t *ev = run_pass("ept_violations.elf", NULL, NULL);
    const json_t *vx = vx_test_find(ev, "vm_exit", NULL, 8);
    ck_assert_msg(vx_test_u64(vx, "instruction_length", NONE) == 1 && !strcmp(vx_test_str(vx, "insn"), "int3"),
                  "EPT violation delivering INT3: %s", dump(vx));
    json_decref(ev);
}
END_TEST

START_TEST(ept_exits_save_rf)
{
    json_decref(run_pass("ept_violations.elf", NULL, NULL));
}
END_TEST

/* ---- the minimal profile: what icelake-server has and it lacks ---- */

/* Bit `bit` of MSR `msr` on profile cpu; an absent MSR reads as 0 (its
 * features are then absent too). */
static int cap_bit(const char *cpu, uint32_t msr, int bit)
{
    uint64_t v = 0;
    if (vx_test_msr(cpu, msr, &v) < 0) return 0;
    return (int)((v >> bit) & 1);
}

/* Secondary processor-based control `bit` may be 1 (IA32_VMX_PROCBASED_CTLS2
 * bit 32 + bit, which exists only if IA32_VMX_PROCBASED_CTLS bit 63 is 1;
 * SDM Vol. 3D A.3.3). */
static int proc2(const char *cpu, int bit)
{
    return cap_bit(cpu, 0x482, 63) && cap_bit(cpu, 0x48B, 32 + bit);
}

START_TEST(profiles_differ)
{
    /* The tests below rely on these differences (SDM Vol. 3D A.6, A.3.3,
     * A.10). */
    ck_assert_msg(cap_bit(NULL, 0x485, 29), "icelake-server: IA32_VMX_MISC[29] should be 1");
    ck_assert_msg(!cap_bit("minimal", 0x485, 29), "minimal: IA32_VMX_MISC[29] should be 0");
    ck_assert_msg(proc2(NULL, 1) && proc2(NULL, 5) && proc2(NULL, 14),
                  "icelake-server: EPT, VPID and VMCS shadowing should be allowed");
    ck_assert_msg(!proc2("minimal", 1) && !proc2("minimal", 5) && !proc2("minimal", 14),
                  "minimal: no EPT, VPID or VMCS shadowing expected");
}
END_TEST

START_TEST(vmread_vmwrite_minimal)
{
    json_t *ev = run_pass("vmrw.elf", "minimal", NULL);
    /* IA32_VMX_MISC[29] = 0: VM-exit information fields are read-only
     * (error 13, the field keeps its value); no EPT: the EPT pointer does
     * not exist (error 12). */
    static const exp_vmx mid[] = {
        VALID("vmwrite", 13), OKV("vmread", "value", 0), VALID("vmwrite", 13),
        OKV("vmread", "value", 0), VALID("vmread", 12), VALID("vmwrite", 12),
    };
    check_vmrw(ev, mid, N(mid));
    json_decref(ev);
}
END_TEST

START_TEST(vmcs_pointers_minimal)
{
    json_t *ev = run_pass("vmcs_ptr.elf", "minimal", NULL);
    /* No VMCS shadowing: revision bit 31 makes VMPTRLD fail with 11. */
    static const exp_vmx shadow[] = {VALID("vmptrld", 11)};
    check_vmcs_ptr(ev, shadow, N(shadow));
    json_decref(ev);
}
END_TEST

/* The VMCS stays inside its region (vmcs_size.S): on both profiles the
 * region is 1024 bytes (IA32_VMX_BASIC[44:32], as Intel cores report),
 * the program checks the bytes after it and the values surviving a copy
 * of exactly those 1024 bytes to another page; here, that the run did it
 * without an exception and that it wrote many fields. */
START_TEST(vmcs_region_size)
{
    static const char *const cpus[] = {"icelake-server", "minimal"};
    for (size_t c = 0; c < N(cpus); c++) {
        json_t *ev = run_pass("vmcs_size.elf", cpus[c], NULL);
        const json_t *basic = NULL;
        for (int i = 0; i < vx_test_count(ev, "msr_read", NULL) && !basic; i++) {
            const json_t *r = vx_test_find(ev, "msr_read", NULL, i);
            if (vx_test_u64(r, "msr", NONE) == 0x480) basic = r;
        }
        ck_assert_msg(basic, "%s: no RDMSR of IA32_VMX_BASIC", cpus[c]);
        ck_assert_uint_eq(vx_test_u64(basic, "value", 0) >> 32 & 0x1FFF, 1024);
        ck_assert_int_gt(vx_test_count(ev, "vmcs_write", NULL), 100);
        check_exceptions(ev, NULL, 0);
        ck_assert_int_eq(vx_test_count(ev, "outside_memory", NULL), 0);
        json_decref(ev);
    }
}
END_TEST

START_TEST(invept_invvpid_minimal)
{
    json_t *ev = run_pass("invept.elf", "minimal", NULL);
    /* Without EPT and VPID both instructions are #UD, in VMX root
     * operation too. */
    static const exp_vmx x[] = {OK("vmxon"), UD("invept"), UD("invvpid"), OK("vmxoff")};
    check_vmx(ev, x, N(x));
    check_exceptions(ev, ud_x26, 2);
    json_decref(ev);
}
END_TEST

/* Every program passes on both profiles (each adapts to what the
 * capability MSRs report). */
static const char *const all_progs[] = {
    "ud_outside.elf", "vmxon.elf", "vmxon_fixed.elf", "ud_regop.elf", "ud_compat.elf",
    "gp_cpl3.elf", "vmcs_ptr.elf", "vmrw.elf", "vmlaunch.elf", "vmcall.elf", "invept.elf",
    "pf_operand.elf", "vmxoff.elf", "vmfunc.elf", "operands.elf", "entry_checks.elf",
    "guest_exits.elf", "guest_fail.elf", "paging.elf",
};

START_TEST(every_program_every_profile)
{
    static const char *const cpus[] = {"icelake-server", "minimal"};
    for (size_t c = 0; c < N(cpus); c++) {
        for (size_t i = 0; i < N(all_progs); i++) json_decref(run_pass(all_progs[i], cpus[c], NULL));
        json_decref(run_pass("vmxon_gp.elf", cpus[c], "--feature-control-unlocked"));
    }
}
END_TEST

/* The harness reports what it could not do in one line, and leaves no
 * events behind. */
START_TEST(harness_errors)
{
    vmxsim_result res;
    json_t *ev = (json_t *)1;
    ck_assert_int_eq(vx_test_run("no-such-program.elf", NULL, NULL, &res, &ev), -1);
    ck_assert_ptr_null(ev);
    ck_assert_msg(strstr(vx_test_error(), "no-such-program.elf") && !strchr(vx_test_error(), '\n'),
                  "error: %s", vx_test_error());
    ck_assert_int_eq(vx_test_run("vmcall.elf", NULL, "--frobnicate", &res, NULL), -1);
    ck_assert_str_eq(vx_test_error(), "unknown extra option '--frobnicate'");
    ck_assert_int_eq(vx_test_run("vmcall.elf", "no-such-cpu", NULL, &res, NULL), -1);
    ck_assert_msg(!strncmp(vx_test_error(), "vmxsim_create: ", 15), "error: %s", vx_test_error());
    /* A budget too small ends the run, reported in the result. */
    ck_assert_int_eq(vx_test_run("vmcall.elf", NULL, "--max-insns 100", &res, NULL), 0);
    ck_assert_int_eq(res.end, VMXSIM_END_MAX_INSNS);
    ck_assert_uint_eq(res.insns, 100);
}
END_TEST

static Suite *vmx_suite(void)
{
    Suite *s = suite_create("vmx");
    TCase *tc = tcase_create("root");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ud_outside);
    tcase_add_test(tc, vmxon);
    tcase_add_test(tc, vmxon_unlocked);
    tcase_add_test(tc, vmxon_fixed_bits);
    tcase_add_test(tc, ud_register_operand);
    tcase_add_test(tc, ud_compat_mode);
    tcase_add_test(tc, gp_cpl3);
    tcase_add_test(tc, vmcs_pointers);
    tcase_add_test(tc, vmread_vmwrite);
    tcase_add_test(tc, vmlaunch_checks);
    tcase_add_test(tc, vmentry_check_failures);
    tcase_add_test(tc, guest_instruction_exits);
    tcase_add_test(tc, guest_control_exits);
    tcase_add_test(tc, guest_entry_failures);
    tcase_add_test(tc, guest_exception_bitmap);
    tcase_add_test(tc, guest_disabled_instructions_ud);
    tcase_add_test(tc, guest_getsec_cr4_cr8);
    tcase_add_test(tc, guest_tpr_shadow);
    tcase_add_test(tc, guest_io_bitmaps);
    tcase_add_test(tc, guest_descriptor_table_exits);
    tcase_add_test(tc, guest_msr_bitmaps);
    tcase_add_test(tc, guest_msr_areas);
    tcase_add_test(tc, vmx_abort);
    tcase_add_test(tc, guest_saved_state);
    tcase_add_test(tc, unmodelled_control);
    tcase_add_test(tc, guest_modes);
    tcase_add_test(tc, guest_more_exits);
    tcase_add_test(tc, guest_injection);
    tcase_add_test(tc, guest_interruptibility);
    tcase_add_test(tc, guest_idt_vectoring);
    tcase_add_test(tc, guest_misc_exits);
    tcase_add_test(tc, guest_hlt_state);
    tcase_add_test(tc, guest_debug_exceptions);
    tcase_add_test(tc, guest_mtf_and_windows);
    tcase_add_test(tc, guest_windows_open_later);
    tcase_add_test(tc, guest_clts_lmsw_task_switch);
    tcase_add_test(tc, guest_pause_loop_and_hlt_state);
    tcase_add_test(tc, guest_preemption_timer);
    tcase_add_test(tc, guest_vmfunc_and_pending_mtf);
    tcase_add_test(tc, vmcall_root);
    tcase_add_test(tc, invept_invvpid);
    tcase_add_test(tc, page_faults);
    tcase_add_test(tc, root_paging);
    tcase_add_test(tc, tlb_off_sees_changes_at_once);
    tcase_add_test(tc, trace_tlb_hits);
    tcase_add_test(tc, vmxoff_then_ud);
    tcase_add_test(tc, vmfunc_root);
    tcase_add_test(tc, operand_forms);
    tcase_add_test(tc, ept_stale_translations);
    tcase_add_test(tc, ept_violation_exits);
    tcase_add_test(tc, ept_violation_during_int3_delivery);
    tcase_add_test(tc, ept_exits_save_rf);
    tcase_add_test(tc, profiles_differ);
    tcase_add_test(tc, vmread_vmwrite_minimal);
    tcase_add_test(tc, vmcs_pointers_minimal);
    tcase_add_test(tc, vmcs_region_size);
    tcase_add_test(tc, invept_invvpid_minimal);
    tcase_add_test(tc, every_program_every_profile);
    tcase_add_test(tc, harness_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vmx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
