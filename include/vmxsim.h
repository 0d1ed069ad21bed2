/*
 * vmxsim.h - public API of libvmxsim, a software model of Intel VMX.
 *
 * A machine is created from a CPU profile, programs are loaded into its
 * physical memory, and it is run until one of the run-ending conditions
 * (see docs/platform.md) or until the next event of a chosen kind.  Every
 * function that can fail returns 0 on success and -1 on failure; the
 * failure's one-line description is then vmxsim_error().
 */
#ifndef VMXSIM_H
#define VMXSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMXSIM_VERSION "0.1.0"

typedef struct vmxsim vmxsim;

typedef struct vmxsim_options {
    const char *cpu;          /* profile name or path to a .json; NULL = default */
    const char *profile_dir;  /* where named profiles live; NULL = built-in path */
    uint64_t mem_size;        /* bytes of RAM at physical 0; 0 = 256 MiB */
    int feature_control_unlocked; /* start IA32_FEATURE_CONTROL at 0, not 5 */
    uint64_t max_insns;       /* instruction budget; 0 = none */
    double wall_limit;        /* seconds of host time; 0 = none */
    const char *trace_path;   /* JSON Lines trace; "-" = stdout; NULL = off */
    FILE *console;            /* port 0xE9 / COM1 output; NULL = stdout */
    const char *cmdline;      /* multiboot command line; NULL = "" */
    int explain;              /* a failed VM-entry check explained on stderr */
    int tlb_off;              /* cache no translations: every access walks */
    int trace_tlb_hits;       /* trace TLB hits too (tlb_hit events) */
} vmxsim_options;

/* Why a run ended. */
typedef enum vmxsim_end {
    VMXSIM_END_NONE = 0,       /* still runnable (vmxsim_run_until stopped) */
    VMXSIM_END_SHUTDOWN,       /* "Shutdown" written to port 0x8900 */
    VMXSIM_END_DEBUG_EXIT,     /* write to port 0xF4 (isa-debug-exit) */
    VMXSIM_END_HLT,            /* HLT with RFLAGS.IF=0 in root operation */
    VMXSIM_END_TRIPLE_FAULT,   /* shutdown after a triple fault */
    VMXSIM_END_MAX_INSNS,      /* instruction budget used up */
    VMXSIM_END_WALL_LIMIT,     /* host wall-clock limit reached */
    VMXSIM_END_NOT_MODELLED,   /* the program did something not modelled */
    VMXSIM_END_ERROR,          /* internal or engine error */
} vmxsim_end;

/* Exit statuses of `vmxsim run` (docs/cli.md); a debug exit gives
 * (V << 1) | 1, which is always odd. */
enum {
    VMXSIM_STATUS_OK = 0,            /* "Shutdown", or HLT */
    VMXSIM_STATUS_TRIPLE_FAULT = 2,
    VMXSIM_STATUS_NOT_MODELLED = 4,
    VMXSIM_STATUS_LIMIT = 6,         /* instruction budget or wall clock */
    VMXSIM_STATUS_ERROR = 8,         /* engine or trace error */
    VMXSIM_STATUS_USAGE = 64,        /* bad options or input */
};

typedef struct vmxsim_result {
    vmxsim_end end;
    int exit_status;           /* process exit status the CLI uses */
    uint64_t insns;            /* instructions retired */
    uint64_t events;           /* trace events produced */
    char message[256];         /* one line: what ended the run */
} vmxsim_result;

/* Event kinds: bit masks for vmxsim_run_until() and the callback filter. */
enum {
    VMXSIM_EV_START   = 1u << 0,
    VMXSIM_EV_VMX     = 1u << 1,  /* a VMX instruction and its outcome */
    VMXSIM_EV_VMCS    = 1u << 2,  /* VMCS field read or write */
    VMXSIM_EV_MSR     = 1u << 3,
    VMXSIM_EV_CR      = 1u << 4,
    VMXSIM_EV_CONSOLE = 1u << 5,
    VMXSIM_EV_FAULT   = 1u << 6,  /* exception delivered or triple fault */
    VMXSIM_EV_CPUID   = 1u << 7,
    VMXSIM_EV_IO      = 1u << 8,
    VMXSIM_EV_MEMORY  = 1u << 9,  /* access outside RAM */
    VMXSIM_EV_END     = 1u << 10,
    VMXSIM_EV_VMENTRY = 1u << 11, /* VM entry (or its failure) */
    VMXSIM_EV_VMEXIT  = 1u << 12, /* VM exit, VMX abort */
    VMXSIM_EV_XLATE   = 1u << 13, /* page walk, TLB hit, TLB invalidation */
    VMXSIM_EV_TSC     = 1u << 14, /* RDTSC, RDTSCP: the TSC and the value returned */
    VMXSIM_EV_ALL     = 0xffffffffu,
};

typedef struct vmxsim_event {
    unsigned kind;             /* one VMXSIM_EV_* bit */
    const char *name;          /* the trace's "event" value */
    uint64_t seq;              /* sequence number in the trace */
    uint64_t icount;           /* instructions retired before this event */
    uint64_t rip;
    const char *json;          /* the whole event as one JSON line */
} vmxsim_event;

typedef void (*vmxsim_callback)(vmxsim *m, const vmxsim_event *ev, void *user);

/* Register names for vmxsim_reg_read / vmxsim_reg_write. */
typedef enum vmxsim_reg {
    VMXSIM_RAX, VMXSIM_RCX, VMXSIM_RDX, VMXSIM_RBX,
    VMXSIM_RSP, VMXSIM_RBP, VMXSIM_RSI, VMXSIM_RDI,
    VMXSIM_R8, VMXSIM_R9, VMXSIM_R10, VMXSIM_R11,
    VMXSIM_R12, VMXSIM_R13, VMXSIM_R14, VMXSIM_R15,
    VMXSIM_RIP, VMXSIM_RFLAGS,
    VMXSIM_CR0, VMXSIM_CR2, VMXSIM_CR3, VMXSIM_CR4, VMXSIM_CR8,
    VMXSIM_CS, VMXSIM_SS, VMXSIM_DS, VMXSIM_ES, VMXSIM_FS, VMXSIM_GS,
    VMXSIM_EFER,
    VMXSIM_REG_COUNT
} vmxsim_reg;

/* Create a machine; on failure returns NULL and writes a one-line reason
 * to err (if errlen > 0). */
vmxsim *vmxsim_create(const vmxsim_options *opt, char *err, size_t errlen);
void vmxsim_destroy(vmxsim *m);
const char *vmxsim_error(const vmxsim *m);

/* Load a program: "FILE" (ELF64 or Multiboot ELF) or "FILE@ADDR" (flat
 * binary at physical ADDR).  The first program loaded sets the entry. */
int vmxsim_load(vmxsim *m, const char *spec);
/* Load a multiboot module (only after a multiboot kernel). */
int vmxsim_load_module(vmxsim *m, const char *path, const char *string);

/* Run until a run-ending condition. */
int vmxsim_run(vmxsim *m, vmxsim_result *res);
/* Run until the next event whose kind is in mask (or the run ends).  The
 * event is copied to *ev; its json is valid until the next call. */
int vmxsim_run_until(vmxsim *m, unsigned mask, vmxsim_event *ev, vmxsim_result *res);

void vmxsim_set_callback(vmxsim *m, unsigned mask, vmxsim_callback cb, void *user);

int vmxsim_reg_read(vmxsim *m, vmxsim_reg r, uint64_t *v);
int vmxsim_reg_write(vmxsim *m, vmxsim_reg r, uint64_t v);
int vmxsim_mem_read(vmxsim *m, uint64_t pa, void *buf, size_t len);
int vmxsim_mem_write(vmxsim *m, uint64_t pa, const void *buf, size_t len);
int vmxsim_msr_read(vmxsim *m, uint32_t msr, uint64_t *v);

/* Read or write a field of the current VMCS by encoding, as the model
 * stores it (no VMX instruction semantics, no trace event). */
int vmxsim_vmcs_read(vmxsim *m, uint32_t encoding, uint64_t *v);
int vmxsim_vmcs_write(vmxsim *m, uint32_t encoding, uint64_t v);

/* Print registers and VMX state (the triple-fault dump) to f. */
void vmxsim_dump(vmxsim *m, FILE *f);

/* Name of the loaded CPU profile. */
const char *vmxsim_cpu_name(const vmxsim *m);

#ifdef __cplusplus
}
#endif
#endif
