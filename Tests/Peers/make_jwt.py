#!/usr/bin/env python3
"""Signs a bearer JWT as a FHIR client (ZorgDomein) would, with PyJWT (an independent
implementation): make_jwt.py KEY.pem ISSUER AUDIENCE [--expires-in SECONDS] [--alg ES256]
[--not-before-in SECONDS] [--none]. Prints the token."""
import argparse
import base64
import json
import time

import jwt


def unsigned(claims):
    """alg none: what an attacker would send (PyJWT refuses to make one on purpose)."""
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return part({"alg": "none", "typ": "JWT"}) + "." + part(claims) + "."


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("key")
    parser.add_argument("issuer")
    parser.add_argument("audience")
    parser.add_argument("--expires-in", type=int, default=300)
    parser.add_argument("--not-before-in", type=int)
    parser.add_argument("--alg", default="ES256")
    parser.add_argument("--none", action="store_true")
    arguments = parser.parse_args()
    now = int(time.time())
    claims = {"iss": arguments.issuer, "aud": arguments.audience, "iat": now, "exp": now + arguments.expires_in}
    if arguments.not_before_in is not None:
        claims["nbf"] = now + arguments.not_before_in
    if arguments.none:
        print(unsigned(claims))
        return
    with open(arguments.key, encoding="ascii") as handle:
        print(jwt.encode(claims, handle.read(), algorithm=arguments.alg))


if __name__ == "__main__":
    main()
