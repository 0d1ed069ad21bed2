/*
 * loader.c - loading programs and multiboot modules into a machine
 * (docs/loading.md).
 *
 * sim/elf.c turns a file into a checked load plan; only a plan that
 * passed every check is written to guest memory, so a failed load leaves
 * the machine as it was.  Then the start state is set: long mode for
 * ELF64 programs and flat binaries (vx_start_state_long), 32-bit
 * protected mode with EAX/EBX for multiboot kernels
 * (vx_start_state_multiboot, Multiboot Specification 0.6.96, 3.2).
 *
 * Multiboot memory above the kernel, each part starting on a 4 KiB
 * boundary that avoids the start-state area and the legacy hole:
 *   kernel_end -> module 1 -> module 2 -> ... -> information block
 * m->mb_next_free is where the next module goes (the end of the last
 * module, or of the kernel).  The information block (structure, memory
 * map, module list, strings) follows the last module; loading a module
 * therefore overwrites the old block and writes a new one after itself,
 * and EBX and m->mb_info follow it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "machine.h"

#define FOUR_GIB (1ull << 32)

/* Read a whole regular file; *len may be 0.  max bounds what is read. */
static int read_file(vmxsim *m, const char *path, uint64_t max, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vx_set_error(m, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        vx_set_error(m, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        vx_set_error(m, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        vx_set_error(m, "%s: file of %" PRIu64 " bytes is larger than RAM (0x%" PRIx64 " bytes)",
                     path, (uint64_t)st.st_size, m->mem_size);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        vx_set_error(m, "%s: out of memory for %zu bytes", path, n);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            vx_set_error(m, "%s: %s", path, strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (r == 0) break; /* shrank while reading: use what is there */
        got += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = got;
    return 0;
}

static void write_zeros(vmxsim *m, uint64_t pa, uint64_t n)
{
    static const uint8_t zero[4096];
    while (n) {
        size_t c = n < sizeof zero ? (size_t)n : sizeof zero;
        vx_phys_write(m, pa, zero, c);
        pa += c;
        n -= c;
    }
}

static void add_image(vmxsim *m, const char *path, const char *kind, int has_entry,
                      uint64_t entry, const vx_load_plan *p, const char *string)
{
    if (!m->images) m->images = json_array();
    json_t *img = json_object();
    json_object_set_new(img, "path", json_string(path));
    json_object_set_new(img, "kind", json_string(kind));
    json_object_set_new(img, "entry", vx_json_hex(has_entry ? entry : 0));
    json_t *segs = json_array();
    for (int i = 0; i < p->nsegs; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "addr", vx_json_hex(p->segs[i].paddr));
        json_object_set_new(s, "size", vx_json_hex(p->segs[i].memsz));
        json_array_append_new(segs, s);
    }
    json_object_set_new(img, "segments", segs);
    if (string) json_object_set_new(img, "string", json_string(string));
    json_array_append_new(m->images, img);
}

static uint64_t hex_field(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strtoull(s, NULL, 0) : 0;
}

/* The modules loaded so far, from m->images, plus room for one more. */
static vx_mb_module *list_modules(vmxsim *m, int *n)
{
    size_t total = m->images ? json_array_size(m->images) : 0;
    vx_mb_module *mods = calloc(total + 1, sizeof *mods);
    if (!mods) return NULL;
    *n = 0;
    for (size_t i = 0; i < total; i++) {
        json_t *img = json_array_get(m->images, i);
        const char *kind = json_string_value(json_object_get(img, "kind"));
        if (!kind || strcmp(kind, "module")) continue;
        json_t *seg = json_array_get(json_object_get(img, "segments"), 0);
        vx_mb_module *mm = &mods[(*n)++];
        mm->start = hex_field(seg, "addr");
        mm->end = mm->start + hex_field(seg, "size");
        mm->string = json_string_value(json_object_get(img, "string"));
    }
    return mods;
}

/* Where an information block for these modules goes above `above`:
 * 0 and *base, or -1 with the error set. */
static int place_info(vmxsim *m, const char *path, uint64_t above, const vx_mb_module *mods,
                      int nmods, uint64_t *base, size_t *size)
{
    *size = vx_mb_info_size(m->cmdline, mods, nmods);
    uint64_t b = vx_place_above(above, *size);
    if (b == UINT64_MAX || b + *size > m->mem_size || b + *size > FOUR_GIB) {
        vx_set_error(m, "%s: no room for the %zu-byte multiboot information at 0x%" PRIx64
                     " (RAM ends at 0x%" PRIx64 ", the kernel can reach 4 GiB)",
                     path, *size, b == UINT64_MAX ? above : b, m->mem_size);
        return -1;
    }
    *base = b;
    return 0;
}

static int write_info(vmxsim *m, uint64_t base, size_t size, const vx_mb_module *mods, int nmods)
{
    uint8_t *buf = malloc(size);
    if (!buf) {
        vx_set_error(m, "out of memory for the multiboot information");
        return -1;
    }
    if (vx_mb_build_info(buf, size, (uint32_t)base, m->mem_size, m->cmdline, mods, nmods,
                         m->err, sizeof m->err) < 0) {
        free(buf);
        return -1;
    }
    vx_phys_write(m, base, buf, size);
    free(buf);
    return 0;
}

int vx_load_program(vmxsim *m, const char *spec)
{
    char *path = NULL;
    int has_addr;
    uint64_t addr;
    uint8_t *buf = NULL;
    size_t len = 0;
    vx_load_plan *p = NULL;
    int rc = -1;

    if (vx_parse_spec(spec, &path, &has_addr, &addr, m->err, sizeof m->err) < 0) goto out;
    if (m->entered) {
        vx_set_error(m, "%s: a program is loaded already (one program per machine; "
                     "multiboot modules are loaded with --module / vmxsim_load_module)", path);
        goto out;
    }
    if (read_file(m, path, m->mem_size, &buf, &len) < 0) goto out;
    p = malloc(sizeof *p);
    if (!p) {
        vx_set_error(m, "out of memory");
        goto out;
    }
    if (has_addr) {
        if (vx_plan_flat(path, len, addr, p, m->err, sizeof m->err) < 0) goto out;
    } else {
        if (vx_plan_image(path, buf, len, p, m->err, sizeof m->err) < 0) goto out;
    }
    if (vx_plan_check(path, p, m->mem_size, m->err, sizeof m->err) < 0) goto out;

    /* Everything that can fail for lack of room is decided before the
     * first byte is written. */
    uint64_t info = 0;
    size_t info_size = 0;
    if (p->kind == VX_IMG_MULTIBOOT &&
        place_info(m, path, p->end, NULL, 0, &info, &info_size) < 0)
        goto out;

    for (int i = 0; i < p->nsegs; i++) {
        const vx_load_seg *s = &p->segs[i];
        if (s->filesz) vx_phys_write(m, s->paddr, buf + s->offset, (size_t)s->filesz);
        write_zeros(m, s->paddr + s->filesz, s->memsz - s->filesz);
    }

    const char *kind;
    if (p->kind == VX_IMG_MULTIBOOT) {
        kind = "multiboot";
        if (write_info(m, info, info_size, NULL, 0) < 0) goto out;
        m->kernel_end = p->end;
        m->mb_next_free = p->end;
        if (vx_start_state_multiboot(m, p->entry, (uint32_t)info) < 0) goto out;
        m->multiboot = 1;
        m->mb_info = info;
    } else {
        kind = p->kind == VX_IMG_FLAT ? "flat" : "elf";
        if (vx_start_state_long(m, p->entry) < 0) goto out;
    }
    m->entered = 1;
    m->entry = p->entry;
    add_image(m, path, kind, 1, p->entry, p, NULL);
    rc = 0;
out:
    free(p);
    free(buf);
    free(path);
    return rc;
}

int vx_load_module(vmxsim *m, const char *path, const char *string)
{
    if (!path || !*path) {
        vx_set_error(m, "no module given");
        return -1;
    }
    if (!string) string = path;
    if (!m->multiboot) {
        vx_set_error(m, "%s: module without a multiboot kernel (load a multiboot kernel first)", path);
        return -1;
    }
    if (m->started) {
        vx_set_error(m, "%s: modules must be loaded before the run starts", path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    vx_mb_module *mods = NULL;
    int n = 0, rc = -1;
    if (read_file(m, path, m->mem_size, &buf, &len) < 0) goto out;

    /* Modules always start on a page boundary: what header flag 0 asks
     * for, and harmless when it is clear. */
    uint64_t start = vx_place_above(m->mb_next_free, len);
    if (start == UINT64_MAX || start + len > m->mem_size || start + len >= FOUR_GIB) {
        vx_set_error(m, "%s: module of %zu bytes does not fit in RAM at 0x%" PRIx64
                     " (RAM ends at 0x%" PRIx64 ", a multiboot module must lie below 4 GiB)",
                     path, len, start == UINT64_MAX ? m->mb_next_free : start, m->mem_size);
        goto out;
    }
    mods = list_modules(m, &n);
    if (!mods) {
        vx_set_error(m, "out of memory");
        goto out;
    }
    mods[n++] = (vx_mb_module){.start = start, .end = start + len, .string = string};
    uint64_t info;
    size_t info_size;
    if (place_info(m, path, start + len, mods, n, &info, &info_size) < 0) goto out;

    vx_phys_write(m, start, buf, len);
    if (write_info(m, info, info_size, mods, n) < 0) goto out;
    m->mb_next_free = start + len;
    m->mb_info = info;
    vx_set_gpr(m, 3, info); /* EBX: the information structure (3.2) */

    vx_load_plan seg = {.nsegs = 1};
    seg.segs[0] = (vx_load_seg){.paddr = start, .memsz = len};
    add_image(m, path, "module", 0, 0, &seg, string);
    rc = 0;
out:
    free(mods);
    free(buf);
    return rc;
}
