/* ept_violations_bugs.S - ept_violations.S with the checks of the model
 * bugs it found (test_vmx.c, ept_known_bug_*): fails until they
 * are fixed. */
        .set CHECK_KNOWN_BUGS, 1
#include "ept_violations.S"
