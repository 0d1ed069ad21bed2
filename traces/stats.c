/*
 * stats.c - `vmxsim stats TRACE`: what a trace says in a few lines:
 * events by kind, VMX instructions by outcome, VM exits by reason, and
 * how the run ended.  (The cycle summary joins it with the cycle model.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

typedef struct counter {
    char name[64];
    long n;
} counter;

typedef struct table {
    counter c[128];
    int len;
} table;

static void count(table *t, const char *name)
{
    for (int i = 0; i < t->len; i++)
        if (!strcmp(t->c[i].name, name)) {
            t->c[i].n++;
            return;
        }
    if (t->len == (int)(sizeof t->c / sizeof t->c[0])) return;
    snprintf(t->c[t->len].name, sizeof t->c[0].name, "%s", name);
    t->c[t->len++].n = 1;
}

static void print(FILE *out, const char *title, const table *t)
{
    if (!t->len) return;
    fprintf(out, "  %s:", title);
    for (int i = 0; i < t->len; i++)
        fprintf(out, "%s %s %ld", i ? "," : "", t->c[i].name, t->c[i].n);
    fprintf(out, "\n");
}

int vx_trace_stats(const char *path, FILE *out, char *err, size_t errlen)
{
    vx_trace_reader *r = vx_trace_reader_open(path, err, errlen);
    if (!r) return 2;
    table *kinds = calloc(3, sizeof *kinds);
    if (!kinds) {
        vx_trace_reader_close(r);
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    table *vmx = kinds + 1, *exits = kinds + 2;
    long n = 0;
    char cpu[64] = "?", end[320] = "no end event (the run was cut short)";
    json_t *ev;
    while ((ev = vx_trace_reader_next(r, err, errlen))) {
        const char *k = json_string_value(json_object_get(ev, "event"));
        if (!k) k = "?";
        count(kinds, k);
        n++;
        if (!strcmp(k, "start")) {
            const char *c = json_string_value(json_object_get(ev, "cpu"));
            snprintf(cpu, sizeof cpu, "%s", c ? c : "?");
        } else if (!strcmp(k, "vmx")) {
            char key[64];
            const char *nm = json_string_value(json_object_get(ev, "name"));
            const char *oc = json_string_value(json_object_get(ev, "outcome"));
            json_t *e = json_object_get(ev, "error");
            if (e) snprintf(key, sizeof key, "%s %s(%lld)", nm ? nm : "?", oc ? oc : "?",
                            (long long)json_integer_value(e));
            else snprintf(key, sizeof key, "%s %s", nm ? nm : "?", oc ? oc : "?");
            count(vmx, key);
        } else if (!strcmp(k, "vm_exit")) {
            char key[64];
            const char *nm = json_string_value(json_object_get(ev, "name"));
            snprintf(key, sizeof key, "%lld %s", (long long)json_integer_value(json_object_get(ev, "exit_reason")),
                     nm ? nm : "?");
            count(exits, key);
        } else if (!strcmp(k, "end")) {
            const char *msg = json_string_value(json_object_get(ev, "message"));
            snprintf(end, sizeof end, "%s after %lld instructions, exit status %lld",
                     msg ? msg : "?", (long long)json_integer_value(json_object_get(ev, "insns")),
                     (long long)json_integer_value(json_object_get(ev, "exit_status")));
        }
        json_decref(ev);
    }
    int status = err[0] ? 2 : 0;
    if (!status) {
        fprintf(out, "%s: %ld events, cpu %s\n", path, n, cpu);
        print(out, "events", kinds);
        print(out, "VMX instructions", vmx);
        print(out, "VM exits", exits);
        fprintf(out, "  end: %s\n", end);
    }
    free(kinds);
    vx_trace_reader_close(r);
    return status;
}
