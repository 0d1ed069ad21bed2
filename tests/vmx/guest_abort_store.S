/* guest_abort_store.S - guest_abort.S with a failing VM-exit MSR-store
 * entry (bits 63:32 not 0, SDM Vol. 3C 28.4): VMX-abort indicator 1. */
        .set ABORT_STORE, 1
#include "guest_abort.S"
