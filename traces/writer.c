/*
 * writer.c - the JSON Lines trace writer: one compact line per event,
 * keys in the order the model added them, streamed (constant memory: one
 * serialised event at a time).  The first write error stops the trace
 * and is reported once, by this write's and the close's return values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

struct vx_trace {
    FILE *f;
    int own;                  /* fclose on close (not stdout) */
    unsigned long long bytes;
    int failed;
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
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s) {
        t->failed = 1;
        return -1;
    }
    size_t n = strlen(s);
    if (fwrite(s, 1, n, t->f) != n || fputc('\n', t->f) == EOF) t->failed = 1;
    else t->bytes += n + 1;
    free(s);
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
    free(t);
    return r;
}
