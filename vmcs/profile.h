/*
 * profile.h - CPU profiles: the capability MSRs, CPUID leaves and other
 * MSRs of a modelled processor, loaded from profiles/NAME.json.
 * The file format is documented in docs/profiles.md.
 */
#ifndef VX_PROFILE_H
#define VX_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define VX_VMX_MSR_FIRST 0x480u  /* IA32_VMX_BASIC */
#define VX_VMX_MSR_LAST  0x493u  /* IA32_VMX_EXIT_CTLS2 */
#define VX_VMX_MSR_COUNT (VX_VMX_MSR_LAST - VX_VMX_MSR_FIRST + 1)
#define VX_PROFILE_MAX_CPUID 64
#define VX_PROFILE_MAX_MSRS 64

typedef struct vx_cpuid_leaf {
    uint32_t leaf, subleaf;
    int has_subleaf;          /* 0: the leaf ignores ECX */
    uint32_t eax, ebx, ecx, edx;
} vx_cpuid_leaf;

typedef struct vx_profile_msr {
    uint32_t index;
    uint64_t value;           /* value at reset */
} vx_profile_msr;

/* The cycle model's costs (vmcs/cycles.def names them; docs/
 * cycle-model.md explains them): a cost per class of ordinary
 * instruction, the costs of what the model does itself, VM-exit costs by
 * basic exit reason (-1: the generic vm_exit cost), and the TSC rate. */
enum {
#define VX_CYC_CLASS(n, d) VX_IC_##n,
#include "cycles.def"
    VX_IC_COUNT
};
enum {
#define VX_CYC_COST(n, d) VX_CC_##n,
#include "cycles.def"
    VX_CC_COUNT
};
#define VX_CYC_MAX_EXIT_REASON 96
typedef struct vx_cycles {
    uint32_t cls[VX_IC_COUNT];
    uint32_t cost[VX_CC_COUNT];
    int32_t exit_by_reason[VX_CYC_MAX_EXIT_REASON];
    uint32_t tsc_num, tsc_den;   /* TSC ticks per core cycle: num / den */
} vx_cycles;

typedef struct vx_profile {
    char name[64];
    char description[512];   /* whole: a longer one is refused */
    unsigned maxphyaddr;      /* physical-address width, from CPUID 80000008 */
    /* VMX capability MSRs 0x480-0x493; bit i of vmx_msr_present says
     * whether MSR 0x480+i exists (RDMSR of an absent one is #GP). */
    uint64_t vmx_msr[VX_VMX_MSR_COUNT];
    uint32_t vmx_msr_present;
    vx_cpuid_leaf cpuid[VX_PROFILE_MAX_CPUID];
    int ncpuid;
    /* Other MSRs the processor has (besides those the model always has,
     * listed in docs/profiles.md), with their reset values. */
    vx_profile_msr msrs[VX_PROFILE_MAX_MSRS];
    int nmsrs;
    vx_cycles cycles;
} vx_profile;

/* Load a profile by name (looked up as DIR/NAME.json) or by path (any
 * argument containing '/' or ending in ".json").  dir may be NULL for the
 * built-in directory.  Returns 0, or -1 with a one-line reason in err. */
int vx_profile_load(const char *name_or_path, const char *dir,
                    vx_profile *out, char *err, size_t errlen);

/* CPUID as the profile defines it (leaf/subleaf lookup; Intel's rule for
 * leaves above the maximum basic leaf: return the highest basic leaf). */
void vx_profile_cpuid(const vx_profile *p, uint32_t leaf, uint32_t subleaf,
                      uint32_t out[4]);

/* A VMX capability MSR (0x480-0x493): 0 and *v set if the profile has it,
 * -1 otherwise. */
int vx_profile_vmx_msr(const vx_profile *p, uint32_t msr, uint64_t *v);

/* Another MSR listed in the profile: pointer to its entry or NULL. */
const vx_profile_msr *vx_profile_msr_find(const vx_profile *p, uint32_t msr);

/* Names of the profiles in dir (NULL = built-in), sorted; returns how
 * many (at most max), or -1 if the directory cannot be read. */
int vx_profile_list(const char *dir, char names[][64], int max);

/* "IA32_VMX_BASIC" for 0x480 etc. (vmx_msrs.def), NULL outside 0x480-0x493. */
const char *vx_vmx_msr_name(uint32_t index);

/* Convenience accessors of IA32_VMX_BASIC (SDM Vol. 3D A.1). */
uint32_t vx_profile_vmcs_revision(const vx_profile *p);
unsigned vx_profile_vmcs_size(const vx_profile *p);

#endif
