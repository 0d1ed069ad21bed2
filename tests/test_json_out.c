/*
 * test_json_out.c - traces/json_out.c against jansson: for every value
 * here, vx_json_out must give the very bytes json_dumps gives with the
 * same flags (or fail where json_dumps returns NULL).  Traces are
 * compared byte for byte by the golden tests, so any difference would
 * change every trace; this finds it at the value that causes it.
 * Also sim/events.c's hex strings against snprintf, which they replace.
 */
#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/machine.h"
#include "../traces/json_out.h"

#define ANY (VX_JSON_TRACE_FLAGS | JSON_ENCODE_ANY)

/* One buffer for all the comparisons, as the writer keeps one: reuse
 * after longer and shorter values is part of what is tested. */
static vx_jbuf buf = VX_JBUF_INIT;
static unsigned long compared;

/* Printable form of s for failure messages (other bytes in hex). */
static const char *shown(char out[static 2048], const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < 2048; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, 2048 - o, "<%02X>", c);
    }
    out[o] = '\0';
    return out;
}

/* vx_json_out(v) == json_dumps(v) under flags, byte for byte. */
static void same_flags(const json_t *v, size_t flags)
{
    char *want = json_dumps(v, flags), a[2048], b[2048];
    int r = vx_json_out(&buf, v, flags);
    compared++;
    if (!want) {
        ck_assert_msg(r == -1, "jansson refuses, we wrote %s", shown(b, buf.p, buf.len));
        return;
    }
    size_t n = strlen(want);
    ck_assert_msg(r == 0, "we refuse, jansson wrote %s", shown(a, want, n));
    ck_assert_msg(buf.len == n && !memcmp(buf.p, want, n) && buf.p[n] == '\0',
                  "flags %#zx:\njansson %s\nours    %s", flags, shown(a, want, n),
                  shown(b, buf.p, buf.len));
    free(want);
}

/* Under the trace flags; scalars need JSON_ENCODE_ANY, and without it
 * both must refuse them. */
static void same(const json_t *v)
{
    same_flags(v, ANY);
    same_flags(v, VX_JSON_TRACE_FLAGS);
}

/* v as a string value, as an object key, and inside an array. */
static void same_text(const char *s, size_t n, int checked)
{
    json_t *str = checked ? json_stringn(s, n) : json_stringn_nocheck(s, n);
    ck_assert_ptr_nonnull(str);
    same(str);
    json_t *obj = json_object();
    if (checked) ck_assert_int_eq(json_object_setn(obj, s, n, json_true()), 0);
    else ck_assert_int_eq(json_object_setn_nocheck(obj, s, n, json_true()), 0);
    json_object_set_new(obj, "after", json_integer(1));
    same(obj);
    json_t *arr = json_pack("[i,O,s]", 7, str, "z");
    same(arr);
    json_decref(arr);
    json_decref(obj);
    json_decref(str);
}

START_TEST(every_ascii_byte)
{
    char s[3];
    for (int c = 0; c < 0x80; c++) {
        s[0] = (char)c;
        same_text(s, 1, 1);
        s[0] = 'a';            /* and between other characters */
        s[1] = (char)c;
        s[2] = 'b';
        same_text(s, 3, 1);
    }
    char all[0x80];
    for (int c = 1; c < 0x80; c++) all[c - 1] = (char)c;
    same_text(all, 0x7F, 1);
    same_text("", 0, 1);
    same_text("\0\0", 2, 1);
    same_text("a/b\\/\"\"", 7, 1);
}
END_TEST

START_TEST(utf8_passes_through)
{
    static const char *const texts[] = {
        "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xE2\x80\xA8\xE2\x80\xA9",
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n\"\xC3\xA9\"\x01\xC2\xA0",
        "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        same_text(texts[i], strlen(texts[i]), 1);
}
END_TEST

/* Strings jansson's constructors would refuse, made without the check:
 * json_dumps refuses such a value but writes part of such a key; either
 * way ours must be its output. */
START_TEST(ill_formed_utf8)
{
    static const unsigned char tails[] = {0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0};
    unsigned char s[6];
    for (unsigned a = 0x80; a <= 0xFF; a++) {
        for (unsigned b = 0; b <= 0xFF; b++) {
            s[0] = (unsigned char)a;
            s[1] = (unsigned char)b;
            same_text((const char *)s, 2, 0);
        }
        if (a < 0xC0) continue;   /* a continuation byte first: the loop above */
        for (size_t i = 0; i < sizeof tails; i++)
            for (size_t j = 0; j < sizeof tails; j++)
                for (size_t k = 0; k < sizeof tails; k++) {
                    s[0] = 'x';
                    s[1] = (unsigned char)a;
                    s[2] = tails[i];
                    s[3] = tails[j];
                    s[4] = tails[k];
                    s[5] = '"';
                    for (size_t n = 2; n <= 6; n++) same_text((const char *)s, n, 0);
                }
    }
}
END_TEST

START_TEST(integers)
{
    static const json_int_t fixed[] = {0, 1, -1, 9, 10, 99, 100, -100, INT64_MAX, INT64_MIN,
                                       INT64_MAX - 1, INT64_MIN + 1, INT32_MAX, INT32_MIN,
                                       (json_int_t)UINT32_MAX};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        json_t *v = json_integer(fixed[i]);
        same(v);
        json_decref(v);
    }
    json_int_t p = 1;   /* 10^k, up to 10^18 (10^19 overflows) */
    for (int k = 0; k <= 18; k++) {
        if (k) p *= 10;
        for (json_int_t d = -1; d <= 1; d++) {
            json_t *v = json_pack("[I,I]", p + d, -(p + d));
            same(v);
            json_decref(v);
        }
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;   /* every digit count, both signs */
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        json_t *v = json_integer((json_int_t)(x >> (i % 64)));
        same(v);
        json_decref(v);
    }
}
END_TEST

START_TEST(reals)
{
    static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 3.5, 1e16, 1e17, 1e22,
                                   1e-7, 123456789012345678.0, 12345.0, DBL_MAX, -DBL_MAX,
                                   DBL_MIN, 5e-324, 1e300, -2.5e-300, 2.0 / 3.0};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        json_t *v = json_pack("{s:f,s:[f]}", "r", fixed[i], "a", fixed[i]);
        same(v);
        same(json_object_get(v, "r"));
        json_decref(v);
    }
    uint64_t x = 42;
    for (int i = 0; i < 5000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double d;
        memcpy(&d, &x, sizeof d);
        json_t *v = json_real(d);   /* NULL for NaN and infinities */
        if (!v) continue;
        same(v);
        json_decref(v);
    }
}
END_TEST

START_TEST(literals_and_containers)
{
    json_t *v = json_pack("{s:b,s:b,s:n,s:{},s:[],s:[[],{}],s:{s:{s:[n,b,{}]}},s:s}",
                          "t", 1, "f", 0, "n", "o", "a", "aa", "deep", "x", "y", 0, "", "");
    same(v);
    json_decref(v);
    json_t *lits[] = {json_true(), json_false(), json_null(), json_object(), json_array(),
                      json_string("")};
    for (size_t i = 0; i < sizeof lits / sizeof *lits; i++) {
        same(lits[i]);
        json_decref(lits[i]);
    }
    same_flags(NULL, ANY);
    same_flags(NULL, VX_JSON_TRACE_FLAGS);
}
END_TEST

/* Members in insertion order, through replacement, deletion and the
 * growth of jansson's hash table. */
START_TEST(object_order)
{
    json_t *o = json_object();
    char key[16];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "k%d", (i * 7919) % 1000);
        json_object_set_new(o, key, json_integer(i));
        if (i % 50 == 0) same(o);
    }
    json_object_set_new(o, "k0", json_string("replaced"));
    json_object_del(o, "k7919");
    json_object_del(o, "k838");
    json_object_set_new(o, "k838", json_string("re-added"));
    same(o);
    json_decref(o);
}
END_TEST

/* Deeper than json_out.c's own limit (jansson does those), and a cycle,
 * which jansson refuses. */
START_TEST(deep_and_cyclic)
{
    json_t *top = json_array(), *cur = top;
    for (int i = 0; i < 1000; i++) {
        json_t *n = i % 2 ? json_array() : json_object();
        if (json_is_array(cur)) json_array_append_new(cur, n);
        else json_object_set_new(cur, "k", n);
        cur = n;
        if (i == 250 || i == 260) same(top);
    }
    same(top);
    json_decref(top);
    json_t *a = json_array(), *b = json_object();
    json_array_append(a, b);
    json_object_set(b, "back", a);
    same(a);
    json_object_clear(b);
    json_decref(b);
    json_decref(a);
}
END_TEST

/* Other flags are jansson's own work, and still the same bytes. */
START_TEST(other_flags)
{
    json_t *v = json_pack("{s:s,s:[i,f,{s:s}],s:s}", "z", "a/b", "a", 1, 2.5, "q", "\xC3\xA9",
                          "b", "x\n");
    static const size_t flags[] = {0, JSON_COMPACT, JSON_INDENT(2) | JSON_PRESERVE_ORDER,
                                   VX_JSON_TRACE_FLAGS | JSON_ESCAPE_SLASH,
                                   VX_JSON_TRACE_FLAGS | JSON_ENSURE_ASCII,
                                   JSON_COMPACT | JSON_SORT_KEYS,
                                   VX_JSON_TRACE_FLAGS | JSON_REAL_PRECISION(3)};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) same_flags(v, flags[i]);
    json_decref(v);
}
END_TEST

/* sim/events.c's hex strings, formatted by hand, against snprintf. */
START_TEST(hex_strings)
{
    uint64_t x = 7;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t v = i < 64 ? 1ull << i : i < 128 ? (1ull << (i - 64)) - 1 : x >> (i % 64);
        if (i == 128) v = UINT64_MAX;
        char want[24];
        snprintf(want, sizeof want, "0x%" PRIx64, v);
        json_t *h = vx_json_hex(v);
        ck_assert_str_eq(json_string_value(h), want);
        ck_assert_uint_eq(json_string_length(h), strlen(want));
        json_decref(h);
    }
}
END_TEST

/* ---- random values ---- */

static uint64_t rng = 1;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33) % n;
}

/* Text from pieces: ASCII of every kind, escapes, UTF-8 of each length. */
static size_t random_text(char *s, size_t cap)
{
    static const char *const pieces[] = {"a", "Z", " ", "/", "\"", "\\", "\x01", "\x1f",
                                         "\x7f", "\n", "\t", "\xC3\xA9", "\xE2\x82\xAC",
                                         "\xF0\x9F\x98\x80", "0x1f", "{}", "[],:"};
    size_t n = 0, count = rnd(12);
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
        size_t len = strlen(p);
        if (n + len >= cap) break;
        memcpy(s + n, p, len);
        n += len;
    }
    return n;
}

static json_t *random_value(int depth)
{
    char text[64];
    switch (rnd(depth > 4 ? 6 : 8)) {
    case 0: return json_stringn(text, random_text(text, sizeof text));
    case 1: {
        unsigned shift = rnd(64);
        uint64_t bits = rnd(2) ? rng >> shift : 0 - (rng >> shift);
        return json_integer((json_int_t)bits);
    }
    case 2: return json_real((double)rnd(100000) / (double)(rnd(999) + 1));
    case 3: return json_true();
    case 4: return json_false();
    case 5: return json_null();
    case 6: {
        json_t *a = json_array();
        for (unsigned i = rnd(6); i > 0; i--) json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd(6); i > 0; i--) {
            size_t n = random_text(text, sizeof text);
            json_object_setn_new(o, text, n, random_value(depth + 1));
        }
        return o;
    }
    }
}

START_TEST(random_values)
{
    for (int i = 0; i < 20000; i++) {
        json_t *v = random_value(0);
        same(v);
        json_decref(v);
    }
}
END_TEST

/* An event as the model builds it (docs/traces.md). */
START_TEST(trace_event)
{
    json_t *ev = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:i,s:s,s:s}", "event", "io",
                           "seq", (json_int_t)123456, "icount", (json_int_t)99,
                           "cycle", (json_int_t)1234567, "mode", "root", "rip", "0x100012",
                           "insn", "out 0x80, al", "port", "0x80", "size", 1,
                           "direction", "out", "value", "0xff");
    same(ev);
    json_decref(ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_out");
    TCase *t = tcase_create("json_out");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, every_ascii_byte);
    tcase_add_test(t, utf8_passes_through);
    tcase_add_test(t, ill_formed_utf8);
    tcase_add_test(t, integers);
    tcase_add_test(t, reals);
    tcase_add_test(t, literals_and_containers);
    tcase_add_test(t, object_order);
    tcase_add_test(t, deep_and_cyclic);
    tcase_add_test(t, other_flags);
    tcase_add_test(t, random_values);
    tcase_add_test(t, trace_event);
    tcase_add_test(t, hex_strings);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_set_fork_status(r, CK_NOFORK);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    vx_jbuf_free(&buf);
    printf("%lu values compared\n", compared);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
