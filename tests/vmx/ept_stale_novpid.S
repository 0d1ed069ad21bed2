/* ept_stale_novpid.S - ept_stale.S without "enable VPID": the guest's
 * translations are tagged VPID 0, which every VM entry and VM exit
 * invalidates (SDM Vol. 3C 29.4.3.1); EPT's guest-physical mappings stay
 * until INVEPT. */
        .set NO_VPID, 1
#include "ept_stale.S"
