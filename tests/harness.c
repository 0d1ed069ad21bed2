/*
 * harness.c - see harness.h.  The trace goes to a temporary file and is
 * read back line by line with jansson (one JSON object per line,
 * docs/traces.md), independently of the model's own trace reader.
 */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonschema.h"
#include "../traces/trace.h"

static char err_buf[512];
static char *console_buf;

static int set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return -1;
}

const char *vx_test_error(void) { return err_buf; }

const char *vx_test_console(void) { return console_buf ? console_buf : ""; }

static int parse_extra(const char *extra, vmxsim_options *opt)
{
    if (!extra) return 0;
    char *copy = strdup(extra);
    if (!copy) return set_error("out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strcmp(tok, "--feature-control-unlocked")) {
            opt->feature_control_unlocked = 1;
        } else if (!strcmp(tok, "--tlb-off")) {
            opt->tlb_off = 1;
        } else if (!strcmp(tok, "--trace-tlb-hits")) {
            opt->trace_tlb_hits = 1;
        } else if (!strcmp(tok, "--mem") || !strcmp(tok, "--max-insns")) {
            char *val = strtok_r(NULL, " ", &save), *end = NULL;
            unsigned long long v = val ? strtoull(val, &end, 0) : 0;
            if (!val || *end || !v) {
                rc = set_error("extra option %s needs a positive number", tok);
                break;
            }
            if (!strcmp(tok, "--mem")) opt->mem_size = v;
            else opt->max_insns = v;
        } else {
            rc = set_error("unknown extra option '%s'", tok);
            break;
        }
    }
    free(copy);
    return rc;
}

static int program_path(const char *program, char *out, size_t len)
{
    if (strchr(program, '/')) {
        snprintf(out, len, "%s", program);
        return 0;
    }
    const char *dir = getenv("VX_BUILDDIR");
    if (!dir || !*dir) return set_error("VX_BUILDDIR is not set (run the test through meson)");
    if ((size_t)snprintf(out, len, "%s/%s", dir, program) >= len)
        return set_error("program path too long");
    return 0;
}

static char *slurp(FILE *f)
{
    if (fflush(f) || fseek(f, 0, SEEK_END)) return NULL;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET)) return NULL;
    char *buf = malloc((size_t)n + 1);
    if (!buf) return NULL;
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    return buf;
}

static json_t *read_trace(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_error("cannot read the trace %s: %s", path, strerror(errno));
        return NULL;
    }
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t je;
        json_t *ev = json_loadb(line, (size_t)n, 0, &je);
        if (!ev || !json_is_object(ev)) {
            set_error("trace line %ld is not a JSON object: %s", lineno, je.text);
            json_decref(ev);
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, ev);
    }
    free(line);
    fclose(f);
    return arr;
}

/* Every trace a test writes must conform to docs/trace-schema.json
 * (meson passes its path in VX_TRACE_SCHEMA). */
static int validate_trace_file(const char *trace)
{
    static json_t *schema;
    const char *sp = getenv("VX_TRACE_SCHEMA");
    if (!sp || !*sp) return set_error("VX_TRACE_SCHEMA is not set (run the test through meson)");
    if (!schema) {
        json_error_t je;
        char err[256];
        schema = json_load_file(sp, 0, &je);
        if (!schema) return set_error("%s:%d: %s", sp, je.line, je.text);
        if (vx_schema_check(schema, err, sizeof err) < 0) {
            json_decref(schema);
            schema = NULL;
            return set_error("%s: %s", sp, err);
        }
    }
    char err[512];
    vx_trace_reader *r = vx_trace_reader_open(trace, err, sizeof err);
    if (!r) return set_error("%s", err);
    json_t *ev;
    int rc = 0;
    while ((ev = vx_trace_reader_next(r, err, sizeof err))) {
        char verr[512];
        if (vx_schema_validate(schema, ev, verr, sizeof verr) < 0) {
            char *d = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
            rc = set_error("trace event %ld violates the schema: %s: %s",
                           vx_trace_reader_line(r), verr, d ? d : "?");
            free(d);
            json_decref(ev);
            break;
        }
        json_decref(ev);
    }
    if (!rc && err[0]) rc = set_error("%s", err);
    vx_trace_reader_close(r);
    return rc;
}

int vx_test_run(const char *program, const char *cpu, const char *extra,
                vmxsim_result *res, json_t **events)
{
    char path[4096], trace[4096];
    vmxsim_options opt = {0};
    int rc = -1;
    vmxsim *m = NULL;
    FILE *con = NULL;

    err_buf[0] = 0;
    free(console_buf);
    console_buf = NULL;
    if (events) *events = NULL;
    memset(res, 0, sizeof *res);
    if (program_path(program, path, sizeof path) < 0) return -1;
    opt.cpu = cpu;
    opt.max_insns = VX_TEST_MAX_INSNS;
    if (parse_extra(extra, &opt) < 0) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(trace, sizeof trace, "%s/vx-test-trace-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(trace);
    if (fd < 0) return set_error("cannot create a temporary trace: %s", strerror(errno));
    close(fd);
    con = tmpfile();
    if (!con) {
        set_error("cannot create a temporary console file: %s", strerror(errno));
        goto out;
    }
    opt.console = con;
    opt.trace_path = trace;
    char why[256];
    m = vmxsim_create(&opt, why, sizeof why);
    if (!m) {
        set_error("vmxsim_create: %s", why);
        goto out;
    }
    if (vmxsim_load(m, path) < 0) {
        set_error("vmxsim_load %s: %s", path, vmxsim_error(m));
        goto out;
    }
    if (vmxsim_run(m, res) < 0) {
        set_error("vmxsim_run: %s", vmxsim_error(m));
        goto out;
    }
    vmxsim_destroy(m); /* closes the trace */
    m = NULL;
    if (validate_trace_file(trace) < 0) goto out;
    console_buf = slurp(con);
    if (!console_buf) {
        set_error("cannot read the console output back");
        goto out;
    }
    if (events) {
        *events = read_trace(trace);
        if (!*events) goto out;
    }
    rc = 0;
out:
    vmxsim_destroy(m);
    if (con) fclose(con);
    unlink(trace);
    return rc;
}

int vx_test_msr(const char *cpu, uint32_t msr, uint64_t *v)
{
    vmxsim_options opt = {0};
    char why[256];
    opt.cpu = cpu;
    err_buf[0] = 0;
    vmxsim *m = vmxsim_create(&opt, why, sizeof why);
    if (!m) return set_error("vmxsim_create: %s", why);
    int rc = vmxsim_msr_read(m, msr, v);
    if (rc < 0) set_error("%s", vmxsim_error(m));
    vmxsim_destroy(m);
    return rc;
}

static int matches(const json_t *ev, const char *event, const char *name)
{
    const char *e = json_string_value(json_object_get(ev, "event"));
    if (!e || strcmp(e, event)) return 0;
    if (!name) return 1;
    const char *n = json_string_value(json_object_get(ev, "name"));
    return n && !strcmp(n, name);
}

json_t *vx_test_find(json_t *events, const char *event, const char *name, int nth)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (matches(ev, event, name) && nth-- == 0) return ev;
    }
    return NULL;
}

int vx_test_count(json_t *events, const char *event, const char *name)
{
    size_t i;
    json_t *ev;
    int n = 0;
    json_array_foreach(events, i, ev) n += matches(ev, event, name);
    return n;
}

uint64_t vx_test_u64(const json_t *ev, const char *key, uint64_t missing)
{
    const json_t *v = json_object_get(ev, key);
    if (json_is_integer(v)) return (uint64_t)json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s || !*s) return missing;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    return (errno || *end) ? missing : (uint64_t)x;
}

const char *vx_test_str(const json_t *ev, const char *key)
{
    const char *s = json_string_value(json_object_get(ev, key));
    return s ? s : "";
}
