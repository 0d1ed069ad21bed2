/*
 * ept.h - EPT paging structures (Intel SDM Vol. 3C 29.3).  Until the
 * two-level walk of issue 4, the model runs a guest under EPT only when
 * the EPT maps its memory one to one, which vx_ept_identity verifies.
 */
#ifndef VX_EPT_H
#define VX_EPT_H

#include <stdint.h>

#include "paging.h"

/* Do the EPT paging structures of eptp (4-level) map every
 * guest-physical address in [0, size) to the same host-physical address,
 * readable, writable and executable (SDM Vol. 3C 29.3.2, Tables 29-1 to
 * 29-6)?  0 if so; otherwise -1 with the first guest-physical address
 * where they do not in *where. */
int vx_ept_identity(const vx_physmem *mem, uint64_t eptp, uint64_t size,
                    unsigned maxphyaddr, uint64_t *where);

#endif
