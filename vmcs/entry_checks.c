/*
 * entry_checks.c - VM-entry checks (SDM Vol. 3C 27.2, 27.3.1).
 *
 * NOT MODELLED YET: the rule list is being written (issue 3).  Until it
 * exists every group reports VX_CHECKS_NOT_MODELLED, and VM entry ends
 * the run with a "not modelled" report rather than entering with state
 * that real hardware might reject.
 */
#include "entry_checks.h"

const char *vx_check_name(int id) { (void)id; return "none"; }
const char *vx_check_sdm(int id) { (void)id; return "27.2"; }
const char *vx_check_desc(int id) { (void)id; return "VM-entry checks are not modelled yet"; }

int vx_entry_check_controls(const vx_entry_env *e, vx_entry_failure *f)
{
    (void)e;
    (void)f;
    return VX_CHECKS_NOT_MODELLED;
}

int vx_entry_check_host(const vx_entry_env *e, vx_entry_failure *f)
{
    (void)e;
    (void)f;
    return VX_CHECKS_NOT_MODELLED;
}

int vx_entry_check_guest(const vx_entry_env *e, vx_entry_failure *f, uint64_t pdpte[4])
{
    (void)e;
    (void)f;
    (void)pdpte;
    return VX_CHECKS_NOT_MODELLED;
}
