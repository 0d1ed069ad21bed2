/*
 * api.c - the public libvmxsim API (include/vmxsim.h) over the model.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "machine.h"

int vmxsim_load(vmxsim *m, const char *spec)
{
    if (!spec || !*spec) {
        vx_set_error(m, "no program given");
        return -1;
    }
    return vx_load_program(m, spec);
}

int vmxsim_load_module(vmxsim *m, const char *path, const char *string)
{
    return vx_load_module(m, path, string);
}

void vmxsim_set_callback(vmxsim *m, unsigned mask, vmxsim_callback cb, void *user)
{
    m->cb = cb;
    m->cb_mask = cb ? mask : 0;
    m->cb_user = user;
}

static const char *const end_names[] = {
    [VMXSIM_END_NONE] = "none", [VMXSIM_END_SHUTDOWN] = "shutdown",
    [VMXSIM_END_DEBUG_EXIT] = "debug_exit", [VMXSIM_END_HLT] = "hlt",
    [VMXSIM_END_TRIPLE_FAULT] = "triple_fault", [VMXSIM_END_MAX_INSNS] = "max_insns",
    [VMXSIM_END_WALL_LIMIT] = "wall_limit", [VMXSIM_END_NOT_MODELLED] = "not_modelled",
    [VMXSIM_END_ERROR] = "error",
};

static void emit_start(vmxsim *m)
{
    if (m->started) return;
    m->started = 1;
    if (!vx_ev_wanted(m, VMXSIM_EV_START)) return;
    json_t *ev = vx_ev_new(m, "start");
    json_object_set_new(ev, "version", json_string(VMXSIM_VERSION));
    json_object_set_new(ev, "schema", json_integer(VX_TRACE_SCHEMA_VERSION));
    json_object_set_new(ev, "cpu", json_string(m->prof.name));
    json_object_set_new(ev, "mem_size", vx_json_hex(m->mem_size));
    json_object_set_new(ev, "images", m->images ? json_incref(m->images) : json_array());
    vx_ev_emit(m, VMXSIM_EV_START, ev);
}

static void emit_end(vmxsim *m)
{
    if (m->ended) return;
    m->ended = 1;
    vx_console_flush(m);
    fflush(m->console);
    if (!vx_ev_wanted(m, VMXSIM_EV_END)) return;
    json_t *ev = vx_ev_new(m, "end");
    json_object_set_new(ev, "reason", json_string(end_names[m->end]));
    json_object_set_new(ev, "exit_status", json_integer(m->exit_status));
    json_object_set_new(ev, "insns", json_integer((json_int_t)m->icount));
    json_object_set_new(ev, "events", json_integer((json_int_t)m->seq)); /* this one included */
    json_object_set_new(ev, "message", json_string(m->end_msg));
    json_object_set_new(ev, "outside_reads", json_integer((json_int_t)m->outside_reads));
    json_object_set_new(ev, "outside_writes", json_integer((json_int_t)m->outside_writes));
    json_object_set_new(ev, "cycles", vx_cyc_summary(m));
    vx_ev_emit(m, VMXSIM_EV_END, ev);
    /* A trace that could not be written whole makes the run an error,
     * whatever the program did: the trace would lie by omission. */
    if (m->trace && vx_trace_flush(m->trace) < 0) {
        m->end = VMXSIM_END_ERROR;
        m->exit_status = VMXSIM_STATUS_ERROR;
        snprintf(m->end_msg, sizeof m->end_msg, "writing the trace failed (%s)",
                 errno ? strerror(errno) : "write error");
    }
}

static void fill_result(vmxsim *m, vmxsim_result *res)
{
    if (!res) return;
    memset(res, 0, sizeof *res);
    res->end = m->end;
    res->exit_status = m->exit_status;
    res->insns = m->icount;
    res->events = m->seq;
    snprintf(res->message, sizeof res->message, "%s", m->end_msg);
}

static int run_common(vmxsim *m, unsigned mask, vmxsim_event *ev, vmxsim_result *res)
{
    if (!m->entered) {
        vx_set_error(m, "no program loaded");
        return -1;
    }
    if (m->end != VMXSIM_END_NONE) {
        fill_result(m, res);
        return 0;
    }
    m->stop_mask = mask;
    emit_start(m);
    if (m->event_hit) {
        m->event_hit = 0;
    } else {
        vx_run_loop(m);
    }
    m->stop_mask = 0;
    if (m->end != VMXSIM_END_NONE) emit_end(m);
    if (ev) {
        if (m->last_event_json && mask) *ev = m->last_event;
        else memset(ev, 0, sizeof *ev);
    }
    fill_result(m, res);
    return 0;
}

int vmxsim_run(vmxsim *m, vmxsim_result *res)
{
    return run_common(m, 0, NULL, res);
}

int vmxsim_run_until(vmxsim *m, unsigned mask, vmxsim_event *ev, vmxsim_result *res)
{
    m->last_event_json = NULL;   /* its storage, m->last_json, is kept for the next */
    return run_common(m, mask, ev, res);
}

static int uc_reg_of(vmxsim_reg r)
{
    static const int map[VMXSIM_REG_COUNT] = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
        UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
        UC_X86_REG_RIP, UC_X86_REG_EFLAGS, UC_X86_REG_CR0, UC_X86_REG_CR2,
        UC_X86_REG_CR3, UC_X86_REG_CR4, UC_X86_REG_CR8, UC_X86_REG_CS,
        UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS,
        UC_X86_REG_GS, -1,
    };
    return (unsigned)r < VMXSIM_REG_COUNT ? map[r] : -2;
}

int vmxsim_reg_read(vmxsim *m, vmxsim_reg r, uint64_t *v)
{
    int id = uc_reg_of(r);
    if (id == -2) { vx_set_error(m, "no register %d", (int)r); return -1; }
    *v = id == -1 ? vx_msr_get(m, VX_MSR_EFER) : id == UC_X86_REG_CR8 ? m->cr8 : vx_reg(m, id);
    return 0;
}

/* A selector written through the API loads the segment's hidden part as
 * MOV to a segment register would: from the descriptor in the GDT in
 * protected mode (a null selector leaves the register unusable), base =
 * selector * 16 in real mode (SDM Vol. 3A 3.4.3). */
static int load_segment(vmxsim *m, vmxsim_reg r, uint16_t sel)
{
    static const int seg_of[] = {VX_SEG_CS, VX_SEG_SS, VX_SEG_DS, VX_SEG_ES, VX_SEG_FS, VX_SEG_GS};
    int seg = seg_of[r - VMXSIM_CS];
    vx_seg s = {sel, 0, 0, VX_AR_UNUSABLE};
    if (!(vx_reg(m, UC_X86_REG_CR0) & CR0_PE)) {
        s = (vx_seg){sel, (uint64_t)sel << 4, 0xFFFF, seg == VX_SEG_CS ? 0x9Bu : 0x93u};
    } else if (sel & ~3u) {
        uc_x86_mmr gdtr = {0};
        uint64_t d = 0;
        uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
        if ((sel & 4) || (uint32_t)(sel | 7) > gdtr.limit ||
            vx_linear_read(m, gdtr.base + (sel & ~7u), &d, 8) < 0) {
            m->pend_vector = -1;
            vx_set_error(m, "selector 0x%x: no such descriptor in the GDT", sel);
            return -1;
        }
        uint32_t lim = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
        if (d & (1ull << 55)) lim = lim << 12 | 0xFFF;
        s = (vx_seg){sel, ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000), lim,
                     (uint32_t)(d >> 40) & 0xF0FFu};
    }
    vx_set_reg(m, uc_reg_of(r), sel);
    return vx_set_seg(m, seg, &s);
}

int vmxsim_reg_write(vmxsim *m, vmxsim_reg r, uint64_t v)
{
    int id = uc_reg_of(r);
    if (id == -2) { vx_set_error(m, "no register %d", (int)r); return -1; }
    if (r >= VMXSIM_CS && r <= VMXSIM_GS) {
        if (load_segment(m, r, (uint16_t)v) < 0) return -1;
    } else if (id == -1) {
        /* EFER whole, LMA included: the API sets state, it is not WRMSR. */
        if (vx_set_efer(m, v) < 0) return -1;
    } else if (id == UC_X86_REG_CR8) {
        if (v >> 4) { vx_set_error(m, "CR8 0x%" PRIx64 ": bits 63:4 are reserved", v); return -1; }
        m->cr8 = v;
    } else {
        vx_set_reg(m, id, v);
        if (id == UC_X86_REG_CR0 || id == UC_X86_REG_CR4 || id == UC_X86_REG_EFLAGS)
            if (vx_sync_mode(m) < 0) return -1;
    }
    if (id == UC_X86_REG_CR0 || id == UC_X86_REG_CR3 || id == UC_X86_REG_CR4 || id == -1)
        vx_mmu_inv_vpid(m, vx_xl_tag(m).vpid, 0);
    if (id == UC_X86_REG_CR0 || id == UC_X86_REG_CR4 || id == -1 || r == VMXSIM_CS)
        vx_flush_all(m);
    return 0;
}

int vmxsim_mem_read(vmxsim *m, uint64_t pa, void *buf, size_t len)
{
    if (pa >= m->mem_size || len > m->mem_size - pa) {
        vx_set_error(m, "physical range 0x%" PRIx64 "+0x%zx is outside RAM", pa, len);
        return -1;
    }
    memcpy(buf, m->ram + pa, len);
    return 0;
}

int vmxsim_mem_write(vmxsim *m, uint64_t pa, const void *buf, size_t len)
{
    if (pa >= m->mem_size || len > m->mem_size - pa) {
        vx_set_error(m, "physical range 0x%" PRIx64 "+0x%zx is outside RAM", pa, len);
        return -1;
    }
    vx_mmu_ram_written(m, pa, len);
    memcpy(m->ram + pa, buf, len);
    return 0;
}

int vmxsim_msr_read(vmxsim *m, uint32_t msr, uint64_t *v)
{
    if (vx_rdmsr(m, msr, v) < 0) {
        vx_set_error(m, "MSR 0x%x does not exist on %s", msr, m->prof.name);
        return -1;
    }
    return 0;
}

static vx_vmcs *current(vmxsim *m)
{
    for (int i = 0; i < m->nactive; i++)
        if (m->active[i]->addr == m->current_vmcs) return m->active[i];
    return NULL;
}

int vmxsim_vmcs_read(vmxsim *m, uint32_t enc, uint64_t *v)
{
    vx_vmcs *c = current(m);
    if (!c) { vx_set_error(m, "no current VMCS"); return -1; }
    int e = vx_vmcs_read(&m->prof, c, enc, v);
    if (e) { vx_set_error(m, "VMCS field 0x%x: %s", enc, vx_vmerr_name((unsigned)e)); return -1; }
    return 0;
}

int vmxsim_vmcs_write(vmxsim *m, uint32_t enc, uint64_t v)
{
    vx_vmcs *c = current(m);
    if (!c) { vx_set_error(m, "no current VMCS"); return -1; }
    int hi;
    int i = vx_field_index(enc, &hi);
    if (i < 0 || !vx_field_supported(&m->prof, &vx_fields[i])) {
        vx_set_error(m, "VMCS field 0x%x: %s", enc, vx_vmerr_name(12));
        return -1;
    }
    /* The API writes any field, read-only ones included (a test harness
     * may need to); values are truncated as VMWRITE would. */
    uint64_t w = vx_fields[i].width == VX_W16 ? 0xFFFF
               : vx_fields[i].width == VX_W32 ? 0xFFFFFFFFull : UINT64_MAX;
    if (hi == 1) c->val[i] = (c->val[i] & 0xFFFFFFFFull) | (v << 32);
    else c->val[i] = v & w;
    return 0;
}

void vmxsim_dump(vmxsim *m, FILE *f)
{
    static const struct { const char *name; int id; } r[] = {
        {"rax", UC_X86_REG_RAX}, {"rbx", UC_X86_REG_RBX}, {"rcx", UC_X86_REG_RCX},
        {"rdx", UC_X86_REG_RDX}, {"rsi", UC_X86_REG_RSI}, {"rdi", UC_X86_REG_RDI},
        {"rbp", UC_X86_REG_RBP}, {"rsp", UC_X86_REG_RSP}, {"r8", UC_X86_REG_R8},
        {"r9", UC_X86_REG_R9}, {"r10", UC_X86_REG_R10}, {"r11", UC_X86_REG_R11},
        {"r12", UC_X86_REG_R12}, {"r13", UC_X86_REG_R13}, {"r14", UC_X86_REG_R14},
        {"r15", UC_X86_REG_R15}, {"rip", UC_X86_REG_RIP}, {"rflags", UC_X86_REG_EFLAGS},
        {"cr0", UC_X86_REG_CR0}, {"cr2", UC_X86_REG_CR2}, {"cr3", UC_X86_REG_CR3},
        {"cr4", UC_X86_REG_CR4},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        fprintf(f, "  %-6s 0x%016" PRIx64 "%s", r[i].name, vx_reg(m, r[i].id),
                i % 3 == 2 ? "\n" : "");
    fprintf(f, "\n  cs 0x%04" PRIx64 " ss 0x%04" PRIx64 " ds 0x%04" PRIx64
               " efer 0x%" PRIx64 "\n",
            vx_reg(m, UC_X86_REG_CS), vx_reg(m, UC_X86_REG_SS),
            vx_reg(m, UC_X86_REG_DS), vx_msr_get(m, VX_MSR_EFER));
    fprintf(f, "  VMX: %s", m->vmx_on ? (m->vmx_nonroot ? "non-root" : "root") : "off");
    if (m->vmx_on)
        fprintf(f, ", VMXON region 0x%" PRIx64 ", current VMCS %s0x%" PRIx64,
                m->vmxon_ptr, m->current_vmcs == VX_NO_VMCS ? "(none) " : "",
                m->current_vmcs);
    fprintf(f, ", IA32_FEATURE_CONTROL 0x%" PRIx64 "\n", m->feature_control);
}
