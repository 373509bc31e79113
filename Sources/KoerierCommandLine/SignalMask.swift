import Foundation

/// A process started from a thread that blocks signals (Dispatch's worker threads do)
/// inherits that mask. Both executables start with none blocked on their main thread: the
/// daemon must receive SIGTERM, SIGHUP and SIGINT, and children it starts (peers, tools)
/// must be stoppable.
public enum SignalMask {
    public static func unblockAll() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
    }
}
