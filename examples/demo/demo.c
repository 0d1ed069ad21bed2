/*
 * demo.c - the vmxsim demo: a small VMM that takes the processor into
 * VMX operation and exercises the VMCS, printing what it does.
 *
 *   1. check CPUID.1:ECX.VMX and IA32_FEATURE_CONTROL (SDM Vol. 3C 24.6, 24.7)
 *   2. read IA32_VMX_BASIC: VMCS revision and size (Appendix A.1)
 *   3. set CR4.VMXE and the CR0/CR4 bits fixed in VMX operation (24.8)
 *   4. VMXON, VMCLEAR, VMPTRLD (31.3)
 *   5. VMWRITE then VMREAD every field of the SDM's field table
 *      (vmcs/fields.def): supported read/write fields must read back the
 *      value written, truncated to the field's width; read-only fields
 *      refuse VMWRITE with error 13 unless IA32_VMX_MISC[29]; fields the
 *      processor does not have fail with error 12, VMREAD and VMWRITE
 *      alike (25.11.2, 31.3, 31.4)
 *   6. VMPTRST, VMCLEAR, VMXOFF
 *
 * Freestanding: no library, output through port 0xE9.  main returns the
 * number of failed checks (0 = all good), which _start writes to port
 * 0xF4.  Run it with `vmxsim run build/examples/demo/demo.elf`.
 */
#include <stdint.h>

/* ---- the VMCS field table, from vmcs/fields.def ---- */

struct field {
    uint32_t enc;
    const char *name;
};

static const struct field fields[] = {
#define VX_FIELD(enc, name, feat) {enc, #name},
#include "fields.def"
#undef VX_FIELD
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* ---- output ---- */

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static void puts_(const char *s)
{
    while (*s) outb(0xE9, (uint8_t)*s++);
}

static void puthex(uint64_t v)
{
    char b[19] = "0x";
    int n = 2, started = 0;
    for (int i = 60; i >= 0; i -= 4) {
        unsigned d = (unsigned)(v >> i) & 15;
        if (d || started || i == 0) {
            b[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
            started = 1;
        }
    }
    b[n] = 0;
    puts_(b);
}

static void putdec(uint64_t v)
{
    char b[21];
    int n = 20;
    b[n] = 0;
    do {
        b[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    puts_(b + n);
}

/* ---- the instructions ---- */

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v)); }
static void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v)); }

/* VMX instructions report through RFLAGS (31.2): CF = VMfailInvalid,
 * ZF = VMfailValid (the error is in the VM-instruction error field). */
enum { VM_OK = 0, VM_FAIL_INVALID = 1, VM_FAIL_VALID = 2 };

static int outcome(uint64_t rflags)
{
    if (rflags & 1) return VM_FAIL_INVALID;
    if (rflags & 0x40) return VM_FAIL_VALID;
    return VM_OK;
}

static int vmxon(uint64_t pa)
{
    uint64_t f;
    __asm__ volatile("vmxon %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return outcome(f);
}

static int vmclear(uint64_t pa)
{
    uint64_t f;
    __asm__ volatile("vmclear %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return outcome(f);
}

static int vmptrld(uint64_t pa)
{
    uint64_t f;
    __asm__ volatile("vmptrld %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return outcome(f);
}

static int vmptrst(uint64_t *pa)
{
    uint64_t f;
    __asm__ volatile("vmptrst %1; pushfq; popq %0" : "=r"(f), "=m"(*pa) : : "cc", "memory");
    return outcome(f);
}

static int vmxoff(void)
{
    uint64_t f;
    __asm__ volatile("vmxoff; pushfq; popq %0" : "=r"(f) : : "cc", "memory");
    return outcome(f);
}

static int vmread(uint64_t enc, uint64_t *v)
{
    uint64_t f, val = 0;
    __asm__ volatile("vmread %2, %1; pushfq; popq %0" : "=r"(f), "=r"(val) : "r"(enc) : "cc");
    *v = val;
    return outcome(f);
}

static int vmwrite(uint64_t enc, uint64_t v)
{
    uint64_t f;
    __asm__ volatile("vmwrite %2, %1; pushfq; popq %0" : "=r"(f) : "r"(enc), "r"(v) : "cc");
    return outcome(f);
}

static uint64_t vm_error(void)
{
    uint64_t e = 0;
    vmread(0x4400, &e); /* VM-instruction error */
    return e;
}

/* ---- the demo ---- */

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_region[4096] __attribute__((aligned(4096)));
static int failures;

static void step(const char *what, int ok)
{
    puts_(ok ? "  ok    " : "  FAIL  ");
    puts_(what);
    puts_("\n");
    if (!ok) failures++;
}

/* The width of a field (25.11.2: encoding bits 14:13), as a mask. */
static uint64_t width_mask(uint32_t enc)
{
    switch ((enc >> 13) & 3) {
    case 0: return 0xFFFF;
    case 2: return 0xFFFFFFFF;
    default: return ~0ull;  /* 64-bit, and natural width in 64-bit mode */
    }
}

int main(void)
{
    uint32_t r[4];
    puts_("vmxsim demo: a small VMM\n");
    cpuid(1, r);
    step("CPUID.1:ECX.VMX[5] = 1: the processor has VMX", (r[2] >> 5) & 1);
    if (!((r[2] >> 5) & 1)) return 1;
    uint64_t fc = rdmsr(0x3A);
    puts_("  IA32_FEATURE_CONTROL = ");
    puthex(fc);
    puts_("\n");
    step("IA32_FEATURE_CONTROL: locked, VMX enabled outside SMX", (fc & 5) == 5);

    uint64_t basic = rdmsr(0x480);
    uint32_t revision = (uint32_t)basic & 0x7FFFFFFF;
    puts_("  IA32_VMX_BASIC = ");
    puthex(basic);
    puts_(": VMCS revision ");
    puthex(revision);
    puts_(", region size ");
    putdec((basic >> 32) & 0x1FFF);
    puts_(" bytes\n");
    int misc29 = (rdmsr(0x485) >> 29) & 1;

    /* 24.8: bits fixed to 1 in IA32_VMX_CR*_FIXED0 must be set. */
    write_cr0(read_cr0() | rdmsr(0x486));
    write_cr4(read_cr4() | rdmsr(0x488) | (1u << 13));
    step("CR4.VMXE set, CR0/CR4 fixed bits respected", (read_cr4() >> 13) & 1);

    *(uint32_t *)vmxon_region = revision;
    *(uint32_t *)vmcs_region = revision;
    uint64_t vmxon_pa = (uint64_t)(uintptr_t)vmxon_region;   /* identity-mapped */
    uint64_t vmcs_pa = (uint64_t)(uintptr_t)vmcs_region;
    step("VMXON: VMX root operation", vmxon(vmxon_pa) == VM_OK);
    step("VMCLEAR of the VMCS region: launch state clear", vmclear(vmcs_pa) == VM_OK);
    step("VMPTRLD: it is the current VMCS", vmptrld(vmcs_pa) == VM_OK);

    unsigned rw = 0, ro = 0, unsupported = 0, bad = 0;
    for (unsigned i = 0; i < NFIELDS; i++) {
        uint32_t enc = fields[i].enc;
        uint64_t v, pattern = (0x0123456789ABCDEFull ^ (enc * 0x9E3779B97F4A7C15ull));
        int rd = vmread(enc, &v);
        int wr;
        if (rd == VM_FAIL_VALID && vm_error() == 12) {
            /* No such field here: VMWRITE must refuse it the same way. */
            wr = vmwrite(enc, pattern);
            if (wr == VM_FAIL_VALID && vm_error() == 12) {
                unsupported++;
                continue;
            }
            puts_("  FAIL  VMWRITE of a field VMREAD does not know: ");
            puts_(fields[i].name);
            puts_("\n");
            bad++;
            continue;
        }
        int read_only = ((enc >> 10) & 3) == 1 && !misc29; /* exit-information fields */
        wr = vmwrite(enc, pattern);
        if (read_only) {
            if (wr == VM_FAIL_VALID && vm_error() == 13 && rd == VM_OK) {
                ro++;
                continue;
            }
        } else if (wr == VM_OK && vmread(enc, &v) == VM_OK && v == (pattern & width_mask(enc))) {
            /* 64-bit fields also have a high half (access type 1). */
            uint64_t hi;
            if (((enc >> 13) & 3) != 1 || (vmread(enc | 1, &hi) == VM_OK && hi == pattern >> 32)) {
                rw++;
                continue;
            }
        }
        puts_("  FAIL  field ");
        puts_(fields[i].name);
        puts_("\n");
        bad++;
    }
    failures += (int)bad;
    puts_("  ");
    putdec(NFIELDS);
    puts_(" fields in the table: ");
    putdec(rw);
    puts_(" written and read back, ");
    putdec(ro);
    puts_(" read-only (VMWRITE error 13), ");
    putdec(unsupported);
    puts_(" not on this processor (VMREAD and VMWRITE error 12), ");
    putdec(bad);
    puts_(" wrong\n");

    uint64_t cur = 0;
    step("VMPTRST: the current-VMCS pointer is our region", vmptrst(&cur) == VM_OK && cur == vmcs_pa);
    step("VMCLEAR: the VMCS is written back, not current any more", vmclear(vmcs_pa) == VM_OK);
    step("VMXOFF: out of VMX operation", vmxoff() == VM_OK);
    write_cr4(read_cr4() & ~(1ull << 13));
    puts_(failures ? "demo: FAILED\n" : "demo: all steps passed\n");
    return failures;
}
