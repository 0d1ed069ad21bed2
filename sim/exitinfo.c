/*
 * exitinfo.c - the exit qualification and VM-exit instruction information
 * decoded into named fields for the trace (Intel SDM Vol. 3C 28.2.1,
 * Tables 28-1 to 28-7, and 28.2.5, Tables 28-8 to 28-15), so that a
 * reader sees "port 0x80, out, byte, immediate" rather than 0x800040.
 */
#include "machine.h"

static const char *const gpr_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[8] = {"es", "cs", "ss", "ds", "fs", "gs", "?", "?"};
static const char *const asz_names[4] = {"16", "32", "64", "?"};

static void set_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, json_string(v)); }
static void set_int(json_t *o, const char *k, uint64_t v) { json_object_set_new(o, k, json_integer((json_int_t)v)); }

/* Table 28-3: control-register accesses. */
static json_t *cr_access(uint64_t q)
{
    static const char *const type[4] = {"mov_to_cr", "mov_from_cr", "clts", "lmsw"};
    json_t *o = json_object();
    set_int(o, "cr", q & 0xF);
    set_str(o, "access", type[(q >> 4) & 3]);
    if (((q >> 4) & 3) < 2) set_str(o, "gpr", gpr_names[(q >> 8) & 0xF]);
    if (((q >> 4) & 3) == 3) {
        set_str(o, "lmsw_operand", (q >> 6) & 1 ? "memory" : "register");
        json_object_set_new(o, "lmsw_source", vx_json_hex((q >> 16) & 0xFFFF));
    }
    return o;
}

/* Table 28-4: MOV DR. */
static json_t *dr_access(uint64_t q)
{
    json_t *o = json_object();
    set_int(o, "dr", q & 7);
    set_str(o, "direction", (q >> 4) & 1 ? "mov_from_dr" : "mov_to_dr");
    set_str(o, "gpr", gpr_names[(q >> 8) & 0xF]);
    return o;
}

/* Table 28-5: I/O instructions. */
static json_t *io(uint64_t q)
{
    json_t *o = json_object();
    set_int(o, "size", (q & 7) + 1);
    set_str(o, "direction", (q >> 3) & 1 ? "in" : "out");
    json_object_set_new(o, "string", json_boolean((q >> 4) & 1));
    json_object_set_new(o, "rep", json_boolean((q >> 5) & 1));
    set_str(o, "operand", (q >> 6) & 1 ? "immediate" : "dx");
    json_object_set_new(o, "port", vx_json_hex((q >> 16) & 0xFFFF));
    return o;
}

/* 27.8: VM-entry failures.  Invalid guest state: 0 in most cases, 1 not
 * used, 2 loading PDPTEs, 3 injecting an NMI into a guest blocking
 * events by STI (implementation-specific, 27.3.1.5), 4 the VMCS link
 * pointer. */
static json_t *entry_failure(unsigned basic, uint64_t q)
{
    json_t *o = json_object();
    if (basic == VX_EXIT_MSR_LOAD_FAIL) {
        set_int(o, "msr_entry", q);
    } else {
        static const char *const why[5] = {"invalid guest state", "?", "PDPTE loading",
                                           "NMI injection with blocking by STI",
                                           "invalid VMCS link pointer"};
        set_str(o, "meaning", q <= 4 ? why[q] : "?");
    }
    return o;
}

json_t *vx_exit_qualification_fields(unsigned reason, uint64_t q)
{
    unsigned basic = reason & 0xFFFF;
    if (reason & (1u << 31)) return entry_failure(basic, q);
    switch (basic) {
    case VX_EXIT_CR_ACCESS: return cr_access(q);
    case VX_EXIT_DR_ACCESS: return dr_access(q);
    case VX_EXIT_IO_INSTRUCTION: return io(q);
    case VX_EXIT_TASK_SWITCH: {
        /* Table 28-2: the TSS selector and what caused the switch. */
        static const char *const src[4] = {"call", "iret", "jmp", "task_gate_in_idt"};
        json_t *o = json_object();
        json_object_set_new(o, "tss_selector", vx_json_hex(q & 0xFFFF));
        set_str(o, "source", src[(q >> 30) & 3]);
        return o;
    }
    case VX_EXIT_INVLPG: {
        json_t *o = json_object();
        json_object_set_new(o, "linear_address", vx_json_hex(q));
        return o;
    }
    case VX_EXIT_EPT_VIOLATION:
        return vx_ept_qual_json(q); /* Table 28-7 (sim/xlate.c) */
    case VX_EXIT_VMCLEAR: case VX_EXIT_VMPTRLD: case VX_EXIT_VMPTRST: case VX_EXIT_VMREAD:
    case VX_EXIT_VMWRITE: case VX_EXIT_VMON: case VX_EXIT_INVEPT: case VX_EXIT_INVVPID:
    case VX_EXIT_INVPCID: case VX_EXIT_GDTR_IDTR: case VX_EXIT_LDTR_TR: {
        json_t *o = json_object();
        json_object_set_new(o, "displacement", vx_json_hex(q));
        return o;
    }
    default:
        return NULL;
    }
}

/* Tables 28-8 to 28-15: the instruction-information field. */
json_t *vx_exit_instruction_info_fields(unsigned reason, uint32_t info)
{
    unsigned basic = reason & 0xFFFF;
    json_t *o = json_object();
    if (basic == VX_EXIT_RDRAND || basic == VX_EXIT_RDSEED) {
        set_str(o, "register", gpr_names[(info >> 3) & 0xF]);
        set_int(o, "operand_size", 16u << ((info >> 11) & 3));
        return o;
    }
    if (basic == VX_EXIT_IO_INSTRUCTION) {
        set_str(o, "address_size", asz_names[(info >> 7) & 3]);
        set_str(o, "segment", seg_names[(info >> 15) & 7]);
        return o;
    }
    int reg_form = (info >> 10) & 1;
    if (reg_form) {
        set_str(o, "register", gpr_names[(info >> 3) & 0xF]);
    } else {
        set_int(o, "scaling", 1u << (info & 3));
        set_str(o, "address_size", asz_names[(info >> 7) & 3]);
        set_str(o, "segment", seg_names[(info >> 15) & 7]);
        if (!((info >> 22) & 1)) set_str(o, "index", gpr_names[(info >> 18) & 0xF]);
        if (!((info >> 27) & 1)) set_str(o, "base", gpr_names[(info >> 23) & 0xF]);
    }
    if (basic == VX_EXIT_GDTR_IDTR || basic == VX_EXIT_LDTR_TR) {
        static const char *const gdt[4] = {"sgdt", "sidt", "lgdt", "lidt"};
        static const char *const ldt[4] = {"sldt", "str", "lldt", "ltr"};
        set_str(o, "instruction", (basic == VX_EXIT_GDTR_IDTR ? gdt : ldt)[(info >> 28) & 3]);
    } else if (basic == VX_EXIT_VMREAD || basic == VX_EXIT_VMWRITE || basic == VX_EXIT_INVEPT ||
               basic == VX_EXIT_INVVPID || basic == VX_EXIT_INVPCID) {
        set_str(o, "register2", gpr_names[(info >> 28) & 0xF]);
    }
    return o;
}
