/* guest_abort_fsbase.S - guest_abort.S with IA32_FS_BASE in the VM-exit
 * MSR-load area, an entry SDM Vol. 3C 28.6 says fails: VMX-abort
 * indicator 4. */
        .set ABORT_FSBASE, 1
#include "guest_abort.S"
