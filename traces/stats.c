/*
 * stats.c - `vmxsim stats TRACE`: what a trace says in a few lines:
 * events by kind, VMX instructions by outcome, VM exits by reason, where
 * the modelled cycles went (the end event's "cycles" summary, with the
 * VM exits counted from the trace), and how the run ended.
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

static counter *find(table *t, const char *name)
{
    for (int i = 0; i < t->len; i++)
        if (!strcmp(t->c[i].name, name)) return &t->c[i];
    if (t->len == (int)(sizeof t->c / sizeof t->c[0])) return NULL;
    snprintf(t->c[t->len].name, sizeof t->c[0].name, "%s", name);
    t->c[t->len].n = 0;
    return &t->c[t->len++];
}

static void count(table *t, const char *name)
{
    counter *c = find(t, name);
    if (c) c->n++;
}

static void print(FILE *out, const char *title, const table *t)
{
    if (!t->len) return;
    fprintf(out, "  %s:", title);
    for (int i = 0; i < t->len; i++)
        fprintf(out, "%s %s %ld", i ? "," : "", t->c[i].name, t->c[i].n);
    fprintf(out, "\n");
}

/* ---- The cycle summary ------------------------------------------------ */

/* A non-negative integer member of o, or -1 if absent or not one. */
static long long member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long long)json_integer_value(v) : -1;
}

static double pct(long long part, long long whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

typedef struct reason_row {
    const char *name;
    long exits;          /* vm_exit events of this name in the trace */
    long long cycles;    /* from the summary; -1 if it has none */
} reason_row;

static int by_cycles(const void *a, const void *b)
{
    const reason_row *x = a, *y = b;
    if (x->cycles != y->cycles) return x->cycles < y->cycles ? 1 : -1;
    if (x->exits != y->exits) return x->exits < y->exits ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* "VM transitions ... by exit reason": every reason that the summary
 * charged or that the trace has exits of, the most expensive first. */
static void print_reasons(FILE *out, const json_t *by, const table *exit_names)
{
    reason_row rows[256];
    int n = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)by, key, val) {
        if (n == (int)(sizeof rows / sizeof rows[0])) break;
        rows[n].name = key;
        rows[n].exits = 0;
        rows[n].cycles = json_is_integer(val) ? (long long)json_integer_value(val) : -1;
        n++;
    }
    for (int i = 0; i < exit_names->len; i++) {
        int j = 0;
        while (j < n && strcmp(rows[j].name, exit_names->c[i].name)) j++;
        if (j == n) {
            if (n == (int)(sizeof rows / sizeof rows[0])) continue;
            rows[n].name = exit_names->c[i].name;
            rows[n].cycles = -1;
            n++;
        }
        rows[j].exits = exit_names->c[i].n;
    }
    if (!n) return;
    qsort(rows, (size_t)n, sizeof rows[0], by_cycles);
    fprintf(out, "    by exit reason:");
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s %s", i ? "," : "", rows[i].name);
        if (rows[i].exits) fprintf(out, " %ld exit%s", rows[i].exits, rows[i].exits == 1 ? "" : "s");
        if (rows[i].cycles >= 0) {
            fprintf(out, " %lld cycles", rows[i].cycles);
            if (rows[i].exits > 1) fprintf(out, " (%lld each)", rows[i].cycles / rows[i].exits);
        }
    }
    fprintf(out, "\n");
}

/* The end event's "cycles" object (docs/traces.md).  Prints nothing and
 * returns -1 if it is not a summary of that shape. */
static int print_cycles(FILE *out, const json_t *cy, long entries, const table *exit_names)
{
    long long total = member(cy, "total"), root = member(cy, "root"),
              nonroot = member(cy, "nonroot"), off = member(cy, "off");
    const json_t *tr = json_object_get(cy, "transitions"), *w = json_object_get(cy, "walks");
    const json_t *by = json_object_get(tr, "by_exit_reason");
    long long entry = member(tr, "vm_entry"), exit = member(tr, "vm_exit");
    long long walks = member(w, "walks"), gref = member(w, "guest_refs"),
              eref = member(w, "ept_refs"), wcyc = member(w, "cycles"), hits = member(w, "tlb_hits");
    if (total < 0 || root < 0 || nonroot < 0 || off < 0 || entry < 0 || exit < 0 ||
        !json_is_object(by) || walks < 0 || gref < 0 || eref < 0 || wcyc < 0 || hits < 0)
        return -1;
    long exits = 0;
    for (int i = 0; i < exit_names->len; i++) exits += exit_names->c[i].n;
    fprintf(out, "  cycles: %lld in all: root %lld (%.1f%%), non-root %lld (%.1f%%), "
                 "outside VMX %lld (%.1f%%)\n",
            total, root, pct(root, total), nonroot, pct(nonroot, total), off, pct(off, total));
    fprintf(out, "  in VM transitions: %lld cycles (%.1f%%): %ld VM entr%s %lld, %ld VM exit%s %lld\n",
            entry + exit, pct(entry + exit, total), entries, entries == 1 ? "y" : "ies", entry,
            exits, exits == 1 ? "" : "s", exit);
    print_reasons(out, by, exit_names);
    fprintf(out, "  in page walks: %lld cycles (%.1f%%): %lld walk%s, %lld guest paging-structure "
                 "and %lld EPT references; TLB hits %lld",
            wcyc, pct(wcyc, total), walks, walks == 1 ? "" : "s", gref, eref, hits);
    /* Every translation the model looks up either hits its TLB or walks. */
    if (hits + walks > 0) fprintf(out, ", hit rate %.1f%%", pct(hits, hits + walks));
    fprintf(out, "\n");
    return 0;
}

int vx_trace_stats(const char *path, FILE *out, char *err, size_t errlen)
{
    vx_trace_reader *r = vx_trace_reader_open(path, err, errlen);
    if (!r) return 2;
    table *kinds = calloc(4, sizeof *kinds);
    if (!kinds) {
        vx_trace_reader_close(r);
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    table *vmx = kinds + 1, *exits = kinds + 2, *exit_names = kinds + 3;
    long n = 0, entries = 0, stamped = 0;
    int ended = 0;
    long long last_cycle = -1;
    json_t *cycles = NULL;
    char cpu[64] = "?", end[320] = "no end event (the run was cut short)";
    json_t *ev;
    while ((ev = vx_trace_reader_next(r, err, errlen))) {
        const char *k = json_string_value(json_object_get(ev, "event"));
        if (!k) k = "?";
        count(kinds, k);
        n++;
        json_t *c = json_object_get(ev, "cycle");
        if (json_is_integer(c)) {
            stamped++;
            last_cycle = (long long)json_integer_value(c);
        }
        if (!strcmp(k, "start")) {
            const char *cp = json_string_value(json_object_get(ev, "cpu"));
            snprintf(cpu, sizeof cpu, "%s", cp ? cp : "?");
        } else if (!strcmp(k, "vmx")) {
            char key[64];
            const char *nm = json_string_value(json_object_get(ev, "name"));
            const char *oc = json_string_value(json_object_get(ev, "outcome"));
            json_t *e = json_object_get(ev, "error");
            if (e) snprintf(key, sizeof key, "%s %s(%lld)", nm ? nm : "?", oc ? oc : "?",
                            (long long)json_integer_value(e));
            else snprintf(key, sizeof key, "%s %s", nm ? nm : "?", oc ? oc : "?");
            count(vmx, key);
        } else if (!strcmp(k, "vm_entry")) {
            entries++;
        } else if (!strcmp(k, "vm_exit")) {
            char key[64];
            const char *nm = json_string_value(json_object_get(ev, "name"));
            snprintf(key, sizeof key, "%lld %s", (long long)json_integer_value(json_object_get(ev, "exit_reason")),
                     nm ? nm : "?");
            count(exits, key);
            count(exit_names, nm ? nm : "?");
        } else if (!strcmp(k, "end")) {
            const char *msg = json_string_value(json_object_get(ev, "message"));
            snprintf(end, sizeof end, "%s after %lld instructions, exit status %lld",
                     msg ? msg : "?", (long long)json_integer_value(json_object_get(ev, "insns")),
                     (long long)json_integer_value(json_object_get(ev, "exit_status")));
            ended = 1;
            json_decref(cycles);
            cycles = json_incref(json_object_get(ev, "cycles"));
        }
        json_decref(ev);
    }
    int status = err[0] ? 2 : 0;
    if (!status) {
        fprintf(out, "%s: %ld events, cpu %s\n", path, n, cpu);
        print(out, "events", kinds);
        print(out, "VMX instructions", vmx);
        print(out, "VM exits", exits);
        if (cycles) {
            if (print_cycles(out, cycles, entries, exit_names) < 0)
                fprintf(out, "  cycles: the end event's cycle summary is not of the documented "
                             "shape (docs/traces.md)\n");
        } else if (stamped) {
            fprintf(out, "  cycles: no cycle summary (%s); the last event is at cycle %lld\n",
                    ended ? "the end event has none" : "no end event", last_cycle);
        } else {
            fprintf(out, "  cycles: none in this trace (it predates the cycle model)\n");
        }
        fprintf(out, "  end: %s\n", end);
    }
    json_decref(cycles);
    free(kinds);
    vx_trace_reader_close(r);
    return status;
}
