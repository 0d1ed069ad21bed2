/*
 * test_vmcs.c - the VMCS field table, VMREAD/VMWRITE component rules,
 * field support from a profile's capability MSRs, and the region image.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmcs/vmcs.h"

/* ---- Hand-built profiles ------------------------------------------------ */

static void set_msr(vx_profile *p, uint32_t msr, uint64_t v)
{
    p->vmx_msr[msr - VX_VMX_MSR_FIRST] = v;
    p->vmx_msr_present |= 1u << (msr - VX_VMX_MSR_FIRST);
}

static void drop_msr(vx_profile *p, uint32_t msr)
{
    p->vmx_msr[msr - VX_VMX_MSR_FIRST] = 0;
    p->vmx_msr_present &= ~(1u << (msr - VX_VMX_MSR_FIRST));
}

/* No capability MSR at all. */
static vx_profile empty_profile(void)
{
    vx_profile p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "test-empty");
    return p;
}

/* Every control allowed to be 1, every VM function, VMCS_ENUM at its
 * maximum, IA32_VMX_MISC bit 29 clear. */
static vx_profile full_profile(void)
{
    vx_profile p = empty_profile();
    const uint64_t hi = 0xffffffff00000000ull;
    set_msr(&p, 0x480, 1ull << 55 | 0x1000ull << 32 | 1);  /* BASIC */
    set_msr(&p, 0x481, hi);
    set_msr(&p, 0x482, hi);
    set_msr(&p, 0x483, hi);
    set_msr(&p, 0x484, hi);
    set_msr(&p, 0x485, 0);                 /* MISC */
    set_msr(&p, 0x48A, 0x1ff << 1);        /* VMCS_ENUM: index 511 */
    set_msr(&p, 0x48B, hi);
    set_msr(&p, 0x48C, ~0ull);
    set_msr(&p, 0x48D, hi);
    set_msr(&p, 0x48E, hi);
    set_msr(&p, 0x48F, hi);
    set_msr(&p, 0x490, hi);
    set_msr(&p, 0x491, ~0ull);
    set_msr(&p, 0x492, ~0ull);
    set_msr(&p, 0x493, ~0ull);
    return p;
}

/* Allowed-1 bits: only the listed primary/secondary control bits. */
static vx_profile ept_profile(void)
{
    vx_profile p = empty_profile();
    set_msr(&p, 0x480, 0);                                 /* no TRUE_ MSRs */
    set_msr(&p, 0x482, (uint64_t)(1u << 31) << 32);        /* secondary */
    set_msr(&p, 0x48B, (uint64_t)(1u << 1) << 32);         /* enable EPT */
    return p;
}

static const vx_field *F(const char *name)
{
    const vx_field *f = vx_field_by_name(name);
    ck_assert_msg(f != NULL, "no field %s", name);
    return f;
}

/* ---- The table ---------------------------------------------------------- */

START_TEST(test_table_encodings)
{
    ck_assert_int_ge(vx_nfields, 150);
    for (int i = 0; i < vx_nfields; i++) {
        const vx_field *f = &vx_fields[i];
        ck_assert_msg((f->enc & 1u) == 0, "%s: access type 1", f->name);
        ck_assert_msg((f->enc & 0xffff8000u) == 0, "%s: bits 31:15", f->name);
        ck_assert_msg((f->enc & 0x1000u) == 0, "%s: bit 12", f->name);
        ck_assert_uint_eq(f->width, (f->enc >> 13) & 3u);
        ck_assert_uint_eq(f->type, (f->enc >> 10) & 3u);
        ck_assert_uint_lt(f->feature, VX_FEAT_COUNT);
        /* Ascending, hence unique (fields.c indexes the table by encoding). */
        if (i > 0)
            ck_assert_msg(vx_fields[i - 1].enc < f->enc,
                          "%s (0x%x) out of order", f->name, f->enc);
        ck_assert_int_eq(vx_field_index(f->enc, NULL), i);
    }
}
END_TEST

START_TEST(test_table_names)
{
    for (int i = 0; i < vx_nfields; i++) {
        const char *n = vx_fields[i].name;
        ck_assert_uint_gt(strlen(n), 0);
        for (const char *c = n; *c; c++)
            ck_assert_msg((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
                          || *c == '_', "%s: not snake_case", n);
        for (int j = i + 1; j < vx_nfields; j++)
            ck_assert_msg(strcmp(n, vx_fields[j].name) != 0,
                          "name %s twice", n);
        ck_assert_ptr_eq(vx_field_by_name(n), &vx_fields[i]);
    }
    ck_assert_ptr_null(vx_field_by_name("no_such_field"));
    ck_assert_ptr_null(vx_field_by_name(NULL));
    ck_assert_ptr_eq(vx_field_by_name("GUEST_RIP"), F("guest_rip"));
}
END_TEST

START_TEST(test_known_fields)
{
    const vx_field *f = F("guest_rip");
    ck_assert_uint_eq(f->enc, 0x681E);
    ck_assert_uint_eq(f->width, VX_WNAT);
    ck_assert_uint_eq(f->type, VX_T_GUEST);
    ck_assert_uint_eq(f->feature, VX_FEAT_ALWAYS);

    f = F("vm_exit_reason");
    ck_assert_uint_eq(f->enc, 0x4402);
    ck_assert_uint_eq(f->width, VX_W32);
    ck_assert_uint_eq(f->type, VX_T_EXITINFO);

    f = F("ept_pointer");
    ck_assert_uint_eq(f->enc, 0x201A);
    ck_assert_uint_eq(f->width, VX_W64);
    ck_assert_uint_eq(f->type, VX_T_CONTROL);
    ck_assert_uint_eq(f->feature, VX_FEAT_EPT);

    f = F("host_cr3");
    ck_assert_uint_eq(f->enc, 0x6C02);
    ck_assert_uint_eq(f->width, VX_WNAT);
    ck_assert_uint_eq(f->type, VX_T_HOST);

    f = F("vm_instruction_error");
    ck_assert_uint_eq(f->enc, VX_ENC_VM_INSTRUCTION_ERROR);
    f = F("virtual_processor_id");
    ck_assert_uint_eq(f->enc, 0x0000);
    ck_assert_uint_eq(f->width, VX_W16);
    ck_assert_uint_eq(f->feature, VX_FEAT_VPID);
    f = F("pin_based_vm_exec_control");
    ck_assert_uint_eq(f->enc, 0x4000);
    f = F("guest_physical_address");
    ck_assert_uint_eq(f->enc, 0x2400);
    ck_assert_uint_eq(f->type, VX_T_EXITINFO);
    ck_assert_uint_eq(f->width, VX_W64);
    f = F("io_rcx");
    ck_assert_uint_eq(f->enc, 0x6402);
    f = F("guest_intr_ssp_table");
    ck_assert_uint_eq(f->enc, 0x682C);
    ck_assert_uint_eq(f->feature, VX_FEAT_CET);

    /* The four fields known from Bochs only (fields.def). */
    f = F("msr_data");
    ck_assert_uint_eq(f->enc, 0x2402);
    ck_assert_uint_eq(f->width, VX_W64);
    ck_assert_uint_eq(f->type, VX_T_EXITINFO);
    ck_assert_uint_eq(f->feature, VX_FEAT_MSRLIST);
    f = F("guest_ia32_spec_ctrl");
    ck_assert_uint_eq(f->enc, 0x282E);
    ck_assert_uint_eq(f->width, VX_W64);
    ck_assert_uint_eq(f->type, VX_T_GUEST);
    ck_assert_uint_eq(f->feature, VX_FEAT_GUEST_SPEC_CTRL);
    f = F("host_ia32_spec_ctrl");
    ck_assert_uint_eq(f->enc, 0x2C1A);
    ck_assert_uint_eq(f->width, VX_W64);
    ck_assert_uint_eq(f->type, VX_T_HOST);
    ck_assert_uint_eq(f->feature, VX_FEAT_HOST_SPEC_CTRL);
    f = F("seam_guest_keyid");
    ck_assert_uint_eq(f->enc, 0x4026);
    ck_assert_uint_eq(f->width, VX_W32);
    ck_assert_uint_eq(f->type, VX_T_CONTROL);
    ck_assert_uint_eq(f->feature, VX_FEAT_SEAM);

    /* The generated encoding enum agrees with the table. */
    ck_assert_uint_eq(VX_ENC_guest_rip, 0x681E);
    ck_assert_uint_eq(VX_ENC_tsc_multiplier, 0x2032);
    ck_assert_uint_eq(VX_ENC_host_intr_ssp_table, 0x6C1C);

    ck_assert_str_eq(vx_field_width_name(VX_W16), "16");
    ck_assert_str_eq(vx_field_width_name(VX_W64), "64");
    ck_assert_str_eq(vx_field_width_name(VX_W32), "32");
    ck_assert_str_eq(vx_field_width_name(VX_WNAT), "natural");
    ck_assert_str_eq(vx_field_width_name(7), "unknown");
    ck_assert_str_eq(vx_feature_name(VX_FEAT_EPT), "enable EPT");
    ck_assert_str_eq(vx_feature_name(VX_FEAT_COUNT), "unknown");
}
END_TEST

START_TEST(test_field_index)
{
    int high = -1;
    int i = vx_field_index(0x201B, &high);          /* EPTP high */
    ck_assert_int_eq(i, (int)(F("ept_pointer") - vx_fields));
    ck_assert_int_eq(high, 1);
    i = vx_field_index(0x201A, &high);
    ck_assert_int_eq(i, (int)(F("ept_pointer") - vx_fields));
    ck_assert_int_eq(high, 0);
    ck_assert_int_eq(vx_field_index(0x681F, &high), -1);  /* natural high */
    ck_assert_int_eq(high, 0);
    ck_assert_int_eq(vx_field_index(0x4403, NULL), -1);   /* 32-bit high */
    ck_assert_int_eq(vx_field_index(0x0001, NULL), -1);   /* 16-bit high */
    ck_assert_int_eq(vx_field_index(0x681E | 0x8000u, NULL), -1);
    ck_assert_int_eq(vx_field_index(0x681E | 0x1000u, NULL), -1);
    ck_assert_int_eq(vx_field_index(0x681E | 0x80000000u, NULL), -1);
    ck_assert_int_eq(vx_field_index(0x2046, NULL), -1);   /* unused */
    ck_assert_int_eq(vx_field_index(0x6830, NULL), -1);
    ck_assert_int_eq(vx_field_index(0x0000, NULL), 0);
}
END_TEST

/* ---- VMREAD / VMWRITE component rules ----------------------------------- */

START_TEST(test_rw_errors)
{
    vx_profile p = full_profile();
    vx_vmcs *v = vx_vmcs_new(0x1000);
    uint64_t x = 0;
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->addr, 0x1000);

    /* Reserved bits 31:15 or 12 -> 12. */
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x681E | 0x8000u, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x681E | 0x8000u, 1), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x681E | 0x40000000u, &x), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x681E | 0x1000u, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x681E | 0x1000u, 1), 12);
    /* Unknown encodings -> 12. */
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x6830, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x2046, 1), 12);
    /* Access type 1 on a field that is not 64-bit -> 12. */
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x681F, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x681F, 1), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x0C01, &x), 12);
    /* ...even a read-only 32-bit one: 12 is checked before 13. */
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x4403, 1), 12);
    /* A field the profile does not support -> 12. */
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_shared_ept_pointer, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_shared_ept_pointer, 1), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_shared_ept_pointer | 1, &x), 12);

    /* VM-exit information fields: VMWRITE -> 13 with MISC bit 29 clear. */
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_vm_exit_reason, 0x30), 13);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_exit_qualification, 1), 13);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_guest_physical_address, 1), 13);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_guest_physical_address | 1, 1), 13);
    ck_assert_int_eq(vx_vmcs_write(NULL, v, VX_ENC_vm_exit_reason, 1), 13);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_vm_exit_reason, &x), 0);
    ck_assert_uint_eq(x, 0);
    /* An unsupported read-only field gives 12, not 13. */
    vx_profile q = ept_profile();
    set_msr(&q, 0x48B, 0);
    ck_assert_int_eq(vx_vmcs_write(&q, v, VX_ENC_guest_physical_address, 1), 12);
    /* IA32_VMX_MISC absent: bit 29 counts as clear. */
    drop_msr(&p, 0x485);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_vm_exit_reason, 1), 13);
    /* MISC bit 29 set: VMWRITE to any supported field succeeds. */
    set_msr(&p, 0x485, 1ull << 29);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_vm_exit_reason, 0x30), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_vm_exit_reason, &x), 0);
    ck_assert_uint_eq(x, 0x30);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_vm_instruction_error, 12), 0);
    /* ...but still not to one the processor lacks. */
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_shared_ept_pointer, 1), 12);

    /* Bad pointers: an error, never a crash. */
    ck_assert_int_eq(vx_vmcs_read(&p, NULL, VX_ENC_guest_rip, &x), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_guest_rip, NULL), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, NULL, VX_ENC_guest_rip, 1), 12);
    vx_vmcs_free(v);
    vx_vmcs_free(NULL);
}
END_TEST

START_TEST(test_truncation)
{
    vx_profile p = full_profile();
    vx_vmcs *v = vx_vmcs_new(0);
    const uint64_t pat = 0x1122334455667788ull;
    uint64_t x;

    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_guest_es_selector, pat), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_guest_es_selector, &x), 0);
    ck_assert_uint_eq(x, 0x7788);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_guest_es_limit, pat), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_guest_es_limit, &x), 0);
    ck_assert_uint_eq(x, 0x55667788);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_guest_rip, pat), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_guest_rip, &x), 0);
    ck_assert_uint_eq(x, pat);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_tsc_offset, pat), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_tsc_offset, &x), 0);
    ck_assert_uint_eq(x, pat);
    /* The store itself holds only the field's width. */
    ck_assert_uint_eq(vx_vmcs_get(v, VX_ENC_guest_es_selector), 0x7788);
    ck_assert_uint_eq(vx_vmcs_get(v, VX_ENC_guest_es_limit), 0x55667788);
    vx_vmcs_free(v);
}
END_TEST

START_TEST(test_high_access)
{
    vx_profile p = full_profile();
    vx_vmcs *v = vx_vmcs_new(0);
    uint64_t x;

    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x201A, 0x1122334455667788ull), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x201B, &x), 0);
    ck_assert_uint_eq(x, 0x11223344);
    /* Writing the high half stores bits 31:0 of the source in bits 63:32
     * and leaves bits 31:0 of the field. */
    ck_assert_int_eq(vx_vmcs_write(&p, v, 0x201B, 0xaabbccdd99887766ull), 0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x201A, &x), 0);
    ck_assert_uint_eq(x, 0x9988776655667788ull);
    ck_assert_int_eq(vx_vmcs_read(&p, v, 0x201B, &x), 0);
    ck_assert_uint_eq(x, 0x99887766);
    vx_vmcs_free(v);
}
END_TEST

START_TEST(test_put_get)
{
    vx_profile p = full_profile();
    vx_vmcs *v = vx_vmcs_new(0);
    uint64_t x;
    /* The processor writes read-only fields (VM exit). */
    ck_assert_int_eq(vx_vmcs_put(v, VX_ENC_vm_exit_reason, 0x100000030ull), 0);
    ck_assert_uint_eq(vx_vmcs_get(v, VX_ENC_vm_exit_reason), 0x30);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_vm_exit_reason, &x), 0);
    ck_assert_uint_eq(x, 0x30);
    ck_assert_int_eq(vx_vmcs_put(v, 0x201B, 1), -1);
    ck_assert_int_eq(vx_vmcs_put(v, 0x2046, 1), -1);
    ck_assert_int_eq(vx_vmcs_put(NULL, VX_ENC_guest_rip, 1), -1);
    ck_assert_uint_eq(vx_vmcs_get(v, 0x2046), 0);
    ck_assert_uint_eq(vx_vmcs_get(NULL, VX_ENC_guest_rip), 0);
    vx_vmcs_free(v);
}
END_TEST

/* ---- Region image ------------------------------------------------------- */

/* The image size computed from first principles: header, then 8 bytes
 * for each supported 64-bit or natural-width field, 4 for each 32-bit
 * and 2 for each 16-bit one. */
static size_t expected_image(const vx_profile *p)
{
    size_t n = 16;
    for (int i = 0; i < vx_nfields; i++) {
        if (!vx_field_supported(p, &vx_fields[i]))
            continue;
        n += vx_fields[i].width == VX_W16 ? 2 : vx_fields[i].width == VX_W32 ? 4 : 8;
    }
    return n;
}

START_TEST(test_region)
{
    vx_profile p = full_profile();
    size_t n = vx_vmcs_image_bytes(&p);
    ck_assert_int_eq(VX_NFIELDS, vx_nfields);
    ck_assert_uint_eq(n, expected_image(&p));
    ck_assert_uint_le(n, 4096);
    printf("vmcs: %d fields, image of every supported field %zu bytes\n", vx_nfields, n);

    vx_vmcs *a = vx_vmcs_new(0x5000), *b = vx_vmcs_new(0x6000);
    a->revision = 0x80000012u;
    a->abort = 5;
    a->launched = 1;
    for (int i = 0; i < vx_nfields; i++)
        ck_assert_int_eq(vx_vmcs_put(a, vx_fields[i].enc,
                                     0x0102030405060708ull * (uint64_t)(i + 1)), 0);
    /* The image is written in place and nothing after it is touched. */
    uint8_t *r = malloc(n + 64);
    memset(r, 0xee, n + 64);
    ck_assert_uint_eq(vx_vmcs_to_region(&p, a, r, n), n);
    for (size_t k = n; k < n + 64; k++)
        ck_assert_msg(r[k] == 0xee, "byte %zu after the image written", k);
    const uint8_t head[16] = {0x12, 0, 0, 0x80, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_mem_eq(r, head, 16);

    /* Packed by width, 8-byte values first, each group in table order:
     * the first 8-byte field is right after the header, every value is
     * aligned to its size and no two overlap. */
    int first8 = -1;
    for (int i = 0; i < vx_nfields && first8 < 0; i++)
        if (vx_fields[i].width != VX_W16 && vx_fields[i].width != VX_W32 &&
            vx_field_supported(&p, &vx_fields[i]))
            first8 = i;
    ck_assert_uint_eq(vx_vmcs_image_offset(&p, first8), 16);
    uint8_t *used = calloc(n, 1);
    for (int i = 0; i < vx_nfields; i++) {
        size_t off = vx_vmcs_image_offset(&p, i);
        if (!vx_field_supported(&p, &vx_fields[i])) {
            ck_assert_uint_eq(off, 0);
            continue;
        }
        size_t w = vx_fields[i].width == VX_W16 ? 2 : vx_fields[i].width == VX_W32 ? 4 : 8;
        ck_assert_uint_ge(off, 16);
        ck_assert_uint_le(off + w, n);
        ck_assert_uint_eq(off % w, 0);
        for (size_t k = off; k < off + w; k++) {
            ck_assert_msg(!used[k], "%s overlaps at byte %zu", vx_fields[i].name, k);
            used[k] = 1;
        }
        /* Little-endian, at the field's width. */
        for (size_t k = 0; k < w; k++)
            ck_assert_uint_eq(r[off + k], (uint8_t)(a->val[i] >> (8 * k)));
    }
    for (size_t k = 16; k < n; k++)
        ck_assert_msg(used[k], "byte %zu of the image holds no field", k);
    free(used);
    ck_assert_uint_lt(vx_vmcs_image_offset(&p, vx_field_index(VX_ENC_guest_rip, NULL)),
                      vx_vmcs_image_offset(&p, vx_field_index(VX_ENC_guest_es_limit, NULL)));
    ck_assert_uint_lt(vx_vmcs_image_offset(&p, vx_field_index(VX_ENC_guest_es_limit, NULL)),
                      vx_vmcs_image_offset(&p, vx_field_index(VX_ENC_guest_es_selector, NULL)));
    ck_assert_uint_eq(vx_vmcs_image_offset(&p, -1), 0);
    ck_assert_uint_eq(vx_vmcs_image_offset(&p, vx_nfields), 0);

    /* Round trip: every supported field survives; an unsupported one
     * (which software cannot read or write) is not in the image and
     * reads back as 0. */
    int seam = vx_field_index(VX_ENC_shared_ept_pointer, NULL);
    ck_assert_uint_ne(a->val[seam], 0);
    b->val[seam] = 7;
    ck_assert_uint_eq(vx_vmcs_from_region(&p, b, r, n), n);
    ck_assert_uint_eq(b->revision, 0x80000012u);
    ck_assert_uint_eq(b->abort, 5);
    ck_assert_int_eq(b->launched, 1);
    ck_assert_uint_eq(b->addr, 0x6000);
    for (int i = 0; i < vx_nfields; i++)
        ck_assert_uint_eq(b->val[i], vx_field_supported(&p, &vx_fields[i]) ? a->val[i] : 0);
    ck_assert_uint_eq(b->val[seam], 0);

    a->launched = 0;
    vx_vmcs_to_region(&p, a, r, n);
    ck_assert_uint_eq(r[8], 0);
    vx_vmcs_from_region(&p, b, r, n);
    ck_assert_int_eq(b->launched, 0);

    /* A corrupted image: any non-zero launch word is "launched", values
     * are read at their field's width. */
    r[9] = 0x40;
    size_t os = vx_vmcs_image_offset(&p, vx_field_index(VX_ENC_guest_es_selector, NULL));
    memset(r + os, 0xff, 2);
    vx_vmcs_from_region(&p, b, r, n);
    ck_assert_int_eq(b->launched, 1);
    ck_assert_uint_eq(vx_vmcs_get(b, VX_ENC_guest_es_selector), 0xffff);

    /* A region too small for the image: nothing is written or read. */
    memset(r, 0xee, n + 64);
    ck_assert_uint_eq(vx_vmcs_to_region(&p, a, r, n - 1), 0);
    for (size_t k = 0; k < n + 64; k++)
        ck_assert_uint_eq(r[k], 0xee);
    b->revision = 1;
    ck_assert_uint_eq(vx_vmcs_from_region(&p, b, r, n - 1), 0);
    ck_assert_uint_eq(b->revision, 1);
    ck_assert_uint_eq(vx_vmcs_to_region(&p, NULL, r, n), 0);
    ck_assert_uint_eq(vx_vmcs_from_region(&p, b, NULL, n), 0);
    free(r);
    vx_vmcs_free(a);
    vx_vmcs_free(b);
}
END_TEST

/* The image follows the profile: fewer fields, a smaller image. */
START_TEST(test_region_profile)
{
    vx_profile full = full_profile(), ept = ept_profile(), none = empty_profile();
    size_t nf = vx_vmcs_image_bytes(&full), ne = vx_vmcs_image_bytes(&ept),
           n0 = vx_vmcs_image_bytes(&none);
    ck_assert_uint_eq(ne, expected_image(&ept));
    ck_assert_uint_eq(n0, expected_image(&none));
    ck_assert_uint_lt(n0, ne);
    ck_assert_uint_lt(ne, nf);
    /* Every field of the table at 8 bytes would not fit in 1024 bytes
     * (the size Intel cores report); the fields of a real processor do. */
    ck_assert_uint_gt(16 + 8 * (size_t)vx_nfields, 1024);
    ck_assert_uint_le(ne, 1024);
    ck_assert_uint_ne(vx_vmcs_image_offset(&ept, vx_field_index(VX_ENC_ept_pointer, NULL)), 0);
    ck_assert_uint_eq(vx_vmcs_image_offset(&ept, vx_field_index(VX_ENC_virtual_processor_id, NULL)), 0);
    ck_assert_uint_eq(vx_vmcs_image_offset(&none, vx_field_index(VX_ENC_ept_pointer, NULL)), 0);

    /* vx_vmcs_image_fits: the first field, in image order, past the end. */
    int f = 99;
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, ne, &f), 0);
    ck_assert_int_eq(f, -1);
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, 4096, NULL), 0);
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, ne - 1, &f), -1);
    ck_assert_int_ge(f, 0);
    ck_assert_uint_eq(vx_vmcs_image_offset(&ept, f) + 2, ne);   /* a 16-bit field ends it */
    ck_assert_uint_eq(vx_fields[f].width, VX_W16);
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, 16, &f), -1);
    ck_assert_uint_eq(vx_vmcs_image_offset(&ept, f), 16);      /* the first value */
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, 15, &f), -1);
    ck_assert_int_eq(f, -1);                                   /* not even the header */
    ck_assert_int_eq(vx_vmcs_image_fits(&ept, 100, NULL), -1);
}
END_TEST

/* ---- Support from the capability MSRs ------------------------------------ */

START_TEST(test_supported_full)
{
    vx_profile p = full_profile();
    int unsupported = 0;
    for (int i = 0; i < vx_nfields; i++)
        if (!vx_field_supported(&p, &vx_fields[i]))
            unsupported++;
    /* Only shared_ept_pointer and seam_guest_keyid (SEAM, never
     * enumerated). */
    ck_assert_int_eq(unsupported, 2);
    ck_assert_int_eq(vx_field_supported(&p, F("shared_ept_pointer")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("seam_guest_keyid")), 0);
    ck_assert_int_eq(vx_field_supported(NULL, F("shared_ept_pointer")), 0);
    ck_assert_int_eq(vx_field_supported(NULL, F("ept_pointer")), 1);
    ck_assert_int_eq(vx_field_supported(&p, NULL), 0);
}
END_TEST

START_TEST(test_supported_empty)
{
    /* No capability MSR: exactly the VX_FEAT_ALWAYS fields exist. */
    vx_profile p = empty_profile();
    for (int i = 0; i < vx_nfields; i++)
        ck_assert_int_eq(vx_field_supported(&p, &vx_fields[i]),
                         vx_fields[i].feature == VX_FEAT_ALWAYS);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_rip")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("msr_bitmap")), 0);
}
END_TEST

START_TEST(test_supported_ept)
{
    vx_profile p = ept_profile();
    vx_vmcs *v = vx_vmcs_new(0);
    uint64_t x;
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_physical_address")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_pdptr3")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("secondary_vm_exec_control")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("virtual_processor_id")), 0);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_ept_pointer, 0x1e), 0);

    /* Secondary allowed-1 bit 1 clear: no EPTP. */
    set_msr(&p, 0x48B, (uint64_t)(1u << 5) << 32);        /* VPID only */
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("virtual_processor_id")), 1);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_ept_pointer, &x), 12);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_ept_pointer | 1, &x), 12);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_ept_pointer, 0x1e), 12);

    /* EPT allowed in PROCBASED_CTLS2 but secondary controls cannot be
     * activated: the MSR does not count (SDM A.3.3). */
    p = ept_profile();
    set_msr(&p, 0x482, 0);
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("secondary_vm_exec_control")), 0);
    /* ...nor when the MSR is absent. */
    p = ept_profile();
    drop_msr(&p, 0x48B);
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 0);

    /* Allowed-1 bit only in the TRUE_ MSR: counts iff BASIC bit 55. */
    p = ept_profile();
    set_msr(&p, 0x482, 0);
    set_msr(&p, 0x48E, (uint64_t)(1u << 31) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 0);
    set_msr(&p, 0x480, 1ull << 55);
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 1);
    vx_vmcs_free(v);
}
END_TEST

START_TEST(test_supported_vmcs_enum)
{
    vx_profile p = full_profile();
    /* IA32_VMX_VMCS_ENUM bits 9:1 = 23 (0x17): highest index used. */
    set_msr(&p, 0x48A, 0x17 << 1);
    ck_assert_int_eq(vx_field_supported(&p, F("ept_pointer")), 1);          /* 13 */
    ck_assert_int_eq(vx_field_supported(&p, F("vmx_preemption_timer_value")), 1); /* 23 */
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_fred_config")), 1);     /* 13 */
    ck_assert_int_eq(vx_field_supported(&p, F("secondary_vm_exit_controls")), 0); /* 34 */
    ck_assert_int_eq(vx_field_supported(&p, F("injected_event_data")), 0);        /* 41 */
    ck_assert_int_eq(vx_field_supported(&p, F("guest_deadline_phy")), 0);         /* 24 */
    /* Bit 0 and bits 63:10 of the MSR are not part of the index. */
    set_msr(&p, 0x48A, 0xfffffffffffffc00ull | (0x16 << 1) | 1);
    ck_assert_int_eq(vx_field_supported(&p, F("vmx_preemption_timer_value")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_intr_ssp_table")), 1);       /* 22 */
    uint64_t x;
    vx_vmcs *v = vx_vmcs_new(0);
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_vmx_preemption_timer_value, &x), 12);
    vx_vmcs_free(v);
    /* Without the MSR there is no index limit. */
    drop_msr(&p, 0x48A);
    ck_assert_int_eq(vx_field_supported(&p, F("injected_event_data")), 1);
}
END_TEST

START_TEST(test_supported_features)
{
    vx_profile p = empty_profile();
    const vx_field *hlat = F("hlat_pointer"), *list = F("eptp_list_address");
    /* Tertiary: PROC bit 17 and IA32_VMX_PROCBASED_CTLS3 bit 1. */
    set_msr(&p, 0x492, 1ull << 1);
    ck_assert_int_eq(vx_field_supported(&p, hlat), 0);
    set_msr(&p, 0x482, (uint64_t)(1u << 17) << 32);
    ck_assert_int_eq(vx_field_supported(&p, hlat), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("hlat_prefix_size")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("tertiary_vm_exec_control")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("pid_pointer_table")), 0);
    set_msr(&p, 0x492, 1ull << 4);
    ck_assert_int_eq(vx_field_supported(&p, hlat), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("last_pid_pointer_index")), 1);

    /* EPTP list: VM function 0, which needs "enable VM functions". */
    p = empty_profile();
    set_msr(&p, 0x482, (uint64_t)(1u << 31) << 32);
    set_msr(&p, 0x491, 1);
    ck_assert_int_eq(vx_field_supported(&p, list), 0);
    set_msr(&p, 0x48B, (uint64_t)(1u << 13) << 32);
    ck_assert_int_eq(vx_field_supported(&p, list), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("vm_function_control")), 1);
    set_msr(&p, 0x491, 2);
    ck_assert_int_eq(vx_field_supported(&p, list), 0);

    /* Guest PAT: "load IA32_PAT" entry (bit 14) or "save IA32_PAT" exit
     * (bit 18); host PAT: "load IA32_PAT" exit (bit 19). */
    p = empty_profile();
    set_msr(&p, 0x483, (uint64_t)(1u << 18) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_pat")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_pat")), 0);
    set_msr(&p, 0x483, (uint64_t)(1u << 19) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_pat")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_pat")), 1);
    set_msr(&p, 0x484, (uint64_t)(1u << 14) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_pat")), 1);

    /* Pin-based: preemption timer (6), posted interrupts (7). */
    p = empty_profile();
    set_msr(&p, 0x481, (uint64_t)(1u << 7) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("posted_intr_nv")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("posted_intr_desc_addr")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("vmx_preemption_timer_value")), 0);

    /* FRED guest state: "save FRED" in IA32_VMX_EXIT_CTLS2, usable only
     * when secondary VM-exit controls can be activated (A.4.2). */
    p = empty_profile();
    set_msr(&p, 0x493, 1);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_fred_rsp1")), 0);
    set_msr(&p, 0x483, (uint64_t)(1u << 31) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_fred_rsp1")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_fred_rsp1")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("secondary_vm_exit_controls")), 1);

    /* IA32_SPEC_CTRL: guest field with VM-entry bit 24, host field with
     * secondary VM-exit bit 2. */
    p = empty_profile();
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_spec_ctrl")), 0);
    set_msr(&p, 0x484, (uint64_t)(1u << 24) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("guest_ia32_spec_ctrl")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_spec_ctrl")), 0);
    set_msr(&p, 0x493, 1ull << 2);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_spec_ctrl")), 0);
    set_msr(&p, 0x483, (uint64_t)(1u << 31) << 32);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_spec_ctrl")), 1);
    ck_assert_int_eq(vx_field_supported(&p, F("host_ia32_fred_rsp1")), 0);

    /* MSR data: tertiary bit 6 ("enable MSR-list instructions"). */
    p = empty_profile();
    set_msr(&p, 0x482, (uint64_t)(1u << 17) << 32);
    set_msr(&p, 0x492, 1ull << 7);
    ck_assert_int_eq(vx_field_supported(&p, F("msr_data")), 0);
    ck_assert_int_eq(vx_field_supported(&p, F("ia32_spec_ctrl_mask")), 1);
    set_msr(&p, 0x492, 1ull << 6);
    ck_assert_int_eq(vx_field_supported(&p, F("msr_data")), 1);
    /* A read-only data field: VMWRITE error 13 with MISC bit 29 clear. */
    vx_vmcs *v = vx_vmcs_new(0);
    uint64_t x = 1;
    ck_assert_int_eq(vx_vmcs_read(&p, v, VX_ENC_msr_data | 1, &x), 0);
    ck_assert_uint_eq(x, 0);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_msr_data, 1), 13);
    ck_assert_int_eq(vx_vmcs_write(&p, v, VX_ENC_seam_guest_keyid, 1), 12);
    vx_vmcs_free(v);

    ck_assert_int_eq(vx_feature_supported(&p, VX_FEAT_COUNT), 0);
    ck_assert_int_eq(vx_feature_supported(&p, VX_FEAT_ALWAYS), 1);
    ck_assert_int_eq(vx_feature_supported(NULL, VX_FEAT_SEAM), 0);
}
END_TEST

/* ---- Names -------------------------------------------------------------- */

START_TEST(test_names)
{
    ck_assert_str_eq(vx_exit_reason_name(0), "EXCEPTION_NMI");
    ck_assert_str_eq(vx_exit_reason_desc(0),
                     "exception or non-maskable interrupt (NMI)");
    ck_assert_str_eq(vx_exit_reason_name(48), "EPT_VIOLATION");
    ck_assert_str_eq(vx_exit_reason_desc(48), "EPT violation");
    ck_assert_str_eq(vx_exit_reason_name(VX_EXIT_CPUID), "CPUID");
    ck_assert_int_eq(VX_EXIT_CPUID, 10);
    ck_assert_str_eq(vx_exit_reason_name(85), "MSR_WRITE_IMM");
    ck_assert_str_eq(vx_exit_reason_name(35), "unknown");
    ck_assert_str_eq(vx_exit_reason_desc(1000), "unknown");

    static const unsigned nums[] = {
#define VX_EXIT(n, id, text) n,
#include "../vmcs/exit_reasons.def"
#undef VX_EXIT
    };
    size_t nn = sizeof nums / sizeof nums[0];
    ck_assert_uint_eq(nn, 80);
    for (size_t i = 1; i < nn; i++)
        ck_assert_uint_lt(nums[i - 1], nums[i]);

    ck_assert_str_eq(vx_vmerr_name(12),
                     "VMREAD/VMWRITE from/to unsupported VMCS component");
    ck_assert_str_eq(vx_vmerr_name(13), "VMWRITE to read-only VMCS component");
    ck_assert_str_eq(vx_vmerr_name(14), "unknown");
    ck_assert_int_eq(VX_VMERR_UNSUPPORTED_COMPONENT, 12);
}
END_TEST

/* ---- The documentation agrees with the table ----------------------------- */

/* The file at VX_SOURCE_ROOT/rel, NUL-terminated (free it). */
static char *slurp(const char *rel)
{
    const char *root = getenv("VX_SOURCE_ROOT");
    ck_assert_msg(root, "run through meson (VX_SOURCE_ROOT)");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* The text of the last column of the table row starting with `head`
 * (copied to out), or NULL if the document has no such row. */
static const char *row_last(const char *doc, const char *head, char *out, size_t len)
{
    const char *r = strstr(doc, head);
    if (!r || (r != doc && r[-1] != '\n'))
        return NULL;
    const char *eol = strchr(r, '\n');
    if (!eol)
        eol = r + strlen(r);
    const char *end = eol;
    while (end > r && end[-1] != '|')
        end--;
    end--;                                   /* the closing '|' */
    const char *start = end;
    while (start > r && start[-1] != '|')
        start--;
    while (*start == ' ')
        start++;
    size_t n = (size_t)(end - start);
    while (n && start[n - 1] == ' ')
        n--;
    ck_assert_uint_lt(n, len);
    memcpy(out, start, n);
    out[n] = 0;
    return out;
}

static const char *const feat_ids[VX_FEAT_COUNT] = {
#define VX_FEAT_DEF(id, text, c1, b1, c2, b2) #id,
#include "../vmcs/features.def"
#undef VX_FEAT_DEF
};

/* docs/vmcs-fields.md: the field count, and the feature table lists each
 * feature once with exactly its fields, in table order. */
START_TEST(test_doc_fields)
{
    char *doc = slurp("docs/vmcs-fields.md");
    const char *at = strstr(doc, "fields in all");
    ck_assert_ptr_nonnull(at);
    while (at > doc && (at[-1] == ' ' || at[-1] == '\n'))
        at--;
    while (at > doc && at[-1] >= '0' && at[-1] <= '9')
        at--;
    ck_assert_int_eq(atoi(at), vx_nfields);

    /* Rows of the feature table: "| `ID` |" with ID in capitals. */
    int rows = 0;
    for (const char *r = doc; (r = strstr(r, "\n| `")); r++) {
        size_t k = 4;
        while ((r[k] >= 'A' && r[k] <= 'Z') || (r[k] >= '0' && r[k] <= '9') || r[k] == '_')
            k++;
        if (k > 4 && r[k] == '`')
            rows++;
    }
    ck_assert_int_eq(rows, VX_FEAT_COUNT);
    static char want[4096], got[4096];
    for (int f = 0; f < VX_FEAT_COUNT; f++) {
        char head[64];
        snprintf(head, sizeof head, "| `%s` |", feat_ids[f]);
        want[0] = 0;
        int n = 0;
        for (int i = 0; i < vx_nfields; i++) {
            if (vx_fields[i].feature != f)
                continue;
            if (f != VX_FEAT_ALWAYS)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
                         n ? ", " : "", vx_fields[i].name);
            n++;
        }
        if (f == VX_FEAT_ALWAYS)
            snprintf(want, sizeof want, "%d fields", n);
        ck_assert_msg(n > 0, "feature %s makes no field exist", feat_ids[f]);
        ck_assert_msg(row_last(doc, head, got, sizeof got), "docs/vmcs-fields.md: no row %s", head);
        ck_assert_msg(!strcmp(got, want), "docs/vmcs-fields.md, row %s: \"%s\", the table says \"%s\"",
                      head, got, want);
    }
    free(doc);
}
END_TEST

/* docs/vmcs-layout.md: the image of each shipped profile, and of every
 * field, as the model computes them. */
START_TEST(test_doc_layout)
{
    char *doc = slurp("docs/vmcs-layout.md");
    static const char *const names[] = {"icelake-server", "minimal", NULL};
    char dir[1024], head[64], want[128], err[256];
    snprintf(dir, sizeof dir, "%s/profiles", getenv("VX_SOURCE_ROOT"));
    for (int k = 0; k < 3; k++) {
        vx_profile p;
        int n[3] = {0, 0, 0};
        size_t bytes = 16;
        if (names[k])
            ck_assert_msg(vx_profile_load(names[k], dir, &p, err, sizeof err) == 0, "%s", err);
        for (int i = 0; i < vx_nfields; i++) {
            if (names[k] && !vx_field_supported(&p, &vx_fields[i]))
                continue;
            int g = vx_fields[i].width == VX_W16 ? 2 : vx_fields[i].width == VX_W32 ? 1 : 0;
            n[g]++;
            bytes += g == 2 ? 2 : g == 1 ? 4 : 8;
        }
        if (names[k]) {
            ck_assert_uint_eq(bytes, vx_vmcs_image_bytes(&p));
            ck_assert_uint_le(bytes, vx_profile_vmcs_size(&p));
            snprintf(head, sizeof head, "| `%s` |", names[k]);
        } else {
            ck_assert_uint_gt(bytes, 1024);
            snprintf(head, sizeof head, "| every field of the table |");
        }
        snprintf(want, sizeof want, "| %d, %d, %d | %zu bytes", n[0], n[1], n[2], bytes);
        const char *r = strstr(doc, head);
        ck_assert_msg(r, "docs/vmcs-layout.md: no row %s", head);
        ck_assert_msg(!strncmp(r + strlen(head) - 1, want, strlen(want)),
                      "docs/vmcs-layout.md, row %s: expected \"%s\"", head, want);
    }
    free(doc);
}
END_TEST

static Suite *vmcs_suite(void)
{
    Suite *s = suite_create("vmcs");
    TCase *t = tcase_create("table");
    tcase_add_test(t, test_table_encodings);
    tcase_add_test(t, test_table_names);
    tcase_add_test(t, test_known_fields);
    tcase_add_test(t, test_field_index);
    suite_add_tcase(s, t);
    t = tcase_create("access");
    tcase_add_test(t, test_rw_errors);
    tcase_add_test(t, test_truncation);
    tcase_add_test(t, test_high_access);
    tcase_add_test(t, test_put_get);
    tcase_add_test(t, test_region);
    tcase_add_test(t, test_region_profile);
    suite_add_tcase(s, t);
    t = tcase_create("support");
    tcase_add_test(t, test_supported_full);
    tcase_add_test(t, test_supported_empty);
    tcase_add_test(t, test_supported_ept);
    tcase_add_test(t, test_supported_vmcs_enum);
    tcase_add_test(t, test_supported_features);
    suite_add_tcase(s, t);
    t = tcase_create("names");
    tcase_add_test(t, test_names);
    suite_add_tcase(s, t);
    t = tcase_create("docs");
    tcase_add_test(t, test_doc_fields);
    tcase_add_test(t, test_doc_layout);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    printf("vmcs: %d fields in vx_fields\n", vx_nfields);
    SRunner *r = srunner_create(vmcs_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
