/*
 * page_walks.c - page_walks in root operation (no VMX): pw_run() on the
 * program's own paging structures.
 */
#include "bench.h"

void pw_run(void);

int main(void)
{
    bench_check_params();
    pw_run();
    return 0;
}
