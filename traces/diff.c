/*
 * diff.c - the semantic diff of two traces (`vmxsim diff A B`): events
 * are compared in order, field by field, and the first divergence is
 * reported with its event number, the path of the field, both values,
 * and a few events of context.  Fields named with --ignore are skipped
 * at any depth.  Memory: the context ring and two events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

typedef struct diff {
    const char *const *ignore;
    int nignore;
    char path[512];
    json_t *va, *vb;      /* the diverging values (borrowed); NULL = absent */
} diff;

static int ignored(const diff *d, const char *key)
{
    for (int i = 0; i < d->nignore; i++)
        if (!strcmp(d->ignore[i], key)) return 1;
    return 0;
}

static void set_path(char *path, size_t len, const char *base, const char *fmt, const void *arg,
                     size_t idx)
{
    if (fmt[0] == 'k') snprintf(path, len, "%s%s%s", base, base[0] ? "." : "", (const char *)arg);
    else snprintf(path, len, "%s[%zu]", base, idx);
}

/* 1 if equal; otherwise 0 with d->path / d->va / d->vb set. */
static int same(diff *d, json_t *a, json_t *b, const char *base)
{
    if (json_typeof(a) != json_typeof(b) &&
        !(json_is_boolean(a) && json_is_boolean(b))) {
        snprintf(d->path, sizeof d->path, "%s", base);
        d->va = a;
        d->vb = b;
        return 0;
    }
    char path[512];
    if (json_is_object(a)) {
        const char *key;
        json_t *va;
        json_object_foreach(a, key, va) {
            if (ignored(d, key)) continue;
            set_path(path, sizeof path, base, "k", key, 0);
            json_t *vb = json_object_get(b, key);
            if (!vb) {
                snprintf(d->path, sizeof d->path, "%s", path);
                d->va = va;
                d->vb = NULL;
                return 0;
            }
            if (!same(d, va, vb, path)) return 0;
        }
        json_t *vb;
        json_object_foreach(b, key, vb) {
            if (ignored(d, key) || json_object_get(a, key)) continue;
            set_path(d->path, sizeof d->path, base, "k", key, 0);
            d->va = NULL;
            d->vb = vb;
            return 0;
        }
        return 1;
    }
    if (json_is_array(a)) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            set_path(path, sizeof path, base, "i", NULL, i);
            if (!same(d, json_array_get(a, i), json_array_get(b, i), path)) return 0;
        }
        if (na != nb) {
            size_t i = na < nb ? na : nb;
            set_path(d->path, sizeof d->path, base, "i", NULL, i);
            d->va = na > nb ? json_array_get(a, i) : NULL;
            d->vb = nb > na ? json_array_get(b, i) : NULL;
            return 0;
        }
        return 1;
    }
    if (json_equal(a, b)) return 1;
    snprintf(d->path, sizeof d->path, "%s", base);
    d->va = a;
    d->vb = b;
    return 0;
}

static char *dump(const json_t *v)
{
    if (!v) return strdup("(absent)");
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    return s ? s : strdup("?");
}

static const char *kind(const json_t *ev)
{
    const char *k = json_string_value(json_object_get(ev, "event"));
    return k ? k : "?";
}

int vx_trace_diff(const char *path_a, const char *path_b, const char *const *ignore,
                  int nignore, int context, FILE *out, char *err, size_t errlen)
{
    if (context < 0) context = 0;
    vx_trace_reader *ra = vx_trace_reader_open(path_a, err, errlen);
    if (!ra) return 2;
    vx_trace_reader *rb = vx_trace_reader_open(path_b, err, errlen);
    if (!rb) {
        vx_trace_reader_close(ra);
        return 2;
    }
    char **ring = context ? calloc((size_t)context, sizeof *ring) : NULL;
    int status = 2;
    long n = 0;
    for (;;) {
        json_t *a = vx_trace_reader_next(ra, err, errlen);
        if (!a && err[0]) break;
        json_t *b = vx_trace_reader_next(rb, err, errlen);
        if (!b && err[0]) {
            json_decref(a);
            break;
        }
        if (!a && !b) {
            status = 0;
            break;
        }
        n++;
        diff d = {.ignore = ignore, .nignore = nignore};
        int eq = a && b && same(&d, a, b, "");
        if (!eq) {
            status = 1;
            if (!a || !b) {
                char *s = dump(a ? a : b);
                fprintf(out, "traces differ at event %ld: %s ends after %ld events; %s continues with\n  %s\n",
                        n, a ? path_b : path_a, n - 1, a ? path_a : path_b, s);
                free(s);
            } else {
                char *sa = dump(d.va), *sb = dump(d.vb);
                json_t *seq = json_object_get(a, "seq");
                fprintf(out, "traces differ at event %ld (line %ld, seq %lld, \"%s\"): field %s\n",
                        n, vx_trace_reader_line(ra),
                        json_is_integer(seq) ? (long long)json_integer_value(seq) : -1LL,
                        kind(a), d.path[0] ? d.path : "(the event)");
                fprintf(out, "  %s: %s\n  %s: %s\n", path_a, sa, path_b, sb);
                free(sa);
                free(sb);
            }
            int shown = 0;
            for (int i = 0; i < context; i++)
                if (ring[(n - 1 + i) % context]) shown++;
            if (shown) {
                fprintf(out, "context (the %d events before, from %s):\n", shown, path_a);
                for (int i = 0; i < context; i++) {
                    char *s = ring[(n - 1 + i) % context];
                    if (s) fprintf(out, "  %s\n", s);
                }
            }
            if (a && b) {
                char *sa = dump(a), *sb = dump(b);
                fprintf(out, "event %ld:\n  %s: %s\n  %s: %s\n", n, path_a, sa, path_b, sb);
                free(sa);
                free(sb);
            }
            json_decref(a);
            json_decref(b);
            break;
        }
        if (context) {
            free(ring[(n - 1) % context]);
            ring[(n - 1) % context] = dump(a);
        }
        json_decref(a);
        json_decref(b);
    }
    for (int i = 0; i < context; i++) free(ring[i]);
    free(ring);
    vx_trace_reader_close(ra);
    vx_trace_reader_close(rb);
    return status;
}
