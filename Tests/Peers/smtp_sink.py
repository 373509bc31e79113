"""A real SMTP server for Koerier's delivery tests, the walkthrough and the benches.

aiosmtpd on loopback that requires STARTTLS (with a certificate from the test PKI) before
it accepts mail, and writes each message it accepts to DIR as NNNNNN.eml (written, then
renamed, so a reader never sees half a file). It binds port 0 itself and prints
"PORT <n>" once it listens. Every MAIL and DATA command it sees, refused or not, is
appended to DIR/transcript.log, so a test can tell "nothing was sent" from "sent, refused".
--reply CODE answers every RCPT with CODE (e.g. 450 or 550) to test retries and refusals.
--auth USER:PASSWORD requires SMTP AUTH (after STARTTLS) with exactly these credentials.
--plain offers no STARTTLS at all (a relay a client must refuse to send clinical mail to).
Runs until its standard input closes.
"""
import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, folder, reply):
        self.folder = folder
        self.reply = reply
        self.counter = itertools.count(1)

    def note(self, line):
        with open(os.path.join(self.folder, "transcript.log"), "a") as handle:
            handle.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.note(f"MAIL tls={bool(session.ssl)}")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return f"{self.reply} test relay refuses this recipient"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.note(f"DATA tls={bool(session.ssl)}")
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
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False)


async def serve(arguments):
    handler = Sink(arguments.dir, arguments.reply)
    credentials = Credentials(arguments.auth) if arguments.auth else None
    if arguments.plain:
        def factory():
            return SMTP(handler, hostname="127.0.0.1")
    else:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(arguments.cert, arguments.key)
        options = dict(require_starttls=True, tls_context=context, auth_require_tls=True, hostname="127.0.0.1")
        if credentials:
            options.update(auth_required=True, authenticator=credentials)

        def factory():
            return SMTP(handler, **options)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    # Runs until the parent closes our standard input (or kills us).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--reply", default="")
    parser.add_argument("--auth", default="")
    parser.add_argument("--plain", action="store_true")
    arguments = parser.parse_args()
    if not arguments.plain and not (arguments.cert and arguments.key):
        parser.error("--cert and --key are required unless --plain")
    os.makedirs(arguments.dir, exist_ok=True)
    asyncio.run(serve(arguments))


if __name__ == "__main__":
    main()
