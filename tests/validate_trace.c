/*
 * validate_trace.c - `validate_trace SCHEMA TRACE...`: check every event
 * of each trace against the JSON Schema (docs/trace-schema.json) and
 * that seq counts 0, 1, 2, ... from a start event to an end event.
 * Exit 0 if all are valid, 1 if one is not (FILE:LINE: PATH: reason), 2
 * on bad input.
 */
#include <stdio.h>
#include <string.h>

#include "jsonschema.h"
#include "../traces/trace.h"

static int check_trace(const json_t *schema, const char *path)
{
    char err[512];
    vx_trace_reader *r = vx_trace_reader_open(path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "validate_trace: %s\n", err);
        return 2;
    }
    long n = 0;
    const char *last = NULL;
    int status = 0;
    json_t *ev;
    char lastkind[32] = "";
    while ((ev = vx_trace_reader_next(r, err, sizeof err))) {
        char verr[512];
        if (vx_schema_validate(schema, ev, verr, sizeof verr) < 0) {
            fprintf(stderr, "%s:%ld: %s\n", path, vx_trace_reader_line(r), verr);
            status = 1;
        } else if (json_integer_value(json_object_get(ev, "seq")) != n) {
            fprintf(stderr, "%s:%ld: seq is %lld, expected %ld\n", path, vx_trace_reader_line(r),
                    (long long)json_integer_value(json_object_get(ev, "seq")), n);
            status = 1;
        } else if (n == 0 && strcmp(json_string_value(json_object_get(ev, "event")), "start")) {
            fprintf(stderr, "%s:1: the first event is not \"start\"\n", path);
            status = 1;
        }
        last = json_string_value(json_object_get(ev, "event"));
        snprintf(lastkind, sizeof lastkind, "%s", last ? last : "");
        json_decref(ev);
        n++;
        if (status) break;
    }
    if (!status && err[0]) {
        fprintf(stderr, "%s\n", err);
        status = 1;
    }
    if (!status && (n == 0 || strcmp(lastkind, "end"))) {
        fprintf(stderr, "%s: the last event is not \"end\"\n", path);
        status = 1;
    }
    vx_trace_reader_close(r);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: validate_trace SCHEMA TRACE...\n");
        return 2;
    }
    json_error_t je;
    json_t *schema = json_load_file(argv[1], 0, &je);
    if (!schema) {
        fprintf(stderr, "validate_trace: %s:%d: %s\n", argv[1], je.line, je.text);
        return 2;
    }
    char err[256];
    if (vx_schema_check(schema, err, sizeof err) < 0) {
        fprintf(stderr, "validate_trace: %s: %s\n", argv[1], err);
        json_decref(schema);
        return 2;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        int s = check_trace(schema, argv[i]);
        if (s > status) status = s;
    }
    json_decref(schema);
    return status;
}
