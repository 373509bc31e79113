"""A real SMTP server for Koerier's delivery tests and `koerier bench deliver`.

aiosmtpd on loopback that requires STARTTLS (with a certificate from the test PKI) before
it accepts mail, and writes each message it accepts to DIR as NNNNNN.eml (written, then
renamed, so a reader never sees half a file). Prints "PORT <n>" once it listens.
--reply CODE answers every RCPT with CODE (e.g. 450 or 550) to test retries and refusals.
--auth USER:PASSWORD requires SMTP AUTH (after STARTTLS) with exactly these credentials.
"""
import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, folder, reply):
        self.folder = folder
        self.reply = reply
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return f"{self.reply} test relay refuses this recipient"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not session.ssl:
            return "530 STARTTLS required"
        name = os.path.join(self.folder, f"{next(self.counter):06d}.eml")
        with open(name + ".part", "wb") as handle:
            handle.write(envelope.original_content)
        os.rename(name + ".part", name)
        return "250 Message accepted"


class Credentials:
    def __init__(self, pair):
        self.user, _, self.password = pair.partition(":")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)


class TLSController(Controller):
    def __init__(self, handler, context, credentials, **kwargs):
        self.tls = context
        self.credentials = credentials
        super().__init__(handler, **kwargs)

    def factory(self):
        if self.credentials:
            return SMTP(self.handler, require_starttls=True, tls_context=self.tls, auth_require_tls=True,
                        auth_required=True, authenticator=self.credentials)
        return SMTP(self.handler, require_starttls=True, tls_context=self.tls, auth_require_tls=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default="")
    parser.add_argument("--auth", default="")
    arguments = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(arguments.cert, arguments.key)
    os.makedirs(arguments.dir, exist_ok=True)
    port = arguments.port
    if port == 0:  # aiosmtpd's start-up check cannot use port 0: pick a free one
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    credentials = Credentials(arguments.auth) if arguments.auth else None
    controller = TLSController(Sink(arguments.dir, arguments.reply), context, credentials, hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()  # runs until the parent closes our stdin (or kills us)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
