#include "vmxsim.h"
int main(void) { return 0; }
