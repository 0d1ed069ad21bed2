/*
 * test_trace.c - the trace writer, reader, semantic diff and the schema
 * validator (traces/, tests/jsonschema.c): round trips, every reader
 * error, the diff's statuses and report, and that the validator rejects
 * each kind of violation the schema describes.
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

#define COMMON "\"seq\":3,\"icount\":10,\"mode\":\"root\",\"rip\":\"0x1000\",\"insn\":\"cpuid\""

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
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    json_decref(schema);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
