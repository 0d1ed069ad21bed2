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
 * implementation-specific (SDM Vol. 3C 25.2); this is the model's
 * (docs/vmcs-layout.md), fixed little-endian so an image means the same
 * on any host.  It holds only the fields the profile supports: the
 * others cannot be read or written by software (VMREAD/VMWRITE error 12),
 * so nothing of them needs to survive in memory, and the image of a
 * profile like the shipped ones (1024-byte regions, as Intel cores
 * report) fits where an image of every field would not. */

static unsigned value_bytes(unsigned width)
{
    switch (width) {
    case VX_W16: return 2;
    case VX_W32: return 4;
    default: return 8;       /* 64-bit and natural width */
    }
}

static void put_le(uint8_t *r, uint64_t x, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        r[k] = (uint8_t)(x >> (8 * k));
}

static uint64_t get_le(const uint8_t *r, unsigned n)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < n; k++)
        x |= (uint64_t)r[k] << (8 * k);
    return x;
}

/* The image layout for profile p: off[i] is the offset of vx_fields[i]'s
 * value, 0 for a field outside the image.  Values go in three groups by
 * size, 8, 4, then 2 bytes, each in table order, so every value is
 * naturally aligned after the 16-byte header.  If order is not NULL it
 * receives the indexes of the fields in the image, in image order, and
 * *count their number.  Returns the image's size. */
static size_t layout(const vx_profile *p, uint16_t off[VX_NFIELDS],
                     int order[VX_NFIELDS], int *count)
{
    static const unsigned group[] = {8, 4, 2};
    size_t at = VX_VMCS_OFF_DATA;
    int n = 0;
    for (int i = 0; i < vx_nfields; i++)
        off[i] = 0;
    for (size_t g = 0; g < sizeof group / sizeof group[0]; g++) {
        for (int i = 0; i < vx_nfields; i++) {
            if (value_bytes(vx_fields[i].width) != group[g] ||
                !vx_field_supported(p, &vx_fields[i]))
                continue;
            off[i] = (uint16_t)at;
            at += group[g];
            if (order)
                order[n] = i;
            n++;
        }
    }
    if (count)
        *count = n;
    return at;
}

size_t vx_vmcs_image_bytes(const vx_profile *p)
{
    uint16_t off[VX_NFIELDS];
    return layout(p, off, NULL, NULL);
}

size_t vx_vmcs_image_offset(const vx_profile *p, int i)
{
    uint16_t off[VX_NFIELDS];
    if (i < 0 || i >= vx_nfields)
        return 0;
    layout(p, off, NULL, NULL);
    return off[i];
}

int vx_vmcs_image_fits(const vx_profile *p, size_t size, int *field)
{
    uint16_t off[VX_NFIELDS];
    int order[VX_NFIELDS], n;
    if (field)
        *field = -1;
    if (layout(p, off, order, &n) <= size)
        return 0;
    if (size >= VX_VMCS_OFF_DATA && field) {
        for (int k = 0; k < n; k++) {
            int i = order[k];
            if (off[i] + value_bytes(vx_fields[i].width) > size) {
                *field = i;
                break;
            }
        }
    }
    return -1;
}

size_t vx_vmcs_to_region(const vx_profile *p, const vx_vmcs *v, uint8_t *region,
                         size_t size)
{
    uint16_t off[VX_NFIELDS];
    if (!v || !region)
        return 0;
    size_t n = layout(p, off, NULL, NULL);
    if (n > size)
        return 0;
    put_le(region + VX_VMCS_OFF_REVISION, v->revision, 4);
    put_le(region + VX_VMCS_OFF_ABORT, v->abort, 4);
    put_le(region + VX_VMCS_OFF_LAUNCH, v->launched ? 1u : 0u, 4);
    put_le(region + VX_VMCS_OFF_LAUNCH + 4, 0, 4);   /* padding */
    for (int i = 0; i < vx_nfields; i++)
        if (off[i])
            put_le(region + off[i], v->val[i], value_bytes(vx_fields[i].width));
    return n;
}

/* Software must not touch a VMCS region except through VMREAD/VMWRITE
 * (25.11.1); if it did, the image may hold anything: any non-zero launch
 * word reads as launched, and each value is read at its field's width, so
 * the store keeps the invariants VMREAD relies on. */
size_t vx_vmcs_from_region(const vx_profile *p, vx_vmcs *v, const uint8_t *region,
                           size_t size)
{
    uint16_t off[VX_NFIELDS];
    if (!v || !region)
        return 0;
    size_t n = layout(p, off, NULL, NULL);
    if (n > size)
        return 0;
    v->revision = (uint32_t)get_le(region + VX_VMCS_OFF_REVISION, 4);
    v->abort = (uint32_t)get_le(region + VX_VMCS_OFF_ABORT, 4);
    v->launched = get_le(region + VX_VMCS_OFF_LAUNCH, 4) != 0;
    for (int i = 0; i < vx_nfields; i++)
        v->val[i] = off[i] ? get_le(region + off[i], value_bytes(vx_fields[i].width)) : 0;
    return n;
}
