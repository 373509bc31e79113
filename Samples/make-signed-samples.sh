#!/usr/bin/env bash
# Regenerates Samples/signed/ and Samples/invalid/signed/ from the unsigned samples, with the
# TEST ONLY hierarchy in Samples/pki (made by `koerier pki init Samples/pki`). Uses koerier,
# xmlsec1 (for signatures koerier refuses to make: SHA-1, weak keys) and python3.
# Run from the repository root after `swift build`.
set -euo pipefail
koerier=${KOERIER:-.build/debug/koerier}
pki=Samples/pki
out=Samples/signed
bad=Samples/invalid/signed
mkdir -p "$out" "$bad"

sign() { # KEYNAME FILE OUT
  "$koerier" sign --key "$pki/$1.key" --cert "$pki/$1.pem" --chain "$pki/chain.pem" --out "$3" "$2"
}

# Valid: every kind, RSA and ECDSA, each signed by its sender.
sign centre Samples/return-letter-fase-2.xml "$out/return-letter-fase-2-rsa.xml"
sign centre-ec Samples/return-letter-afsluiting.xml "$out/return-letter-afsluiting-ecdsa.xml"
sign gp Samples/referral-huisarts.xml "$out/referral-huisarts-rsa.xml"
sign centre-ec Samples/participation-notice-werkgever.xml "$out/participation-notice-werkgever-ecdsa.xml"
sign centre Samples/receipt-rejected.xml "$out/receipt-rejected-rsa.xml"

# A signature template for xmlsec1 --sign, with the given methods.
template() { # SIGNATURE_METHOD DIGEST_METHOD FILE OUT
  python3 - "$@" <<'PY'
import sys
method, digest, source, target = sys.argv[1:5]
text = open(source, encoding="utf-8").read()
root_end = text.rindex("</")
signature = f'''<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="{method}"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="{digest}"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>'''
open(target, "w", encoding="utf-8").write(text[:root_end] + signature + text[root_end:])
PY
}
xmlsec_sign() { # KEYNAME TEMPLATE OUT
  xmlsec1 --sign --privkey-pem "$pki/$1.key,$pki/$1.pem,$pki/chain.pem" --output "$3" "$2"
}
rsa256=http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
sha256=http://www.w3.org/2001/04/xmlenc#sha256
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
letter=Samples/return-letter-fase-2.xml

# Made by xmlsec1 from a template: proves koerier verifies an independent implementation.
template "$rsa256" "$sha256" "$letter" "$tmp/t.xml" && xmlsec_sign centre "$tmp/t.xml" "$out/return-letter-fase-2-xmlsec1.xml"

# Hostile.
cp "$letter" "$bad/unsigned.xml"
sed 's/Herstellende; restklachten/Hersteld; geen klachten/' "$out/return-letter-fase-2-rsa.xml" > "$bad/tampered-text.xml"
python3 - "$out/return-letter-fase-2-rsa.xml" "$bad/bad-signature-value.xml" <<'PY'
import sys, re
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<SignatureValue>([^<]{10})", text)
flipped = m.group(1)[:5] + ("A" if m.group(1)[5] != "A" else "B") + m.group(1)[6:]
open(sys.argv[2], "w", encoding="utf-8").write(text[:m.start(1)] + flipped + text[m.end(1):])
PY
sed 's/<Reference URI="">/<Reference URI="#xpointer(\/*\/*[6])">/' "$out/return-letter-fase-2-rsa.xml" > "$bad/wrapped-reference.xml"
python3 - "$out/return-letter-fase-2-rsa.xml" "$bad/second-signature.xml" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("<Signature "); end = text.index("</Signature>") + len("</Signature>")
open(sys.argv[2], "w", encoding="utf-8").write(text[:end] + text[start:end] + text[end:])
PY
python3 - "$out/return-letter-fase-2-rsa.xml" "$bad/signature-inside-child.xml" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("<Signature "); end = text.index("</Signature>") + len("</Signature>")
signature = text[start:end]; text = text[:start] + text[end:]
at = text.index("</Soep>")
open(sys.argv[2], "w", encoding="utf-8").write(text[:at] + signature + text[at:])
PY
sed 's|<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>|&<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><XPath>1</XPath></Transform>|' "$out/return-letter-fase-2-rsa.xml" > "$bad/extra-transform.xml"
# koerier signs with an expired certificate: validity is checked when a signature is verified.
sign expired "$letter" "$bad/expired-certificate.xml"
"$koerier" sign --key "$pki/untrusted.key" --cert "$pki/untrusted.pem" --out "$bad/untrusted-ca.xml" "$letter"
template http://www.w3.org/2000/09/xmldsig#rsa-sha1 http://www.w3.org/2000/09/xmldsig#sha1 "$letter" "$tmp/t1.xml"
xmlsec_sign centre "$tmp/t1.xml" "$bad/sha1.xml"
template "$rsa256" "$sha256" "$letter" "$tmp/t2.xml" && xmlsec_sign weak "$tmp/t2.xml" "$bad/rsa-1024.xml"
template "$rsa256" "$sha256" "$letter" "$tmp/t3.xml" && xmlsec_sign no-signing "$tmp/t3.xml" "$bad/no-digital-signature-usage.xml"
sign gp "$letter" "$bad/sender-mismatch.xml"
sign revoked Samples/referral-huisarts.xml "$bad/revoked-certificate.xml"
echo "signed samples written to $out and $bad"
