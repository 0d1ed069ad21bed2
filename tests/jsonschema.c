/*
 * jsonschema.c - see jsonschema.h.  Keywords: type, enum, const,
 * pattern (POSIX extended regular expressions), minimum, maximum,
 * required, properties, additionalProperties, items, oneOf, anyOf, $ref
 * (to "#/$defs/NAME"), and the annotations $schema, $id, $defs, title,
 * description, $comment.
 */
#include <regex.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "jsonschema.h"

static const char *const known[] = {
    "type", "enum", "const", "pattern", "minimum", "maximum", "required", "properties",
    "additionalProperties", "items", "oneOf", "anyOf", "$ref", "$schema", "$id", "$defs",
    "title", "description", "$comment", NULL,
};

int vx_schema_check(const json_t *schema, char *err, size_t errlen)
{
    if (json_is_boolean(schema)) return 0;
    if (!json_is_object(schema)) {
        snprintf(err, errlen, "a schema must be an object or a boolean");
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)schema, key, val) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            if (!strcmp(key, known[i])) ok = 1;
        if (!ok) {
            snprintf(err, errlen, "unsupported schema keyword \"%s\"", key);
            return -1;
        }
        if (!strcmp(key, "properties") || !strcmp(key, "$defs")) {
            const char *k2;
            json_t *v2;
            json_object_foreach(val, k2, v2)
                if (vx_schema_check(v2, err, errlen) < 0) return -1;
        } else if (!strcmp(key, "oneOf") || !strcmp(key, "anyOf")) {
            size_t i;
            json_t *v2;
            json_array_foreach(val, i, v2)
                if (vx_schema_check(v2, err, errlen) < 0) return -1;
        } else if (!strcmp(key, "items") || !strcmp(key, "additionalProperties")) {
            if (vx_schema_check(val, err, errlen) < 0) return -1;
        }
    }
    return 0;
}

typedef struct vctx {
    const json_t *root;
    char *err;
    size_t errlen;
    int depth;
    int const_fail;   /* the failure was a const mismatch */
} vctx;

static int bad(vctx *c, const char *path, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(c->err, c->errlen, "%s: %s", path[0] ? path : "/", msg);
    return -1;
}

static int type_ok(const json_t *inst, const char *t)
{
    if (!strcmp(t, "object")) return json_is_object(inst);
    if (!strcmp(t, "array")) return json_is_array(inst);
    if (!strcmp(t, "string")) return json_is_string(inst);
    if (!strcmp(t, "integer")) return json_is_integer(inst);
    if (!strcmp(t, "number")) return json_is_number(inst);
    if (!strcmp(t, "boolean")) return json_is_boolean(inst);
    if (!strcmp(t, "null")) return json_is_null(inst);
    return 0;
}

static int validate(vctx *c, const json_t *s, const json_t *inst, const char *path);

static const json_t *resolve_ref(vctx *c, const char *ref)
{
    if (strncmp(ref, "#/$defs/", 8)) return NULL;
    return json_object_get(json_object_get(c->root, "$defs"), ref + 8);
}

static int validate(vctx *c, const json_t *s, const json_t *inst, const char *path)
{
    if (json_is_true(s)) return 0;
    if (json_is_false(s)) return bad(c, path, "%snot allowed here", "");
    if (++c->depth > 64) return bad(c, path, "%sschema nesting too deep", "");
    int r = -1;
    const json_t *v;
    c->const_fail = 0;
    if ((v = json_object_get(s, "$ref"))) {
        const json_t *t = resolve_ref(c, json_string_value(v) ? json_string_value(v) : "");
        if (!t) { bad(c, path, "unresolvable $ref %s", json_string_value(v)); goto out; }
        if (validate(c, t, inst, path) < 0) goto out;
    }
    if ((v = json_object_get(s, "type"))) {
        int ok = 0;
        if (json_is_string(v)) ok = type_ok(inst, json_string_value(v));
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) if (type_ok(inst, json_string_value(t))) ok = 1;
        if (!ok) {
            bad(c, path, "not of type %s", json_is_string(v) ? json_string_value(v) : "(listed)");
            goto out;
        }
    }
    if ((v = json_object_get(s, "const")) && !json_equal((json_t *)v, (json_t *)inst)) {
        char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        bad(c, path, "must be %s", d ? d : "?");
        free(d);
        c->const_fail = 1;
        goto out;
    }
    if ((v = json_object_get(s, "enum"))) {
        int ok = 0;
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) if (json_equal(t, (json_t *)inst)) ok = 1;
        if (!ok) {
            char *d = json_dumps(inst, JSON_ENCODE_ANY | JSON_COMPACT);
            bad(c, path, "%s is not one of the allowed values", d ? d : "?");
            free(d);
            goto out;
        }
    }
    if ((v = json_object_get(s, "pattern")) && json_is_string(inst)) {
        regex_t re;
        if (regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB)) {
            bad(c, path, "bad pattern %s", json_string_value(v));
            goto out;
        }
        int m = regexec(&re, json_string_value(inst), 0, NULL, 0);
        regfree(&re);
        if (m) { bad(c, path, "does not match %s", json_string_value(v)); goto out; }
    }
    if (json_is_integer(inst) || json_is_real(inst)) {
        double x = json_number_value(inst);
        if ((v = json_object_get(s, "minimum")) && x < json_number_value(v)) {
            bad(c, path, "%sbelow the minimum", "");
            goto out;
        }
        if ((v = json_object_get(s, "maximum")) && x > json_number_value(v)) {
            bad(c, path, "%sabove the maximum", "");
            goto out;
        }
    }
    if (json_is_object(inst)) {
        const json_t *props = json_object_get(s, "properties");
        const json_t *addl = json_object_get(s, "additionalProperties");
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)inst, key, val) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, key);
            const json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps) {
                if (validate(c, ps, val, sub) < 0) goto out;
            } else if (addl) {
                if (json_is_false(addl)) { bad(c, sub, "%sfield not allowed here", ""); goto out; }
                if (validate(c, addl, val, sub) < 0) goto out;
            }
        }
        if ((v = json_object_get(s, "required"))) {
            size_t i;
            json_t *t;
            json_array_foreach(v, i, t)
                if (!json_object_get(inst, json_string_value(t))) {
                    bad(c, path, "missing required field \"%s\"", json_string_value(t));
                    goto out;
                }
        }
    }
    if (json_is_array(inst) && (v = json_object_get(s, "items"))) {
        size_t i;
        json_t *t;
        json_array_foreach(inst, i, t) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%zu", path, i);
            if (validate(c, v, t, sub) < 0) goto out;
        }
    }
    const json_t *one = json_object_get(s, "oneOf"), *any = json_object_get(s, "anyOf");
    if (one || any) {
        const json_t *list = one ? one : any;
        int passed = 0, have_err = 0;
        char best[512] = "";
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t) {
            if (validate(c, t, inst, path) == 0) {
                passed++;
            } else if (!have_err || !c->const_fail) {
                /* Prefer the reason from an alternative that failed on
                 * something other than a const (the event kind). */
                if (!c->const_fail) have_err = 1;
                snprintf(best, sizeof best, "%s", c->err);
            }
        }
        if (one ? passed != 1 : passed == 0) {
            if (passed > 1) bad(c, path, "%smatches more than one alternative of oneOf", "");
            else if (have_err) snprintf(c->err, c->errlen, "%s", best);
            else bad(c, path, "%smatches none of the alternatives of oneOf/anyOf "
                              "(an unknown event kind?)", "");
            goto out;
        }
    }
    r = 0;
out:
    c->depth--;
    return r;
}

int vx_schema_validate(const json_t *schema, const json_t *instance, char *err, size_t errlen)
{
    vctx c = {schema, err, errlen, 0, 0};
    return validate(&c, schema, instance, "");
}
