/*
 * explain.c - `vmxsim explain TRACE`: the page walks of a trace as
 * readable tables, reference by reference (the `translation` events,
 * docs/traces.md), with what each result means in the SDM's terms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static const char *str(const json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

static int flag(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static uint64_t hexval(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strtoull(s, NULL, 16) : 0;
}

static void rights(char *buf, size_t len, const json_t *r, int ept)
{
    if (ept)
        snprintf(buf, len, "%s%s%s%s", flag(r, "r") ? "R" : "-", flag(r, "w") ? "W" : "-",
                 flag(r, "x") ? "X" : "-",
                 json_object_get(r, "xu") ? (flag(r, "xu") ? "U" : "-") : "");
    else
        snprintf(buf, len, "%s %s %s", flag(r, "rw") ? "RW" : "RO", flag(r, "us") ? "user" : "supv",
                 flag(r, "xd") ? "XD" : "  ");
}

/* Why the walk ended as it did, in words. */
static void outcome(FILE *out, const json_t *ev)
{
    const char *res = str(ev, "result", "?");
    if (!strcmp(res, "ok")) {
        fprintf(out, "  => %s -> guest-physical %s -> host-physical %s (a %" PRIu64 " KiB mapping)\n",
                str(ev, "la", "?"), str(ev, "gpa", "?"), str(ev, "hpa", "?"),
                (uint64_t)json_integer_value(json_object_get(ev, "page_size")) / 1024);
    } else if (!strcmp(res, "page_fault")) {
        uint64_t ec = hexval(ev, "error_code");
        fprintf(out, "  => #PF, error code %#" PRIx64 ": %s, %s access, %s%s%s (SDM Vol. 3A 4.7)\n", ec,
                (ec & 1) ? "protection violation" : "page not present", (ec & 2) ? "write" : "read",
                (ec & 4) ? "user mode" : "supervisor mode", (ec & 8) ? ", reserved bit set" : "",
                (ec & 16) ? ", instruction fetch" : "");
    } else if (!strcmp(res, "ept_violation")) {
        const json_t *q = json_object_get(ev, "qualification");
        fprintf(out, "  => EPT violation (exit 48) at guest-physical %s, qualification %s:\n"
                     "     a %s%s%s; the address was %s%s%s; %s (SDM Vol. 3C 29.3.3.2, Table 28-7)\n",
                str(ev, "gpa", "?"), str(ev, "exit_qualification", "?"),
                flag(q, "read") ? "read " : "", flag(q, "write") ? "write " : "",
                flag(q, "fetch") ? "fetch " : "",
                flag(q, "readable") ? "readable " : "", flag(q, "writable") ? "writable " : "",
                flag(q, "executable") ? "executable" : (flag(q, "readable") || flag(q, "writable") ? "" : "not mapped"),
                !flag(q, "gla_valid") ? "no guest-linear address"
                : !strcmp(str(q, "access", ""), "translation") ? "the access was to the translation of the linear address"
                : "the access was to a guest paging-structure entry");
    } else if (!strcmp(res, "ept_misconfig")) {
        fprintf(out, "  => EPT misconfiguration (exit 49) at guest-physical %s: an EPT entry with a "
                     "reserved setting (SDM Vol. 3C 29.3.3.1)\n", str(ev, "gpa", "?"));
    }
}

static void explain_one(FILE *out, const json_t *ev)
{
    const json_t *acc = json_object_get(ev, "access");
    fprintf(out, "#%" PRId64 " %s: %s %s access to linear %s, %s paging%s, VPID %" PRId64 ", PCID %" PRId64 "\n",
            (int64_t)json_integer_value(json_object_get(ev, "seq")), str(ev, "insn", "?"),
            str(acc, "mode", "?"), str(acc, "type", "?"), str(ev, "la", "?"), str(ev, "paging", "?"),
            flag(ev, "ept") ? " over EPT" : "", (int64_t)json_integer_value(json_object_get(ev, "vpid")),
            (int64_t)json_integer_value(json_object_get(ev, "pcid")));
    fprintf(out, "  %-3s %-5s %-14s %-6s %-18s %-18s %-18s %s\n", "#", "dim", "level", "for",
            "guest-physical", "host-physical", "entry", "rights so far");
    const json_t *refs = json_object_get(ev, "refs");
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r) {
        int ept = !strcmp(str(r, "dim", ""), "ept");
        char rb[32];
        rights(rb, sizeof rb, json_object_get(r, "rights"), ept);
        if (flag(r, "cached")) {
            fprintf(out, "  %-3zu %-5s %-14s %-6s %-18s %-18s %-18s %s\n", i + 1, "ept", "(cached)",
                    str(r, "for", ""), str(r, "gpa", ""), str(r, "hpa", ""), "", rb);
            continue;
        }
        fprintf(out, "  %-3zu %-5s %-14s %-6s %-18s %-18s %-18s %s\n", i + 1, ept ? "ept" : "guest",
                str(r, "level", "?"), ept ? str(r, "for", "") : "",
                flag(r, "register") ? "(register)" : str(r, "gpa", ""),
                flag(r, "register") ? "" : str(r, "hpa", ""), str(r, "entry", ""), rb);
    }
    outcome(out, ev);
}

int vx_trace_explain(const char *path, long seq, uint64_t la, int have_la, FILE *out, char *err,
                     size_t errlen)
{
    vx_trace_reader *r = vx_trace_reader_open(path, err, errlen);
    if (!r) return 2;
    long shown = 0;
    json_t *ev;
    while ((ev = vx_trace_reader_next(r, err, errlen))) {
        const char *k = json_string_value(json_object_get(ev, "event"));
        int pick = k && !strcmp(k, "translation");
        if (pick && seq >= 0) pick = json_integer_value(json_object_get(ev, "seq")) == seq;
        if (pick && have_la) pick = (hexval(ev, "la") >> 12) == (la >> 12);
        if (pick) {
            if (shown++) fprintf(out, "\n");
            explain_one(out, ev);
        }
        json_decref(ev);
    }
    vx_trace_reader_close(r);
    if (*err) return 2;
    if (!shown) {
        snprintf(err, errlen, "%s: no translation event%s", path,
                 seq >= 0 || have_la ? " matches" : " (trace a run that walks page tables)");
        return 1;
    }
    return 0;
}
