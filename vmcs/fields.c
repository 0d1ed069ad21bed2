/*
 * fields.c - the VMCS field table (built from vmcs/fields.def), field
 * look-up by encoding and by name, and whether a profile's processor
 * supports a field (SDM Vol. 3D Appendix A and B).  Also the name tables
 * for VM-instruction errors and basic exit reasons.
 */
#include <strings.h>

#include "vmcs.h"

/* ---- The table ---------------------------------------------------------- */

/* Width and type are not columns of fields.def: they are bits 14:13 and
 * 11:10 of the encoding (SDM Vol. 3C 25.11.2). */
#define VX_FIELD(enc, name, feat)                                        \
    { (enc), #name, (uint8_t)VX_ENC_WIDTH(enc), (uint8_t)VX_ENC_TYPE(enc), \
      (uint16_t)VX_FEAT_##feat },
const vx_field vx_fields[] = {
#include "fields.def"
};
#undef VX_FIELD

const int vx_nfields = (int)(sizeof vx_fields / sizeof vx_fields[0]);

/* Position of each field in vx_fields, by encoding: a table indexed by
 * bits 14:1 of the encoding (bit 0 is the access type), built by the
 * compiler from fields.def (1 + position; 0: no such field).  Called for
 * every VMREAD and VMWRITE and for every field a VM entry checks or a VM
 * exit saves, so it is one load rather than a search. */
enum {
#define VX_FIELD(enc, name, feat) VX_POS_##name,
#include "fields.def"
#undef VX_FIELD
};
static const int16_t field_pos[1u << 14] = {
#define VX_FIELD(enc, name, feat) [((enc) >> 1) & 0x3FFF] = VX_POS_##name + 1,
#include "fields.def"
#undef VX_FIELD
};

int vx_field_index(uint32_t enc, int *high)
{
    if (high)
        *high = 0;
    /* Bits 31:15 and bit 12 are reserved in every encoding (25.11.2). */
    if (enc & VX_ENC_RESERVED)
        return -1;
    int i = field_pos[(enc >> 1) & 0x3FFF] - 1;
    if (i < 0)
        return -1;
    /* Access type 1 exists only for 64-bit fields (25.11.2). */
    if (VX_ENC_HIGH(enc) && vx_fields[i].width != VX_W64)
        return -1;
    if (high)
        *high = (int)VX_ENC_HIGH(enc);
    return i;
}

/* By name, ignoring case, so "GUEST_RIP" (the Linux spelling) works too. */
const vx_field *vx_field_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < vx_nfields; i++)
        if (strcasecmp(vx_fields[i].name, name) == 0)
            return &vx_fields[i];
    return NULL;
}

const char *vx_field_width_name(int width)
{
    switch (width) {
    case VX_W16: return "16";
    case VX_W64: return "64";
    case VX_W32: return "32";
    case VX_WNAT: return "natural";
    default: return "unknown";
    }
}

/* ---- Features and the capability MSRs ----------------------------------- */

/* VMX capability MSRs (SDM Vol. 3D Appendix A). */
enum {
    MSR_VMX_BASIC = 0x480,            /* A.1 */
    MSR_VMX_PINBASED_CTLS = 0x481,    /* A.3.1 */
    MSR_VMX_PROCBASED_CTLS = 0x482,   /* A.3.2 */
    MSR_VMX_EXIT_CTLS = 0x483,        /* A.4.1 */
    MSR_VMX_ENTRY_CTLS = 0x484,       /* A.5 */
    MSR_VMX_VMCS_ENUM = 0x48A,        /* A.9 */
    MSR_VMX_PROCBASED_CTLS2 = 0x48B,  /* A.3.3 */
    MSR_VMX_TRUE_PINBASED_CTLS = 0x48D,
    MSR_VMX_TRUE_PROCBASED_CTLS = 0x48E,
    MSR_VMX_TRUE_EXIT_CTLS = 0x48F,
    MSR_VMX_TRUE_ENTRY_CTLS = 0x490,
    MSR_VMX_VMFUNC = 0x491,           /* A.11 */
    MSR_VMX_PROCBASED_CTLS3 = 0x492,  /* A.3.4 */
    MSR_VMX_EXIT_CTLS2 = 0x493,       /* A.4.2 */
};

/* Control groups named in features.def. */
enum vx_ctl {
    VX_CTL_NONE, VX_CTL_PIN, VX_CTL_PROC, VX_CTL_PROC2, VX_CTL_PROC3,
    VX_CTL_EXIT, VX_CTL_EXIT2, VX_CTL_ENTRY, VX_CTL_VMFUNC, VX_CTL_NEVER
};

static const struct vx_feature_def {
    const char *name;
    uint8_t ctl1, bit1, ctl2, bit2;
} vx_feature_defs[VX_FEAT_COUNT] = {
#define VX_FEAT_DEF(id, text, c1, b1, c2, b2) \
    { text, VX_CTL_##c1, b1, VX_CTL_##c2, b2 },
#include "features.def"
#undef VX_FEAT_DEF
};

const char *vx_feature_name(unsigned feat)
{
    return feat < VX_FEAT_COUNT ? vx_feature_defs[feat].name : "unknown";
}

static uint64_t msr_or_zero(const vx_profile *p, uint32_t msr)
{
    uint64_t v = 0;
    if (vx_profile_vmx_msr(p, msr, &v) != 0)
        return 0;   /* an absent MSR allows nothing */
    return v;
}

/* Allowed-1 settings of a 32-bit control field: bits 63:32 of its
 * capability MSR (A.3.1, A.3.2, A.4.1, A.5).  The TRUE_ MSRs exist only if
 * IA32_VMX_BASIC bit 55 is 1 (A.1) and report the same allowed-1 bits
 * (they differ only in the allowed-0 half); OR-ing both tolerates a
 * profile that fills in only one of them. */
static uint64_t ctls32_allowed1(const vx_profile *p, uint32_t msr,
                                uint32_t true_msr)
{
    uint64_t v = msr_or_zero(p, msr) >> 32;
    if (msr_or_zero(p, MSR_VMX_BASIC) >> 55 & 1)
        v |= msr_or_zero(p, true_msr) >> 32;
    return v;
}

/* The allowed-1 mask of a control group, with the SDM's rules on when the
 * capability MSR of a second-level group exists at all. */
static uint64_t ctl_allowed1(const vx_profile *p, unsigned ctl)
{
    switch (ctl) {
    case VX_CTL_PIN:
        return ctls32_allowed1(p, MSR_VMX_PINBASED_CTLS,
                               MSR_VMX_TRUE_PINBASED_CTLS);
    case VX_CTL_PROC:
        return ctls32_allowed1(p, MSR_VMX_PROCBASED_CTLS,
                               MSR_VMX_TRUE_PROCBASED_CTLS);
    case VX_CTL_PROC2:
        /* A.3.3: exists only if "activate secondary controls" (primary
         * bit 31) can be 1; allowed-1 bits in 63:32. */
        if (!(ctl_allowed1(p, VX_CTL_PROC) >> 31 & 1))
            return 0;
        return msr_or_zero(p, MSR_VMX_PROCBASED_CTLS2) >> 32;
    case VX_CTL_PROC3:
        /* A.3.4: exists only if "activate tertiary controls" (primary
         * bit 17) can be 1; all 64 bits are allowed-1 bits. */
        if (!(ctl_allowed1(p, VX_CTL_PROC) >> 17 & 1))
            return 0;
        return msr_or_zero(p, MSR_VMX_PROCBASED_CTLS3);
    case VX_CTL_EXIT:
        return ctls32_allowed1(p, MSR_VMX_EXIT_CTLS, MSR_VMX_TRUE_EXIT_CTLS);
    case VX_CTL_EXIT2:
        /* A.4.2: exists only if "activate secondary controls" (VM-exit
         * bit 31) can be 1; 64 allowed-1 bits. */
        if (!(ctl_allowed1(p, VX_CTL_EXIT) >> 31 & 1))
            return 0;
        return msr_or_zero(p, MSR_VMX_EXIT_CTLS2);
    case VX_CTL_ENTRY:
        return ctls32_allowed1(p, MSR_VMX_ENTRY_CTLS,
                               MSR_VMX_TRUE_ENTRY_CTLS);
    case VX_CTL_VMFUNC:
        /* A.11: exists only if "enable VM functions" (secondary bit 13)
         * can be 1; bit i set = VM function i may be enabled. */
        if (!(ctl_allowed1(p, VX_CTL_PROC2) >> 13 & 1))
            return 0;
        return msr_or_zero(p, MSR_VMX_VMFUNC);
    default:
        return 0;
    }
}

int vx_feature_supported(const vx_profile *p, unsigned feat)
{
    if (feat >= VX_FEAT_COUNT)
        return 0;
    const struct vx_feature_def *d = &vx_feature_defs[feat];
    if (d->ctl1 == VX_CTL_NONE)
        return 1;                       /* VX_FEAT_ALWAYS */
    if (d->ctl1 == VX_CTL_NEVER)
        return 0;
    if (!p)
        return 1;
    if (ctl_allowed1(p, d->ctl1) >> d->bit1 & 1)
        return 1;
    return d->ctl2 != VX_CTL_NONE && (ctl_allowed1(p, d->ctl2) >> d->bit2 & 1);
}

int vx_field_supported(const vx_profile *p, const vx_field *f)
{
    if (!f)
        return 0;
    if (p) {
        /* A.9: IA32_VMX_VMCS_ENUM bits 9:1 report the highest index value
         * used in any encoding of a field the processor supports, so a
         * field with a larger index is not supported. */
        uint64_t e;
        if (vx_profile_vmx_msr(p, MSR_VMX_VMCS_ENUM, &e) == 0 &&
            VX_ENC_INDEX(f->enc) > VX_ENC_INDEX((uint32_t)e))
            return 0;
    }
    return vx_feature_supported(p, f->feature);
}

/* ---- Names -------------------------------------------------------------- */

const char *vx_vmerr_name(unsigned num)
{
    switch (num) {
#define VX_ERR(n, id, text) case n: return text;
#include "errors.def"
#undef VX_ERR
    default: return "unknown";
    }
}

const char *vx_exit_reason_name(unsigned basic)
{
    switch (basic) {
#define VX_EXIT(n, id, text) case n: return #id;
#include "exit_reasons.def"
#undef VX_EXIT
    default: return "unknown";
    }
}

const char *vx_exit_reason_desc(unsigned basic)
{
    switch (basic) {
#define VX_EXIT(n, id, text) case n: return text;
#include "exit_reasons.def"
#undef VX_EXIT
    default: return "unknown";
    }
}
