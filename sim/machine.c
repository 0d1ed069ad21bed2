/*
 * machine.c - creating the machine, its memory and its start state;
 * register and physical-memory access for the rest of the model.
 *
 * RAM is one host buffer mapped into Unicorn at physical 0.  Everything
 * from the end of RAM to the top of the physical-address space is one
 * MMIO region whose reads return all ones and whose writes are dropped,
 * as on a PC with nothing decoding those addresses; each such access is
 * counted and traced (docs/platform.md).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "machine.h"
#include "x86.h"

void vx_set_error(vmxsim *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
}

static const int gpr_ids[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

int vx_uc_gpr(int n) { return gpr_ids[n & 15]; }

/* CR0, CR2, CR3, CR4 and EFER are the model's (the engine runs with
 * values derived from them, mmu.c); CR0.MP/EM/TS are the engine's, which
 * CLTS and LMSW change when it executes them. */
uint64_t vx_reg(vmxsim *m, int uc_reg)
{
    uint64_t v = 0;
    switch (uc_reg) {
    case UC_X86_REG_CR0:
        uc_reg_read(m->uc, uc_reg, &v);
        return (m->arch_cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) | (v & (CR0_MP | CR0_EM | CR0_TS));
    case UC_X86_REG_CR2: return m->arch_cr2;
    case UC_X86_REG_CR3: return m->arch_cr3;
    case UC_X86_REG_CR4: return m->arch_cr4;
    }
    uc_reg_read(m->uc, uc_reg, &v);
    return v;
}

void vx_set_reg(vmxsim *m, int uc_reg, uint64_t v)
{
    switch (uc_reg) {
    case UC_X86_REG_CR0: m->arch_cr0 = v; break;
    case UC_X86_REG_CR2: m->arch_cr2 = v; uc_reg_write(m->uc, uc_reg, &v); return;
    case UC_X86_REG_CR3: m->arch_cr3 = v; break;
    case UC_X86_REG_CR4: m->arch_cr4 = v; break;
    default: uc_reg_write(m->uc, uc_reg, &v); return;
    }
    vx_mmu_write_engine_crs(m);
}

uint64_t vx_gpr(vmxsim *m, int n) { return vx_reg(m, gpr_ids[n & 15]); }
void vx_set_gpr(vmxsim *m, int n, uint64_t v) { vx_set_reg(m, gpr_ids[n & 15], v); }

uint64_t vx_msr_get(vmxsim *m, uint32_t msr)
{
    if (msr == VX_MSR_EFER) return m->arch_efer;
    uc_x86_msr r = {.rid = msr, .value = 0};
    uc_reg_read(m->uc, UC_X86_REG_MSR, &r);
    return r.value;
}

/* EFER: the engine's copy (and its mode flags) follows with
 * vx_set_efer or vx_sync_mode (cpustate.c). */
void vx_msr_set(vmxsim *m, uint32_t msr, uint64_t v)
{
    if (msr == VX_MSR_EFER) {
        m->arch_efer = v;
        return;
    }
    uc_x86_msr r = {.rid = msr, .value = v};
    uc_reg_write(m->uc, UC_X86_REG_MSR, &r);
}

/* CPL is the RPL of CS in protected mode (SS.DPL really, equal in all
 * the states the model creates; SDM Vol. 3A 5.5). */
int vx_cpl(vmxsim *m)
{
    if (!(vx_reg(m, UC_X86_REG_CR0) & 1)) return 0;
    if (vx_reg(m, UC_X86_REG_EFLAGS) & (1u << 17)) return 3; /* virtual-8086 */
    return (int)(vx_reg(m, UC_X86_REG_CS) & 3);
}

int vx_in_long_mode(vmxsim *m)
{
    return (vx_msr_get(m, VX_MSR_EFER) >> 10) & 1;
}

/* The code size of the running code: 64 in 64-bit mode (CS.L), else by
 * CS.D.  Unicorn exposes the cached CS attributes only through its
 * segment descriptor in memory, so read the descriptor from the GDT/LDT
 * as the CPU loaded it. */
int vx_code_mode(vmxsim *m)
{
    /* From the hidden part of CS, as the processor decides it (SDM Vol.
     * 3A 3.4.5: L and D in IA-32e mode, D in protected mode). */
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0);
    if (!(cr0 & 1)) return 16;
    if (vx_reg(m, UC_X86_REG_EFLAGS) & (1u << 17)) return 16;
    vx_seg s[VX_NSEGS];
    if (vx_get_segs(m, s) < 0) return vx_in_long_mode(m) ? 64 : 32;
    uint32_t ar = s[VX_SEG_CS].ar;
    if (vx_in_long_mode(m) && (ar >> 13 & 1)) return 64;
    return (ar >> 14 & 1) ? 32 : 16;
}

/* ---- physical memory ---- */

void vx_outside_access(vmxsim *m, uint64_t pa, size_t len, int write)
{
    if (write) m->outside_writes++;
    else m->outside_reads++;
    if (vx_ev_wanted(m, VMXSIM_EV_MEMORY)) {
        json_t *ev = vx_ev_new(m, "outside_memory");
        json_object_set_new(ev, "address", vx_json_hex(pa));
        json_object_set_new(ev, "access", json_string(write ? "write" : "read"));
        json_object_set_new(ev, "size", json_integer((json_int_t)len));
        vx_ev_emit(m, VMXSIM_EV_MEMORY, ev);
    }
}

size_t vx_access_size(vmxsim *m)
{
    int mode = vx_code_mode(m);
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    uint8_t code[15];
    size_t n = vx_mmu_peek(m, mode == 64 ? rip : rip + vx_cs_base(m), code, sizeof code);
    return n ? vx_mem_operand_size(m->dec, mode, code, n, rip) : 0;
}

void vx_phys_read(vmxsim *m, uint64_t pa, void *buf, size_t len)
{
    uint8_t *out = buf;
    if (pa < m->mem_size && len <= m->mem_size - pa) {
        memcpy(out, m->ram + pa, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = (pa + i < m->mem_size) ? m->ram[pa + i] : 0xFF;
    vx_outside_access(m, pa, len, 0);
}

void vx_phys_write(vmxsim *m, uint64_t pa, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    vx_mmu_ram_written(m, pa, len);
    if (pa < m->mem_size && len <= m->mem_size - pa) {
        memcpy(m->ram + pa, in, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        if (pa + i < m->mem_size) m->ram[pa + i] = in[i];
    vx_outside_access(m, pa, len, 1);
}

uint64_t vx_phys_read64(vmxsim *m, uint64_t pa)
{
    uint64_t v;
    vx_phys_read(m, pa, &v, 8);
    return v;
}

uint32_t vx_phys_read32(vmxsim *m, uint64_t pa)
{
    uint32_t v;
    vx_phys_read(m, pa, &v, 4);
    return v;
}

void vx_phys_write32(vmxsim *m, uint64_t pa, uint32_t v) { vx_phys_write(m, pa, &v, 4); }
void vx_phys_write64(vmxsim *m, uint64_t pa, uint64_t v) { vx_phys_write(m, pa, &v, 8); }

/* ---- start states (docs/start-state.md) ---- */

enum {
    PML4_PA = 0x1000, PDPT_PA = 0x2000, PD_PA = 0x3000, GDT_PA = 0x7000,
    START_RSP = 0x90000,
};

/* GDT of the start state: null, 64-bit code (0x08), flat data (0x10),
 * 32-bit code (0x18).  Accessed bits are preset so that the CPU never
 * writes the descriptors. */
static const uint64_t start_gdt[4] = {
    0,
    0x00AF9B000000FFFFull, /* code, DPL 0, L=1, G=1, present, readable */
    0x00CF93000000FFFFull, /* data, DPL 0, D/B=1, G=1, writable */
    0x00CF9B000000FFFFull, /* code, DPL 0, D=1 (32-bit), G=1, readable */
};

static void write_start_tables(vmxsim *m)
{
    /* Identity map of the low 4 GiB with 2 MiB pages (SDM Vol. 3A 4.5):
     * PML4[0] -> PDPT, PDPT[0..3] -> four page directories. */
    vx_phys_write64(m, PML4_PA, PDPT_PA | 3);
    for (int i = 0; i < 4; i++) {
        vx_phys_write64(m, PDPT_PA + 8 * i, (uint64_t)(PD_PA + 0x1000 * i) | 3);
        for (int j = 0; j < 512; j++) {
            uint64_t addr = ((uint64_t)i << 30) | ((uint64_t)j << 21);
            vx_phys_write64(m, PD_PA + 0x1000 * i + 8 * j, addr | 0x83);
        }
    }
    vx_phys_write(m, GDT_PA, start_gdt, sizeof start_gdt);
}

/* GDTR and IDTR, and CS and the data segments with their caches loaded
 * from the start GDT (a selector written through Unicorn's API alone
 * would leave the hidden part as it was, cpustate.c). */
static int load_segments(vmxsim *m, uint16_t cs, uint16_t data)
{
    uc_x86_mmr gdtr = {.selector = 0, .base = GDT_PA, .limit = 0x1F, .flags = 0};
    uc_x86_mmr idtr = {0};
    if (uc_reg_write(m->uc, UC_X86_REG_GDTR, &gdtr) ||
        uc_reg_write(m->uc, UC_X86_REG_IDTR, &idtr))
        return -1;
    vx_seg s[VX_NSEGS];
    for (int i = VX_SEG_ES; i <= VX_SEG_GS; i++) {
        uint16_t sel = i == VX_SEG_CS ? cs : data;
        uint64_t d = start_gdt[sel >> 3];
        s[i] = (vx_seg){sel, 0, 0xFFFFFFFF, (uint32_t)(d >> 40) & 0xF0FFu};
    }
    return vx_set_segs(m, s, 0x3F);
}

static void zero_gprs(vmxsim *m)
{
    for (int i = 0; i < 16; i++) vx_set_gpr(m, i, 0);
    vx_set_reg(m, UC_X86_REG_CR2, 0);
}

int vx_start_state_long(vmxsim *m, uint64_t entry)
{
    write_start_tables(m);
    zero_gprs(m);
    vx_set_reg(m, UC_X86_REG_CR3, PML4_PA);
    vx_set_reg(m, UC_X86_REG_CR4, 0x20);
    vx_msr_set(m, VX_MSR_EFER, 0x500);
    vx_set_reg(m, UC_X86_REG_CR0, 0x80000031);
    vx_set_reg(m, UC_X86_REG_EFLAGS, 0x2);
    if (load_segments(m, 0x08, 0x10)) {
        vx_set_error(m, "engine refused the start state's segments");
        return -1;
    }
    vx_set_reg(m, UC_X86_REG_RSP, START_RSP);
    vx_set_reg(m, UC_X86_REG_RIP, entry);
    m->entry = entry;
    m->entered = 1;
    return 0;
}

/* Multiboot 1 machine state (Multiboot Specification 0.6.96, 3.2):
 * 32-bit protected mode, paging off, flat 4 GiB segments, EAX magic,
 * EBX the information structure, A20 on, IF and VM clear. */
int vx_start_state_multiboot(vmxsim *m, uint64_t entry, uint32_t mbi)
{
    /* The program's control registers are the model's (mmu.c), and the
     * engine's mode flags are recomputed from them with the segment
     * caches, so the state is simply written. */
    write_start_tables(m);
    zero_gprs(m);
    vx_msr_set(m, VX_MSR_EFER, 0);
    vx_set_reg(m, UC_X86_REG_CR4, 0);
    vx_set_reg(m, UC_X86_REG_CR3, 0);
    vx_set_reg(m, UC_X86_REG_CR0, 0x11); /* PE | ET */
    vx_set_reg(m, UC_X86_REG_EFLAGS, 0x2);
    if (load_segments(m, 0x18, 0x10)) {
        vx_set_error(m, "engine refused the switch to 32-bit protected mode");
        return -1;
    }
    vx_set_reg(m, UC_X86_REG_RAX, 0x2BADB002);
    vx_set_reg(m, UC_X86_REG_RBX, mbi);
    vx_set_reg(m, UC_X86_REG_RSP, 0);
    vx_set_reg(m, UC_X86_REG_RIP, entry);
    m->entry = entry;
    m->entered = 1;
    m->multiboot = 1;
    m->mb_info = mbi;
    vx_flush_all(m);
    return 0;
}

/* ---- creation ---- */

static void reset_model_state(vmxsim *m)
{
    m->current_vmcs = VX_NO_VMCS;
    m->feature_control = 5; /* lock | enable VMX outside SMX, as firmware leaves it */
    const vx_profile_msr *pat = vx_profile_msr_find(&m->prof, VX_MSR_PAT);
    m->pat = pat ? pat->value : 0x0007040600070406ull;
    for (int i = 0; i < m->prof.nmsrs; i++)
        m->profile_msr_val[i] = m->prof.msrs[i].value;
    m->pend_vector = -1;
}

vmxsim *vmxsim_create(const vmxsim_options *opt, char *err, size_t errlen)
{
    vmxsim_options def = {0};
    if (!opt) opt = &def;
    vmxsim *m = calloc(1, sizeof *m);
    if (!m) {
        if (errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (vx_profile_load(opt->cpu ? opt->cpu : "icelake-server", opt->profile_dir,
                        &m->prof, m->err, sizeof m->err) < 0)
        goto fail;
    m->mem_size = opt->mem_size ? opt->mem_size : VX_DEFAULT_MEM;
    if (m->mem_size % 4096 || m->mem_size < (2ull << 20) ||
        m->mem_size > (64ull << 30)) {
        vx_set_error(m, "memory size %llu: must be a multiple of 4 KiB between 2 MiB and 64 GiB",
                     (unsigned long long)m->mem_size);
        goto fail;
    }
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &m->uc) != UC_ERR_OK) {
        vx_set_error(m, "cannot create the Unicorn engine");
        goto fail;
    }
    if (vx_mmu_init(m) < 0) goto fail;
    m->dec = vx_decoder_new();
    if (!m->dec) {
        vx_set_error(m, "cannot open capstone");
        goto fail;
    }
    m->console = opt->console ? opt->console : stdout;
    m->max_insns = opt->max_insns;
    m->wall_limit = opt->wall_limit;
    m->cmdline = strdup(opt->cmdline ? opt->cmdline : "");
    reset_model_state(m);
    if (opt->feature_control_unlocked) m->feature_control = 0;
    m->explain = opt->explain;
    m->mmu.tlb_off = opt->tlb_off;
    m->mmu.trace_tlb_hits = opt->trace_tlb_hits;
    if (vx_run_init(m) < 0) goto fail;
    if (opt->trace_path) {
        m->trace = vx_trace_open(opt->trace_path, m->err, sizeof m->err);
        if (!m->trace) goto fail;
    }
    return m;
fail:
    if (errlen) snprintf(err, errlen, "%s", m->err);
    vmxsim_destroy(m);
    return NULL;
}

void vmxsim_destroy(vmxsim *m)
{
    if (!m) return;
    vx_run_fini(m);
    if (m->trace) vx_trace_close(m->trace);
    for (int i = 0; i < m->nactive; i++) vx_vmcs_free(m->active[i]);
    free(m->active);
    if (m->uc) uc_close(m->uc);
    vx_mmu_fini(m);
    vx_decoder_free(m->dec);
    json_decref(m->images);
    free(m->cmdline);
    vx_ev_fini(m);
    free(m);
}

const char *vmxsim_error(const vmxsim *m) { return m ? m->err : "no machine"; }
const char *vmxsim_cpu_name(const vmxsim *m) { return m->prof.name; }
