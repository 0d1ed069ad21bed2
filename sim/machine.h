/*
 * machine.h - the modelled machine: the state the model owns, and the
 * internal interfaces between the run loop, the instruction handlers,
 * the platform devices, the loader and the trace.
 *
 * "The model owns, Unicorn executes": Unicorn holds the general registers
 * and RAM and runs ordinary instructions; everything VMX defines or
 * changes (VMX state, the VMCS, capability MSRs, CR fixed bits, CPUID,
 * time, I/O, exception delivery) lives here.
 */
#ifndef VX_MACHINE_H
#define VX_MACHINE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <unicorn/unicorn.h>

#include "vmxsim.h"
#include "x86.h"
#include "../decoder/decoder.h"
#include "../traces/json_out.h"
#include "../traces/trace.h"
#include "../vmcs/profile.h"
#include "../vmcs/vmcs.h"
#include "../vmcs/controls.h"
#include "../ept/tlb.h"

#define VX_DEFAULT_MEM (256ull << 20)
#define VX_NO_VMCS UINT64_MAX /* current-VMCS pointer when none: all ones */

/* Exception vectors (SDM Vol. 3A 6.3.1); VX_VEC_EPT stands for an
 * EPT-induced VM exit found by one of the model's own accesses. */
enum { VX_VEC_EPT = 0x100 };
enum { VX_DE = 0, VX_DB = 1, VX_NMI = 2, VX_BP = 3, VX_OF = 4, VX_BR = 5,
       VX_UD = 6, VX_NM = 7, VX_DF = 8, VX_TS = 10, VX_NP = 11, VX_SS = 12,
       VX_GP = 13, VX_PF = 14, VX_MF = 16, VX_AC = 17, VX_MC = 18,
       VX_XM = 19 };

/* Architectural MSR numbers the model handles itself. */
enum {
    VX_MSR_TSC = 0x10, VX_MSR_FEATURE_CONTROL = 0x3A, VX_MSR_PAT = 0x277,
    VX_MSR_EFER = 0xC0000080, VX_MSR_TSC_AUX = 0xC0000103,
    VX_MSR_SYSENTER_CS = 0x174, VX_MSR_SYSENTER_ESP = 0x175,
    VX_MSR_SYSENTER_EIP = 0x176, VX_MSR_DEBUGCTL = 0x1D9,
    VX_MSR_FS_BASE = 0xC0000100, VX_MSR_GS_BASE = 0xC0000101,
    VX_MSR_KERNEL_GS_BASE = 0xC0000102, VX_MSR_STAR = 0xC0000081,
    VX_MSR_LSTAR = 0xC0000082, VX_MSR_CSTAR = 0xC0000083,
    VX_MSR_FMASK = 0xC0000084,
};

/* What raised a pending event: a fault or hardware exception, INT n,
 * INT3/INTO (software exceptions), INT1 (privileged software exception);
 * an NMI or an external interrupt (injected by VM entry only). */
enum { VX_PEND_HW = 0, VX_PEND_SWINT, VX_PEND_SWEXC, VX_PEND_PRIVSW, VX_PEND_NMI,
       VX_PEND_EXTINT };

/* A segment register with its hidden part, in the VMCS's terms: the
 * access rights as in the guest-state area (SDM Vol. 3C Table 25-2),
 * bit 16 = unusable.  Indexed like the VMCS's segment fields. */
enum { VX_SEG_ES, VX_SEG_CS, VX_SEG_SS, VX_SEG_DS, VX_SEG_FS, VX_SEG_GS,
       VX_SEG_LDTR, VX_SEG_TR, VX_NSEGS };
typedef struct vx_seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit;
    uint32_t ar;
} vx_seg;

/* What a VM exit records (SDM Vol. 3C 28.2) and the guest state that
 * the cause decides (28.3): filled by the code that detects the cause. */
typedef struct vx_exit {
    uint32_t reason;          /* basic reason, bit 31 for entry failures */
    uint64_t qual;
    uint64_t guest_linear, guest_phys;
    uint32_t insn_len, insn_info;
    uint32_t intr_info, intr_err;
    uint32_t idt_info, idt_err;
    uint64_t guest_rip;       /* RIP to save: the instruction, or the next */
    uint32_t activity, interruptibility;
    uint8_t rf;               /* RFLAGS.RF to save (28.3.3): VX_RF_AS_IS, _SET, _CLEAR */
} vx_exit;
enum { VX_RF_AS_IS = 0, VX_RF_SET, VX_RF_CLEAR };

/* A decoded block of guest code (cached per start address). */
typedef struct vx_block {
    uint64_t addr;
    uint32_t size;
    uint16_t ninsns;
    uint8_t mode;          /* 16/32/64 when decoded */
    uint8_t has_sites;
    uint8_t armed;         /* sites hooked and stale translations dropped */
    uint8_t ends_mov_ss;   /* last instruction is MOV SS / POP SS */
    uint64_t mov_ss_end;   /* addr + size if it ends with MOV SS, else 0 */
    uint32_t cyc;          /* cycles of the whole block (cycles.c) */
    uint32_t *cyc_off;     /* ninsns + 1: cycles of the instructions before each */
    uint8_t prot;          /* its host pages are code pages (mmu.c): any write
                            * to them drops it, so it needs no checking */
    uint64_t hpage[2];     /* host pages of its first and last byte (>> 12) */
    uint16_t *offs;        /* ninsns offsets */
    uint8_t *bytes;        /* size bytes, to notice rewritten code */
    struct vx_block *next; /* hash chain */
} vx_block;

/* A model-owned instruction address with a single-address code hook. */
typedef struct vx_site {
    uint64_t addr;
    uc_hook hook;
    vx_insn insn;          /* decoded when the hook was placed */
    struct vmxsim *m;
    struct vx_site *next;
} vx_site;

/* What a handler wants after executing an instruction. */
typedef enum vx_action {
    VX_NEXT = 0,   /* retired: continue at the next instruction */
    VX_FAULT,      /* raise m->pend_vector (set with vx_raise) */
    VX_STOP,       /* retired, then stop the run (m->end says why) */
    VX_JUMP,       /* retired, continue at m->resume_rip */
    VX_NATIVE,     /* not taken: the engine executes the instruction */
    VX_TRANSITION, /* a VM entry or exit is pending (m->pend_entry/pend_exit):
                    * the engine stops at the instruction and the run loop
                    * carries out the transition, outside any hook */
} vx_action;

/* The 16550 UART at COM1, as far as a polling transmitter needs. */
typedef struct vx_uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
} vx_uart;

/* The model's translations as the engine sees them (sim/mmu.c). */
#define VX_SHADOW_BASE 0xFF00000000ull
typedef struct vx_window vx_window;
typedef struct vx_mmu {
    int memfd;             /* guest RAM, aliased into the windows */
    uint8_t *shadow;       /* the shadow page tables (host side) */
    unsigned used;         /* shadow pages in use (page 0 is the root) */
    int engine_empty;      /* shadow and engine TLB empty since the last reset */
    int format;            /* 1: 4-level shadow (IA-32e mode), 0: PAE, -1: none yet */
    int flush_all, flush_nonglobal; /* invalidations to carry out before the engine runs */
    unsigned nglobal;      /* global translations filled */
    vx_window *win, *last;
    int nwin;
    uint64_t fills, flushes;
    /* What the shadow was built for: the tags of its translations and
     * the control bits its permissions encode (a change resets it). */
    vx_tlb_tag shadow_tag;
    uint64_t shadow_key;
    int shadow_valid;
    /* The model's TLB (ept/tlb.h) and how it is used. */
    vx_tlb tlb;
    int tlb_off;           /* --tlb=off: nothing cached, every access walks */
    /* Watched pages (mmu.c): host pages holding decoded code (or, with
     * --tlb off, paging structures), which no shadow entry maps
     * writable, so that every write to them reaches the model; wlin: per
     * host page, the linear page last filled writable for it in shadow
     * generation gen (or "several"). */
    uint8_t *watch;
    uint16_t *watch2m;
    int table_step;        /* --tlb off: a write to a paging structure is being stepped */
    uint8_t *scratch;      /* the page standing for memory outside RAM */
    uint64_t outside_page; /* linear page mapped to it for one instruction */
    int outside_step;      /* that instruction is being stepped */
    uint64_t step_icount;  /* icount when a step of table_step/outside_step began */
    uint8_t *unprot;       /* times each code page was written: beyond a few,
                            * it is left unprotected (code next to data) */
    uint64_t *wlin;
    uint32_t gen;
    int trace_tlb_hits;    /* --trace-tlb-hits */
    uint64_t walks, walk_refs, tlb_hits;
} vx_mmu;

enum { VX_MMU_FILLED, VX_MMU_FAULT, VX_MMU_ENDED };

/* Slots of the cache of event strings (events.c, vx_json_str). */
#define VX_EV_STRINGS 64

struct vmxsim {
    uc_engine *uc;
    uint8_t *ram;
    vx_mmu mmu;
    /* The program's control registers and EFER (the engine runs with
     * the values mmu.c derives from them). */
    uint64_t arch_cr0, arch_cr2, arch_cr3, arch_cr4, arch_efer;
    uint64_t mem_size;
    vx_profile prof;
    vx_decoder *dec;
    FILE *console;
    char err[256];

    /* options */
    uint64_t max_insns;
    double wall_limit;
    char *cmdline;

    /* VMX state (SDM Vol. 3C 24, 31) */
    int vmx_on;            /* in VMX operation */
    int vmx_nonroot;       /* VMX non-root operation (issue 3) */
    uint64_t vmxon_ptr;
    uint64_t current_vmcs; /* VX_NO_VMCS when none */
    vx_vmcs **active;      /* active VMCSs (current one among them) */
    int nactive, cap_active;
    int blocked_init;      /* INIT blocked while in VMX root operation */
    uint64_t exits, entries; /* VM exits and successful VM entries */
    uint64_t pdpte[4];       /* the PDPTE registers of PAE paging (Vol. 3A 4.4.1) */
    vx_ept xl_ept;           /* EPT of the guest (xlate.c), valid in non-root operation */
    uint16_t xl_vpid;        /* its VPID (0 without "enable VPID") */
    uint8_t xl_page1gb;      /* xlate.c: the profile's CPUID.80000001H:EDX[26] + 1, 0 until read */
    uint32_t guest_activity, guest_interruptibility;
    int explain;             /* --explain: failed entry checks in words */
    int mtf_armed;           /* monitor trap flag: exit after the next guest instruction */
    int pend_mtf;            /* an MTF VM exit injected as event type 7 */
    int window_wait;         /* an NMI or interrupt window is awaited: step the guest */
    int ple_active;          /* PAUSE-loop exiting: a loop is being timed */
    int timer_armed;         /* VMX-preemption timer counting */
    uint64_t timer_deadline; /* cycle at which it reaches 0 */
    uint64_t timer_deadline_tsc;
    unsigned timer_shift;    /* IA32_VMX_MISC[4:0] */
    uint64_t ple_first, ple_last;
    int pend_entry, pend_entry_resume; /* VM entry to carry out (VMLAUNCH/VMRESUME) */
    int pend_exit_valid;     /* VM exit to carry out */
    vx_exit pend_exit;
    /* The guest's interruptibility (Table 25-3), kept while it runs so
     * that every VM exit saves it (28.3.4): bit 3 of the field, blocking
     * by NMI or, with "virtual NMIs", virtual-NMI blocking, until IRET
     * (26.3); and blocking by STI / MOV SS, which covers one instruction
     * boundary: the one before the instruction at shadow_icount (MOV SS
     * run by the engine is also found from the decoded blocks,
     * vx_blocked_by_mov_ss). */
    int nmi_blocked;
    uint64_t shadow_icount;
    uint32_t shadow_bits;
    uint64_t iret_icount;    /* icount + 1 of the IRET that ended NMI blocking; 0 none */
    /* DR6 when the engine last started in the guest, for the exit
     * qualification of a #DB (Table 28-1), which must not change DR6
     * (28.1); stale once the guest ran MOV to a debug register. */
    uint64_t dr6_start;
    int dr6_stale;

    /* MSRs the model owns (others live in Unicorn or the profile table) */
    uint64_t feature_control;
    uint64_t pat;
    uint64_t debugctl;
    uint64_t tsc_aux;
    /* CR8, the local APIC's TPR[7:4] (SDM Vol. 3A 10.8.6.5): the model's,
     * since Unicorn has no APIC and does not keep what is written to it.
     * VM entries and exits neither save nor load it (the TPR is not part
     * of the guest- or host-state area). */
    uint64_t cr8;
    uint64_t profile_msr_val[VX_PROFILE_MAX_MSRS];

    /* time: the cycle model (cycles.c) */
    uint64_t tsc_base;     /* TSC = tsc_base + cycles * ticks per cycle */
    uint64_t cycles;       /* core cycles spent, charged like icount (run.c) */
    uint64_t insn_cycles;  /* cycles before the instruction being executed */
    uint64_t cyc_pending;  /* cycles the instruction being executed has charged */
    uint64_t cyc_limit;    /* on_block's fast path below this cycle count */
    uint64_t cyc_mode[3], cyc_mode_start; /* by mode: off, root, non-root */
    int cyc_mode_cur;
    uint64_t cyc_entries, cyc_exits;       /* in VM transitions */
    uint64_t cyc_exit_by_reason[VX_CYC_MAX_EXIT_REASON];
    uint64_t exit_count_by_reason[VX_CYC_MAX_EXIT_REASON];
    uint64_t cyc_walks, cyc_walk_count, cyc_walk_refs_guest, cyc_walk_refs_ept, cyc_tlb_hits;
    uint64_t cyc_walk_guest, cyc_walk_ept;

    /* run loop */
    uint64_t icount;       /* instructions retired, committed */
    vx_block *cur_block;
    uint64_t prev_mov_ss_end; /* block just left ended with MOV SS here */
    vx_block **blocks;     /* hash table of decoded blocks */
    vx_block **dm;         /* direct-mapped cache in front of it (on_block) */
    unsigned nbuckets;
    vx_site *sites;
    uc_hook h_block, h_invalid, h_intr, h_mem_unmapped;
    int restart;           /* run loop must re-enter at resume_rip */
    uint64_t resume_rip;
    int flush_pending;     /* remove cached translations of [flush_lo, flush_hi) */
    int flush_all;         /* drop all translations and decoded blocks */
    uint64_t flush_lo, flush_hi;
    vmxsim_end end;
    int exit_status;
    char end_msg[256];
    uint64_t wall_next;    /* icount of the next look at the wall clock */
    uint64_t fast_limit;   /* on_block's fast path up to this icount */
    double wall_start;
    int entered;           /* an entry point was set */
    int started, ended;    /* start / end events emitted */
    uint64_t entry;

    /* the instruction being executed by the model */
    const vx_insn *insn;
    uint64_t insn_icount;  /* icount of the current instruction */
    uint64_t insn_eip;     /* its RIP: the offset in CS (insn->addr is linear) */

    /* pending exception raised by the model or reported by Unicorn */
    int pend_vector;       /* -1 none */
    int pend_has_err;
    uint32_t pend_err;
    uint64_t pend_cr2;       /* #PF: CR2; VX_VEC_EPT: the linear address */
    vx_xlate pend_xl;        /* VX_VEC_EPT: what the translation found */
    uint64_t pend_rip;     /* RIP to push: the instruction, or the next one for traps */
    int pend_soft;         /* software interrupt (INT n): gate DPL is checked */
    int pend_engine;       /* reported by Unicorn rather than raised by the model */
    uint64_t pend_engine_cr2; /* ... with the CR2 and error code it reported */
    uint32_t pend_engine_err;
    int pend_injected;     /* injected by VM entry (27.6): never a VM exit itself */
    int delivering_injected; /* the event being delivered was injected */
    int pend_kind;         /* VX_PEND_*: what raised it */
    unsigned pend_insn_len; /* length of INT n/INT3/INTO/INT1 */
    int delivering;        /* nesting depth of exception delivery */

    /* platform */
    vx_uart uart;
    char shutdown_buf[8];
    int shutdown_len;
    uint64_t outside_reads, outside_writes;
    int old_exception_off; /* Unicorn context offset of env->old_exception */
    int error_code_off;    /* Unicorn context offset of env->error_code */
    void *engine_cpu;      /* the engine's CPUState, if found (engine_tlb.c) */
    uc_context *ctx;

    /* loaded images, for the start event: array of
     * {"path", "kind", "entry", "segments": [{"addr", "size"}]} */
    json_t *images;

    /* multiboot */
    int multiboot;
    int setup_run;           /* the engine runs set-up code: hooks idle */
    uint64_t mb_info;
    uint64_t mb_next_free; /* where the loader may place modules/strings */
    uint64_t kernel_end;

    /* events */
    vx_trace *trace;
    vmxsim_callback cb;
    void *cb_user;
    unsigned cb_mask;
    unsigned stop_mask;    /* vmxsim_run_until: stop after such an event */
    int stop_on_event;
    int event_hit;         /* an event in stop_mask was emitted */
    uint64_t budget_until; /* address where the engine is to stop (budget or timer) */
    int budget_exit_set;   /* budget_until is the engine's exit address */
    int stop_for_timer;    /* ... and it is where the preemption timer expires */
    int timer_due;         /* the preemption timer expired at this boundary */
    int count_hook_live;   /* Unicorn's counting hook is installed (run.c) */
    int uncounted_starts;  /* starts since the last counted one */
    char con_line[256];    /* console text not yet traced */
    int con_len;
    uint16_t con_port;
    uint64_t seq;
    json_t *ev_strings[VX_EV_STRINGS]; /* vx_json_str's shared values */
    vx_jbuf ev_json;       /* the event being delivered, serialised once (events.c) */
    vx_jbuf last_json;     /* the storage of last_event_json */
    int ev_in_callback;    /* the callback runs: an event it causes needs its own buffer */
    char *last_event_json; /* vmxsim_run_until's event; NULL: none in this call */
    vmxsim_event last_event;
    char last_event_name[32];
};

/* ---- xlate.c: translating the program's addresses ---- */
void vx_xl_paging(vmxsim *m, vx_guest_paging *pg);
void vx_xl_enter_guest(vmxsim *m);   /* VM entry: the guest's EPT and VPID */
void vx_xl_leave_guest(vmxsim *m);   /* VM exit */
void vx_xl_set_eptp(vmxsim *m, uint64_t eptp); /* VMFUNC EPTP switching */
vx_tlb_tag vx_xl_tag(vmxsim *m);
int vx_load_pdptes(vmxsim *m, uint64_t cr3, uint64_t out[4]); /* PAE: 0, -1 reserved, -2 EPT */
/* Translate through the TLB (a walk on a miss, traced and cached). */
vx_xl_status vx_mmu_translate(vmxsim *m, uint64_t la, unsigned acc, vx_xlate *x);
/* Walk without the TLB (log may be NULL); VX_ACC_PEEK changes nothing. */
vx_xl_status vx_mmu_walk(vmxsim *m, uint64_t la, unsigned acc, vx_xlate *x, vx_walk_log *log);
/* Invalidations, of the model's TLB and the engine's shadow of it. */
void vx_mmu_inv_page(vmxsim *m, uint16_t vpid, uint64_t la);
void vx_mmu_inv_pcid(vmxsim *m, uint16_t vpid, uint16_t pcid);
void vx_mmu_inv_vpid(vmxsim *m, uint16_t vpid, int keep_global);
void vx_mmu_inv_all_vpids(vmxsim *m);
void vx_mmu_inv_ept(vmxsim *m, uint64_t eptp_or_all); /* UINT64_MAX: every EPT root */
void vx_xl_trace_invalidation(vmxsim *m, const char *op, const char *scope, uint64_t la);
json_t *vx_xl_refs_json(const vx_walk_log *log, int levels, int mbec);
json_t *vx_ept_qual_json(uint64_t qual);

/* ---- mmu.c: the engine's address space ---- */
vx_action vx_exec_tlb(vmxsim *m, const vx_insn *in); /* tlb.c: INVLPG, INVPCID */
int vx_mmu_init(vmxsim *m);
void vx_mmu_fini(vmxsim *m);
void vx_mmu_engine_regs(vmxsim *m, uint64_t *cr0, uint64_t *cr4, uint64_t *efer);
void vx_mmu_write_engine_crs(vmxsim *m);
void vx_mmu_before_run(vmxsim *m);
void vx_mmu_prefetch_code(vmxsim *m, uint64_t rip); /* before a start: the fetch at RIP */
void vx_mmu_invalidate_all(vmxsim *m);
void vx_mmu_invalidate_nonglobal(vmxsim *m);
void vx_mmu_invalidate_page(vmxsim *m, uint64_t la);
void vx_mmu_flush_nonglobal_entries(vmxsim *m);
int vx_mmu_fill(vmxsim *m, uint64_t la, unsigned access, vx_xlate *x);
int vx_mmu_window(vmxsim *m, uint64_t la); /* give la's chunk its window */
const uint8_t *vx_mmu_host(vmxsim *m, uint64_t la);
void vx_mmu_outside_done(vmxsim *m); /* after an access outside RAM (mmu.c) */
/* The host-physical page the engine sees at linear la, or UINT64_MAX. */
uint64_t vx_mmu_backing(vmxsim *m, uint64_t la);
/* Decoded code lives in host page pa: make every write to it fault into
 * the model (vx_code_written in run.c is called then).  0 done, 1 done
 * but the engine must stop before it runs on (the shadow is to be
 * rebuilt), -1 not protected (outside RAM, or code written too often). */
int vx_mmu_protect_code(vmxsim *m, uint64_t pa);
/* --tlb off: host page pa holds a paging structure a walk read. */
int vx_mmu_watch_table(vmxsim *m, uint64_t pa);
/* The model wrote RAM [pa, pa + len): code there is stale. */
void vx_mmu_ram_written(vmxsim *m, uint64_t pa, size_t len);
size_t vx_mmu_peek(vmxsim *m, uint64_t la, uint8_t *buf, size_t len); /* bytes readable */

/* ---- machine.c: state, registers, memory ---- */
void vx_set_error(vmxsim *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t vx_reg(vmxsim *m, int uc_reg);
void vx_set_reg(vmxsim *m, int uc_reg, uint64_t v);
uint64_t vx_gpr(vmxsim *m, int n);        /* register 0-15 (RAX..R15) */
void vx_set_gpr(vmxsim *m, int n, uint64_t v);
int vx_uc_gpr(int n);                     /* UC_X86_REG_* of register n */
uint64_t vx_msr_get(vmxsim *m, uint32_t msr);   /* Unicorn-held MSR */
void vx_msr_set(vmxsim *m, uint32_t msr, uint64_t v);
int vx_cpl(vmxsim *m);
int vx_code_mode(vmxsim *m);              /* 16, 32 or 64 */
int vx_in_long_mode(vmxsim *m);           /* IA32_EFER.LMA */
/* Physical memory; outside RAM reads as all ones, writes are dropped
 * (and counted). */
void vx_phys_read(vmxsim *m, uint64_t pa, void *buf, size_t len);
void vx_phys_write(vmxsim *m, uint64_t pa, const void *buf, size_t len);
uint64_t vx_phys_read64(vmxsim *m, uint64_t pa);
uint32_t vx_phys_read32(vmxsim *m, uint64_t pa);
void vx_phys_write32(vmxsim *m, uint64_t pa, uint32_t v);
void vx_phys_write64(vmxsim *m, uint64_t pa, uint64_t v);
/* An access outside RAM: counted, and traced (outside_memory). */
void vx_outside_access(vmxsim *m, uint64_t pa, size_t len, int write);
/* The size of the memory operand of the instruction at RIP (0 if unknown). */
size_t vx_access_size(vmxsim *m);
/* Start states (docs/start-state.md). */
int vx_start_state_long(vmxsim *m, uint64_t entry);
int vx_start_state_multiboot(vmxsim *m, uint64_t entry, uint32_t mbi);

/* cpustate.c: the hidden part of the segment registers and the mode it
 * implies.  vx_get_segs reads all eight; vx_set_segs loads those whose
 * bit is set in `which` and recomputes the engine's mode (CPL, code and
 * stack size, IA-32e/compatibility) from them and from CR0, CR4, EFER
 * and RFLAGS, which must be written first.  vx_sync_mode only
 * recomputes.  -1 with m->err set if the engine cannot be driven. */
int vx_get_segs(vmxsim *m, vx_seg s[VX_NSEGS]);
int vx_set_segs(vmxsim *m, const vx_seg s[VX_NSEGS], unsigned which);
int vx_set_seg(vmxsim *m, int seg, const vx_seg *s);
int vx_sync_mode(vmxsim *m);
/* CS's base: a hook's linear address minus it is the RIP (Unicorn's RIP
 * inside a hook is the linear address, not RIP, when CS has a base). */
uint64_t vx_cs_base(vmxsim *m);
/* Write EFER whole, LMA included (WRMSR cannot change LMA; MOV to CR0
 * and VM transitions do), and recompute the mode. */
int vx_set_efer(vmxsim *m, uint64_t efer);
/* Both at once (VM entries and exits: one copy of the engine's state). */
int vx_set_efer_segs(vmxsim *m, uint64_t efer, const vx_seg s[VX_NSEGS], unsigned which);
/* engine_tlb.c: drop the engine's TLB, whole or one page (after CR0/CR3/
 * CR4 changes, shadow changes, VM transitions); vx_engine_probe_tlb
 * finds the fast way, or leaves the slow one. */
void vx_engine_probe_tlb(vmxsim *m);
void vx_flush_engine_tlb(vmxsim *m);
void vx_flush_engine_tlb_page(vmxsim *m, uint64_t la);
int vx_engine_tlb_direct(const vmxsim *m);

/* ---- linear.c: linear addresses of the running program ---- */
/* Translate a linear address for an access of the model's own (SDM Vol.
 * 3A 4): 0 and *pa set, or raises #PF (vx_raise) and returns -1.
 * write: 1 for a write access; user: CPL 3 access. */
int vx_linear_to_phys(vmxsim *m, uint64_t la, int write, uint64_t *pa);
int vx_linear_to_phys_acc(vmxsim *m, uint64_t la, unsigned acc, uint64_t *pa);
/* An implicit supervisor-mode read (GDT, IDT, TSS: Vol. 3A 4.6). */
int vx_linear_read_sys(vmxsim *m, uint64_t la, void *buf, size_t len);
/* Raise what a failed translation found: #PF, or an EPT-induced exit. */
vx_action vx_raise_xlate(vmxsim *m, const vx_xlate *x, uint64_t la);
/* Read/write len bytes at a linear address (may cross pages). */
int vx_linear_read(vmxsim *m, uint64_t la, void *buf, size_t len);
int vx_linear_write(vmxsim *m, uint64_t la, const void *buf, size_t len);
/* Effective linear address of a memory operand, with the segment checks
 * of the mode (#GP/#SS for non-canonical or limit violations raised with
 * vx_raise; returns -1 then). len: operand size in bytes. */
int vx_operand_address(vmxsim *m, const vx_insn *in, const vx_operand *o,
                       unsigned len, int write, uint64_t *la);

/* ---- fault.c: exceptions ---- */
/* Record an exception to deliver once the current instruction is
 * abandoned: returns VX_FAULT for handlers to return. */
vx_action vx_raise(vmxsim *m, int vector, int has_err, uint32_t err);
#define vx_raise_ud(m) vx_raise((m), VX_UD, 0, 0)
#define vx_raise_gp0(m) vx_raise((m), VX_GP, 1, 0)
/* Deliver the pending exception through the IDT (SDM Vol. 3A 6.12);
 * escalates to #DF and triple fault as the SDM says. */
int vx_deliver_pending(vmxsim *m); /* 0: only a translation was filled in */
const char *vx_vector_name(int vector);   /* "#GP" */
/* Is vector a fault whose delivery pushes RFLAGS.RF = 1 (Vol. 3A 18.3.1.1)? */
int vx_fault_sets_rf(int vector);
/* End the run with a triple-fault report and a register dump. */
void vx_triple_fault(vmxsim *m, const char *why);

/* ---- engine.c: Unicorn quirks ---- */
/* Find where Unicorn keeps the exception state in its saved context
 * (-1 with m->err if it cannot be found). */
int vx_engine_probe(vmxsim *m);
/* Unicorn reported exception `vector` (from UC_HOOK_INTR). */
void vx_engine_exception(vmxsim *m, int vector);
/* With the engine stopped: fetch the error code of the exception Unicorn
 * raised, and reset Unicorn's "exception in progress" state so that the
 * next exception is not mistaken for a double fault. */
uint32_t vx_engine_take_exception(vmxsim *m);

/* ---- insn.c: the model-owned non-VMX instructions ---- */
vx_action vx_exec_insn(vmxsim *m, const vx_insn *in);

/* ---- vmx.c: VMX instructions (SDM Vol. 3C 31) ---- */
vx_action vx_exec_vmx(vmxsim *m, const vx_insn *in);
/* The current VMCS, or NULL (vmx.c). */
vx_vmcs *vx_current_vmcs(vmxsim *m);
/* Is the instruction at linear address la the one right after a MOV to
 * SS or POP SS that the engine ran (events blocked by MOV SS, vmx.c)? */
int vx_blocked_by_mov_ss(vmxsim *m, uint64_t la);

/* vmentry.c: VM entry after VMLAUNCH/VMRESUME passed their own checks.
 * vx_vmentry runs in the instruction: *vmfail_error is 7 or 8 when the
 * controls or the host state fail (the caller reports VMfailValid);
 * otherwise it returns VX_TRANSITION, and the run loop calls
 * vx_vmentry_perform: guest-state checks, loading, injection, and the
 * guest runs or a VM-entry failure exits to the host. */
vx_action vx_vmentry(vmxsim *m, vx_vmcs *v, int resume, int *vmfail_error);
void vx_vmentry_perform(vmxsim *m);

/* nonroot.c: VMX non-root operation.  vx_nonroot_insn: 1 if the
 * instruction exits (or faults for a reason only non-root has) with
 * *act set, 0 to execute it normally.  The CR hooks may rewrite the value
 * read or written (read shadows, guest/host masks). */
int vx_nonroot_insn(vmxsim *m, const vx_insn *in, vx_action *act);
int vx_nonroot_cr_read(vmxsim *m, const vx_insn *in, int cr, uint64_t *val, vx_action *act);
int vx_nonroot_cr_write(vmxsim *m, const vx_insn *in, int cr, uint64_t *val, vx_action *act);
vx_action vx_nonroot_cr8_write(vmxsim *m, const vx_insn *in, uint64_t val);
uint64_t vx_nonroot_tsc(vmxsim *m, uint64_t tsc);
int vx_nonroot_unrestricted(vmxsim *m);
/* An exception in the guest: 1 if it caused a VM exit (-1 if the run
 * ended), 0 to deliver it through the guest IDT.  idt_info: the event
 * being delivered when it happened, or NULL; idt_len: that event's
 * instruction length if it is a software interrupt or exception (rip is
 * then where its delivery would return). */
int vx_nonroot_exception(vmxsim *m, int vector, int has_err, uint32_t err, int kind,
                         uint64_t rip, uint64_t cr2, const uint32_t *idt_info,
                         uint32_t idt_err, unsigned idt_len);
/* The IDT-vectoring information (28.2.3, Table 25-18) of an event of
 * kind VX_PEND_* being delivered. */
uint32_t vx_nonroot_vectoring_info(int vector, int kind, int has_err);
int vx_nonroot_triple_fault(vmxsim *m, uint64_t rip);
/* An EPT violation (48) or misconfiguration (49) found by translating la
 * for the instruction at rip (29.3.3); idt_info: the event being
 * delivered, or NULL, and idt_len its instruction length as for
 * vx_nonroot_exception.  -1 if the run ended. */
int vx_nonroot_ept_exit(vmxsim *m, const vx_xlate *x, uint64_t la, uint64_t rip,
                        const uint32_t *idt_info, uint32_t idt_err, unsigned idt_len);
/* While stepping the guest: the VM exit due after the instruction just
 * retired (MTF, NMI window, interrupt window, in that priority), given
 * what the instruction was; 1 if one happened. */
int vx_nonroot_after_step(vmxsim *m, int kind, int mov_ss, int if_before);
/* VMFUNC in VMX non-root operation. */
vx_action vx_nonroot_vmfunc(vmxsim *m, const vx_insn *in);
/* The VMX-preemption timer reached 0: VM exit 52. */
void vx_nonroot_timer_expired(vmxsim *m);
/* The guest is in the HLT, shutdown or wait-for-SIPI activity state
 * (m->guest_activity) at instruction count now: 1 and *x if a VM exit
 * the model can produce wakes it (after_hlt: HLT just retired, so an
 * MTF VM exit is due), 0 if nothing can. */
int vx_nonroot_wake(vmxsim *m, int after_hlt, uint64_t now, vx_exit *x);
/* HLT in VMX non-root operation without HLT exiting. */
vx_action vx_nonroot_hlt(vmxsim *m, const vx_insn *in);
/* Its value now (for saving on VM exit, 28.3). */
uint32_t vx_nonroot_timer_value(vmxsim *m);
/* Blocking by STI and by MOV SS (Table 25-3) in effect on the
 * instruction boundary before the instruction at icount ic, linear
 * address la. */
uint32_t vx_nonroot_shadow(vmxsim *m, uint64_t ic, uint64_t la);

/* exitinfo.c: the exit qualification (NULL where it has no fields) and
 * the instruction information decoded into named fields, for traces. */
json_t *vx_exit_qualification_fields(unsigned reason, uint64_t qual);
json_t *vx_exit_instruction_info_fields(unsigned reason, uint32_t info);

/* vmexit.c: a VM exit (or a VM-entry failure exit, 27.8) to the host
 * state of the current VMCS; -1 if the run ended (VMX abort, error). */
int vx_vmexit(vmxsim *m, const vx_exit *x);
/* An MSR-load area (27.4, 28.6): 0, or the 1-based failing entry. */
int vx_load_msr_area(vmxsim *m, uint64_t area, uint32_t count);
void vx_guest_segs_from_vmcs(vx_vmcs *v, vx_seg s[VX_NSEGS]);
void vx_write_dtr(vmxsim *m, int reg, uint64_t base, uint32_t limit);
void vx_load_sysenter(vmxsim *m, uint64_t cs, uint64_t esp, uint64_t eip);
/* insn.c helpers shared with nonroot.c. */
int vx_io_allowed(vmxsim *m);
int vx_io_size(const vx_insn *in);

/* ---- cycles.c: the cycle model ---- */
void vx_cyc_block(vmxsim *m, vx_block *b, const uint8_t *cls, const uint8_t *mem);
uint64_t vx_cyc_now(const vmxsim *m);     /* cycles at this point of the run */
void vx_cyc_add(vmxsim *m, uint64_t n);    /* charge n cycles now */
uint64_t vx_cyc_op(const vmxsim *m, vx_op op); /* a model-owned instruction's cost */
void vx_cyc_mode_sync(vmxsim *m);
void vx_cyc_transition(vmxsim *m, int entry, unsigned reason);
void vx_cyc_walk(vmxsim *m, const vx_xlate *x, int tlb_hit);
void vx_tsc_set(vmxsim *m, uint64_t tsc);  /* WRMSR IA32_TSC */
uint64_t vx_cyc_at_tsc(const vmxsim *m, uint64_t tsc); /* first cycle with TSC >= tsc */
json_t *vx_cyc_summary(vmxsim *m);

/* ---- msr.c ---- */
vx_action vx_exec_msr(vmxsim *m, const vx_insn *in);
const char *vx_msr_name(uint32_t msr); /* NULL if unnamed */
uint64_t vx_tsc(vmxsim *m);            /* the model's TSC (insn.c) */
/* 0 and *v, or -1 when the MSR does not exist (#GP). */
int vx_rdmsr(vmxsim *m, uint32_t msr, uint64_t *v);
/* 0, or -1 for #GP (absent MSR, reserved bits, locked register). */
int vx_wrmsr(vmxsim *m, uint32_t msr, uint64_t v);

/* ---- platform.c: I/O ports ---- */
void vx_console_flush(vmxsim *m);      /* trace pending console text */
/* port I/O of size 1, 2 or 4 bytes; may set m->end. */
uint32_t vx_port_in(vmxsim *m, uint16_t port, int size);
void vx_port_out(vmxsim *m, uint16_t port, int size, uint32_t v);

/* ---- run.c ---- */
int vx_run_init(vmxsim *m);   /* hooks, block cache; -1 with m->err */
void vx_run_fini(vmxsim *m);
/* Run until m->end is set or (with stop_on_event) an event stops it. */
void vx_run_loop(vmxsim *m);
void vx_end_run(vmxsim *m, vmxsim_end why, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vx_not_modelled(vmxsim *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Host page pa, which held decoded code, is being written: drop the
 * blocks decoded from it and the engine's translations of them. */
void vx_code_written(vmxsim *m, uint64_t pa);
/* Hook a model-owned instruction address (idempotent). */
int vx_site_add(vmxsim *m, uint64_t addr);
/* Code at [lo, hi) changed meaning for the model: drop its translations. */
void vx_flush_code(vmxsim *m, uint64_t lo, uint64_t hi);
/* The meaning of all code may have changed (paging or code size): drop
 * every translation and every decoded block. */
void vx_flush_all(vmxsim *m);

/* ---- events.c ---- */
int vx_ev_wanted(const vmxsim *m, unsigned kind);
/* A new event object with the common fields (event, seq, icount, mode,
 * rip, insn) filled in. */
json_t *vx_ev_new(vmxsim *m, const char *name);
/* Write it to the trace, call the callback, then drop the reference. */
void vx_ev_emit(vmxsim *m, unsigned kind, json_t *ev);
/* JSON helpers: hex strings for addresses and values. */
json_t *vx_json_hex(uint64_t v);
/* json_string(s), shared by the events that have the same text at the
 * same address (names, modes, an instruction executed again): no copy
 * and no allocation then.  Events never change their values. */
json_t *vx_json_str(vmxsim *m, const char *s);
/* Free what events.c keeps from event to event (vmxsim_destroy). */
void vx_ev_fini(vmxsim *m);
/* Set member KEY, a string literal (so ASCII, its length known at compile
 * time), of an event: json_object_set_new without the strlen and the
 * UTF-8 check of the key. */
#define VX_EV_SET(ev, key, v) json_object_setn_new_nocheck((ev), "" key, sizeof(key) - 1, (v))

/* ---- loader.c ---- */
int vx_load_program(vmxsim *m, const char *spec);
int vx_load_module(vmxsim *m, const char *path, const char *string);

#endif
