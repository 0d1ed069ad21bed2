/*
 * harness.h - running a program on the model from a Check test and
 * looking at what it did: its result, its console output and its trace
 * (read back as a JSON array of events, docs/traces.md).
 */
#ifndef VX_TEST_HARNESS_H
#define VX_TEST_HARNESS_H

#include <jansson.h>
#include <stdint.h>

#include "vmxsim.h"

/* Instruction budget of every harness run: a runaway program ends with
 * VMXSIM_END_MAX_INSNS instead of hanging the test. */
#define VX_TEST_MAX_INSNS 10000000ull

/* Run `program` on a new machine and collect what happened.
 *   program: "NAME.elf" (looked up in $VX_BUILDDIR), a path (contains a
 *            '/'), or either with "@ADDR" for a flat binary;
 *   cpu:     profile name or path, NULL for the default;
 *   extra:   NULL, or space-separated options as for `vmxsim run`:
 *            --feature-control-unlocked, --mem SIZE-IN-BYTES,
 *            --max-insns N;
 *   res:     the run's result;
 *   events:  if not NULL, receives a new JSON array of the trace's events
 *            (json_decref it).
 * Returns 0, or -1 when the run could not be made (machine, load, trace);
 * the reason is then vx_test_error().  The program's own outcome is in
 * res, and its console output in vx_test_console(). */
int vx_test_run(const char *program, const char *cpu, const char *extra,
                vmxsim_result *res, json_t **events);

/* An MSR of a new machine of profile cpu (NULL = default), as RDMSR
 * would read it at the start: 0 and *v, or -1 (absent MSR, or no machine:
 * see vx_test_error()).  Lets a test check what a profile reports before
 * relying on it. */
int vx_test_msr(const char *cpu, uint32_t msr, uint64_t *v);

/* The reason the last vx_test_run or vx_test_msr failed. */
const char *vx_test_error(void);

/* Console output (port 0xE9 and COM1) of the last run, NUL-terminated. */
const char *vx_test_console(void);

/* The nth (0-based) event whose "event" is `event` and, unless name is
 * NULL, whose "name" is `name`; NULL if there is none.  Borrowed. */
json_t *vx_test_find(json_t *events, const char *event, const char *name, int nth);

/* How many events match, as for vx_test_find. */
int vx_test_count(json_t *events, const char *event, const char *name);

/* A field of an event that holds a hex string ("0x1f") or an integer:
 * its value, or `missing` if the field is absent or of another type. */
uint64_t vx_test_u64(const json_t *ev, const char *key, uint64_t missing);

/* A string field of an event, or "" if absent. */
const char *vx_test_str(const json_t *ev, const char *key);

#endif
