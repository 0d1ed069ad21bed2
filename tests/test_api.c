/*
 * test_api.c - the public C API (include/vmxsim.h) end to end, as a
 * user's own test program would use it: machines from profiles, loading,
 * runs with an exact instruction budget, running to the next event of a
 * kind, callbacks, registers (with segment caches), memory, MSRs, the
 * current VMCS, and the errors of each.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmxsim.h"

static char payload[4096], demo[4096];

static vmxsim *machine(const char *cpu, FILE *con)
{
    vmxsim_options o = {.cpu = cpu, .console = con};
    char err[256];
    vmxsim *m = vmxsim_create(&o, err, sizeof err);
    ck_assert_msg(m, "%s", err);
    return m;
}

START_TEST(create_errors)
{
    char err[256];
    vmxsim_options o = {.cpu = "no-such-cpu"};
    ck_assert_ptr_null(vmxsim_create(&o, err, sizeof err));
    ck_assert_str_eq(err, "unknown CPU profile 'no-such-cpu' (see `vmxsim profiles`)");
    o = (vmxsim_options){.trace_path = "/nonexistent-dir/t.jsonl"};
    ck_assert_ptr_null(vmxsim_create(&o, err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent-dir/t.jsonl") != NULL, "%s", err);
    ck_assert_ptr_null(vmxsim_create(&o, NULL, 0)); /* no room for a reason: still no crash */
}
END_TEST

START_TEST(run_payload)
{
    FILE *con = tmpfile();
    vmxsim *m = machine(NULL, con);
    ck_assert_str_eq(vmxsim_cpu_name(m), "icelake-server");
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), -1);
    ck_assert_str_eq(vmxsim_error(m), "no program loaded");
    ck_assert_int_eq(vmxsim_load(m, payload), 0);
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_int_eq(r.end, VMXSIM_END_DEBUG_EXIT);
    ck_assert_int_eq(r.exit_status, 11);
    char buf[64] = "";
    rewind(con);
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, con));
    ck_assert_str_eq(buf, "payload ok\n");
    vmxsim_destroy(m);
    fclose(con);
}
END_TEST

/* --max-insns: exactly N instructions retire, then the run ends. */
START_TEST(instruction_budget)
{
    FILE *con = tmpfile();
    vmxsim_options o = {.console = con, .max_insns = 7};
    char err[256];
    vmxsim *m = vmxsim_create(&o, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(vmxsim_load(m, payload), 0);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_int_eq(r.end, VMXSIM_END_MAX_INSNS);
    ck_assert_int_eq(r.exit_status, VMXSIM_STATUS_LIMIT);
    ck_assert_uint_eq(r.insns, 7);
    vmxsim_destroy(m);
    fclose(con);
}
END_TEST

static int calls;
static char last_kind[32];
static void on_event(vmxsim *m, const vmxsim_event *ev, void *user)
{
    (void)m;
    calls += *(int *)user;
    snprintf(last_kind, sizeof last_kind, "%s", ev->name);
}

START_TEST(run_until_and_callback)
{
    FILE *con = tmpfile();
    vmxsim *m = machine(NULL, con);
    int one = 1;
    calls = 0;
    vmxsim_set_callback(m, VMXSIM_EV_CONSOLE, on_event, &one);
    ck_assert_int_eq(vmxsim_load(m, demo), 0);
    vmxsim_event ev;
    vmxsim_result r;
    /* Up to the VMPTRLD: then there is a current VMCS to look at. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(vmxsim_run_until(m, VMXSIM_EV_VMX, &ev, &r), 0);
        ck_assert_int_eq(r.end, VMXSIM_END_NONE);
        ck_assert_uint_eq(ev.kind, VMXSIM_EV_VMX);
        ck_assert_str_eq(ev.name, "vmx");
    }
    ck_assert_msg(strstr(ev.json, "\"name\":\"vmptrld\"") && strstr(ev.json, "VMsucceed"), "%s",
                  ev.json);
    ck_assert_int_gt(calls, 0); /* console lines so far */
    ck_assert_str_eq(last_kind, "console");
    uint64_t v = 0;
    ck_assert_int_eq(vmxsim_vmcs_write(m, 0x681E, 0x123456), 0);   /* guest RIP */
    ck_assert_int_eq(vmxsim_vmcs_read(m, 0x681E, &v), 0);
    ck_assert_uint_eq(v, 0x123456);
    ck_assert_int_eq(vmxsim_vmcs_read(m, 0x0002 | 0x8000, &v), -1); /* reserved bit 15 */
    ck_assert_msg(strstr(vmxsim_error(m), "unsupported VMCS component") != NULL, "%s",
                  vmxsim_error(m));
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_int_eq(r.exit_status, 1);
    ck_assert_int_eq(vmxsim_vmcs_read(m, 0x681E, &v), -1);
    ck_assert_str_eq(vmxsim_error(m), "no current VMCS");
    vmxsim_destroy(m);
    fclose(con);
}
END_TEST

/* The callback's copies of the events, in order, for event_json_is_the_trace. */
static struct {
    char *json[4096];
    int n, nested, reloaded;
} seen;

/* Once: make the model emit while the callback runs (a TLB flush by a
 * write of CR3, then a segment load that reads the GDT: a traced walk),
 * and check that the string this callback was given did not change. */
static void emit_within(vmxsim *m, const vmxsim_event *ev)
{
    uint64_t cr3, sel;
    seen.reloaded = 1;
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_CR3, &cr3), 0);
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_CS, &sel), 0);
    int before = seen.n;
    ck_assert_int_eq(vmxsim_reg_write(m, VMXSIM_CR3, cr3), 0);
    ck_assert_int_eq(vmxsim_reg_write(m, VMXSIM_CS, sel), 0);
    seen.nested = seen.n - before;
    ck_assert_str_eq(ev->json, seen.json[before - 1]);
}

static void keep_json(vmxsim *m, const vmxsim_event *ev, void *user)
{
    (void)user;
    ck_assert_int_lt(seen.n, 4096);
    ck_assert_uint_eq(ev->seq, (uint64_t)seen.n);
    seen.json[seen.n++] = strdup(ev->json);
    if (ev->kind == VMXSIM_EV_VMX && !seen.reloaded) emit_within(m, ev);
}

/* The callback's and vmxsim_run_until's JSON are the trace's lines, byte
 * for byte, an event caused by the callback included; vmxsim_run_until's
 * stays valid while other calls are made. */
START_TEST(event_json_is_the_trace)
{
    char path[] = "/tmp/vx-api-XXXXXX", err[256];
    close(mkstemp(path));
    vmxsim_options o = {.trace_path = path, .console = tmpfile()};
    vmxsim *m = vmxsim_create(&o, err, sizeof err);
    ck_assert_msg(m, "%s", err);
    vmxsim_set_callback(m, VMXSIM_EV_ALL, keep_json, NULL);
    ck_assert_int_eq(vmxsim_load(m, demo), 0);
    vmxsim_event ev;
    vmxsim_result r;
    int stops = 0;
    while (vmxsim_run_until(m, VMXSIM_EV_VMX | VMXSIM_EV_END, &ev, &r) == 0 && ev.json) {
        uint64_t v;
        vmxsim_reg_read(m, VMXSIM_RIP, &v);
        vmxsim_vmcs_read(m, 0x681E, &v);
        ck_assert_uint_lt(ev.seq, (uint64_t)seen.n);
        ck_assert_str_eq(ev.json, seen.json[ev.seq]);
        stops++;
        if (r.end != VMXSIM_END_NONE) break;
    }
    ck_assert_int_gt(stops, 10);
    ck_assert_int_gt(seen.nested, 0);
    vmxsim_destroy(m);
    fclose(o.console);
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int i = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        ck_assert_int_lt(i, seen.n);
        line[len - 1] = '\0';
        ck_assert_str_eq(line, seen.json[i]);
        free(seen.json[i++]);
    }
    ck_assert_int_eq(i, seen.n);
    free(line);
    fclose(f);
    unlink(path);
}
END_TEST

START_TEST(registers_memory_msrs)
{
    vmxsim *m = machine("minimal", NULL);
    ck_assert_int_eq(vmxsim_load(m, payload), 0);
    uint64_t v;
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_RIP, &v), 0);
    ck_assert_uint_eq(v, 0x100000);
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_CR0, &v), 0);
    ck_assert_uint_eq(v, 0x80000031);
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_EFER, &v), 0);
    ck_assert_uint_eq(v, 0x500);
    ck_assert_int_eq(vmxsim_reg_write(m, VMXSIM_R9, 0xfeedface), 0);
    ck_assert_int_eq(vmxsim_reg_read(m, VMXSIM_R9, &v), 0);
    ck_assert_uint_eq(v, 0xfeedface);
    ck_assert_int_eq(vmxsim_reg_write(m, VMXSIM_DS, 0x10), 0);       /* from the GDT */
    ck_assert_int_eq(vmxsim_reg_write(m, VMXSIM_DS, 0x48), -1);      /* beyond its limit */
    ck_assert_str_eq(vmxsim_error(m), "selector 0x48: no such descriptor in the GDT");
    ck_assert_int_eq(vmxsim_reg_read(m, (vmxsim_reg)999, &v), -1);
    uint8_t b[4] = {1, 2, 3, 4}, c[4];
    ck_assert_int_eq(vmxsim_mem_write(m, 0x200000, b, 4), 0);
    ck_assert_int_eq(vmxsim_mem_read(m, 0x200000, c, 4), 0);
    ck_assert_mem_eq(b, c, 4);
    ck_assert_int_eq(vmxsim_mem_read(m, (256ull << 20) - 2, c, 4), -1);
    ck_assert_int_eq(vmxsim_msr_read(m, 0x480, &v), 0);
    ck_assert_uint_eq(v & 0x7fffffff, 4);
    ck_assert_int_eq(vmxsim_msr_read(m, 0x48B, &v), -1);  /* minimal: no secondary controls */
    ck_assert_str_eq(vmxsim_error(m), "MSR 0x48b does not exist on minimal");
    ck_assert_int_eq(vmxsim_msr_read(m, 0x3A, &v), 0);
    ck_assert_uint_eq(v, 5);
    FILE *f = tmpfile();
    vmxsim_dump(m, f);
    ck_assert_int_gt(ftell(f), 100);
    fclose(f);
    vmxsim_destroy(m);
}
END_TEST

int main(void)
{
    const char *dir = getenv("VX_PROG_DIR"), *d = getenv("VX_DEMO_ELF");
    if (!dir || !d) {
        fprintf(stderr, "run through meson (VX_PROG_DIR, VX_DEMO_ELF)\n");
        return 1;
    }
    snprintf(payload, sizeof payload, "%s/payload.bin@0x100000", dir);
    snprintf(demo, sizeof demo, "%s", d);
    Suite *s = suite_create("api");
    TCase *t = tcase_create("api");
    tcase_add_test(t, create_errors);
    tcase_add_test(t, run_payload);
    tcase_add_test(t, instruction_budget);
    tcase_add_test(t, run_until_and_callback);
    tcase_add_test(t, registers_memory_msrs);
    tcase_add_test(t, event_json_is_the_trace);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
