"""Hostile and greedy intake clients for the listener-limit tests (Python's ssl module as an
independent TLS client). Prints one line saying how the connection ended.

  slow_client.py MODE HOST PORT CA CERT KEY [SECONDS]

MODE:
  silent   TCP connect, send nothing              -> "closed after N s" | "still open"
  head     TLS, a request head one byte a second   -> "closed after N s" | "still open"
  body     TLS, a full head, then the body one byte a second
                                                  -> "status 408" | "closed after N s" | "still open"
  cap N    hold N TLS connections, then try one more (3 s to complete its handshake),
           close one of the N and try again (20 s) -> "extra refused; after one closed: ok"
"""
import socket
import ssl
import sys
import time


def context(ca, cert, key):
    tls = ssl.create_default_context(cafile=ca)
    tls.check_hostname = False
    tls.load_cert_chain(cert, key)
    return tls


def closed(sock, started, deadline, trickle=None):
    """Reads (and trickles a byte a second) until the server closes or the deadline."""
    sock.settimeout(1.0)
    received = b""
    while time.monotonic() - started < deadline:
        try:
            data = sock.recv(4096)
            if not data:
                return received, True
            received += data
        except (socket.timeout, ssl.SSLWantReadError):
            pass
        except (ConnectionError, ssl.SSLError, OSError):
            return received, True
        if trickle is not None:
            try:
                sock.sendall(trickle)
            except (ConnectionError, ssl.SSLError, OSError):
                return received, True
    return received, False


def main():
    mode, host, port, ca, cert, key = sys.argv[1:7]
    port = int(port)
    deadline = 40.0
    started = time.monotonic()
    if mode == "silent":
        sock = socket.create_connection((host, port))
        _, done = closed(sock, started, deadline)
        print(f"closed after {time.monotonic() - started:.1f} s" if done else "still open")
    elif mode in ("head", "body"):
        try:
            sock = context(ca, cert, key).wrap_socket(socket.create_connection((host, port)))
        except (ssl.SSLError, OSError) as error:
            print(f"handshake failed: {error}")
            return
        if mode == "head":
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: koerier\r\n")
            _, done = closed(sock, time.monotonic(), deadline, trickle=b"X")
            print(f"closed after {time.monotonic() - started:.1f} s" if done else "still open")
        else:
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: koerier\r\nContent-Length: 100000\r\n\r\n")
            received, done = closed(sock, time.monotonic(), deadline, trickle=b"<")
            if received.startswith(b"HTTP/1.1 408"):
                print("status 408")
            else:
                print(f"closed after {time.monotonic() - started:.1f} s" if done else "still open")
    elif mode == "cap":
        count = int(sys.argv[7])
        tls = context(ca, cert, key)
        held = [tls.wrap_socket(socket.create_connection((host, port))) for _ in range(count)]
        for sock in held:  # a completed handshake: the server accepted each
            sock.sendall(b"GET /v1/nothing HTTP/1.1\r\nHost: koerier\r\n\r\n")
            sock.recv(4096)

        def another(timeout):
            raw = socket.create_connection((host, port))
            raw.settimeout(timeout)
            try:
                extra = tls.wrap_socket(raw)
                extra.close()
                return True
            except (socket.timeout, ssl.SSLError, OSError):
                raw.close()
                return False

        first = another(3.0)
        held.pop().close()
        time.sleep(0.5)
        second = another(20.0)
        print(("extra refused" if not first else "extra accepted") + "; after one closed: " + ("ok" if second else "refused"))
    else:
        raise SystemExit(f"unknown mode {mode}")


main()
