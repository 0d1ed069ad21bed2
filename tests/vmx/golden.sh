#!/bin/sh
# golden.sh VMXSIM PROGRAM GOLDEN [RUN OPTION]...
#
# Run PROGRAM on the model with a trace (`vmxsim run --trace`), require
# that it passed (exit status 1: it wrote 0 to port 0xF4), and compare the
# trace with the checked-in GOLDEN trace with `vmxsim diff` (exit 0 =
# same).  The start event's "images" (absolute paths of the build tree)
# is ignored.  How to regenerate a golden trace: tests/vmx/meson.build.
set -u
if [ $# -lt 3 ]; then
    echo "usage: golden.sh VMXSIM PROGRAM GOLDEN [RUN OPTION]..." >&2
    exit 2
fi
vmxsim=$1 prog=$2 golden=$3
shift 3
out=$(mktemp "${TMPDIR:-/tmp}/vx-golden-XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
err=$(mktemp "${TMPDIR:-/tmp}/vx-golden-err-XXXXXX") || exit 2
trap 'rm -f "$out" "$err"' EXIT
"$vmxsim" run --quiet --trace "$out" "$@" "$prog" >"$err" 2>&1
status=$?
cat "$err"
if [ "$status" -ne 1 ]; then
    # Skip (77) only while the loader or the CPU profiles are main's stubs.
    if grep -q -e "loader not implemented" -e "CPUID.1:ECX.VMX is 0" "$err"; then
        exit 77
    fi
    echo "golden.sh: $prog exited with status $status, expected 1 (PASS)" >&2
    exit 1
fi
if [ ! -s "$golden" ]; then
    echo "golden.sh: $golden is empty: generate it (see tests/vmx/meson.build)" >&2
    exit 1
fi
"$vmxsim" diff --ignore images "$golden" "$out" 2>"$err"
status=$?
cat "$err" >&2
# A build whose trace diff is still the stub cannot compare: skip (77).
if [ "$status" -eq 2 ] && grep -q "not implemented" "$err"; then
    exit 77
fi
exit "$status"
