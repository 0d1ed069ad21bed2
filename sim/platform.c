/*
 * platform.c - the I/O ports of the modelled PC (docs/platform.md):
 *   0xE9         Bochs port_e9_hack / QEMU isa-debugcon: bytes to the console
 *   0x3F8-0x3FF  COM1, a 16550 UART as far as a polling transmitter needs
 *   0x8900       Bochs shutdown port: the string "Shutdown" ends the run
 *   0xF4         QEMU isa-debug-exit: writing V ends the run, status (V<<1)|1
 * Any other port reads as all ones and ignores writes, as an unused ISA
 * port does; such accesses are traced as "io" events.
 */
#include <string.h>

#include "machine.h"

enum {
    PORT_E9 = 0xE9, PORT_COM1 = 0x3F8, PORT_SHUTDOWN = 0x8900,
    PORT_DEBUG_EXIT = 0xF4,
    /* 16550 register offsets and bits (PC16550D data sheet) */
    UART_LCR_DLAB = 0x80, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40,
};

/* Console text is written through at once; the trace gets one "console"
 * event per line (or per 200 bytes, or when the run ends). */
void vx_console_flush(vmxsim *m)
{
    if (!m->con_len) return;
    if (vx_ev_wanted(m, VMXSIM_EV_CONSOLE)) {
        json_t *ev = vx_ev_new(m, "console");
        json_object_set_new(ev, "port", vx_json_hex(m->con_port));
        json_object_set_new(ev, "text", json_stringn(m->con_line, (size_t)m->con_len));
        vx_ev_emit(m, VMXSIM_EV_CONSOLE, ev);
    }
    m->con_len = 0;
}

static void console_byte(vmxsim *m, uint16_t port, uint8_t c)
{
    fputc(c, m->console);
    if (c == '\n') fflush(m->console);
    if (m->con_len && m->con_port != port) vx_console_flush(m);
    m->con_port = port;
    /* JSON strings must be valid UTF-8: keep printable ASCII and common
     * controls, show other bytes as '?'. */
    m->con_line[m->con_len++] = (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) ? (char)c : '?';
    if (c == '\n' || m->con_len >= 200) vx_console_flush(m);
}

static uint32_t uart_in(vmxsim *m, unsigned reg)
{
    vx_uart *u = &m->uart;
    int dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case 0: return dlab ? u->dll : 0;          /* RBR: nothing ever received */
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return 0x01;                       /* IIR: no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return UART_LSR_THRE | UART_LSR_TEMT; /* always ready to send */
    case 6: return 0xB0;                       /* MSR: DCD, DSR, CTS */
    default: return u->scr;
    }
}

static void uart_out(vmxsim *m, unsigned reg, uint8_t v)
{
    vx_uart *u = &m->uart;
    int dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case 0:
        if (dlab) u->dll = v;
        else console_byte(m, PORT_COM1, v);
        break;
    case 1:
        if (dlab) u->dlm = v;
        else u->ier = v & 0x0F;
        break;
    case 2: break;                             /* FCR: FIFOs are not modelled */
    case 3: u->lcr = v; break;
    case 4: u->mcr = v & 0x1F; break;
    case 7: u->scr = v; break;
    default: break;                            /* LSR, MSR: read-only */
    }
}

static void shutdown_byte(vmxsim *m, uint8_t c)
{
    static const char magic[] = "Shutdown";
    if (c == (uint8_t)magic[m->shutdown_len]) {
        if (++m->shutdown_len == (int)strlen(magic)) {
            m->shutdown_len = 0;
            vx_end_run(m, VMXSIM_END_SHUTDOWN, VMXSIM_STATUS_OK, "\"Shutdown\" written to port 0x8900");
        }
    } else {
        m->shutdown_len = c == (uint8_t)magic[0] ? 1 : 0;
    }
}

static void trace_io(vmxsim *m, uint16_t port, int size, int out, uint32_t v)
{
    if (!vx_ev_wanted(m, VMXSIM_EV_IO)) return;
    json_t *ev = vx_ev_new(m, "io");
    VX_EV_SET(ev, "port", vx_json_hex(port));
    VX_EV_SET(ev, "size", json_integer(size));
    VX_EV_SET(ev, "direction", vx_json_str(m, out ? "out" : "in"));
    VX_EV_SET(ev, "value", vx_json_hex(v));
    vx_ev_emit(m, VMXSIM_EV_IO, ev);
}

uint32_t vx_port_in(vmxsim *m, uint16_t port, int size)
{
    uint32_t ones = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    uint32_t v;
    if (port == PORT_E9 && size == 1)
        v = 0xE9; /* the port_e9_hack reads back 0xE9 to announce itself */
    else if (port >= PORT_COM1 && port < PORT_COM1 + 8 && size == 1)
        v = uart_in(m, port - PORT_COM1);
    else
        v = ones;
    trace_io(m, port, size, 0, v);
    return v;
}

void vx_port_out(vmxsim *m, uint16_t port, int size, uint32_t v)
{
    if (port == PORT_E9) {
        console_byte(m, PORT_E9, (uint8_t)v);
        return;
    }
    if (port >= PORT_COM1 && port < PORT_COM1 + 8) {
        if (port == PORT_COM1 && !(m->uart.lcr & UART_LCR_DLAB)) {
            uart_out(m, 0, (uint8_t)v);
            return;
        }
        trace_io(m, port, size, 1, v);
        uart_out(m, port - PORT_COM1, (uint8_t)v);
        return;
    }
    trace_io(m, port, size, 1, v);
    if (port == PORT_SHUTDOWN) {
        shutdown_byte(m, (uint8_t)v);
    } else if (port == PORT_DEBUG_EXIT) {
        vx_end_run(m, VMXSIM_END_DEBUG_EXIT, (int)((v << 1) | 1),
                   "debug exit: 0x%x written to port 0xf4, exit status %u",
                   v, (v << 1) | 1);
    }
}
