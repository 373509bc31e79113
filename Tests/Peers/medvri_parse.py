#!/usr/bin/env python3
"""pydifact 0.2.3, an independent EDIFACT parser, reading a MEDVRI interchange:
medvri_parse.py FILE CHARSET (UNOA or UNOC). Its tokenizer takes no counter on a tag, so
`TXT:n+` becomes `TXT+` first (at line starts only, where segments begin); the counters
are reported beside the segments. Prints {"segments": [{tag, elements}], "counters": [n]}."""
import warnings

warnings.simplefilter("ignore")  # pydifact has no directory for the Dutch dialect: no XML checks
import json, re, sys
from pydifact.parser import Parser
data = open(sys.argv[1], 'rb').read()
text = data.decode('latin-1' if sys.argv[2] == 'UNOC' else 'ascii')
counters = []
def untag(match):
    counters.append(int(match.group(1)))
    return 'TXT+'
text = re.sub(r'(?m)^TXT:(\d+)\+', untag, text)
segments = [
    {'tag': s.tag, 'elements': [[e] if isinstance(e, str) else list(e) for e in s.elements]}
    for s in Parser().parse(text)
]
print(json.dumps({'segments': segments, 'counters': counters}))
