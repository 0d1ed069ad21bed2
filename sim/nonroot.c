/*
 * nonroot.c - VMX non-root operation (Intel SDM Vol. 3C chapter 26):
 * which instructions and events cause VM exits under the controls of
 * the current VMCS (26.1, 26.2), what the exit records about them
 * (28.2.1 exit qualification, 28.2.5 instruction information), and how
 * the instructions that do not exit behave differently (26.3: CR0/CR4
 * read shadows and guest/host masks, the TSC offset).
 *
 * Priority (26.1.1): #UD, privilege-level faults and the I/O-permission
 * #GP come before the VM exit of an instruction, so the callers run
 * those checks first; VMX instructions follow their own pseudo-code
 * (VM exit before the CPL check).
 */
#include <string.h>

#include "machine.h"
#include "../vmcs/entry_checks.h"
#include "../vmcs/controls.h"


static uint64_t get(vx_vmcs *v, uint32_t enc) { return vx_vmcs_get(v, enc); }

static uint32_t proc_ctls(vx_vmcs *v) { return (uint32_t)get(v, VX_ENC_cpu_based_vm_exec_control); }

/* Secondary controls count only when the primary control activates
 * them (25.6.2). */
static uint32_t proc2_ctls(vx_vmcs *v)
{
    if (!(proc_ctls(v) & VX_PROC_SECONDARY)) return 0;
    return (uint32_t)get(v, VX_ENC_secondary_vm_exec_control);
}

static uint32_t pin_ctls(vx_vmcs *v) { return (uint32_t)get(v, VX_ENC_pin_based_vm_exec_control); }

int vx_nonroot_unrestricted(vmxsim *m)
{
    vx_vmcs *v = vx_current_vmcs(m);
    return m->vmx_nonroot && v && (proc2_ctls(v) & VX_PROC2_UNRESTRICTED);
}

/* ---- interruptibility (Table 25-3), saved by every VM exit (28.3.4) ---- */

uint32_t vx_nonroot_shadow(vmxsim *m, uint64_t ic, uint64_t la)
{
    uint32_t b = m->shadow_icount == ic ? m->shadow_bits : 0;
    /* Blocking by STI needs RFLAGS.IF = 1 (an STI that faulted set
     * nothing). */
    if (!(vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF)) b &= ~VX_INTR_BLOCK_STI;
    if (vx_blocked_by_mov_ss(m, la)) b = (b & ~VX_INTR_BLOCK_STI) | VX_INTR_BLOCK_MOV_SS;
    return b;
}

/* The interruptibility state at the instruction boundary before the
 * instruction at icount ic, linear address la: what a VM exit there
 * saves.  Bit 3 is blocking by NMI, or virtual-NMI blocking when
 * "virtual NMIs" is 1 (28.3.4). */
static uint32_t intr_state(vmxsim *m, uint64_t ic, uint64_t la)
{
    return vx_nonroot_shadow(m, ic, la) | (m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0);
}

/* The linear address of the guest's RIP now. */
static uint64_t rip_linear(vmxsim *m)
{
    uint64_t rip = vx_reg(m, UC_X86_REG_RIP);
    return vx_code_mode(m) == 64 ? rip : rip + vx_cs_base(m);
}

/* Carry out a VM exit caused by instruction `in` (fault-like: the guest
 * RIP saved is the instruction's own, 28.3.3; the interruptibility is
 * that before the instruction). */
static vx_action exit_for(vmxsim *m, const vx_insn *in, vx_exit *x)
{
    x->guest_rip = m->insn_eip;
    x->insn_len = in->len;
    x->interruptibility = intr_state(m, m->insn_icount, in->addr);
    /* Carried out by the run loop once the engine has stopped. */
    m->pend_exit = *x;
    m->pend_exit_valid = 1;
    return VX_TRANSITION;
}

static vx_action simple_exit(vmxsim *m, const vx_insn *in, uint32_t reason, uint64_t qual)
{
    vx_exit x = {0};
    x.reason = reason;
    x.qual = qual;
    return exit_for(m, in, &x);
}

/* VM-exit instruction-information field for instructions with a
 * ModRM operand (28.2.5, Tables 28-9 to 28-14): scaling 1:0, register
 * 6:3, address size 9:7, register/memory 10, segment 17:15, index
 * 21:18 with "invalid" 22, base 26:23 with "invalid" 27, second
 * register 31:28.  For memory operands the exit qualification holds
 * the displacement, sign-extended; for a RIP-relative operand (64-bit
 * mode only) the displacement plus the RIP of the next instruction,
 * the address the instruction uses (28.2.1; EIP with a 67H prefix). */
static uint32_t insn_info(const vx_insn *in, int reg1, int reg2, uint64_t *qual)
{
    uint32_t info = 0;
    const vx_operand *o = &in->rm;
    unsigned asz = in->addr_size == 16 ? 0 : in->addr_size == 32 ? 1 : 2;
    if (reg1 >= 0) info |= (uint32_t)(reg1 & 15) << 3;
    if (o->is_mem) info |= asz << 7;   /* undefined for register operands: 0 */
    if (!o->is_mem) {
        info |= 1u << 10;
        if (reg1 < 0) info |= (uint32_t)(o->reg & 15) << 3;
        *qual = 0;
    } else {
        unsigned sc = o->scale == 8 ? 3 : o->scale == 4 ? 2 : o->scale == 2 ? 1 : 0;
        info |= sc;
        info |= (uint32_t)(o->seg & 7) << 15;
        if (o->index >= 0) info |= (uint32_t)(o->index & 15) << 18;
        else info |= 1u << 22;
        if (o->base >= 0 && o->base < 16) info |= (uint32_t)(o->base & 15) << 23;
        else info |= 1u << 27;
        *qual = (uint64_t)o->disp;
        if (o->base == VX_BASE_RIP) {
            *qual += in->addr + in->len;   /* 64-bit mode: CS base is 0 */
            if (in->addr_size == 32) *qual &= 0xFFFFFFFF;
        }
    }
    if (reg2 >= 0) info |= (uint32_t)(reg2 & 15) << 28;
    return info;
}

static vx_action vmx_insn_exit(vmxsim *m, const vx_insn *in)
{
    vx_exit x = {0};
    switch (in->op) {
    case VX_OP_VMCALL: x.reason = VX_EXIT_VMCALL; break;
    case VX_OP_VMLAUNCH: x.reason = VX_EXIT_VMLAUNCH; break;
    case VX_OP_VMRESUME: x.reason = VX_EXIT_VMRESUME; break;
    case VX_OP_VMXOFF: x.reason = VX_EXIT_VMOFF; break;
    case VX_OP_VMXON: x.reason = VX_EXIT_VMON; x.insn_info = insn_info(in, -1, -1, &x.qual); break;
    case VX_OP_VMCLEAR: x.reason = VX_EXIT_VMCLEAR; x.insn_info = insn_info(in, -1, -1, &x.qual); break;
    case VX_OP_VMPTRLD: x.reason = VX_EXIT_VMPTRLD; x.insn_info = insn_info(in, -1, -1, &x.qual); break;
    case VX_OP_VMPTRST: x.reason = VX_EXIT_VMPTRST; x.insn_info = insn_info(in, -1, -1, &x.qual); break;
    /* VMREAD r/m, r: reg2 is the field-encoding register; VMWRITE r, r/m
     * likewise (Table 28-14). */
    case VX_OP_VMREAD: x.reason = VX_EXIT_VMREAD;
        x.insn_info = insn_info(in, -1, in->modrm_reg, &x.qual); break;
    case VX_OP_VMWRITE: x.reason = VX_EXIT_VMWRITE;
        x.insn_info = insn_info(in, -1, in->modrm_reg, &x.qual); break;
    case VX_OP_INVEPT: x.reason = VX_EXIT_INVEPT;
        x.insn_info = insn_info(in, -1, in->modrm_reg, &x.qual); break;
    case VX_OP_INVVPID: x.reason = VX_EXIT_INVVPID;
        x.insn_info = insn_info(in, -1, in->modrm_reg, &x.qual); break;
    default:
        return VX_NEXT;
    }
    return exit_for(m, in, &x);
}

/* MSR bitmaps (25.6.9): read-low 0x000, read-high 0x400, write-low
 * 0x800, write-high 0xC00, one bit per MSR in 0-1FFFH and
 * C0000000H-C0001FFFH; any other MSR always exits. */
static int msr_exits(vmxsim *m, vx_vmcs *v, uint32_t msr, int write)
{
    if (!(proc_ctls(v) & VX_PROC_MSR_BITMAPS)) return 1;
    uint64_t off;
    if (msr <= 0x1FFF) off = 0;
    else if (msr >= 0xC0000000u && msr <= 0xC0001FFFu) off = 0x400;
    else return 1;
    if (write) off += 0x800;
    uint32_t bit = msr & 0x1FFF;
    uint8_t byte;
    vx_phys_read(m, get(v, VX_ENC_msr_bitmap) + off + bit / 8, &byte, 1);
    return (byte >> (bit % 8)) & 1;
}

/* I/O bitmaps (25.6.4): A covers ports 0-7FFFH, B 8000H-FFFFH; an access
 * exits if any of its bytes' bits is set, or if it wraps past FFFFH. */
static int io_exits(vmxsim *m, vx_vmcs *v, uint16_t port, int size)
{
    uint32_t proc = proc_ctls(v);
    if (!(proc & VX_PROC_IO_BITMAPS)) return (proc & VX_PROC_UNCOND_IO) != 0;
    if ((uint32_t)port + (uint32_t)size > 0x10000) return 1;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint64_t bm = get(v, p < 0x8000 ? VX_ENC_io_bitmap_a : VX_ENC_io_bitmap_b);
        uint8_t byte;
        vx_phys_read(m, bm + (p & 0x7FFF) / 8, &byte, 1);
        if ((byte >> (p % 8)) & 1) return 1;
    }
    return 0;
}

static vx_action io_exit(vmxsim *m, const vx_insn *in, vx_vmcs *v)
{
    int string = in->op == VX_OP_INS || in->op == VX_OP_OUTS;
    int in_dir = in->op == VX_OP_IN || in->op == VX_OP_INS;
    int size = vx_io_size(in);
    uint16_t port = in->has_imm ? (uint16_t)in->imm : (uint16_t)vx_gpr(m, 2);
    if (!io_exits(m, v, port, size)) return VX_NEXT;
    /* Exit qualification for I/O instructions (Table 28-5). */
    vx_exit x = {0};
    x.reason = VX_EXIT_IO_INSTRUCTION;
    x.qual = (uint64_t)(size - 1) | (in_dir ? 1u << 3 : 0) | (string ? 1u << 4 : 0) |
             (in->rep && string ? 1u << 5 : 0) | (in->has_imm ? 1u << 6 : 0) |
             ((uint64_t)port << 16);
    if (string) {
        /* Instruction information (Table 28-8): address size 9:7 and,
         * for OUTS, the segment 17:15; the guest-linear address is that
         * of the first iteration's memory operand. */
        unsigned asz = in->addr_size == 16 ? 0 : in->addr_size == 32 ? 1 : 2;
        x.insn_info = asz << 7;
        if (!in_dir) x.insn_info |= (uint32_t)(in->rm.seg & 7) << 15;
        int idx = in_dir ? 7 : 6;
        vx_operand o = {.is_mem = 1, .base = idx, .index = -1, .scale = 1,
                        .seg = in_dir ? 0 : in->rm.seg};
        uint64_t la = 0;
        if (vx_operand_address(m, in, &o, (unsigned)size, in_dir, &la) < 0) {
            m->pend_vector = -1; /* the address is only recorded */
            la = 0;
        }
        x.guest_linear = la;
    }
    return exit_for(m, in, &x);
}

/* The linear address of a memory operand, for the exit qualification
 * of INVLPG: no access is made and no fault can result. */
static uint64_t operand_linear(vmxsim *m, const vx_insn *in)
{
    uint64_t la = 0;
    if (vx_operand_address(m, in, &in->rm, 1, 0, &la) < 0) m->pend_vector = -1;
    return la;
}

/* Instruction information for LGDT/LIDT/SGDT/SIDT and LLDT/LTR/SLDT/STR
 * (Tables 28-10, 28-11): the ModRM fields, operand size 11 (outside
 * 64-bit mode), and the instruction identity in 29:28. */
static uint32_t desc_table_info(const vx_insn *in, unsigned identity, uint64_t *qual)
{
    uint32_t info = insn_info(in, -1, -1, qual) & ~(0xFu << 28);
    if (in->mode != 64 && in->op_size == 32) info |= 1u << 11;
    return info | identity << 28;
}

/* RDRAND and RDSEED (Table 28-15): destination register 6:3, operand
 * size 12:11 (0 16-bit, 1 32-bit, 2 64-bit). */
static uint32_t rand_info(const vx_insn *in)
{
    unsigned sz = in->op_size == 16 ? 0 : in->op_size == 32 ? 1 : 2;
    return (uint32_t)(in->rm.reg & 15) << 3 | sz << 11;
}

/* ---- CLTS and LMSW (26.1.3, 26.3) ---- */

static vx_action clts(vmxsim *m, const vx_insn *in, vx_vmcs *v)
{
    uint64_t mask = get(v, VX_ENC_cr0_guest_host_mask), shadow = get(v, VX_ENC_cr0_read_shadow);
    if ((mask & CR0_TS) && (shadow & CR0_TS)) {
        vx_exit x = {0};
        x.reason = VX_EXIT_CR_ACCESS;
        x.qual = 2u << 4;   /* CR0, access type 2: CLTS (Table 28-3) */
        return exit_for(m, in, &x);
    }
    /* The host owns TS (mask 1, shadow 0): CLTS leaves it; else it clears it. */
    if (!(mask & CR0_TS)) {
        vx_set_reg(m, UC_X86_REG_CR0, vx_reg(m, UC_X86_REG_CR0) & ~CR0_TS);
        if (vx_sync_mode(m) < 0) return VX_STOP;
    }
    return VX_NEXT;
}

static vx_action lmsw(vmxsim *m, const vx_insn *in, vx_vmcs *v)
{
    uint64_t src;
    uint64_t la = 0;
    if (in->rm.is_mem) {
        uint16_t w;
        if (vx_operand_address(m, in, &in->rm, 2, 0, &la) < 0 || vx_linear_read(m, la, &w, 2) < 0)
            return VX_FAULT;
        src = w;
    } else {
        src = vx_gpr(m, in->rm.reg) & 0xFFFF;
    }
    uint64_t mask = get(v, VX_ENC_cr0_guest_host_mask) & 0xF, shadow = get(v, VX_ENC_cr0_read_shadow);
    /* Exit if a bit among 3:1 the host owns differs from the shadow, or
     * if LMSW would set PE while the host owns it and the shadow has 0
     * (LMSW cannot clear PE). */
    if (((src ^ shadow) & mask & 0xE) || ((mask & 1) && !(shadow & 1) && (src & 1))) {
        vx_exit x = {0};
        x.reason = VX_EXIT_CR_ACCESS;
        x.qual = (3u << 4) | (in->rm.is_mem ? 1u << 6 : 0) | (src << 16); /* Table 28-3 */
        x.guest_linear = la;
        return exit_for(m, in, &x);
    }
    uint64_t cr0 = vx_reg(m, UC_X86_REG_CR0);
    uint64_t bits = (src & 0xE & ~mask) | (cr0 & 0xE & mask);
    cr0 = (cr0 & ~0xEull) | bits | ((src & 1) & ~mask);
    vx_set_reg(m, UC_X86_REG_CR0, cr0);
    if (vx_sync_mode(m) < 0) return VX_STOP;
    vx_flush_all(m);
    return VX_NEXT;
}

/* SMSW never exits; the bits of CR0 the host owns read from the CR0 read
 * shadow, as for MOV from CR0 (26.3).  SDM Vol. 2B SMSW: #GP(0) at CPL >
 * 0 with CR4.UMIP = 1; a register destination gets CR0 at the operand
 * size (bits 15:0 merged for 16 bits; 32 bits zero-extended in 64-bit
 * mode), memory always 16 bits. */
static vx_action smsw(vmxsim *m, const vx_insn *in, vx_vmcs *v)
{
    if (vx_cpl(m) > 0 && (vx_reg(m, UC_X86_REG_CR4) & CR4_UMIP)) return vx_raise_gp0(m);
    uint64_t mask = get(v, VX_ENC_cr0_guest_host_mask), shadow = get(v, VX_ENC_cr0_read_shadow);
    uint64_t cr0 = (vx_reg(m, UC_X86_REG_CR0) & ~mask) | (shadow & mask);
    if (in->rm.is_mem) {
        uint64_t la;
        uint16_t w = (uint16_t)cr0;
        if (vx_operand_address(m, in, &in->rm, 2, 1, &la) < 0 || vx_linear_write(m, la, &w, 2) < 0)
            return VX_FAULT;
        return VX_NEXT;
    }
    uint64_t old = vx_gpr(m, in->rm.reg);
    if (in->op_size == 16) cr0 = (old & ~0xFFFFull) | (cr0 & 0xFFFF);
    else if (in->op_size == 32) cr0 &= 0xFFFFFFFF;
    vx_set_gpr(m, in->rm.reg, cr0);
    return VX_NEXT;
}

/* ---- task switches (26.1.2: always a VM exit) ---- */

/* The descriptor for selector sel in the guest's GDT; 0 if none. */
static uint64_t gdt_descriptor(vmxsim *m, uint16_t sel)
{
    uc_x86_mmr gdtr = {0};
    uint64_t d = 0;
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &gdtr);
    if ((sel & 4) || (uint32_t)(sel | 7) > gdtr.limit) return 0;
    if (vx_linear_read(m, gdtr.base + (sel & ~7u), &d, 8) < 0) {
        m->pend_vector = -1;
        return 0;
    }
    return d;
}

static vx_action task_switch_exit(vmxsim *m, const vx_insn *in, uint16_t tss, unsigned source)
{
    vx_exit x = {0};
    x.reason = VX_EXIT_TASK_SWITCH;
    x.qual = tss | (uint64_t)source << 30;   /* Table 28-2 */
    return exit_for(m, in, &x);
}

/* Far JMP or CALL: a task switch if the selector names an available TSS
 * or a task gate (SDM Vol. 3A 8.3); otherwise the engine runs it. */
static int far_branch(vmxsim *m, const vx_insn *in, vx_action *act)
{
    if (!(vx_reg(m, UC_X86_REG_CR0) & CR0_PE) || vx_in_long_mode(m) ||
        (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_VM))
        return 0;   /* no task switches in real, virtual-8086 or IA-32e mode */
    uint16_t sel;
    if (in->modrm_reg < 0) {
        sel = (uint16_t)(in->bytes[in->len - 2] | in->bytes[in->len - 1] << 8); /* ptr16:16/32 */
    } else {
        uint64_t la;
        unsigned off = in->op_size == 16 ? 2 : 4;
        if (vx_operand_address(m, in, &in->rm, off + 2, 0, &la) < 0 ||
            vx_linear_read(m, la + off, &sel, 2) < 0) {
            m->pend_vector = -1;
            return 0;
        }
    }
    uint64_t d = gdt_descriptor(m, sel);
    unsigned type = (unsigned)(d >> 40) & 0x1F;   /* S and type */
    unsigned source = in->op == VX_OP_FAR_CALL ? 0 : 2;
    if (type == 0x01 || type == 0x09) {
        *act = task_switch_exit(m, in, sel, source);
        return 1;
    }
    if (type == 0x05) {
        *act = task_switch_exit(m, in, (uint16_t)(d >> 16), source);
        return 1;
    }
    return 0;
}

/* IRET with RFLAGS.NT = 1 in protected mode returns to the previous task
 * (the link field of the current TSS): a task switch. */
static int iret_task(vmxsim *m, const vx_insn *in, vx_action *act)
{
    if (!(vx_reg(m, UC_X86_REG_CR0) & CR0_PE) || vx_in_long_mode(m) ||
        !(vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_NT))
        return 0;
    vx_seg s[VX_NSEGS];
    uint16_t link = 0;
    if (vx_get_segs(m, s) < 0 || vx_linear_read(m, s[VX_SEG_TR].base, &link, 2) < 0) {
        m->pend_vector = -1;
        return 0;
    }
    *act = task_switch_exit(m, in, link, 1);
    return 1;
}

/* Instructions that exit only under the controls of 26.1.3 and are
 * otherwise run by the engine (0 = not taken here). */
static int nonroot_only_insn(vmxsim *m, const vx_insn *in, vx_vmcs *v, vx_action *act)
{
    uint32_t proc = proc_ctls(v), proc2 = proc2_ctls(v);
    int cpl0 = vx_cpl(m) == 0;
    vx_exit x = {0};
    switch (in->op) {
    case VX_OP_INVLPG:
        if (!cpl0 || !(proc & VX_PROC_INVLPG_EXITING)) return 0;
        x.reason = VX_EXIT_INVLPG;
        x.qual = operand_linear(m, in);
        break;
    case VX_OP_INVD:
        if (!cpl0) return 0;
        x.reason = VX_EXIT_INVD;
        break;
    case VX_OP_WBINVD:
        if (!cpl0 || !(proc2 & VX_PROC2_WBINVD_EXITING)) return 0;
        x.reason = VX_EXIT_WBINVD;
        break;
    case VX_OP_PAUSE:
        if (proc & VX_PROC_PAUSE_EXITING) {
            x.reason = VX_EXIT_PAUSE_INSTRUCTION;
            break;
        }
        if ((proc2 & VX_PROC2_PLE) && cpl0) {
            /* PAUSE-loop exiting (25.6.13, 26.1.3): PAUSEs less than
             * PLE_Gap TSC ticks apart form a loop; the one that finds the
             * loop older than PLE_Window ticks exits.  Time is the
             * model's TSC (vx_tsc). */
            uint64_t t = vx_tsc(m);
            uint64_t gap = get(v, VX_ENC_ple_gap) & 0xFFFFFFFF;
            uint64_t window = get(v, VX_ENC_ple_window) & 0xFFFFFFFF;
            if (!m->ple_active || t - m->ple_last > gap) m->ple_first = t;
            m->ple_active = 1;
            m->ple_last = t;
            if (t - m->ple_first > window) {
                m->ple_active = 0;
                x.reason = VX_EXIT_PAUSE_INSTRUCTION;
                break;
            }
        }
        return 0;
    case VX_OP_MWAIT: case VX_OP_MONITOR: {
        uint32_t ctl = in->op == VX_OP_MWAIT ? VX_PROC_MWAIT_EXITING : VX_PROC_MONITOR_EXITING;
        if (!cpl0) return 0;
        if (!(proc & ctl)) {
            vx_not_modelled(m, "%s in a guest without its exiting control", vx_op_name(in->op));
            *act = VX_STOP;
            return 1;
        }
        x.reason = in->op == VX_OP_MWAIT ? VX_EXIT_MWAIT_INSTRUCTION : VX_EXIT_MONITOR_INSTRUCTION;
        break;
    }
    case VX_OP_RDPMC:
        if (!(proc & VX_PROC_RDPMC_EXITING)) return 0;
        if (!cpl0 && !(vx_reg(m, UC_X86_REG_CR4) & (1ull << 8))) return 0; /* CR4.PCE */
        x.reason = VX_EXIT_RDPMC;
        break;
    case VX_OP_XSETBV:
        if (!(vx_reg(m, UC_X86_REG_CR4) & CR4_OSXSAVE)) return 0; /* #UD first */
        x.reason = VX_EXIT_XSETBV;
        break;
    case VX_OP_MOV_TO_DR: case VX_OP_MOV_FROM_DR:
        if (!cpl0 || !(proc & VX_PROC_MOV_DR_EXITING)) {
            if (in->op == VX_OP_MOV_TO_DR) m->dr6_stale = 1; /* the engine runs it */
            return 0;
        }
        /* Exit qualification for MOV DR (Table 28-4): 2:0 the debug
         * register, 4 direction (1 = MOV from DR), 11:8 the register. */
        x.reason = VX_EXIT_DR_ACCESS;
        x.qual = (uint64_t)(in->modrm_reg & 7) | (in->op == VX_OP_MOV_FROM_DR ? 1u << 4 : 0) |
                 (uint64_t)(in->rm.reg & 15) << 8;
        break;
    case VX_OP_SGDT: case VX_OP_SIDT: case VX_OP_LGDT: case VX_OP_LIDT:
        if (!(proc2 & VX_PROC2_DESC_TABLE) || !in->rm.is_mem) return 0;
        if ((in->op == VX_OP_LGDT || in->op == VX_OP_LIDT) && !cpl0) return 0;
        x.reason = VX_EXIT_GDTR_IDTR;
        x.insn_info = desc_table_info(in, in->op == VX_OP_SGDT ? 0 : in->op == VX_OP_SIDT ? 1
                                          : in->op == VX_OP_LGDT ? 2 : 3, &x.qual);
        break;
    case VX_OP_SLDT: case VX_OP_STR: case VX_OP_LLDT: case VX_OP_LTR:
        if (!(proc2 & VX_PROC2_DESC_TABLE)) return 0;
        if (!(vx_reg(m, UC_X86_REG_CR0) & CR0_PE)) return 0; /* #UD in real mode */
        if ((in->op == VX_OP_LLDT || in->op == VX_OP_LTR) && !cpl0) return 0;
        x.reason = VX_EXIT_LDTR_TR;
        x.insn_info = desc_table_info(in, in->op == VX_OP_SLDT ? 0 : in->op == VX_OP_STR ? 1
                                          : in->op == VX_OP_LLDT ? 2 : 3, &x.qual);
        break;
    case VX_OP_RDRAND: case VX_OP_RDSEED: {
        uint32_t ctl = in->op == VX_OP_RDRAND ? VX_PROC2_RDRAND_EXITING : VX_PROC2_RDSEED_EXITING;
        if (!(proc2 & ctl)) return 0;
        x.reason = in->op == VX_OP_RDRAND ? VX_EXIT_RDRAND : VX_EXIT_RDSEED;
        x.insn_info = rand_info(in);
        break;
    }
    case VX_OP_CLTS:
        if (!cpl0) return 0;
        *act = clts(m, in, v);
        return 1;
    case VX_OP_LMSW:
        if (!cpl0) return 0;
        *act = lmsw(m, in, v);
        return 1;
    case VX_OP_SMSW:
        *act = smsw(m, in, v);
        return 1;
    case VX_OP_FAR_JMP: case VX_OP_FAR_CALL:
        return far_branch(m, in, act);
    case VX_OP_XSAVES: case VX_OP_XRSTORS:
        /* #UD unless "enable XSAVES/XRSTORS" (26.3); the XSS-exiting
         * bitmap is ANDed with IA32_XSS, which the model keeps at 0 (no
         * supervisor state components), so they never exit. */
        if (!(proc2 & VX_PROC2_XSAVES)) { *act = vx_raise_ud(m); return 1; }
        return 0;
    case VX_OP_IRET:
        if (iret_task(m, in, act)) return 1;
        /* IRET ends blocking by NMI, or virtual-NMI blocking with
         * "virtual NMIs" = 1, even if it then faults; with "NMI exiting"
         * = 1 and "virtual NMIs" = 0 blocking by NMI stays while the guest
         * runs (26.3, 27.7.1).  IRET is a site throughout non-root
         * operation, so the model sees every one. */
        if (m->nmi_blocked &&
            (!(pin_ctls(v) & VX_PIN_NMI_EXITING) || (pin_ctls(v) & VX_PIN_VIRTUAL_NMIS))) {
            m->nmi_blocked = 0;
            m->iret_icount = m->insn_icount + 1;
        }
        return 0;
    case VX_OP_STI:
        /* STI with RFLAGS.IF = 0 blocks interrupts for one instruction
         * (Table 25-3): the boundary before the next one.  The engine
         * runs it (a #GP for IOPL < CPL leaves IF clear, and then no
         * blocking is reported). */
        if (!(vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF)) {
            m->shadow_icount = m->insn_icount + 1;
            m->shadow_bits = VX_INTR_BLOCK_STI;
        }
        return 0;
    case VX_OP_INVPCID:
        if (!(proc2 & VX_PROC2_INVPCID)) { *act = vx_raise_ud(m); return 1; }
        if (!cpl0 || !(proc & VX_PROC_INVLPG_EXITING)) return 0;
        x.reason = VX_EXIT_INVPCID;
        x.insn_info = insn_info(in, -1, in->modrm_reg, &x.qual);
        break;
    default:
        return 0;
    }
    *act = exit_for(m, in, &x);
    return 1;
}

/* Does the processor have INVEPT (vpid 0) or INVVPID (Appendix A.3.3,
 * A.10)? */
static int inv_supported(vmxsim *m, int vpid)
{
    uint64_t ctls2 = 0, cap = 0;
    vx_profile_vmx_msr(&m->prof, VX_MSR_VMX_PROCBASED_CTLS2, &ctls2);
    vx_profile_vmx_msr(&m->prof, VX_MSR_VMX_EPT_VPID_CAP, &cap);
    return vpid ? ((ctls2 >> 37) & 1) && ((cap >> 32) & 1)
                : ((ctls2 >> 33) & 1) && ((cap >> 20) & 1);
}

int vx_nonroot_insn(vmxsim *m, const vx_insn *in, vx_action *act)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v) return 0;
    uint32_t proc = proc_ctls(v), proc2 = proc2_ctls(v);
    vx_action a = VX_NEXT;
    switch (in->op) {
    case VX_OP_CPUID:
        a = simple_exit(m, in, VX_EXIT_CPUID, 0);
        break;
    case VX_OP_GETSEC:
        if (!(vx_reg(m, UC_X86_REG_CR4) & CR4_SMXE)) return 0; /* #UD first */
        a = simple_exit(m, in, VX_EXIT_GETSEC, 0);
        break;
    case VX_OP_HLT:
        if (vx_cpl(m) > 0 || !(proc & VX_PROC_HLT_EXITING)) return 0;
        a = simple_exit(m, in, VX_EXIT_HLT, 0);
        break;
    case VX_OP_RDTSCP:
        /* RDTSCP is #UD unless "enable RDTSCP" is 1 (26.3). */
        if (!(proc2 & VX_PROC2_RDTSCP)) { *act = vx_raise_ud(m); return 1; }
        /* fall through */
    case VX_OP_RDTSC:
        if ((vx_reg(m, UC_X86_REG_CR4) & CR4_TSD) && vx_cpl(m) > 0) return 0;
        if (!(proc & VX_PROC_RDTSC_EXITING)) return 0;
        a = simple_exit(m, in, in->op == VX_OP_RDTSC ? VX_EXIT_RDTSC : VX_EXIT_RDTSCP, 0);
        break;
    case VX_OP_RDMSR: case VX_OP_WRMSR:
        if (vx_cpl(m) > 0) return 0;
        if (!msr_exits(m, v, (uint32_t)vx_gpr(m, 1), in->op == VX_OP_WRMSR)) return 0;
        a = simple_exit(m, in, in->op == VX_OP_RDMSR ? VX_EXIT_MSR_READ : VX_EXIT_MSR_WRITE, 0);
        break;
    case VX_OP_IN: case VX_OP_OUT: case VX_OP_INS: case VX_OP_OUTS: {
        int ok = vx_io_allowed(m);
        if (ok <= 0) return 0; /* the I/O-permission #GP comes first */
        a = io_exit(m, in, v);
        if (a == VX_NEXT) return 0;
        break;
    }
    case VX_OP_VMCALL:
        /* VMCALL exits in every mode (its pseudo-code, 31.3, has no
         * mode check before the VM exit). */
        a = vmx_insn_exit(m, in);
        break;
    case VX_OP_VMXON: case VX_OP_VMXOFF: case VX_OP_VMCLEAR: case VX_OP_VMPTRLD:
    case VX_OP_VMPTRST: case VX_OP_VMREAD: case VX_OP_VMWRITE: case VX_OP_VMLAUNCH:
    case VX_OP_VMRESUME: case VX_OP_INVEPT: case VX_OP_INVVPID:
        /* #UD in real, virtual-8086 and compatibility mode comes first
         * (each instruction's pseudo-code, 31.3): vmx.c decides those. */
        if (!(vx_reg(m, UC_X86_REG_CR0) & CR0_PE) ||
            (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_VM) ||
            (vx_in_long_mode(m) && vx_code_mode(m) != 64))
            return 0;
        /* INVEPT and INVVPID exit unconditionally (26.1.2), whatever
         * "enable EPT" and "enable VPID" say; only a processor without
         * them (IA32_VMX_PROCBASED_CTLS2[33] / [37] and
         * IA32_VMX_EPT_VPID_CAP[20] / [32]) makes them #UD first, which
         * vmx.c decides. */
        if ((in->op == VX_OP_INVEPT || in->op == VX_OP_INVVPID) &&
            (!in->rm.is_mem || !inv_supported(m, in->op == VX_OP_INVVPID)))
            return 0;
        a = vmx_insn_exit(m, in);
        break;
    default:
        return nonroot_only_insn(m, in, v, act);
    }
    *act = a;
    return 1;
}

/* ---- control registers (26.1.3, 26.3) ---- */

static vx_action cr_exit(vmxsim *m, const vx_insn *in, int cr, int from)
{
    /* Exit qualification for control-register accesses (Table 28-3):
     * 3:0 the register, 5:4 access type (0 MOV to CR, 1 MOV from CR),
     * 11:8 the general register. */
    return simple_exit(m, in, VX_EXIT_CR_ACCESS,
                       (uint64_t)cr | ((uint64_t)from << 4) | ((uint64_t)(in->rm.reg & 15) << 8));
}

/* VTPR: the 32 bits at offset 80H of the virtual-APIC page (30.1.1). */
static uint64_t vtpr_pa(vx_vmcs *v)
{
    return get(v, VX_ENC_virtual_apic_page_addr) + 0x80;
}

int vx_nonroot_cr_read(vmxsim *m, const vx_insn *in, int cr, uint64_t *val, vx_action *act)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v) return 0;
    uint32_t proc = proc_ctls(v);
    if ((cr == 3 && (proc & VX_PROC_CR3_STORE_EXITING)) ||
        (cr == 8 && (proc & VX_PROC_CR8_STORE_EXITING))) {
        *act = cr_exit(m, in, cr, 1);
        return 1;
    }
    if (cr == 8 && (proc & VX_PROC_TPR_SHADOW)) {
        /* 30.3: MOV from CR8 reads VTPR[7:4] into bits 3:0. */
        *val = (vx_phys_read32(m, vtpr_pa(v)) >> 4) & 0xF;
        return 0;
    }
    /* Bits owned by the host read from the read shadow (26.3). */
    if (cr == 0 || cr == 4) {
        uint64_t mask = get(v, cr == 0 ? VX_ENC_cr0_guest_host_mask : VX_ENC_cr4_guest_host_mask);
        uint64_t shadow = get(v, cr == 0 ? VX_ENC_cr0_read_shadow : VX_ENC_cr4_read_shadow);
        *val = (*val & ~mask) | (shadow & mask);
    }
    return 0;
}

int vx_nonroot_cr_write(vmxsim *m, const vx_insn *in, int cr, uint64_t *val, vx_action *act)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v) return 0;
    uint32_t proc = proc_ctls(v);
    int exits = 0;
    if (cr == 0 || cr == 4) {
        /* Exit if the value differs from the read shadow in a bit the
         * host owns; otherwise those bits keep their real values. */
        uint64_t mask = get(v, cr == 0 ? VX_ENC_cr0_guest_host_mask : VX_ENC_cr4_guest_host_mask);
        uint64_t shadow = get(v, cr == 0 ? VX_ENC_cr0_read_shadow : VX_ENC_cr4_read_shadow);
        if ((*val ^ shadow) & mask) {
            exits = 1;
        } else {
            uint64_t real = vx_reg(m, cr == 0 ? UC_X86_REG_CR0 : UC_X86_REG_CR4);
            *val = (real & mask) | (*val & ~mask);
        }
    } else if (cr == 3 && (proc & VX_PROC_CR3_LOAD_EXITING)) {
        /* No exit for a value among the first CR3-target-count targets. */
        static const uint32_t target[4] = {VX_ENC_cr3_target_value0, VX_ENC_cr3_target_value1,
                                           VX_ENC_cr3_target_value2, VX_ENC_cr3_target_value3};
        uint64_t n = get(v, VX_ENC_cr3_target_count);
        exits = 1;
        for (uint64_t i = 0; i < n && i < 4; i++)
            if (get(v, target[i]) == *val) exits = 0;
    } else if (cr == 8 && (proc & VX_PROC_CR8_LOAD_EXITING)) {
        exits = 1;
    }
    if (!exits) return 0;
    *act = cr_exit(m, in, cr, 0);
    return 1;
}

/* MOV to CR8 that did not exit, with the value checked (bits 63:4 are 0):
 * the TPR, or with "use TPR shadow" VTPR (30.3: bits 3:0 of the source to
 * VTPR[7:4], the rest of VTPR cleared), then TPR virtualization (30.1.2):
 * without virtual-interrupt delivery, a VTPR[7:4] below TPR threshold[3:0]
 * is a trap-like VM exit, "TPR below threshold" (43), after the
 * instruction, exit qualification 0 (Table 28-1). */
vx_action vx_nonroot_cr8_write(vmxsim *m, const vx_insn *in, uint64_t val)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v || !(proc_ctls(v) & VX_PROC_TPR_SHADOW)) {
        m->cr8 = val;
        return VX_NEXT;
    }
    vx_phys_write32(m, vtpr_pa(v), (uint32_t)(val & 0xF) << 4);
    if (proc2_ctls(v) & VX_PROC2_VID) {
        vx_not_modelled(m, "MOV to CR8 with virtual-interrupt delivery (the evaluation of "
                           "pending virtual interrupts, 30.2.1)");
        return VX_STOP;
    }
    if ((val & 0xF) >= (get(v, VX_ENC_tpr_threshold) & 0xF)) return VX_NEXT;
    vx_exit x = {0};
    x.reason = VX_EXIT_TPR_BELOW_THRESHOLD;
    x.guest_rip = m->insn_eip + in->len;
    x.interruptibility = intr_state(m, m->insn_icount + 1, in->addr + in->len);
    /* The instruction completed: its own cost, then the exit's. */
    vx_cyc_add(m, vx_cyc_op(m, in->op));
    m->pend_exit = x;
    m->pend_exit_valid = 1;
    return VX_TRANSITION;
}

/* RDTSC, RDTSCP and RDMSR of IA32_TSC that do not exit scale the TSC and
 * add the TSC offset (26.3). */
uint64_t vx_nonroot_tsc(vmxsim *m, uint64_t tsc)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v || !(proc_ctls(v) & VX_PROC_TSC_OFFSET)) return tsc;
    if (proc2_ctls(v) & VX_PROC2_TSC_SCALING) {
        /* TSC multiplier: a 64-bit fixed-point value with 48 fractional
         * bits (25.6.5). */
        unsigned __int128 p = (unsigned __int128)tsc * get(v, VX_ENC_tsc_multiplier);
        tsc = (uint64_t)(p >> 48);
    }
    return tsc + get(v, VX_ENC_tsc_offset);
}

/* ---- exceptions (26.2, 25.6.3) ---- */

static int exception_exits(vx_vmcs *v, int vector, uint32_t err)
{
    uint32_t bitmap = (uint32_t)get(v, VX_ENC_exception_bitmap);
    int bit = vector < 32 ? (bitmap >> vector) & 1 : 0;
    if (vector != VX_PF) return bit;
    /* #PF: the bit decides when (error code & mask) == match, the
     * opposite otherwise. */
    uint32_t mask = (uint32_t)get(v, VX_ENC_page_fault_error_code_mask);
    uint32_t match = (uint32_t)get(v, VX_ENC_page_fault_error_code_match);
    return ((err & mask) == match) ? bit : !bit;
}

/* The exit qualification of a debug exception the engine raised (Table
 * 28-1): B3:B0 (breakpoint conditions met), BD (13, debug-register
 * access detected), BS (14, single step).  The engine has already
 * written DR6 (QEMU recomputes B3:B0 and ORs in BD or BS); a #DB that
 * exits does not change DR6 (28.1), so the model puts back the value it
 * had when the engine started.  If the guest wrote a debug register
 * since, the old value is unknown: BS then comes from RFLAGS.TF (a
 * single-step trap) and DR6 stays. */
static uint64_t db_qualification(vmxsim *m)
{
    uint64_t dr6 = vx_reg(m, UC_X86_REG_DR6);
    uint64_t q = dr6 & 0xF;
    if (!m->dr6_stale) {
        q |= dr6 & ~m->dr6_start & (DR6_BD | DR6_BS);
        vx_set_reg(m, UC_X86_REG_DR6, m->dr6_start);
    } else {
        q |= dr6 & DR6_BD;
        if (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_TF) q |= DR6_BS;
    }
    return q;
}

uint32_t vx_nonroot_vectoring_info(int vector, int kind, int has_err)
{
    unsigned type = kind == VX_PEND_SWINT ? VX_INTR_TYPE_SW_INT
                  : kind == VX_PEND_SWEXC ? VX_INTR_TYPE_SW_XCPT
                  : kind == VX_PEND_PRIVSW ? VX_INTR_TYPE_PRIV_SW_XCPT
                  : kind == VX_PEND_NMI ? VX_INTR_TYPE_NMI
                  : kind == VX_PEND_EXTINT ? VX_INTR_TYPE_EXT_INT : VX_INTR_TYPE_HW_XCPT;
    return ((uint32_t)vector & 0xFF) | (type << 8) | VX_INTR_INFO_VALID |
           (has_err ? VX_INTR_INFO_DELIVER_EC : 0);
}

int vx_nonroot_exception(vmxsim *m, int vector, int has_err, uint32_t err, int kind,
                         uint64_t rip, uint64_t cr2, const uint32_t *idt_info,
                         uint32_t idt_err, unsigned idt_len)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v || !exception_exits(v, vector, err)) return 0;
    /* INT3 and INTO are software exceptions, INT1 a privileged one; the
     * others hardware exceptions (Table 25-19).  INT n is never subject
     * to the bitmap (the caller does not ask). */
    unsigned type = kind == VX_PEND_SWEXC ? VX_INTR_TYPE_SW_XCPT
                  : kind == VX_PEND_PRIVSW ? VX_INTR_TYPE_PRIV_SW_XCPT
                  : VX_INTR_TYPE_HW_XCPT;
    vx_exit x = {0};
    x.reason = VX_EXIT_EXCEPTION_NMI;
    x.intr_info = (uint32_t)vector | (type << 8) | VX_INTR_INFO_VALID |
                  (has_err ? VX_INTR_INFO_DELIVER_EC : 0);
    x.intr_err = has_err ? err : 0;
    if (vector == VX_PF) x.qual = cr2; /* CR2 itself is not written (28.1) */
    if (vector == VX_DB && m->pend_engine && kind == VX_PEND_HW) x.qual = db_qualification(m);
    /* The instruction that caused it retired nothing: m->icount is its
     * count.  An exit during event delivery has no blocking by STI or
     * MOV SS (28.1). */
    x.interruptibility = m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0;
    if (idt_info) {
        x.idt_info = *idt_info;
        x.idt_err = idt_err;
    } else {
        uint64_t la = vx_code_mode(m) == 64 ? rip : rip + vx_cs_base(m);
        if (kind != VX_PEND_HW) la -= m->pend_insn_len;
        x.interruptibility = intr_state(m, m->icount, la);
        /* A fault of an IRET that ended (virtual-)NMI blocking: the
         * blocking is gone before the exit, and bit 12 of the VM-exit
         * interruption information says so (28.1, 28.2.2; undefined for
         * #DF). */
        if (m->iret_icount == m->icount + 1 && vector != VX_DF)
            x.intr_info |= VX_INTR_INFO_NMI_UNBLOCKING;
    }
    /* For INT3, INTO and INT1 the saved RIP is the instruction's own
     * and its length is recorded (28.2.4), so that the VMM can inject
     * the event with that length; rip is where delivery would return. */
    x.guest_rip = rip;
    if (kind != VX_PEND_HW) {
        x.insn_len = m->pend_insn_len;
        x.guest_rip = rip - m->pend_insn_len;
    }
    /* So too for an exit during the delivery of a software interrupt or
     * exception (INT n, INT3, INTO, INT1, or one VM entry injected with
     * its VM-entry instruction length): the saved RIP is the
     * instruction's and the VM-exit instruction length its length
     * (28.2.4, 28.3.3), so that the VMM can deliver it again. */
    if (idt_info && idt_len) {
        x.insn_len = idt_len;
        x.guest_rip = rip - idt_len;
    }
    /* RF as delivery would have pushed it (28.3.3): 1 for a fault-class
     * hardware exception (or, during delivery, for the event being
     * delivered). */
    int ev_vec = idt_info ? (int)(*idt_info & 0xFF) : vector;
    unsigned ev_type = idt_info ? (*idt_info >> 8) & 7 : type;
    if (ev_type == VX_INTR_TYPE_HW_XCPT && vx_fault_sets_rf(ev_vec) &&
        !(idt_info && m->delivering_injected))
        x.rf = VX_RF_SET;
    return vx_vmexit(m, &x) < 0 ? -1 : 1;
}

/* EPT-induced VM exits (29.3.3): the guest-physical address, the
 * guest-linear address where bit 7 of the qualification says it is
 * valid, the faulting instruction's RIP (it did not complete).  The
 * VM-exit instruction length, which the SDM leaves undefined here, is the
 * length of the instruction when it can be decoded (recent Intel cores
 * write it, and VMMs that emulate MMIO read it; docs/vmx-choices.md). */
int vx_nonroot_ept_exit(vmxsim *m, const vx_xlate *xl, uint64_t la, uint64_t rip,
                        const uint32_t *idt_info, uint32_t idt_err, unsigned idt_len)
{
    vx_exit x = {0};
    int violation = xl->status == VX_XL_EPT_VIOLATION;
    x.reason = violation ? VX_EXIT_EPT_VIOLATION : VX_EXIT_EPT_MISCONFIG;
    x.qual = violation ? xl->qual : 0;
    x.guest_phys = xl->gpa;
    if (violation && (xl->qual & VX_EPTQ_GLA_VALID))
        x.guest_linear = vx_code_mode(m) == 64 ? la : la & 0xFFFFFFFFull;
    x.guest_rip = rip;
    if (idt_info) {
        x.idt_info = *idt_info;
        x.idt_err = idt_err;
        /* During event delivery: no blocking by STI or MOV SS (28.1); a
         * software interrupt or exception is saved as its instruction
         * (28.2.4, as in vx_nonroot_exception). */
        x.interruptibility = m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0;
        if (idt_len) {
            x.insn_len = idt_len;
            x.guest_rip = rip - idt_len;
        }
        /* RF as the event's delivery would have pushed it (28.3.3): 1
         * for a fault-class hardware exception. */
        if (!idt_len && !m->delivering_injected && vx_fault_sets_rf((int)(*idt_info & 0xFF)) &&
            ((*idt_info >> 8) & 7) == VX_INTR_TYPE_HW_XCPT)
            x.rf = VX_RF_SET;
    } else {
        /* "For VM exits caused by EPT violations and EPT
         * misconfigurations ... the value saved for RF is 1" (28.3.3). */
        x.rf = VX_RF_SET;
        uint8_t code[15];
        vx_insn in;
        int mode = vx_code_mode(m);
        uint64_t lip = mode == 64 ? rip : (rip + vx_cs_base(m)) & 0xFFFFFFFFull;
        size_t n = vx_mmu_peek(m, lip, code, sizeof code);
        if (n && vx_decode(m->dec, mode, code, n, lip, &in) == 0) x.insn_len = in.len;
        /* The instruction did not retire: the interruptibility before
         * it (28.3.4); an IRET that ended (virtual-)NMI blocking sets bit
         * 12 of the qualification, "NMI unblocking due to IRET" (Table
         * 28-7). */
        x.interruptibility = intr_state(m, m->icount, lip);
        if (violation && m->iret_icount == m->icount + 1) x.qual |= 1u << 12;
    }
    return vx_vmexit(m, &x) < 0 ? -1 : 1;
}

/* A triple fault in the guest is a VM exit (26.2). */
int vx_nonroot_triple_fault(vmxsim *m, uint64_t rip)
{
    vx_exit x = {0};
    x.reason = VX_EXIT_TRIPLE_FAULT;
    x.guest_rip = rip;
    x.activity = VX_ACTIVITY_SHUTDOWN;
    x.interruptibility = m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0; /* during delivery (28.1) */
    return vx_vmexit(m, &x) < 0 ? -1 : 1;
}

/* ---- stepping: the monitor trap flag and event windows ---- */

static vx_action trap_exit(vmxsim *m, uint32_t reason)
{
    vx_exit x = {0};
    x.reason = reason;
    x.guest_rip = vx_reg(m, UC_X86_REG_RIP);
    x.interruptibility = intr_state(m, m->icount, rip_linear(m));
    return vx_vmexit(m, &x) < 0 ? VX_STOP : VX_JUMP;
}

int vx_nonroot_after_step(vmxsim *m, int kind, int mov_ss, int if_before)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v || !m->vmx_nonroot) return 0;
    uint32_t proc = proc_ctls(v);
    uint64_t rflags = vx_reg(m, UC_X86_REG_EFLAGS);
    /* Blocking after the instruction (26.3.1.5 of the guest's view, SDM
     * Vol. 3A 6.8.3): STI that set IF blocks for one instruction, MOV SS
     * and POP SS block too (IRET ends (virtual-)NMI blocking at its site,
     * vx_nonroot_insn). */
    uint32_t blocking = 0;
    if (kind == VX_WIN_STI && !if_before && (rflags & RFLAGS_IF)) blocking |= VX_INTR_BLOCK_STI;
    if (mov_ss) blocking = VX_INTR_BLOCK_MOV_SS;
    m->shadow_icount = m->icount;
    m->shadow_bits = blocking;
    /* Priority after an instruction (26.7.x): MTF, then the NMI window,
     * then the interrupt window. */
    if (m->mtf_armed) {
        trap_exit(m, VX_EXIT_MONITOR_TRAP_FLAG);
        return 1;
    }
    if ((proc & VX_PROC_NMI_WINDOW) && !m->nmi_blocked && !(blocking & VX_INTR_BLOCK_MOV_SS)) {
        trap_exit(m, VX_EXIT_NMI_WINDOW);
        return 1;
    }
    if ((proc & VX_PROC_INTR_WINDOW) && (rflags & RFLAGS_IF) && !blocking) {
        trap_exit(m, VX_EXIT_INTERRUPT_WINDOW);
        return 1;
    }
    return 0;
}

/* ---- the VMX-preemption timer (25.5.1) ----
 *
 * It counts down by 1 each time bit X of the TSC changes, X =
 * IA32_VMX_MISC[4:0], from the value VM entry loads; at 0 a VM exit
 * (52) occurs before the next instruction.  The TSC is the model's
 * (vx_tsc): vmentry.c turns the value into the TSC, and the instruction
 * count, at which it expires. */

void vx_nonroot_timer_expired(vmxsim *m)
{
    vx_exit x = {0};
    x.reason = VX_EXIT_PREEMPTION_TIMER;
    x.guest_rip = vx_reg(m, UC_X86_REG_RIP);
    x.interruptibility = intr_state(m, m->icount, rip_linear(m));
    vx_vmexit(m, &x);
}

/* ---- inactive activity states (25.4.2, 28.1) ----
 *
 * The model raises no interrupts, NMIs, INIT or SIPI, so what can end
 * the HLT, shutdown or wait-for-SIPI state is a VM exit the guest's own
 * state causes: the monitor trap flag after HLT (26.7.2: not blocked in
 * the HLT state), the VMX-preemption timer (26.7.1: in every state but
 * wait-for-SIPI), the NMI window (27.7.6: wakes HLT and shutdown) and
 * the interrupt window (27.7.5: wakes HLT only), in that priority
 * (timer before the NMI window, 26.2).  Nothing but the timer can end
 * the wait, so the cycles until its deadline are spent in the state
 * (cycles.c) and it expires then. */

int vx_nonroot_wake(vmxsim *m, int after_hlt, uint64_t now, vx_exit *x)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v) return 0;
    uint32_t proc = proc_ctls(v);
    unsigned act = m->guest_activity;
    memset(x, 0, sizeof *x);
    x->guest_rip = vx_reg(m, UC_X86_REG_RIP);
    x->activity = act;
    x->interruptibility = m->nmi_blocked ? VX_INTR_BLOCK_NMI : 0;
    int timer = m->timer_armed && act != VX_ACTIVITY_WAIT_SIPI;
    if (after_hlt && m->mtf_armed)
        x->reason = VX_EXIT_MONITOR_TRAP_FLAG;
    else if (timer && now >= m->timer_deadline)
        x->reason = VX_EXIT_PREEMPTION_TIMER;
    else if ((proc & VX_PROC_NMI_WINDOW) && act != VX_ACTIVITY_WAIT_SIPI && !m->nmi_blocked)
        x->reason = VX_EXIT_NMI_WINDOW;
    else if ((proc & VX_PROC_INTR_WINDOW) && act == VX_ACTIVITY_HLT &&
             (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF))
        x->reason = VX_EXIT_INTERRUPT_WINDOW;
    else if (timer) {
        /* Time passes in the inactive state until the timer expires:
         * the cycles to its deadline are spent there. */
        if (m->timer_deadline > now) vx_cyc_add(m, m->timer_deadline - now);
        x->reason = VX_EXIT_PREEMPTION_TIMER;
    } else {
        return 0;
    }
    return 1;
}

vx_action vx_nonroot_hlt(vmxsim *m, const vx_insn *in)
{
    /* HLT retires and the guest is in the HLT state until a VM exit
     * wakes it (the exit saves HLT and the next RIP, 28.3.3, 28.3.4). */
    m->guest_activity = VX_ACTIVITY_HLT;
    vx_exit x;
    vx_cyc_add(m, vx_cyc_op(m, VX_OP_HLT)); /* it retires (the exit costs come after) */
    if (!vx_nonroot_wake(m, 1, vx_cyc_now(m), &x)) {
        vx_end_run(m, VMXSIM_END_HLT, VMXSIM_STATUS_OK,
                   "the guest executed HLT (RFLAGS.IF=%d) and nothing the model produces can wake it",
                   (vx_reg(m, UC_X86_REG_EFLAGS) & RFLAGS_IF) ? 1 : 0);
        return VX_STOP;
    }
    x.guest_rip = m->insn_eip + in->len;
    m->pend_exit = x;
    m->pend_exit_valid = 1;
    return VX_TRANSITION;
}

uint32_t vx_nonroot_timer_value(vmxsim *m)
{
    uint64_t now = vx_tsc(m) >> m->timer_shift, end = m->timer_deadline_tsc >> m->timer_shift;
    return end > now ? (uint32_t)(end - now) : 0;
}

/* ---- VMFUNC (31.3 VMFUNC, 26.5.6) ---- */

vx_action vx_nonroot_vmfunc(vmxsim *m, const vx_insn *in)
{
    vx_vmcs *v = vx_current_vmcs(m);
    if (!v || !(proc2_ctls(v) & VX_PROC2_VMFUNC)) return vx_raise_ud(m);
    uint64_t fn = vx_gpr(m, 0) & 0xFFFFFFFF;
    vx_exit x = {0};
    x.reason = VX_EXIT_VMFUNC;
    /* A function the VM-function controls do not enable exits (59). */
    if (fn >= 64 || !((get(v, VX_ENC_vm_function_control) >> fn) & 1)) return exit_for(m, in, &x);
    /* Function 0, EPTP switching (26.5.6.3): ECX indexes the EPTP list; an
     * index >= 512 or an invalid EPTP exits. */
    uint64_t idx = vx_gpr(m, 1) & 0xFFFFFFFF;
    if (idx >= 512) return exit_for(m, in, &x);
    uint64_t eptp = vx_phys_read64(m, get(v, VX_ENC_eptp_list_address) + 8 * idx);
    if (vx_eptp_check(&m->prof, eptp) >= 0) return exit_for(m, in, &x);
    /* The new EPTP takes effect for the next access; translations cached
     * under the old one stay tagged with it (29.4.1). */
    vx_xl_set_eptp(m, eptp);
    vx_vmcs_put(v, VX_ENC_ept_pointer, eptp);
    return VX_NEXT;
}
