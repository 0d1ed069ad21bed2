/*
 * driver.c - vmxsim-bench, the benchmark driver (docs/bench.md).
 *
 * The parent runs every workload's variants several times, each run in a
 * child process of its own (this program again, with --child), so that
 * each run starts from the same state and its peak memory is its own
 * (wait4's ru_maxrss; the child also reports VmHWM at the point that
 * matters).  It then prints a table of medians and writes one JSON file
 * per workload.
 *
 * A child creates a machine, loads a workload program (bench/prog/),
 * writes its inputs into the parameter block (prog/bench.h) and runs it.
 * The program prints timing marks; the callback on "console" events
 * reads the host's monotonic clock when one arrives.  That is the only
 * place host time is read, and it is here, in the driver: the model never
 * sees it (the same events, in the same order, with the same icount,
 * arrive whatever the clock says).
 *
 * Raw Unicorn runs the same loop bytes in the same child process: the
 * bytes of loop.S linked into this program, checked equal to the bytes
 * the program had in guest memory, at the same address.
 *
 * page_walks under EPT counts walks in a variant of its own, with the
 * callback on translation events too; that variant runs once (its
 * counts are the model's, the same every run) and its time is not used.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

#include "vmxsim.h"
#include "../ept/tlb.h"   /* the walker (libvmxsim has it): the walker workload */
#define BENCH_HOST
#include "prog/bench.h"
#include "prog/pw_layout.h"

/* loop.S, assembled into this program too. */
extern const uint8_t bench_loop[], bench_loop_end[];

#define LOOP_INSNS_PER_ITER 4u
#define CHILD_FD 3
#define MAX_MARKS 16

/* Work sizes at --scale 1, chosen so that one run of each takes about a
 * second on the model as it is today (docs/bench.md). */
#define LOOP_ITERS      50000000ull
#define EXITS_UNTRACED  3000ull
#define EXITS_TRACED    2000ull
#define OUTS_UNTRACED   2000000ull
#define OUTS_TRACED     200000ull
#define PW_PAGES_A      10000ull
#define PW_PASSES_A     10ull

static struct {
    const char *progs;    /* where the workload programs are */
    const char *results;  /* bench/results in the source tree */
    const char *src;      /* the source tree, for git */
    int runs;
    double scale;
} cfg = {.runs = 5, .scale = 1.0};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vmxsim-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t scaled(uint64_t n, uint64_t lo, uint64_t hi)
{
    double v = (double)n * cfg.scale;
    if (v < (double)lo) return lo;
    if (v > (double)hi) return hi;
    return (uint64_t)v;
}

/* Peak resident set of this process so far, KiB (/proc/self/status). */
static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kib;
}

/* ================= child: one run of one variant ================= */

/* What a child reports: figures in the order they were added, each with
 * its unit, a label for the table (NULL: JSON only). */
static json_t *child_figs;

static void fig(const char *key, double v, const char *unit, const char *label)
{
    json_t *f = json_pack("{s:f, s:s}", "value", v, "unit", unit);
    if (label) json_object_set_new(f, "label", json_string(label));
    json_object_set_new(child_figs, key, f);
}

/* ---- timing marks (prog/bench.h) ---- */

/* Translation events (page_walks' counted variants): what has been seen
 * so far.  walks: `translation` events; refs: their references (each
 * event's "references"), of which cached: EPT translations taken from a
 * cached guest-physical mapping (a "cached" reference: one lookup, no
 * memory reference); hits: `tlb_hit` events (--trace-tlb-hits); invs:
 * `tlb_invalidate` events. */
typedef struct xl_count {
    uint64_t walks, refs, cached, hits, invs;
} xl_count;

/* The end event's summary of the run's walks (its "cycles" "walks":
 * walks, guest and EPT memory references, TLB hits); seen 0 if absent. */
typedef struct end_walks {
    int seen;
    uint64_t walks, guest_refs, ept_refs, tlb_hits;
} end_walks;

typedef struct marks {
    int seen[MAX_MARKS];
    double t[MAX_MARKS];
    uint64_t icount[MAX_MARKS], seq[MAX_MARKS];
    xl_count xc, at[MAX_MARKS];   /* counts so far, and at each mark */
    end_walks end;
} marks;

static void read_end(end_walks *e, const char *json)
{
    json_t *ev = json_loads(json, 0, NULL);
    json_t *w = json_object_get(json_object_get(ev, "cycles"), "walks");
    if (json_is_object(w)) {
        e->seen = 1;
        e->walks = (uint64_t)json_integer_value(json_object_get(w, "walks"));
        e->guest_refs = (uint64_t)json_integer_value(json_object_get(w, "guest_refs"));
        e->ept_refs = (uint64_t)json_integer_value(json_object_get(w, "ept_refs"));
        e->tlb_hits = (uint64_t)json_integer_value(json_object_get(w, "tlb_hits"));
    }
    json_decref(ev);
}

static void count_xlate(xl_count *c, const vmxsim_event *ev)
{
    if (!strcmp(ev->name, "translation")) {
        c->walks++;
        const char *s = strstr(ev->json, "\"references\":");
        if (s) c->refs += strtoull(s + 13, NULL, 10);
        for (s = ev->json; (s = strstr(s, "\"cached\":true")); s += 13) c->cached++;
    } else if (!strcmp(ev->name, "tlb_hit")) {
        c->hits++;
    } else if (!strcmp(ev->name, "tlb_invalidate")) {
        c->invs++;
    }
}

/* Profiling one phase: with VMXSIM_BENCH_PERF_CTL=FIFO (perf record's
 * --control fifo:FIFO, started with -D -1: disabled) and
 * VMXSIM_BENCH_PERF_MARKS=A,B, mark A enables perf's events and mark B
 * disables them (docs/bench.md). */
static struct { int fd, on, off; } perf_ctl = {-1, -1, -1};

static void perf_ctl_init(void)
{
    const char *fifo = getenv("VMXSIM_BENCH_PERF_CTL"), *marks = getenv("VMXSIM_BENCH_PERF_MARKS");
    if (!fifo || !marks || sscanf(marks, "%d,%d", &perf_ctl.on, &perf_ctl.off) != 2) return;
    perf_ctl.fd = open(fifo, O_WRONLY);
    if (perf_ctl.fd < 0) die("%s: %s", fifo, strerror(errno));
}

static void perf_ctl_mark(int k)
{
    const char *cmd = k == perf_ctl.on ? "enable\n" : k == perf_ctl.off ? "disable\n" : NULL;
    if (perf_ctl.fd >= 0 && cmd && write(perf_ctl.fd, cmd, strlen(cmd)) < 0)
        die("perf control: %s", strerror(errno));
}

static void on_event(vmxsim *m, const vmxsim_event *ev, void *user)
{
    double t = now_s();   /* first: the mark is now */
    (void)m;
    marks *mk = user;
    if (ev->kind == VMXSIM_EV_XLATE) {
        count_xlate(&mk->xc, ev);
        return;
    }
    if (ev->kind == VMXSIM_EV_END) {
        read_end(&mk->end, ev->json);
        return;
    }
    const char *s = strstr(ev->json, "\"text\":\"@");
    if (!s) return;
    char *end;
    long k = strtol(s + 9, &end, 10);
    if (end == s + 9 || k < 0 || k >= MAX_MARKS) return;
    mk->seen[k] = 1;
    mk->t[k] = t;
    mk->icount[k] = ev->icount;
    mk->seq[k] = ev->seq;
    mk->at[k] = mk->xc;
    perf_ctl_mark((int)k);
}

static double span(const marks *mk, int a, int b)
{
    if (!mk->seen[a] || !mk->seen[b]) die("the program did not print marks @%d and @%d", a, b);
    return mk->t[b] - mk->t[a];
}

/* ---- one machine ---- */

typedef struct bench_run {
    vmxsim *m;
    marks mk;
    vmxsim_result res;
    struct bench_params p;
    char *console;        /* what the program printed */
    size_t console_len;
    FILE *con;
    double seconds;       /* vmxsim_run, whole */
} bench_run;

/* counted: also count translation events, TLB hits among them
 * (struct xl_count); no trace file is needed for that. */
static void run_create(bench_run *r, const char *prog, uint64_t mem, const char *trace,
                       const uint64_t *in, int nin, int counted)
{
    memset(r, 0, sizeof *r);
    r->con = open_memstream(&r->console, &r->console_len);
    if (!r->con) die("open_memstream: %s", strerror(errno));
    vmxsim_options opt = {.mem_size = mem, .trace_path = trace, .console = r->con,
                          .trace_tlb_hits = counted};
    char err[256], path[4096];
    r->m = vmxsim_create(&opt, err, sizeof err);
    if (!r->m) die("vmxsim_create: %s", err);
    snprintf(path, sizeof path, "%s/%s", cfg.progs, prog);
    if (vmxsim_load(r->m, path) < 0) die("%s: %s", path, vmxsim_error(r->m));
    struct bench_params p = {.magic = BENCH_MAGIC};
    for (int i = 0; i < nin; i++) p.in[i] = in[i];
    if (vmxsim_mem_write(r->m, BENCH_PARAMS_PA, &p, sizeof p) < 0)
        die("writing the parameter block: %s", vmxsim_error(r->m));
    vmxsim_set_callback(r->m, VMXSIM_EV_CONSOLE | VMXSIM_EV_END | (counted ? VMXSIM_EV_XLATE : 0), on_event,
                        &r->mk);
}

/* Run to the end, which must be the program's own success (port 0xF4,
 * value 0: exit status 1); read back the parameter block. */
static void run_go(bench_run *r, const char *what)
{
    double t0 = now_s();
    if (vmxsim_run(r->m, &r->res) < 0) die("%s: vmxsim_run: %s", what, vmxsim_error(r->m));
    r->seconds = now_s() - t0;
    vmxsim_mem_read(r->m, BENCH_PARAMS_PA, &r->p, sizeof r->p);
    if (r->res.end != VMXSIM_END_DEBUG_EXIT || r->res.exit_status != 1 || r->p.status) {
        fflush(r->con);
        fprintf(stderr, "%.*s", (int)r->console_len, r->console ? r->console : "");
        die("%s: the run ended badly: %s (exit status %d, program status %llu, out[6] %llu)",
            what, r->res.message, r->res.exit_status, (unsigned long long)r->p.status,
            (unsigned long long)r->p.out[6]);
    }
}

static void run_destroy(bench_run *r)
{
    vmxsim_destroy(r->m);
    fclose(r->con);
    free(r->console);
    r->m = NULL;
}

/* ---- the trace file ---- */

/* Lines and bytes of the trace; of them, the events after mark a up to
 * and including mark b (one event per line, line i has seq i). */
typedef struct trace_count {
    uint64_t lines, bytes, span_events, span_bytes;
} trace_count;

static trace_count count_trace(const char *path, uint64_t seq_a, uint64_t seq_b)
{
    trace_count c = {0};
    FILE *f = fopen(path, "r");
    if (!f) die("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char want[48];
    snprintf(want, sizeof want, "\"seq\":%llu,", (unsigned long long)seq_b);
    while ((n = getline(&line, &cap, f)) > 0) {
        if (c.lines == seq_b && !strstr(line, want)) die("%s: line %llu is not event seq %llu",
                                                        path, (unsigned long long)c.lines,
                                                        (unsigned long long)seq_b);
        if (c.lines > seq_a && c.lines <= seq_b) {
            c.span_events++;
            c.span_bytes += (uint64_t)n;
        }
        c.lines++;
        c.bytes += (uint64_t)n;
    }
    free(line);
    fclose(f);
    return c;
}

static void trace_path(char *buf, size_t len, const char *workload)
{
    /* Names ending .tmp in bench/results are ignored by git (.gitignore). */
    snprintf(buf, len, "%s/%s.trace.tmp", cfg.results, workload);
}

/* ---- raw Unicorn ---- */

/* The loop on a bare engine: 64-bit mode, one mapping, no hooks, from
 * the loop's first byte until its end.  Returns the seconds inside
 * uc_emu_start. */
static double raw_loop(uint64_t addr, uint64_t iters, uint64_t *rax, uint64_t *rdx)
{
    uc_engine *uc;
    size_t len = (size_t)(bench_loop_end - bench_loop);
    uint64_t page = addr & ~0xFFFull;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) die("uc_open failed");
    if (uc_mem_map(uc, page, 0x2000, UC_PROT_ALL) != UC_ERR_OK ||
        uc_mem_write(uc, addr, bench_loop, len) != UC_ERR_OK)
        die("raw Unicorn: cannot map the loop");
    uint64_t rcx = iters, zero = 0;
    uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
    uc_reg_write(uc, UC_X86_REG_RAX, &zero);
    uc_reg_write(uc, UC_X86_REG_RDX, &zero);
    double t0 = now_s();
    uc_err e = uc_emu_start(uc, addr, addr + len, 0, 0);
    double t = now_s() - t0;
    if (e != UC_ERR_OK) die("raw Unicorn: %s", uc_strerror(e));
    uc_reg_read(uc, UC_X86_REG_RAX, rax);
    uc_reg_read(uc, UC_X86_REG_RDX, rdx);
    uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
    uc_close(uc);
    if (rcx != 0) die("raw Unicorn stopped with RCX = %llu", (unsigned long long)rcx);
    return t;
}

/* ---- workloads ---- */

/* guest_loop and root_loop: the loop on the model, then on raw Unicorn. */
static void w_loop(const char *prog)
{
    uint64_t iters = scaled(LOOP_ITERS, 1000, 1ull << 40);
    uint64_t insns = iters * LOOP_INSNS_PER_ITER;
    bench_run r;
    run_create(&r, prog, 0, NULL, &iters, 1, 0);
    run_go(&r, prog);
    double t = span(&r.mk, 0, 1);
    uint64_t counted = r.mk.icount[1] - r.mk.icount[0];
    /* The model's count of the marked interval is the loop plus the few
     * instructions of the marks and the call: anything else means the
     * loop was not what ran. */
    if (counted < insns || counted > insns + 100)
        die("%s: the model retired %llu instructions between the marks, the loop is %llu",
            prog, (unsigned long long)counted, (unsigned long long)insns);
    size_t len = (size_t)(bench_loop_end - bench_loop);
    uint8_t code[64];
    if (len > sizeof code || vmxsim_mem_read(r.m, r.p.out[2], code, len) < 0 ||
        memcmp(code, bench_loop, len))
        die("%s: the loop's bytes in guest memory differ from the driver's", prog);
    uint64_t addr = r.p.out[2], a = r.p.out[0], d = r.p.out[1];
    uint64_t total_insns = r.res.insns;
    double whole = r.seconds;
    run_destroy(&r);
    long rss = vm_hwm_kib();   /* before raw Unicorn runs */

    uint64_t ra, rd;
    double traw = raw_loop(addr, iters, &ra, &rd);
    if (ra != a || rd != d) die("%s: raw Unicorn's checksums differ from the model's", prog);

    fig("insns", (double)insns, "insn", NULL);
    fig("model_insns_between_marks", (double)counted, "insn", NULL);
    fig("model_insns_whole_run", (double)total_insns, "insn", NULL);
    fig("vmxsim_seconds", t, "s", NULL);
    fig("vmxsim_run_seconds", whole, "s", NULL);
    fig("raw_seconds", traw, "s", NULL);
    fig("vmxsim_insns_per_s", (double)insns / t, "insn/s", "vmxsim: loop instructions/s");
    fig("raw_insns_per_s", (double)insns / traw, "insn/s", "raw Unicorn, same bytes");
    fig("ratio", traw / t, "ratio", "vmxsim / raw Unicorn");
    fig("vmxsim_peak_rss_kib", (double)rss, "KiB", "peak RSS (vmxsim part)");
}

/* exit_roundtrip: CPUID exits, the VMM resumes; trace off or to a file. */
static void w_exits(int traced)
{
    uint64_t n = traced ? scaled(EXITS_TRACED, 100, 1ull << 32) : scaled(EXITS_UNTRACED, 100, 1ull << 32);
    char tp[4096];
    trace_path(tp, sizeof tp, "exit_roundtrip");
    bench_run r;
    run_create(&r, "exit_roundtrip.elf", 0, traced ? tp : NULL, &n, 1, 0);
    run_go(&r, "exit_roundtrip");
    double t = span(&r.mk, 0, 1);
    if (r.p.out[0] != n || r.p.out[7] != n + 1)
        die("exit_roundtrip: %llu iterations and %llu exits, expected %llu and %llu",
            (unsigned long long)r.p.out[0], (unsigned long long)r.p.out[7],
            (unsigned long long)n, (unsigned long long)n + 1);
    uint64_t seq0 = r.mk.seq[0], seq1 = r.mk.seq[1];
    run_destroy(&r);
    const char *v = traced ? "trace_file" : "trace_off";
    char key[96];
#define KEY(s) (snprintf(key, sizeof key, "%s.%s", v, s), key)
    fig(KEY("roundtrips"), (double)n, "exit", NULL);
    fig(KEY("seconds"), t, "s", NULL);
    fig(KEY("roundtrips_per_s"), (double)n / t, "exit/s",
        traced ? "round trips/s, trace to file" : "round trips/s, trace off");
    fig(KEY("us_per_roundtrip"), t / (double)n * 1e6, "us", NULL);
    if (traced) {
        trace_count c = count_trace(tp, seq0, seq1);
        unlink(tp);
        fig(KEY("trace_events"), (double)c.span_events, "event", NULL);
        fig(KEY("trace_bytes"), (double)c.span_bytes, "B", NULL);
        fig(KEY("trace_file_bytes"), (double)c.bytes, "B", NULL);
        fig(KEY("events_per_roundtrip"), (double)c.span_events / (double)n, "event", NULL);
        fig(KEY("trace_events_per_s"), (double)c.span_events / t, "event/s", "  its trace events/s");
        fig(KEY("trace_bytes_per_s"), (double)c.span_bytes / t, "B/s", "  its trace bytes/s");
    }
    fig(KEY("peak_rss_kib"), (double)vm_hwm_kib(), "KiB", "peak RSS");
#undef KEY
}

/* trace_rate: OUT to an unused port, one "io" event each. */
static void w_trace(int traced)
{
    uint64_t n = traced ? scaled(OUTS_TRACED, 1000, 1ull << 32) : scaled(OUTS_UNTRACED, 1000, 1ull << 32);
    char tp[4096];
    trace_path(tp, sizeof tp, "trace_rate");
    bench_run r;
    run_create(&r, "trace_io.elf", 0, traced ? tp : NULL, &n, 1, 0);
    run_go(&r, "trace_rate");
    double t = span(&r.mk, 0, 1);
    uint64_t seq0 = r.mk.seq[0], seq1 = r.mk.seq[1], events = r.res.events;
    run_destroy(&r);
    const char *v = traced ? "trace_file" : "trace_off";
    char key[96];
#define KEY(s) (snprintf(key, sizeof key, "%s.%s", v, s), key)
    fig(KEY("outs"), (double)n, "insn", NULL);
    fig(KEY("seconds"), t, "s", NULL);
    fig(KEY("outs_per_s"), (double)n / t, "insn/s",
        traced ? "OUT (model-owned) /s, trace on" : "OUT (model-owned) /s, trace off");
    if (traced) {
        trace_count c = count_trace(tp, seq0, seq1);
        unlink(tp);
        if (c.lines != events) die("trace_rate: %llu lines in the trace, %llu events",
                                   (unsigned long long)c.lines, (unsigned long long)events);
        if (c.span_events != n + 1)  /* the OUTs and the closing mark */
            die("trace_rate: %llu events between the marks, expected %llu",
                (unsigned long long)c.span_events, (unsigned long long)n + 1);
        fig(KEY("trace_events"), (double)c.span_events, "event", NULL);
        fig(KEY("trace_bytes"), (double)c.span_bytes, "B", NULL);
        fig(KEY("bytes_per_event"), (double)c.span_bytes / (double)c.span_events, "B", NULL);
        fig(KEY("trace_events_per_s"), (double)c.span_events / t, "event/s", "trace events/s to a file");
        fig(KEY("trace_bytes_per_s"), (double)c.span_bytes / t, "B/s", "trace bytes/s to a file");
    }
    fig(KEY("peak_rss_kib"), (double)vm_hwm_kib(), "KiB", "peak RSS");
#undef KEY
}

/* page_walks' variants: the program, the EPT's page shift (0: no EPT),
 * and whether translation events are counted (a callback on every walk:
 * the counts, deterministic, are those of the timed run of the same
 * program, whose time the counting would distort). */
static const struct pw_variant {
    const char *name, *prog, *label;
    unsigned shift;
    int counted;
} pw_variants[] = {
    {"root", "page_walks.elf", "", 0, 0},
    {"guest", "page_walks_guest.elf", "guest: ", 0, 0},
    {"ept4k", "page_walks_ept.elf", "EPT 4K: ", 12, 0},
    {"ept2m", "page_walks_ept.elf", "EPT 2M: ", 21, 0},
    {"ept4k_walks", "page_walks_ept.elf", "EPT 4K: ", 12, 1},
    {"ept2m_walks", "page_walks_ept.elf", "EPT 2M: ", 21, 1},
};

/* The phases of pw.c, marks 2i and 2i + 1; 5 and 6 only under EPT. */
#define PW_PHASES 7
static const struct { const char *key, *label; } pw_phase[PW_PHASES] = {
    {"a_cold", "4K pages, first touch: pages/s"},
    {"a_hit", "4K pages, translations cached"},
    {"a_refill", "4K pages after MOV CR3: pages/s"},
    {"b_cold", "2M pages, first touch per 4K"},
    {"b_refill", "2M pages after MOV CR3, per 4K"},
    {"a_invept", "4K pages after INVEPT: pages/s"},
    {"b_invept", "2M pages after INVEPT, per 4K"},
};

/* Put pw_value(guest-physical address) where the EPT of pw_layout.h maps
 * each address of regions A and B, and a different value at the host-
 * physical addresses that equal those guest-physical ones. */
static void pw_fill(vmxsim *m, unsigned shift)
{
    static uint64_t chunk[(1u << 20) / 8];
    for (uint64_t base = PW_PA_A; base < PW_EPT_GTOP; base += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk / 8; i++)
            chunk[i] = shift ? ~pw_value(base + i * 8) : pw_value(base + i * 8);
        if (vmxsim_mem_write(m, base, chunk, sizeof chunk) < 0) die("filling RAM: %s", vmxsim_error(m));
    }
    if (!shift) return;
    for (uint64_t gpa = PW_PA_A; gpa < PW_EPT_GTOP; gpa += 4096) {
        for (size_t i = 0; i < 512; i++) chunk[i] = pw_value(gpa + i * 8);
        if (vmxsim_mem_write(m, pw_ept_hpa(gpa, shift), chunk, 4096) < 0)
            die("filling RAM: %s", vmxsim_error(m));
    }
}

/* page_walks: fill the frames with pw_value, run, check the sums. */
static void w_pages(int which)
{
    const struct pw_variant *pv = &pw_variants[which];
    uint64_t na = scaled(PW_PAGES_A, 1, PW_MAX_A), nb = scaled(PW_MAX_B, 1, PW_MAX_B);
    uint64_t passes = PW_PASSES_A;
    uint64_t in[4] = {na, nb, passes, pv->shift};
    int nphases = pv->shift ? 7 : 5;
    bench_run r;
    run_create(&r, pv->prog, pv->shift ? PW_EPT_MEM : PW_MEM, NULL, in, 4, pv->counted);
    pw_fill(r.m, pv->shift);   /* outside the timed phases */
    run_go(&r, pv->prog);
    uint64_t sum_a = 0, sum_b = 0;
    for (uint64_t i = 0; i < na; i++) sum_a += pw_value(pw_frame_a(i) + pw_offset(i));
    for (uint64_t i = 0; i < nb; i++) sum_b += pw_value(pw_pa_b(i));
    const uint64_t want[PW_PHASES] = {sum_a, sum_a * passes, sum_a * passes, sum_b, sum_b,
                                      sum_a * passes, sum_b};
    for (int i = 0; i < nphases; i++)
        if (r.p.out[i] != want[i]) die("%s/%s: phase %d read the wrong data (sum %llx, expected %llx)",
                                       pv->prog, pv->name, i, (unsigned long long)r.p.out[i],
                                       (unsigned long long)want[i]);
    /* A guest's exits: the VMCALL at the end, and under EPT one CPUID
     * per INVEPT (vmm_ept.c). */
    uint64_t exits = pv->shift ? passes + 2 : 1;
    if (which > 0 && r.p.out[7] != exits)
        die("%s/%s: %llu VM exits, expected %llu", pv->prog, pv->name,
            (unsigned long long)r.p.out[7], (unsigned long long)exits);
    const uint64_t pages[PW_PHASES] = {na, na * passes, na * passes, nb, nb, na * passes, nb};
    const char *v = pv->name;
    char key[96], label[96];
#define KEY(s) (snprintf(key, sizeof key, "%s.%s_%s", v, pw_phase[i].key, s), key)
    for (int i = 0; i < nphases; i++) {
        double t = span(&r.mk, 2 * i, 2 * i + 1);
        const marks *mk = &r.mk;
        int a = 2 * i, b = 2 * i + 1;
        fig(KEY("pages"), (double)pages[i], "page", NULL);
        fig(KEY("insns"), (double)(mk->icount[b] - mk->icount[a]), "insn", NULL);
        fig(KEY("seconds"), t, "s", NULL);
        snprintf(label, sizeof label, "%s%s", pv->label, pw_phase[i].label);
        fig(KEY("pages_per_s"), (double)pages[i] / t, "page/s", pv->counted ? NULL : label);
        if (!pv->counted) continue;
        xl_count c = {mk->at[b].walks - mk->at[a].walks, mk->at[b].refs - mk->at[a].refs,
                      mk->at[b].cached - mk->at[a].cached, mk->at[b].hits - mk->at[a].hits,
                      mk->at[b].invs - mk->at[a].invs};
        fig(KEY("walks"), (double)c.walks, "walk", NULL);
        fig(KEY("refs"), (double)c.refs, "ref", NULL);
        fig(KEY("cached_ept_refs"), (double)c.cached, "ref", NULL);
        fig(KEY("refs_per_walk"), c.walks ? (double)c.refs / (double)c.walks : 0, "ref", NULL);
        fig(KEY("memory_refs_per_walk"), c.walks ? (double)(c.refs - c.cached) / (double)c.walks : 0,
            "ref", NULL);
        fig(KEY("tlb_hits"), (double)c.hits, "hit", NULL);
        fig(KEY("invalidations"), (double)c.invs, "event", NULL);
    }
#undef KEY
    /* The whole run's walks, as the model's end event sums them: a
     * counted run must have seen each as a translation event. */
    const end_walks *e = &r.mk.end;
    if (!e->seen) die("%s/%s: the end event has no walk summary", pv->prog, v);
    if (pv->counted && e->walks != r.mk.xc.walks)
        die("%s/%s: %llu translation events, the end event counts %llu walks", pv->prog, v,
            (unsigned long long)r.mk.xc.walks, (unsigned long long)e->walks);
#define RKEY(s) (snprintf(key, sizeof key, "%s.run_%s", v, s), key)
    fig(RKEY("walks"), (double)e->walks, "walk", NULL);
    fig(RKEY("guest_refs"), (double)e->guest_refs, "ref", NULL);
    fig(RKEY("ept_refs"), (double)e->ept_refs, "ref", NULL);
    fig(RKEY("tlb_hits"), (double)e->tlb_hits, "hit", NULL);
#undef RKEY
    run_destroy(&r);
    snprintf(key, sizeof key, "%s.peak_rss_kib", v);
    snprintf(label, sizeof label, "%speak RSS", pv->label);
    fig(key, (double)vm_hwm_kib(), "KiB", pv->counted ? NULL : label);
}

/* A figure of this run, else of the first (variants run once). */
static json_t *pw_get(const json_t *run, const json_t *first, const char *key)
{
    json_t *f = json_object_get(run, key);
    return f ? f : json_object_get(first, key);
}

/* One run's figures of page_walks, with walks per second added after
 * each phase's pages per second: the walks the counted variant saw in
 * the phase (in the first run: it runs once) over the seconds its timed
 * twin took in this run.  The twins must have retired the same
 * instructions in the phase (the model is deterministic; a difference
 * means they did not run alike). */

static json_t *pw_derive(json_t *run, const json_t *first)
{
    json_t *out = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(run, key, val) {
        json_object_set(out, key, val);
        /* The timed run walked as often as its counted twin. */
        const char *rw = strstr(key, ".run_walks");
        if (rw && !rw[10] && !strstr(key, "_walks.")) {
            char k2[128];
            snprintf(k2, sizeof k2, "%.*s_walks.run_walks", (int)(rw - key), key);
            json_t *cw = pw_get(run, first, k2);
            if (cw && json_number_value(json_object_get(cw, "value")) !=
                          json_number_value(json_object_get(val, "value")))
                die("page_walks: %s differs from %s", key, k2);
        }
        const char *dot = strchr(key, '.');
        const char *tail = dot ? strstr(dot, "_pages_per_s") : NULL;
        if (!tail || tail[12]) continue;
        char v[32], ph[32], k2[128];
        snprintf(v, sizeof v, "%.*s", (int)(dot - key), key);
        snprintf(ph, sizeof ph, "%.*s", (int)(tail - dot - 1), dot + 1);
        snprintf(k2, sizeof k2, "%s_walks.%s_walks", v, ph);
        json_t *w = pw_get(run, first, k2);
        if (!w || json_number_value(json_object_get(w, "value")) == 0) continue;
        snprintf(k2, sizeof k2, "%s_walks.%s_insns", v, ph);
        json_t *ci = pw_get(run, first, k2);
        snprintf(k2, sizeof k2, "%s.%s_insns", v, ph);
        json_t *ti = json_object_get(run, k2);
        snprintf(k2, sizeof k2, "%s.%s_seconds", v, ph);
        json_t *ts = json_object_get(run, k2);
        if (!ci || !ti || !ts) die("page_walks: %s: figures missing", key);
        double nc = json_number_value(json_object_get(ci, "value"));
        double nt = json_number_value(json_object_get(ti, "value"));
        if (nc != nt) die("page_walks: %s/%s: %.0f instructions timed, %.0f counted", v, ph, nt, nc);
        const char *label = json_string_value(json_object_get(val, "label"));
        const char *colon = label ? strstr(label, ": ") : NULL;
        char lab[96];
        snprintf(lab, sizeof lab, "%.*s  2-D walks/s in that phase", colon ? (int)(colon + 1 - label) : 0,
                 label ? label : "");
        double walks = json_number_value(json_object_get(w, "value"));
        double secs = json_number_value(json_object_get(ts, "value"));
        snprintf(k2, sizeof k2, "%s.%s_walks_per_s", v, ph);
        json_object_set_new(out, k2, json_pack("{s:f, s:s, s:s}", "value", walks / secs,
                                               "unit", "walk/s", "label", lab));
    }
    return out;
}

/* ---- walker: vx_xlate_linear alone ---- */

/* Guest paging and EPT of the walker workload, built in a host buffer
 * that is the walker's "host-physical memory" (ept/xlate.h: RAM at 0):
 *
 *   - WK_PAGES linear pages, each at a random address among 2 PML4
 *     entries x 4 PDPT entries x 8 PD entries x 512 (up to 64 page
 *     tables), mapped (4-level paging, 4 KiB pages) to distinct random
 *     guest-physical frames in [256 MiB, 512 MiB);
 *   - the guest's paging structures at guest-physical 1 MiB and up;
 *   - a 4-level EPT of 4 KiB pages mapping each guest-physical page used
 *     (tables and frames) to the next free host page: host-physical
 *     order is the order of first use, not the guest-physical one.
 *
 * Without a cache of guest-physical mappings every walk is the full
 * two-dimensional one: 4 guest entries, each translated through 4 EPT
 * entries first, and the final address through 4 more: 24 references
 * (SDM Vol. 3C 29.3.2).  Once the accessed flags are set nothing is
 * written. */
#define WK_PAGES    4096u
#define WK_HOST     (40ull << 20)   /* host buffer */
#define WK_GPA_DATA (256ull << 20)
#define WK_GPA_TOP  (512ull << 20)
#define WK_STREAM   65536u          /* addresses, used round and round */
#define WK_CALLS    4000000ull

enum { WK_PEEK, WK_PLAIN, WK_CACHE, WK_CACHE_PEEK, WK_LOG, WK_MODES };
static const struct { const char *name, *label; } wk_mode[WK_MODES] = {
    {"peek", "VX_ACC_PEEK, no cache: 2-D walks/s"},
    {"plain", "reads, no cache: 2-D walks/s"},
    {"cache", "reads, guest-physical cache: walks/s"},
    {"cache_peek", "VX_ACC_PEEK, cache filled: walks/s"},
    {"log", "reads, no cache, walk log: walks/s"},
};

typedef struct wk_world {
    uint8_t *ram;
    uint64_t host_next, gpa_next;
    uint32_t *g2h;           /* guest-physical page -> host page + 1 (0: unmapped) */
    uint64_t ept_root, cr3;
} wk_world;

static uint64_t wk_rng = 0x9E3779B97F4A7C15ull;
static uint64_t wk_rand(void)   /* xorshift64*: fixed seed, the same every run */
{
    wk_rng ^= wk_rng >> 12;
    wk_rng ^= wk_rng << 25;
    wk_rng ^= wk_rng >> 27;
    return wk_rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t *wk_at(wk_world *w, uint64_t hpa) { return (uint64_t *)(w->ram + hpa); }

static uint64_t wk_host_page(wk_world *w)
{
    if (w->host_next + 4096 > WK_HOST) die("walker: host buffer full");
    uint64_t h = w->host_next;
    w->host_next += 4096;
    return h;   /* calloc'd: zero */
}

/* The host page backing guest-physical page gpa, EPT entries made on
 * first use: R/W/X, write-back (29.3.7), EPT A/D flags off. */
static uint64_t wk_ept_map(wk_world *w, uint64_t gpa)
{
    uint32_t *slot = &w->g2h[gpa >> 12];
    if (*slot) return (uint64_t)(*slot - 1) << 12;
    uint64_t t = w->ept_root;
    for (int level = 4; level > 1; level--) {
        uint64_t *e = wk_at(w, t + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8);
        if (!*e) *e = wk_host_page(w) | 7;
        t = *e & 0x000FFFFFFFFFF000ull;
    }
    uint64_t h = wk_host_page(w);
    *wk_at(w, t + ((gpa >> 12) & 511) * 8) = h | 6u << 3 | 7;
    *slot = (uint32_t)(h >> 12) + 1;
    return h;
}

/* Map linear page la to guest-physical frame gpa (present, writable,
 * supervisor; tables made on first use). */
static void wk_guest_map(wk_world *w, uint64_t la, uint64_t gpa)
{
    uint64_t t = w->cr3;
    for (int level = 4; level > 1; level--) {
        uint64_t *e = wk_at(w, wk_ept_map(w, t) + ((la >> (12 + 9 * (level - 1))) & 511) * 8);
        if (!*e) {
            *e = w->gpa_next | 3;
            w->gpa_next += 4096;
            wk_ept_map(w, *e & ~0xFFFull);
        }
        t = *e & 0x000FFFFFFFFFF000ull;
    }
    *wk_at(w, wk_ept_map(w, t) + ((la >> 12) & 511) * 8) = gpa | 3;
    wk_ept_map(w, gpa);
}

static void w_walker(int mode)
{
    /* What the model's default profile reports (IA32_VMX_EPT_VPID_CAP),
     * as the model fills vx_ept at VM entry; MAXPHYADDR 46 is the
     * profile's (profiles/). */
    char err[256];
    vmxsim_options mo = {0};
    vmxsim *m = vmxsim_create(&mo, err, sizeof err);
    if (!m) die("vmxsim_create: %s", err);
    uint64_t cap;
    if (vmxsim_msr_read(m, 0x48C, &cap) < 0) die("walker: IA32_VMX_EPT_VPID_CAP: %s", vmxsim_error(m));
    vmxsim_destroy(m);

    wk_world w = {.ram = calloc(1, WK_HOST), .host_next = 0, .gpa_next = 1u << 20,
                  .g2h = calloc(WK_GPA_TOP >> 12, sizeof(uint32_t))};
    if (!w.ram || !w.g2h) die("walker: out of memory");
    w.ept_root = wk_host_page(&w);
    w.cr3 = w.gpa_next;
    w.gpa_next += 4096;
    wk_ept_map(&w, w.cr3);
    static uint64_t la[WK_PAGES], hpa[WK_PAGES], stream[WK_STREAM], want[WK_STREAM];
    uint8_t *used = calloc((WK_GPA_TOP - WK_GPA_DATA) >> 12, 1);
    for (unsigned i = 0; i < WK_PAGES; i++) {
        uint64_t l, g;
        int again;
        do {   /* a linear page not yet mapped */
            l = (1 + wk_rand() % 2) << 39 | (wk_rand() % 4) << 30 | (wk_rand() % 8) << 21 |
                (wk_rand() % 512) << 12;
            again = 0;
            for (unsigned j = 0; j < i && !again; j++) again = la[j] == l;
        } while (again);
        do g = wk_rand() % ((WK_GPA_TOP - WK_GPA_DATA) >> 12); while (used[g]);
        used[g] = 1;
        la[i] = l;
        wk_guest_map(&w, l, WK_GPA_DATA + (g << 12));
        hpa[i] = wk_ept_map(&w, WK_GPA_DATA + (g << 12));
    }
    free(used);
    for (unsigned k = 0; k < WK_STREAM; k++) {
        unsigned i = (unsigned)(wk_rand() % WK_PAGES);
        uint64_t off = wk_rand() & 0xFF8;
        stream[k] = la[i] | off;
        want[k] = hpa[i] | off;
    }

    vx_hostmem mem = {w.ram, WK_HOST};
    vx_guest_paging pg = {.cr0 = 0x80010031, .cr3 = w.cr3, .cr4 = 0x20, .efer = 0x500,
                          .maxphyaddr = 46, .page1gb = 1};
    vx_ept ept = {.enabled = 1, .eptp = w.ept_root | 3u << 3 | 6, .cap = cap, .maxphyaddr = 46};
    vx_tlb tlb;
    if (vx_tlb_init(&tlb) < 0) die("walker: out of memory for the TLB");
    vx_gpa_view view = {&tlb, w.ept_root};
    vx_gpa_cache cache = vx_tlb_gpa_cache(&view);
    vx_walk_log log;
    int cached = mode == WK_CACHE || mode == WK_CACHE_PEEK;
    vx_xlate_env env = {&pg, &ept, &mem, cached ? &cache : NULL, mode == WK_LOG ? &log : NULL};
    unsigned acc = mode == WK_PEEK || mode == WK_CACHE_PEEK ? VX_ACC_PEEK : 0;

    /* Once over every page, reading: sets the accessed flags (and fills
     * the cache), and checks each translation and its references. */
    vx_xlate_env env1 = env;
    env1.log = &log;
    for (unsigned i = 0; i < WK_PAGES; i++) {
        vx_xlate x;
        log.n = 0;
        if (vx_xlate_linear(&env1, la[i], 0, &x) != VX_XL_OK || x.hpa != hpa[i])
            die("walker: page %u (la %llx) did not translate to %llx", i, (unsigned long long)la[i],
                (unsigned long long)hpa[i]);
    }
    log.n = 0;
    vx_xlate x0;
    vx_xlate_env env2 = {&pg, &ept, &mem, NULL, &log};
    vx_xlate_linear(&env2, la[0], VX_ACC_PEEK, &x0);
    if (log.n != 24) die("walker: a walk made %u references, not 24", log.n);

    uint64_t calls = scaled(WK_CALLS, 10000, 1ull << 40), bad = 0, sum = 0, wsum = 0;
    double t0 = now_s();
    for (uint64_t c = 0; c < calls; c++) {
        unsigned k = (unsigned)(c % WK_STREAM);
        vx_xlate x;
        log.n = 0;
        bad += vx_xlate_linear(&env, stream[k], acc, &x) != VX_XL_OK;
        sum += x.hpa;
    }
    double t = now_s() - t0;
    for (uint64_t c = 0; c < calls; c++) wsum += want[c % WK_STREAM];
    if (bad || sum != wsum) die("walker/%s: %llu walks failed, or the addresses are wrong", wk_mode[mode].name,
                                (unsigned long long)bad);
    unsigned long long ghits = tlb.gpa_hits;
    vx_tlb_fini(&tlb);
    free(w.ram);
    free(w.g2h);

    char key[96];
#define KEY(s) (snprintf(key, sizeof key, "%s.%s", wk_mode[mode].name, s), key)
    fig(KEY("walks"), (double)calls, "walk", NULL);
    fig(KEY("seconds"), t, "s", NULL);
    fig(KEY("ns_per_walk"), t / (double)calls * 1e9, "ns", NULL);
    fig(KEY("walks_per_s"), (double)calls / t, "walk/s", wk_mode[mode].label);
    fig(KEY("host_bytes_used"), (double)w.host_next, "B", NULL);
    if (cached) fig(KEY("gpa_cache_hits"), (double)ghits, "hit", NULL);
#undef KEY
}

/* ================= the workloads and their variants ================= */

typedef struct variant {
    const char *name;
    void (*run)(int arg);
    int arg;
    int once;   /* figures the same in every run (counts): the first run only */
} variant;

static void v_guest_loop(int a) { (void)a; w_loop("guest_loop.elf"); }
static void v_root_loop(int a) { (void)a; w_loop("root_loop.elf"); }

#define MAX_VARIANTS 6

static const struct workload {
    const char *name, *what;
    variant v[MAX_VARIANTS];
    /* Figures from several variants: one run's (and the first run's, for
     * the variants run once) -> that run's figures with them added. */
    json_t *(*derive)(json_t *run, const json_t *first);
} workloads[] = {
    {"guest_loop", "exit-free 64-bit guest code (loop.S) under a VMM, against raw Unicorn "
                   "running the same bytes",
     {{"run", v_guest_loop, 0, 0}}, NULL},
    {"root_loop", "the same loop as a root program (no VMX), against raw Unicorn",
     {{"run", v_root_loop, 0, 0}}, NULL},
    {"exit_roundtrip", "VM exit + VM entry round trips: a guest looping over CPUID, a VMM "
                       "that skips it and resumes; trace off, and trace to a file",
     {{"trace_off", w_exits, 0, 0}, {"trace_file", w_exits, 1, 0}}, NULL},
    {"trace_rate", "trace events and bytes per second written to a file (one io event per "
                   "OUT to an unused port), and the same OUTs untraced",
     {{"trace_off", w_trace, 0, 0}, {"trace_file", w_trace, 1, 0}}, NULL},
    {"page_walks", "translation misses: 4 KiB pages scattered over 40 MiB of linear space, "
                   "then 1 GiB of 2 MiB pages aliasing 64 MiB of RAM; root program, the "
                   "same code as a guest without EPT, and under a 4-level EPT of 4 KiB or "
                   "2 MiB pages that maps the frames elsewhere (two-dimensional walks), "
                   "timed and with its translation events counted",
     {{"root", w_pages, 0, 0}, {"guest", w_pages, 1, 0}, {"ept4k", w_pages, 2, 0},
      {"ept2m", w_pages, 3, 0}, {"ept4k_walks", w_pages, 4, 1}, {"ept2m_walks", w_pages, 5, 1}},
     pw_derive},
    {"walker", "the two-dimensional walker alone (ept/xlate.h vx_xlate_linear): 4-level "
               "guest paging over a 4-level EPT in a host buffer, random addresses over "
               "4,096 mapped pages; with and without VX_ACC_PEEK, the guest-physical cache "
               "hook and a walk log",
     {{"peek", w_walker, WK_PEEK, 0}, {"plain", w_walker, WK_PLAIN, 0},
      {"cache", w_walker, WK_CACHE, 0}, {"cache_peek", w_walker, WK_CACHE_PEEK, 0},
      {"log", w_walker, WK_LOG, 0}},
     NULL},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const struct workload *find_workload(const char *name)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (!strcmp(workloads[i].name, name)) return &workloads[i];
    return NULL;
}

static int child_main(const char *wname, const char *vname)
{
    const struct workload *w = find_workload(wname);
    if (!w) die("no workload %s", wname);
    child_figs = json_object();
    perf_ctl_init();
    for (int i = 0; i < MAX_VARIANTS && w->v[i].name; i++) {
        if (strcmp(w->v[i].name, vname)) continue;
        w->v[i].run(w->v[i].arg);
        FILE *f = fdopen(CHILD_FD, "w");
        if (!f || json_dumpf(child_figs, f, JSON_PRESERVE_ORDER | JSON_COMPACT) < 0 || fclose(f))
            die("cannot report to the parent");
        json_decref(child_figs);
        return 0;
    }
    die("workload %s has no variant %s", wname, vname);
    return 1;
}

/* ================= parent ================= */

/* One child run: its figures (a JSON object), with its ru_maxrss added. */
static json_t *spawn(const char *self, const char *wname, const char *vname, int rep)
{
    int fds[2];
    if (pipe(fds) < 0) die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], CHILD_FD) < 0) _exit(127);
        char scale[32], repno[16];
        snprintf(scale, sizeof scale, "%.17g", cfg.scale);
        snprintf(repno, sizeof repno, "%d", rep);
        execl(self, self, "--child", wname, vname, "--progs", cfg.progs, "--results",
              cfg.results, "--scale", scale, "--rep", repno, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    json_error_t jerr;
    json_t *figs = json_loadf(f, JSON_DISABLE_EOF_CHECK, &jerr);
    fclose(f);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) die("wait4: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !figs) {
        json_decref(figs);
        fprintf(stderr, "vmxsim-bench: %s/%s run %d failed\n", wname, vname, rep + 1);
        return NULL;
    }
    /* Keys of a workload with variants start with the variant's name. */
    char key[96];
    if (strcmp(vname, "run")) snprintf(key, sizeof key, "%s.child_maxrss_kib", vname);
    else snprintf(key, sizeof key, "child_maxrss_kib");
    json_object_set_new(figs, key, json_pack("{s:f, s:s}", "value", (double)ru.ru_maxrss, "unit", "KiB"));
    return figs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A number as the table shows it: SI prefixes, 4 significant digits. */
static const char *fmt_num(double v, const char *unit, char *buf, size_t len)
{
    if (!strcmp(unit, "ratio")) {
        snprintf(buf, len, "%.1f%%", v * 100);
    } else if (!strcmp(unit, "KiB")) {
        if (v >= 1024 * 1024) snprintf(buf, len, "%.2f GiB", v / (1024 * 1024));
        else snprintf(buf, len, "%.1f MiB", v / 1024);
    } else {
        static const char *const pre[] = {"", " k", " M", " G", " T"};
        int i = 0;
        while (v >= 1000 && i < 4) v /= 1000, i++;
        snprintf(buf, len, "%.4g%s", v, pre[i]);
    }
    return buf;
}

static char *shell_line(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    int rc = pclose(p);
    if (rc != 0) return NULL;
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    return strdup(buf);
}

static json_t *machine_info(void)
{
    cpu_set_t set;
    int nproc = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                           : (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    uname(&u);
    char cpu[256] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && c) {
            snprintf(cpu, sizeof cpu, "%s", c + 2);
            cpu[strcspn(cpu, "\n")] = 0;
            break;
        }
    }
    if (f) fclose(f);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", cfg.src);
    char *commit = shell_line(cmd);
    /* Dirty: tracked files changed, the results this program writes aside. */
    snprintf(cmd, sizeof cmd, "git -C '%s' status --porcelain --untracked-files=no -- . "
             "':!bench/results' 2>/dev/null", cfg.src);
    char *dirty = commit ? shell_line(cmd) : NULL;
    time_t t = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    unsigned major, minor;
    uc_version(&major, &minor);
    char ucv[32];
    snprintf(ucv, sizeof ucv, "%u.%u (headers %d.%d.%d)", major, minor, UC_API_MAJOR, UC_API_MINOR,
             UC_API_PATCH);
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "nproc", nproc, "cpu", cpu,
                          "kernel", u.release, "unicorn", ucv,
                          "vmxsim_version", VMXSIM_VERSION, "date", when);
    json_object_set_new(j, "git_commit", commit ? json_string(commit) : json_null());
    json_object_set_new(j, "git_dirty", dirty ? json_boolean(dirty[0] != 0) : json_null());
    free(commit);
    free(dirty);
    return j;
}

typedef struct row { const char *workload; char label[96]; char unit[16]; double med, lo, hi; } row;
static row rows[128];
static int nrows;

/* Median, min, max of each figure over the runs; the rows of the table. */
static json_t *aggregate(const struct workload *w, json_t **runs, int n)
{
    json_t *figs = json_object();
    const char *key;
    json_t *first;
    json_object_foreach(runs[0], key, first) {
        double *v = calloc((size_t)n, sizeof *v);
        json_t *values = json_array();
        int k = 0;
        for (int i = 0; i < n; i++) {
            json_t *f = json_object_get(runs[i], key);
            if (!f) continue;
            v[k] = json_number_value(json_object_get(f, "value"));
            json_array_append_new(values, json_real(v[k]));
            k++;
        }
        qsort(v, (size_t)k, sizeof *v, cmp_double);
        double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
        const char *unit = json_string_value(json_object_get(first, "unit"));
        json_t *label = json_object_get(first, "label");
        json_t *o = json_object();
        if (label) json_object_set(o, "label", label);
        json_t *stats = json_pack("{s:s, s:f, s:f, s:f, s:o}", "unit", unit, "median", med,
                                  "min", v[0], "max", v[k - 1], "values", values);
        json_object_update(o, stats);
        json_decref(stats);
        json_object_set_new(figs, key, o);
        if (label && nrows < (int)(sizeof rows / sizeof rows[0])) {
            row *r = &rows[nrows++];
            r->workload = w->name;
            snprintf(r->label, sizeof r->label, "%s", json_string_value(label));
            snprintf(r->unit, sizeof r->unit, "%s", unit);
            r->med = med, r->lo = v[0], r->hi = v[k - 1];
        }
        free(v);
    }
    return figs;
}

static int write_json(const char *name, json_t *j)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.json", cfg.results, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) < 0 ||
        rename(tmp, path) < 0) {
        fprintf(stderr, "vmxsim-bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static void print_table(const json_t *info)
{
    printf("\nvmxsim %s, commit %.12s, nproc %lld, %d runs each, medians (min-max)\n",
           VMXSIM_VERSION,
           json_is_string(json_object_get(info, "git_commit"))
               ? json_string_value(json_object_get(info, "git_commit")) : "unknown",
           (long long)json_integer_value(json_object_get(info, "nproc")), cfg.runs);
    printf("%-15s %-40s %10s %10s %10s  %s\n", "workload", "figure", "median", "min", "max", "unit");
    const char *last = NULL;
    for (int i = 0; i < nrows; i++) {
        char a[32], b[32], c[32];
        const row *r = &rows[i];
        const char *u = !strcmp(r->unit, "ratio") || !strcmp(r->unit, "KiB") ? "" : r->unit;
        printf("%-15s %-40s %10s %10s %10s  %s\n", last && !strcmp(last, r->workload) ? "" : r->workload,
               r->label, fmt_num(r->med, r->unit, a, sizeof a), fmt_num(r->lo, r->unit, b, sizeof b),
               fmt_num(r->hi, r->unit, c, sizeof c), u);
        last = r->workload;
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: vmxsim-bench --progs DIR --results DIR [--src DIR] [--runs N] [--scale F] "
            "[WORKLOAD...]\n"
            "  runs: default 5, or VMXSIM_BENCH_RUNS; scale multiplies the work sizes\n"
            "  (default 1, or VMXSIM_BENCH_SCALE); workloads: all, or VMXSIM_BENCH_ONLY\n"
            "  (comma-separated):");
    for (size_t i = 0; i < NWORKLOADS; i++) fprintf(stderr, " %s", workloads[i].name);
    fputc('\n', stderr);
    exit(64);
}

int main(int argc, char **argv)
{
    const char *child_w = NULL, *child_v = NULL;
    const char *sel[NWORKLOADS + 1];
    int nsel = 0;
    if (getenv("VMXSIM_BENCH_RUNS")) cfg.runs = atoi(getenv("VMXSIM_BENCH_RUNS"));
    if (getenv("VMXSIM_BENCH_SCALE")) cfg.scale = atof(getenv("VMXSIM_BENCH_SCALE"));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--child") && i + 2 < argc) child_w = argv[++i], child_v = argv[++i];
        else if (!strcmp(a, "--progs") && more) cfg.progs = argv[++i];
        else if (!strcmp(a, "--results") && more) cfg.results = argv[++i];
        else if (!strcmp(a, "--src") && more) cfg.src = argv[++i];
        else if (!strcmp(a, "--runs") && more) cfg.runs = atoi(argv[++i]);
        else if (!strcmp(a, "--scale") && more) cfg.scale = atof(argv[++i]);
        else if (!strcmp(a, "--rep") && more) i++;   /* for ps(1) and core files only */
        else if (a[0] != '-' && find_workload(a) && nsel < (int)NWORKLOADS) sel[nsel++] = a;
        else usage();
    }
    if (!cfg.progs || !cfg.results || cfg.runs < 1 || !(cfg.scale > 0)) usage();
    if (child_w) return child_main(child_w, child_v);
    if (!cfg.src) cfg.src = ".";
    if (!nsel && getenv("VMXSIM_BENCH_ONLY")) {
        static char only[256];
        snprintf(only, sizeof only, "%s", getenv("VMXSIM_BENCH_ONLY"));
        for (char *t = strtok(only, ", "); t && nsel < (int)NWORKLOADS; t = strtok(NULL, ", ")) {
            if (!find_workload(t)) die("no workload %s", t);
            sel[nsel++] = t;
        }
    }
    if (!nsel)
        for (size_t i = 0; i < NWORKLOADS; i++) sel[nsel++] = workloads[i].name;

    if (mkdir(cfg.results, 0777) < 0 && errno != EEXIST) die("%s: %s", cfg.results, strerror(errno));
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) die("readlink /proc/self/exe: %s", strerror(errno));
    self[n] = 0;
    json_t *info = machine_info();
    int failed = 0;
    for (int s = 0; s < nsel; s++) {
        const struct workload *w = find_workload(sel[s]);
        int nv = 0;
        while (nv < MAX_VARIANTS && w->v[nv].name) nv++;
        json_t **runs = calloc((size_t)cfg.runs, sizeof *runs), *first = NULL;
        int ok = 0;
        double t0 = now_s();
        /* Runs interleave the variants (off, file, off, file, ...), so
         * that a change in the machine's load affects both alike. */
        for (int rep = 0; rep < cfg.runs; rep++) {
            json_t *merged = json_object();
            int good = 1;
            for (int v = 0; v < nv; v++) {
                if (rep > 0 && w->v[v].once) continue;
                fprintf(stderr, "%s: run %d/%d, %s\n", w->name, rep + 1, cfg.runs, w->v[v].name);
                json_t *f = spawn(self, w->name, w->v[v].name, rep);
                if (!f) { good = 0; break; }
                json_object_update(merged, f);
                json_decref(f);
            }
            if (!good) { json_decref(merged); break; }
            if (w->derive) {
                if (!first) first = json_deep_copy(merged);
                json_t *d = w->derive(merged, first);
                json_decref(merged);
                merged = d;
            }
            runs[ok++] = merged;
        }
        fprintf(stderr, "%s: %d runs in %.1f s\n", w->name, ok, now_s() - t0);
        json_decref(first);
        if (ok < cfg.runs) {
            failed = 1;
            for (int i = 0; i < ok; i++) json_decref(runs[i]);
            free(runs);
            continue;
        }
        json_t *j = json_pack("{s:s, s:s, s:i, s:f}", "workload", w->name, "what", w->what,
                              "runs", cfg.runs, "scale", cfg.scale);
        json_object_update(j, info);
        json_object_set_new(j, "figures", aggregate(w, runs, ok));
        if (write_json(w->name, j) < 0) failed = 1;
        json_decref(j);
        for (int i = 0; i < ok; i++) json_decref(runs[i]);
        free(runs);
    }
    print_table(info);
    printf("results: %s/<workload>.json\n", cfg.results);
    json_decref(info);
    return failed;
}
