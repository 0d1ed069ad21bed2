/*
 * test_trace.c - the trace writer, reader, semantic diff and the schema
 * validator (traces/, tests/jsonschema.c): round trips, every reader
 * error, the diff's statuses and report, the cycle summary of `vmxsim
 * stats`, and that the validator rejects each kind of violation the
 * schema describes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonschema.h"
#include "../traces/trace.h"

static char *temp_with(const char *text)
{
    static char paths[16][32];
    static int n;
    char *p = paths[n++ % 16];
    snprintf(p, 32, "/tmp/vx-trace-XXXXXX");
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return p;
}

START_TEST(write_then_read)
{
    char err[256], path[] = "/tmp/vx-trace-XXXXXX";
    close(mkstemp(path));
    vx_trace *t = vx_trace_open(path, err, sizeof err);
    ck_assert_msg(t, "%s", err);
    for (int i = 0; i < 3; i++) {
        json_t *ev = json_pack("{s:s, s:i, s:s}", "event", "x", "seq", i, "z", "a\nb");
        ck_assert_int_eq(vx_trace_write(t, ev), 0);
        json_decref(ev);
    }
    unsigned long long bytes = vx_trace_bytes(t);
    ck_assert_int_eq(vx_trace_close(t), 0);
    FILE *f = fopen(path, "r");
    fseek(f, 0, SEEK_END);
    ck_assert_uint_eq((unsigned long long)ftell(f), bytes);
    fclose(f);
    vx_trace_reader *r = vx_trace_reader_open(path, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    json_t *ev;
    int n = 0;
    while ((ev = vx_trace_reader_next(r, err, sizeof err))) {
        ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")), n);
        ck_assert_str_eq(json_string_value(json_object_get(ev, "z")), "a\nb");
        ck_assert_int_eq(vx_trace_reader_line(r), n + 1);
        json_decref(ev);
        n++;
    }
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(n, 3);
    vx_trace_reader_close(r);
    unlink(path);
    ck_assert_ptr_null(vx_trace_open("/nonexistent-dir/x", err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent-dir/x"), "%s", err);
}
END_TEST

static void read_fails(const char *text, const char *want)
{
    char err[256], full[320];
    char *p = temp_with(text);
    vx_trace_reader *r = vx_trace_reader_open(p, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    json_t *ev;
    while ((ev = vx_trace_reader_next(r, err, sizeof err))) json_decref(ev);
    snprintf(full, sizeof full, "%s:%s", p, want);
    ck_assert_str_eq(err, full);
    vx_trace_reader_close(r);
    unlink(p);
}

START_TEST(reader_errors)
{
    read_fails("{\"event\":\"a\"}\n[1,2]\n", "2: not a JSON object");
    read_fails("{\"event\":\"a\"}\n\n", "2: empty line (a trace has one JSON object per line)");
    read_fails("{\"event\":", "1: column 9: unexpected token near end of file");
    read_fails("{\"a\":1,\"a\":2}\n", "1: column 10: duplicate object key near '\"a\"'");
    char err[256];
    ck_assert_ptr_null(vx_trace_reader_open("/nonexistent", err, sizeof err));
    ck_assert_str_eq(err, "/nonexistent: No such file or directory");
    /* No final newline is fine. */
    char *p = temp_with("{\"event\":\"a\"}");
    vx_trace_reader *r = vx_trace_reader_open(p, err, sizeof err);
    json_t *ev = vx_trace_reader_next(r, err, sizeof err);
    ck_assert_ptr_nonnull(ev);
    json_decref(ev);
    ck_assert_ptr_null(vx_trace_reader_next(r, err, sizeof err));
    ck_assert_str_eq(err, "");
    vx_trace_reader_close(r);
    unlink(p);
}
END_TEST

static int diff(const char *a, const char *b, const char *const *ign, int nign, int ctx,
                char *report, size_t len)
{
    char err[256] = "";
    char *pa = temp_with(a), *pb = temp_with(b);
    FILE *f = tmpfile();
    int r = vx_trace_diff(pa, pb, ign, nign, ctx, f, err, sizeof err);
    rewind(f);
    size_t n = fread(report, 1, len - 1, f);
    report[n] = 0;
    fclose(f);
    if (r == 2) snprintf(report, len, "%s", err);
    unlink(pa);
    unlink(pb);
    return r;
}

START_TEST(diff_statuses)
{
    char rep[4096];
    const char *a = "{\"event\":\"s\",\"seq\":0}\n{\"event\":\"vmx\",\"seq\":1,\"error\":7,\"ops\":[1,2]}\n";
    ck_assert_int_eq(diff(a, a, NULL, 0, 3, rep, sizeof rep), 0);
    ck_assert_str_eq(rep, "");
    const char *b = "{\"event\":\"s\",\"seq\":0}\n{\"event\":\"vmx\",\"seq\":1,\"error\":8,\"ops\":[1,2]}\n";
    ck_assert_int_eq(diff(a, b, NULL, 0, 1, rep, sizeof rep), 1);
    ck_assert_msg(strstr(rep, "traces differ at event 2 (line 2, seq 1, \"vmx\"): field error\n"), "%s", rep);
    ck_assert_msg(strstr(rep, ": 7\n") && strstr(rep, ": 8\n"), "%s", rep);
    ck_assert_msg(strstr(rep, "context (the 1 events before"), "%s", rep);
    static const char *const ign[] = {"error"};
    ck_assert_int_eq(diff(a, b, ign, 1, 3, rep, sizeof rep), 0);
    const char *c = "{\"event\":\"s\",\"seq\":0}\n{\"event\":\"vmx\",\"seq\":1,\"error\":7,\"ops\":[1,3]}\n";
    ck_assert_int_eq(diff(a, c, NULL, 0, 0, rep, sizeof rep), 1);
    ck_assert_msg(strstr(rep, "field ops[1]\n"), "%s", rep);
    const char *d = "{\"event\":\"s\",\"seq\":0}\n{\"event\":\"vmx\",\"seq\":1,\"error\":7.0,\"ops\":[1,2]}\n";
    ck_assert_int_eq(diff(a, d, NULL, 0, 0, rep, sizeof rep), 1); /* 7 and 7.0 differ */
    const char *e = "{\"event\":\"s\",\"seq\":0}\n{\"event\":\"vmx\",\"seq\":1,\"ops\":[1,2]}\n";
    ck_assert_int_eq(diff(a, e, NULL, 0, 0, rep, sizeof rep), 1);
    ck_assert_msg(strstr(rep, "field error\n") && strstr(rep, "(absent)"), "%s", rep);
    const char *shorter = "{\"event\":\"s\",\"seq\":0}\n";
    ck_assert_int_eq(diff(a, shorter, NULL, 0, 0, rep, sizeof rep), 1);
    ck_assert_msg(strstr(rep, "ends after 1 events"), "%s", rep);
    ck_assert_int_eq(diff(a, "not json\n", NULL, 0, 0, rep, sizeof rep), 2);
    ck_assert_msg(strstr(rep, ":1: column 3: '[' or '{' expected near 'not'"), "%s", rep);
}
END_TEST

static json_t *schema;

static int valid(const char *ev_text, char *err, size_t len)
{
    json_error_t je;
    json_t *ev = json_loads(ev_text, 0, &je);
    ck_assert_msg(ev, "%s", je.text);
    int r = vx_schema_validate(schema, ev, err, len);
    json_decref(ev);
    return r;
}

#define COMMON0 "\"seq\":3,\"icount\":10,\"mode\":\"root\",\"rip\":\"0x1000\",\"insn\":\"cpuid\""
#define COMMON COMMON0 ",\"cycle\":20"

START_TEST(schema_accepts_and_rejects)
{
    char err[512];
    const char *good = "{\"event\":\"cpuid\"," COMMON ",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                       "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}";
    ck_assert_msg(valid(good, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(valid("{\"event\":\"cpuid\"," COMMON ",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\"}", err, sizeof err), -1);
    ck_assert_str_eq(err, "/: missing required field \"edx\"");
    ck_assert_int_eq(valid("{\"event\":\"cpuid\",\"seq\":3,\"icount\":10,\"mode\":\"guest\","
                           "\"rip\":\"0x1000\",\"insn\":\"cpuid\",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}", err,
                           sizeof err), -1);
    ck_assert_str_eq(err, "/mode: \"guest\" is not one of the allowed values");
    ck_assert_int_eq(valid("{\"event\":\"cpuid\"," COMMON ",\"leaf\":\"1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}", err,
                           sizeof err), -1);
    ck_assert_str_eq(err, "/leaf: does not match ^0x[0-9a-f]+$");
    ck_assert_int_eq(valid("{\"event\":\"cpuid\"," COMMON ",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\",\"x\":1}",
                           err, sizeof err), -1);
    ck_assert_str_eq(err, "/x: field not allowed here");
    ck_assert_int_eq(valid("{\"event\":\"nonsense\"," COMMON "}", err, sizeof err), -1);
    ck_assert_str_eq(err, "/: matches none of the alternatives of oneOf/anyOf (an unknown event kind?)");
    ck_assert_int_eq(valid("{\"event\":\"cpuid\",\"seq\":-1,\"icount\":10,\"mode\":\"root\","
                           "\"rip\":\"0x1000\",\"insn\":\"cpuid\",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}", err,
                           sizeof err), -1);
    ck_assert_str_eq(err, "/seq: below the minimum");
    ck_assert_int_eq(valid("{\"event\":\"vmx\"," COMMON ",\"name\":\"vmxon\",\"outcome\":\"VMfailValid\","
                           "\"operands\":{},\"rflags\":\"0x2\",\"error\":29}", err, sizeof err), -1);
    ck_assert_str_eq(err, "/error: above the maximum");
    /* The checker refuses keywords the validator does not implement. */
    json_t *s = json_loads("{\"type\":\"object\",\"minProperties\":1}", 0, NULL);
    ck_assert_int_eq(vx_schema_check(s, err, sizeof err), -1);
    ck_assert_str_eq(err, "unsupported schema keyword \"minProperties\"");
    json_decref(s);
}
END_TEST

/* ---- vmxsim stats: the cycle summary ------------------------------------ */

static void stats_of(const char *text, char *report, size_t len)
{
    char err[256] = "";
    char *p = temp_with(text);
    FILE *f = tmpfile();
    ck_assert_int_eq(vx_trace_stats(p, f, err, sizeof err), 0);
    rewind(f);
    size_t n = fread(report, 1, len - 1, f);
    report[n] = 0;
    fclose(f);
    unlink(p);
}

/* Everything after the first line (the file name differs each run). */
static const char *body(const char *report)
{
    const char *nl = strchr(report, '\n');
    return nl ? nl + 1 : report;
}

#define EV(kind, seq, cyc, mode, rest) \
    "{\"event\":\"" kind "\",\"seq\":" #seq ",\"icount\":" #seq ",\"cycle\":" #cyc \
    ",\"mode\":\"" mode "\",\"rip\":\"0x1000\",\"insn\":\"nop\"" rest "}\n"

/* A run by hand: 100000 cycles, 2 VM entries, 3 exits (2 CPUID, 1 EPT
 * violation), 4 walks. */
static const char cycle_trace[] =
    EV("start", 0, 0, "off", ",\"cpu\":\"icelake-server\"")
    EV("vmx", 1, 900, "root", ",\"name\":\"vmlaunch\",\"outcome\":\"VM entry\"")
    EV("vm_entry", 2, 1300, "nonroot", "")
    EV("vm_exit", 3, 5000, "root", ",\"exit_reason\":10,\"name\":\"CPUID\"")
    EV("vm_entry", 4, 6000, "nonroot", "")
    EV("vm_exit", 5, 9000, "root", ",\"exit_reason\":10,\"name\":\"CPUID\"")
    EV("vm_exit", 6, 20000, "root", ",\"exit_reason\":48,\"name\":\"EPT_VIOLATION\"")
    EV("end", 7, 100000, "off", ",\"reason\":\"debug_exit\",\"exit_status\":1,\"insns\":7,"
       "\"message\":\"done\",\"cycles\":{\"total\":100000,\"root\":30000,\"nonroot\":60000,"
       "\"off\":10000,\"transitions\":{\"vm_entry\":800,\"vm_exit\":2100,\"by_exit_reason\":"
       "{\"CPUID\":1000,\"EPT_VIOLATION\":1100}},\"walks\":{\"walks\":4,\"guest_refs\":16,"
       "\"ept_refs\":80,\"cycles\":768,\"tlb_hits\":12}}");

START_TEST(stats_cycle_summary)
{
    char rep[4096];
    stats_of(cycle_trace, rep, sizeof rep);
    ck_assert_str_eq(body(rep),
        "  events: start 1, vmx 1, vm_entry 2, vm_exit 3, end 1\n"
        "  VMX instructions: vmlaunch VM entry 1\n"
        "  VM exits: 10 CPUID 2, 48 EPT_VIOLATION 1\n"
        "  cycles: 100000 in all: root 30000 (30.0%), non-root 60000 (60.0%), outside VMX 10000 (10.0%)\n"
        "  in VM transitions: 2900 cycles (2.9%): 2 VM entries 800, 3 VM exits 2100\n"
        "    by exit reason: EPT_VIOLATION 1 exit 1100 cycles, CPUID 2 exits 1000 cycles (500 each)\n"
        "  in page walks: 768 cycles (0.8%): 4 walks, 16 guest paging-structure and 80 EPT "
        "references; TLB hits 12, hit rate 75.0%\n"
        "  end: done after 7 instructions, exit status 1\n");
}
END_TEST

/* Traces without the summary: older ones, cut short ones, and a summary
 * of the wrong shape; and a reason with exits but no cycles of its own. */
START_TEST(stats_without_summary)
{
    char rep[4096];
    stats_of("{\"event\":\"start\",\"seq\":0,\"cpu\":\"minimal\"}\n"
             "{\"event\":\"end\",\"seq\":1,\"message\":\"done\",\"insns\":1,\"exit_status\":1}\n",
             rep, sizeof rep);
    ck_assert_msg(strstr(rep, "\n  cycles: none in this trace (it predates the cycle model)\n"
                              "  end: done after 1 instructions"), "%s", rep);
    stats_of(EV("start", 0, 0, "off", "") EV("cpuid", 1, 420, "off", ""), rep, sizeof rep);
    ck_assert_msg(strstr(rep, "\n  cycles: no cycle summary (no end event); the last event is at "
                              "cycle 420\n  end: no end event (the run was cut short)\n"), "%s", rep);
    stats_of(EV("start", 0, 0, "off", "") EV("end", 1, 77, "off", ""), rep, sizeof rep);
    ck_assert_msg(strstr(rep, "\n  cycles: no cycle summary (the end event has none); the last "
                              "event is at cycle 77\n"), "%s", rep);
    stats_of(EV("end", 0, 10, "off", ",\"cycles\":{\"total\":10}"), rep, sizeof rep);
    ck_assert_msg(strstr(rep, "\n  cycles: the end event's cycle summary is not of the documented "
                              "shape (docs/traces.md)\n"), "%s", rep);
    stats_of(EV("vm_exit", 0, 5, "root", ",\"exit_reason\":12,\"name\":\"HLT\"")
             EV("end", 1, 10, "off", ",\"cycles\":{\"total\":0,\"root\":0,\"nonroot\":0,\"off\":0,"
                "\"transitions\":{\"vm_entry\":0,\"vm_exit\":0,\"by_exit_reason\":{}},\"walks\":"
                "{\"walks\":0,\"guest_refs\":0,\"ept_refs\":0,\"cycles\":0,\"tlb_hits\":0}}"),
             rep, sizeof rep);
    ck_assert_msg(strstr(rep, "\n  cycles: 0 in all: root 0 (0.0%), non-root 0 (0.0%), outside VMX 0 (0.0%)\n"
                              "  in VM transitions: 0 cycles (0.0%): 0 VM entries 0, 1 VM exit 0\n"
                              "    by exit reason: HLT 1 exit\n"
                              "  in page walks: 0 cycles (0.0%): 0 walks, 0 guest paging-structure and 0 EPT "
                              "references; TLB hits 0\n"), "%s", rep);
}
END_TEST

/* The schema takes "cycle" on any event (optional until the engine
 * emits it) and the end event's summary, and checks both. */
START_TEST(schema_cycles)
{
    char err[512];
    const char *cpuid = "{\"event\":\"cpuid\"," COMMON0 ",\"cycle\":1234,\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                        "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}";
    ck_assert_msg(valid(cpuid, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(valid("{\"event\":\"cpuid\"," COMMON0 ",\"cycle\":-1,\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}", err, sizeof err), -1);
    ck_assert_str_eq(err, "/cycle: below the minimum");
    ck_assert_int_eq(valid("{\"event\":\"cpuid\"," COMMON0 ",\"cycle\":\"0x4d2\",\"leaf\":\"0x1\",\"subleaf\":\"0x0\","
                           "\"eax\":\"0x1\",\"ebx\":\"0x2\",\"ecx\":\"0x3\",\"edx\":\"0x4\"}", err, sizeof err), -1);
#define END "{\"event\":\"end\"," COMMON0 ",\"cycle\":100000,\"reason\":\"debug_exit\",\"exit_status\":1," \
            "\"insns\":7,\"events\":8,\"message\":\"done\",\"outside_reads\":0,\"outside_writes\":0"
#define SUMMARY(tr, w) ",\"cycles\":{\"total\":100000,\"root\":30000,\"nonroot\":60000,\"off\":10000," \
            "\"transitions\":{" tr "},\"walks\":{" w "}}}"
#define TR "\"vm_entry\":800,\"vm_exit\":2100,\"by_exit_reason\":{\"CPUID\":1000,\"EPT_VIOLATION\":1100}"
#define W "\"walks\":4,\"guest_refs\":16,\"ept_refs\":80,\"cycles\":768,\"tlb_hits\":12"
    ck_assert_msg(valid(END SUMMARY(TR, W), err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(valid(END "}", err, sizeof err), -1);   /* the end event must have it */
    ck_assert_str_eq(err, "/: missing required field \"cycles\"");
    ck_assert_int_eq(valid(END SUMMARY("\"vm_entry\":800,\"vm_exit\":2100", W), err, sizeof err), -1);
    ck_assert_str_eq(err, "/cycles/transitions: missing required field \"by_exit_reason\"");
    ck_assert_int_eq(valid(END SUMMARY("\"vm_entry\":800,\"vm_exit\":2100,\"by_exit_reason\":{\"CPUID\":-5}", W),
                           err, sizeof err), -1);
    ck_assert_str_eq(err, "/cycles/transitions/by_exit_reason/CPUID: below the minimum");
    ck_assert_int_eq(valid(END SUMMARY(TR, W ",\"misses\":3"), err, sizeof err), -1);
    ck_assert_str_eq(err, "/cycles/walks/misses: field not allowed here");
    ck_assert_int_eq(valid(END ",\"cycles\":{\"total\":1}}", err, sizeof err), -1);
    ck_assert_str_eq(err, "/cycles: missing required field \"root\"");
#undef END
#undef SUMMARY
#undef TR
#undef W
}
END_TEST

int main(void)
{
    const char *sp = getenv("VX_TRACE_SCHEMA");
    if (!sp) {
        fprintf(stderr, "run through meson (VX_TRACE_SCHEMA)\n");
        return 1;
    }
    json_error_t je;
    schema = json_load_file(sp, 0, &je);
    char err[256];
    if (!schema || vx_schema_check(schema, err, sizeof err) < 0) {
        fprintf(stderr, "%s: bad schema\n", sp);
        return 1;
    }
    Suite *s = suite_create("trace");
    TCase *t = tcase_create("trace");
    tcase_add_test(t, write_then_read);
    tcase_add_test(t, reader_errors);
    tcase_add_test(t, diff_statuses);
    tcase_add_test(t, schema_accepts_and_rejects);
    tcase_add_test(t, stats_cycle_summary);
    tcase_add_test(t, stats_without_summary);
    tcase_add_test(t, schema_cycles);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    json_decref(schema);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
