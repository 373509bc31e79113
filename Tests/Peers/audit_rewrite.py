"""Rewrites a Koerier audit log the way someone with the database file would, then
recomputes the chain so that it is consistent again (Python's sqlite3, hashlib, hmac).

  audit_rewrite.py DATABASE SEQUENCE NEW_OUTCOME plain|KEYFILE

Entry SEQUENCE gets NEW_OUTCOME; every hash from there on is recomputed, with plain
SHA-256 (someone without the chain's key) or HMAC-SHA256 under the key in KEYFILE (someone
who stole it), and the head row follows.
"""
import base64
import hashlib
import hmac
import sqlite3
import sys

path, target, outcome, scheme = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
key = None if scheme == "plain" else base64.b64decode(open(scheme).read().strip())


def digest(fields):
    data = "\x1f".join(fields).encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest() if key else hashlib.sha256(data).hexdigest()


def number(value):
    text = repr(float(value))
    return text


db = sqlite3.connect(path)
db.execute("DROP TRIGGER IF EXISTS audit_no_update")
db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
rows = db.execute(
    "SELECT sequence, at, kind, actor, on_behalf_of, client_ref, message_id, access_point, outcome FROM audit ORDER BY sequence"
).fetchall()
previous = "0" * 64
for sequence, at, kind, actor, behalf, client, message, access, old in rows:
    if sequence == target:
        old = outcome
    fields = [previous, str(sequence), number(at), kind, actor, behalf or "", client or "", message or "", access, old]
    new = digest(fields)
    db.execute("UPDATE audit SET outcome = ?, previous_hash = ?, hash = ? WHERE sequence = ?", (old, previous, new, sequence))
    previous = new
db.execute("UPDATE audit_head SET last_hash = ? WHERE id = 1", (previous,))
db.commit()
print(f"rewrote {len(rows)} entries")
