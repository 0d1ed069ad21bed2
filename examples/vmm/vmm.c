/*
 * vmm.c - an example VMM in freestanding C: it runs one 64-bit guest
 * (guest.S) and emulates what the guest is not allowed to do itself.
 *
 *   - VMXON, a VMCS with the controls this VMM needs, VMLAUNCH;
 *   - on each VM exit (entry.S saves the guest's registers), handle the
 *     exit by its reason (SDM Vol. 3C Appendix C) and qualification
 *     (28.2.1), advance the guest's RIP past the instruction, VMRESUME:
 *       CPUID (10)     answer leaf 0x40000000 with this VMM's signature,
 *                      pass the others through
 *       RDMSR (31), WRMSR (32)   a virtual MSR 0x40000000
 *       I/O (30)       port 0xE9 (the guest's console, forwarded with a
 *                      prefix) and a virtual device at port 0x510
 *       MOV CR (28)    CR4.PGE belongs to the VMM: the guest sees the
 *                      value it wrote, through the CR4 read shadow
 *       HLT (12)       the guest is done: print what happened, VMXOFF
 *
 * Build: meson (examples/vmm/meson.build); run: vmxsim run
 * build/examples/vmm/vmm.elf (exit status 1 = all checks passed).
 */
#include <stdint.h>

/* ---- port I/O, output ---- */

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static void print(const char *s)
{
    while (*s) outb(0xE9, (uint8_t)*s++);
}

static void print_dec(uint64_t v)
{
    char b[21];
    int n = 20;
    b[n] = 0;
    do b[--n] = (char)('0' + v % 10); while (v /= 10);
    print(b + n);
}

/* End the run: V written to port 0xF4 gives exit status (V << 1) | 1. */
static void __attribute__((noreturn)) finish(uint32_t v)
{
    outl(0xF4, v);
    for (;;) __asm__ volatile("hlt");
}

/* ---- VMX ---- */

/* VMCS field encodings (SDM Vol. 3D Appendix B). */
enum {
    PIN_CONTROLS = 0x4000, PROC_CONTROLS = 0x4002, EXIT_CONTROLS = 0x400C,
    ENTRY_CONTROLS = 0x4012, IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002,
    MSR_BITMAP = 0x2004, CR4_MASK = 0x6002, CR4_SHADOW = 0x6006,
    LINK_POINTER = 0x2800, VM_INSTRUCTION_ERROR = 0x4400, EXIT_REASON = 0x4402,
    EXIT_LENGTH = 0x440C, EXIT_QUALIFICATION = 0x6400,
    HOST_CR0 = 0x6C00, HOST_CR3 = 0x6C02, HOST_CR4 = 0x6C04, HOST_ES = 0x0C00,
    HOST_CS = 0x0C02, HOST_SS = 0x0C04, HOST_DS = 0x0C06, HOST_FS = 0x0C08,
    HOST_GS = 0x0C0A, HOST_TR = 0x0C0C, HOST_TR_BASE = 0x6C0A, HOST_GDTR_BASE = 0x6C0C,
    HOST_IDTR_BASE = 0x6C0E, HOST_RSP = 0x6C14, HOST_RIP = 0x6C16,
    GUEST_ES = 0x0800, GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
    GUEST_DR7 = 0x681A, GUEST_RSP = 0x681C, GUEST_RIP = 0x681E, GUEST_RFLAGS = 0x6820,
    GUEST_ES_LIMIT = 0x4800, GUEST_ES_AR = 0x4814, GUEST_TR_BASE = 0x6814,
    GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_GDTR_LIMIT = 0x4810,
    GUEST_IDTR_LIMIT = 0x4812,
};
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t vmread(uint64_t field)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
    return v;
}

static int vmwrite(uint64_t field, uint64_t v)
{
    uint8_t bad;
    __asm__ volatile("vmwrite %2, %1; setbe %0" : "=q"(bad) : "r"(field), "r"(v) : "cc");
    return bad ? -1 : 0;
}

/* CF or ZF set: VMfailInvalid or VMfailValid (SDM Vol. 3C 31.2). */
#define VMX_OP(insn, operand) ({ uint8_t bad; \
    __asm__ volatile(insn " %1; setbe %0" : "=q"(bad) : "m"(operand) : "cc", "memory"); bad; })

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_a[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_b[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t host_stack[16384] __attribute__((aligned(16)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint8_t gdt_tss[104] __attribute__((aligned(16)));   /* the host's TSS */
static uint64_t gdt[8] __attribute__((aligned(8)));

extern void guest_entry(void);
extern void exit_stub(void);

/* A GDT with a TSS: VM exits load TR from the host state, and its
 * selector must not be 0 (27.2.3). */
static void setup_gdt(void)
{
    uint64_t tss = (uint64_t)(uintptr_t)gdt_tss;
    gdt[1] = 0x00AF9B000000FFFFull;  /* 0x08 64-bit code */
    gdt[2] = 0x00CF93000000FFFFull;  /* 0x10 data */
    gdt[4] = 0x0000890000000067ull | (tss & 0xFFFFFF) << 16 | (tss >> 24 & 0xFF) << 56;
    gdt[5] = tss >> 32;              /* 0x20 64-bit TSS (two slots) */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } d = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0; movw $0x20, %%ax; ltr %%ax" : : "m"(d) : "rax");
}

/* A control field: the bits the capability MSR requires, plus `want`
 * (which must be allowed; vmxsim's VM-entry checks would say otherwise). */
static uint32_t control(uint32_t msr, uint32_t true_msr, uint32_t want)
{
    uint64_t cap = rdmsr((rdmsr(0x480) >> 55) & 1 ? true_msr : msr);
    return ((uint32_t)cap | want) & (uint32_t)(cap >> 32);
}

static void set_bit(uint8_t *bitmap, unsigned n) { bitmap[n / 8] |= (uint8_t)(1u << (n % 8)); }

static int setup_vmcs(void)
{
    uint64_t cr0, cr3, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    int bad = 0;
    /* Controls: HLT exiting (bit 7), I/O bitmaps (25), MSR bitmaps (28);
     * a 64-bit host (exit bit 9) and guest (entry bit 9). */
    bad |= vmwrite(PIN_CONTROLS, control(0x481, 0x48D, 0));
    bad |= vmwrite(PROC_CONTROLS, control(0x482, 0x48E, 1u << 7 | 1u << 25 | 1u << 28));
    bad |= vmwrite(EXIT_CONTROLS, control(0x483, 0x48F, 1u << 9));
    bad |= vmwrite(ENTRY_CONTROLS, control(0x484, 0x490, 1u << 9));
    set_bit(io_bitmap_a, 0xE9);
    for (unsigned p = 0x510; p < 0x514; p++) set_bit(io_bitmap_a, p);
    bad |= vmwrite(IO_BITMAP_A, (uint64_t)(uintptr_t)io_bitmap_a);
    bad |= vmwrite(IO_BITMAP_B, (uint64_t)(uintptr_t)io_bitmap_b);
    /* MSR 0x40000000 lies outside both bitmap ranges: it always exits. */
    bad |= vmwrite(MSR_BITMAP, (uint64_t)(uintptr_t)msr_bitmap);
    bad |= vmwrite(CR4_MASK, 1u << 7);          /* the VMM owns CR4.PGE */
    bad |= vmwrite(CR4_SHADOW, cr4 & (1u << 7));
    bad |= vmwrite(LINK_POINTER, ~0ull);
    /* Host state: this program as it runs now. */
    bad |= vmwrite(HOST_CR0, cr0) | vmwrite(HOST_CR3, cr3) | vmwrite(HOST_CR4, cr4);
    bad |= vmwrite(HOST_CS, 0x08) | vmwrite(HOST_SS, 0x10) | vmwrite(HOST_DS, 0x10);
    bad |= vmwrite(HOST_ES, 0x10) | vmwrite(HOST_FS, 0x10) | vmwrite(HOST_GS, 0x10);
    bad |= vmwrite(HOST_TR, 0x20) | vmwrite(HOST_TR_BASE, (uint64_t)(uintptr_t)gdt_tss);
    bad |= vmwrite(HOST_GDTR_BASE, (uint64_t)(uintptr_t)gdt) | vmwrite(HOST_IDTR_BASE, 0);
    bad |= vmwrite(HOST_RSP, (uint64_t)(uintptr_t)(host_stack + sizeof host_stack));
    bad |= vmwrite(HOST_RIP, (uint64_t)(uintptr_t)exit_stub);
    /* Guest state: a flat 64-bit guest on the same page tables. */
    bad |= vmwrite(GUEST_CR0, cr0) | vmwrite(GUEST_CR3, cr3) | vmwrite(GUEST_CR4, cr4);
    bad |= vmwrite(GUEST_DR7, 0x400) | vmwrite(GUEST_RFLAGS, 2);
    bad |= vmwrite(GUEST_RSP, (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack));
    bad |= vmwrite(GUEST_RIP, (uint64_t)(uintptr_t)guest_entry);
    for (int s = SEG_ES; s <= SEG_GS; s++) {
        bad |= vmwrite(GUEST_ES + 2u * s, s == SEG_CS ? 0x08 : 0x10);
        bad |= vmwrite(GUEST_ES_LIMIT + 2u * s, 0xFFFFFFFF);
        bad |= vmwrite(GUEST_ES_AR + 2u * s, s == SEG_CS ? 0xA09B : 0xC093);
    }
    bad |= vmwrite(GUEST_ES_AR + 2u * SEG_LDTR, 0x10000);                 /* unusable */
    bad |= vmwrite(GUEST_ES + 2u * SEG_TR, 0x20);
    bad |= vmwrite(GUEST_TR_BASE, (uint64_t)(uintptr_t)gdt_tss);
    bad |= vmwrite(GUEST_ES_LIMIT + 2u * SEG_TR, 0x67);
    bad |= vmwrite(GUEST_ES_AR + 2u * SEG_TR, 0x8B);                     /* busy TSS */
    bad |= vmwrite(GUEST_GDTR_BASE, (uint64_t)(uintptr_t)gdt) | vmwrite(GUEST_GDTR_LIMIT, sizeof gdt - 1);
    bad |= vmwrite(GUEST_IDTR_BASE, 0) | vmwrite(GUEST_IDTR_LIMIT, 0);
    return bad ? -1 : 0;
}

/* ---- exits ---- */

struct guest_regs {
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

static uint64_t exits_by_reason[64];
static uint64_t virtual_msr = 41, device_reg;
static uint64_t guest_cr4_writes;
static int at_line_start = 1;

static void guest_console(uint8_t c)
{
    if (at_line_start) print("  [guest] ");
    outb(0xE9, c);
    at_line_start = c == '\n';
}

static void emulate_cpuid(struct guest_regs *r)
{
    uint32_t leaf = (uint32_t)r->rax;
    if (leaf == 0x40000000) {
        /* The hypervisor leaf: "vmxsimVMMexa" */
        r->rax = 0x40000000;
        r->rbx = 0x73786d76;   /* "vmxs" */
        r->rcx = 0x564d6d69;   /* "imMV" */
        r->rdx = 0x6178654d;   /* "Mexa" */
        return;
    }
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"((uint32_t)r->rcx));
    r->rax = a, r->rbx = b, r->rcx = c, r->rdx = d;
}

/* I/O exit qualification (SDM Vol. 3C Table 28-5). */
static void emulate_io(struct guest_regs *r, uint64_t q)
{
    unsigned size = (unsigned)(q & 7) + 1, in = (q >> 3) & 1, port = (unsigned)(q >> 16);
    uint64_t mask = size == 4 ? 0xFFFFFFFF : (1ull << (8 * size)) - 1;
    if (port == 0xE9 && !in) {
        guest_console((uint8_t)r->rax);
    } else if (port >= 0x510 && port < 0x514) {
        if (in) r->rax = (r->rax & ~mask) | (device_reg & mask);
        else device_reg = r->rax & mask;
    } else if (in) {
        r->rax |= mask;   /* nothing there: all ones */
    }
}

/* Control-register access qualification (Table 28-3): a MOV to CR4 from
 * a general register.  The guest keeps its bits; the bits the VMM owns
 * (the mask) show the written value through the read shadow. */
static void emulate_cr(struct guest_regs *r, uint64_t q)
{
    uint64_t *gpr = &r->rax;
    unsigned cr = q & 15, access = (q >> 4) & 3, reg = (q >> 8) & 15;
    if (cr != 4 || access != 0 || reg == 4) {
        print("vmm: unexpected control-register access\n");
        finish(2);
    }
    uint64_t v = gpr[reg], mask = vmread(CR4_MASK);
    vmwrite(CR4_SHADOW, v & mask);
    vmwrite(GUEST_CR4, (v & ~mask) | (vmread(GUEST_CR4) & mask));
    guest_cr4_writes++;
}

static void __attribute__((noreturn)) guest_done(void)
{
    print("vmm: the guest halted; VM exits by reason:\n");
    static const char *const names[64] = {
        [10] = "CPUID", [12] = "HLT", [28] = "control-register access",
        [30] = "I/O instruction", [31] = "RDMSR", [32] = "WRMSR",
    };
    uint64_t total = 0;
    for (int i = 0; i < 64; i++) {
        if (!exits_by_reason[i]) continue;
        print("  ");
        print(names[i] ? names[i] : "other");
        print(": ");
        print_dec(exits_by_reason[i]);
        print("\n");
        total += exits_by_reason[i];
    }
    print("vmm: ");
    print_dec(total);
    print(" exits; virtual MSR = ");
    print_dec(virtual_msr);
    print(", device register = ");
    print_dec(device_reg);
    print(", CR4 writes = ");
    print_dec(guest_cr4_writes);
    print("\n");
    /* What the guest did, checked: 10 rounds of RDMSR, +1, WRMSR from
     * 41; each round reads the device register and writes it back plus
     * the round number (10 down to 1). */
    int ok = virtual_msr == 41 + 10 && guest_cr4_writes == 10 && exits_by_reason[10] == 10 &&
             device_reg == 10 * 11 / 2;
    VMX_OP("vmclear", *(uint64_t[]){(uint64_t)(uintptr_t)vmcs});
    __asm__ volatile("vmxoff" ::: "cc");
    print(ok ? "vmm: done, all as expected\n" : "vmm: FAILED\n");
    finish(ok ? 0 : 1);
}

void resume_failed(void)
{
    print("vmm: VMRESUME failed, VM-instruction error ");
    print_dec(vmread(VM_INSTRUCTION_ERROR));
    print("\n");
    finish(3);
}

void handle_exit(struct guest_regs *r)
{
    uint32_t reason = (uint32_t)vmread(EXIT_REASON);
    uint64_t q = vmread(EXIT_QUALIFICATION);
    if (reason < 64) exits_by_reason[reason]++;
    switch (reason) {
    case 10: emulate_cpuid(r); break;
    case 12: guest_done();
    case 28: emulate_cr(r, q); break;
    case 30: emulate_io(r, q); break;
    case 31:
        if ((uint32_t)r->rcx != 0x40000000) goto unexpected;
        r->rax = (uint32_t)virtual_msr;
        r->rdx = virtual_msr >> 32;
        break;
    case 32:
        if ((uint32_t)r->rcx != 0x40000000) goto unexpected;
        virtual_msr = (uint32_t)r->rax | r->rdx << 32;
        break;
    default:
    unexpected:
        print("vmm: unexpected VM exit, reason ");
        print_dec(reason);
        print("\n");
        finish(4);
    }
    /* Skip the emulated instruction (its length, 28.2.4). */
    vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_LENGTH));
}

int main(void)
{
    print("vmm: an example VMM in C on vmxsim\n");
    setup_gdt();
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    cr0 |= rdmsr(0x486);
    cr4 |= rdmsr(0x488) | 1u << 13;
    __asm__ volatile("mov %0, %%cr0; mov %1, %%cr4" : : "r"(cr0), "r"(cr4));
    uint32_t revision = (uint32_t)rdmsr(0x480) & 0x7FFFFFFF;
    *(uint32_t *)vmxon_region = revision;
    *(uint32_t *)vmcs = revision;
    uint64_t on = (uint64_t)(uintptr_t)vmxon_region, cur = (uint64_t)(uintptr_t)vmcs;
    if (VMX_OP("vmxon", on) || VMX_OP("vmclear", cur) || VMX_OP("vmptrld", cur)) {
        print("vmm: VMXON/VMCLEAR/VMPTRLD failed\n");
        return 5;
    }
    if (setup_vmcs() < 0) {
        print("vmm: a VMWRITE failed\n");
        return 6;
    }
    print("vmm: launching the guest\n");
    __asm__ volatile("vmlaunch" ::: "cc", "memory");
    print("vmm: VMLAUNCH failed, VM-instruction error ");
    print_dec(vmread(VM_INSTRUCTION_ERROR));
    print(" (vmxsim run --explain says which check)\n");
    return 7;
}
