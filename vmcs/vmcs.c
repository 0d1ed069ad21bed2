/*
 * vmcs.c - the model's copy of a VMCS: the component side of VMREAD and
 * VMWRITE (SDM Vol. 3C 31.3, "VMREAD"/"VMWRITE" operation), the processor's
 * own field access, and the in-memory region image (docs/vmcs-layout.md).
 */
#include <stdlib.h>

#include "vmcs.h"

/* IA32_VMX_MISC bit 29: software can use VMWRITE to write to any supported
 * field of the VMCS, VM-exit information fields included (SDM Vol. 3D A.6). */
#define MSR_VMX_MISC 0x485u
#define MISC_VMWRITE_ANY_FIELD (1ull << 29)

vx_vmcs *vx_vmcs_new(uint64_t addr)
{
    vx_vmcs *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->val = calloc((size_t)vx_nfields, sizeof *v->val);
    if (!v->val) {
        free(v);
        return NULL;
    }
    v->addr = addr;
    return v;
}

void vx_vmcs_free(vx_vmcs *v)
{
    if (!v)
        return;
    free(v->val);
    free(v);
}

/* Bits a field of this width holds: VMWRITE ignores the source bits above
 * the field's width and VMREAD zero-extends (31.3). */
static uint64_t width_mask(unsigned width)
{
    switch (width) {
    case VX_W16: return 0xffffull;
    case VX_W32: return 0xffffffffull;
    default: return ~0ull;   /* 64-bit and natural width */
    }
}

/* The checks VMREAD and VMWRITE make on the field encoding: "IF source
 * operand does not correspond to any VMCS field THEN VMfailValid(
 * VMREAD/VMWRITE from/to unsupported VMCS component)".  That covers
 * reserved bits (31:15, 12), encodings not in Appendix B, access type 1 on
 * a field that is not 64-bit (25.11.2) and fields whose feature the
 * processor lacks (Appendix B footnotes, A.9). */
static int lookup(const vx_profile *p, uint32_t enc, int *high)
{
    int i = vx_field_index(enc, high);
    if (i < 0 || !vx_field_supported(p, &vx_fields[i]))
        return -1;
    return i;
}

int vx_vmcs_read(const vx_profile *p, const vx_vmcs *v, uint32_t enc,
                 uint64_t *val)
{
    int high;
    int i = lookup(p, enc, &high);
    if (i < 0 || !v || !val)
        return VX_VMERR_UNSUPPORTED_COMPONENT;
    /* A high access reads bits 63:32 of the field into bits 31:0. */
    *val = high ? v->val[i] >> 32 : v->val[i];
    return 0;
}

int vx_vmcs_write(const vx_profile *p, vx_vmcs *v, uint32_t enc, uint64_t val)
{
    int high;
    int i = lookup(p, enc, &high);
    if (i < 0 || !v)
        return VX_VMERR_UNSUPPORTED_COMPONENT;
    /* "ELSIF VMCS field is in the VM-exit information area and the
     * processor does not support writing to such fields THEN
     * VMfailValid(VMWRITE to read-only VMCS component)" (31.3, A.6). */
    if (vx_fields[i].type == VX_T_EXITINFO) {
        uint64_t misc = 0;
        if (!p || vx_profile_vmx_msr(p, MSR_VMX_MISC, &misc) != 0 ||
            !(misc & MISC_VMWRITE_ANY_FIELD))
            return VX_VMERR_VMWRITE_READONLY;
    }
    if (high)   /* bits 31:0 of the source go to bits 63:32 of the field */
        v->val[i] = (v->val[i] & 0xffffffffull) | (val << 32);
    else
        v->val[i] = val & width_mask(vx_fields[i].width);
    return 0;
}

int vx_vmcs_put(vx_vmcs *v, uint32_t enc, uint64_t val)
{
    int i = (enc & 1u) ? -1 : vx_field_index(enc, NULL);
    if (i < 0 || !v)
        return -1;
    v->val[i] = val & width_mask(vx_fields[i].width);
    return 0;
}

uint64_t vx_vmcs_get(const vx_vmcs *v, uint32_t enc)
{
    int i = (enc & 1u) ? -1 : vx_field_index(enc, NULL);
    if (i < 0 || !v)
        return 0;
    return v->val[i];
}

/* ---- Region image ------------------------------------------------------- */
/* The format of the VMCS region beyond its first 8 bytes is
 * implementation-specific (SDM Vol. 3C 25.2); this is the model's, fixed
 * little-endian so an image means the same on any host. */

static void put32(uint8_t *r, uint32_t x)
{
    for (int k = 0; k < 4; k++)
        r[k] = (uint8_t)(x >> (8 * k));
}

static void put64(uint8_t *r, uint64_t x)
{
    for (int k = 0; k < 8; k++)
        r[k] = (uint8_t)(x >> (8 * k));
}

static uint32_t get32(const uint8_t *r)
{
    uint32_t x = 0;
    for (int k = 0; k < 4; k++)
        x |= (uint32_t)r[k] << (8 * k);
    return x;
}

static uint64_t get64(const uint8_t *r)
{
    uint64_t x = 0;
    for (int k = 0; k < 8; k++)
        x |= (uint64_t)r[k] << (8 * k);
    return x;
}

size_t vx_vmcs_region_bytes(void)
{
    return VX_VMCS_OFF_DATA + 8 * (size_t)vx_nfields;
}

void vx_vmcs_to_region(const vx_vmcs *v, uint8_t *region)
{
    if (!v || !region)
        return;
    put32(region + VX_VMCS_OFF_REVISION, v->revision);
    put32(region + VX_VMCS_OFF_ABORT, v->abort);
    put32(region + VX_VMCS_OFF_LAUNCH, v->launched ? 1u : 0u);
    put32(region + VX_VMCS_OFF_LAUNCH + 4, 0);   /* padding */
    for (int i = 0; i < vx_nfields; i++)
        put64(region + VX_VMCS_OFF_DATA + 8 * (size_t)i, v->val[i]);
}

/* Software must not touch a VMCS region except through VMREAD/VMWRITE
 * (25.11.1); if it did, the image may hold anything: any non-zero launch
 * word reads as launched and values are cut to their field's width, so
 * the store keeps the invariants VMREAD relies on. */
void vx_vmcs_from_region(vx_vmcs *v, const uint8_t *region)
{
    if (!v || !region)
        return;
    v->revision = get32(region + VX_VMCS_OFF_REVISION);
    v->abort = get32(region + VX_VMCS_OFF_ABORT);
    v->launched = get32(region + VX_VMCS_OFF_LAUNCH) != 0;
    for (int i = 0; i < vx_nfields; i++)
        v->val[i] = get64(region + VX_VMCS_OFF_DATA + 8 * (size_t)i) &
                    width_mask(vx_fields[i].width);
}
