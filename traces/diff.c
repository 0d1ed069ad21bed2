/* diff.c - semantic trace diff (stub). */
#include "trace.h"
int vx_trace_diff(const char *a, const char *b, const char *const *ig, int nig, int ctx, FILE *out, char *err, size_t errlen) { (void)a; (void)b; (void)ig; (void)nig; (void)ctx; (void)out; snprintf(err, errlen, "not implemented"); return 2; }
