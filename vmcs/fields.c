/* fields.c - the VMCS field table (stub: filled from vmcs/fields.def). */
#include "vmcs.h"
const vx_field vx_fields[] = {{0x4400, "vm_instruction_error", VX_W32, VX_T_EXITINFO, 0}};
const int vx_nfields = 1;
int vx_field_index(uint32_t enc, int *high) { if (high) *high = 0; for (int i = 0; i < vx_nfields; i++) if (vx_fields[i].enc == enc) return i; return -1; }
const vx_field *vx_field_by_name(const char *name) { (void)name; return 0; }
const char *vx_field_width_name(int w) { static const char *n[] = {"16", "64", "32", "natural"}; return n[w & 3]; }
int vx_field_supported(const vx_profile *p, const vx_field *f) { (void)p; (void)f; return 1; }
const char *vx_vmerr_name(unsigned num) { (void)num; return "?"; }
