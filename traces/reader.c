/*
 * reader.c - reading a JSON Lines trace back, one event at a time, in
 * memory proportional to the longest line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define MAX_LINE (16u << 20) /* a longer line is not a vmxsim trace */

struct vx_trace_reader {
    FILE *f;
    int own;
    char *path;
    char *buf;
    size_t cap;
    long line;
};

vx_trace_reader *vx_trace_reader_open(const char *path, char *err, size_t errlen)
{
    vx_trace_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!strcmp(path, "-")) {
        r->f = stdin;
    } else {
        r->f = fopen(path, "rb");
        r->own = 1;
    }
    if (!r->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(r->path);
        free(r);
        return NULL;
    }
    return r;
}

json_t *vx_trace_reader_next(vx_trace_reader *r, char *err, size_t errlen)
{
    if (errlen) err[0] = 0;
    ssize_t n = getline(&r->buf, &r->cap, r->f);
    if (n < 0) {
        if (ferror(r->f)) snprintf(err, errlen, "%s:%ld: %s", r->path, r->line + 1, strerror(errno));
        return NULL;
    }
    r->line++;
    if ((size_t)n > MAX_LINE) {
        snprintf(err, errlen, "%s:%ld: line longer than %u bytes", r->path, r->line, MAX_LINE);
        return NULL;
    }
    if (n > 0 && r->buf[n - 1] == '\n') r->buf[--n] = 0;
    if (n == 0) {
        snprintf(err, errlen, "%s:%ld: empty line (a trace has one JSON object per line)",
                 r->path, r->line);
        return NULL;
    }
    json_error_t je;
    json_t *ev = json_loadb(r->buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!ev) {
        snprintf(err, errlen, "%s:%ld: column %d: %s", r->path, r->line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(ev)) {
        json_decref(ev);
        snprintf(err, errlen, "%s:%ld: not a JSON object", r->path, r->line);
        return NULL;
    }
    return ev;
}

long vx_trace_reader_line(const vx_trace_reader *r) { return r->line; }

void vx_trace_reader_close(vx_trace_reader *r)
{
    if (!r) return;
    if (r->own) fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r);
}
