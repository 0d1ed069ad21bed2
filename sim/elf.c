/*
 * elf.c - program files to load plans (sim/elf.h, docs/loading.md).
 *
 * Sources for the formats:
 *  - ELF: the System V gABI ("Program Header", "ELF Header") and
 *    glibc's <elf.h>, whose structure layouts give the field offsets used
 *    here (offsetof), so no offset is written twice.
 *  - Multiboot: Multiboot Specification version 0.6.96 (GNU, "3.1 OS
 *    image format", "3.3 Boot information format"), cross-checked with
 *    GRUB 2's grub-core/loader/multiboot_elfxx.c for the two points the
 *    specification leaves open: segments go to p_paddr, and e_entry, a
 *    linked (virtual) address, is entered at the physical address of the
 *    byte it names in its segment (GRUB fails with "entry point isn't in
 *    a segment" otherwise).
 *
 * All multi-byte fields are read as little-endian bytes, independently of
 * the host, and every offset and size from the file is range-checked
 * before use: a hostile file gets an error line, never a read past buf.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

#define FOUR_GIB (1ull << 32)
#define PAGE 4096ull

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t rd64(const uint8_t *b) { return rd32(b) | (uint64_t)rd32(b + 4) << 32; }
static void wr32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *b, uint64_t v) { wr32(b, (uint32_t)v); wr32(b + 4, (uint32_t)(v >> 32)); }

/* A field of an ELF header of either class: its offset and width come
 * from the <elf.h> structure of that class. */
#define FIELD(cls, type, f) \
    ((cls) == 64 ? rdw(buf + offsetof(Elf64_##type, f), sizeof(((Elf64_##type *)0)->f)) \
                 : rdw(buf + offsetof(Elf32_##type, f), sizeof(((Elf32_##type *)0)->f)))
#define PFIELD(cls, ph, f) \
    ((cls) == 64 ? rdw((ph) + offsetof(Elf64_Phdr, f), sizeof(((Elf64_Phdr *)0)->f)) \
                 : rdw((ph) + offsetof(Elf32_Phdr, f), sizeof(((Elf32_Phdr *)0)->f)))

static uint64_t rdw(const uint8_t *b, size_t w)
{
    return w == 8 ? rd64(b) : w == 4 ? rd32(b) : w == 2 ? rd16(b) : b[0];
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case ET_NONE: return "ET_NONE";
    case ET_REL: return "ET_REL (an object file)";
    case ET_DYN: return "ET_DYN (position-independent)";
    case ET_CORE: return "ET_CORE (a core dump)";
    default: return "unknown";
    }
}

/* ---- the ELF program headers (both classes) ----
 * want_machine: EM_X86_64 or EM_386.  Fills p->segs, p->end and, when
 * translate_entry, the physical entry (multiboot); otherwise p->entry is
 * e_entry. */
static int plan_elf(const char *name, const uint8_t *buf, size_t len, int cls,
                    int translate_entry, vx_load_plan *p, char *err, size_t errlen)
{
    size_t ehsize = cls == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t phsize = cls == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (len < ehsize)
        return fail(err, errlen, "%s: truncated ELF header (%zu bytes, a %d-bit header has %zu)",
                    name, len, cls, ehsize);
    if (buf[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "%s: ELF data encoding %u is not little-endian (ELFDATA2LSB)",
                    name, buf[EI_DATA]);
    unsigned machine = (unsigned)FIELD(cls, Ehdr, e_machine);
    unsigned want = cls == 64 ? EM_X86_64 : EM_386;
    if (machine != want)
        return fail(err, errlen, "%s: ELF machine %u is not %s (%u)", name, machine,
                    cls == 64 ? "x86-64 (EM_X86_64)" : "i386 (EM_386)", want);
    unsigned type = (unsigned)FIELD(cls, Ehdr, e_type);
    if (type != ET_EXEC)
        return fail(err, errlen, "%s: ELF type %u %s is not ET_EXEC; link a static executable (-static -no-pie)",
                    name, type, type_name(type));
    uint64_t phoff = FIELD(cls, Ehdr, e_phoff);
    uint64_t phentsize = FIELD(cls, Ehdr, e_phentsize);
    uint64_t phnum = FIELD(cls, Ehdr, e_phnum);
    uint64_t entry = FIELD(cls, Ehdr, e_entry);
    if (phnum && phentsize < phsize)
        return fail(err, errlen, "%s: program header size %" PRIu64 " is smaller than %zu",
                    name, phentsize, phsize);
    if (phoff > len || phnum * phentsize > len - phoff)
        return fail(err, errlen, "%s: truncated program headers (%" PRIu64 " of %" PRIu64
                    " bytes at offset 0x%" PRIx64 ", file has %zu)",
                    name, phnum, phentsize, phoff, len);

    p->nsegs = 0;
    p->end = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = buf + phoff + i * phentsize;
        uint32_t pt = (uint32_t)PFIELD(cls, ph, p_type);
        if (pt == PT_INTERP || pt == PT_DYNAMIC)
            return fail(err, errlen, "%s: dynamic executable (%s); only static executables can be loaded",
                        name, pt == PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC");
        if (pt != PT_LOAD) continue;
        vx_load_seg s = {
            .index = (int)i,
            .paddr = PFIELD(cls, ph, p_paddr),
            .vaddr = PFIELD(cls, ph, p_vaddr),
            .offset = PFIELD(cls, ph, p_offset),
            .filesz = PFIELD(cls, ph, p_filesz),
            .memsz = PFIELD(cls, ph, p_memsz),
        };
        if (s.memsz < s.filesz)
            return fail(err, errlen, "%s: segment %d: p_memsz 0x%" PRIx64 " is smaller than p_filesz 0x%" PRIx64,
                        name, s.index, s.memsz, s.filesz);
        if (s.filesz && (s.offset > len || s.filesz > len - s.offset))
            return fail(err, errlen, "%s: segment %d: file range 0x%" PRIx64 "+0x%" PRIx64
                        " lies outside the file (%zu bytes)", name, s.index, s.offset, s.filesz, len);
        if (!s.memsz) continue; /* occupies nothing */
        if (s.paddr + s.memsz < s.paddr)
            return fail(err, errlen, "%s: segment %d at 0x%" PRIx64 "+0x%" PRIx64 " wraps around the address space",
                        name, s.index, s.paddr, s.memsz);
        if (p->nsegs == VX_PLAN_MAX_SEGS)
            return fail(err, errlen, "%s: more than %d loadable segments", name, VX_PLAN_MAX_SEGS);
        p->segs[p->nsegs++] = s;
        if (s.paddr + s.memsz > p->end) p->end = s.paddr + s.memsz;
    }
    if (!p->nsegs) return fail(err, errlen, "%s: no loadable segment (PT_LOAD)", name);

    /* The entry must name a loaded byte.  The start states run with
     * physical = linear addresses, so a multiboot kernel is entered at the
     * physical address of that byte (as GRUB 2 does); a long-mode program
     * must be linked where it is loaded for the segment holding its entry. */
    for (int i = 0; i < p->nsegs; i++) {
        const vx_load_seg *s = &p->segs[i];
        if (entry >= s->vaddr && entry - s->vaddr < s->memsz) {
            if (translate_entry) {
                p->entry = entry - s->vaddr + s->paddr;
            } else if (s->vaddr != s->paddr) {
                return fail(err, errlen, "%s: entry point 0x%" PRIx64 " is in segment %d linked at 0x%" PRIx64
                            " but loaded at 0x%" PRIx64 "; the start state maps memory one to one",
                            name, entry, s->index, s->vaddr, s->paddr);
            } else {
                p->entry = entry;
            }
            return 0;
        }
    }
    return fail(err, errlen, "%s: entry point 0x%" PRIx64 " is not inside a loaded segment", name, entry);
}

/* ---- Multiboot ---- */

/* Offsets in the Multiboot header (3.1.1). */
enum {
    MBH_MAGIC = 0, MBH_FLAGS = 4, MBH_CHECKSUM = 8, MBH_HEADER_ADDR = 12,
    MBH_LOAD_ADDR = 16, MBH_LOAD_END_ADDR = 20, MBH_BSS_END_ADDR = 24,
    MBH_ENTRY_ADDR = 28, MBH_SIZE_AOUT = 32, MBH_SIZE_VIDEO = 48,
};

/* Find the header: 0 found (*off), 1 none, -1 error (bad checksum or
 * header not inside the search window). */
static int find_mb_header(const char *name, const uint8_t *buf, size_t len, size_t *off,
                          char *err, size_t errlen)
{
    size_t lim = len < VX_MB_SEARCH ? len : VX_MB_SEARCH;
    long bad = -1;
    for (size_t o = 0; o + 12 <= lim; o += 4) {
        if (rd32(buf + o) != VX_MB_HEADER_MAGIC) continue;
        uint32_t flags = rd32(buf + o + MBH_FLAGS);
        if ((uint32_t)(VX_MB_HEADER_MAGIC + flags + rd32(buf + o + MBH_CHECKSUM)) != 0) {
            if (bad < 0) bad = (long)o;
            continue;
        }
        size_t need = (flags & VX_MB_HF_VIDEO) ? MBH_SIZE_VIDEO
                    : (flags & VX_MB_HF_AOUT) ? MBH_SIZE_AOUT : 12;
        if (o + need > lim)
            return fail(err, errlen, "%s: truncated multiboot header at offset 0x%zx (flags 0x%08x "
                        "need %zu bytes within the first %u bytes of the file)", name, o, flags,
                        need, VX_MB_SEARCH);
        *off = o;
        return 0;
    }
    if (bad >= 0) {
        uint32_t flags = rd32(buf + bad + MBH_FLAGS), sum = rd32(buf + bad + MBH_CHECKSUM);
        return fail(err, errlen, "%s: bad multiboot checksum at offset 0x%lx (magic 0x%08x + flags 0x%08x"
                    " + checksum 0x%08x = 0x%08x, not 0)", name, bad, VX_MB_HEADER_MAGIC, flags, sum,
                    (uint32_t)(VX_MB_HEADER_MAGIC + flags + sum));
    }
    return 1;
}

/* The a.out kludge (3.1.3): the header's physical addresses say which
 * bytes of the file go where. */
static int plan_aout(const char *name, const uint8_t *buf, size_t len, size_t hoff,
                     vx_load_plan *p, char *err, size_t errlen)
{
    const uint8_t *h = buf + hoff;
    uint32_t header_addr = rd32(h + MBH_HEADER_ADDR), load_addr = rd32(h + MBH_LOAD_ADDR);
    uint32_t load_end = rd32(h + MBH_LOAD_END_ADDR), bss_end = rd32(h + MBH_BSS_END_ADDR);
    uint32_t entry = rd32(h + MBH_ENTRY_ADDR);
    if (load_addr > header_addr)
        return fail(err, errlen, "%s: multiboot load_addr 0x%x is above header_addr 0x%x",
                    name, load_addr, header_addr);
    if (header_addr - load_addr > hoff)
        return fail(err, errlen, "%s: multiboot load_addr 0x%x would start 0x%x bytes before the file",
                    name, load_addr, (unsigned)(header_addr - load_addr - hoff));
    uint64_t offset = hoff - (header_addr - load_addr);
    uint64_t filesz;
    if (load_end) {
        if (load_end < load_addr)
            return fail(err, errlen, "%s: multiboot load_end_addr 0x%x is below load_addr 0x%x",
                        name, load_end, load_addr);
        filesz = load_end - load_addr;
        if (filesz > len - offset)
            return fail(err, errlen, "%s: multiboot load range 0x%x-0x%x needs 0x%" PRIx64
                        " bytes from file offset 0x%" PRIx64 ", which lies outside the file (%zu bytes)",
                        name, load_addr, load_end, filesz, offset, len);
    } else {
        filesz = len - offset; /* text and data occupy the rest of the file */
    }
    uint64_t memsz = filesz;
    if (bss_end) {
        if (bss_end < load_addr + filesz)
            return fail(err, errlen, "%s: multiboot bss_end_addr 0x%x is below the end of the loaded data 0x%" PRIx64,
                        name, bss_end, load_addr + filesz);
        memsz = bss_end - load_addr;
    }
    if (!memsz) return fail(err, errlen, "%s: multiboot a.out kludge loads nothing", name);
    p->nsegs = 1;
    p->segs[0] = (vx_load_seg){.index = 0, .paddr = load_addr, .vaddr = load_addr,
                               .offset = offset, .filesz = filesz, .memsz = memsz};
    p->end = load_addr + memsz;
    if (entry < load_addr || entry - load_addr >= memsz)
        return fail(err, errlen, "%s: entry point 0x%x is not inside the loaded image 0x%x-0x%" PRIx64,
                    name, entry, load_addr, p->end - 1);
    p->entry = entry;
    return 0;
}

static int is_elf(const uint8_t *buf, size_t len)
{
    return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

int vx_plan_image(const char *name, const uint8_t *buf, size_t len,
                  vx_load_plan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!len) return fail(err, errlen, "%s: empty file", name);
    size_t hoff = 0;
    int r = find_mb_header(name, buf, len, &hoff, err, errlen);
    if (r < 0) return -1;
    int elf = is_elf(buf, len);
    int cls = 0;
    if (elf && len < EI_NIDENT)
        return fail(err, errlen, "%s: truncated ELF header (%zu bytes)", name, len);
    if (elf) {
        cls = buf[EI_CLASS] == ELFCLASS64 ? 64 : buf[EI_CLASS] == ELFCLASS32 ? 32 : 0;
        if (!cls)
            return fail(err, errlen, "%s: ELF class %u is neither 32-bit nor 64-bit", name,
                        buf[EI_CLASS]);
    }

    if (r == 0) {
        uint32_t flags = rd32(buf + hoff + MBH_FLAGS);
        p->kind = VX_IMG_MULTIBOOT;
        p->mb_flags = flags;
        p->mb_offset = hoff;
        /* 3.1.2: an unknown requirement (bits 0-15) must fail the load. */
        uint32_t unknown = flags & 0xFFFFu & ~VX_MB_HF_SUPPORTED_REQ;
        if (unknown)
            return fail(err, errlen, "%s: multiboot header requires features this loader does not "
                        "support (flags 0x%08x, unknown required bits 0x%04x)", name, flags, unknown);
        if (flags & VX_MB_HF_AOUT)
            return plan_aout(name, buf, len, hoff, p, err, errlen);
        if (!elf)
            return fail(err, errlen, "%s: multiboot kernel is neither an ELF file nor sets flag 16 "
                        "(the a.out kludge load addresses)", name);
        p->elf_class = cls;
        return plan_elf(name, buf, len, cls, 1, p, err, errlen);
    }

    if (!elf)
        return fail(err, errlen, "%s: not an ELF file; give a flat binary as FILE@ADDR", name);
    if (cls == 32)
        return fail(err, errlen, "%s: 32-bit ELF file without a multiboot header; only ELF64 "
                    "programs and multiboot kernels can be loaded", name);
    p->kind = VX_IMG_ELF;
    return plan_elf(name, buf, len, 64, 0, p, err, errlen);
}

int vx_plan_flat(const char *name, size_t len, uint64_t addr,
                 vx_load_plan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!len) return fail(err, errlen, "%s: empty file", name);
    if (addr + len < addr)
        return fail(err, errlen, "%s: binary of %zu bytes at 0x%" PRIx64 " wraps around the address space",
                    name, len, addr);
    p->kind = VX_IMG_FLAT;
    p->entry = addr;
    p->nsegs = 1;
    p->segs[0] = (vx_load_seg){.index = 0, .paddr = addr, .vaddr = addr, .offset = 0,
                               .filesz = len, .memsz = len};
    p->end = addr + len;
    return 0;
}

/* How a segment is named in messages. */
static void seg_label(const vx_load_plan *p, const vx_load_seg *s, char *out, size_t n)
{
    if (p->kind == VX_IMG_FLAT)
        snprintf(out, n, "binary");
    else if (p->kind == VX_IMG_MULTIBOOT && !p->elf_class)
        snprintf(out, n, "image");
    else
        snprintf(out, n, "segment %d", s->index);
}

int vx_plan_check(const char *name, const vx_load_plan *p, uint64_t mem_size,
                  char *err, size_t errlen)
{
    char what[32], what2[32];
    for (int i = 0; i < p->nsegs; i++) {
        const vx_load_seg *s = &p->segs[i];
        uint64_t lo = s->paddr, hi = s->paddr + s->memsz; /* plans exclude wrap-around */
        seg_label(p, s, what, sizeof what);
        if (p->kind == VX_IMG_FLAT && lo >= mem_size)
            return fail(err, errlen, "%s: load address 0x%" PRIx64 " is outside RAM (0x%" PRIx64 " bytes)",
                        name, lo, mem_size);
        if (p->kind == VX_IMG_FLAT && hi > mem_size)
            return fail(err, errlen, "%s: binary of %" PRIu64 " bytes at 0x%" PRIx64
                        " does not fit in RAM (0x%" PRIx64 " bytes)", name, s->memsz, lo, mem_size);
        if (hi > mem_size)
            return fail(err, errlen, "%s: %s at 0x%" PRIx64 "-0x%" PRIx64 " lies outside RAM (0x%" PRIx64 " bytes)",
                        name, what, lo, hi - 1, mem_size);
        if (p->kind == VX_IMG_MULTIBOOT && hi > FOUR_GIB)
            return fail(err, errlen, "%s: %s at 0x%" PRIx64 "-0x%" PRIx64
                        " lies above 4 GiB, out of reach of a 32-bit multiboot kernel",
                        name, what, lo, hi - 1);
        if (lo < VX_RESERVED_HI && hi > VX_RESERVED_LO)
            return fail(err, errlen, "%s: %s at 0x%" PRIx64 "-0x%" PRIx64 " overlaps the start-state "
                        "page tables and GDT at 0x%x-0x%x", name, what, lo, hi - 1,
                        VX_RESERVED_LO, VX_RESERVED_HI - 1);
        for (int j = 0; j < i; j++) {
            const vx_load_seg *t = &p->segs[j];
            if (lo < t->paddr + t->memsz && t->paddr < hi) {
                seg_label(p, t, what2, sizeof what2);
                return fail(err, errlen, "%s: %s at 0x%" PRIx64 "-0x%" PRIx64 " overlaps %s at 0x%" PRIx64
                            "-0x%" PRIx64, name, what, lo, hi - 1, what2, t->paddr,
                            t->paddr + t->memsz - 1);
            }
        }
    }
    /* The long-mode start state identity-maps the low 4 GiB only. */
    if (p->kind != VX_IMG_MULTIBOOT && p->entry >= FOUR_GIB)
        return fail(err, errlen, "%s: entry point 0x%" PRIx64 " lies above the 4 GiB the start state maps",
                    name, p->entry);
    return 0;
}

int vx_parse_spec(const char *spec, char **path, int *has_addr, uint64_t *addr,
                  char *err, size_t errlen)
{
    *path = NULL;
    *has_addr = 0;
    *addr = 0;
    if (!spec || !*spec) return fail(err, errlen, "no program given");
    const char *at = strrchr(spec, '@');
    if (!at) {
        *path = strdup(spec);
        if (!*path) return fail(err, errlen, "out of memory");
        return 0;
    }
    if (at == spec)
        return fail(err, errlen, "%s: empty path before '@' (give FILE@ADDR)", spec);
    const char *a = at + 1;
    if (!*a)
        return fail(err, errlen, "%s: no address after '@' (give FILE@ADDR)", spec);
    /* C syntax (0x hex, 0 octal, decimal), and nothing else: strtoull
     * would also take a sign or leading blanks. */
    if (!(a[0] >= '0' && a[0] <= '9'))
        return fail(err, errlen, "%s: address '%s' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)",
                    spec, a);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(a, &end, 0);
    if (*end || end == a)
        return fail(err, errlen, "%s: address '%s' is not a number (give FILE@ADDR, e.g. prog.bin@0x100000)",
                    spec, a);
    if (errno == ERANGE)
        return fail(err, errlen, "%s: address '%s' is too large for 64 bits", spec, a);
    *path = strndup(spec, (size_t)(at - spec));
    if (!*path) return fail(err, errlen, "out of memory");
    *has_addr = 1;
    *addr = v;
    return 0;
}

/* ---- the Multiboot information block ---- */

/* Memory the loader never places anything in: the start-state tables and
 * the legacy 640 KiB - 1 MiB hole (reported reserved in the memory map). */
static const struct { uint64_t lo, hi; } avoid[] = {
    {VX_RESERVED_LO, VX_RESERVED_HI},
    {0xA0000, 0x100000},
};

uint64_t vx_place_above(uint64_t addr, uint64_t size)
{
    if (addr > UINT64_MAX - (PAGE - 1)) return UINT64_MAX;
    uint64_t a = (addr + PAGE - 1) & ~(PAGE - 1);
    for (int moved = 1; moved;) {
        moved = 0;
        for (size_t i = 0; i < sizeof avoid / sizeof avoid[0]; i++) {
            if (a < avoid[i].hi && (size ? a + size > avoid[i].lo : a >= avoid[i].lo)) {
                a = avoid[i].hi;
                moved = 1;
            }
        }
    }
    if (size > UINT64_MAX - a) return UINT64_MAX;
    return a;
}

/* The memory map this machine has (3.3, mmap_*): conventional memory,
 * the legacy hole, and the rest of RAM above 1 MiB. */
enum { MB_MEM_AVAILABLE = 1, MB_MEM_RESERVED = 2 };
static const struct { uint64_t base, length; uint32_t type; } low_map[] = {
    {0, 0xA0000, MB_MEM_AVAILABLE},       /* 640 KiB of conventional memory */
    {0xA0000, 0x60000, MB_MEM_RESERVED},  /* VGA, option ROMs, BIOS */
};
#define HIGH_BASE 0x100000ull
#define NMAP (sizeof low_map / sizeof low_map[0] + 1)

static size_t mods_offset(void) { return VX_MBI_BLOCK_MMAP + NMAP * VX_MBI_MMAP_ENTRY; }

size_t vx_mb_info_size(const char *cmdline, const vx_mb_module *mods, int nmods)
{
    size_t n = mods_offset() + (size_t)nmods * VX_MBI_MOD_ENTRY;
    n += strlen(cmdline ? cmdline : "") + 1 + sizeof VX_MB_LOADER_NAME;
    for (int i = 0; i < nmods; i++) n += strlen(mods[i].string ? mods[i].string : "") + 1;
    return n;
}

int vx_mb_build_info(uint8_t *buf, size_t size, uint32_t base, uint64_t mem_size,
                     const char *cmdline, const vx_mb_module *mods, int nmods,
                     char *err, size_t errlen)
{
    if (!cmdline) cmdline = "";
    size_t need = vx_mb_info_size(cmdline, mods, nmods);
    if (size < need)
        return fail(err, errlen, "multiboot information needs %zu bytes, have %zu", need, size);
    if ((uint64_t)base + need > FOUR_GIB)
        return fail(err, errlen, "multiboot information at 0x%x would cross 4 GiB", base);
    memset(buf, 0, need);

    /* mem_lower: KiB from 0 (640); mem_upper: KiB from 1 MiB to the first
     * hole, here the end of RAM; both 32-bit fields. */
    uint64_t upper = mem_size > HIGH_BASE ? (mem_size - HIGH_BASE) / 1024 : 0;
    wr32(buf + VX_MBI_OFF_FLAGS, VX_MBI_FLAGS);
    wr32(buf + VX_MBI_OFF_MEM_LOWER, (uint32_t)(low_map[0].length / 1024));
    wr32(buf + VX_MBI_OFF_MEM_UPPER, upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper);

    /* mmap: each entry is size (u32, 20: not counting itself), base_addr
     * (u64), length (u64), type (u32); mmap_addr points at a size field. */
    uint8_t *e = buf + VX_MBI_BLOCK_MMAP;
    size_t nmap = 0;
    for (size_t i = 0; i < NMAP; i++) {
        uint64_t b, l;
        uint32_t t;
        if (i < NMAP - 1) {
            b = low_map[i].base, l = low_map[i].length, t = low_map[i].type;
        } else {
            if (mem_size <= HIGH_BASE) break;
            b = HIGH_BASE, l = mem_size - HIGH_BASE, t = MB_MEM_AVAILABLE;
        }
        wr32(e, VX_MBI_MMAP_ENTRY - 4);
        wr64(e + 4, b);
        wr64(e + 12, l);
        wr32(e + 20, t);
        e += VX_MBI_MMAP_ENTRY;
        nmap++;
    }
    wr32(buf + VX_MBI_OFF_MMAP_LENGTH, (uint32_t)(nmap * VX_MBI_MMAP_ENTRY));
    wr32(buf + VX_MBI_OFF_MMAP_ADDR, base + VX_MBI_BLOCK_MMAP);

    size_t mo = mods_offset();
    size_t so = mo + (size_t)nmods * VX_MBI_MOD_ENTRY;
    wr32(buf + VX_MBI_OFF_MODS_COUNT, (uint32_t)nmods);
    wr32(buf + VX_MBI_OFF_MODS_ADDR, base + (uint32_t)mo);

    size_t l = strlen(cmdline) + 1;
    memcpy(buf + so, cmdline, l);
    wr32(buf + VX_MBI_OFF_CMDLINE, base + (uint32_t)so);
    so += l;
    memcpy(buf + so, VX_MB_LOADER_NAME, sizeof VX_MB_LOADER_NAME);
    wr32(buf + VX_MBI_OFF_LOADER_NAME, base + (uint32_t)so);
    so += sizeof VX_MB_LOADER_NAME;

    for (int i = 0; i < nmods; i++) {
        uint8_t *me = buf + mo + (size_t)i * VX_MBI_MOD_ENTRY;
        const char *s = mods[i].string ? mods[i].string : "";
        if (mods[i].end >= FOUR_GIB || mods[i].start > mods[i].end)
            return fail(err, errlen, "module %d at 0x%" PRIx64 "-0x%" PRIx64 " is not below 4 GiB",
                        i, mods[i].start, mods[i].end);
        wr32(me, (uint32_t)mods[i].start);
        wr32(me + 4, (uint32_t)mods[i].end);
        wr32(me + 8, base + (uint32_t)so);
        l = strlen(s) + 1;
        memcpy(buf + so, s, l);
        so += l;
    }
    return 0;
}
