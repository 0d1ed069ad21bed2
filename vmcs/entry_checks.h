/*
 * entry_checks.h - the checks VM entry makes before it loads any guest
 * state (Intel SDM Vol. 3C 27.2 on the VMX controls and the host-state
 * area, 27.3.1 on the guest-state area), each a named rule with the SDM
 * section that states it.
 */
#ifndef VX_ENTRY_CHECKS_H
#define VX_ENTRY_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "vmcs.h"

/* A failed check: which rule, the VMCS fields and values that broke it,
 * and (guest-state checks) the exit qualification of the VM-entry
 * failure (27.8: 0 default, 2 PDPTE loading, 3 NMI injection with NMI
 * blocking, 4 invalid VMCS link pointer). */
typedef struct vx_entry_failure {
    int check;
    int nfields;
    uint32_t field[3];
    uint64_t value[3];
    uint64_t qualification;
} vx_entry_failure;

/* What the checks need beyond the VMCS and the profile. */
typedef struct vx_entry_env {
    const vx_profile *prof;
    const vx_vmcs *vmcs;
    uint64_t cr0, cr4, efer;  /* the VMM's current values */
    int (*read_phys)(void *ctx, uint64_t pa, void *buf, size_t len);
    void *ctx;
    uint64_t vmxon_ptr, current_vmcs_ptr;
} vx_entry_env;

/* The rules (entry_checks.def), by class of failure. */
enum vx_check_class { VX_CHECK_CLASS_CONTROL, VX_CHECK_CLASS_HOST, VX_CHECK_CLASS_GUEST };
enum vx_check_id {
#define VX_CHECK(id, cls, sdm, desc) VX_CHECK_##id,
#include "entry_checks.def"
#undef VX_CHECK
    VX_CHECK_COUNT
};

const char *vx_check_name(int id);   /* "guest_cs_type" */
const char *vx_check_sdm(int id);    /* "27.3.1.2" */
const char *vx_check_desc(int id);   /* what must hold, one line */
int vx_check_class(int id);          /* enum vx_check_class */

/* 0 pass, -1 fail (*f filled, in the SDM's order: the first rule that
 * fails).  vx_entry_check_guest also returns the PDPTEs that PAE paging
 * will use (zeros otherwise). */
int vx_entry_check_controls(const vx_entry_env *e, vx_entry_failure *f);
int vx_entry_check_host(const vx_entry_env *e, vx_entry_failure *f);
int vx_entry_check_guest(const vx_entry_env *e, vx_entry_failure *f, uint64_t pdpte[4]);

#endif
