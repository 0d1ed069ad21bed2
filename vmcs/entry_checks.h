/*
 * entry_checks.h - the checks VM entry makes before it loads anything:
 * on the VMX controls and the host-state area (SDM Vol. 3C 27.2) and on
 * the guest-state area (27.3.1).  Pure checking: nothing is loaded,
 * nothing is executed.  The rules are the table vmcs/entry_checks.def
 * (one line per rule, in the SDM's order); docs/entry-checks.md lists
 * them and names the sources they were reconciled with.
 *
 * Order: the SDM lets a processor check the rules of one class in any
 * order and real hardware's order is not documented; the model checks
 * them in the order the SDM lists them, which is the order of the .def,
 * and reports the first that fails.
 */
#ifndef VX_ENTRY_CHECKS_H
#define VX_ENTRY_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "vmcs.h"

/* VX_CHECK_<id> for every line of entry_checks.def, in its order. */
enum vx_check_id {
#define VX_CHECK(id, cls, sec, desc) VX_CHECK_##id,
#include "entry_checks.def"
#undef VX_CHECK
    VX_CHECK_COUNT
};

/* What a failing check makes of the VM entry (27.2, 27.8):
 * CONTROL  VMfailValid with error 7 (VM entry with invalid control fields)
 * HOST     VMfailValid with error 8 (VM entry with invalid host-state fields)
 * GUEST    VM-entry failure: VM exit with basic reason 33, the exit
 *          qualification in vx_entry_failure.qualification. */
enum vx_check_class { VX_CHECK_CONTROL, VX_CHECK_HOST, VX_CHECK_GUEST };

/* Table look-ups; an id outside 0..VX_CHECK_COUNT-1 gives "unknown"
 * (name, section, description) or -1 (class). */
const char *vx_check_name(int id);   /* "guest_ss_rpl_cs" */
const char *vx_check_sdm(int id);    /* "27.3.1.2" */
const char *vx_check_desc(int id);   /* one line */
int vx_check_class_of(int id);       /* enum vx_check_class */

/* The first check that failed: its id, the VMCS fields it read (full
 * encodings, VX_ENC_*) with the values they held, and the exit
 * qualification (GUEST checks: 0 default, 2 PDPTE, 3 NMI injected while
 * blocking by STI, 4 VMCS link pointer; always 0 for CONTROL and HOST).
 * check is -1 when the environment itself was unusable (NULL profile or
 * VMCS).  A PDPTE read from memory is reported as the guest PDPTEn field
 * it would be loaded into, with the value read. */
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
    /* The processor's current values, at the time of VM entry: IA32_EFER.LMA
     * decides the address-space-size checks (27.2.4).  cr0 and cr4 are
     * kept for the integrator (no check in 27.2-27.3.1 reads them). */
    uint64_t cr0, cr4, efer;
    /* Physical memory for the VMCS link pointer's region and the guest
     * PDPTEs: 0 ok, -1 outside memory.  NULL reads as outside memory.
     * What is read from outside memory is all ones (as a read of
     * non-existent memory on a PC), see docs/entry-checks.md. */
    int (*read_phys)(void *ctx, uint64_t pa, void *buf, size_t len);
    void *ctx;
    uint64_t vmxon_ptr, current_vmcs_ptr;
} vx_entry_env;

/* 27.2.1: the control fields.  0 pass; -1 fail with *f filled. */
int vx_entry_check_controls(const vx_entry_env *e, vx_entry_failure *f);

/* The EPTP rules of 27.2.1.1 (also INVEPT's and VMFUNC's): the
 * identifier of the first rule eptp breaks, or -1. */
int vx_eptp_check(const vx_profile *p, uint64_t eptp);
/* 27.2.2-27.2.4: the host-state area and the address-space size.
 * Assumes the controls passed. */
int vx_entry_check_host(const vx_entry_env *e, vx_entry_failure *f);
/* 27.3.1: the guest-state area.  Assumes controls and host passed.  When
 * the guest will use PAE paging (27.3.1.6) and pdpte_out is not NULL, the
 * four PDPTEs VM entry loads are stored there on success: read from the
 * table CR3 references without EPT, the guest PDPTE fields with EPT;
 * otherwise pdpte_out is zeroed. */
int vx_entry_check_guest(const vx_entry_env *e, vx_entry_failure *f,
                         uint64_t pdpte_out[4]);

#endif
