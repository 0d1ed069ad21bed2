/*
 * profile.c - CPU profiles: the capability MSRs, CPUID leaves and other
 * MSRs of a modelled processor, read from profiles/NAME.json (format in
 * docs/profiles.md) and checked for the consistency rules of the SDM's
 * Appendix A, so that a profile cannot describe an impossible processor;
 * and the cycle model's costs ("cycles", docs/cycle-model.md), every one
 * that vmcs/cycles.def names.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "vmcs.h"

#ifndef VX_PROFILE_DIR
#define VX_PROFILE_DIR "profiles"
#endif

static const struct { uint32_t index; const char *name; } vmx_msr_names[] = {
#define VX_VMX_MSR(idx, name) {idx, name},
#include "vmx_msrs.def"
#undef VX_VMX_MSR
};
#define NVMX_NAMES (sizeof vmx_msr_names / sizeof vmx_msr_names[0])

const char *vx_vmx_msr_name(uint32_t index)
{
    for (size_t i = 0; i < NVMX_NAMES; i++)
        if (vmx_msr_names[i].index == index) return vmx_msr_names[i].name;
    return NULL;
}

typedef struct ctx {
    const char *file;
    char *err;
    size_t errlen;
} ctx;

static int fail(ctx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->errlen) snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
    return -1;
}

/* A value written as a hexadecimal string "0x..." (JSON numbers cannot
 * carry 64 bits exactly). */
static int hex_value(ctx *c, const json_t *j, const char *what, uint64_t max, uint64_t *out)
{
    const char *s = json_string_value(j);
    if (!s) return fail(c, "%s must be a hexadecimal string like \"0x1f\"", what);
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || strlen(s) > 18)
        return fail(c, "%s: '%s' is not a hexadecimal string like \"0x1f\"", what, s);
    uint64_t v = 0;
    for (const char *p = s + 2; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            return fail(c, "%s: '%s' is not a hexadecimal string like \"0x1f\"", what, s);
        v = v << 4 | (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
    }
    if (v > max) return fail(c, "%s: %s is out of range", what, s);
    *out = v;
    return 0;
}

static int check_keys(ctx *c, const json_t *obj, const char *what, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(key, allowed[i])) ok = 1;
        if (!ok) return fail(c, "unknown key \"%s\" in %s", key, what);
    }
    return 0;
}

static int parse_vmx_msrs(ctx *c, const json_t *o, vx_profile *p)
{
    if (!json_is_object(o)) return fail(c, "\"vmx_msrs\" must be an object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        uint32_t idx = 0;
        for (size_t i = 0; i < NVMX_NAMES; i++)
            if (!strcmp(key, vmx_msr_names[i].name)) idx = vmx_msr_names[i].index;
        if (!idx) {
            uint64_t v;
            ctx quiet = *c;
            quiet.errlen = 0;
            json_t *ks = json_string(key);
            int r = hex_value(&quiet, ks, key, UINT32_MAX, &v);
            json_decref(ks);
            if (r < 0 || v < VX_VMX_MSR_FIRST || v > VX_VMX_MSR_LAST)
                return fail(c, "vmx_msrs: \"%s\" is not a VMX capability MSR (0x480-0x493 "
                               "or a name such as IA32_VMX_BASIC)", key);
            idx = (uint32_t)v;
        }
        unsigned i = idx - VX_VMX_MSR_FIRST;
        if (p->vmx_msr_present >> i & 1)
            return fail(c, "vmx_msrs: %s given twice", vx_vmx_msr_name(idx));
        char what[64];
        snprintf(what, sizeof what, "vmx_msrs.%s", vx_vmx_msr_name(idx));
        if (hex_value(c, val, what, UINT64_MAX, &p->vmx_msr[i]) < 0) return -1;
        p->vmx_msr_present |= 1u << i;
    }
    return 0;
}

static int parse_cpuid(ctx *c, const json_t *a, vx_profile *p)
{
    static const char *const keys[] = {"leaf", "subleaf", "eax", "ebx", "ecx", "edx", NULL};
    if (!json_is_array(a)) return fail(c, "\"cpuid\" must be an array");
    if (json_array_size(a) > VX_PROFILE_MAX_CPUID)
        return fail(c, "too many cpuid entries (at most %d)", VX_PROFILE_MAX_CPUID);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        char what[48];
        snprintf(what, sizeof what, "cpuid[%zu]", i);
        if (!json_is_object(e)) return fail(c, "%s must be an object", what);
        if (check_keys(c, e, what, keys) < 0) return -1;
        vx_cpuid_leaf *l = &p->cpuid[p->ncpuid];
        uint64_t v[6] = {0};
        for (int k = 0; k < 6; k++) {
            json_t *f = json_object_get(e, keys[k]);
            if (!f) {
                if (k == 1) continue;
                return fail(c, "%s has no \"%s\"", what, keys[k]);
            }
            char fw[64];
            snprintf(fw, sizeof fw, "%s.%s", what, keys[k]);
            if (hex_value(c, f, fw, UINT32_MAX, &v[k]) < 0) return -1;
        }
        l->leaf = (uint32_t)v[0];
        l->has_subleaf = json_object_get(e, "subleaf") != NULL;
        l->subleaf = (uint32_t)v[1];
        l->eax = (uint32_t)v[2];
        l->ebx = (uint32_t)v[3];
        l->ecx = (uint32_t)v[4];
        l->edx = (uint32_t)v[5];
        for (int j = 0; j < p->ncpuid; j++)
            if (p->cpuid[j].leaf == l->leaf &&
                (!p->cpuid[j].has_subleaf || !l->has_subleaf || p->cpuid[j].subleaf == l->subleaf))
                return fail(c, "%s: leaf 0x%x given twice", what, (unsigned)l->leaf);
        p->ncpuid++;
    }
    return 0;
}

/* MSRs the model itself owns cannot be given a value by a profile. */
static int model_owned_msr(uint32_t msr)
{
    return msr == 0x10 || msr == 0x3A || msr == 0x1D9 ||
           (msr >= VX_VMX_MSR_FIRST && msr <= VX_VMX_MSR_LAST) ||
           msr == 0x174 || msr == 0x175 || msr == 0x176 ||
           (msr >= 0xC0000080 && msr <= 0xC0000084) ||
           (msr >= 0xC0000100 && msr <= 0xC0000103);
}

static int parse_msrs(ctx *c, const json_t *a, vx_profile *p)
{
    static const char *const keys[] = {"index", "name", "value", NULL};
    if (!json_is_array(a)) return fail(c, "\"msrs\" must be an array");
    if (json_array_size(a) > VX_PROFILE_MAX_MSRS)
        return fail(c, "too many msrs (at most %d)", VX_PROFILE_MAX_MSRS);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        char what[48], fw[64];
        snprintf(what, sizeof what, "msrs[%zu]", i);
        if (!json_is_object(e)) return fail(c, "%s must be an object", what);
        if (check_keys(c, e, what, keys) < 0) return -1;
        json_t *n = json_object_get(e, "name");
        if (n && !json_is_string(n)) return fail(c, "%s.name must be a string", what);
        uint64_t idx, val;
        json_t *fi = json_object_get(e, "index"), *fv = json_object_get(e, "value");
        if (!fi || !fv) return fail(c, "%s needs \"index\" and \"value\"", what);
        snprintf(fw, sizeof fw, "%s.index", what);
        if (hex_value(c, fi, fw, UINT32_MAX, &idx) < 0) return -1;
        snprintf(fw, sizeof fw, "%s.value", what);
        if (hex_value(c, fv, fw, UINT64_MAX, &val) < 0) return -1;
        if (model_owned_msr((uint32_t)idx) && idx != 0x277)
            return fail(c, "%s: MSR 0x%x is modelled by vmxsim itself and cannot be listed",
                        what, (unsigned)idx);
        for (int j = 0; j < p->nmsrs; j++)
            if (p->msrs[j].index == idx) return fail(c, "%s: MSR 0x%x given twice", what, (unsigned)idx);
        p->msrs[p->nmsrs].index = (uint32_t)idx;
        p->msrs[p->nmsrs].value = val;
        p->nmsrs++;
    }
    return 0;
}

/* The cycle model's costs (docs/cycle-model.md): the keys are the names
 * of vmcs/cycles.def and of vmcs/exit_reasons.def, never a second list. */
static const char *const cyc_class_names[] = {
#define VX_CYC_CLASS(n, d) #n,
#include "cycles.def"
    NULL,
};
static const char *const cyc_cost_names[] = {
#define VX_CYC_COST(n, d) #n,
#include "cycles.def"
    NULL,
};
static const struct { unsigned num; const char *name; } exit_names[] = {
#define VX_EXIT(n, id, text) {n, #id},
#include "exit_reasons.def"
#undef VX_EXIT
};
#define NEXIT_NAMES (sizeof exit_names / sizeof exit_names[0])
#define VX_CYC_MAX_COST 1000000

/* One cost: an integer number of cycles from 0 to VX_CYC_MAX_COST. */
static int cycle_count(ctx *c, const json_t *v, const char *what, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > VX_CYC_MAX_COST)
        return fail(c, "%s must be an integer number of cycles from 0 to %d", what,
                    VX_CYC_MAX_COST);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* An object holding exactly the keys of names[], each a cycle count. */
static int cycle_table(ctx *c, const json_t *cyc, const char *key,
                       const char *const *names, uint32_t *out)
{
    char what[64], fw[96];
    snprintf(what, sizeof what, "cycles.%s", key);
    const json_t *o = json_object_get(cyc, key);
    if (!o) return fail(c, "cycles has no \"%s\"", key);
    if (!json_is_object(o)) return fail(c, "%s must be an object", what);
    if (check_keys(c, o, what, names) < 0) return -1;
    for (int i = 0; names[i]; i++) {
        const json_t *v = json_object_get(o, names[i]);
        if (!v) return fail(c, "%s has no \"%s\" (every key of vmcs/cycles.def is required)",
                            what, names[i]);
        snprintf(fw, sizeof fw, "%s.%s", what, names[i]);
        if (cycle_count(c, v, fw, &out[i]) < 0) return -1;
    }
    return 0;
}

static int parse_cycles(ctx *c, const json_t *o, vx_profile *p)
{
    static const char *const keys[] = {"tsc_per_cycle", "classes", "costs",
                                       "vm_exit_by_reason", NULL};
    vx_cycles *cy = &p->cycles;
    for (int i = 0; i < VX_CYC_MAX_EXIT_REASON; i++) cy->exit_by_reason[i] = -1;
    if (!json_is_object(o)) return fail(c, "\"cycles\" must be an object");
    if (check_keys(c, o, "cycles", keys) < 0) return -1;
    /* TSC ticks per core cycle, as a fraction NUM/DEN. */
    const json_t *t = json_object_get(o, "tsc_per_cycle");
    if (!t) return fail(c, "cycles has no \"tsc_per_cycle\"");
    const json_t *tn = json_array_get(t, 0), *td = json_array_get(t, 1);
    if (!json_is_array(t) || json_array_size(t) != 2 || !json_is_integer(tn) ||
        !json_is_integer(td) || json_integer_value(tn) < 1 ||
        json_integer_value(tn) > VX_CYC_MAX_COST || json_integer_value(td) < 1 ||
        json_integer_value(td) > VX_CYC_MAX_COST)
        return fail(c, "cycles.tsc_per_cycle must be [NUM, DEN], two integers from 1 to %d "
                       "(TSC ticks per core cycle: NUM/DEN)", VX_CYC_MAX_COST);
    cy->tsc_num = (uint32_t)json_integer_value(tn);
    cy->tsc_den = (uint32_t)json_integer_value(td);
    if (cycle_table(c, o, "classes", cyc_class_names, cy->cls) < 0 ||
        cycle_table(c, o, "costs", cyc_cost_names, cy->cost) < 0)
        return -1;
    /* Optional: VM-exit costs of some basic exit reasons (the others cost
     * costs.vm_exit). */
    const json_t *r = json_object_get(o, "vm_exit_by_reason");
    if (!r) return 0;
    if (!json_is_object(r)) return fail(c, "cycles.vm_exit_by_reason must be an object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)r, key, val) {
        size_t i = 0;
        while (i < NEXIT_NAMES && strcmp(key, exit_names[i].name)) i++;
        if (i == NEXIT_NAMES)
            return fail(c, "cycles.vm_exit_by_reason: \"%s\" is not an exit-reason name "
                           "(vmcs/exit_reasons.def, e.g. CPUID, EPT_VIOLATION)", key);
        if (exit_names[i].num >= VX_CYC_MAX_EXIT_REASON)
            return fail(c, "cycles.vm_exit_by_reason: %s (exit reason %u) cannot have a cost "
                           "of its own (reasons 0-%d can)", key, exit_names[i].num,
                        VX_CYC_MAX_EXIT_REASON - 1);
        char fw[96];
        uint32_t v;
        snprintf(fw, sizeof fw, "cycles.vm_exit_by_reason.%s", key);
        if (cycle_count(c, val, fw, &v) < 0) return -1;
        cy->exit_by_reason[exit_names[i].num] = (int32_t)v;
    }
    return 0;
}

static int has_msr(const vx_profile *p, uint32_t msr)
{
    return (p->vmx_msr_present >> (msr - VX_VMX_MSR_FIRST)) & 1;
}

static uint64_t msr_val(const vx_profile *p, uint32_t msr)
{
    return p->vmx_msr[msr - VX_VMX_MSR_FIRST];
}

/* Consistency of the capability MSRs (SDM Vol. 3D Appendix A) and of
 * CPUID with them. */
static int check_consistency(ctx *c, vx_profile *p)
{
    uint32_t r[4];
    vx_profile_cpuid(p, 1, 0, r);
    if (!(r[2] & (1u << 5))) return fail(c, "CPUID.1:ECX.VMX[5] is 0: the profile has no VMX");
    for (uint32_t m = 0x480; m <= 0x48A; m++)
        if (!has_msr(p, m))
            return fail(c, "vmx_msrs: %s is required (every VMX processor has 0x480-0x48A)",
                        vx_vmx_msr_name(m));
    uint64_t basic = msr_val(p, 0x480);
    if (basic & (1ull << 31)) return fail(c, "IA32_VMX_BASIC: bit 31 must be 0 (A.1)");
    unsigned size = (unsigned)(basic >> 32) & 0x1FFF;
    if (size == 0 || size > 4096)
        return fail(c, "IA32_VMX_BASIC: VMCS size %u is not in 1..4096 (A.1)", size);
    unsigned mt = (unsigned)(basic >> 50) & 0xF;
    if (mt != 0 && mt != 6)
        return fail(c, "IA32_VMX_BASIC: memory type %u is neither UC (0) nor WB (6) (A.1)", mt);
    /* Control MSRs: a bit that must be 1 (allowed-0 setting, low half)
     * must also be allowed to be 1 (high half) (A.3-A.5). */
    static const uint32_t ctls[] = {0x481, 0x482, 0x483, 0x484, 0x48D, 0x48E, 0x48F, 0x490};
    for (size_t i = 0; i < sizeof ctls / sizeof ctls[0]; i++) {
        if (!has_msr(p, ctls[i])) continue;
        uint64_t v = msr_val(p, ctls[i]);
        if ((uint32_t)v & ~(uint32_t)(v >> 32))
            return fail(c, "%s: a bit required to be 1 (bits 31:0) is not allowed to be 1 "
                           "(bits 63:32)", vx_vmx_msr_name(ctls[i]));
    }
    if (msr_val(p, 0x486) & ~msr_val(p, 0x487))
        return fail(c, "IA32_VMX_CR0_FIXED0 has a bit that IA32_VMX_CR0_FIXED1 does not allow (A.7)");
    if (msr_val(p, 0x488) & ~msr_val(p, 0x489))
        return fail(c, "IA32_VMX_CR4_FIXED0 has a bit that IA32_VMX_CR4_FIXED1 does not allow (A.8)");
    if (!(msr_val(p, 0x488) & (1u << 13)))
        return fail(c, "IA32_VMX_CR4_FIXED0: CR4.VMXE (bit 13) must be fixed to 1 (A.8)");
    int secondary = (msr_val(p, 0x482) >> 63) & 1;
    if (secondary != has_msr(p, 0x48B))
        return fail(c, "IA32_VMX_PROCBASED_CTLS2 must be present exactly when "
                       "IA32_VMX_PROCBASED_CTLS allows bit 63 (A.3.3)");
    uint64_t p2 = has_msr(p, 0x48B) ? msr_val(p, 0x48B) >> 32 : 0;
    if (((p2 & ((1u << 1) | (1u << 5))) != 0) != has_msr(p, 0x48C))
        return fail(c, "IA32_VMX_EPT_VPID_CAP must be present exactly when EPT or VPID "
                       "may be enabled (A.10)");
    int true_ctls = (basic >> 55) & 1;
    for (uint32_t m = 0x48D; m <= 0x490; m++)
        if (true_ctls != has_msr(p, m))
            return fail(c, "%s must be present exactly when IA32_VMX_BASIC[55] is 1 (A.1)",
                        vx_vmx_msr_name(m));
    if ((int)((p2 >> 13) & 1) != has_msr(p, 0x491))
        return fail(c, "IA32_VMX_VMFUNC must be present exactly when \"enable VM functions\" "
                       "may be 1 (A.11)");
    if (has_msr(p, 0x492) || has_msr(p, 0x493))
        return fail(c, "tertiary controls and secondary VM-exit controls are not modelled");
    /* The model keeps a VMCS in memory as an image of the fields this
     * processor supports (docs/vmcs-layout.md) and never writes beyond
     * the VMCS size, so the size must hold that image. */
    int field;
    if (vx_vmcs_image_fits(p, size, &field) < 0)
        return fail(c, "IA32_VMX_BASIC: VMCS size %u cannot hold %s%s (the image of "
                       "the fields this profile supports needs %zu bytes, docs/vmcs-layout.md)",
                    size, field >= 0 ? "field " : "the 16-byte header",
                    field >= 0 ? vx_fields[field].name : "", vx_vmcs_image_bytes(p));
    return 0;
}

static int resolve(const char *name, const char *dir, char *path, size_t len, int *by_name)
{
    size_t n = strlen(name);
    *by_name = !(strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".json")));
    if (!*by_name) return snprintf(path, len, "%s", name) < (int)len ? 0 : -1;
    for (const char *s = name; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') return -1;
    if (!*name) return -1;
    return snprintf(path, len, "%s/%s.json", dir ? dir : VX_PROFILE_DIR, name) < (int)len ? 0 : -1;
}

int vx_profile_load(const char *name_or_path, const char *dir, vx_profile *out,
                    char *err, size_t errlen)
{
    char path[1024];
    int by_name;
    memset(out, 0, sizeof *out);
    const char *n = name_or_path ? name_or_path : "";
    if (resolve(n, dir, path, sizeof path, &by_name) < 0) {
        if (errlen) snprintf(err, errlen, "unknown CPU profile '%s' (see `vmxsim profiles`)", n);
        return -1;
    }
    ctx c = {path, err, errlen};
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (by_name && errno == ENOENT) {
            if (errlen) snprintf(err, errlen, "unknown CPU profile '%s' (see `vmxsim profiles`)", n);
            return -1;
        }
        return fail(&c, "%s", strerror(errno));
    }
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!root) return fail(&c, "line %d, column %d: %s", je.line, je.column, je.text);
    int r = -1;
    static const char *const keys[] = {"name", "description", "maxphyaddr", "vmx_msrs",
                                       "cpuid", "msrs", "cycles", NULL};
    if (!json_is_object(root)) { fail(&c, "a profile must be a JSON object"); goto out; }
    if (check_keys(&c, root, "the profile", keys) < 0) goto out;
    json_t *jn = json_object_get(root, "name"), *jd = json_object_get(root, "description");
    if (!json_is_string(jn) || !json_string_length(jn) ||
        json_string_length(jn) >= sizeof out->name) {
        fail(&c, "\"name\" must be a non-empty string of at most %zu characters",
             sizeof out->name - 1);
        goto out;
    }
    if (by_name && strcmp(json_string_value(jn), n)) {
        fail(&c, "\"name\" is \"%s\", but the file is named for '%s'", json_string_value(jn), n);
        goto out;
    }
    snprintf(out->name, sizeof out->name, "%s", json_string_value(jn));
    if (jd) {
        if (!json_is_string(jd)) { fail(&c, "\"description\" must be a string"); goto out; }
        /* Kept whole or refused: `vmxsim profiles` shows it as written. */
        if (json_string_length(jd) >= sizeof out->description) {
            fail(&c, "\"description\" is %zu bytes long, at most %zu are allowed",
                 json_string_length(jd), sizeof out->description - 1);
            goto out;
        }
        memcpy(out->description, json_string_value(jd), json_string_length(jd) + 1);
    }
    json_t *jv = json_object_get(root, "vmx_msrs"), *jc = json_object_get(root, "cpuid");
    if (!jv || !jc) { fail(&c, "\"vmx_msrs\" and \"cpuid\" are required"); goto out; }
    if (parse_vmx_msrs(&c, jv, out) < 0 || parse_cpuid(&c, jc, out) < 0) goto out;
    json_t *jm = json_object_get(root, "msrs");
    if (jm && parse_msrs(&c, jm, out) < 0) goto out;
    json_t *jy = json_object_get(root, "cycles");
    if (!jy) {
        fail(&c, "\"cycles\" is required (the cycle model's costs, docs/cycle-model.md)");
        goto out;
    }
    if (parse_cycles(&c, jy, out) < 0) goto out;
    /* The physical-address width: CPUID.80000008H:EAX[7:0] (SDM Vol. 2A
     * CPUID); "maxphyaddr", if given, must agree. */
    uint32_t r8[4];
    vx_profile_cpuid(out, 0x80000008, 0, r8);
    unsigned width = r8[0] & 0xFF;
    json_t *jw = json_object_get(root, "maxphyaddr");
    if (jw) {
        if (!json_is_integer(jw) || json_integer_value(jw) < 36 || json_integer_value(jw) > 52) {
            fail(&c, "\"maxphyaddr\" must be an integer from 36 to 52");
            goto out;
        }
        if (width && width != (unsigned)json_integer_value(jw)) {
            fail(&c, "\"maxphyaddr\" %d disagrees with CPUID.80000008H:EAX[7:0] = %u",
                 (int)json_integer_value(jw), width);
            goto out;
        }
        width = (unsigned)json_integer_value(jw);
    }
    if (width < 36 || width > 52) {
        fail(&c, "the physical-address width (CPUID.80000008H:EAX[7:0] or \"maxphyaddr\") "
                 "must be from 36 to 52");
        goto out;
    }
    out->maxphyaddr = width;
    if (check_consistency(&c, out) < 0) goto out;
    r = 0;
out:
    json_decref(root);
    if (r < 0) memset(out, 0, sizeof *out);
    return r;
}

static const vx_cpuid_leaf *find_leaf(const vx_profile *p, uint32_t leaf, uint32_t subleaf)
{
    for (int i = 0; i < p->ncpuid; i++)
        if (p->cpuid[i].leaf == leaf && (!p->cpuid[i].has_subleaf || p->cpuid[i].subleaf == subleaf))
            return &p->cpuid[i];
    return NULL;
}

void vx_profile_cpuid(const vx_profile *p, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    const vx_cpuid_leaf *l0 = find_leaf(p, 0, 0), *e0 = find_leaf(p, 0x80000000, 0);
    uint32_t max_basic = l0 ? l0->eax : 0, max_ext = e0 ? e0->eax : 0;
    /* A leaf beyond the highest basic or extended leaf returns the data
     * of the highest basic leaf (SDM Vol. 2A CPUID, "If a value entered
     * for CPUID.EAX is higher than the maximum input value ...", Intel
     * processors). */
    if ((leaf < 0x80000000 && leaf > max_basic) || (leaf >= 0x80000000 && leaf > max_ext))
        leaf = max_basic;
    const vx_cpuid_leaf *l = find_leaf(p, leaf, subleaf);
    out[0] = l ? l->eax : 0;
    out[1] = l ? l->ebx : 0;
    out[2] = l ? l->ecx : 0;
    out[3] = l ? l->edx : 0;
}

int vx_profile_vmx_msr(const vx_profile *p, uint32_t msr, uint64_t *v)
{
    if (msr < VX_VMX_MSR_FIRST || msr > VX_VMX_MSR_LAST) return -1;
    unsigned i = msr - VX_VMX_MSR_FIRST;
    if (!(p->vmx_msr_present >> i & 1)) return -1;
    *v = p->vmx_msr[i];
    return 0;
}

const vx_profile_msr *vx_profile_msr_find(const vx_profile *p, uint32_t msr)
{
    for (int i = 0; i < p->nmsrs; i++)
        if (p->msrs[i].index == msr) return &p->msrs[i];
    return NULL;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

int vx_profile_list(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir ? dir : VX_PROFILE_DIR);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || len - 5 >= 64 || strcmp(e->d_name + len - 5, ".json")) continue;
        memcpy(names[n], e->d_name, len - 5);
        names[n][len - 5] = 0;
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    return n;
}

uint32_t vx_profile_vmcs_revision(const vx_profile *p) { return (uint32_t)(p->vmx_msr[0] & 0x7fffffff); }
unsigned vx_profile_vmcs_size(const vx_profile *p) { return (unsigned)((p->vmx_msr[0] >> 32) & 0x1fff); }
