/*
 * events.c - building trace events: the common fields every event
 * carries (docs/traces.md), and their delivery to the trace file, the
 * API callback and vmxsim_run_until.  Nothing is built when nobody
 * listens: callers test vx_ev_wanted() first, so tracing off costs one
 * branch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

json_t *vx_json_hex(uint64_t v)
{
    /* "0x%" PRIx64 by hand: snprintf's format parsing was a tenth of the
     * time of a traced OUT, and these strings are in every event. */
    static const char digits[] = "0123456789abcdef";
    char buf[2 + 16], *end = buf + sizeof buf, *p = end;
    do {
        *--p = digits[v & 15];
        v >>= 4;
    } while (v);
    *--p = 'x';
    *--p = '0';
    return json_stringn_nocheck(p, (size_t)(end - p));   /* ASCII by construction */
}

json_t *vx_json_str(vmxsim *m, const char *s)
{
    /* Keyed by address, checked by value: a buffer reused with other text
     * gets a new string. */
    json_t **slot = &m->ev_strings[((uintptr_t)s >> 3) % VX_EV_STRINGS];
    if (*slot && !strcmp(json_string_value(*slot), s)) return json_incref(*slot);
    json_t *v = json_string(s);
    if (!v) return NULL;
    json_decref(*slot);
    *slot = json_incref(v);
    return v;
}

void vx_ev_fini(vmxsim *m)
{
    for (int i = 0; i < VX_EV_STRINGS; i++) json_decref(m->ev_strings[i]);
    vx_jbuf_free(&m->ev_json);
    vx_jbuf_free(&m->last_json);
}

int vx_ev_wanted(const vmxsim *m, unsigned kind)
{
    return m->trace || (m->cb && (m->cb_mask & kind)) || (m->stop_mask & kind);
}

static const char *mode_name(const vmxsim *m)
{
    if (!m->vmx_on) return "off";
    return m->vmx_nonroot ? "nonroot" : "root";
}

json_t *vx_ev_new(vmxsim *m, const char *name)
{
    /* Keys are literals (VX_EV_SET: no strlen, no UTF-8 check), and the
     * strings that recur are shared (vx_json_str).  Same members in the
     * same order as ever. */
    json_t *ev = json_object();
    VX_EV_SET(ev, "event", vx_json_str(m, name));
    VX_EV_SET(ev, "seq", json_integer((json_int_t)m->seq++));
    VX_EV_SET(ev, "icount", json_integer((json_int_t)(m->insn ? m->insn_icount : m->icount)));
    VX_EV_SET(ev, "cycle", json_integer((json_int_t)vx_cyc_now(m)));
    VX_EV_SET(ev, "mode", vx_json_str(m, mode_name(m)));
    uint64_t rip = m->insn ? m->insn->addr : vx_reg(m, UC_X86_REG_RIP);
    VX_EV_SET(ev, "rip", vx_json_hex(rip));
    if (m->insn) {
        VX_EV_SET(ev, "insn", vx_json_str(m, m->insn->text));
    } else {
        /* Events outside a model-owned instruction (exceptions from the
         * engine, start, end): the instruction at RIP, read through the
         * translation the program sees (without side effects). */
        int mode = vx_code_mode(m);
        uint64_t la = mode == 64 ? rip : (rip + vx_cs_base(m)) & 0xFFFFFFFFull;
        uint8_t code[15];
        char text[200] = "(not readable)";
        size_t n = vx_mmu_peek(m, la, code, sizeof code);
        if (n) vx_disasm(m->dec, mode, code, n, rip, text, sizeof text);
        VX_EV_SET(ev, "insn", json_string(text));
    }
    return ev;
}

/* The event as the API hands it out; json is NULL if it could not be
 * serialised. */
static vmxsim_event api_event(unsigned kind, json_t *ev, const char *json)
{
    return (vmxsim_event){
        .kind = kind,
        .name = json_string_value(json_object_get(ev, "event")),
        .seq = (uint64_t)json_integer_value(json_object_get(ev, "seq")),
        .icount = (uint64_t)json_integer_value(json_object_get(ev, "icount")),
        .rip = strtoull(json_string_value(json_object_get(ev, "rip")), NULL, 16),
        .json = json,
    };
}

/* vmxsim_run_until's event: the serialised bytes move to last_json (its
 * storage goes to *b in exchange), so they stay valid until the next
 * vmxsim_run_until without a copy. */
static void keep_for_run_until(vmxsim *m, vmxsim_event e, vx_jbuf *b)
{
    vx_jbuf kept = m->last_json;
    m->last_json = *b;
    *b = kept;
    m->last_event_json = e.json ? m->last_json.p : NULL;
    m->last_event = e;
    m->last_event.json = m->last_event_json;
    snprintf(m->last_event_name, sizeof m->last_event_name, "%s", e.name);
    m->last_event.name = m->last_event_name;
    m->event_hit = 1;
}

static void deliver(vmxsim *m, unsigned kind, json_t *ev, vx_jbuf *b, int ok)
{
    vmxsim_event e = api_event(kind, ev, ok ? b->p : NULL);
    if (m->cb && (m->cb_mask & kind)) {
        m->ev_in_callback++;
        m->cb(m, &e, m->cb_user);
        m->ev_in_callback--;
    }
    if (m->stop_mask & kind) keep_for_run_until(m, e, b);
}

/* Serialised once: the trace file, the callback and vmxsim_run_until get
 * the same bytes (the callback and vmxsim_run_until NUL-terminated). */
void vx_ev_emit(vmxsim *m, unsigned kind, json_t *ev)
{
    int to_api = (m->cb && (m->cb_mask & kind)) || (m->stop_mask & kind);
    if (m->trace || to_api) {
        /* An event that the callback causes must not overwrite the
         * string the callback was given: it has a buffer of its own. */
        vx_jbuf nested = VX_JBUF_INIT;
        vx_jbuf *b = m->ev_in_callback ? &nested : &m->ev_json;
        int ok = vx_json_out(b, ev, VX_JSON_TRACE_FLAGS) == 0;
        if (m->trace && vx_trace_write_line(m->trace, ok ? b->p : NULL, b->len) < 0 &&
            m->end == VMXSIM_END_NONE)
            vx_end_run(m, VMXSIM_END_ERROR, VMXSIM_STATUS_ERROR, "writing the trace failed");
        if (to_api) deliver(m, kind, ev, b, ok);
        vx_jbuf_free(&nested);
    }
    json_decref(ev);
}
