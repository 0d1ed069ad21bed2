/* vmx.c - VMX instructions (being written). */
#include "machine.h"
vx_action vx_exec_vmx(vmxsim *m, const vx_insn *in)
{
    vx_not_modelled(m, "%s", in->text);
    return VX_STOP;
}
