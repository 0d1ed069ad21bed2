/*
 * jsonschema.h - a validator for the subset of JSON Schema (draft
 * 2020-12) that docs/trace-schema.json uses; a schema using any other
 * keyword is refused, so the trace schema cannot silently go unchecked.
 */
#ifndef VX_JSONSCHEMA_H
#define VX_JSONSCHEMA_H
#include <jansson.h>
#include <stddef.h>

/* 0 if the schema only uses supported keywords (else -1, reason in err). */
int vx_schema_check(const json_t *schema, char *err, size_t errlen);
/* 0 if instance is valid against schema (root for $ref); else -1 with
 * "PATH: reason" in err. */
int vx_schema_validate(const json_t *schema, const json_t *instance, char *err, size_t errlen);
#endif
