/* vmx.c: being written (core skeleton). */
#include "machine.h"
