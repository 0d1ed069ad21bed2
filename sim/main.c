/*
 * main.c - the `vmxsim` command (docs/cli.md): run a program on the
 * model, diff two traces, list profiles.  Every error is one line on
 * standard error and a non-zero exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmxsim.h"
#include "../traces/trace.h"
#include "../vmcs/profile.h"

#define MAX_IGNORE 64
#define MAX_MODULES 16

static int usage(FILE *f, int status)
{
    fprintf(f,
        "usage: vmxsim run [options] PROGRAM      run FILE (ELF64 or Multiboot) or FILE@ADDR (flat)\n"
        "       vmxsim diff [--ignore FIELD]... [--context N] TRACE_A TRACE_B\n"
        "       vmxsim stats TRACE                summarise a trace\n"
        "       vmxsim explain [--seq N] [--la ADDR] TRACE   page walks as tables\n"
        "       vmxsim profiles                   list the CPU profiles\n"
        "       vmxsim --version | --help\n"
        "run options:\n"
        "  --cpu NAME|FILE.json      CPU profile (default icelake-server)\n"
        "  --mem SIZE                RAM size, e.g. 256M, 1G (default 256M)\n"
        "  --trace FILE              write a JSON Lines trace ('-' = stdout)\n"
        "  --max-insns N             end the run after N instructions\n"
        "  --wall-limit SECONDS      end the run after this much host time\n"
        "  --feature-control-unlocked  start with IA32_FEATURE_CONTROL = 0\n"
        "  --cmdline STRING          multiboot command line\n"
        "  --module FILE[=STRING]    multiboot module (repeatable)\n"
        "  --explain                 explain a failed VM-entry check in words\n"
        "  --tlb on|off              off: cache no translations, every access walks\n"
        "  --trace-tlb-hits          trace TLB hits too (tlb_hit events)\n"
        "  --quiet                   no summary on standard error\n");
    return status;
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "vmxsim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return VMXSIM_STATUS_USAGE;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end) return -1;
    *v = x;
    return 0;
}

static int parse_size(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s) return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (*end == 'i' && shift) end++;
    if (*end == 'B' && shift) end++;
    if (*end || (shift && x > (UINT64_MAX >> shift))) return -1;
    *v = (uint64_t)x << shift;
    return 0;
}

static int need_arg(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "vmxsim: %s needs a value\n", opt);
        return 0;
    }
    return 1;
}

static int cmd_run(int argc, char **argv)
{
    vmxsim_options opt = {0};
    const char *program = NULL;
    const char *modules[MAX_MODULES];
    int nmodules = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--cpu")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            opt.cpu = argv[++i];
        } else if (!strcmp(a, "--mem")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            if (parse_size(argv[++i], &opt.mem_size) || !opt.mem_size)
                return bad("--mem: '%s' is not a size (e.g. 256M, 1G)", argv[i]);
        } else if (!strcmp(a, "--trace")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            opt.trace_path = argv[++i];
        } else if (!strcmp(a, "--max-insns")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            if (parse_u64(argv[++i], &opt.max_insns) || !opt.max_insns)
                return bad("--max-insns: '%s' is not a positive number", argv[i]);
        } else if (!strcmp(a, "--wall-limit")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            char *end;
            opt.wall_limit = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(opt.wall_limit > 0))
                return bad("--wall-limit: '%s' is not a positive number of seconds", argv[i]);
        } else if (!strcmp(a, "--feature-control-unlocked")) {
            opt.feature_control_unlocked = 1;
        } else if (!strcmp(a, "--explain")) {
            opt.explain = 1;
        } else if (!strcmp(a, "--tlb") || !strncmp(a, "--tlb=", 6)) {
            const char *v = a[5] == '=' ? a + 6 : NULL;
            if (!v) {
                if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
                v = argv[++i];
            }
            if (!strcmp(v, "off")) opt.tlb_off = 1;
            else if (strcmp(v, "on")) return bad("--tlb: '%s' is neither on nor off", v);
        } else if (!strcmp(a, "--trace-tlb-hits")) {
            opt.trace_tlb_hits = 1;
        } else if (!strcmp(a, "--cmdline")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            opt.cmdline = argv[++i];
        } else if (!strcmp(a, "--module")) {
            if (!need_arg(i, argc, a)) return VMXSIM_STATUS_USAGE;
            if (nmodules == MAX_MODULES) return bad("%s: too many modules", a);
            modules[nmodules++] = argv[++i];
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return bad("unknown option '%s' (see vmxsim --help)", a);
        } else if (program) {
            return bad("more than one program given ('%s')", a);
        } else {
            program = a;
        }
    }
    if (!program) return bad("%s", "run: no program given (see vmxsim --help)");
    /* A trace on standard output keeps it to itself: the program's
     * console output (also in the trace, as console events) goes to
     * standard error, so that stdout stays one JSON object a line. */
    if (opt.trace_path && !strcmp(opt.trace_path, "-")) opt.console = stderr;
    char err[256];
    vmxsim *m = vmxsim_create(&opt, err, sizeof err);
    if (!m) return bad("%s", err);
    int status = VMXSIM_STATUS_USAGE;
    if (vmxsim_load(m, program) < 0) {
        bad("%s", vmxsim_error(m));
        goto out;
    }
    for (int i = 0; i < nmodules; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s", modules[i]);
        char *eq = strchr(path, '=');
        const char *str = eq ? eq + 1 : path;
        if (eq) *eq = 0;
        if (vmxsim_load_module(m, path, str) < 0) {
            bad("%s", vmxsim_error(m));
            goto out;
        }
    }
    vmxsim_result res;
    if (vmxsim_run(m, &res) < 0) {
        bad("%s", vmxsim_error(m));
        goto out;
    }
    status = res.exit_status & 0xFF;
    if (!quiet || res.end == VMXSIM_END_TRIPLE_FAULT || res.end == VMXSIM_END_ERROR ||
        res.end == VMXSIM_END_NOT_MODELLED) {
        fprintf(stderr, "vmxsim: %s\n", res.message);
        fprintf(stderr, "vmxsim: %" PRIu64 " instructions, cpu %s, exit status %d\n",
                res.insns, vmxsim_cpu_name(m), status);
        if (res.end == VMXSIM_END_TRIPLE_FAULT) vmxsim_dump(m, stderr);
    }
out:
    vmxsim_destroy(m);
    return status;
}

static int cmd_diff(int argc, char **argv)
{
    const char *ignore[MAX_IGNORE];
    int nignore = 0, context = 3;
    const char *files[2];
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--ignore")) {
            if (!need_arg(i, argc, argv[i])) return 2;
            if (nignore == MAX_IGNORE) { bad("%s", "--ignore: too many fields"); return 2; }
            ignore[nignore++] = argv[++i];
        } else if (!strcmp(argv[i], "--context")) {
            uint64_t c;
            if (!need_arg(i, argc, argv[i])) return 2;
            if (parse_u64(argv[++i], &c) || c > 1000) {
                bad("--context: '%s' is not a number from 0 to 1000", argv[i]);
                return 2;
            }
            context = (int)c;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            bad("unknown diff option '%s'", argv[i]);
            return 2;
        } else if (nfiles == 2) {
            bad("diff takes two traces; '%s' is a third", argv[i]);
            return 2;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles != 2) {
        bad("%s", "diff needs two traces: vmxsim diff A B");
        return 2;
    }
    char err[512] = "";
    int r = vx_trace_diff(files[0], files[1], ignore, nignore, context, stdout,
                          err, sizeof err);
    if (r == 2) bad("%s", err);
    return r;
}

static int cmd_explain(int argc, char **argv)
{
    long seq = -1;
    uint64_t la = 0;
    int have_la = 0;
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--seq")) {
            uint64_t v;
            if (!need_arg(i, argc, argv[i])) return 2;
            if (parse_u64(argv[++i], &v) || v > (uint64_t)LONG_MAX) {
                bad("--seq: '%s' is not an event number", argv[i]);
                return 2;
            }
            seq = (long)v;
        } else if (!strcmp(argv[i], "--la")) {
            if (!need_arg(i, argc, argv[i])) return 2;
            if (parse_u64(argv[++i], &la)) {
                bad("--la: '%s' is not an address", argv[i]);
                return 2;
            }
            have_la = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            bad("explain: unknown option '%s'", argv[i]);
            return 2;
        } else if (file) {
            bad("explain takes one trace; '%s' is a second", argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        bad("%s", "explain needs a trace: vmxsim explain [--seq N] [--la ADDR] TRACE");
        return 2;
    }
    char err[512] = "";
    int r = vx_trace_explain(file, seq, la, have_la, stdout, err, sizeof err);
    if (r) bad("%s", err);
    return r;
}

static int cmd_profiles(void)
{
    char names[64][64];
    int n = vx_profile_list(NULL, names, 64);
    if (n < 0) return bad("%s", "cannot list the profiles directory");
    for (int i = 0; i < n; i++) {
        vx_profile p;
        char err[256];
        if (vx_profile_load(names[i], NULL, &p, err, sizeof err) == 0)
            printf("%-20s %s\n", names[i], p.description);
        else
            printf("%-20s (invalid: %s)\n", names[i], err);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr, VMXSIM_STATUS_USAGE);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "diff")) return cmd_diff(argc - 2, argv + 2);
    if (!strcmp(cmd, "profiles")) return cmd_profiles();
    if (!strcmp(cmd, "explain")) return cmd_explain(argc - 2, argv + 2);
    if (!strcmp(cmd, "stats")) {
        if (argc != 3) return bad("%s", "stats needs one trace: vmxsim stats TRACE");
        char err[512] = "";
        int r = vx_trace_stats(argv[2], stdout, err, sizeof err);
        if (r) bad("%s", err);
        return r;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout, 0);
    if (!strcmp(cmd, "--version")) {
        printf("vmxsim %s\n", VMXSIM_VERSION);
        return 0;
    }
    return bad("unknown command '%s' (see vmxsim --help)", cmd);
}
