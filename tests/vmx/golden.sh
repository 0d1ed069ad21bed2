#!/bin/sh
# golden.sh VMXSIM VALIDATE SCHEMA PROGRAM GOLDEN [RUN OPTION]...
#
# Run PROGRAM on the model with a trace (`vmxsim run --trace`), require
# that it passed (exit status 1: it wrote 0 to port 0xF4), check the
# trace against the schema (docs/trace-schema.json, with VALIDATE =
# tests/validate_trace), and compare it with the checked-in GOLDEN trace
# with `vmxsim diff` (exit 0 = same).  Ignored: the start event's
# "images" (absolute paths of the build tree) and "version".  How to
# regenerate a golden trace: tests/vmx/meson.build.
set -u
if [ $# -lt 5 ]; then
    echo "usage: golden.sh VMXSIM VALIDATE SCHEMA PROGRAM GOLDEN [RUN OPTION]..." >&2
    exit 2
fi
vmxsim=$1 validate=$2 schema=$3 prog=$4 golden=$5
shift 5
out=$(mktemp "${TMPDIR:-/tmp}/vx-golden-XXXXXX") || exit 2
err=$(mktemp "${TMPDIR:-/tmp}/vx-golden-err-XXXXXX") || exit 2
trap 'rm -f "$out" "$err"' EXIT
"$vmxsim" run --quiet --trace "$out" "$@" "$prog" >"$err" 2>&1
status=$?
cat "$err"
if [ "$status" -ne 1 ]; then
    echo "golden.sh: $prog exited with status $status, expected 1 (PASS)" >&2
    exit 1
fi
"$validate" "$schema" "$out" || exit 1
if [ ! -s "$golden" ]; then
    echo "golden.sh: $golden is empty: generate it (see tests/vmx/meson.build)" >&2
    exit 1
fi
exec "$vmxsim" diff --ignore images --ignore version "$golden" "$out"
