/*
 * trace.h - JSON Lines traces: the writer the model streams events to,
 * the reader, and the semantic diff used by `vmxsim diff`.
 * The event schema is docs/trace-schema.json (see docs/traces.md).
 */
#ifndef VX_TRACE_H
#define VX_TRACE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VX_TRACE_SCHEMA_VERSION 1

typedef struct vx_trace vx_trace;

/* Open a trace for writing: a path, or "-" for standard output.
 * Returns NULL with a one-line reason in err. */
vx_trace *vx_trace_open(const char *path, char *err, size_t errlen);
/* Write one event as one compact line (keys in insertion order).
 * Returns 0, or -1 on a write error (the trace then stops writing). */
int vx_trace_write(vx_trace *t, const json_t *ev);
/* Write an event serialised already (traces/json_out.h, under
 * VX_JSON_TRACE_FLAGS): its n bytes and the newline.  NULL says that it
 * could not be serialised: the trace fails as on a write error.  Returns
 * as vx_trace_write. */
int vx_trace_write_line(vx_trace *t, const char *line, size_t n);
/* Push buffered lines to the file; -1 if that (or an earlier write)
 * failed. */
int vx_trace_flush(vx_trace *t);
/* Bytes written so far. */
unsigned long long vx_trace_bytes(const vx_trace *t);
/* Flush and close; returns -1 if any write failed. */
int vx_trace_close(vx_trace *t);

typedef struct vx_trace_reader vx_trace_reader;
vx_trace_reader *vx_trace_reader_open(const char *path, char *err, size_t errlen);
/* Next event (caller owns the reference), or NULL at end of file or on
 * error; on error *err is non-empty ("FILE:LINE: reason"). */
json_t *vx_trace_reader_next(vx_trace_reader *r, char *err, size_t errlen);
/* Line number of the event last returned (1-based). */
long vx_trace_reader_line(const vx_trace_reader *r);
void vx_trace_reader_close(vx_trace_reader *r);

/* Semantic diff of two traces: compares events in order, field by field,
 * ignoring the named fields.  Writes a report of the first divergence
 * (event number, field path, both values, `context` events before it) to
 * out.  Returns 0 same, 1 different, 2 error (reason in err). */
int vx_trace_diff(const char *path_a, const char *path_b,
                  const char *const *ignore, int nignore, int context,
                  FILE *out, char *err, size_t errlen);

/* Summary of a trace (`vmxsim stats`): events by kind, VMX instructions
 * by outcome, VM exits by reason, the end.  0, or 2 with err set. */
int vx_trace_stats(const char *path, FILE *out, char *err, size_t errlen);

/* The page walks of a trace as tables (`vmxsim explain`): every
 * translation event, or the one with sequence number seq (>= 0), or those
 * of the page of la (have_la).  0, 1 if none matched, 2 on error. */
int vx_trace_explain(const char *path, long seq, uint64_t la, int have_la, FILE *out,
                     char *err, size_t errlen);

#endif
