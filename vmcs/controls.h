/*
 * controls.h - bit positions VM entry and VM exit work with: the VMX
 * control fields (SDM Vol. 3C 25.6-25.8), the capability-MSR bits the
 * checks read (Vol. 3D Appendix A), the event and non-register-state
 * formats of the VMCS (25.4.2, 25.8.3), segment access rights (25.4.1),
 * and the CR0/CR4/EFER/RFLAGS bits the VM-entry checks name (Vol. 3A 2.5,
 * 2.2.1, 2.3).
 *
 * sim/insn.c and sim/vmx.c keep a few file-local CR and RFLAGS macros
 * (CR0_PE, RFLAGS_VM, ...); this header does not touch them and uses a
 * VX_ prefix so that it can be included next to them.
 *
 * Control bit positions cross-checked against Bochs cpu/vmx_ctrls.h and
 * VirtualBox include/VBox/vmm/hm_vmx.h (VMX_PIN_CTLS_*, VMX_PROC_CTLS*_,
 * VMX_EXIT_CTLS_*, VMX_ENTRY_CTLS_*), and vmcs/features.def, which names
 * the same bits for field existence.
 *
 * Masks are macros (a 1u << 31 does not fit an enumeration constant).
 */
#ifndef VX_CONTROLS_H
#define VX_CONTROLS_H

#include "../sim/x86.h"

/* ---- VMX capability MSRs (SDM Vol. 3D Appendix A) ------------------------ */
#define VX_MSR_VMX_BASIC            0x480u  /* A.1 */
#define VX_MSR_VMX_PINBASED_CTLS    0x481u  /* A.3.1 */
#define VX_MSR_VMX_PROCBASED_CTLS   0x482u  /* A.3.2 */
#define VX_MSR_VMX_EXIT_CTLS        0x483u  /* A.4.1 */
#define VX_MSR_VMX_ENTRY_CTLS       0x484u  /* A.5 */
#define VX_MSR_VMX_MISC             0x485u  /* A.6 */
#define VX_MSR_VMX_CR0_FIXED0       0x486u  /* A.7 */
#define VX_MSR_VMX_CR0_FIXED1       0x487u
#define VX_MSR_VMX_CR4_FIXED0       0x488u  /* A.8 */
#define VX_MSR_VMX_CR4_FIXED1       0x489u
#define VX_MSR_VMX_VMCS_ENUM        0x48Au  /* A.9 */
#define VX_MSR_VMX_PROCBASED_CTLS2  0x48Bu  /* A.3.3 */
#define VX_MSR_VMX_EPT_VPID_CAP     0x48Cu  /* A.10 */
#define VX_MSR_VMX_TRUE_PINBASED_CTLS  0x48Du
#define VX_MSR_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define VX_MSR_VMX_TRUE_EXIT_CTLS   0x48Fu
#define VX_MSR_VMX_TRUE_ENTRY_CTLS  0x490u
#define VX_MSR_VMX_VMFUNC           0x491u  /* A.11 */
#define VX_MSR_VMX_PROCBASED_CTLS3  0x492u  /* A.3.4 */
#define VX_MSR_VMX_EXIT_CTLS2       0x493u  /* A.4.2 */

/* IA32_VMX_BASIC (A.1). */
#define VX_BASIC_REVISION_MASK  0x7fffffffull
#define VX_BASIC_ADDR32_BIT     48  /* VMX structures below 4 GByte */
#define VX_BASIC_TRUE_CTLS_BIT  55  /* the TRUE_* control MSRs exist */
#define VX_BASIC_NO_EC_CHECK_BIT 56 /* any hardware exception, with or without error code */

/* IA32_VMX_MISC (A.6). */
#define VX_MISC_ACT_HLT_BIT      6
#define VX_MISC_ACT_SHUTDOWN_BIT 7
#define VX_MISC_ACT_SIPI_BIT     8
#define VX_MISC_CR3_TARGETS_SHIFT 16 /* bits 24:16 */
#define VX_MISC_CR3_TARGETS_MASK 0x1ffu
#define VX_MISC_INJECT_ILEN0_BIT 30

/* IA32_VMX_EPT_VPID_CAP (A.10); cap bit 23 also in VirtualBox
 * VMX_BF_EPT_VPID_CAP_SUPER_SHW_STACK. */
#define VX_EPTCAP_XONLY_BIT  0      /* execute-only translations */
#define VX_EPTCAP_WALK4_BIT  6
#define VX_EPTCAP_WALK5_BIT  7
#define VX_EPTCAP_UC_BIT     8
#define VX_EPTCAP_WB_BIT     14
#define VX_EPTCAP_2M_BIT     16     /* EPT PDEs may map 2-MByte pages */
#define VX_EPTCAP_1G_BIT     17     /* EPT PDPTEs may map 1-GByte pages */
#define VX_EPTCAP_AD_BIT     21
#define VX_EPTCAP_ADVINFO_BIT 22    /* advanced VM-exit information for EPT violations */
#define VX_EPTCAP_SSS_BIT    23

/* EPT pointer (25.6.11). */
#define VX_EPTP_MEMTYPE_MASK  0x7ull
#define VX_EPTP_WALK_SHIFT    3      /* bits 5:3, page-walk length - 1 */
#define VX_EPTP_AD            (1ull << 6)
#define VX_EPTP_SSS           (1ull << 7)  /* supervisor shadow-stack control */
#define VX_EPTP_RESERVED_LOW  0xf00ull     /* bits 11:8 */
#define VX_MEMTYPE_UC 0u
#define VX_MEMTYPE_WB 6u

/* ---- Pin-based VM-execution controls (25.6.1, Table 25-5) --------------- */
#define VX_PIN_EXT_INT_EXITING   (1u << 0)
#define VX_PIN_NMI_EXITING       (1u << 3)
#define VX_PIN_VIRTUAL_NMIS      (1u << 5)
#define VX_PIN_PREEMPTION_TIMER  (1u << 6)
#define VX_PIN_POSTED_INTR       (1u << 7)

/* ---- Primary processor-based controls (25.6.2, Table 25-6) -------------- */
#define VX_PROC_INTR_WINDOW      (1u << 2)
#define VX_PROC_TSC_OFFSET       (1u << 3)
#define VX_PROC_HLT_EXITING      (1u << 7)
#define VX_PROC_INVLPG_EXITING   (1u << 9)
#define VX_PROC_MWAIT_EXITING    (1u << 10)
#define VX_PROC_RDPMC_EXITING    (1u << 11)
#define VX_PROC_RDTSC_EXITING    (1u << 12)
#define VX_PROC_CR3_LOAD_EXITING (1u << 15)
#define VX_PROC_CR3_STORE_EXITING (1u << 16)
#define VX_PROC_TERTIARY         (1u << 17)
#define VX_PROC_CR8_LOAD_EXITING (1u << 19)
#define VX_PROC_CR8_STORE_EXITING (1u << 20)
#define VX_PROC_TPR_SHADOW       (1u << 21)
#define VX_PROC_NMI_WINDOW       (1u << 22)
#define VX_PROC_MOV_DR_EXITING   (1u << 23)
#define VX_PROC_UNCOND_IO        (1u << 24)
#define VX_PROC_IO_BITMAPS       (1u << 25)
#define VX_PROC_MTF              (1u << 27)
#define VX_PROC_MSR_BITMAPS      (1u << 28)
#define VX_PROC_MONITOR_EXITING  (1u << 29)
#define VX_PROC_PAUSE_EXITING    (1u << 30)
#define VX_PROC_SECONDARY        (1u << 31)

/* ---- Secondary processor-based controls (25.6.2, Table 25-7) ------------ */
#define VX_PROC2_VIRT_APIC_ACCESS (1u << 0)
#define VX_PROC2_EPT             (1u << 1)
#define VX_PROC2_DESC_TABLE      (1u << 2)
#define VX_PROC2_RDTSCP          (1u << 3)
#define VX_PROC2_X2APIC_MODE     (1u << 4)
#define VX_PROC2_VPID            (1u << 5)
#define VX_PROC2_WBINVD_EXITING  (1u << 6)
#define VX_PROC2_UNRESTRICTED    (1u << 7)
#define VX_PROC2_APIC_REG_VIRT   (1u << 8)
#define VX_PROC2_VID             (1u << 9)   /* virtual-interrupt delivery */
#define VX_PROC2_PLE             (1u << 10)
#define VX_PROC2_RDRAND_EXITING  (1u << 11)
#define VX_PROC2_INVPCID         (1u << 12)
#define VX_PROC2_VMFUNC          (1u << 13)
#define VX_PROC2_SHADOW_VMCS     (1u << 14)
#define VX_PROC2_ENCLS_EXITING   (1u << 15)
#define VX_PROC2_RDSEED_EXITING  (1u << 16)
#define VX_PROC2_PML             (1u << 17)
#define VX_PROC2_EPT_VE          (1u << 18)
#define VX_PROC2_PT_CONCEAL      (1u << 19)
#define VX_PROC2_XSAVES          (1u << 20)
#define VX_PROC2_PASID           (1u << 21)
#define VX_PROC2_MBEC            (1u << 22)  /* mode-based execute control for EPT */
#define VX_PROC2_SPP             (1u << 23)  /* sub-page write permissions for EPT */
#define VX_PROC2_PT_GPA          (1u << 24)
#define VX_PROC2_TSC_SCALING     (1u << 25)
#define VX_PROC2_UMWAIT          (1u << 26)
#define VX_PROC2_PCONFIG         (1u << 27)
#define VX_PROC2_ENCLV_EXITING   (1u << 28)
#define VX_PROC2_BUS_LOCK        (1u << 30)
#define VX_PROC2_NOTIFY          (1u << 31)  /* instruction timeout */

/* ---- Tertiary processor-based controls (25.6.2, Table 25-8; 64 bits) ---- */
#define VX_PROC3_LOADIWKEY       (1ull << 0)
#define VX_PROC3_HLAT            (1ull << 1)
#define VX_PROC3_EPT_PW          (1ull << 2)
#define VX_PROC3_GPV             (1ull << 3)
#define VX_PROC3_IPI_VIRT        (1ull << 4)
#define VX_PROC3_SPEC_CTRL       (1ull << 7)
#define VX_PROC3_APIC_TIMER      (1ull << 8)

/* VM-function controls (25.6.14). */
#define VX_VMFUNC_EPTP_SWITCHING (1ull << 0)

/* ---- Primary VM-exit controls (25.7.1, Table 25-13) --------------------- */
#define VX_EXIT_CTL_SAVE_DEBUG       (1u << 2)
#define VX_EXIT_CTL_HOST_ADDR_SPACE  (1u << 9)   /* "host address-space size" */
#define VX_EXIT_CTL_LOAD_PERF_GLOBAL (1u << 12)
#define VX_EXIT_CTL_ACK_INTR         (1u << 15)
#define VX_EXIT_CTL_SAVE_PAT         (1u << 18)
#define VX_EXIT_CTL_LOAD_PAT         (1u << 19)
#define VX_EXIT_CTL_SAVE_EFER        (1u << 20)
#define VX_EXIT_CTL_LOAD_EFER        (1u << 21)
#define VX_EXIT_CTL_SAVE_PREEMPT     (1u << 22)
#define VX_EXIT_CTL_CLEAR_BNDCFGS    (1u << 23)
#define VX_EXIT_CTL_PT_CONCEAL       (1u << 24)
#define VX_EXIT_CTL_CLEAR_RTIT       (1u << 25)
#define VX_EXIT_CTL_CLEAR_LBR        (1u << 26)
#define VX_EXIT_CTL_CLEAR_UINV       (1u << 27)
#define VX_EXIT_CTL_LOAD_CET         (1u << 28)
#define VX_EXIT_CTL_LOAD_PKRS        (1u << 29)
#define VX_EXIT_CTL_SAVE_PERF_GLOBAL (1u << 30)
#define VX_EXIT_CTL_SECONDARY        (1u << 31)

/* ---- VM-entry controls (25.8.1, Table 25-15) ----------------------------- */
#define VX_ENTRY_CTL_LOAD_DEBUG       (1u << 2)
#define VX_ENTRY_CTL_IA32E_GUEST      (1u << 9)
#define VX_ENTRY_CTL_ENTRY_SMM        (1u << 10)
#define VX_ENTRY_CTL_DEACT_DUAL       (1u << 11)
#define VX_ENTRY_CTL_LOAD_PERF_GLOBAL (1u << 13)
#define VX_ENTRY_CTL_LOAD_PAT         (1u << 14)
#define VX_ENTRY_CTL_LOAD_EFER        (1u << 15)
#define VX_ENTRY_CTL_LOAD_BNDCFGS     (1u << 16)
#define VX_ENTRY_CTL_PT_CONCEAL       (1u << 17)
#define VX_ENTRY_CTL_LOAD_RTIT        (1u << 18)
#define VX_ENTRY_CTL_LOAD_UINV        (1u << 19)
#define VX_ENTRY_CTL_LOAD_CET         (1u << 20)
#define VX_ENTRY_CTL_LOAD_LBR         (1u << 21)
#define VX_ENTRY_CTL_LOAD_PKRS        (1u << 22)
#define VX_ENTRY_CTL_LOAD_FRED        (1u << 23)

/* ---- Event injection: VM-entry interruption information (25.8.3) -------- */
#define VX_INTR_INFO_VECTOR_MASK  0xffu
#define VX_INTR_INFO_TYPE_SHIFT   8      /* bits 10:8 */
#define VX_INTR_INFO_TYPE_MASK    0x7u
#define VX_INTR_INFO_DELIVER_EC   (1u << 11)
#define VX_INTR_INFO_RESERVED     0x7ffff000u  /* bits 30:12 */
#define VX_INTR_INFO_VALID        (1u << 31)
#define VX_INTR_INFO_NMI_UNBLOCKING (1u << 12)  /* VM-exit interruption info */
#define VX_INTR_INFO_VECTOR(x)    ((x) & VX_INTR_INFO_VECTOR_MASK)
#define VX_INTR_INFO_TYPE(x)      (((x) >> VX_INTR_INFO_TYPE_SHIFT) & VX_INTR_INFO_TYPE_MASK)
/* Interruption types (Table 25-17). */
#define VX_INTR_TYPE_EXT_INT      0u
#define VX_INTR_TYPE_RESERVED     1u
#define VX_INTR_TYPE_NMI          2u
#define VX_INTR_TYPE_HW_XCPT      3u
#define VX_INTR_TYPE_SW_INT       4u
#define VX_INTR_TYPE_PRIV_SW_XCPT 5u
#define VX_INTR_TYPE_SW_XCPT      6u
#define VX_INTR_TYPE_OTHER        7u   /* vector 0: pending MTF VM exit */
#define VX_INTR_NMI_VECTOR        2u
/* Exceptions that deliver an error code: #DF 8, #TS 10, #NP 11, #SS 12,
 * #GP 13, #PF 14, #AC 17 (27.2.1.3; Vol. 3A 6.15). */
#define VX_XCPT_WITH_ERROR_CODE   0x00027d00u
/* Hardware exceptions injectable into the HLT state: #DB 1, #MC 18; into
 * the shutdown state: #MC 18 (27.3.1.5). */
#define VX_XCPT_ALLOWED_IN_HLT    0x00040002u
#define VX_XCPT_ALLOWED_IN_SHUTDOWN 0x00040000u

/* ---- Guest non-register state (25.4.2) ---------------------------------- */
#define VX_INTR_BLOCK_STI      (1u << 0)
#define VX_INTR_BLOCK_MOV_SS   (1u << 1)
#define VX_INTR_BLOCK_SMI      (1u << 2)
#define VX_INTR_BLOCK_NMI      (1u << 3)
#define VX_INTR_ENCLAVE        (1u << 4)
#define VX_INTR_STATE_RESERVED 0xffffffe0u  /* bits 31:5 */

#define VX_ACTIVITY_ACTIVE    0u
#define VX_ACTIVITY_HLT       1u
#define VX_ACTIVITY_SHUTDOWN  2u
#define VX_ACTIVITY_WAIT_SIPI 3u

/* Pending debug exceptions (Table 25-4). */
#define VX_PENDING_DBG_B0_B3      0xfull
#define VX_PENDING_DBG_ENABLED_BP (1ull << 12)
#define VX_PENDING_DBG_BS         (1ull << 14)
#define VX_PENDING_DBG_RTM        (1ull << 16)
#define VX_PENDING_DBG_VALID      (VX_PENDING_DBG_B0_B3 | VX_PENDING_DBG_ENABLED_BP | \
                                   VX_PENDING_DBG_BS | VX_PENDING_DBG_RTM)

/* VM-entry failure exit qualifications (27.8). */
#define VX_ENTRY_QUAL_DEFAULT   0u
#define VX_ENTRY_QUAL_PDPTE     2u
#define VX_ENTRY_QUAL_NMI_STI   3u  /* NMI injection while blocking by STI */
#define VX_ENTRY_QUAL_VMCS_LINK 4u

/* ---- Segment access rights in the VMCS (25.4.1, Table 25-2) ------------- */
#define VX_AR_TYPE_MASK   0xfu
#define VX_AR_S           (1u << 4)
#define VX_AR_DPL_SHIFT   5
#define VX_AR_DPL_MASK    (3u << 5)
#define VX_AR_P           (1u << 7)
#define VX_AR_RSVD_11_8   0x00000f00u
#define VX_AR_AVL         (1u << 12)
#define VX_AR_L           (1u << 13)
#define VX_AR_DB          (1u << 14)
#define VX_AR_G           (1u << 15)
#define VX_AR_UNUSABLE    (1u << 16)
#define VX_AR_RSVD_31_17  0xfffe0000u
/* The access-rights value of every segment in virtual-8086 mode (27.3.1.2). */
#define VX_AR_V86         0xf3u
/* Segment types (Vol. 3A 3.4.5.1, 3.5). */
#define VX_SEG_TYPE_ACCESSED  0x1u
#define VX_SEG_TYPE_RW        0x2u   /* data: writable; code: readable */
#define VX_SEG_TYPE_CONFORMING 0x4u  /* code; expand-down for data */
#define VX_SEG_TYPE_CODE      0x8u
#define VX_SEG_TYPE_LDT       0x2u   /* system types (S = 0) */
#define VX_SEG_TYPE_TSS16_BUSY 0x3u
#define VX_SEG_TYPE_TSS_BUSY  0xbu   /* 32-bit busy TSS; 64-bit busy in IA-32e mode */
#define VX_SEL_RPL_MASK       0x3u
#define VX_SEL_TI             0x4u

/* ---- Control registers, EFER, RFLAGS: sim/x86.h; DEBUGCTL here */
#define VX_DEBUGCTL_BTF    (1ull << 1)
/* PAE page-directory-pointer-table entry (Vol. 3A 4.4.1, Table 4-8): P and
 * the reserved bits 2:1 and 8:5 (bits M and above are reserved too). */
#define VX_PDPTE_P         (1ull << 0)
#define VX_PDPTE_RESERVED_LOW 0x1e6ull

/* Exit reason: basic reason 15:0, VM-entry failure 31 (Table 25-18). */
#define VX_EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* VMX-abort indicators (28.7). */
enum { VX_ABORT_SAVE_GUEST_MSR = 1, VX_ABORT_HOST_PDPTE = 2, VX_ABORT_VMCS_CORRUPT = 3,
       VX_ABORT_LOAD_HOST_MSR = 4, VX_ABORT_MACHINE_CHECK = 5, VX_ABORT_HOST_NOT_LONG = 6 };

/* CR0 bits that VM entry and VM exit never change: ET, NW, CD, the
 * reserved bits 15:6, 17, 28:19 and 63:32 (27.3.2.1, 28.5.1). */
#define VX_CR0_UNCHANGED_BY_VMX (0xFFFFFFFF00000000ull | CR0_ET | CR0_NW | CR0_CD | \
                                 0x1FF80000ull | (1ull << 17) | 0xFFC0ull)

#endif
