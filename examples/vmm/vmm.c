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
#include "../common/vmm.h"

static uint8_t io_bitmap_a[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_b[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

extern void guest_entry(void);
extern void exit_stub(void);

static void set_bit(uint8_t *bitmap, unsigned n) { bitmap[n / 8] |= (uint8_t)(1u << (n % 8)); }

static int setup_vmcs(void)
{
    unsigned bad = 0;
    /* Controls: HLT exiting (bit 7), I/O bitmaps (25), MSR bitmaps (28);
     * a 64-bit host and guest. */
    bad |= vmwrite(PIN_CONTROLS, control(0x481, 0x48D, 0));
    bad |= vmwrite(PROC_CONTROLS, control(0x482, 0x48E, 1u << 7 | 1u << 25 | 1u << 28));
    bad |= vmwrite(EXIT_CONTROLS, control(0x483, 0x48F, EXIT_HOST_64));
    bad |= vmwrite(ENTRY_CONTROLS, control(0x484, 0x490, ENTRY_GUEST_64));
    set_bit(io_bitmap_a, 0xE9);
    for (unsigned p = 0x510; p < 0x514; p++) set_bit(io_bitmap_a, p);
    bad |= vmwrite(IO_BITMAP_A, (uint64_t)(uintptr_t)io_bitmap_a);
    bad |= vmwrite(IO_BITMAP_B, (uint64_t)(uintptr_t)io_bitmap_b);
    /* MSR 0x40000000 lies outside both bitmap ranges: it always exits. */
    bad |= vmwrite(MSR_BITMAP, (uint64_t)(uintptr_t)msr_bitmap);
    bad |= vmwrite(CR4_MASK, 1u << 7);          /* the VMM owns CR4.PGE */
    bad |= vmwrite(CR4_SHADOW, vmm_cr4() & (1u << 7));
    bad |= vmwrite(LINK_POINTER, ~0ull);
    bad |= vmm_host_state(exit_stub);
    /* Guest state: a flat 64-bit guest on the same page tables, with the
     * host's GDT and TSS. */
    bad |= vmm_flat_guest(vmm_cr3(), (uint64_t)(uintptr_t)guest_entry,
                          (uint64_t)(uintptr_t)(guest_stack + sizeof guest_stack),
                          (uint64_t)(uintptr_t)vmm_tss, (uint64_t)(uintptr_t)vmm_gdt,
                          sizeof vmm_gdt - 1);
    return bad ? -1 : 0;
}

/* ---- exits ---- */

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
    vmm_leave_vmx();
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
    if (vmm_enter_vmx()) return 5;
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
