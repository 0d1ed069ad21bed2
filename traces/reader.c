/* reader.c - JSON Lines trace reader (stub). */
#include <stdlib.h>
#include "trace.h"
struct vx_trace_reader { FILE *f; long line; };
vx_trace_reader *vx_trace_reader_open(const char *path, char *err, size_t errlen) { (void)path; snprintf(err, errlen, "not implemented"); return NULL; }
json_t *vx_trace_reader_next(vx_trace_reader *r, char *err, size_t errlen) { (void)r; (void)err; (void)errlen; return NULL; }
long vx_trace_reader_line(const vx_trace_reader *r) { return r->line; }
void vx_trace_reader_close(vx_trace_reader *r) { free(r); }
