/* profile.c - CPU profiles (stub). */
#include <stdio.h>
#include <string.h>
#include "profile.h"
int vx_profile_load(const char *n, const char *dir, vx_profile *out, char *err, size_t errlen) { (void)dir; memset(out, 0, sizeof *out); snprintf(out->name, sizeof out->name, "%s", n ? n : "stub"); out->maxphyaddr = 39; out->vmx_msr[0] = 0x00da040000000004ull; out->vmx_msr_present = 1; (void)err; (void)errlen; return 0; }
void vx_profile_cpuid(const vx_profile *p, uint32_t leaf, uint32_t subleaf, uint32_t out[4]) { (void)p; (void)leaf; (void)subleaf; out[0] = out[1] = out[2] = out[3] = 0; }
int vx_profile_vmx_msr(const vx_profile *p, uint32_t msr, uint64_t *v) { if (msr < VX_VMX_MSR_FIRST || msr > VX_VMX_MSR_LAST) return -1; unsigned i = msr - VX_VMX_MSR_FIRST; if (!(p->vmx_msr_present >> i & 1)) return -1; *v = p->vmx_msr[i]; return 0; }
const vx_profile_msr *vx_profile_msr_find(const vx_profile *p, uint32_t msr) { for (int i = 0; i < p->nmsrs; i++) if (p->msrs[i].index == msr) return &p->msrs[i]; return NULL; }
uint32_t vx_profile_vmcs_revision(const vx_profile *p) { return (uint32_t)(p->vmx_msr[0] & 0x7fffffff); }
unsigned vx_profile_vmcs_size(const vx_profile *p) { return (unsigned)((p->vmx_msr[0] >> 32) & 0x1fff); }
int vx_profile_list(const char *dir, char names[][64], int max) { (void)dir; (void)max; snprintf(names[0], 64, "icelake-server"); return 1; }
