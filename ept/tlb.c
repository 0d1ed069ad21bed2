/*
 * tlb.c - the model's cached translations (tlb.h): two hash tables, one
 * of linear/combined mappings and one of guest-physical mappings, each
 * of at most VX_TLB_CAPACITY entries.  Removed entries are marked dead
 * and the table is rebuilt when they pile up; a full table empties
 * itself (deterministically: the same program always empties it at the
 * same point).
 */
#include <stdlib.h>
#include <string.h>

#include "tlb.h"

#define NBUCKETS (VX_TLB_CAPACITY * 2u)

static const uint8_t shifts[] = {12, 21, 22, 30};

/* The index of a mapping size in shifts[]. */
static unsigned size_slot(unsigned shift)
{
    return shift == 12 ? 0 : shift == 21 ? 1 : shift == 22 ? 2 : 3;
}

static unsigned hash(uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x7F4A7C15ull + (a << 6));
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (unsigned)(h >> 40) & (NBUCKETS - 1);
}

int vx_tlb_init(vx_tlb *t)
{
    memset(t, 0, sizeof *t);
    t->e = malloc(sizeof *t->e * VX_TLB_CAPACITY);
    t->g = malloc(sizeof *t->g * VX_TLB_CAPACITY);
    t->bucket = malloc(sizeof *t->bucket * NBUCKETS);
    t->gbucket = malloc(sizeof *t->gbucket * NBUCKETS);
    if (!t->e || !t->g || !t->bucket || !t->gbucket) {
        vx_tlb_fini(t);
        return -1;
    }
    memset(t->bucket, 0xFF, sizeof *t->bucket * NBUCKETS);
    memset(t->gbucket, 0xFF, sizeof *t->gbucket * NBUCKETS);
    return 0;
}

void vx_tlb_fini(vx_tlb *t)
{
    free(t->e);
    free(t->g);
    free(t->bucket);
    free(t->gbucket);
    t->e = NULL;
    t->g = NULL;
    t->bucket = t->gbucket = NULL;
}

/* ---- contexts ---- */

static int same_tag(const vx_tlb_tag *a, const vx_tlb_tag *b)
{
    return a->vpid == b->vpid && a->pcid == b->pcid && a->ept == b->ept &&
           (!a->ept || a->eptrta == b->eptrta);
}

static void flush_everything(vx_tlb *t)
{
    t->n = 0;
    t->ng = 0;
    t->nctx = 0;
    memset(t->nctx_kind, 0, sizeof t->nctx_kind);
    memset(t->nsize, 0, sizeof t->nsize);
    memset(t->gnsize, 0, sizeof t->gnsize);
    memset(t->bucket, 0xFF, sizeof *t->bucket * NBUCKETS);
    memset(t->gbucket, 0xFF, sizeof *t->gbucket * NBUCKETS);
    t->flushes++;
}

/* The index of tag, created if create; -1 if absent.  Tags are unique
 * in ctx[] (one is added only when none matches) and stay at their index
 * until everything is flushed, so the index last found for a tag of the
 * same kind (global or not: a look-up asks for both) is tried first, and
 * a kind with no context at all is not searched. */
static int ctx_index(vx_tlb *t, const vx_tlb_tag *tag, int create)
{
    const int global = tag->pcid == VX_TLB_ANY_PCID;
    unsigned *hint = &t->ctx_hint[global];
    if (*hint < t->nctx && same_tag(&t->ctx[*hint], tag)) return (int)*hint;
    if (t->nctx_kind[global])
        for (unsigned i = 0; i < t->nctx; i++)
            if (same_tag(&t->ctx[i], tag)) return (int)(*hint = i);
    if (!create) return -1;
    if (t->nctx == VX_TLB_MAX_CTX) flush_everything(t);
    t->ctx[t->nctx] = *tag;
    if (!tag->ept) t->ctx[t->nctx].eptrta = 0;
    t->nctx_kind[global]++;
    *hint = t->nctx;
    return (int)t->nctx++;
}

/* ---- linear and combined mappings ---- */

/* The first live entry for la, smallest size first; sizes the table
 * holds none of are not probed. */
static vx_tlb_entry *find(vx_tlb *t, uint32_t ctx, uint64_t la)
{
    for (size_t s = 0; s < sizeof shifts; s++) {
        if (!t->nsize[s]) continue;
        uint64_t key = la >> shifts[s];
        for (int32_t i = t->bucket[hash(ctx, key << 8 | shifts[s])]; i >= 0; i = t->e[i].next) {
            vx_tlb_entry *e = &t->e[i];
            if (e->ctx == ctx && e->shift == shifts[s] && (e->la >> e->shift) == key && !e->dead)
                return e;
        }
    }
    return NULL;
}

void vx_tlb_flush_all(vx_tlb *t)
{
    flush_everything(t);
}

vx_tlb_entry *vx_tlb_lookup(vx_tlb *t, const vx_tlb_tag *tag, uint64_t la)
{
    vx_tlb_entry *e = NULL;
    int c = ctx_index(t, tag, 0);
    if (c >= 0) e = find(t, (uint32_t)c, la);
    if (!e) {
        vx_tlb_tag g = *tag;
        g.pcid = VX_TLB_ANY_PCID;
        c = ctx_index(t, &g, 0);
        if (c >= 0) e = find(t, (uint32_t)c, la);
    }
    if (e) t->hits++;
    else t->misses++;
    return e;
}

void vx_tlb_remove(vx_tlb *t, vx_tlb_entry *e)
{
    (void)t;
    e->dead = 1;
}

static unsigned entry_hash(const vx_tlb_entry *e)
{
    return hash(e->ctx, (e->la >> e->shift) << 8 | e->shift);
}

/* Rebuild the chains keeping the entries keep() accepts.  The heads are
 * emptied one by one when the table holds few entries: without VPIDs
 * every VM entry and exit flushes a table that holds a handful, and
 * clearing all NBUCKETS heads each time was most of a round trip's
 * flushing. */
static void rebuild(vx_tlb *t, int (*keep)(const vx_tlb *, const vx_tlb_entry *, const void *),
                    const void *arg)
{
    unsigned j = 0;
    if (t->n < NBUCKETS / 64) {
        for (unsigned i = 0; i < t->n; i++) t->bucket[entry_hash(&t->e[i])] = -1;
    } else {
        memset(t->bucket, 0xFF, sizeof *t->bucket * NBUCKETS);
    }
    memset(t->nsize, 0, sizeof t->nsize);
    for (unsigned i = 0; i < t->n; i++) {
        vx_tlb_entry e = t->e[i];
        if (e.dead || (keep && !keep(t, &e, arg))) continue;
        t->nsize[size_slot(e.shift)]++;
        unsigned h = entry_hash(&e);
        e.next = t->bucket[h];
        t->bucket[h] = (int32_t)j;
        t->e[j++] = e;
    }
    t->n = j;
}

vx_tlb_entry *vx_tlb_insert(vx_tlb *t, const vx_tlb_tag *tag, uint64_t la, const vx_xlate *x)
{
    vx_tlb_tag tg = *tag;
    if (x->g_global) tg.pcid = VX_TLB_ANY_PCID;
    int c = ctx_index(t, &tg, 1);
    uint64_t mask = ~((1ull << x->page_shift) - 1);
    vx_tlb_entry *e = find(t, (uint32_t)c, la);
    if (e && e->shift == x->page_shift) {
        e->dead = 1; /* replaced below */
    }
    if (t->n == VX_TLB_CAPACITY) {
        rebuild(t, NULL, NULL);
        if (t->n == VX_TLB_CAPACITY) {
            flush_everything(t);
            c = ctx_index(t, &tg, 1);
        }
    }
    int32_t i = (int32_t)t->n++;
    t->nsize[size_slot(x->page_shift)]++;
    e = &t->e[i];
    e->la = la & mask;
    e->gpa = x->gpa & mask;
    e->hpa = x->hpa & mask;
    e->ctx = (uint32_t)c;
    e->shift = x->page_shift;
    e->rw = x->g_rw;
    e->us = x->g_us;
    e->xd = x->g_xd;
    e->global = x->g_global;
    e->pkey = x->g_pkey;
    e->er = x->e_r;
    e->ew = x->e_w;
    e->ex = x->e_x;
    e->exu = x->e_xu;
    e->memtype = x->e_memtype;
    e->dirty = x->dirty;
    e->dead = 0;
    unsigned h = entry_hash(e);
    e->next = t->bucket[h];
    t->bucket[h] = i;
    return e;
}

/* ---- invalidation ---- */

typedef struct sel {
    uint16_t vpid, pcid;
    uint64_t la, eptrta;
    int keep_global;
} sel;

static int keep_not_page(const vx_tlb *t, const vx_tlb_entry *e, const void *a)
{
    const sel *s = a;
    return t->ctx[e->ctx].vpid != s->vpid || (s->la >> e->shift) != (e->la >> e->shift);
}

static int keep_not_pcid(const vx_tlb *t, const vx_tlb_entry *e, const void *a)
{
    const sel *s = a;
    const vx_tlb_tag *g = &t->ctx[e->ctx];
    return g->vpid != s->vpid || g->pcid != s->pcid;
}

static int keep_not_vpid(const vx_tlb *t, const vx_tlb_entry *e, const void *a)
{
    const sel *s = a;
    return t->ctx[e->ctx].vpid != s->vpid || (s->keep_global && e->global);
}

static int keep_vpid0(const vx_tlb *t, const vx_tlb_entry *e, const void *a)
{
    (void)a;
    return t->ctx[e->ctx].vpid == 0;
}

static int keep_not_ept(const vx_tlb *t, const vx_tlb_entry *e, const void *a)
{
    const sel *s = a;
    const vx_tlb_tag *g = &t->ctx[e->ctx];
    return !g->ept || (s->eptrta != UINT64_MAX && g->eptrta != s->eptrta);
}

void vx_tlb_flush_page(vx_tlb *t, uint16_t vpid, uint64_t la)
{
    sel s = {.vpid = vpid, .la = la};
    rebuild(t, keep_not_page, &s);
}

void vx_tlb_flush_pcid(vx_tlb *t, uint16_t vpid, uint16_t pcid)
{
    /* Globals live under VX_TLB_ANY_PCID and survive. */
    sel s = {.vpid = vpid, .pcid = pcid};
    rebuild(t, keep_not_pcid, &s);
}

void vx_tlb_flush_vpid(vx_tlb *t, uint16_t vpid, int keep_global)
{
    sel s = {.vpid = vpid, .keep_global = keep_global};
    rebuild(t, keep_not_vpid, &s);
}

void vx_tlb_flush_all_vpids(vx_tlb *t)
{
    rebuild(t, keep_vpid0, NULL);
}

/* ---- guest-physical mappings ---- */

static unsigned gpa_hash(const vx_gpa_entry *g)
{
    return hash(g->eptrta, (g->gpa >> g->x.shift) << 8 | g->x.shift);
}

static void grebuild(vx_tlb *t, uint64_t eptrta)
{
    unsigned j = 0;
    if (t->ng < NBUCKETS / 64) {
        for (unsigned i = 0; i < t->ng; i++) t->gbucket[gpa_hash(&t->g[i])] = -1;
    } else {
        memset(t->gbucket, 0xFF, sizeof *t->gbucket * NBUCKETS);
    }
    memset(t->gnsize, 0, sizeof t->gnsize);
    for (unsigned i = 0; i < t->ng; i++) {
        vx_gpa_entry g = t->g[i];
        if (g.eptrta == UINT64_MAX || eptrta == UINT64_MAX || g.eptrta == eptrta) continue;
        t->gnsize[size_slot(g.x.shift)]++;
        unsigned h = gpa_hash(&g);
        g.next = t->gbucket[h];
        t->gbucket[h] = (int32_t)j;
        t->g[j++] = g;
    }
    t->ng = j;
}

void vx_tlb_flush_ept(vx_tlb *t, uint64_t eptrta)
{
    sel s = {.eptrta = eptrta};
    rebuild(t, keep_not_ept, &s);
    grebuild(t, eptrta);
}

static int gpa_lookup(void *ctx, uint64_t gpa, vx_ept_xl *x)
{
    vx_gpa_view *v = ctx;
    vx_tlb *t = v->t;
    for (size_t s = 0; s < sizeof shifts; s++) {
        /* EPT has no 4-MByte pages; sizes not held are not probed. */
        if (shifts[s] == 22 || !t->gnsize[s]) continue;
        uint64_t key = gpa >> shifts[s];
        for (int32_t i = t->gbucket[hash(v->eptrta, key << 8 | shifts[s])]; i >= 0; i = t->g[i].next) {
            vx_gpa_entry *g = &t->g[i];
            if (g->eptrta == v->eptrta && g->x.shift == shifts[s] && (g->gpa >> g->x.shift) == key) {
                *x = g->x;
                t->gpa_hits++;
                return 1;
            }
        }
    }
    t->gpa_misses++;
    return 0;
}

static void gpa_insert(void *ctx, uint64_t gpa, const vx_ept_xl *x)
{
    vx_gpa_view *v = ctx;
    vx_tlb *t = v->t;
    uint64_t mask = ~((1ull << x->shift) - 1);
    /* Replace an older mapping of the same page (a write walk that set
     * the dirty flag, a re-walk after a denied access). */
    for (int32_t i = t->gbucket[hash(v->eptrta, (gpa >> x->shift) << 8 | x->shift)]; i >= 0;
         i = t->g[i].next) {
        vx_gpa_entry *g = &t->g[i];
        if (g->eptrta == v->eptrta && g->x.shift == x->shift && g->gpa == (gpa & mask)) {
            g->x = *x;
            g->x.hpa &= mask;
            return;
        }
    }
    if (t->ng == VX_TLB_CAPACITY) {
        t->ng = 0;
        memset(t->gnsize, 0, sizeof t->gnsize);
        memset(t->gbucket, 0xFF, sizeof *t->gbucket * NBUCKETS);
        t->flushes++;
    }
    int32_t i = (int32_t)t->ng++;
    t->gnsize[size_slot(x->shift)]++;
    vx_gpa_entry *g = &t->g[i];
    g->gpa = gpa & mask;
    g->eptrta = v->eptrta;
    g->x = *x;
    g->x.hpa &= mask;
    unsigned h = gpa_hash(g);
    g->next = t->gbucket[h];
    t->gbucket[h] = i;
}

vx_gpa_cache vx_tlb_gpa_cache(vx_gpa_view *view)
{
    vx_gpa_cache c = {gpa_lookup, gpa_insert, view};
    return c;
}
