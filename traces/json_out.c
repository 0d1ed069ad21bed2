/*
 * json_out.c - our own serialiser of jansson values (json_out.h).
 *
 * It writes what jansson 2.14's json_dumps writes under JSON_COMPACT |
 * JSON_PRESERVE_ORDER (and JSON_ENCODE_ANY), as found by experiment and
 * checked by tests/test_json_out.c:
 *   - objects in insertion order (json_object_iter*), "," and ":" with no
 *     spaces; empty ones as {} and [];
 *   - strings: '"' and '\\' escaped with a backslash; control characters
 *     as \b \t \n \f \r, the others (NUL included) as \u00XX with
 *     upper-case hex; everything else, '/', DEL and UTF-8, as it is;
 *   - integers in decimal, true, false, null.
 * Whatever jansson does differently or that we do not model is left to
 * jansson itself, for the whole value (other flags, a string that is not
 * well-formed UTF-8: jansson then refuses a value but writes part of an
 * object key; nesting so deep it may be a cycle, which jansson refuses)
 * or for one real (its "%.17g" form, through json_dumpb).  So the output
 * is jansson's in every case; only the common ones are fast.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

/* What a serialising step reports: done, failed (out of memory), or a
 * case left to jansson for the whole value. */
enum { OUT_OK = 0, OUT_FAIL = -1, OUT_JANSSON = 1 };

/* Deeper than this jansson serialises the value: traces nest four deep,
 * and a cycle (which jansson detects and refuses) nests for ever. */
#define MAX_DEPTH 256

void vx_jbuf_free(vx_jbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Make room for n more bytes and the closing NUL: the slow part of
 * reserve(), kept out of line so that the common case is one compare. */
static int grow(vx_jbuf *b, size_t n)
{
    /* A bound far above any event, under which the doubling cannot wrap. */
    if (n > SIZE_MAX / 4 - b->len) return OUT_FAIL;
    size_t cap = b->cap ? b->cap : 512;
    while (cap - b->len <= n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return OUT_FAIL;
    b->p = p;
    b->cap = cap;
    return OUT_OK;
}

static inline int reserve(vx_jbuf *b, size_t n)
{
    return b->cap > b->len && b->cap - b->len > n ? OUT_OK : grow(b, n);
}

static inline int put(vx_jbuf *b, const char *s, size_t n)
{
    if (reserve(b, n)) return OUT_FAIL;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return OUT_OK;
}

static inline int put_ch(vx_jbuf *b, char c)
{
    if (reserve(b, 1)) return OUT_FAIL;
    b->p[b->len++] = c;
    return OUT_OK;
}

/* ---- strings ---- */

/* Length of the well-formed UTF-8 sequence (Unicode Table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF) at s, whose
 * first byte is >= 0x80; 0 if it is not one.  jansson refuses exactly
 * these; were it laxer, the strings we refuse would still be its own
 * output, as they go to jansson. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;      /* shorter forms are overlong */
        if (c == 0xED) hi = 0x9F;      /* ED A0.. are surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        if (c == 0xF4) hi = 0x8F;      /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return len;
}

/* What a string byte needs: 0 nothing (printable ASCII other than '"'
 * and '\\'), ESC an escape, UTF8 the check of the sequence it starts. */
enum { ESC = 1, UTF8 = 2 };
static const unsigned char byte_class[256] = {   /* rows by high nibble */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 1_ */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 2_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 3_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 4_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* 5_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 6_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 7_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* 8_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* 9_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* A_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* B_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* C_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* D_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* E_ */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,   /* F_ */
};

/* The escape of an ASCII byte of class ESC at o; returns the end. */
static char *put_escape(char *o, unsigned c)
{
    static const char short_form[32] = {['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
                                         ['\f'] = 'f', ['\r'] = 'r'};
    static const char hex[] = "0123456789ABCDEF";
    *o++ = '\\';
    if (c == '"' || c == '\\') {
        *o++ = (char)c;
    } else if (short_form[c]) {
        *o++ = short_form[c];
    } else {
        memcpy(o, "u00", 3);
        o[3] = hex[c >> 4];
        o[4] = hex[c & 15];
        o += 5;
    }
    return o;
}

/* The inside of a string, at o (room reserved: 6 bytes a byte); returns
 * the end, or NULL if str is not well-formed UTF-8.  Byte by byte, as
 * the strings of traces are short: a copy per run cost more. */
static char *string_body(char *o, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    while (s < end) {
        unsigned c = *s, cls = byte_class[c];
        if (!cls) {
            *o++ = (char)c;
            s++;
        } else if (cls == ESC) {
            o = put_escape(o, c);
            s++;
        } else {
            size_t k = utf8_seq(s, (size_t)(end - s));
            if (!k) return NULL;
            memcpy(o, s, k);
            o += k;
            s += k;
        }
    }
    return o;
}

/* The longest string reserve() is asked to make room for at once. */
#define MAX_STRING ((SIZE_MAX / 4) / 6 - 4)

/* str in quotes, after the byte lead and before the byte trail (0:
 * none), in one reservation: a string value (0, 0) or a member's key
 * (',' unless it is the first, ':'). */
static int out_quoted(vx_jbuf *b, const char *str, size_t n, char lead, char trail)
{
    if (n > MAX_STRING || reserve(b, 6 * n + 4)) return OUT_FAIL;
    char *o = b->p + b->len;
    if (lead) *o++ = lead;
    *o++ = '"';
    o = string_body(o, str, n);
    if (!o) return OUT_JANSSON;
    *o++ = '"';
    if (trail) *o++ = trail;
    b->len = (size_t)(o - b->p);
    return OUT_OK;
}

/* ---- numbers ---- */

static int out_integer(vx_jbuf *b, json_int_t v)
{
    /* Two digits per division; the pairs 00..99 in order. */
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char tmp[24], *e = tmp + sizeof tmp, *p = e;
    /* Negated as unsigned, so that INT64_MIN has its magnitude. */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    }
    if (u >= 10) {
        *--p = pairs[u * 2 + 1];
        *--p = pairs[u * 2];
    } else {
        *--p = (char)('0' + u);
    }
    if (v < 0) *--p = '-';
    return put(b, p, (size_t)(e - p));
}

/* A real as jansson writes it ("%.17g", ".0" when that looks like an
 * integer, the exponent shortened): by jansson, into our buffer. */
static int out_real(vx_jbuf *b, const json_t *v)
{
    enum { ROOM = 64 };   /* "%.17g" of a double needs at most 24 */
    if (reserve(b, ROOM)) return OUT_FAIL;
    size_t n = json_dumpb(v, b->p + b->len, ROOM, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0 || n > ROOM) return OUT_JANSSON;
    b->len += n;
    return OUT_OK;
}

/* ---- containers ---- */

static int out_value(vx_jbuf *b, const json_t *v, int depth);

static int out_object(vx_jbuf *b, const json_t *v, int depth)
{
    /* jansson's iterator takes a mutable object but does not change it. */
    json_t *obj = (json_t *)v;
    int r = put_ch(b, '{');
    char lead = 0;
    for (void *it = json_object_iter(obj); it && !r; it = json_object_iter_next(obj, it)) {
        r = out_quoted(b, json_object_iter_key(it), json_object_iter_key_len(it), lead, ':');
        if (!r) r = out_value(b, json_object_iter_value(it), depth + 1);
        lead = ',';
    }
    return r ? r : put_ch(b, '}');
}

static int out_array(vx_jbuf *b, const json_t *v, int depth)
{
    size_t n = json_array_size(v);
    int r = put_ch(b, '[');
    for (size_t i = 0; i < n && !r; i++) {
        if (i) r = put_ch(b, ',');
        if (!r) r = out_value(b, json_array_get(v, i), depth + 1);
    }
    return r ? r : put_ch(b, ']');
}

static int out_value(vx_jbuf *b, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH) return OUT_JANSSON;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return out_object(b, v, depth);
    case JSON_ARRAY: return out_array(b, v, depth);
    case JSON_STRING: return out_quoted(b, json_string_value(v), json_string_length(v), 0, 0);
    case JSON_INTEGER: return out_integer(b, json_integer_value(v));
    case JSON_REAL: return out_real(b, v);
    case JSON_TRUE: return put(b, "true", 4);
    case JSON_FALSE: return put(b, "false", 5);
    case JSON_NULL: return put(b, "null", 4);
    }
    return OUT_JANSSON;
}

/* ---- the whole value ---- */

/* The value as json_dumps writes it, copied into b. */
static int by_jansson(vx_jbuf *b, const json_t *v, size_t flags)
{
    b->len = 0;
    char *s = json_dumps(v, flags);
    if (!s) return -1;
    int r = put(b, s, strlen(s));
    free(s);
    return r;
}

int vx_json_out(vx_jbuf *b, const json_t *v, size_t flags)
{
    b->len = 0;
    /* Ours: the flags traces use, and a top-level value json_dumps
     * accepts (a scalar only with JSON_ENCODE_ANY). */
    int ours = (flags & ~(size_t)JSON_ENCODE_ANY) == VX_JSON_TRACE_FLAGS && v &&
               (json_is_object(v) || json_is_array(v) || (flags & JSON_ENCODE_ANY));
    int r = ours ? out_value(b, v, 0) : OUT_JANSSON;
    if (r == OUT_JANSSON) r = by_jansson(b, v, flags);
    if (r) {
        b->len = 0;
        return -1;
    }
    b->p[b->len] = '\0';
    return 0;
}
