/*
 * test_demo.c - the built-in demo (examples/demo) runs to its success
 * exit on both profiles, and its trace (valid against the schema) shows
 * each step in order: VMXON, VMCLEAR, VMPTRLD, then for every field of
 * the VMCS field table a VMREAD (and, for the fields the processor has,
 * VMWRITE of a pattern and VMREAD of the same value truncated to the
 * field's width; for the fields it lacks, a VMWRITE failing like the
 * VMREAD with error 12), VMPTRST, VMCLEAR, VMXOFF.  Which fields the
 * processor has is decided independently here, from vmcs/fields.def's
 * features and the profile (vx_field_supported), and must agree with the
 * demo's VMREAD and VMWRITE error 12.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmxsim.h"
#include "jsonschema.h"
#include "../traces/trace.h"
#include "../vmcs/profile.h"
#include "../vmcs/vmcs.h"

static const char *str(const json_t *ev, const char *k)
{
    const char *s = json_string_value(json_object_get(ev, k));
    return s ? s : "";
}

static uint64_t hex(const json_t *ev, const char *k)
{
    return strtoull(str(ev, k), NULL, 16);
}

/* The trace's vmx events, in order. */
static json_t *run_demo(const char *cpu)
{
    const char *elf = getenv("VX_DEMO_ELF"), *schema_path = getenv("VX_TRACE_SCHEMA");
    ck_assert_msg(elf && schema_path, "run through meson (VX_DEMO_ELF, VX_TRACE_SCHEMA)");
    char trace[] = "/tmp/vx-demo-XXXXXX";
    int fd = mkstemp(trace);
    ck_assert_int_ge(fd, 0);
    close(fd);
    FILE *con = tmpfile();
    vmxsim_options opt = {.cpu = cpu, .trace_path = trace, .console = con,
                          .max_insns = 10000000};
    char err[256];
    vmxsim *m = vmxsim_create(&opt, err, sizeof err);
    ck_assert_msg(m, "%s", err);
    ck_assert_msg(vmxsim_load(m, elf) == 0, "%s", vmxsim_error(m));
    vmxsim_result res;
    ck_assert_int_eq(vmxsim_run(m, &res), 0);
    ck_assert_msg(res.end == VMXSIM_END_DEBUG_EXIT && res.exit_status == 1, "%s", res.message);
    vmxsim_destroy(m);
    fclose(con);

    json_error_t je;
    json_t *schema = json_load_file(schema_path, 0, &je);
    ck_assert_msg(schema, "%s", je.text);
    vx_trace_reader *r = vx_trace_reader_open(trace, err, sizeof err);
    ck_assert_msg(r, "%s", err);
    json_t *vmx = json_array(), *ev;
    while ((ev = vx_trace_reader_next(r, err, sizeof err))) {
        char verr[512];
        ck_assert_msg(vx_schema_validate(schema, ev, verr, sizeof verr) == 0, "line %ld: %s",
                      vx_trace_reader_line(r), verr);
        if (!strcmp(str(ev, "event"), "vmx")) json_array_append(vmx, ev);
        json_decref(ev);
    }
    ck_assert_msg(!err[0], "%s", err);
    vx_trace_reader_close(r);
    json_decref(schema);
    unlink(trace);
    return vmx;
}

static size_t pos;

static const json_t *next_vmx(json_t *vmx, const char *name, const char *outcome)
{
    const json_t *ev = json_array_get(vmx, pos++);
    ck_assert_msg(ev, "trace ends before %s", name);
    ck_assert_msg(!strcmp(str(ev, "name"), name) && !strcmp(str(ev, "outcome"), outcome),
                  "event %zu: %s %s, expected %s %s", pos, str(ev, "name"), str(ev, "outcome"),
                  name, outcome);
    return ev;
}

static void check_demo(const char *cpu)
{
    vx_profile p;
    char err[256];
    ck_assert_msg(vx_profile_load(cpu, NULL, &p, err, sizeof err) == 0, "%s", err);
    uint64_t misc = 0;
    vx_profile_vmx_msr(&p, 0x485, &misc);
    json_t *vmx = run_demo(cpu);
    pos = 0;
    next_vmx(vmx, "vmxon", "VMsucceed");
    next_vmx(vmx, "vmclear", "VMsucceed");
    next_vmx(vmx, "vmptrld", "VMsucceed");
    int supported = 0, unsupported = 0;
    for (int i = 0; i < vx_nfields; i++) {
        const vx_field *f = &vx_fields[i];
        const json_t *rd = json_array_get(vmx, pos);
        ck_assert_msg(rd && !strcmp(str(rd, "name"), "vmread"), "field %s: no VMREAD", f->name);
        uint64_t enc = hex(json_object_get(rd, "operands"), "encoding");
        ck_assert_msg(enc == f->enc, "field %s: VMREAD of 0x%llx", f->name, (unsigned long long)enc);
        if (!vx_field_supported(&p, f)) {
            /* VMREAD and VMWRITE both fail with error 12, each followed by
             * the demo's VMREAD of the VM-instruction error. */
            const char *const ops[] = {"vmread", "vmwrite"};
            for (int k = 0; k < 2; k++) {
                const json_t *e = next_vmx(vmx, ops[k], "VMfailValid");
                ck_assert_msg(json_integer_value(json_object_get(e, "error")) == 12,
                              "field %s: %s error", f->name, ops[k]);
                ck_assert_msg(hex(json_object_get(e, "operands"), "encoding") == f->enc,
                              "field %s: %s of another field", f->name, ops[k]);
                const json_t *er = next_vmx(vmx, "vmread", "VMsucceed");
                ck_assert_msg(hex(json_object_get(er, "operands"), "encoding") == 0x4400 &&
                              hex(json_object_get(er, "operands"), "value") == 12,
                              "field %s: VM-instruction error after %s", f->name, ops[k]);
            }
            unsupported++;
            continue;
        }
        supported++;
        next_vmx(vmx, "vmread", "VMsucceed");
        if (f->type == VX_T_EXITINFO && !((misc >> 29) & 1)) {
            const json_t *w = next_vmx(vmx, "vmwrite", "VMfailValid");
            ck_assert_int_eq(json_integer_value(json_object_get(w, "error")), 13);
            next_vmx(vmx, "vmread", "VMsucceed");
            continue;
        }
        const json_t *w = next_vmx(vmx, "vmwrite", "VMsucceed");
        uint64_t pattern = hex(json_object_get(w, "operands"), "value");
        const json_t *back = next_vmx(vmx, "vmread", "VMsucceed");
        uint64_t mask = f->width == VX_W16 ? 0xFFFF : f->width == VX_W32 ? 0xFFFFFFFF : ~0ull;
        ck_assert_msg(hex(json_object_get(back, "operands"), "value") == (pattern & mask),
                      "field %s read back wrong", f->name);
        if (f->width == VX_W64) next_vmx(vmx, "vmread", "VMsucceed"); /* high half */
    }
    ck_assert_int_gt(supported, 100);
    ck_assert_int_gt(unsupported, 40);   /* both profiles lack many */
    next_vmx(vmx, "vmptrst", "VMsucceed");
    next_vmx(vmx, "vmclear", "VMsucceed");
    next_vmx(vmx, "vmxoff", "VMsucceed");
    ck_assert_msg(pos == json_array_size(vmx), "%zu VMX events after VMXOFF",
                  json_array_size(vmx) - pos);
    json_decref(vmx);
}

START_TEST(demo_icelake) { check_demo("icelake-server"); }
END_TEST

START_TEST(demo_minimal) { check_demo("minimal"); }
END_TEST

int main(void)
{
    Suite *s = suite_create("demo");
    TCase *t = tcase_create("demo");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, demo_icelake);
    tcase_add_test(t, demo_minimal);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
