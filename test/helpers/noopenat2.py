# Runs argv[1:] with openat2 (syscall 437 on x86_64 and aarch64) failing with ENOSYS, as on kernels
# before 5.6 or under container seccomp profiles that predate it.
import ctypes, os, platform, struct, sys
if platform.machine() not in ('x86_64', 'aarch64'):
    sys.exit('noopenat2.py: openat2 is syscall 437 only where checked (x86_64, aarch64)')
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, ENOSYS, NR_OPENAT2 = 0x7FFF0000, 0x00050000, 38, 437
insns = [(BPF_LD_W_ABS, 0, 0, 0), (BPF_JEQ_K, 0, 1, NR_OPENAT2), (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS), (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
buf = ctypes.create_string_buffer(b''.join(struct.pack('HBBI', *i) for i in insns))
class Prog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
prog = Prog(len(insns), ctypes.cast(buf, ctypes.c_void_p))
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit('seccomp: ' + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
