/*
 * elf.h - the pure half of the loader: turning the bytes of a program
 * file into a load plan (where each byte goes, where execution starts),
 * checking a plan against the machine's memory, splitting "FILE@ADDR",
 * and laying out the Multiboot information structure in a host buffer.
 * Nothing here touches a machine; sim/loader.c applies the plans.
 *
 * Formats: ELF-64 and ELF-32 as the System V gABI defines them (field
 * offsets taken from <elf.h>), Multiboot Specification version 0.6.96
 * (docs/loading.md says what of it is supported).  Every function that
 * can fail returns 0 or -1 with a one-line reason in err.
 *
 * Include it as "elf.h" from sim/ (or "../sim/elf.h"): sim/ must not be
 * an include directory, or it would hide the system <elf.h> it uses.
 */
#ifndef VX_ELF_H
#define VX_ELF_H

#include <stddef.h>
#include <stdint.h>

/* At most this many PT_LOAD segments per program. */
#define VX_PLAN_MAX_SEGS 64

/* Physical memory the machine's start states own (page tables and GDT,
 * docs/start-state.md): no image may be loaded into [LO, HI). */
#define VX_RESERVED_LO 0x1000u
#define VX_RESERVED_HI 0x8000u

/* Multiboot 1 (Multiboot Specification 0.6.96, 3.1 and 3.2). */
#define VX_MB_HEADER_MAGIC 0x1BADB002u   /* in the OS image's header */
#define VX_MB_LOADER_MAGIC 0x2BADB002u   /* in EAX at entry */
#define VX_MB_SEARCH 8192u               /* header lies within these bytes */
/* Header flags (3.1.2): bits 0-15 are requirements, 16-31 optional. */
#define VX_MB_HF_PAGE_ALIGN (1u << 0)    /* modules on 4 KiB boundaries */
#define VX_MB_HF_MEMINFO (1u << 1)       /* mem_* (and mmap_*) wanted */
#define VX_MB_HF_VIDEO (1u << 2)         /* preferred video mode (3.1.4) */
#define VX_MB_HF_AOUT (1u << 16)         /* header address fields valid */
#define VX_MB_HF_SUPPORTED_REQ (VX_MB_HF_PAGE_ALIGN | VX_MB_HF_MEMINFO | VX_MB_HF_VIDEO)
/* Information-structure flags (3.3) the loader sets. */
#define VX_MBI_MEM (1u << 0)
#define VX_MBI_CMDLINE (1u << 2)
#define VX_MBI_MODS (1u << 3)
#define VX_MBI_MMAP (1u << 6)
#define VX_MBI_LOADER_NAME (1u << 9)
#define VX_MBI_FLAGS (VX_MBI_MEM | VX_MBI_CMDLINE | VX_MBI_MODS | VX_MBI_MMAP | VX_MBI_LOADER_NAME)

/* Byte offsets in the Multiboot information structure (3.3). */
enum {
    VX_MBI_OFF_FLAGS = 0, VX_MBI_OFF_MEM_LOWER = 4, VX_MBI_OFF_MEM_UPPER = 8,
    VX_MBI_OFF_BOOT_DEVICE = 12, VX_MBI_OFF_CMDLINE = 16,
    VX_MBI_OFF_MODS_COUNT = 20, VX_MBI_OFF_MODS_ADDR = 24,
    VX_MBI_OFF_SYMS = 28, VX_MBI_OFF_MMAP_LENGTH = 44, VX_MBI_OFF_MMAP_ADDR = 48,
    VX_MBI_OFF_DRIVES_LENGTH = 52, VX_MBI_OFF_DRIVES_ADDR = 56,
    VX_MBI_OFF_CONFIG_TABLE = 60, VX_MBI_OFF_LOADER_NAME = 64,
    VX_MBI_OFF_APM_TABLE = 68, VX_MBI_OFF_VBE = 72, VX_MBI_OFF_FRAMEBUFFER = 88,
    VX_MBI_STRUCT_SIZE = 116,
    /* where the loader puts the parts of its information block */
    VX_MBI_BLOCK_MMAP = 128,               /* after the structure, 8-aligned */
    VX_MBI_MMAP_ENTRY = 24,                /* size field (4) + 20 bytes */
    VX_MBI_MOD_ENTRY = 16,                 /* mod_start, mod_end, string, reserved */
};

#define VX_MB_LOADER_NAME "vmxsim"

typedef enum vx_image_kind {
    VX_IMG_ELF = 0,     /* static ELF64, entered in long mode */
    VX_IMG_FLAT,        /* FILE@ADDR: raw bytes, entered at ADDR in long mode */
    VX_IMG_MULTIBOOT,   /* Multiboot 1 kernel, entered in 32-bit protected mode */
} vx_image_kind;

typedef struct vx_load_seg {
    int index;          /* program-header index (0 for flat and a.out images) */
    uint64_t paddr;     /* physical load address */
    uint64_t vaddr;     /* linked address (= paddr for flat and a.out) */
    uint64_t offset;    /* file offset of the first byte */
    uint64_t filesz;    /* bytes copied from the file */
    uint64_t memsz;     /* bytes occupied; memsz - filesz are zeroed */
} vx_load_seg;

typedef struct vx_load_plan {
    vx_image_kind kind;
    uint64_t entry;     /* ELF: e_entry (linear = physical in the start
                           state); multiboot: physical; flat: ADDR */
    int nsegs;
    vx_load_seg segs[VX_PLAN_MAX_SEGS];
    uint64_t end;       /* one past the highest byte of any segment */
    /* multiboot only */
    int elf_class;      /* 32 or 64 for ELF kernels, 0 for the a.out kludge */
    uint32_t mb_flags;  /* the header's flags */
    uint64_t mb_offset; /* file offset of the header */
} vx_load_plan;

/* Plan a "FILE" program from its bytes: a Multiboot kernel when a valid
 * header lies in the first 8192 bytes, else a static ELF64 x86-64
 * executable.  name only labels the error messages. */
int vx_plan_image(const char *name, const uint8_t *buf, size_t len,
                  vx_load_plan *p, char *err, size_t errlen);

/* Plan a flat binary of len bytes loaded and entered at addr. */
int vx_plan_flat(const char *name, size_t len, uint64_t addr,
                 vx_load_plan *p, char *err, size_t errlen);

/* Check a plan against a machine with mem_size bytes of RAM: every
 * segment inside RAM, none in the start-state area, none overlapping
 * another; multiboot images and their entry below 4 GiB; the long-mode
 * entry inside the start state's identity map. */
int vx_plan_check(const char *name, const vx_load_plan *p, uint64_t mem_size,
                  char *err, size_t errlen);

/* Split a program spec "FILE" or "FILE@ADDR" at its last '@'.  *path is
 * malloc'd (the caller frees it); *has_addr says whether ADDR was given. */
int vx_parse_spec(const char *spec, char **path, int *has_addr, uint64_t *addr,
                  char *err, size_t errlen);

/* ---- the Multiboot information block ----
 * One contiguous block: the structure (offset 0), the memory map
 * (VX_MBI_BLOCK_MMAP), the module list, then the strings (command line,
 * boot loader name, module strings). */
typedef struct vx_mb_module {
    uint64_t start, end;  /* [start, end) in physical memory */
    const char *string;
} vx_mb_module;

/* Bytes the block needs for this command line and these modules. */
size_t vx_mb_info_size(const char *cmdline, const vx_mb_module *mods, int nmods);

/* Write the block for physical address base into buf (size bytes, at
 * least vx_mb_info_size()).  mem_size is the machine's RAM. */
int vx_mb_build_info(uint8_t *buf, size_t size, uint32_t base, uint64_t mem_size,
                     const char *cmdline, const vx_mb_module *mods, int nmods,
                     char *err, size_t errlen);

/* The first address at or above addr, 4 KiB aligned, where size bytes
 * avoid the start-state area and the 640 KiB - 1 MiB hole; UINT64_MAX
 * when there is none. */
uint64_t vx_place_above(uint64_t addr, uint64_t size);

#endif
