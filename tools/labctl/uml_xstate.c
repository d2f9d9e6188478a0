/*
 * Preloaded into linux.uml by tools/lab (labctl/xstate.py).
 *
 * User-Mode Linux saves and restores a guest process's FPU state with PTRACE_GETREGSET and
 * PTRACE_SETREGSET of NT_X86_XSTATE, in a buffer as large as the XSAVE state it knows (x87, SSE,
 * AVX, AVX-512: 2696 bytes). A host kernel takes PTRACE_SETREGSET only with its whole XSAVE size,
 * which on a CPU with AMX includes the tile state (about 11 KB), and refuses the shorter buffer with
 * EFAULT: Debian 12's UML then panics at boot ("ptrace set fp regs failed, errno = 14").
 *
 * This wrapper gives such a SETREGSET the whole buffer: the target's current state, read first,
 * with UML's part laid over it. The components UML does not know (AMX, which no guest process can
 * enable) keep the values they have. Every other ptrace call passes through unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NT_X86_XSTATE_NOTE 0x202
#define WHOLE_XSTATE_MAX 65536

typedef long (*ptrace_call)(enum __ptrace_request, pid_t, void *, void *);

long ptrace(enum __ptrace_request request, ...)
{
    static ptrace_call real;
    static __thread unsigned char whole[WHOLE_XSTATE_MAX] __attribute__((aligned(64)));
    va_list args;

    va_start(args, request);
    pid_t pid = va_arg(args, pid_t);
    void *addr = va_arg(args, void *);
    void *data = va_arg(args, void *);
    va_end(args);
    if (!real)
        real = (ptrace_call)dlsym(RTLD_NEXT, "ptrace");
    if (request == PTRACE_SETREGSET && (long)addr == NT_X86_XSTATE_NOTE && data) {
        struct iovec *given = data;
        struct iovec full = {whole, sizeof(whole)};

        if (real(PTRACE_GETREGSET, pid, addr, &full) == 0 && full.iov_len > given->iov_len) {
            memcpy(whole, given->iov_base, given->iov_len);
            return real(PTRACE_SETREGSET, pid, addr, &full);
        }
    }
    return real(request, pid, addr, data);
}
