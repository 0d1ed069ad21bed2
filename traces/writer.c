/*
 * writer.c - the JSON Lines trace writer: one compact line per event,
 * keys in the order the model added them, streamed (constant memory: one
 * serialised event at a time, in a buffer kept from event to event).
 * The first write error stops the trace and is reported once, by this
 * write's and the close's return values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "trace.h"

struct vx_trace {
    FILE *f;
    int own;                  /* fclose on close (not stdout) */
    unsigned long long bytes;
    int failed;
    vx_jbuf line;             /* vx_trace_write's serialised event */
};

vx_trace *vx_trace_open(const char *path, char *err, size_t errlen)
{
    vx_trace *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!strcmp(path, "-")) {
        t->f = stdout;
    } else {
        t->f = fopen(path, "w");
        t->own = 1;
    }
    if (!t->f) {
        snprintf(err, errlen, "cannot write the trace %s: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    return t;
}

int vx_trace_write(vx_trace *t, const json_t *ev)
{
    if (t->failed) return -1;
    int r = vx_json_out(&t->line, ev, VX_JSON_TRACE_FLAGS);
    return vx_trace_write_line(t, r ? NULL : t->line.p, t->line.len);
}

int vx_trace_write_line(vx_trace *t, const char *line, size_t n)
{
    if (t->failed) return -1;
    if (!line || fwrite(line, 1, n, t->f) != n || putc('\n', t->f) == EOF) t->failed = 1;
    else t->bytes += n + 1;
    return t->failed ? -1 : 0;
}

int vx_trace_flush(vx_trace *t)
{
    if (!t->failed && fflush(t->f)) t->failed = 1;
    return t->failed ? -1 : 0;
}

unsigned long long vx_trace_bytes(const vx_trace *t) { return t->bytes; }

int vx_trace_close(vx_trace *t)
{
    if (!t) return 0;
    int r = t->failed ? -1 : 0;
    if (fflush(t->f)) r = -1;
    if (t->own && fclose(t->f)) r = -1;
    vx_jbuf_free(&t->line);
    free(t);
    return r;
}
