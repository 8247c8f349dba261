#!/usr/bin/env python3
"""Writes the bad-input corpus: one JSON file per family of cases, read by BadInputTests.swift.

Run from anywhere: `python3 Tests/BadInputCorpus/generate.py`. The JSON files are committed; this
script is how they were made and how to grow them. Each case is

  {"name": ..., "method": "POST", "headers": [[name, value], ...], "body": text | "body_base64": ... |
   "body_repeat": {"prefix": p, "unit": u, "count": n, "separator": ",", "suffix": s, "total": bytes},
   "expect": status, "expect_nginx": status (when nginx answers before the binary), "row": {...}}

Header values may hold placeholders the test expands when it sends the case:
  {id}          a fresh svix id for this case          {now}, {now+N}, {now-N}   Unix seconds
  {sig}         a valid v1 signature (base64) over the id, timestamp and body actually sent
  {sig-other}   the same, made with a different secret  {repeat:TEXT:N}          TEXT N times
Bodies and rows may hold {uid} (a fresh Clerk user id, user_ + 24 hex digits), {uemail} (a fresh email address) and {repeat:TEXT:N}. In body_repeat,
{n} in the unit is the repetition's index, and "total" pads the unit to make the body that many bytes.
Missing "headers" means the three valid svix headers; missing body means a valid user.created.
"row" (200 cases): the name and email the user's row must end with. "sign_over": "webhook" signs over the
webhook-* header values instead of the svix-* ones the binary reads.
"""

import base64
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VALID_HEADERS = [["svix-id", "{id}"], ["svix-timestamp", "{now}"], ["svix-signature", "v1,{sig}"]]


def user(first="Ada", last="Lovelace", email="{uemail}", updated=1716883400000, extra="", uid='"{uid}"',
         type_="user.created", addresses=None, primary='"idn_1"'):
    if addresses is None:
        addresses = '[{"id":"idn_1","object":"email_address","email_address":%s}]' % json.dumps(email)
    return ('{"type":"%s","object":"event","data":{"id":%s,"object":"user","first_name":%s,"last_name":%s,'
            '"email_addresses":%s,"primary_email_address_id":%s,"updated_at":%s%s}}'
            % (type_, uid, json.dumps(first) if first is not None else "null",
               json.dumps(last) if last is not None else "null", addresses, primary, updated, extra))


VALID_BODY = user()


def case(name, expect, **fields):
    entry = {"name": name}
    entry.update(fields)
    entry["expect"] = expect
    return entry


def headers(**changes):
    """The valid trio with some headers replaced (value None removes it)."""
    out = []
    for name, value in VALID_HEADERS:
        key = name.replace("svix-", "").replace("-", "_")
        if key in changes:
            if changes[key] is not None:
                out.append([name, changes[key]])
        else:
            out.append([name, value])
    return out


def header_cases():
    cases = []
    for key, valid in (("id", "{id}"), ("timestamp", "{now}"), ("signature", "v1,{sig}")):
        header = "svix-" + key
        cases += [
            case(f"{header} missing", 401, headers=headers(**{key: None})),
            case(f"{header} empty", 401, headers=headers(**{key: ""})),
            case(f"{header} only spaces", 401, headers=headers(**{key: "   "})),
            case(f"{header} 100 KB", 401, headers=headers(**{key: "{repeat:A:102400}"}), expect_nginx=400),
            case(f"{header} 9 KB", 401, headers=headers(**{key: "{repeat:7:9216}"}), expect_nginx=400),
            case(f"{header} 4 KB", 401, headers=headers(**{key: "{repeat:b:4096}"})),
            case(f"{header} non-ASCII", 401, headers=headers(**{key: valid + "é"})),
            case(f"{header} with a tab inside", 401, headers=headers(**{key: valid.replace(",", ",\t")
                                                                          if key == "signature" else valid + "\t1"})),
        ]
        # A repeated header: fcgiwrap hands the binary the first value when nginx 1.22 forwards it, and a
        # CGI environment merged per RFC 9110 holds "x, <valid>". Either way the binary verifies exactly
        # what it reads: the id is signed as read (so "x" is a valid id), the others are not.
        direct, nginx = {"id": (401, 200), "timestamp": (401, 401), "signature": (200, 401)}[key]
        cases.append(case(f"{header} repeated, a wrong value first", direct,
                          headers=headers(**{key: "x"}) + [[header, valid]], expect_nginx=nginx))
        # The unbranded Standard Webhooks header is used when the svix one is absent...
        cases.append(case(f"webhook-{key} instead of {header}", 200,
                          headers=headers(**{key: None}) + [["webhook-" + key, valid]]))
        # ...but a present svix header wins, so a wrong one is not rescued by a right twin.
        cases.append(case(f"wrong {header} beside a right webhook-{key}", 401, sign_over="webhook",
                          headers=headers(**{key: "v1,AAAA" if key == "signature" else "1" if key == "timestamp"
                                             else "msg_other"}) + [["webhook-" + key, valid]]))
    cases += [
        case("no headers at all", 401, headers=[]),
        case("only webhook-* headers", 200, headers=[["webhook-id", "{id}"], ["webhook-timestamp", "{now}"],
                                                     ["webhook-signature", "v1,{sig}"]]),
        case("headers in upper case", 200, headers=[["SVIX-ID", "{id}"], ["SVIX-TIMESTAMP", "{now}"],
                                                    ["SVIX-SIGNATURE", "v1,{sig}"]]),
        case("svix-id spaces around", 200, headers=headers(id=" {id} ")),
        case("svix-id of 1 KB, signed over it", 401, headers=headers(id="msg_{repeat:i:1020}")),
        case("svix-id of 255 bytes, signed over it", 200, headers=headers(id="msg_{repeat:i:251}")),
        case("svix-id with a space inside, signed over it", 401, headers=headers(id="msg a")),
    ]
    return cases


def signature_cases():
    wrong = [
        ("v1a entry only", "v1a,{sig}"), ("v2 entry only", "v2,{sig}"), ("V1 in capitals", "V1,{sig}"),
        ("no version", "{sig}"), ("version without comma", "v1{sig}"), ("v1 with empty signature", "v1,"),
        ("comma only", ","), ("v1 with space before signature", "v1, {sig}"),
        ("signature from another secret", "v1,{sig-other}"), ("secret pasted instead of a signature",
                                                              "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("43 characters", "v1,{repeat:A:43}"), ("45 characters", "v1,{repeat:A:45}"),
        ("44 characters, not the signature", "v1,{repeat:A:43}="), ("44 characters, bad base64", "v1,{repeat:*:44}"),
        ("44 characters, url-safe alphabet", "v1,{repeat:-:43}="), ("base64 of 31 bytes", "v1,{repeat:A:40}AAA="),
        ("base64 of 33 bytes", "v1,{repeat:A:44}"), ("hex instead of base64", "v1,{repeat:f:64}"),
        ("empty base64", "v1,===="), ("whitespace in base64", "v1,{repeat:A:20} {repeat:A:23}="),
        ("1000 wrong entries", "{repeat:v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= :1000}"),
        ("right signature, wrong version", "v0,{sig}"), ("right signature after v2", "v2,{sig}"),
        ("semicolon-separated", "v1;{sig}"), ("NUL-free control character", "v1,\u0001{sig}"),
        ("unicode lookalike comma", "v1\uff0c{sig}"), ("v1 twice, both wrong", "v1,{repeat:A:43}= v1,{repeat:B:43}="),
        ("100 KB of base64", "v1,{repeat:QUFB:25600}"),
    ]
    cases = []
    for name, value in wrong:
        extra = {"expect_nginx": 400} if "100 KB" in name or "1000 wrong" in name else {}
        cases.append(case("signature: " + name, 401, headers=headers(signature=value), **extra))
    right = [
        ("a wrong entry, then the right one", "v1,{repeat:A:43}= v1,{sig}"),
        ("the right one, then a wrong one", "v1,{sig} v1,{repeat:A:43}="),
        ("v2 then v1", "v2,{repeat:A:43}= v1,{sig}"),
        ("double spaces between entries", "v1,{repeat:A:43}=  v1,{sig}"),
    ]
    cases += [case("signature: " + name, 200, headers=headers(signature=value)) for name, value in right]
    return cases


def timestamp_cases():
    wrong = [
        ("non-numeric", "yesterday"), ("negative", "-{now}"), ("fractional", "{now}.5"), ("301 s old", "{now-301}"),
        ("301 s ahead", "{now+301}"), ("a day old", "{now-86400}"), ("far future", "99999999999"),
        ("zero", "0"), ("leading plus", "+{now}"), ("exponent", "1.7e9"), ("hex", "0x6553f100"),
        ("19 digits", "9999999999999999999"), ("40 digits", "{repeat:9:40}"), ("milliseconds", "{now}000"),
        ("ISO date", "2026-11-25T10:00:00Z"), ("Arabic-Indic digits", "١٧٠٠٠٠٠٠٠٠"), ("comma grouping", "1,700,000,000"),
        ("two timestamps", "{now} {now}"), ("empty after trimming", "\t"), ("a minus sign only", "-"),
        ("underscore grouping", "1_700_000_000"), ("leading zeros, years off", "000000001"),
    ]
    cases = [case("timestamp: " + name, 401, headers=headers(timestamp=value)) for name, value in wrong]
    cases += [
        case("timestamp: 299 s old", 200, headers=headers(timestamp="{now-299}")),
        case("timestamp: 299 s ahead", 200, headers=headers(timestamp="{now+299}")),
        case("timestamp: leading zero", 200, headers=headers(timestamp="0{now}")),
    ]
    return cases


def body_cases():
    cases = []
    not_json = [
        ("empty", ""), ("one space", " "), ("plain text", "hello"), ("form data", "type=user.created&id=1"),
        ("XML", "<event><type>user.created</type></event>"), ("truncated object", VALID_BODY[:-5]),
        ("trailing comma", '{"type":"user.created","data":{"id":"x",},}'), ("single quotes", "{'type':'user.created'}"),
        ("unquoted keys", "{type:1}"), ("trailing garbage", VALID_BODY + "x"), ("two objects", VALID_BODY + VALID_BODY),
        ("NaN", '{"type":"user.created","data":{"id":"{uid}","updated_at":NaN}}'),
        ("comment", '/* c */' + VALID_BODY), ("bad escape", '{"type":"user.\\q","data":{"id":"a"}}'),
        ("raw newline in string", '{"type":"user\ncreated","data":{"id":"a"}}'),
        ("raw control character in string", '{"type":"user\u0001created","data":{"id":"a"}}'),
        ("lone high surrogate escape", '{"type":"user.created","data":{"id":"\\ud800"}}'),
        ("lone low surrogate escape", '{"type":"user.created","data":{"id":"\\udc00x"}}'),
        ("unterminated string", '{"type":"user.created'), ("only a brace", "{"), ("leading zero number", '{"a":01}'),
        ("deeply nested objects (65)", '{"a":' * 65 + "1" + "}" * 65),
        ("nested beyond depth in data", '{"type":"user.created","data":' + '{"a":' * 70 + "1" + "}" * 70 + "}"),
        ("just null", "null"), ("just true", "true"), ("just a number", "42"), ("just a string", '"user.created"'),
        ("an array", "[" + VALID_BODY + "]"), ("empty array", "[]"), ("empty object", "{}"),
    ]
    for name, text in not_json:
        cases.append(case("body: " + name, 400, body=text))
    cases.append(case("body: deeply nested arrays (100,000)", 400, body="{repeat:[:100000}{repeat:]:100000}"))
    def named(raw):
        """A valid user.created whose first name holds the raw bytes: only they make it a 400."""
        prefix, suffix = user(first="@@").split("@@")
        return prefix.encode() + raw + suffix.encode()

    binary = [
        ("not UTF-8 (0xff bytes)", b"\xff\xfe\xfd"), ("UTF-16 JSON", VALID_BODY.encode("utf-16")),
        ("latin-1 name", named("Jos\u00e9".encode("latin-1"))), ("overlong UTF-8 slash", named(b"\xc0\xaf")),
        ("UTF-8 BOM", b"\xef\xbb\xbf" + VALID_BODY.encode()), ("NUL byte outside strings", b"{\x00}"),
        ("truncated UTF-8 sequence", named(b"\xe2\x82")), ("surrogate encoded as UTF-8", named(b"\xed\xa0\x80")),
        ("code point beyond U+10FFFF", named(b"\xf4\x90\x80\x80")), ("lone continuation byte", named(b"a\x80b")),
        ("random bytes", bytes(range(256))),
    ]
    for name, raw in binary:
        cases.append(case("body: " + name, 400, body_base64=base64.b64encode(raw).decode()))
    # Envelope shapes.
    envelope = [
        ("type missing", '{"data":{"id":"{uid}"}}'), ("type null", '{"type":null,"data":{"id":"{uid}"}}'),
        ("type a number", '{"type":1,"data":{"id":"{uid}"}}'), ("type empty", '{"type":"","data":{"id":"{uid}"}}'),
        ("type an object", '{"type":{},"data":{"id":"{uid}"}}'), ("type an array", '{"type":["user.created"],"data":{}}'),
        ("data missing", '{"type":"user.created"}'), ("data null", '{"type":"user.created","data":null}'),
        ("data a string", '{"type":"user.created","data":"{uid}"}'), ("data an array", '{"type":"user.created","data":[]}'),
        ("data a number", '{"type":"user.created","data":7}'), ("data true", '{"type":"user.created","data":true}'),
        ("data.id missing", '{"type":"user.created","data":{"updated_at":1}}'),
        ("data.id empty", user(uid='""')), ("data.id a number", user(uid="12345")), ("data.id null", user(uid="null")),
        ("data.id an object", user(uid="{}")), ("data.id with NUL", user(uid='"user_\\u0000x"')),
        ("updated_at missing", user(updated='0').replace(',"updated_at":0', "")),
        ("updated_at a string", user(updated='"1716883400000"')), ("updated_at fractional", user(updated="1716883400000.5")),
        ("updated_at exponent", user(updated="1.7e12")), ("updated_at null", user(updated="null")),
        ("updated_at beyond 64 bits", user(updated="99999999999999999999")),
        ("updated_at an object", user(updated="{}")),
        ("first_name a number", user(first=None).replace('"first_name":null', '"first_name":5')),
        ("last_name an object", user(last=None).replace('"last_name":null', '"last_name":{}')),
        ("email_addresses an object", user(addresses="{}")), ("email_addresses holds a string", user(addresses='["a@b"]')),
        ("email_address a number", user(addresses='[{"id":"idn_1","email_address":5}]')),
        ("primary_email_address_id a number", user(primary="5")),
        ("NUL in first name", user(first="Ada\u0000")), ("NUL in last name", user(last="\u0000")),
        ("NUL in email", user(email="a\u0000@example.com")), ("NUL in email id", user(addresses='[{"id":"idn_1\\u0000",'
                                                                                                '"email_address":"x@y"}]',
                                                                                                primary='"idn_1\\u0000"')),
        ("data.id of 1 KB", user(uid='"user_{repeat:x:1019}"')), ("data.id of 100 KB", user(uid='"{repeat:u:102400}"')),
        ("email of 321 bytes", user(email="{uid}{repeat:e:280}@example.com")),
        ("email of 100 KB", user(email="{repeat:e:102400}@example.com")),
        ("user.deleted with data an array", '{"type":"user.deleted","data":[]}'),
        ("user.deleted without id", '{"type":"user.deleted","data":{"deleted":true}}'),
        ("user.updated without updated_at", '{"type":"user.updated","data":{"id":"{uid}"}}'),
        ("session event without data.id", '{"type":"session.created","data":{"user_id":"{uid}"}}'),
    ]
    for name, text in envelope:
        cases.append(case("payload: " + name, 400, body=text))
    return cases


def accepted_cases():
    """Valid but unusual deliveries: 200 and the exact row."""
    names = [
        ("SQL-looking first name", "Robert'); DROP TABLE users;--", "Tables"),
        ("SQL comment name", "--", "/* */"), ("quote soup", "'\"`", "\\\\"),
        ("percent and underscore", "100%", "_x_"), ("dollar quoting", "$fn$", "$$"),
        ("unicode: accents", "Jos\u00e9", "Mu\u00f1oz"), ("unicode: CJK", "\u5c71\u7530", "\u592a\u90ce"),
        ("unicode: Arabic", "\u0645\u062d\u0645\u062f", "\u0639\u0644\u064a"),
        ("unicode: emoji", "\U0001F600", "\U0001F469\u200D\U0001F4BB"),
        ("unicode: combining marks", "e\u0301e\u0301", "Z\u0351\u036b"), ("unicode: RTL override", "\u202eabc", "x"),
        ("escaped unicode", "\\u00e9", "x"), ("HTML", "<script>alert(1)</script>", "&amp;"),
        ("newlines and tabs", "a\nb", "c\td"), ("backslashes", "C:\\\\", "\\\\n"),
    ]
    cases = []
    for name, first, last in names:
        body = user(first=first, last=last)
        expected_first = json.loads(json.dumps(first)) if "\\u" not in first else "\u00e9"
        if name == "escaped unicode":
            body = user(first="X", last=last).replace('"first_name":"X"', '"first_name":"\\u00e9"')
        if name == "backslashes":
            body = user(first="A", last="B").replace('"first_name":"A"', '"first_name":"C:\\\\"').replace(
                '"last_name":"B"', '"last_name":"\\\\n"')
            expected_first, last = "C:\\", "\\n"
        cases.append(case("accepted: " + name, 200, body=body,
                          row={"name": f"{expected_first} {last}".strip(), "email": "{uemail}"}))
    address = '{"id":"idn_{n}","email_address":"e{n}-{uid}@example.com"}'
    for primary, row in (("idn_9999", {"name": "Ada Lovelace", "email": "e9999-{uid}@example.com"}),
                         ("idn_missing", {"name": "Ada Lovelace"})):
        prefix, suffix = user(addresses="[@@]", primary=json.dumps(primary)).split("@@")
        cases.append(case(f"accepted: 10,000 email addresses, primary {primary}", 200, body_repeat={
            "prefix": prefix, "unit": address, "count": 10000, "separator": ",", "suffix": suffix}, row=row))
    cases.append(case("accepted: 100 KB first name", 200, body=user(first="{repeat:n:102400}", last=None),
                      row={"name": "{repeat:n:102400}", "email": "{uemail}"}))
    # {uid} is 29 bytes: 29 + 279 + 12 = 320.
    cases.append(case("accepted: 320-byte email address", 200, body=user(email="{uid}{repeat:e:279}@example.com"),
                      row={"name": "Ada Lovelace", "email": "{uid}{repeat:e:279}@example.com"}))
    cases.append(case("accepted: 300 KB of metadata", 200,
                      body=user().rstrip("}") + ',"public_metadata":{"blob":"{repeat:m:300000}"}}}',
                      row={"name": "Ada Lovelace", "email": "{uemail}"}))
    cases += [
        case("accepted: phone-only user", 200, body=user(first=None, last=None, addresses="[]", primary="null"),
             row={}),
        case("accepted: names of spaces only", 200, body=user(first="   ", last="\t"), row={"email": "{uemail}"}),
        case("accepted: unknown event type", 200, body='{"type":"organization.created","data":{"id":"org_1"}}'),
        case("accepted: user.deleted", 200, body='{"type":"user.deleted","data":{"id":"{uid}","deleted":true}}'),
        case("accepted: duplicate keys (last wins)", 200, body=user().replace('{"type":"user.created",',
                                                                              '{"type":"x","type":"user.created",'),
             row={"name": "Ada Lovelace", "email": "{uemail}"}),
        case("accepted: 1 MiB exactly is not too large", 200, body_repeat={
            "prefix": user().rstrip("}") + ',"pad":"', "unit": "p", "count": 0, "suffix": '"}}', "total": 1048576},
             row={"name": "Ada Lovelace", "email": "{uemail}"}),
    ]
    return cases


def protocol_cases():
    cases = [case(f"method {m}", 405, method=m) for m in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS")]
    cases.append(case("method HEAD", 405, method="HEAD", expect_nginx=405))
    cases.append(case("body one byte over 1 MiB", 413, body_repeat={
        "prefix": "", "unit": "x", "count": 1048577, "suffix": ""}))
    cases.append(case("body of 2 MiB", 413, body_repeat={"prefix": "", "unit": "xy", "count": 1048576, "suffix": ""}))
    return cases


FAMILIES = {
    "headers": header_cases, "signatures": signature_cases, "timestamps": timestamp_cases, "bodies": body_cases,
    "accepted": accepted_cases, "protocol": protocol_cases,
}

if __name__ == "__main__":
    total = 0
    for family, make in FAMILIES.items():
        cases = make()
        total += len(cases)
        with open(os.path.join(HERE, family + ".json"), "w", encoding="utf-8") as handle:
            json.dump(cases, handle, indent=1, ensure_ascii=True)
            handle.write("\n")
    print(f"{total} cases")
