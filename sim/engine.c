/*
 * engine.c - working around what Unicorn 2.0.1 does not tell or undo.
 *
 * When Unicorn raises an exception it calls UC_HOOK_INTR with the vector
 * only and skips IDT delivery.  Two pieces of QEMU state matter to us and
 * are not exposed by the API:
 *  - env->error_code, the error code the exception would push;
 *  - env->old_exception, QEMU's "exception being delivered" marker, which
 *    only IDT delivery resets.  Left set, the next contributory fault or
 *    page fault is turned into #DF, and the one after into a silent
 *    shutdown (../shared/notes/unicorn-2.0.1.md, measured again here).
 * Both live in the CPU state that uc_context_save copies.  Their offsets
 * are not part of any API, so they are found at start-up by experiment on
 * a scratch engine (provoke faults with known error codes, compare saved
 * contexts), and the result is verified before it is trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "machine.h"

/* #GP(selector) from loading DS with a selector beyond the GDT limit:
 * mov ds, [0x2000] (the selector comes from memory, so that no register
 * holds it and only the error code can match). */
static const uint8_t probe_code[] = {0x8E, 0x1C, 0x25, 0x00, 0x20, 0x00, 0x00, 0xF4};

static int probe_run(uc_engine *uc, uc_context *base, uint16_t sel,
                     uc_context *out, int *vector)
{
    const uint8_t *code = probe_code;
    size_t size = sizeof probe_code;
    if (uc_context_restore(uc, base)) return -1;
    if (uc_mem_write(uc, 0x2000, &sel, 2)) return -1;
    if (uc_mem_write(uc, 0x1000, code, size)) return -1;
    uc_ctl_remove_cache(uc, 0x1000, 0x1010);
    *vector = -1;
    uc_emu_start(uc, 0x1000, 0x1000 + size, 0, 0);
    return uc_context_save(uc, out) ? -1 : 0;
}

static void probe_intr(uc_engine *uc, uint32_t intno, void *user)
{
    *(int *)user = (int)intno;
    uc_emu_stop(uc);
}

static int32_t ctx_int(const uc_context *c, int off)
{
    int32_t v;
    memcpy(&v, (const char *)c + off, 4);
    return v;
}

static void ctx_set_int(uc_context *c, int off, int32_t v)
{
    memcpy((char *)c + off, &v, 4);
}

int vx_engine_probe(vmxsim *m)
{
    uc_engine *uc = NULL;
    uc_context *c0 = NULL, *c1 = NULL, *c2 = NULL;
    int vector = -1, ok = -1;
    uc_hook h;
    void *mem = NULL;
    m->old_exception_off = m->error_code_off = -1;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc)) goto out;
    mem = calloc(1, 0x10000);
    if (!mem || uc_mem_map_ptr(uc, 0, 0x10000, UC_PROT_ALL, mem)) goto out;
    uc_x86_mmr gdtr = {.base = 0x8000, .limit = 7};
    uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)probe_intr, &vector, 1, 0);
    if (uc_context_alloc(uc, &c0) || uc_context_alloc(uc, &c1) ||
        uc_context_alloc(uc, &c2) || uc_context_save(uc, c0))
        goto out;
    if (probe_run(uc, c0, 0x18, c1, &vector) || vector != VX_GP) goto out;
    if (probe_run(uc, c0, 0x28, c2, &vector) || vector != VX_GP) goto out;
    size_t n = uc_context_size(uc);
    for (int off = 0; off + 4 <= (int)n; off += 4) {
        int32_t a = ctx_int(c0, off), b = ctx_int(c1, off), c = ctx_int(c2, off);
        if (a == -1 && b == VX_GP && c == VX_GP) {
            if (m->old_exception_off >= 0) goto out; /* ambiguous */
            m->old_exception_off = off;
        }
        if (b == 0x18 && c == 0x28) {
            if (m->error_code_off >= 0) goto out;
            m->error_code_off = off;
        }
    }
    if (m->old_exception_off < 0 || m->error_code_off < 0) goto out;
    /* Verify: with old_exception reset after the first #GP, a second #GP
     * must be reported as #GP, not #DF. */
    ctx_set_int(c1, m->old_exception_off, -1);
    uc_context_restore(uc, c1);
    uint16_t sel = 0x38;
    uc_mem_write(uc, 0x2000, &sel, 2);
    uc_mem_write(uc, 0x1100, probe_code, sizeof probe_code);
    vector = -1;
    uc_emu_start(uc, 0x1100, 0x1100 + sizeof probe_code, 0, 0);
    if (vector != VX_GP) goto out;
    ok = 0;
out:
    if (c0) uc_context_free(c0);
    if (c1) uc_context_free(c1);
    if (c2) uc_context_free(c2);
    if (uc) uc_close(uc);
    free(mem);
    if (ok < 0) {
        m->old_exception_off = m->error_code_off = -1;
        vx_set_error(m, "cannot locate Unicorn's exception state (unsupported Unicorn build)");
        return -1;
    }
    if (uc_context_alloc(m->uc, &m->ctx)) {
        vx_set_error(m, "out of memory");
        return -1;
    }
    return 0;
}

/* Vectors that push an error code (SDM Vol. 3A 6.13, Table 6-1). */
static int has_error_code(int v)
{
    return v == VX_DF || v == VX_TS || v == VX_NP || v == VX_SS ||
           v == VX_GP || v == VX_PF || v == VX_AC || v == 21 || v == 29 ||
           v == 30;
}

void vx_engine_exception(vmxsim *m, int vector)
{
    /* Taken now, inside the hook: what the engine reports goes stale once
     * it stops (an exit address makes Unicorn translate code after the
     * run, which can fault again and rewrite both). */
    uint64_t cr2 = 0;
    uc_reg_read(m->uc, UC_X86_REG_CR2, &cr2);
    m->pend_engine_cr2 = cr2;
    m->pend_engine_err = 0;
    if (!uc_context_save(m->uc, m->ctx))
        m->pend_engine_err = (uint32_t)ctx_int(m->ctx, m->error_code_off);
    m->pend_vector = vector;
    m->pend_has_err = has_error_code(vector);
    m->pend_err = 0;
    m->pend_engine = 1;
    m->pend_soft = 0;
    m->pend_kind = VX_PEND_HW;
    m->pend_insn_len = 0;
    m->pend_injected = 0;
    m->pend_rip = vx_reg(m, UC_X86_REG_RIP);
}

uint32_t vx_engine_take_exception(vmxsim *m)
{
    if (uc_context_save(m->uc, m->ctx)) return 0;
    uint32_t err = (uint32_t)ctx_int(m->ctx, m->error_code_off);
    ctx_set_int(m->ctx, m->old_exception_off, -1);
    uc_context_restore(m->uc, m->ctx);
    return err;
}

