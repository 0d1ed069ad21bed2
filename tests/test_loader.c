/*
 * test_loader.c - the loader (docs/loading.md): the pure parsing layer
 * (sim/elf.c) on ELF and Multiboot images crafted in memory, one test per
 * error; then whole loads and runs of the test programs in
 * tests/programs through the public API, including each way a run ends
 * (ends.S) and VMX root operation in 32-bit protected mode (vmx32.S).
 *
 * Crafted images use the <elf.h> structures; the Multiboot layouts are
 * those of the Multiboot Specification 0.6.96 (3.1.1 header, 3.3
 * information structure).
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmxsim.h"
#include "../sim/elf.h"

static char err[256];
static vx_load_plan plan;

/* ---- crafting images ---- */

typedef struct {
    uint32_t type;
    uint64_t off, vaddr, paddr, filesz, memsz;
} ph_t;

#define IMG_SIZE 0x4000
static uint8_t img[IMG_SIZE];

/* An ELF64 file of IMG_SIZE bytes: header, program headers at 64,
 * zero bytes elsewhere. */
static size_t mk_elf64(uint16_t type, uint16_t machine, uint64_t entry, const ph_t *ph, int n)
{
    memset(img, 0, sizeof img);
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (uint16_t)n;
    memcpy(img, &eh, sizeof eh);
    for (int i = 0; i < n; i++) {
        Elf64_Phdr p = {.p_type = ph[i].type, .p_offset = ph[i].off, .p_vaddr = ph[i].vaddr,
                        .p_paddr = ph[i].paddr, .p_filesz = ph[i].filesz,
                        .p_memsz = ph[i].memsz, .p_align = 0x1000};
        memcpy(img + sizeof eh + i * sizeof p, &p, sizeof p);
    }
    return IMG_SIZE;
}

static size_t mk_elf32(uint16_t type, uint16_t machine, uint32_t entry, const ph_t *ph, int n)
{
    memset(img, 0, sizeof img);
    Elf32_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = (uint16_t)n;
    memcpy(img, &eh, sizeof eh);
    for (int i = 0; i < n; i++) {
        Elf32_Phdr p = {.p_type = ph[i].type, .p_offset = (uint32_t)ph[i].off,
                        .p_vaddr = (uint32_t)ph[i].vaddr, .p_paddr = (uint32_t)ph[i].paddr,
                        .p_filesz = (uint32_t)ph[i].filesz, .p_memsz = (uint32_t)ph[i].memsz,
                        .p_align = 0x1000};
        memcpy(img + sizeof eh + i * sizeof p, &p, sizeof p);
    }
    return IMG_SIZE;
}

static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }

/* A Multiboot header at off; checksum_delta != 0 spoils the checksum. */
static void mb_header(size_t off, uint32_t flags, uint32_t checksum_delta)
{
    put32(off, VX_MB_HEADER_MAGIC);
    put32(off + 4, flags);
    put32(off + 8, (uint32_t)-(VX_MB_HEADER_MAGIC + flags) + checksum_delta);
}

static void mb_aout(size_t off, uint32_t header_addr, uint32_t load_addr, uint32_t load_end,
                    uint32_t bss_end, uint32_t entry)
{
    put32(off + 12, header_addr);
    put32(off + 16, load_addr);
    put32(off + 20, load_end);
    put32(off + 24, bss_end);
    put32(off + 28, entry);
}

static int plan_img(size_t len) { return vx_plan_image("x", img, len, &plan, err, sizeof err); }

#define MEM (256ull << 20)
static int check_plan(void) { return vx_plan_check("x", &plan, MEM, err, sizeof err); }

#define ERR_IS(s) ck_assert_str_eq(err, s)

/* A good static program: text at 1 MiB, data+bss at 1 MiB + 64 KiB. */
static const ph_t good[2] = {
    {PT_LOAD, 0x1000, 0x100000, 0x100000, 0x800, 0x800},
    {PT_LOAD, 0x2000, 0x110000, 0x110000, 0x100, 0x3000},
};

/* ---- ELF64 programs ---- */

START_TEST(elf64_plan)
{
    size_t n = mk_elf64(ET_EXEC, EM_X86_64, 0x100010, good, 2);
    ck_assert_int_eq(plan_img(n), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_ELF);
    ck_assert_uint_eq(plan.entry, 0x100010);
    ck_assert_int_eq(plan.nsegs, 2);
    ck_assert_int_eq(plan.segs[1].index, 1);
    ck_assert_uint_eq(plan.segs[1].paddr, 0x110000);
    ck_assert_uint_eq(plan.segs[1].offset, 0x2000);
    ck_assert_uint_eq(plan.segs[1].filesz, 0x100);
    ck_assert_uint_eq(plan.segs[1].memsz, 0x3000);
    ck_assert_uint_eq(plan.end, 0x113000);
    ck_assert_int_eq(check_plan(), 0);
}
END_TEST

START_TEST(elf64_skips_other_headers)
{
    const ph_t ph[3] = {
        {PT_NOTE, 0x1000, 0, 0, 0x10, 0x10},
        good[0],
        {PT_LOAD, 0x1000, 0x200000, 0x200000, 0, 0}, /* occupies nothing */
    };
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 3)), 0);
    ck_assert_int_eq(plan.nsegs, 1);
    ck_assert_int_eq(plan.segs[0].index, 1);
}
END_TEST

START_TEST(err_empty)
{
    ck_assert_int_eq(plan_img(0), -1);
    ERR_IS("x: empty file");
    ck_assert_int_eq(vx_plan_flat("x", 0, 0x100000, &plan, err, sizeof err), -1);
    ERR_IS("x: empty file");
}
END_TEST

START_TEST(err_not_elf)
{
    memset(img, 0x90, 100);
    ck_assert_int_eq(plan_img(100), -1);
    ERR_IS("x: not an ELF file; give a flat binary as FILE@ADDR");
}
END_TEST

START_TEST(err_truncated_header)
{
    mk_elf64(ET_EXEC, EM_X86_64, 0x100000, good, 2);
    ck_assert_int_eq(plan_img(40), -1);
    ERR_IS("x: truncated ELF header (40 bytes, a 64-bit header has 64)");
    ck_assert_int_eq(plan_img(10), -1);
    ERR_IS("x: truncated ELF header (10 bytes)");
}
END_TEST

START_TEST(err_truncated_phdrs)
{
    mk_elf64(ET_EXEC, EM_X86_64, 0x100000, good, 2);
    /* the second header ends at 64 + 2*56 = 176 */
    ck_assert_int_eq(plan_img(170), -1);
    ERR_IS("x: truncated program headers (2 of 56 bytes at offset 0x40, file has 170)");
    Elf64_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    eh.e_phoff = 0xFFFFFFFFFFFFFF00ull;
    memcpy(img, &eh, sizeof eh);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ck_assert_ptr_nonnull(strstr(err, "truncated program headers"));
    eh.e_phoff = 64;
    eh.e_phentsize = 32;
    memcpy(img, &eh, sizeof eh);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: program header size 32 is smaller than 56");
}
END_TEST

START_TEST(err_class)
{
    mk_elf32(ET_EXEC, EM_386, 0x100000, good, 1);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: 32-bit ELF file without a multiboot header; only ELF64 programs and multiboot kernels can be loaded");
    img[EI_CLASS] = 7;
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: ELF class 7 is neither 32-bit nor 64-bit");
}
END_TEST

START_TEST(err_data)
{
    mk_elf64(ET_EXEC, EM_X86_64, 0x100000, good, 2);
    img[EI_DATA] = ELFDATA2MSB;
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: ELF data encoding 2 is not little-endian (ELFDATA2LSB)");
}
END_TEST

START_TEST(err_machine)
{
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_AARCH64, 0x100000, good, 2)), -1);
    ERR_IS("x: ELF machine 183 is not x86-64 (EM_X86_64) (62)");
}
END_TEST

START_TEST(err_type)
{
    ck_assert_int_eq(plan_img(mk_elf64(ET_DYN, EM_X86_64, 0x100000, good, 2)), -1);
    ERR_IS("x: ELF type 3 ET_DYN (position-independent) is not ET_EXEC; link a static executable (-static -no-pie)");
    ck_assert_int_eq(plan_img(mk_elf64(ET_REL, EM_X86_64, 0x100000, good, 2)), -1);
    ERR_IS("x: ELF type 1 ET_REL (an object file) is not ET_EXEC; link a static executable (-static -no-pie)");
}
END_TEST

START_TEST(err_dynamic)
{
    ph_t ph[3] = {good[0], good[1], {PT_INTERP, 0x3000, 0, 0, 0x1c, 0x1c}};
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 3)), -1);
    ERR_IS("x: dynamic executable (PT_INTERP); only static executables can be loaded");
    ph[2].type = PT_DYNAMIC;
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 3)), -1);
    ERR_IS("x: dynamic executable (PT_DYNAMIC); only static executables can be loaded");
}
END_TEST

START_TEST(err_segment_file_range)
{
    ph_t ph[2] = {good[0], good[1]};
    ph[1].off = 0x3F80; /* 0x100 bytes from here pass the end (0x4000) */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), -1);
    ERR_IS("x: segment 1: file range 0x3f80+0x100 lies outside the file (16384 bytes)");
    ph[1].off = 0xFFFFFFFFFFFFFFF0ull;
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), -1);
    ERR_IS("x: segment 1: file range 0xfffffffffffffff0+0x100 lies outside the file (16384 bytes)");
}
END_TEST

START_TEST(err_memsz_lt_filesz)
{
    ph_t ph[2] = {good[0], good[1]};
    ph[0].memsz = 0x7FF;
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), -1);
    ERR_IS("x: segment 0: p_memsz 0x7ff is smaller than p_filesz 0x800");
}
END_TEST

START_TEST(err_no_load)
{
    const ph_t ph[1] = {{PT_NOTE, 0x1000, 0, 0, 0x10, 0x10}};
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 1)), -1);
    ERR_IS("x: no loadable segment (PT_LOAD)");
}
END_TEST

START_TEST(err_too_many_segments)
{
    ph_t ph[VX_PLAN_MAX_SEGS + 1];
    for (int i = 0; i <= VX_PLAN_MAX_SEGS; i++)
        ph[i] = (ph_t){PT_LOAD, 0x1000, 0x100000 + 0x1000 * (uint64_t)i,
                       0x100000 + 0x1000 * (uint64_t)i, 0x10, 0x10};
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, VX_PLAN_MAX_SEGS)), 0);
    ck_assert_int_eq(plan.nsegs, VX_PLAN_MAX_SEGS);
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, VX_PLAN_MAX_SEGS + 1)), -1);
    ERR_IS("x: more than 64 loadable segments");
}
END_TEST

START_TEST(err_entry_outside)
{
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100800, good, 2)), -1);
    ERR_IS("x: entry point 0x100800 is not inside a loaded segment");
}
END_TEST

START_TEST(err_entry_not_identity)
{
    ph_t ph[1] = {good[0]};
    ph[0].vaddr = 0xFFFFFFFF80000000ull;
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0xFFFFFFFF80000010ull, ph, 1)), -1);
    ERR_IS("x: entry point 0xffffffff80000010 is in segment 0 linked at 0xffffffff80000000 but "
           "loaded at 0x100000; the start state maps memory one to one");
}
END_TEST

START_TEST(err_outside_ram)
{
    ph_t ph[2] = {good[0], good[1]};
    ph[1].paddr = ph[1].vaddr = MEM - 0x1000; /* 0x3000 bytes from 0x1000 below the end */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), 0);
    ck_assert_int_eq(check_plan(), -1);
    ERR_IS("x: segment 1 at 0xffff000-0x10001fff lies outside RAM (0x10000000 bytes)");
    ph[1].paddr = ph[1].vaddr = 0xFFFFFFFFFFFFF000ull;
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), -1);
    ERR_IS("x: segment 1 at 0xfffffffffffff000+0x3000 wraps around the address space");
}
END_TEST

START_TEST(err_reserved)
{
    ph_t ph[1] = {good[0]};
    ph[0].paddr = ph[0].vaddr = 0x7800; /* 0x7800-0x7fff: the GDT page */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x7800, ph, 1)), 0);
    ck_assert_int_eq(check_plan(), -1);
    ERR_IS("x: segment 0 at 0x7800-0x7fff overlaps the start-state page tables and GDT at 0x1000-0x7fff");
    ph[0].paddr = ph[0].vaddr = 0x8000; /* just above: fine */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x8000, ph, 1)), 0);
    ck_assert_int_eq(check_plan(), 0);
    ph[0].paddr = ph[0].vaddr = 0x800; /* 0x800-0xfff: below, fine */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x800, ph, 1)), 0);
    ck_assert_int_eq(check_plan(), 0);
    ph[0].memsz = 0x801; /* one byte into 0x1000 */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x800, ph, 1)), 0);
    ck_assert_int_eq(check_plan(), -1);
}
END_TEST

START_TEST(err_overlap)
{
    ph_t ph[2] = {good[0], good[1]};
    ph[1].paddr = ph[1].vaddr = 0x1007FF; /* last byte of segment 0 */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), 0);
    ck_assert_int_eq(check_plan(), -1);
    ERR_IS("x: segment 1 at 0x1007ff-0x1037fe overlaps segment 0 at 0x100000-0x1007ff");
    ph[1].paddr = ph[1].vaddr = 0x100800; /* adjacent: fine */
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000, ph, 2)), 0);
    ck_assert_int_eq(check_plan(), 0);
}
END_TEST

START_TEST(err_entry_above_4g)
{
    const ph_t ph[1] = {{PT_LOAD, 0x1000, 0x100000000ull, 0x100000000ull, 0x10, 0x10}};
    ck_assert_int_eq(plan_img(mk_elf64(ET_EXEC, EM_X86_64, 0x100000000ull, ph, 1)), 0);
    ck_assert_int_eq(vx_plan_check("x", &plan, 8ull << 30, err, sizeof err), -1);
    ERR_IS("x: entry point 0x100000000 lies above the 4 GiB the start state maps");
}
END_TEST

/* ---- Multiboot ---- */

/* A higher-half style ELF32 kernel: linked at 0xC0100000, loaded at
 * 1 MiB; the header is in its text at file offset 0x1000. */
static const ph_t mb_ph[1] = {{PT_LOAD, 0x1000, 0xC0100000u, 0x100000, 0x200, 0x1000}};

START_TEST(mb_elf32)
{
    mk_elf32(ET_EXEC, EM_386, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, VX_MB_HF_PAGE_ALIGN | VX_MB_HF_MEMINFO, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_MULTIBOOT);
    ck_assert_int_eq(plan.elf_class, 32);
    ck_assert_uint_eq(plan.mb_flags, 3);
    ck_assert_uint_eq(plan.mb_offset, 0x1000);
    ck_assert_uint_eq(plan.entry, 0x100020); /* the physical address of e_entry */
    ck_assert_uint_eq(plan.end, 0x101000);
    ck_assert_int_eq(check_plan(), 0);
}
END_TEST

START_TEST(mb_elf64)
{
    mk_elf64(ET_EXEC, EM_X86_64, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, 0, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_MULTIBOOT);
    ck_assert_int_eq(plan.elf_class, 64);
    ck_assert_uint_eq(plan.entry, 0x100020);
    /* a multiboot kernel must stay below 4 GiB */
    const ph_t hi[1] = {{PT_LOAD, 0x1000, 0xFFFFF000u, 0xFFFFF000u, 0x200, 0x2000}};
    mk_elf64(ET_EXEC, EM_X86_64, 0xFFFFF000u, hi, 1);
    mb_header(0x1000, 0, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_int_eq(vx_plan_check("x", &plan, 8ull << 30, err, sizeof err), -1);
    ERR_IS("x: segment 0 at 0xfffff000-0x100000fff lies above 4 GiB, out of reach of a 32-bit multiboot kernel");
}
END_TEST

START_TEST(mb_wrong_machine)
{
    mk_elf32(ET_EXEC, EM_X86_64, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, 0, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: ELF machine 62 is not i386 (EM_386) (3)");
}
END_TEST

START_TEST(mb_bad_checksum)
{
    mk_elf32(ET_EXEC, EM_386, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, 3, 1);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: bad multiboot checksum at offset 0x1000 (magic 0x1badb002 + flags 0x00000003 + "
           "checksum 0xe4524ffc = 0x00000001, not 0)");
    /* a later good header wins over an earlier bad one */
    mb_header(0x1100, 3, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_uint_eq(plan.mb_offset, 0x1100);
}
END_TEST

START_TEST(mb_flags)
{
    mk_elf32(ET_EXEC, EM_386, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, 0x0000000B, 0); /* bit 3: not defined by 0.6.96 */
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: multiboot header requires features this loader does not support "
           "(flags 0x0000000b, unknown required bits 0x0008)");
    mb_header(0x1000, 0x00008000, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown required bits 0x8000)"));
    /* bit 2 (video) is accepted and not honoured; unknown optional bits
     * (16-31, other than 16) are ignored */
    mb_header(0x1000, 0x00200007, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_uint_eq(plan.mb_flags, 0x00200007);
}
END_TEST

START_TEST(mb_header_window)
{
    /* a header past the first 8192 bytes is not seen */
    const ph_t ph[1] = {{PT_LOAD, 0x3000, 0x100000, 0x100000, 0x200, 0x200}};
    mk_elf32(ET_EXEC, EM_386, 0x100000, ph, 1);
    mb_header(0x2000, 0, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ck_assert_ptr_nonnull(strstr(err, "32-bit ELF file without a multiboot header"));
    mb_header(0x1FF4, 0, 0); /* the last 12 bytes of the window */
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_MULTIBOOT);
    /* not 4-byte aligned: not a header */
    memset(img + 0x1FF4, 0, 12);
    mb_header(0x1002, 0, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ck_assert_ptr_nonnull(strstr(err, "without a multiboot header"));
    /* flag 16 needs 32 bytes: from 0x1FF4 they pass 8192 */
    memset(img + 0x1002, 0, 12);
    mb_header(0x1FF4, VX_MB_HF_AOUT, 0);
    ck_assert_int_eq(plan_img(IMG_SIZE), -1);
    ERR_IS("x: truncated multiboot header at offset 0x1ff4 (flags 0x00010000 need 32 bytes "
           "within the first 8192 bytes of the file)");
}
END_TEST

START_TEST(mb_not_elf_without_aout)
{
    memset(img, 0x90, 0x200);
    mb_header(0x40, 0, 0);
    ck_assert_int_eq(plan_img(0x200), -1);
    ERR_IS("x: multiboot kernel is neither an ELF file nor sets flag 16 (the a.out kludge load addresses)");
}
END_TEST

START_TEST(mb_aout_kludge)
{
    /* raw image: the header 0x40 bytes in, the file loaded from 0x200000
     * (load_addr), 0x300 bytes of it (load_end), bss to 0x201000 */
    memset(img, 0x90, 0x400);
    mb_header(0x40, VX_MB_HF_AOUT | VX_MB_HF_PAGE_ALIGN, 0);
    mb_aout(0x40, 0x200040, 0x200000, 0x200300, 0x201000, 0x200080);
    ck_assert_int_eq(plan_img(0x400), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_MULTIBOOT);
    ck_assert_int_eq(plan.elf_class, 0);
    ck_assert_int_eq(plan.nsegs, 1);
    ck_assert_uint_eq(plan.segs[0].paddr, 0x200000);
    ck_assert_uint_eq(plan.segs[0].offset, 0);
    ck_assert_uint_eq(plan.segs[0].filesz, 0x300);
    ck_assert_uint_eq(plan.segs[0].memsz, 0x1000);
    ck_assert_uint_eq(plan.entry, 0x200080);
    ck_assert_int_eq(check_plan(), 0);
    /* load_end 0: the rest of the file; bss_end 0: no bss; a header
     * further in, so loading starts 0x20 bytes into the file */
    mb_aout(0x40, 0x200040, 0x200020, 0, 0, 0x200020);
    ck_assert_int_eq(plan_img(0x400), 0);
    ck_assert_uint_eq(plan.segs[0].offset, 0x20);
    ck_assert_uint_eq(plan.segs[0].filesz, 0x3E0);
    ck_assert_uint_eq(plan.segs[0].memsz, 0x3E0);
    /* the a.out fields win over an ELF file's own headers */
    mk_elf32(ET_EXEC, EM_386, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, VX_MB_HF_AOUT, 0);
    mb_aout(0x1000, 0x300000, 0x300000, 0x300100, 0, 0x300010);
    ck_assert_int_eq(plan_img(IMG_SIZE), 0);
    ck_assert_uint_eq(plan.segs[0].paddr, 0x300000);
    ck_assert_uint_eq(plan.segs[0].offset, 0x1000);
    ck_assert_uint_eq(plan.entry, 0x300010);
}
END_TEST

START_TEST(mb_aout_errors)
{
    memset(img, 0x90, 0x400);
    mb_header(0x40, VX_MB_HF_AOUT, 0);
    mb_aout(0x40, 0x200040, 0x200080, 0, 0, 0x200080);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot load_addr 0x200080 is above header_addr 0x200040");
    mb_aout(0x40, 0x200040, 0x1FFF00, 0, 0, 0x200000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot load_addr 0x1fff00 would start 0x100 bytes before the file");
    mb_aout(0x40, 0x200040, 0x200000, 0x1FFFFF, 0, 0x200000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot load_end_addr 0x1fffff is below load_addr 0x200000");
    mb_aout(0x40, 0x200040, 0x200000, 0x200401, 0, 0x200000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot load range 0x200000-0x200401 needs 0x401 bytes from file offset 0x0, "
           "which lies outside the file (1024 bytes)");
    mb_aout(0x40, 0x200040, 0x200000, 0x200300, 0x2002FF, 0x200000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot bss_end_addr 0x2002ff is below the end of the loaded data 0x200300");
    mb_aout(0x40, 0x200040, 0x200000, 0x200300, 0x201000, 0x201000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: entry point 0x201000 is not inside the loaded image 0x200000-0x200fff");
    mb_aout(0x40, 0x200040, 0x200000, 0x200000, 0, 0x200000);
    ck_assert_int_eq(plan_img(0x400), -1);
    ERR_IS("x: multiboot a.out kludge loads nothing");
    /* an a.out image into the start-state area */
    mb_aout(0x40, 0x7040, 0x7000, 0, 0, 0x7000);
    ck_assert_int_eq(plan_img(0x400), 0);
    ck_assert_int_eq(check_plan(), -1);
    ERR_IS("x: image at 0x7000-0x73ff overlaps the start-state page tables and GDT at 0x1000-0x7fff");
}
END_TEST

/* ---- FILE@ADDR ---- */

START_TEST(spec_split)
{
    char *path;
    int has;
    uint64_t a;
    ck_assert_int_eq(vx_parse_spec("prog.elf", &path, &has, &a, err, sizeof err), 0);
    ck_assert_str_eq(path, "prog.elf");
    ck_assert_int_eq(has, 0);
    free(path);
    ck_assert_int_eq(vx_parse_spec("dir@v2/p.bin@0x100000", &path, &has, &a, err, sizeof err), 0);
    ck_assert_str_eq(path, "dir@v2/p.bin");
    ck_assert_int_eq(has, 1);
    ck_assert_uint_eq(a, 0x100000);
    free(path);
    ck_assert_int_eq(vx_parse_spec("p@4096", &path, &has, &a, err, sizeof err), 0);
    ck_assert_uint_eq(a, 4096);
    free(path);
    ck_assert_int_eq(vx_parse_spec("p@010", &path, &has, &a, err, sizeof err), 0);
    ck_assert_uint_eq(a, 8); /* C syntax: a leading 0 is octal */
    free(path);
    ck_assert_int_eq(vx_parse_spec("p@0xFFFFFFFFFFFFFFFF", &path, &has, &a, err, sizeof err), 0);
    ck_assert_uint_eq(a, UINT64_MAX);
    free(path);
}
END_TEST

START_TEST(spec_errors)
{
    char *path;
    int has;
    uint64_t a;
    ck_assert_int_eq(vx_parse_spec("@0x1000", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("@0x1000: empty path before '@' (give FILE@ADDR)");
    ck_assert_ptr_null(path);
    ck_assert_int_eq(vx_parse_spec("p.bin@", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("p.bin@: no address after '@' (give FILE@ADDR)");
    ck_assert_int_eq(vx_parse_spec("p.bin@one", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("p.bin@one: address 'one' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)");
    ck_assert_int_eq(vx_parse_spec("p.bin@-1", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("p.bin@-1: address '-1' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)");
    ck_assert_int_eq(vx_parse_spec("p.bin@ 5", &path, &has, &a, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "is not a number"));
    ck_assert_int_eq(vx_parse_spec("p.bin@0x1000k", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("p.bin@0x1000k: address '0x1000k' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)");
    ck_assert_int_eq(vx_parse_spec("p.bin@0x10000000000000000", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("p.bin@0x10000000000000000: address '0x10000000000000000' is too large for 64 bits");
    ck_assert_int_eq(vx_parse_spec("", &path, &has, &a, err, sizeof err), -1);
    ERR_IS("no program given");
}
END_TEST

START_TEST(flat_plan)
{
    ck_assert_int_eq(vx_plan_flat("p", 0x1234, 0x100000, &plan, err, sizeof err), 0);
    ck_assert_int_eq(plan.kind, VX_IMG_FLAT);
    ck_assert_uint_eq(plan.entry, 0x100000);
    ck_assert_int_eq(plan.nsegs, 1);
    ck_assert_uint_eq(plan.segs[0].filesz, 0x1234);
    ck_assert_uint_eq(plan.end, 0x101234);
    ck_assert_int_eq(vx_plan_check("p", &plan, MEM, err, sizeof err), 0);

    ck_assert_int_eq(vx_plan_flat("p", 0x10, MEM, &plan, err, sizeof err), 0);
    ck_assert_int_eq(vx_plan_check("p", &plan, MEM, err, sizeof err), -1);
    ERR_IS("p: load address 0x10000000 is outside RAM (0x10000000 bytes)");
    ck_assert_int_eq(vx_plan_flat("p", 0x11, MEM - 0x10, &plan, err, sizeof err), 0);
    ck_assert_int_eq(vx_plan_check("p", &plan, MEM, err, sizeof err), -1);
    ERR_IS("p: binary of 17 bytes at 0xffffff0 does not fit in RAM (0x10000000 bytes)");
    ck_assert_int_eq(vx_plan_flat("p", 0x10, MEM - 0x10, &plan, err, sizeof err), 0);
    ck_assert_int_eq(vx_plan_check("p", &plan, MEM, err, sizeof err), 0);
    ck_assert_int_eq(vx_plan_flat("p", 0x100, 0x6000, &plan, err, sizeof err), 0);
    ck_assert_int_eq(vx_plan_check("p", &plan, MEM, err, sizeof err), -1);
    ERR_IS("p: binary at 0x6000-0x60ff overlaps the start-state page tables and GDT at 0x1000-0x7fff");
    ck_assert_int_eq(vx_plan_flat("p", 0x100, UINT64_MAX - 0x10, &plan, err, sizeof err), -1);
    ERR_IS("p: binary of 256 bytes at 0xffffffffffffffef wraps around the address space");
}
END_TEST

/* ---- the information block ---- */

static uint32_t g32(const uint8_t *b, size_t o) { uint32_t v; memcpy(&v, b + o, 4); return v; }
static uint64_t g64(const uint8_t *b, size_t o) { uint64_t v; memcpy(&v, b + o, 8); return v; }

START_TEST(mb_info_block)
{
    const vx_mb_module mods[2] = {
        {0x200000, 0x200005, "first"},
        {0x201000, 0x201000, "second arg"},
    };
    size_t n = vx_mb_info_size("console=com1", mods, 2);
    /* 128 + 3 * 24 mmap + 2 * 16 modules + "console=com1" + "vmxsim" + strings */
    ck_assert_uint_eq(n, 128 + 72 + 32 + 13 + 7 + 6 + 11);
    uint8_t *b = malloc(n);
    const uint32_t base = 0x300000;
    ck_assert_int_eq(vx_mb_build_info(b, n, base, MEM, "console=com1", mods, 2, err, sizeof err), 0);
    ck_assert_uint_eq(g32(b, 0), 0x24D); /* mem, cmdline, mods, mmap, loader name */
    ck_assert_uint_eq(g32(b, 4), 640);
    ck_assert_uint_eq(g32(b, 8), (256 - 1) * 1024);
    ck_assert_uint_eq(g32(b, 12), 0); /* no boot device */
    ck_assert_uint_eq(g32(b, 16), base + 232);
    ck_assert_str_eq((char *)b + 232, "console=com1");
    ck_assert_uint_eq(g32(b, 20), 2);
    ck_assert_uint_eq(g32(b, 24), base + 200);
    ck_assert_uint_eq(g32(b, 44), 72);
    ck_assert_uint_eq(g32(b, 48), base + 128);
    ck_assert_uint_eq(g32(b, 64), base + 245);
    ck_assert_str_eq((char *)b + 245, "vmxsim");
    ck_assert_uint_eq(g32(b, 72), 0); /* no VBE */
    /* memory map */
    static const uint64_t want[3][3] = {
        {0, 0xA0000, 1}, {0xA0000, 0x60000, 2}, {0x100000, MEM - 0x100000, 1},
    };
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = b + 128 + 24 * i;
        ck_assert_uint_eq(g32(e, 0), 20);
        ck_assert_uint_eq(g64(e, 4), want[i][0]);
        ck_assert_uint_eq(g64(e, 12), want[i][1]);
        ck_assert_uint_eq(g32(e, 20), want[i][2]);
    }
    /* modules */
    ck_assert_uint_eq(g32(b, 200), 0x200000);
    ck_assert_uint_eq(g32(b, 204), 0x200005);
    ck_assert_uint_eq(g32(b, 208), base + 252);
    ck_assert_uint_eq(g32(b, 212), 0);
    ck_assert_str_eq((char *)b + 252, "first");
    ck_assert_uint_eq(g32(b, 216), 0x201000);
    ck_assert_uint_eq(g32(b, 220), 0x201000);
    ck_assert_uint_eq(g32(b, 224), base + 258);
    ck_assert_str_eq((char *)b + 258, "second arg");
    /* too small a buffer, a block crossing 4 GiB */
    ck_assert_int_eq(vx_mb_build_info(b, n - 1, base, MEM, "console=com1", mods, 2, err, sizeof err), -1);
    ck_assert_int_eq(vx_mb_build_info(b, n, 0xFFFFFF00u, MEM, "console=com1", mods, 2, err, sizeof err), -1);
    ERR_IS("multiboot information at 0xffffff00 would cross 4 GiB");
    free(b);
}
END_TEST

START_TEST(mb_place)
{
    ck_assert_uint_eq(vx_place_above(0x100001, 0x10), 0x101000);
    ck_assert_uint_eq(vx_place_above(0x101000, 0x10), 0x101000);
    ck_assert_uint_eq(vx_place_above(0x500, 0x100), 0x8000);      /* start-state area */
    ck_assert_uint_eq(vx_place_above(0x0, 0x1000), 0x0);
    ck_assert_uint_eq(vx_place_above(0x9F000, 0x1000), 0x9F000);
    ck_assert_uint_eq(vx_place_above(0x9F000, 0x1001), 0x100000); /* legacy hole */
    ck_assert_uint_eq(vx_place_above(0xA0000, 0), 0x100000);
    ck_assert_uint_eq(vx_place_above(UINT64_MAX - 5, 1), UINT64_MAX);
}
END_TEST

/* ---- whole loads and runs through the public API ---- */

static char prog_path[4096];

static const char *prog(const char *name)
{
    const char *dir = getenv("VX_PROG_DIR");
    ck_assert_msg(dir != NULL, "VX_PROG_DIR is not set (run through meson test)");
    snprintf(prog_path, sizeof prog_path, "%s/%s", dir, name);
    return prog_path;
}

static FILE *con;

static vmxsim *new_machine(uint64_t mem, const char *cmdline)
{
    con = tmpfile();
    ck_assert_ptr_nonnull(con);
    vmxsim_options o = {.mem_size = mem, .console = con, .cmdline = cmdline,
                        .max_insns = 1000000};
    char e[256];
    vmxsim *m = vmxsim_create(&o, e, sizeof e);
    ck_assert_msg(m != NULL, "vmxsim_create: %s", e);
    return m;
}

static const char *console_text(void)
{
    static char text[4096];
    fflush(con);
    rewind(con);
    size_t n = fread(text, 1, sizeof text - 1, con);
    text[n] = 0;
    return text;
}

static void done(vmxsim *m)
{
    vmxsim_destroy(m);
    fclose(con);
}

/* A temporary file with these bytes; the name is static. */
static const char *temp_file(const void *data, size_t len)
{
    static char name[64];
    snprintf(name, sizeof name, "/tmp/vx_loader_XXXXXX");
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return name;
}

static json_t *start_images(vmxsim *m)
{
    vmxsim_event ev;
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run_until(m, VMXSIM_EV_START, &ev, &r), 0);
    ck_assert_str_eq(ev.name, "start");
    json_t *j = json_loads(ev.json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *imgs = json_incref(json_object_get(j, "images"));
    json_decref(j);
    return imgs;
}

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

START_TEST(run_payload)
{
    vmxsim *m = new_machine(0, NULL);
    char spec[4200];
    snprintf(spec, sizeof spec, "%s@0x100000", prog("payload.bin"));
    ck_assert_msg(vmxsim_load(m, spec) == 0, "%s", vmxsim_error(m));
    uint64_t rip, cr0;
    vmxsim_reg_read(m, VMXSIM_RIP, &rip);
    vmxsim_reg_read(m, VMXSIM_CR0, &cr0);
    ck_assert_uint_eq(rip, 0x100000);
    ck_assert_uint_eq(cr0 >> 31, 1); /* long-mode start state: paging on */
    json_t *imgs = start_images(m);
    ck_assert_uint_eq(json_array_size(imgs), 1);
    json_t *i0 = json_array_get(imgs, 0);
    ck_assert_str_eq(jstr(i0, "path"), prog("payload.bin"));
    ck_assert_str_eq(jstr(i0, "kind"), "flat");
    ck_assert_str_eq(jstr(i0, "entry"), "0x100000");
    json_t *s0 = json_array_get(json_object_get(i0, "segments"), 0);
    ck_assert_str_eq(jstr(s0, "addr"), "0x100000");
    json_decref(imgs);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_str_eq(console_text(), "payload ok\n");
    ck_assert_int_eq(r.end, VMXSIM_END_DEBUG_EXIT);
    ck_assert_int_eq(r.exit_status, 0x0B);
    done(m);
}
END_TEST

/* Ordinary instructions above RAM (outside.S): reads give all ones,
 * writes are dropped, each access counted and traced (docs/platform.md). */
static int outside_events;
static void count_outside(vmxsim *m, const vmxsim_event *ev, void *user)
{
    (void)m;
    (void)user;
    if (!strcmp(ev->name, "outside_memory")) {
        json_t *j = json_loads(ev->json, 0, NULL);
        ck_assert_ptr_nonnull(j);
        /* Each access at its own address, with its operand size. */
        static const char *const want[4][3] = {{"0x20000000", "read", "8"}, {"0x20000008", "write", "8"},
                                               {"0x20000008", "read", "8"}, {"0x20000010", "read", "1"}};
        if (outside_events < 4) {
            ck_assert_str_eq(jstr(j, "address"), want[outside_events][0]);
            ck_assert_str_eq(jstr(j, "access"), want[outside_events][1]);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "size")), atoi(want[outside_events][2]));
        }
        outside_events++;
        json_decref(j);
    }
}

START_TEST(run_outside_ram)
{
    vmxsim *m = new_machine(0, NULL);
    ck_assert_msg(vmxsim_load(m, prog("outside")) == 0, "%s", vmxsim_error(m));
    outside_events = 0;
    vmxsim_set_callback(m, VMXSIM_EV_MEMORY, count_outside, NULL);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_msg(r.end == VMXSIM_END_DEBUG_EXIT && r.exit_status == 1, "%s (status %d)", r.message,
                  r.exit_status);
    /* Reads: the load, the load after the write, the add's read, the
     * movzbl; writes: the store, the add's write. */
    ck_assert_int_eq(outside_events, 6);
    done(m);
}
END_TEST

static const char mb_expect_head[] =
    "multiboot ok: console=com1 x=1\n"
    "mem_upper 0x0003fc00\n"
    "mmap 121\n"
    "loader vmxsim\n";

/* Load a multiboot kernel (and two modules) and check what the loader
 * did: registers, information block, module placement, images. */
static vmxsim *load_kernel(const char *name, int with_modules, char *mod2)
{
    vmxsim *m = new_machine(256ull << 20, "console=com1 x=1");
    char kpath[4096];
    snprintf(kpath, sizeof kpath, "%s", prog(name));
    ck_assert_msg(vmxsim_load(m, kpath) == 0, "%s", vmxsim_error(m));
    uint64_t rax, rbx, cr0;
    vmxsim_reg_read(m, VMXSIM_RAX, &rax);
    vmxsim_reg_read(m, VMXSIM_RBX, &rbx);
    vmxsim_reg_read(m, VMXSIM_CR0, &cr0);
    ck_assert_uint_eq(rax, 0x2BADB002);
    ck_assert_uint_eq(cr0 & 0x80000001u, 1); /* protected mode, paging off */
    ck_assert_uint_eq(rbx & 0xFFF, 0);
    ck_assert_uint_ge(rbx, 0x101000);
    ck_assert_uint_lt(rbx, 0x110000);
    uint32_t mbi[17];
    ck_assert_int_eq(vmxsim_mem_read(m, rbx, mbi, sizeof mbi), 0);
    ck_assert_uint_eq(mbi[0], 0x24D);
    ck_assert_uint_eq(mbi[1], 640);
    ck_assert_uint_eq(mbi[2], 255 * 1024);
    char text[32];
    ck_assert_int_eq(vmxsim_mem_read(m, mbi[4], text, 17), 0);
    ck_assert_str_eq(text, "console=com1 x=1");
    ck_assert_int_eq(vmxsim_mem_read(m, mbi[16], text, 7), 0);
    ck_assert_str_eq(text, "vmxsim");
    char mod1[64] = "";
    if (with_modules) {
        snprintf(mod1, sizeof mod1, "%s", temp_file("hello module", 12));
        snprintf(mod2, 64, "%s", temp_file("x", 1));
        ck_assert_msg(vmxsim_load_module(m, mod1, "mod1 arg") == 0, "%s", vmxsim_error(m));
        ck_assert_msg(vmxsim_load_module(m, mod2, NULL) == 0, "%s", vmxsim_error(m));
        uint64_t rbx2;
        vmxsim_reg_read(m, VMXSIM_RBX, &rbx2);
        ck_assert_uint_eq(rbx2, rbx + 0x2000); /* the block moved above the modules */
        ck_assert_int_eq(vmxsim_mem_read(m, rbx2, mbi, sizeof mbi), 0);
        ck_assert_uint_eq(mbi[5], 2);           /* mods_count */
        uint32_t ml[8];
        ck_assert_int_eq(vmxsim_mem_read(m, mbi[6], ml, sizeof ml), 0);
        ck_assert_uint_eq(ml[0], rbx);          /* module 1 where the first block was */
        ck_assert_uint_eq(ml[1], rbx + 12);
        ck_assert_uint_eq(ml[4], rbx + 0x1000); /* module 2 on the next page */
        ck_assert_uint_eq(ml[5], rbx + 0x1001);
        ck_assert_int_eq(vmxsim_mem_read(m, ml[0], text, 12), 0);
        ck_assert_int_eq(memcmp(text, "hello module", 12), 0);
        ck_assert_int_eq(vmxsim_mem_read(m, ml[2], text, 9), 0);
        ck_assert_str_eq(text, "mod1 arg");
        unlink(mod1);
        unlink(mod2);
    }
    json_t *imgs = start_images(m);
    ck_assert_uint_eq(json_array_size(imgs), with_modules ? 3 : 1);
    json_t *i0 = json_array_get(imgs, 0);
    ck_assert_str_eq(jstr(i0, "kind"), "multiboot");
    ck_assert_str_eq(jstr(i0, "path"), kpath);
    uint64_t rip;
    vmxsim_reg_read(m, VMXSIM_RIP, &rip);
    ck_assert_uint_eq(strtoull(jstr(i0, "entry"), NULL, 16), rip);
    if (with_modules) {
        json_t *i1 = json_array_get(imgs, 1), *i2 = json_array_get(imgs, 2);
        ck_assert_str_eq(jstr(i1, "kind"), "module");
        ck_assert_str_eq(jstr(i1, "path"), mod1);
        ck_assert_str_eq(jstr(i1, "string"), "mod1 arg");
        ck_assert_str_eq(jstr(i1, "entry"), "0x0");
        json_t *s = json_array_get(json_object_get(i1, "segments"), 0);
        ck_assert_str_eq(jstr(s, "size"), "0xc");
        ck_assert_str_eq(jstr(i2, "string"), mod2); /* no string: the path */
    }
    json_decref(imgs);
    return m;
}

static void run_kernel(const char *name, int with_modules)
{
    char mod2[64] = "";
    vmxsim *m = load_kernel(name, with_modules, mod2);
    uint64_t efer;
    vmxsim_reg_read(m, VMXSIM_EFER, &efer);
    ck_assert_msg(efer == 0, "EFER 0x%llx in the multiboot start state: not out of long mode",
                  (unsigned long long)efer);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s", mb_expect_head);
    if (with_modules)
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "module mod1 arg: hello module\nmodule %s: x\n", mod2);
    ck_assert_msg(r.exit_status != 0x0B, "the kernel does not run as 32-bit code "
                  "(the multiboot start state is executed as 64-bit code)");
    ck_assert_str_eq(console_text(), want);
    ck_assert_msg(r.end == VMXSIM_END_DEBUG_EXIT, "end %d: %s", r.end, r.message);
    ck_assert_int_eq(r.exit_status, 0x21);
    done(m);
}

static void check_load(const char *name, int with_modules)
{
    char mod2[64] = "";
    done(load_kernel(name, with_modules, mod2));
}

START_TEST(load_mbkernel) { check_load("mbkernel", 1); }
END_TEST
START_TEST(load_mbkernel64) { check_load("mbkernel64", 1); }
END_TEST
START_TEST(load_mbkernel_aout) { check_load("mbkernel-aout", 1); }
END_TEST
START_TEST(run_mbkernel) { run_kernel("mbkernel", 0); }
END_TEST
START_TEST(run_mbkernel_modules) { run_kernel("mbkernel", 1); }
END_TEST
START_TEST(run_mbkernel64) { run_kernel("mbkernel64", 1); }
END_TEST
START_TEST(run_mbkernel_aout) { run_kernel("mbkernel-aout", 1); }
END_TEST

/* VMX root operation in 32-bit protected mode (tests/programs/vmx32.S):
 * the program checks values and RFLAGS itself; here the trace events
 * say the same, in order, with 32-bit register operands. */
typedef struct {
    const char *name, *outcome;
    int error;                 /* VMfailValid's number, else 0 */
} vmx32_exp;

static const vmx32_exp vmx32_events[] = {
    {"vmxon", "VMsucceed", 0}, {"vmread", "VMfailInvalid", 0},
    {"vmclear", "VMsucceed", 0}, {"vmptrld", "VMsucceed", 0},
    {"vmwrite", "VMsucceed", 0}, {"vmread", "VMsucceed", 0},
    {"vmwrite", "VMsucceed", 0}, {"vmread", "VMsucceed", 0},
    {"vmwrite", "VMsucceed", 0}, {"vmread", "VMsucceed", 0},
    {"vmwrite", "VMsucceed", 0}, {"vmwrite", "VMsucceed", 0},
    {"vmread", "VMsucceed", 0}, {"vmwrite", "VMsucceed", 0},
    {"vmread", "VMsucceed", 0}, {"vmread", "VMsucceed", 0},
    {"vmread", "VMfailValid", 12}, {"vmread", "VMsucceed", 0},
    {"vmptrst", "VMsucceed", 0}, {"vmxoff", "VMsucceed", 0},
};
#define NVMX32 (sizeof vmx32_events / sizeof vmx32_events[0])

static void run_vmx32(const char *cpu)
{
    con = tmpfile();
    ck_assert_ptr_nonnull(con);
    vmxsim_options o = {.cpu = cpu, .console = con, .max_insns = 1000000};
    char e[256];
    vmxsim *m = vmxsim_create(&o, e, sizeof e);
    ck_assert_msg(m != NULL, "vmxsim_create: %s", e);
    ck_assert_msg(vmxsim_load(m, prog("vmx32")) == 0, "%s", vmxsim_error(m));
    vmxsim_event ev;
    vmxsim_result r;
    size_t n = 0;
    for (;;) {
        ck_assert_int_eq(vmxsim_run_until(m, VMXSIM_EV_VMX, &ev, &r), 0);
        if (r.end != VMXSIM_END_NONE) break;
        ck_assert_msg(n < NVMX32, "more VMX events than expected: %s", ev.json);
        json_t *j = json_loads(ev.json, 0, NULL);
        ck_assert_ptr_nonnull(j);
        const vmx32_exp *x = &vmx32_events[n];
        json_t *err_no = json_object_get(j, "error");
        ck_assert_msg(!strcmp(jstr(j, "name"), x->name) && !strcmp(jstr(j, "outcome"), x->outcome) &&
                      (x->error ? json_integer_value(err_no) == x->error : err_no == NULL),
                      "VMX event %zu: expected %s %s: %s", n, x->name, x->outcome, ev.json);
        const char *insn = jstr(j, "insn");
        if (!strcmp(x->name, "vmread") || !strcmp(x->name, "vmwrite"))
            ck_assert_msg(strstr(insn, "eax") && !strstr(insn, "rax"),
                          "VMX event %zu: not the 32-bit form: %s", n, insn);
        ck_assert_str_eq(jstr(j, "mode"), !strcmp(x->name, "vmxoff") ? "off" : "root");
        json_decref(j);
        n++;
    }
    ck_assert_uint_eq(n, NVMX32);
    ck_assert_str_eq(console_text(), "vmx32 ok\n");
    ck_assert_msg(r.end == VMXSIM_END_DEBUG_EXIT, "end %d: %s", r.end, r.message);
    ck_assert_int_eq(r.exit_status, 0x55);
    done(m);
}

START_TEST(run_vmx32_icelake) { run_vmx32("icelake-server"); }
END_TEST
START_TEST(run_vmx32_minimal) { run_vmx32("minimal"); }
END_TEST

/* ---- how a run ends (tests/programs/ends.S, docs/platform.md) ---- */

static vmxsim *load_ends(const char *name, uint64_t max_insns, double wall_limit)
{
    con = tmpfile();
    ck_assert_ptr_nonnull(con);
    vmxsim_options o = {.console = con, .max_insns = max_insns, .wall_limit = wall_limit};
    char e[256];
    vmxsim *m = vmxsim_create(&o, e, sizeof e);
    ck_assert_msg(m != NULL, "vmxsim_create: %s", e);
    ck_assert_msg(vmxsim_load(m, prog(name)) == 0, "%s", vmxsim_error(m));
    return m;
}

static void ends_as(const char *name, uint64_t max_insns, double wall_limit, vmxsim_end end,
                    int status, const char *message)
{
    vmxsim *m = load_ends(name, max_insns, wall_limit);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_msg(r.end == end, "%s: end %d, expected %d: %s", name, r.end, end, r.message);
    ck_assert_int_eq(r.exit_status, status);
    ck_assert_str_eq(r.message, message);
    if (max_insns) ck_assert_uint_eq(r.insns, max_insns);
    /* Ended for good: running again changes nothing. */
    vmxsim_result again;
    ck_assert_int_eq(vmxsim_run(m, &again), 0);
    ck_assert_int_eq(again.end, end);
    ck_assert_uint_eq(again.insns, r.insns);
    done(m);
}

START_TEST(end_shutdown)
{
    ends_as("ends-shutdown", 0, 0, VMXSIM_END_SHUTDOWN, 0, "\"Shutdown\" written to port 0x8900");
}
END_TEST

START_TEST(end_hlt)
{
    ends_as("ends-hlt", 0, 0, VMXSIM_END_HLT, 0, "HLT with RFLAGS.IF=0");
}
END_TEST

START_TEST(end_max_insns)
{
    ends_as("ends-spin", 5000, 0, VMXSIM_END_MAX_INSNS, 6, "instruction budget of 5000 used up");
}
END_TEST

START_TEST(end_wall_limit)
{
    ends_as("ends-spin", 0, 0.2, VMXSIM_END_WALL_LIMIT, 6, "wall-clock limit of 0.2 s reached");
}
END_TEST

static char triple_json[4096];

static void keep_triple(vmxsim *m, const vmxsim_event *ev, void *user)
{
    (void)m;
    (void)user;
    if (!strcmp(ev->name, "triple_fault")) snprintf(triple_json, sizeof triple_json, "%s", ev->json);
}

START_TEST(end_triple_fault)
{
    vmxsim *m = load_ends("ends-triple", 0, 0);
    triple_json[0] = 0;
    vmxsim_set_callback(m, VMXSIM_EV_FAULT, keep_triple, NULL);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), 0);
    ck_assert_int_eq(r.end, VMXSIM_END_TRIPLE_FAULT);
    ck_assert_int_eq(r.exit_status, 2);
    ck_assert_str_eq(r.message, "triple fault: fault while delivering a double fault");
    /* The trace event carries the registers and the VMX state. */
    json_t *j = json_loads(triple_json, 0, NULL);
    ck_assert_msg(j != NULL, "no triple_fault event");
    ck_assert_str_eq(jstr(json_object_get(j, "registers"), "rax"), "0x5eed");
    ck_assert_str_eq(jstr(json_object_get(j, "registers"), "rip"), jstr(j, "rip"));
    ck_assert_str_eq(jstr(json_object_get(j, "vmx"), "operation"), "off");
    json_decref(j);
    /* So does the dump the CLI prints. */
    char *dump = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&dump, &len);
    ck_assert_ptr_nonnull(f);
    vmxsim_dump(m, f);
    fclose(f);
    ck_assert_msg(strstr(dump, "rax    0x0000000000005eed") && strstr(dump, "VMX: off"), "%s", dump);
    free(dump);
    done(m);
}
END_TEST

/* A failed load leaves the machine without a program. */
static void load_fails(vmxsim *m, const char *spec, const char *want)
{
    ck_assert_int_eq(vmxsim_load(m, spec), -1);
    ck_assert_str_eq(vmxsim_error(m), want);
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run(m, &r), -1);
    ck_assert_str_eq(vmxsim_error(m), "no program loaded");
}

START_TEST(api_file_errors)
{
    vmxsim *m = new_machine(0, NULL);
    load_fails(m, "/nonexistent/prog", "/nonexistent/prog: No such file or directory");
    load_fails(m, "/tmp", "/tmp: not a regular file");
    const char *e = temp_file("", 0);
    char want[256];
    snprintf(want, sizeof want, "%s: empty file", e);
    load_fails(m, e, want);
    char spec[128];
    snprintf(spec, sizeof spec, "%s@0x100000", e);
    load_fails(m, spec, want);
    unlink(e);
    const char *t = temp_file("just text\n", 10);
    snprintf(want, sizeof want, "%s: not an ELF file; give a flat binary as FILE@ADDR", t);
    load_fails(m, t, want);
    unlink(t);
    load_fails(m, "x@zz", "x@zz: address 'zz' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)");
    done(m);
}
END_TEST

START_TEST(api_flat_errors)
{
    vmxsim *m = new_machine(2ull << 20, NULL);
    uint8_t bytes[0x20];
    memset(bytes, 0xF4, sizeof bytes);
    char path[64], spec[128], want[256];
    snprintf(path, sizeof path, "%s", temp_file(bytes, sizeof bytes));
    snprintf(spec, sizeof spec, "%s@0x200000", path);
    snprintf(want, sizeof want, "%s: load address 0x200000 is outside RAM (0x200000 bytes)", path);
    load_fails(m, spec, want);
    snprintf(spec, sizeof spec, "%s@0x1FFFF0", path);
    snprintf(want, sizeof want, "%s: binary of 32 bytes at 0x1ffff0 does not fit in RAM (0x200000 bytes)", path);
    load_fails(m, spec, want);
    snprintf(spec, sizeof spec, "%s@0x7FF0", path);
    snprintf(want, sizeof want, "%s: binary at 0x7ff0-0x800f overlaps the start-state page tables and GDT at 0x1000-0x7fff", path);
    load_fails(m, spec, want);
    /* nothing of the refused loads reached memory */
    uint8_t back[0x20];
    ck_assert_int_eq(vmxsim_mem_read(m, 0x1FFFE0, back, sizeof back), 0);
    for (size_t i = 0; i < sizeof back; i++) ck_assert_uint_eq(back[i], 0);
    ck_assert_int_eq(vmxsim_mem_read(m, 0x7FE0, back, sizeof back), 0);
    for (size_t i = 0; i < sizeof back; i++) ck_assert_uint_eq(back[i], 0);
    /* a good one, then a second program */
    snprintf(spec, sizeof spec, "%s@0x1FFFE0", path);
    ck_assert_int_eq(vmxsim_load(m, spec), 0);
    ck_assert_int_eq(vmxsim_mem_read(m, 0x1FFFE0, back, sizeof back), 0);
    ck_assert_int_eq(memcmp(back, bytes, sizeof bytes), 0);
    ck_assert_int_eq(vmxsim_load(m, spec), -1);
    snprintf(want, sizeof want, "%s: a program is loaded already (one program per machine; "
             "multiboot modules are loaded with --module / vmxsim_load_module)", path);
    ck_assert_str_eq(vmxsim_error(m), want);
    /* modules need a multiboot kernel */
    ck_assert_int_eq(vmxsim_load_module(m, path, "s"), -1);
    snprintf(want, sizeof want, "%s: module without a multiboot kernel (load a multiboot kernel first)", path);
    ck_assert_str_eq(vmxsim_error(m), want);
    unlink(path);
    done(m);
}
END_TEST

/* Crafted multiboot kernels through the whole loader: the entry of a
 * higher-half kernel, and a kernel that leaves no room for its
 * information block. */
START_TEST(api_crafted_kernel)
{
    vmxsim *m = new_machine(2ull << 20, NULL);
    mk_elf32(ET_EXEC, EM_386, 0xC0100020u, mb_ph, 1);
    mb_header(0x1000, 3, 0);
    char path[64], want[320];
    snprintf(path, sizeof path, "%s", temp_file(img, IMG_SIZE));
    ck_assert_msg(vmxsim_load(m, path) == 0, "%s", vmxsim_error(m));
    uint64_t rip, rbx;
    vmxsim_reg_read(m, VMXSIM_RIP, &rip);
    vmxsim_reg_read(m, VMXSIM_RBX, &rbx);
    ck_assert_uint_eq(rip, 0x100020);
    ck_assert_uint_eq(rbx, 0x101000); /* the page after the kernel's 0x1000 bytes */
    uint8_t back[0x10];
    ck_assert_int_eq(vmxsim_mem_read(m, 0x100000, back, sizeof back), 0);
    ck_assert_int_eq(memcmp(back, img + 0x1000, sizeof back), 0);
    unlink(path);
    done(m);

    m = new_machine(2ull << 20, NULL);
    const ph_t full[1] = {{PT_LOAD, 0x1000, 0x100000, 0x100000, 0x200, 0xFFF80}};
    mk_elf32(ET_EXEC, EM_386, 0x100000, full, 1);
    mb_header(0x1000, 3, 0);
    snprintf(path, sizeof path, "%s", temp_file(img, IMG_SIZE));
    snprintf(want, sizeof want, "%s: no room for the 208-byte multiboot information at 0x200000 "
             "(RAM ends at 0x200000, the kernel can reach 4 GiB)", path);
    load_fails(m, path, want);
    ck_assert_int_eq(vmxsim_mem_read(m, 0x100000, back, sizeof back), 0);
    for (size_t i = 0; i < sizeof back; i++) ck_assert_uint_eq(back[i], 0);
    unlink(path);
    /* a file larger than RAM */
    uint8_t *big = calloc(1, (2u << 20) + 1);
    snprintf(path, sizeof path, "%s", temp_file(big, (2u << 20) + 1));
    free(big);
    snprintf(want, sizeof want, "%s: file of 2097153 bytes is larger than RAM (0x200000 bytes)", path);
    load_fails(m, path, want);
    unlink(path);
    done(m);
}
END_TEST

START_TEST(api_module_errors)
{
    vmxsim *m = new_machine(0, NULL);
    ck_assert_int_eq(vmxsim_load_module(m, "/nonexistent/mod", NULL), -1);
    ck_assert_str_eq(vmxsim_error(m), "/nonexistent/mod: module without a multiboot kernel "
                                      "(load a multiboot kernel first)");
    ck_assert_int_eq(vmxsim_load(m, prog("mbkernel")), 0);
    ck_assert_int_eq(vmxsim_load_module(m, "/nonexistent/mod", NULL), -1);
    ck_assert_str_eq(vmxsim_error(m), "/nonexistent/mod: No such file or directory");
    /* after the run has started, no more modules */
    vmxsim_event ev;
    vmxsim_result r;
    ck_assert_int_eq(vmxsim_run_until(m, VMXSIM_EV_START, &ev, &r), 0);
    const char *mod = temp_file("m", 1);
    ck_assert_int_eq(vmxsim_load_module(m, mod, NULL), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: modules must be loaded before the run starts", mod);
    ck_assert_str_eq(vmxsim_error(m), want);
    unlink(mod);
    done(m);
}
END_TEST

START_TEST(api_module_no_room)
{
    /* 2 MiB of RAM: the kernel at 1 MiB, a module of 1 MiB cannot fit */
    vmxsim *m = new_machine(2ull << 20, "");
    ck_assert_int_eq(vmxsim_load(m, prog("mbkernel")), 0);
    uint64_t rbx;
    vmxsim_reg_read(m, VMXSIM_RBX, &rbx);
    size_t n = 1u << 20;
    uint8_t *big = calloc(1, n);
    char path[64], want[320];
    snprintf(path, sizeof path, "%s", temp_file(big, n));
    free(big);
    ck_assert_int_eq(vmxsim_load_module(m, path, NULL), -1);
    snprintf(want, sizeof want, "%s: module of 1048576 bytes does not fit in RAM at 0x%llx "
             "(RAM ends at 0x200000, a multiboot module must lie below 4 GiB)",
             path, (unsigned long long)rbx);
    ck_assert_str_eq(vmxsim_error(m), want);
    /* the kernel keeps its first information block, untouched */
    uint64_t rbx2;
    vmxsim_reg_read(m, VMXSIM_RBX, &rbx2);
    ck_assert_uint_eq(rbx2, rbx);
    uint32_t mbi[7];
    ck_assert_int_eq(vmxsim_mem_read(m, rbx, mbi, sizeof mbi), 0);
    ck_assert_uint_eq(mbi[0], 0x24D);
    ck_assert_uint_eq(mbi[5], 0); /* mods_count */
    ck_assert_uint_eq(mbi[6], rbx + 200);
    unlink(path);
    done(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *t = tcase_create("elf");
    tcase_add_test(t, elf64_plan);
    tcase_add_test(t, elf64_skips_other_headers);
    tcase_add_test(t, err_empty);
    tcase_add_test(t, err_not_elf);
    tcase_add_test(t, err_truncated_header);
    tcase_add_test(t, err_truncated_phdrs);
    tcase_add_test(t, err_class);
    tcase_add_test(t, err_data);
    tcase_add_test(t, err_machine);
    tcase_add_test(t, err_type);
    tcase_add_test(t, err_dynamic);
    tcase_add_test(t, err_segment_file_range);
    tcase_add_test(t, err_memsz_lt_filesz);
    tcase_add_test(t, err_no_load);
    tcase_add_test(t, err_too_many_segments);
    tcase_add_test(t, err_entry_outside);
    tcase_add_test(t, err_entry_not_identity);
    tcase_add_test(t, err_outside_ram);
    tcase_add_test(t, err_reserved);
    tcase_add_test(t, err_overlap);
    tcase_add_test(t, err_entry_above_4g);
    suite_add_tcase(s, t);

    t = tcase_create("multiboot");
    tcase_add_test(t, mb_elf32);
    tcase_add_test(t, mb_elf64);
    tcase_add_test(t, mb_wrong_machine);
    tcase_add_test(t, mb_bad_checksum);
    tcase_add_test(t, mb_flags);
    tcase_add_test(t, mb_header_window);
    tcase_add_test(t, mb_not_elf_without_aout);
    tcase_add_test(t, mb_aout_kludge);
    tcase_add_test(t, mb_aout_errors);
    tcase_add_test(t, mb_info_block);
    tcase_add_test(t, mb_place);
    suite_add_tcase(s, t);

    t = tcase_create("spec");
    tcase_add_test(t, spec_split);
    tcase_add_test(t, spec_errors);
    tcase_add_test(t, flat_plan);
    suite_add_tcase(s, t);

    t = tcase_create("run");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, run_payload);
    tcase_add_test(t, run_outside_ram);
    tcase_add_test(t, load_mbkernel);
    tcase_add_test(t, load_mbkernel64);
    tcase_add_test(t, load_mbkernel_aout);
    tcase_add_test(t, api_file_errors);
    tcase_add_test(t, api_flat_errors);
    tcase_add_test(t, api_crafted_kernel);
    tcase_add_test(t, api_module_errors);
    tcase_add_test(t, api_module_no_room);
    tcase_add_test(t, end_shutdown);
    tcase_add_test(t, end_hlt);
    tcase_add_test(t, end_max_insns);
    tcase_add_test(t, end_wall_limit);
    tcase_add_test(t, end_triple_fault);
    suite_add_tcase(s, t);

    /* Running the multiboot kernels: tagged, so that tests/meson.build can
     * run them as a test of their own (CK_INCLUDE_TAGS / CK_EXCLUDE_TAGS). */
    t = tcase_create("multiboot-run");
    tcase_set_tags(t, "mbrun");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, run_mbkernel);
    tcase_add_test(t, run_mbkernel_modules);
    tcase_add_test(t, run_mbkernel64);
    tcase_add_test(t, run_mbkernel_aout);
    tcase_add_test(t, run_vmx32_icelake);
    tcase_add_test(t, run_vmx32_minimal);
    suite_add_tcase(s, t);

    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
