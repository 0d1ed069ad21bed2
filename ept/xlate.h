/*
 * xlate.h - address translation as the processor performs it.
 *
 *   linear --(guest paging, SDM Vol. 3A 4)--> guest-physical
 *          --(EPT, SDM Vol. 3C 29.3)-------> host-physical
 *
 * In VMX non-root operation with EPT every reference the guest walk makes
 * to a guest paging-structure entry is itself a guest-physical address,
 * translated through EPT before it is read (the two-dimensional walk,
 * 29.3.2): 4-level guest paging over 4-level EPT makes up to 24 memory
 * references.  Root operation, and non-root operation without EPT, use
 * the same walker with EPT off (guest-physical = host-physical).
 *
 * Everything here is pure: state comes in, a result and (optionally) the
 * record of every memory reference go out; memory is one host RAM array.
 * Caching translations (TLBs) is tlb.h's business, not this file's.
 */
#ifndef VX_XLATE_H
#define VX_XLATE_H

#include <stdint.h>

/* Host-physical memory: RAM at [0, size).  Reads elsewhere return all
 * ones and writes elsewhere are dropped, as on a PC. */
typedef struct vx_hostmem {
    uint8_t *ram;
    uint64_t size;
} vx_hostmem;

/* The access, as bits of the #PF error code where it has them (4.7). */
enum {
    VX_ACC_W = 1u << 1,        /* data write (also: read-modify-write) */
    VX_ACC_U = 1u << 2,        /* user-mode access: CPL 3 and not implicit */
    VX_ACC_I = 1u << 4,        /* instruction fetch */
    VX_ACC_IMPLICIT = 1u << 8, /* implicit supervisor-mode access (GDT, IDT, TSS, ...) */
    VX_ACC_AC = 1u << 9,       /* RFLAGS.AC = 1 at the access (SMAP, 4.6.1) */
    VX_ACC_PEEK = 1u << 10,    /* look only: set no accessed/dirty flag, write nothing */
};

/* #PF error-code bits (4.7). */
enum {
    VX_PFEC_P = 1u << 0, VX_PFEC_W = 1u << 1, VX_PFEC_U = 1u << 2,
    VX_PFEC_RSVD = 1u << 3, VX_PFEC_I = 1u << 4, VX_PFEC_PK = 1u << 5,
};

/* EPT-violation exit-qualification bits (SDM Vol. 3C Table 28-7). */
enum {
    VX_EPTQ_READ = 1u << 0, VX_EPTQ_WRITE = 1u << 1, VX_EPTQ_FETCH = 1u << 2,
    VX_EPTQ_READABLE = 1u << 3, VX_EPTQ_WRITABLE = 1u << 4,
    VX_EPTQ_EXECUTABLE = 1u << 5, VX_EPTQ_USER_EXECUTABLE = 1u << 6,
    VX_EPTQ_GLA_VALID = 1u << 7, VX_EPTQ_TRANSLATION = 1u << 8,
    VX_EPTQ_USER_LA = 1u << 9, VX_EPTQ_WRITABLE_LA = 1u << 10, VX_EPTQ_XD_LA = 1u << 11,
    VX_EPTQ_NMI_UNBLOCKING = 1u << 12,
};

/* The guest's paging state (the processor registers the walk reads). */
typedef struct vx_guest_paging {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t pdpte[4];     /* PAE paging: the PDPTE registers (4.4.1) */
    uint32_t pkru, pkrs;   /* protection-key rights (4.6.2) */
    unsigned maxphyaddr;
    int page1gb;           /* 1-GByte pages (CPUID.80000001H:EDX[26]) */
} vx_guest_paging;

/* EPT as the current VMCS configures it; enabled = 0: no EPT. */
typedef struct vx_ept {
    int enabled;
    uint64_t eptp;         /* valid (VM entry checked it, 27.2.1.1) */
    uint64_t cap;          /* IA32_VMX_EPT_VPID_CAP */
    int mbec;              /* "mode-based execute control for EPT" (25.6.2) */
    unsigned maxphyaddr;
} vx_ept;

/* One memory reference of a walk, for traces and `--explain`. */
enum { VX_DIM_GUEST = 0, VX_DIM_EPT = 1 };
typedef struct vx_walk_ref {
    uint8_t dim;       /* VX_DIM_GUEST: a guest paging-structure entry; VX_DIM_EPT */
    uint8_t level;     /* 5 (PML5) ... 1 (PT); for 32-bit paging 2 (PD) and 1 (PT) */
    uint8_t target;    /* EPT references: the guest level whose entry is being
                        * translated, or 0 for the final guest-physical address */
    uint8_t rights;    /* rights so far: guest R/W 1, U/S 2, XD 4; EPT R 1, W 2, X 4, XU 8 */
    uint8_t reg;       /* 0: a memory reference; 1: a PAE PDPTE register;
                        * 2: a cached guest-physical mapping (hpa: its result) */
    uint64_t gpa;      /* guest: the entry's guest-physical address; EPT: the address translated */
    uint64_t hpa;      /* host-physical address of the entry */
    uint64_t entry;    /* its value, as read */
} vx_walk_ref;

/* The most references one walk makes: 5-level paging over 5-level EPT
 * with EPT accessed/dirty flags off and no guest flag set yet: 5 guest
 * entries read (5 + 1 references each), each one's accessed flag written
 * through EPT (5 each: the writes are data writes, 29.3.3.2), the leaf's
 * dirty flag (5), the final guest-physical address (5). */
#define VX_WALK_MAX_REFS (5 * 6 + 5 * 5 + 5 + 5)
typedef struct vx_walk_log {
    unsigned n;
    vx_walk_ref ref[VX_WALK_MAX_REFS];
} vx_walk_log;

/* What a translation found. */
typedef enum vx_xl_status {
    VX_XL_OK = 0,
    VX_XL_PF,             /* page fault: pfec */
    VX_XL_EPT_VIOLATION,  /* VM exit 48: qual, gpa */
    VX_XL_EPT_MISCONFIG,  /* VM exit 49: gpa */
} vx_xl_status;

typedef struct vx_xlate {
    vx_xl_status status;
    uint64_t gpa;          /* the guest-physical address (for EPT faults: the one that failed) */
    uint64_t hpa;          /* OK: the host-physical address */
    uint32_t pfec;         /* VX_XL_PF: the error code */
    uint64_t qual;         /* VX_XL_EPT_VIOLATION: qualification bits 0-11 */
    /* VX_XL_OK: what the translation allows, so that it can be cached */
    uint8_t page_shift;    /* size of the combined mapping: 12, 21, 22 or 30 */
    uint8_t g_rw, g_us, g_xd, g_global, g_pkey;  /* guest paging (all 1/1/0 without paging) */
    uint8_t e_r, e_w, e_x, e_xu;                 /* EPT (all 1 without EPT) */
    uint8_t e_memtype, e_ipat;
    uint8_t dirty;         /* every dirty flag a write needs is set already */
    /* memory references the walk made (for the cycle model) */
    uint8_t nref_guest, nref_ept;
} vx_xlate;

/* Everything a translation reads: the guest's paging registers, EPT
 * (NULL or not enabled: none), memory, an optional cache of
 * guest-physical mappings (ept.h), an optional log of references. */
struct vx_gpa_cache;
typedef struct vx_xlate_env {
    const vx_guest_paging *pg;
    const vx_ept *ept;
    const vx_hostmem *mem;
    const struct vx_gpa_cache *cache;
    vx_walk_log *log;
} vx_xlate_env;

/* Translate linear address la for an access (VX_ACC_* bits).  Sets the
 * accessed and dirty flags as the processor does (unless VX_ACC_PEEK).
 * Returns out->status. */
vx_xl_status vx_xlate_linear(const vx_xlate_env *env, uint64_t la, unsigned access,
                             vx_xlate *out);

/* Translate guest-physical address gpa through EPT alone (accesses that
 * use guest-physical addresses directly: PDPTE loads by MOV to CR3,
 * which report no guest-linear address, 29.3.3.2). */
vx_xl_status vx_xlate_gpa(const vx_xlate_env *env, uint64_t gpa, unsigned access,
                          vx_xlate *out);

/* Access rights (SDM Vol. 3A 4.6) of a translation whose combined
 * rights are rw, us, xd (and protection key pkey, where keys apply: 4-
 * and 5-level paging): 0 if the access is allowed, else the #PF
 * error-code bits it adds (P, and PK for a protection-key violation).
 * Used by the walk and for translations found in a TLB. */
uint32_t vx_paging_denied(const vx_guest_paging *pg, unsigned acc, int rw, int us, int xd,
                          int keys, unsigned pkey);

/* The number of levels of the guest paging mode, 0 without paging. */
int vx_paging_levels(const vx_guest_paging *pg);

#endif
