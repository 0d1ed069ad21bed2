/* paging.c: being written. */
typedef int vx_paging_placeholder;
