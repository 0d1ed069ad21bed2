/*
 * controls.h - bit positions of the VMX control fields and of the
 * guest non-register state (Intel SDM Vol. 3C 25.6-25.8 and 25.4.2),
 * and the VMX-abort indicators (28.7).  Cross-checked against Linux's
 * arch/x86/include/asm/vmx.h and Bochs cpu/vmx.h.
 */
#ifndef VX_CONTROLS_H
#define VX_CONTROLS_H

/* Pin-based VM-execution controls (Table 25-5). */
#define PIN_EXT_INTR_EXITING      (1u << 0)
#define PIN_NMI_EXITING           (1u << 3)
#define PIN_VIRTUAL_NMIS          (1u << 5)
#define PIN_PREEMPTION_TIMER      (1u << 6)
#define PIN_POSTED_INTR           (1u << 7)

/* Primary processor-based VM-execution controls (Table 25-6). */
#define PROC_INTR_WINDOW_EXITING  (1u << 2)
#define PROC_USE_TSC_OFFSETTING   (1u << 3)
#define PROC_HLT_EXITING          (1u << 7)
#define PROC_INVLPG_EXITING       (1u << 9)
#define PROC_MWAIT_EXITING        (1u << 10)
#define PROC_RDPMC_EXITING        (1u << 11)
#define PROC_RDTSC_EXITING        (1u << 12)
#define PROC_CR3_LOAD_EXITING     (1u << 15)
#define PROC_CR3_STORE_EXITING    (1u << 16)
#define PROC_TERTIARY_CONTROLS    (1u << 17)
#define PROC_CR8_LOAD_EXITING     (1u << 19)
#define PROC_CR8_STORE_EXITING    (1u << 20)
#define PROC_USE_TPR_SHADOW       (1u << 21)
#define PROC_NMI_WINDOW_EXITING   (1u << 22)
#define PROC_MOV_DR_EXITING       (1u << 23)
#define PROC_UNCOND_IO_EXITING    (1u << 24)
#define PROC_USE_IO_BITMAPS       (1u << 25)
#define PROC_MONITOR_TRAP_FLAG    (1u << 27)
#define PROC_USE_MSR_BITMAPS      (1u << 28)
#define PROC_MONITOR_EXITING      (1u << 29)
#define PROC_PAUSE_EXITING        (1u << 30)
#define PROC_SECONDARY_CONTROLS   (1u << 31)

/* Secondary processor-based VM-execution controls (Table 25-7). */
#define PROC2_VIRT_APIC_ACCESSES  (1u << 0)
#define PROC2_ENABLE_EPT          (1u << 1)
#define PROC2_DESC_TABLE_EXITING  (1u << 2)
#define PROC2_ENABLE_RDTSCP       (1u << 3)
#define PROC2_VIRT_X2APIC_MODE    (1u << 4)
#define PROC2_ENABLE_VPID         (1u << 5)
#define PROC2_WBINVD_EXITING      (1u << 6)
#define PROC2_UNRESTRICTED_GUEST  (1u << 7)
#define PROC2_APIC_REG_VIRT       (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY  (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING  (1u << 10)
#define PROC2_RDRAND_EXITING      (1u << 11)
#define PROC2_ENABLE_INVPCID      (1u << 12)
#define PROC2_ENABLE_VMFUNC       (1u << 13)
#define PROC2_VMCS_SHADOWING      (1u << 14)
#define PROC2_ENCLS_EXITING       (1u << 15)
#define PROC2_RDSEED_EXITING      (1u << 16)
#define PROC2_ENABLE_PML          (1u << 17)
#define PROC2_EPT_VE              (1u << 18)
#define PROC2_CONCEAL_VMX_FROM_PT (1u << 19)
#define PROC2_ENABLE_XSAVES       (1u << 20)
#define PROC2_MODE_BASED_EPT_EXEC (1u << 22)
#define PROC2_SUBPAGE_WRITE       (1u << 23)
#define PROC2_PT_USES_GPA         (1u << 24)
#define PROC2_TSC_SCALING         (1u << 25)
#define PROC2_USER_WAIT_PAUSE     (1u << 26)
#define PROC2_ENCLV_EXITING       (1u << 28)

/* Primary VM-exit controls (Table 25-13). */
#define EXIT_SAVE_DEBUG_CONTROLS  (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL     (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT     (1u << 15)
#define EXIT_SAVE_PAT             (1u << 18)
#define EXIT_LOAD_PAT             (1u << 19)
#define EXIT_SAVE_EFER            (1u << 20)
#define EXIT_LOAD_EFER            (1u << 21)
#define EXIT_SAVE_PREEMPT_TIMER   (1u << 22)
#define EXIT_CLEAR_BNDCFGS        (1u << 23)
#define EXIT_CONCEAL_VMX_FROM_PT  (1u << 24)
#define EXIT_CLEAR_RTIT_CTL       (1u << 25)
#define EXIT_LOAD_CET             (1u << 28)
#define EXIT_LOAD_PKRS            (1u << 29)

/* VM-entry controls (Table 25-15). */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST    (1u << 9)
#define ENTRY_TO_SMM              (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR  (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL    (1u << 13)
#define ENTRY_LOAD_PAT            (1u << 14)
#define ENTRY_LOAD_EFER           (1u << 15)
#define ENTRY_LOAD_BNDCFGS        (1u << 16)
#define ENTRY_CONCEAL_VMX_FROM_PT (1u << 17)
#define ENTRY_LOAD_RTIT_CTL       (1u << 18)
#define ENTRY_LOAD_CET            (1u << 20)
#define ENTRY_LOAD_PKRS           (1u << 22)

/* VM-entry interruption-information and VM-exit interruption-
 * information fields (Tables 25-17, 25-19): vector 7:0, type 10:8,
 * deliver error code 11, NMI unblocking due to IRET 12 (exit only),
 * valid 31. */
#define INTR_INFO_VECTOR(x)       ((x) & 0xFFu)
#define INTR_INFO_TYPE(x)         (((x) >> 8) & 7u)
#define INTR_INFO_DELIVER_CODE    (1u << 11)
#define INTR_INFO_NMI_UNBLOCKING  (1u << 12)
#define INTR_INFO_VALID           (1u << 31)
enum { INTR_TYPE_EXT_INTR = 0, INTR_TYPE_NMI = 2, INTR_TYPE_HW_EXCEPTION = 3,
       INTR_TYPE_SW_INTR = 4, INTR_TYPE_PRIV_SW_EXCEPTION = 5,
       INTR_TYPE_SW_EXCEPTION = 6, INTR_TYPE_OTHER = 7 };

/* Guest interruptibility state (Table 25-3). */
#define INTERRUPTIBILITY_STI      (1u << 0)
#define INTERRUPTIBILITY_MOV_SS   (1u << 1)
#define INTERRUPTIBILITY_SMI      (1u << 2)
#define INTERRUPTIBILITY_NMI      (1u << 3)
#define INTERRUPTIBILITY_ENCLAVE  (1u << 4)

/* Guest activity states (25.4.2). */
enum { ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2,
       ACTIVITY_WAIT_SIPI = 3 };

/* CR0 bits that VM entry and VM exit never change: ET, NW, CD, the
 * reserved bits 15:6, 17, 28:19 and 63:32 (27.3.2.1, 28.5.1). */
#define VMX_CR0_UNCHANGED (0xFFFFFFFF00000000ull | (1ull << 4) | (1ull << 29) | (1ull << 30) | \
                           0x1FF80000ull | (1ull << 17) | 0xFFC0ull)

/* Exit reason: basic reason 15:0, VM-entry failure 31 (Table 25-18). */
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* VMX-abort indicators (28.7). */
enum { VMX_ABORT_SAVE_GUEST_MSR = 1, VMX_ABORT_HOST_PDPTE = 2,
       VMX_ABORT_VMCS_CORRUPT = 3, VMX_ABORT_LOAD_HOST_MSR = 4,
       VMX_ABORT_MACHINE_CHECK = 5, VMX_ABORT_HOST_NOT_LONG = 6 };

#endif
