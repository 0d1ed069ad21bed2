/*
 * json_out.h - serialising a jansson value into a reusable byte buffer.
 *
 * The bytes are exactly those json_dumps() gives for the same value and
 * flags; the trace writer and the event delivery (sim/events.c) use it
 * because json_dumps allocates a fresh string per call and grows it
 * through a callback, which was half the cost of writing a trace.
 * tests/test_json_out.c compares the two byte for byte.
 */
#ifndef VX_JSON_OUT_H
#define VX_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/* The flags traces are written with: one compact line per event, keys
 * in the order the model added them. */
#define VX_JSON_TRACE_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* A growable buffer; zero-initialised (VX_JBUF_INIT) it is empty and
 * owns nothing.  Its storage is kept from one use to the next. */
typedef struct vx_jbuf {
    char *p;     /* the bytes, NUL-terminated after a successful vx_json_out */
    size_t len;  /* bytes before the NUL */
    size_t cap;  /* bytes allocated */
} vx_jbuf;

#define VX_JBUF_INIT {NULL, 0, 0}

/* Replace b's contents by the serialisation of v under flags (any of
 * jansson's JSON_* encoding flags; JSON_COMPACT | JSON_PRESERVE_ORDER
 * with or without JSON_ENCODE_ANY is done here, anything else by
 * jansson).  Returns 0, or -1 where json_dumps would return NULL (a
 * value it refuses) or when memory runs out. */
int vx_json_out(vx_jbuf *b, const json_t *v, size_t flags);

/* Free b's storage and leave it empty. */
void vx_jbuf_free(vx_jbuf *b);

#endif
