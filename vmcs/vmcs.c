/* vmcs.c - VMCS store (stub). */
#include <stdlib.h>
#include <string.h>
#include "vmcs.h"
vx_vmcs *vx_vmcs_new(uint64_t addr) { vx_vmcs *v = calloc(1, sizeof *v); if (!v) return NULL; v->addr = addr; v->val = calloc((size_t)vx_nfields, 8); return v; }
void vx_vmcs_free(vx_vmcs *v) { if (v) { free(v->val); free(v); } }
int vx_vmcs_read(const vx_profile *p, const vx_vmcs *v, uint32_t enc, uint64_t *val) { (void)p; int i = vx_field_index(enc, NULL); if (i < 0) return 12; *val = v->val[i]; return 0; }
int vx_vmcs_write(const vx_profile *p, vx_vmcs *v, uint32_t enc, uint64_t val) { (void)p; int i = vx_field_index(enc, NULL); if (i < 0) return 12; v->val[i] = val; return 0; }
size_t vx_vmcs_region_bytes(void) { return VX_VMCS_OFF_DATA + 8 * (size_t)vx_nfields; }
void vx_vmcs_to_region(const vx_vmcs *v, uint8_t *r) { memcpy(r, &v->revision, 4); memcpy(r + 4, &v->abort, 4); memcpy(r + VX_VMCS_OFF_DATA, v->val, 8 * (size_t)vx_nfields); }
void vx_vmcs_from_region(vx_vmcs *v, const uint8_t *r) { memcpy(&v->revision, r, 4); memcpy(&v->abort, r + 4, 4); memcpy(v->val, r + VX_VMCS_OFF_DATA, 8 * (size_t)vx_nfields); }
