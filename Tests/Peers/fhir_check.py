#!/usr/bin/env python3
"""An independent check of FHIR STU3 JSON: fhir.resources (PyPI) validates each Bundle or
OperationOutcome against the STU3 models; as it does not check code values, this adds
checks of its own (gender and status codes, Bundle.type, Composition first and its
document type, identifier systems, the BSN's elfproef, references that resolve inside the
Bundle, whole-number scores). Prints one JSON object: {path: [problems]} (empty: none)."""
import json, sys
from fhir.resources.STU3.bundle import Bundle
from fhir.resources.STU3.operationoutcome import OperationOutcome

SYSTEMS = {
    "http://fhir.nl/fhir/NamingSystem/bsn", "http://fhir.nl/fhir/NamingSystem/agb-z",
    "http://fhir.nl/fhir/NamingSystem/ura", "http://fhir.nl/fhir/NamingSystem/big",
    "http://fhir.zorgdomein.nl/NamingSystem/zd-number", "urn:koerier:transaction-id", "urn:ietf:rfc:3986",
}
GENDERS = {"male", "female", "other", "unknown"}
STATUSES = {
    "Composition": {"preliminary", "final", "amended", "entered-in-error"},
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"},
    "ReferralRequest": {"draft", "active", "suspended", "cancelled", "completed", "entered-in-error", "unknown"},
}
ISSUE_TYPES = {"invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate", "not-found", "too-long",
    "code-invalid", "extension", "too-costly", "business-rule", "conflict", "incomplete", "transient",
    "lock-exhausted", "no-store", "exception", "timeout", "throttled", "informational"}
DOCUMENT_TYPES = {("http://zorgdomein.nl/terminology/code-system/document-type", c) for c in
    ("appointment-request", "referral-letter", "supplement", "cancellation")} | {("http://loinc.org", "11488-4")}

def elfproef(digits):
    if len(digits) != 9 or not digits.isdigit():
        return False
    return (sum((9 - i) * int(d) for i, d in enumerate(digits[:8])) - int(digits[8])) % 11 == 0

def walk(node, path, full_urls, errors):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "identifier":
                for identifier in value if isinstance(value, list) else [value]:
                    if identifier.get("system") not in SYSTEMS:
                        errors.append(f"{path}.identifier: unknown system {identifier.get('system')}")
            if key == "reference" and value not in full_urls:
                errors.append(f"{path}.reference does not resolve")
            walk(value, f"{path}.{key}", full_urls, errors)
    elif isinstance(node, list):
        for position, value in enumerate(node):
            walk(value, f"{path}[{position}]", full_urls, errors)

def check(obj):
    if obj.get("resourceType") == "OperationOutcome":
        OperationOutcome.model_validate(obj)
        return [f"issue code {i.get('code')}" for i in obj["issue"] if i.get("code") not in ISSUE_TYPES]
    Bundle.model_validate(obj)
    errors = []
    if obj.get("type") != "document":
        errors.append("Bundle.type is not document")
    entries = obj.get("entry") or []
    if not entries or entries[0]["resource"]["resourceType"] != "Composition":
        errors.append("the Composition is not the first entry")
    else:
        codings = entries[0]["resource"].get("type", {}).get("coding", [])
        if not any((c.get("system"), c.get("code")) in DOCUMENT_TYPES for c in codings):
            errors.append("Composition.type is not a known document type")
    full_urls = [e.get("fullUrl") for e in entries]
    if len(set(full_urls)) != len(full_urls):
        errors.append("duplicate fullUrl")
    for entry in entries:
        resource = entry["resource"]
        if resource["resourceType"] in STATUSES and resource.get("status") not in STATUSES[resource["resourceType"]]:
            errors.append(f"{resource['resourceType']}.status is not a status code")
        if resource["resourceType"] == "Patient":
            if resource.get("gender") not in GENDERS:
                errors.append("Patient.gender is not an administrative-gender code")
            bsns = [i.get("value", "") for i in resource.get("identifier", [])
                    if i.get("system") == "http://fhir.nl/fhir/NamingSystem/bsn"]
            if len(bsns) != 1 or not elfproef(bsns[0]):
                errors.append("Patient has no single BSN that passes the elfproef")
        if resource["resourceType"] == "Observation":
            quantities = [resource.get("valueQuantity")] + [c.get("valueQuantity") for c in resource.get("component", [])]
            if any(q is not None and not isinstance(q.get("value"), int) for q in quantities):
                errors.append("an Observation score is not a whole number")
    walk(obj, "Bundle", set(full_urls), errors)
    return errors

results = {}
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as handle:
            results[path] = check(json.load(handle))
    except Exception as exc:
        results[path] = [type(exc).__name__ + ": " + str(exc)[:1500]]
print(json.dumps(results))
