/* loader.c - program loading (stub). */
#include "machine.h"
int vx_load_program(vmxsim *m, const char *spec) { vx_set_error(m, "%s: loader not implemented", spec); return -1; }
int vx_load_module(vmxsim *m, const char *path, const char *s) { (void)s; vx_set_error(m, "%s: loader not implemented", path); return -1; }
