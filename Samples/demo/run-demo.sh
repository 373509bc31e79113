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
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
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

common() { # $1 = instance, $2 = identity, $3 = its loopback address
  cat <<YAML
test_mode: true
schemas: $ROOT/Schemas
samples: $ROOT/Samples
trust: {anchors: $PKI/ca.pem, crl: $PKI/crl.pem}
store: {path: $1/koerier.sqlite, key_file: $1/payload.keys}
recipients: $1-recipients.yaml
identity: {key: $PKI/$2.key, certificate: $PKI/$2.pem, chain: $PKI/chain.pem}
delivery: {first_retry_seconds: 1, max_retry_seconds: 2, lease_seconds: 10, mail_from: koerier@centrum.test}
serve: {listen: "$3:$PORT", admin: "$3:$ADMIN", inbox: $1/inbox, control_socket: $1/control.sock}
YAML
}
common gp gp "$GP_HOST" > gp.yaml
common centre centre "$CENTRE_HOST" > centre.yaml
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
