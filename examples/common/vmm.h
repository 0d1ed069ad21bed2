/*
 * vmm.h - what every example VMM (and the benchmarks' VMM) does the same
 * way, in freestanding C: console output and the end of the run through
 * vmxsim's ports, the VMX instructions, the VMCS fields they use, the
 * host's GDT and TSS, entering VMX operation, and the host state and a
 * flat 64-bit guest state.  Each program is one C file that includes
 * this header once, so its data are the program's own (static).
 *
 * Field encodings: SDM Vol. 3D Appendix B; the capability MSRs:
 * Appendix A; VMX instructions and their failure flags: Vol. 3C 31.2.
 */
#ifndef EXAMPLES_COMMON_VMM_H
#define EXAMPLES_COMMON_VMM_H

#include <stdint.h>

/* ---- port I/O, output, the end of the run ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

/* Port 0xE9 is vmxsim's console (docs/platform.md). */
static inline void print(const char *s)
{
    while (*s) outb(0xE9, (uint8_t)*s++);
}

static inline void print_dec(uint64_t v)
{
    char b[21];
    int n = 20;
    b[n] = 0;
    do b[--n] = (char)('0' + v % 10); while (v /= 10);
    print(b + n);
}

static inline void print_hex(uint64_t v)
{
    char b[19];
    int n = 18;
    b[n] = 0;
    do b[--n] = "0123456789abcdef"[v & 15]; while (v >>= 4);
    b[--n] = 'x';
    b[--n] = '0';
    print(b + n);
}

/* End the run: V written to port 0xF4 gives exit status (V << 1) | 1. */
static inline void __attribute__((noreturn)) finish(uint32_t v)
{
    outl(0xF4, v);
    for (;;) __asm__ volatile("hlt");
}

/* ---- VMCS fields ---- */

enum {
    VPID = 0x0000, PIN_CONTROLS = 0x4000, PROC_CONTROLS = 0x4002, PROC2_CONTROLS = 0x401E,
    EXIT_CONTROLS = 0x400C, ENTRY_CONTROLS = 0x4012, IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002,
    MSR_BITMAP = 0x2004, EPT_POINTER = 0x201A, CR4_MASK = 0x6002, CR4_SHADOW = 0x6006,
    LINK_POINTER = 0x2800, GUEST_PHYSICAL = 0x2400, VM_INSTRUCTION_ERROR = 0x4400,
    EXIT_REASON = 0x4402, EXIT_LENGTH = 0x440C, EXIT_QUALIFICATION = 0x6400,
    GUEST_LINEAR = 0x640A,
    HOST_ES = 0x0C00, HOST_TR = 0x0C0C, HOST_CR0 = 0x6C00, HOST_CR3 = 0x6C02,
    HOST_CR4 = 0x6C04, HOST_TR_BASE = 0x6C0A, HOST_GDTR_BASE = 0x6C0C,
    HOST_IDTR_BASE = 0x6C0E, HOST_RSP = 0x6C14, HOST_RIP = 0x6C16,
    GUEST_ES = 0x0800, GUEST_ES_LIMIT = 0x4800, GUEST_ES_AR = 0x4814, GUEST_ES_BASE = 0x6806,
    GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804, GUEST_DR7 = 0x681A,
    GUEST_RSP = 0x681C, GUEST_RIP = 0x681E, GUEST_RFLAGS = 0x6820,
    GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_GDTR_LIMIT = 0x4810,
    GUEST_IDTR_LIMIT = 0x4812,
};
/* Segment fields come in the order ES, CS, SS, DS, FS, GS, LDTR, TR,
 * two encodings apart (Appendix B.1.2, B.3.3, B.4.3). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* The host's selectors: the GDT below. */
enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS = 0x20 };

/* Controls every VMM here sets: a 64-bit host (exit control 9, 25.7.1)
 * and an IA-32e mode guest (entry control 9, 25.8.1). */
enum { EXIT_HOST_64 = 1u << 9, ENTRY_GUEST_64 = 1u << 9 };

/* The guest's general registers as the exit stub saves them (entry.S):
 * RAX, RCX, RDX, RBX, an RSP slot (the guest's is in the VMCS), RBP,
 * RSI, RDI, R8-R15. */
struct guest_regs {
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* ---- the instructions ---- */

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t vmread(uint64_t field)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
    return v;
}

/* Nonzero when the VMWRITE failed: CF or ZF set (VMfailInvalid,
 * VMfailValid, 31.2). */
static inline unsigned vmwrite(uint64_t field, uint64_t v)
{
    uint8_t bad;
    __asm__ volatile("vmwrite %2, %1; setbe %0" : "=q"(bad) : "r"(field), "rm"(v) : "cc");
    return bad;
}

/* An instruction with a 64-bit memory operand (VMXON, VMCLEAR, VMPTRLD):
 * nonzero when it failed (CF or ZF). */
#define VMX_OP(insn, operand) ({ uint8_t bad_; \
    __asm__ volatile(insn " %1; setbe %0" : "=q"(bad_) : "m"(operand) : "cc", "memory"); bad_; })

/* A VM-execution, exit or entry control: the bits the capability MSR
 * says must be 1, plus `want`, minus what it says must be 0 (Appendix
 * A.3-A.5; the TRUE_ MSRs when IA32_VMX_BASIC bit 55 says they exist,
 * which lets CR3-load and CR3-store exiting be 0). */
static inline uint32_t control(uint32_t msr, uint32_t true_msr, uint32_t want)
{
    uint64_t cap = rdmsr(rdmsr(0x480) >> 55 & 1 ? true_msr : msr);
    return ((uint32_t)cap | want) & (uint32_t)(cap >> 32);
}

/* ---- the host ---- */

static uint8_t vmm_vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmm_vmcs[4096] __attribute__((aligned(4096)));
static uint8_t vmm_host_stack[16384] __attribute__((aligned(16)));
static uint8_t vmm_tss[104] __attribute__((aligned(16)));
static uint64_t vmm_gdt[6] __attribute__((aligned(8)));

static inline uint64_t vmm_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t vmm_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t vmm_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

/* A GDT with a TSS: VM exits load TR from the host-state area, and its
 * selector must not be null (27.2.3). */
static inline void vmm_setup_gdt(void)
{
    uint64_t t = (uint64_t)(uintptr_t)vmm_tss;
    vmm_gdt[1] = 0x00AF9B000000FFFFull;   /* 0x08 64-bit code, DPL 0 */
    vmm_gdt[2] = 0x00CF93000000FFFFull;   /* 0x10 flat data */
    vmm_gdt[4] = 0x0000890000000067ull | (t & 0xFFFFFF) << 16 | (t >> 24 & 0xFF) << 56;
    vmm_gdt[5] = t >> 32;                 /* 0x20 the 64-bit TSS, two slots */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {
        sizeof vmm_gdt - 1, (uint64_t)(uintptr_t)vmm_gdt};
    __asm__ volatile("lgdt %0; ltr %w1" : : "m"(d), "r"(SEL_TSS));
}

/* Enter VMX operation with a current VMCS: the GDT above, CR0 and CR4
 * with the bits VMX operation fixes to 1 (IA32_VMX_CR0_FIXED0 0x486,
 * IA32_VMX_CR4_FIXED0 0x488, 24.8) and CR4.VMXE, VMXON, VMCLEAR and
 * VMPTRLD of a region carrying the VMCS revision identifier (24.2).
 * Returns 0, or nonzero with the failure printed. */
static inline int vmm_enter_vmx(void)
{
    vmm_setup_gdt();
    uint64_t cr0 = vmm_cr0() | rdmsr(0x486), cr4 = vmm_cr4() | rdmsr(0x488) | 1u << 13;
    __asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" : : "r"(cr0), "r"(cr4));
    uint32_t revision = (uint32_t)rdmsr(0x480) & 0x7FFFFFFF;
    *(uint32_t *)vmm_vmxon_region = revision;
    *(uint32_t *)vmm_vmcs = revision;
    uint64_t on = (uint64_t)(uintptr_t)vmm_vmxon_region, cur = (uint64_t)(uintptr_t)vmm_vmcs;
    if (VMX_OP("vmxon", on) || VMX_OP("vmclear", cur) || VMX_OP("vmptrld", cur)) {
        print("vmm: VMXON/VMCLEAR/VMPTRLD failed\n");
        return -1;
    }
    return 0;
}

/* Leave VMX operation: VMCLEAR the VMCS (its data to memory, 24.11.3),
 * VMXOFF. */
static inline void vmm_leave_vmx(void)
{
    VMX_OP("vmclear", *(uint64_t[]){(uint64_t)(uintptr_t)vmm_vmcs});
    __asm__ volatile("vmxoff" ::: "cc");
}

/* Host state (25.5): this program as it runs now; a VM exit goes to rip
 * on the host stack.  Nonzero if a VMWRITE failed. */
static inline unsigned vmm_host_state(void (*rip)(void))
{
    unsigned bad = vmwrite(HOST_CR0, vmm_cr0()) | vmwrite(HOST_CR3, vmm_cr3()) |
                   vmwrite(HOST_CR4, vmm_cr4());
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        bad |= vmwrite(HOST_ES + 2u * s, s == SEG_CS ? SEL_CODE : SEL_DATA);
    bad |= vmwrite(HOST_TR, SEL_TSS) | vmwrite(HOST_TR_BASE, (uint64_t)(uintptr_t)vmm_tss);
    bad |= vmwrite(HOST_GDTR_BASE, (uint64_t)(uintptr_t)vmm_gdt) | vmwrite(HOST_IDTR_BASE, 0);
    bad |= vmwrite(HOST_RSP, (uint64_t)(uintptr_t)(vmm_host_stack + sizeof vmm_host_stack));
    bad |= vmwrite(HOST_RIP, (uint64_t)(uintptr_t)rip);
    return bad;
}

/* Guest state (25.4): 64-bit mode at CPL 0 with the host's CR0 and CR4,
 * paging through cr3, flat segments with the host's selectors, a busy
 * TSS at tr_base, GDTR as given, no IDT, RFLAGS = 2, DR7 at its reset
 * value.  Segment registers are loaded from the VMCS (27.3.2), so the
 * selectors need no descriptor table in guest memory.  Nonzero if a
 * VMWRITE failed. */
static inline unsigned vmm_flat_guest(uint64_t cr3, uint64_t rip, uint64_t rsp, uint64_t tr_base,
                                      uint64_t gdtr_base, uint32_t gdtr_limit)
{
    unsigned bad = vmwrite(GUEST_CR0, vmm_cr0()) | vmwrite(GUEST_CR3, cr3) |
                   vmwrite(GUEST_CR4, vmm_cr4());
    bad |= vmwrite(GUEST_DR7, 0x400) | vmwrite(GUEST_RFLAGS, 2);
    bad |= vmwrite(GUEST_RSP, rsp) | vmwrite(GUEST_RIP, rip);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
        bad |= vmwrite(GUEST_ES + 2u * s, s == SEG_CS ? SEL_CODE : SEL_DATA);
        bad |= vmwrite(GUEST_ES_LIMIT + 2u * s, 0xFFFFFFFF);
        bad |= vmwrite(GUEST_ES_AR + 2u * s, s == SEG_CS ? 0xA09B : 0xC093); /* G, L/DB, P, S, type */
    }
    bad |= vmwrite(GUEST_ES_AR + 2u * SEG_LDTR, 0x10000);                    /* unusable */
    bad |= vmwrite(GUEST_ES + 2u * SEG_TR, SEL_TSS);
    bad |= vmwrite(GUEST_ES_BASE + 2u * SEG_TR, tr_base);
    bad |= vmwrite(GUEST_ES_LIMIT + 2u * SEG_TR, 0x67);
    bad |= vmwrite(GUEST_ES_AR + 2u * SEG_TR, 0x8B);                         /* busy 64-bit TSS */
    bad |= vmwrite(GUEST_GDTR_BASE, gdtr_base) | vmwrite(GUEST_GDTR_LIMIT, gdtr_limit);
    bad |= vmwrite(GUEST_IDTR_BASE, 0) | vmwrite(GUEST_IDTR_LIMIT, 0);
    return bad;
}

#endif
