/*
 * vmcs.h - the VMCS: field table (vmcs/fields.def, SDM Vol. 3D Appendix B),
 * VM-instruction error numbers (vmcs/errors.def, SDM Vol. 3C 31.4),
 * and the store the model keeps for each active VMCS.
 */
#ifndef VX_VMCS_H
#define VX_VMCS_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Encoding layout (SDM Vol. 3C 25.11.2): bit 0 access type (1 = high 32
 * bits of a 64-bit field), bits 9:1 index, bits 11:10 type, bit 12
 * reserved (0), bits 14:13 width, bits 31:15 reserved (0). */
enum vx_field_width { VX_W16 = 0, VX_W64 = 1, VX_W32 = 2, VX_WNAT = 3 };
enum vx_field_type { VX_T_CONTROL = 0, VX_T_EXITINFO = 1, VX_T_GUEST = 2,
                     VX_T_HOST = 3 };

typedef struct vx_field {
    uint32_t enc;        /* full encoding (access type 0) */
    const char *name;    /* SDM Appendix B name, snake_case, e.g. "guest_rip" */
    uint8_t width;       /* enum vx_field_width */
    uint8_t type;        /* enum vx_field_type */
    uint16_t feature;    /* enum vx_feature: what the processor must have */
} vx_field;

extern const vx_field vx_fields[];
extern const int vx_nfields;

/* The number of fields, as a constant expression (= vx_nfields). */
enum {
    VX_NFIELDS = 0
#define VX_FIELD(enc, name, feat) + 1
#include "fields.def"
#undef VX_FIELD
};

/* Index of the field with this encoding in vx_fields, or -1.  An encoding
 * with access type 1 (bit 0) names the high half of a 64-bit field: then
 * *high is set to 1 (to 0 otherwise); for other widths it is -1. */
int vx_field_index(uint32_t enc, int *high);
const vx_field *vx_field_by_name(const char *name);
const char *vx_field_width_name(int width); /* "16", "32", "64", "natural" */

/* Does the profile's processor support this field (SDM: a field exists
 * only if the processor supports its feature)? */
int vx_field_supported(const vx_profile *p, const vx_field *f);

/* VM-instruction error numbers (SDM Vol. 3C 31.4, Table 31-1). */
enum vx_vminstr_error {
#define VX_ERR(num, id, text) VX_VMERR_##id = num,
#include "errors.def"
#undef VX_ERR
};
const char *vx_vmerr_name(unsigned num);   /* "VMPTRLD with invalid physical address" */

/* Well-known encodings the model uses by name. */
#define VX_ENC_VM_INSTRUCTION_ERROR 0x4400u

/* ---- Additions (h-vmcs) ------------------------------------------------ */

/* Parts of an encoding (SDM Vol. 3C 25.11.2). */
#define VX_ENC_HIGH(enc)  ((enc) & 1u)             /* access type */
#define VX_ENC_INDEX(enc) (((enc) >> 1) & 0x1ffu)  /* bits 9:1 */
#define VX_ENC_TYPE(enc)  (((enc) >> 10) & 3u)     /* enum vx_field_type */
#define VX_ENC_WIDTH(enc) (((enc) >> 13) & 3u)     /* enum vx_field_width */
#define VX_ENC_RESERVED   0xffff9000u              /* bits 31:15 and 12 */

/* Every field's encoding by its fields.def name: VX_ENC_guest_rip is
 * 0x681e, VX_ENC_vm_exit_reason 0x4402, ... */
enum vx_field_enc {
#define VX_FIELD(enc, name, feat) VX_ENC_##name = enc,
#include "fields.def"
#undef VX_FIELD
};

/* What makes a field exist (vmcs/features.def, SDM Vol. 3D Appendix B
 * footnotes and Appendix A): VX_FEAT_ALWAYS, VX_FEAT_EPT, ... */
enum vx_feature {
#define VX_FEAT_DEF(id, text, c1, b1, c2, b2) VX_FEAT_##id,
#include "features.def"
#undef VX_FEAT_DEF
    VX_FEAT_COUNT
};
const char *vx_feature_name(unsigned feat);  /* "enable EPT"; "unknown" */

/* Does the profile's processor have this feature?  Decided from the VMX
 * capability MSRs only (docs/vmcs-fields.md).  p == NULL: every feature
 * except VX_FEAT_SEAM. */
int vx_feature_supported(const vx_profile *p, unsigned feat);

/* Basic exit reasons (vmcs/exit_reasons.def, SDM Vol. 3D Appendix C). */
enum vx_exit_reason {
#define VX_EXIT(num, id, text) VX_EXIT_##id = num,
#include "exit_reasons.def"
#undef VX_EXIT
};
/* "EPT_VIOLATION" for 48; "unknown" for a number the SDM does not use. */
const char *vx_exit_reason_name(unsigned basic);
/* "EPT violation" for 48; "unknown" likewise. */
const char *vx_exit_reason_desc(unsigned basic);

/* The model's copy of one active VMCS. */
typedef struct vx_vmcs {
    uint64_t addr;       /* physical address of the VMCS region */
    uint32_t revision;   /* first 32 bits of the region (bit 31 = shadow) */
    uint32_t abort;      /* VMX-abort indicator */
    int launched;        /* launch state: 0 clear, 1 launched */
    uint64_t *val;       /* vx_nfields values, indexed like vx_fields */
} vx_vmcs;

vx_vmcs *vx_vmcs_new(uint64_t addr);
void vx_vmcs_free(vx_vmcs *v);

/* Read / write a field as VMREAD and VMWRITE see it (the instruction
 * checks are done by the caller, this handles the component side):
 * returns 0 on success or the VM-instruction error number:
 * 12 (unsupported component) or 13 (write to a read-only component
 * when IA32_VMX_MISC bit 29 is clear). Values are truncated to the
 * field's width; a high access reads/writes bits 63:32. */
int vx_vmcs_read(const vx_profile *p, const vx_vmcs *v, uint32_t enc,
                 uint64_t *val);
int vx_vmcs_write(const vx_profile *p, vx_vmcs *v, uint32_t enc, uint64_t val);

/* The region image in memory (docs/vmcs-layout.md): a 16-byte header
 * (revision, abort indicator, launch state, 0), then the value of every
 * field the profile supports and no other, packed by width: the 64-bit
 * and natural-width fields (8 bytes each), then the 32-bit ones (4), then
 * the 16-bit ones (2), each group in table order.  The image is never
 * larger than the profile's VMCS size (IA32_VMX_BASIC[44:32]): the
 * profile loader refuses a profile whose supported fields do not fit. */
#define VX_VMCS_OFF_REVISION 0  /* addition (h-vmcs) */
#define VX_VMCS_OFF_ABORT 4     /* addition (h-vmcs) */
#define VX_VMCS_OFF_LAUNCH 8
#define VX_VMCS_OFF_DATA 16

/* Bytes of the image for this profile's processor. */
size_t vx_vmcs_image_bytes(const vx_profile *p);
/* Offset of vx_fields[i]'s value in the image, or 0 when the field is
 * not in it (the profile does not support it, or i is out of range). */
size_t vx_vmcs_image_offset(const vx_profile *p, int i);
/* Does the image fit in a region of `size` bytes?  0 if so; otherwise
 * -1 with *field = the index of the first field (in image order) that
 * does not fit, or -1 when not even the header does. */
int vx_vmcs_image_fits(const vx_profile *p, size_t size, int *field);
/* Serialize to / from an image in a region of `size` bytes: returns the
 * bytes written or read (vx_vmcs_image_bytes), or 0 when the image does
 * not fit, and then touches nothing.  Reading sets every field outside
 * the image to 0. */
size_t vx_vmcs_to_region(const vx_profile *p, const vx_vmcs *v, uint8_t *region,
                         size_t size);
size_t vx_vmcs_from_region(const vx_profile *p, vx_vmcs *v, const uint8_t *region,
                           size_t size);

/* The processor's own access to a field, as VM entry and VM exit use it
 * (no profile check, no read-only rule, full access type only): the
 * value is truncated to the field's width.  vx_vmcs_put returns 0, or -1
 * when enc is not the full encoding of a field in the table;
 * vx_vmcs_get returns 0 for such an encoding. */
int vx_vmcs_put(vx_vmcs *v, uint32_t enc, uint64_t val);
uint64_t vx_vmcs_get(const vx_vmcs *v, uint32_t enc);

#endif
