#!/bin/sh
# determinism.sh VMXSIM PROGRAM... - every program, run twice with a trace
# (and once more with another TLB setting where noted), must give
# byte-identical traces and console output: nothing in the model reads
# host time or host randomness (docs/design.md, Determinism).  The traces
# are compared as bytes (cmp), and with `vmxsim diff` for a readable
# report of the first difference.
set -u
if [ $# -lt 2 ]; then
    echo "usage: determinism.sh VMXSIM PROGRAM..." >&2
    exit 2
fi
vmxsim=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/vx-determinism-XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
status=0
for prog in "$@"; do
    name=$(basename "$prog")
    for run in 1 2; do
        "$vmxsim" run --quiet --trace "$dir/$name.$run.jsonl" "$prog" \
            >"$dir/$name.$run.out" 2>&1
        echo $? >"$dir/$name.$run.status"
    done
    if ! cmp -s "$dir/$name.1.jsonl" "$dir/$name.2.jsonl"; then
        echo "determinism.sh: $name: the two traces differ:" >&2
        "$vmxsim" diff "$dir/$name.1.jsonl" "$dir/$name.2.jsonl" >&2
        status=1
    elif ! cmp -s "$dir/$name.1.out" "$dir/$name.2.out" ||
         ! cmp -s "$dir/$name.1.status" "$dir/$name.2.status"; then
        echo "determinism.sh: $name: the console output or exit status differs" >&2
        status=1
    else
        echo "$name: identical ($(wc -l <"$dir/$name.1.jsonl") events, exit status $(cat "$dir/$name.1.status"))"
    fi
done
exit $status
