#!/usr/bin/env bash
# Koerier end to end, on loopback, with the TEST ONLY PKI in Samples/pki:
#   a GP practice's gateway and the centre's gateway (two `koerier serve` instances with
#   mutual TLS between them) and an SMTP server (aiosmtpd, STARTTLS) standing in for the
#   client's employer. The story: the GP refers a client; the referral opens a trajectory
#   at the centre; intake, fase-1 and afsluiting are completed there, and each sends its
#   return letter to the GP (answered with a signed receipt) and a participation notice to
#   the employer. Halfway, the centre is killed with SIGKILL and restarted.
# Usage: Samples/demo/run-demo.sh   (DEMO_DIR=... keeps the run's files there: a new or empty
# folder; KOERIER=... picks the binary, default .build/release/koerier, built if missing)
# Each gateway listens on its own address in 127.0.0.0/8 (all loopback), chosen at random per
# run, so two runs or other programs on the usual ports do not collide, and no port is guessed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKI=$ROOT/Samples/pki
KOERIER=${KOERIER:-$ROOT/.build/release/koerier}
PYTHON=/usr/bin/python3   # Debian's, with python3-aiosmtpd (.ci/setup), whatever is first on PATH
WORK=${DEMO_DIR:-$(mktemp -d /tmp/koerier-demo.XXXXXX)}
mkdir -p "$WORK"
if [ -n "$(ls -A "$WORK")" ]; then echo "DEMO_DIR $WORK is not empty: give a new or empty folder" >&2; exit 2; fi
if [ ! -x "$KOERIER" ]; then (cd "$ROOT" && swift build -c release --product koerier >/dev/null); fi
KOERIER=$(realpath "$KOERIER")
cd "$WORK"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  exec 8>&- 9>&-   # the peers also stop when their standard input closes
}
trap cleanup EXIT

NET="127.$((RANDOM % 250 + 2)).$((RANDOM % 250 + 2))"
GP_HOST=$NET.2; CENTRE_HOST=$NET.3; PORT=8443; ADMIN=9090
cat "$PKI/arbo.pem" "$PKI/chain.pem" > relay-chain.pem

say "employer's mail server (aiosmtpd, STARTTLS required)"
mkfifo smtp.stdin 2>/dev/null || true
"$PYTHON" "$ROOT/Tests/Peers/smtp_sink.py" --cert relay-chain.pem --key "$PKI/arbo.key" --dir employer-mail < smtp.stdin > smtp.port &
pids+=($!)
exec 9> smtp.stdin   # the sink runs while this stays open
for _ in $(seq 50); do grep -q PORT smtp.port 2>/dev/null && break; sleep 0.1; done
SMTP_PORT=$(awk '/PORT/{print $2}' smtp.port)
echo "listening on 127.0.0.1:$SMTP_PORT"

common() { # $1 = instance, $2 = identity, $3 = its loopback address, $4/$5/$6 = more trust/delivery/serve fields
  cat <<YAML
test_mode: true
schemas: $ROOT/Schemas
samples: $ROOT/Samples
trust: {anchors: $PKI/ca.pem, crl: $PKI/crl.pem${4:-}}
store: {path: $1/koerier.sqlite, key_file: $1/payload.keys}
recipients: $1-recipients.yaml
identity: {key: $PKI/$2.key, certificate: $PKI/$2.pem, chain: $PKI/chain.pem}
delivery: {first_retry_seconds: 1, max_retry_seconds: 2, lease_seconds: 10, mail_from: koerier@centrum.test${5:-}}
serve: {listen: "$3:$PORT", admin: "$3:$ADMIN", inbox: $1/inbox, control_socket: $1/control.sock${6:-}}
YAML
}
common gp gp "$GP_HOST" > gp.yaml
# The centre also takes ZorgDomein-style FHIR referrals (bearer JWTs from the TEST ONLY
# issuer key), writes MEDVRI from its own EDI address, and takes signed consent documents.
common centre centre "$CENTRE_HOST" ", consent_signers: $PKI/centre-ec.pem" ', edi_address: "500045600"' \
  ", fhir: {base_url: \"https://koerier.centrum.test/fhir\", issuers: [{issuer: zorgdomein-test, audience: \"https://koerier.centrum.test/fhir\", key: $PKI/zorgdomein-jwt.pub.pem, client_certificate: $PKI/gp.pem}]}" > centre.yaml
cat > gp-recipients.yaml <<YAML
recipients:
  - {id: centrum-haaglanden, name: Stress en Burn-out Centrum Haaglanden, type: centrum, ura: "90000456",
     https: {url: "https://localhost:$PORT/v1/messages", address: $CENTRE_HOST, server_anchors: $PKI/ca.pem}}
YAML
cat > centre-recipients.yaml <<YAML
recipients:
  - {id: gp-de-linde, name: Huisartsenpraktijk De Linde, type: huisarts, agb: "01012345", ura: "90000123",
     https: {url: "https://localhost:$PORT/v1/messages", address: $GP_HOST, server_anchors: $PKI/ca.pem}}
  - {id: employer, name: "Gemeente Voorbeeldstad, afdeling HR", type: werkgever,
     smtp: {to: hr@voorbeeldstad.test, relay: 127.0.0.1, port: $SMTP_PORT, relay_anchors: $PKI/ca.pem, certificate: $PKI/employer-smime.pem}}
YAML

start() { # $1 = instance
  "$KOERIER" serve --config "$1.yaml" >> "$1.log" 2>&1 &
  echo $! > "$1.pid"
  pids+=($!)
  local admin; admin=$(grep -o 'admin: "[0-9.]*:[0-9]*' "$1.yaml" | cut -d'"' -f2)
  for _ in $(seq 100); do curl -sf "http://$admin/health" >/dev/null && return 0; sleep 0.1; done
  echo "$1 did not start:"; cat "$1.log"; exit 1
}
wait_for() { # $1 = description, $2 = command that must succeed
  for _ in $(seq 150); do if eval "$2" >/dev/null 2>&1; then echo "ok: $1"; return 0; fi; sleep 0.2; done
  echo "TIMEOUT waiting for: $1"; exit 1
}
acknowledged() { # $1 = instance, $2 = expected count of acknowledged records
  "$KOERIER" status --config "$1.yaml" --json | "$PYTHON" -c "import json,sys; s=json.load(sys.stdin); n=sum(r['count'] for r in s['outbound'] if r['state']=='acknowledged'); sys.exit(0 if n==$2 else 1)"
}
state_count() { # $1 = instance, $2 = state, $3 = expected count
  "$KOERIER" status --config "$1.yaml" --json | "$PYTHON" -c "import json,sys; s=json.load(sys.stdin); n=sum(r['count'] for r in s['outbound'] if r['state']=='$2'); sys.exit(0 if n==$3 else 1)"
}

say "two gateways: the GP practice ($GP_HOST:$PORT) and the centre ($CENTRE_HOST:$PORT)"
"$KOERIER" init --config gp.yaml; "$KOERIER" init --config centre.yaml
start gp; start centre

say "1. the GP refers a client: signed referral, sent by the GP's gateway over mutual TLS"
"$KOERIER" enqueue --config gp.yaml --to centrum-haaglanden "$ROOT/Samples/signed/referral-huisarts-rsa.xml"
wait_for "the centre's signed receipt acknowledges the referral at the GP" "acknowledged gp 1"
"$KOERIER" trajectory list --config centre.yaml

say "2. intake completed at the centre (CLI)"
"$KOERIER" phase complete 1 --phase intake --report "$ROOT/Samples/phase-reports/intake.json" --config centre.yaml
wait_for "the intake letter is acknowledged by the GP" "acknowledged centre 1"

say "3. fase-1 completed (control socket, as the ops user), and the centre is killed with SIGKILL at once"
curl -s --unix-socket centre/control.sock -H "Content-Type: application/json" -H "On-Behalf-Of: behandelaar" \
  -X POST --data-binary @"$ROOT/Samples/phase-reports/fase-1.json" "http://localhost/v1/trajectories/1/phases?phase=fase-1"
kill -9 "$(cat centre.pid)"; wait "$(cat centre.pid)" 2>/dev/null || true
echo "centre killed; restarting"
start centre
wait_for "after the restart the fase-1 letter is acknowledged too" "acknowledged centre 2"

say "4. completing fase-1 again sends nothing"
"$KOERIER" phase complete 1 --phase fase-1 --report "$ROOT/Samples/phase-reports/fase-1.json" --config centre.yaml || true

say "5. afsluiting completed (CLI)"
"$KOERIER" phase complete 1 --phase afsluiting --report "$ROOT/Samples/phase-reports/afsluiting.json" --config centre.yaml
wait_for "all three letters acknowledged by the GP" "acknowledged centre 3"
wait_for "three participation notices mailed to the employer" "state_count centre delivered 3"

say "6. a ZorgDomein-style referral: FHIR over mutual TLS with a bearer JWT; the letters go out as MEDVRI and FHIR"
# (Peers started from here on must not inherit the other peers' stdin writers, or those never see their end.)
"$PYTHON" "$ROOT/Tests/Peers/smtp_sink.py" --cert relay-chain.pem --key "$PKI/arbo.key" --dir gp-edi-mail < smtp.stdin > edi-smtp.port 9>&- &
pids+=($!)
for _ in $(seq 50); do grep -q PORT edi-smtp.port 2>/dev/null && break; sleep 0.1; done
EDI_SMTP_PORT=$(awk '/PORT/{print $2}' edi-smtp.port)
mkfifo fhir.stdin 2>/dev/null || true
cat "$PKI/arbo.pem" "$PKI/chain.pem" > arbo-chain.pem
"$PYTHON" "$ROOT/Tests/Peers/fhir_sink.py" --cert arbo-chain.pem --key "$PKI/arbo.key" --ca "$PKI/ca.pem" --dir arbo-fhir < fhir.stdin > fhir.port 9>&- &
pids+=($!)
exec 8> fhir.stdin
for _ in $(seq 50); do grep -q PORT fhir.port 2>/dev/null && break; sleep 0.1; done
FHIR_PORT=$(awk '/PORT/{print $2}' fhir.port)
cat "$PKI/gp.pem" "$PKI/chain.pem" > gp-smime.pem   # its S/MIME certificate with its intermediate; also its TLS client chain
echo "the practice now reads MEDVRI from its EDI mailbox (relay 127.0.0.1:$EDI_SMTP_PORT); the occupational physician takes FHIR (127.0.0.1:$FHIR_PORT)"
cat > centre-recipients.yaml <<YAML
recipients:
  - {id: gp-de-linde, name: Huisartsenpraktijk De Linde, type: huisarts, agb: "01012345", ura: "90000123",
     format: medvri, edi_address: "500067890",
     smtp: {to: 500067890@edi.zorgmail.test, relay: 127.0.0.1, port: $EDI_SMTP_PORT, relay_anchors: $PKI/ca.pem, certificate: gp-smime.pem}}
  - {id: arbo-voorbeeld, name: Arbodienst Voorbeeld, type: bedrijfsarts, ura: "90000789", format: fhir-stu3,
     https: {url: "https://localhost:$FHIR_PORT/fhir", address: 127.0.0.1, server_anchors: $PKI/ca.pem}}
  - {id: employer, name: "Gemeente Voorbeeldstad, afdeling HR", type: werkgever,
     smtp: {to: hr@voorbeeldstad.test, relay: 127.0.0.1, port: $SMTP_PORT, relay_anchors: $PKI/ca.pem, certificate: $PKI/employer-smime.pem}}
YAML
kill -HUP "$(cat centre.pid)"
wait_for "the centre reloaded its directory" "grep -q 'reloaded: configuration' centre.log"
TOKEN=$("$PYTHON" "$ROOT/Tests/Peers/make_jwt.py" "$PKI/zorgdomein-jwt.key" zorgdomein-test https://koerier.centrum.test/fhir)
curl -s --fail-with-body -o /dev/null -D zd-answer.txt --cacert "$PKI/ca.pem" --cert gp-smime.pem --key "$PKI/gp.key" \
  --connect-to "localhost:$PORT:$CENTRE_HOST:$PORT" -H "Content-Type: application/fhir+json; charset=UTF-8" \
  -H "Authorization: Bearer $TOKEN" --data-binary @"$ROOT/Samples/fhir/appointment-request.json" "https://localhost:$PORT/fhir/Bundle"
grep -i -E '^(HTTP|location)' zd-answer.txt
"$KOERIER" trajectory list --config centre.yaml
echo "the client's consent (signed by the record system) names the occupational physician for trajectory 2"
cat > consent-2.json <<JSON
{"document_id": "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b", "trajectory": 2, "replaces_version": 1, "recorded_on": "2026-11-20", "parties": ["arbo-voorbeeld"]}
JSON
openssl cms -sign -binary -outform DER -in consent-2.json -signer "$PKI/centre-ec.pem" -inkey "$PKI/centre-ec.key" \
  -certfile "$PKI/chain.pem" -out consent-2.p7s
"$KOERIER" consent import consent-2.json --signature consent-2.p7s --config centre.yaml
"$KOERIER" phase complete 2 --phase intake --report "$ROOT/Samples/phase-reports/intake.json" --config centre.yaml
wait_for "the MEDVRI letter is mailed to the practice's EDI mailbox" "ls gp-edi-mail/*.eml"
wait_for "the FHIR document is taken by the occupational physician's server" "ls arbo-fhir/*.json"
echo "the practice's mail, decrypted with its key, signature checked, read as EDIFACT:"
openssl cms -decrypt -in "$(ls gp-edi-mail/*.eml | head -1)" -recip "$PKI/gp.pem" -inkey "$PKI/gp.key" \
  | openssl cms -verify -CAfile "$PKI/ca.pem" 2>/dev/null \
  | "$PYTHON" -c '
import email, re, sys
entity = email.message_from_bytes(sys.stdin.buffer.read())
edi = next(part.get_payload(decode=True) for part in entity.walk() if part.get_content_type() == "application/edifact").decode("latin-1")
segments = [s.strip() for s in re.split(r"(?<!\?)\x27", edi) if s.strip()]
tags = [re.match(r"[A-Z]{3}", s).group(0) for s in segments]
unt = next(s for s in segments if s.startswith("UNT+"))
counted = tags.index("UNT") - tags.index("UNH") + 1
print("segments:", " ".join(t for i, t in enumerate(tags) if t != "TXT" or tags[i - 1] != "TXT"), "| TXT lines:", tags.count("TXT"))
print("UNT says", unt.split("+")[1], "segments; counted", counted, "->", "ok" if int(unt.split("+")[1]) == counted else "WRONG")
text = [re.sub(r"\?(.)", r"\1", s.split("+", 1)[1]) for s in segments if s.startswith("TXT")]
print("longest TXT line:", max(len(line) for line in text), "characters (70 at most)")'
echo "the occupational physician's FHIR server holds:"
"$PYTHON" -c '
import json, sys
bundle = json.load(open(sys.argv[1]))
composition = bundle["entry"][0]["resource"]
kinds = sorted({entry["resource"]["resourceType"] for entry in bundle["entry"]})
print(bundle["resourceType"], bundle["type"], "-", composition["title"], "- sections:", ", ".join(s["title"] for s in composition.get("section", [])))
print("resources:", ", ".join(kinds))' "$(ls arbo-fhir/*.json | head -1)"
exec 8>&-

say "the centre's queue"
"$KOERIER" status --config centre.yaml
"$KOERIER" trajectory show 1 --config centre.yaml
say "the GP's inbound queue (each letter once) and queue"
"$KOERIER" inbox --config gp.yaml
"$KOERIER" status --config gp.yaml

say "what the employer received (decrypted with the employer's key, signature checked)"
for mail in employer-mail/*.eml; do
  openssl cms -decrypt -in "$mail" -recip "$PKI/employer.pem" -inkey "$PKI/employer.key" \
    | openssl cms -verify -CAfile "$PKI/ca.pem" 2>/dev/null \
    | "$PYTHON" -c '
import email, re, sys
entity = email.message_from_bytes(sys.stdin.buffer.read())
xml = next(part.get_payload(decode=True) for part in entity.walk() if part.get_content_type() == "application/xml").decode()
root = re.search(r"<(\w+) xmlns", xml).group(1)
status = re.search(r"<Status>(\w+)</Status>", xml)
clinical = [word for word in ("<Soep", "<BSN", "<Icpc", "<Phase", "<Measurements") if word in xml]
print(root + ", status " + (status.group(1) if status else "-") + ", clinical elements: " + (", ".join(clinical) or "none"), end="")'
  echo "  ($(basename "$mail"), signature verified)"
done

say "stopping both gateways with SIGTERM (they drain and exit)"
for instance in gp centre; do kill -TERM "$(cat $instance.pid)"; done
for instance in gp centre; do wait "$(cat $instance.pid)" && echo "$instance stopped cleanly"; done
exec 9>&-
echo; echo "files of this run: $WORK"
