"""The `/me` documents of the differential test (seed-differential.py), as raw bytes: live-shaped
bodies and deliberately odd ones, each from a generator named for its kind. One seeded `rng` drives
them all: call `rng.seed(n)` first for a reproducible run."""
import json, random

rng = random.Random(158)


# ---------------------------------------------------------------- serializer (duplicates, raw tokens)
class Raw(str):
    """Emitted verbatim (a JSON token, or a quoted key/string with hand-written escapes)."""


class Obj(list):
    """An object as a list of (key, value) pairs: keys may repeat; a key may be Raw (quoted)."""


def enc(v, ea=True, sep=(",", ":")):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, (Obj, dict)):
        items = v if isinstance(v, Obj) else v.items()
        return "{" + sep[0].join((k if isinstance(k, Raw) else json.dumps(k, ensure_ascii=ea))
                                 + sep[1] + enc(x, ea, sep) for k, x in items) + "}"
    if isinstance(v, list):
        return "[" + sep[0].join(enc(x, ea, sep) for x in v) + "]"
    return json.dumps(v, ensure_ascii=ea)  # NaN / Infinity / -Infinity come out as such


def to_bytes(v):
    ea = rng.random() < 0.5
    sep = rng.choice([(",", ":"), (", ", ": "), (",\n  ", " : ")])
    return enc(v, ea, sep).encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- live-shaped bodies
ABSENT = object()
DOMAINS = ["mixpanel.com"] * 6 + ["eu.mixpanel.com"] * 4 + ["in.mixpanel.com"] * 2 + [
    None, None, "", "data-eu.mixpanel.com", "https://mixpanel.com", "MIXPANEL.COM", ABSENT]
FLAGS = [True] * 6 + [False] * 4 + [None, 1, 0, "true", "false", "", [], {}, ABSENT]
NAMES = ["Acme", "Globex", "Initech", "Café Ünïcode", "日本", "  ", "emoji 😀", ""]


def random_me(names=NAMES, domains=DOMAINS, max_projects=12, int_org_rate=0.85, rich=True):
    """A body shaped like the live API. `rich` adds what the pick never reads (roles, workspaces,
    a random user id, `has_workspaces`, `type`); seed-compare-autopick.py draws without it, with
    its own lists and rates, so that every body is one the seed's model takes."""
    org_ids = rng.sample([7, 9, 10, 99, 100, 1001, 1002, 123456, 5, 42], rng.randint(0, 5))
    orgs = {str(o): {"id": o, "name": rng.choice(names) + f" {o}"} for o in org_ids}
    if rich:
        for org in orgs.values():
            org["role"] = "admin"
    projects = {}
    for _ in range(rng.randint(0, max_projects)):
        pid = str(rng.choice([rng.randint(1, 99), rng.randint(100, 9999), rng.randint(10000, 9999999)]))
        org = rng.choice(org_ids) if org_ids and rng.random() < 0.9 else rng.choice([3, 11, 10])
        p = {"name": f"P{pid}", "organization_id": org if rng.random() < int_org_rate else str(org),
             "timezone": "US/Pacific"}
        for key, choices in (("domain", domains), ("is_demo", FLAGS), ("has_integrated", FLAGS)):
            v = rng.choice(choices)
            if v is not ABSENT:
                p[key] = v
        if not rich:
            projects[pid] = p
            continue
        if rng.random() < 0.2:
            p["has_workspaces"] = rng.choice([True, False, None])
        if rng.random() < 0.2:
            p["type"] = rng.choice(["PROJECT", "ROLLUP", 1, None])
        projects[pid] = p
    if not rich:
        return {"user_id": 1, "user_email": "a@example.com", "organizations": orgs, "projects": projects}
    body = {"user_id": rng.randint(1, 10**6), "user_email": "a@example.com", "user_name": "Ada",
            "organizations": orgs, "projects": projects}
    if rng.random() < 0.3:
        body["workspaces"] = {str(w): {"id": w, "name": "Default", "project_id": int(pid), "is_default": True}
                              for w, pid in zip(range(900, 905), projects)}
    return body


def integrated_us(pids, org=7, domain="mixpanel.com"):
    return {pid: {"name": f"P{pid}", "organization_id": org, "domain": domain,
                  "is_demo": False, "has_integrated": True} for pid in pids}


def wrapped(body):
    return {"status": "ok", "results": body} if rng.random() < 0.4 else body


def some_project(body):
    return rng.choice(list(body["projects"].values())) if body["projects"] else None


def ensure_projects(body, k=3):
    if not body["projects"]:
        body["organizations"]["7"] = {"id": 7, "name": "Acme"}
        body["projects"] = integrated_us([str(rng.randint(1, 9999)) for _ in range(k)])
    return body


# ---------------------------------------------------------------- odd documents
ODD_IDS = ["-5", "٣", "７", "𝟕", "+7", " 7", "7 ", "07", "007", "-0", "0", "1_0", "abc", "", "²",
           "7\n", "1e2", "7.0", "99999999999999999999999999999999999999999",
           "170141183460469231731687303715884105728", "-170141183460469231731687303715884105729",
           "18446744073709551616", "\u00a07", "٠٧", "0x7"]
ORG_ID_TOKENS = ["7.0", "true", "false", '"7"', "7.5", "1e2", "1E2", "7e0", "-0", "-0.0", '"7.0"',
                 '" 7 "', '"+7"', '"\u0663"', '""', "null", "[]", "{}", "100000000000000000000",
                 "1e400", '"7_0"', "-7", '"abc"', "18446744073709551616", "-9223372036854775809",
                 "NaN", "Infinity", "0.0000001e7"]
NAN_TOKENS = ["NaN", "Infinity", "-Infinity"]
SURROGATES = [r"\ud83d", r"\udc00", r"\ude00\ud83d", r"\ud83d\ude00", r"\udbff\udfff", r"\ud800x"]
NUM_TOKENS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0", "0.0e0", "1E+2",
              "1" * 5000, "-" + "9" * 4301, "1" * 4300, "0.1e99999", "5e-324", "1.7976931348623157e309"]
BAD_NUM_TOKENS = ["01", "+1", ".5", "1.", "0x10", "-", "1e", "--1", "1.e2"]


def kind_odd_ids():
    body = random_me()
    body["organizations"].setdefault("7", {"id": 7, "name": "Acme"})
    odd = rng.sample(ODD_IDS, 1 if rng.random() < 0.7 else rng.randint(2, 3))
    label = f"odd-ids:{ascii(odd[0])}" if len(odd) == 1 else "odd-ids:multi"
    ids = odd + [str(rng.choice([3, 5, 700, 9999])) for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.6:  # all integrated, same org, region us: the id order decides
        body["projects"] = integrated_us(ids, domain=rng.choice(["mixpanel.com", None]))
    else:
        for pid in ids:
            body["projects"][pid] = integrated_us([pid])[pid]
    return label, wrapped(body)


def kind_org_id():
    body = ensure_projects(random_me())
    body["organizations"].setdefault("7", {"id": 7, "name": "Acme"})
    if rng.random() < 0.25 and body["organizations"]:
        org = rng.choice(list(body["organizations"].values()))
        org["id"] = Raw(rng.choice(ORG_ID_TOKENS))
        return "org-id-in-organizations", wrapped(body)
    for p in rng.sample(list(body["projects"].values()), rng.randint(1, len(body["projects"]))):
        p["organization_id"] = Raw(rng.choice(ORG_ID_TOKENS))
        p["domain"] = "mixpanel.com"
        p["has_integrated"] = True
        p["is_demo"] = False
    return "organization_id-forms", wrapped(body)


def kind_nan_ignored():
    body = ensure_projects(random_me())
    tok = Raw(rng.choice(NAN_TOKENS))
    where = rng.choice(["project", "org", "top", "nested"])
    if where == "project":
        some_project(body)["x_score"] = tok
    elif where == "org" and body["organizations"]:
        rng.choice(list(body["organizations"].values()))["x_weight"] = tok
    elif where == "nested":
        body["feature_flags"] = {"a": [1, tok, {"b": tok}]}
    else:
        body["x_ratio"] = tok
    return "nan-ignored", wrapped(body)


def kind_nan_read():
    body = ensure_projects(random_me())
    tok = Raw(rng.choice(NAN_TOKENS))
    field = rng.choice(["organization_id", "domain", "name", "is_demo", "is_demo", "has_integrated",
                        "timezone", "type", "org.id", "org.name", "user_id", "cached_at"])
    if field.startswith("org."):
        if not body["organizations"]:
            body["organizations"]["7"] = {"id": 7, "name": "Acme"}
        rng.choice(list(body["organizations"].values()))[field[4:]] = tok
    elif field in ("user_id", "cached_at"):
        body[field] = tok
    else:
        p = some_project(body)
        p[field] = tok
        if field in ("is_demo", "has_integrated"):
            p["domain"] = "mixpanel.com"
    return f"nan-read:{field}", wrapped(body)


def kind_surrogate():
    body = ensure_projects(random_me())
    s = rng.choice(SURROGATES)
    where = rng.choice(["project-name", "org-name", "project-id", "domain", "extra"])
    if where == "project-id":
        projects = Obj(body["projects"].items())
        projects.append((Raw(f'"{s}"'), integrated_us(["1"])["1"]))
        body["projects"] = projects
    elif where == "org-name" and body["organizations"]:
        for o in body["organizations"].values():
            o["name"] = Raw(f'"Org {s}"')
    elif where == "domain":
        some_project(body)["domain"] = Raw(f'"mixpanel.com{s}"')
    elif where == "extra":
        some_project(body)["x_note"] = Raw(f'"{s}"')
    else:
        for p in body["projects"].values():
            p["name"] = Raw(f'"P {s}"')
    return f"surrogate-escape:{where}", wrapped(body)


def kind_cesu():
    """A surrogate as raw UTF-8-encoded bytes (ED A0 BD): Python's 'surrogatepass' reads it."""
    body = ensure_projects(random_me())
    p = some_project(body)
    p["name"] = Raw('"P \ud83d"')  # encoded by to_bytes with surrogatepass
    return "surrogate-bytes", wrapped(body)


ENCODINGS = {"utf8-bom": ("utf-8", b"\xef\xbb\xbf"), "utf16le": ("utf-16-le", b""),
             "utf16le-bom": ("utf-16-le", b"\xff\xfe"), "utf16be": ("utf-16-be", b""),
             "utf16be-bom": ("utf-16-be", b"\xfe\xff"), "utf32le": ("utf-32-le", b""),
             "utf32le-bom": ("utf-32-le", b"\xff\xfe\x00\x00"), "utf32be": ("utf-32-be", b""),
             "utf32be-bom": ("utf-32-be", b"\x00\x00\xfe\xff")}


def kind_encoding():
    name = rng.choice(list(ENCODINGS) + ["utf8-bom"] * 3 + ["utf8-double-bom", "utf8-bom-ws", "utf16-bom-mismatch"])
    body = wrapped(random_me())
    text = enc(body, rng.random() < 0.5)
    if rng.random() < 0.15:
        text = " \n" + text
    if name == "utf8-double-bom":
        return name, b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode()
    if name == "utf8-bom-ws":
        return name, b"\xef\xbb\xbf \r\n\t" + text.encode()
    if name == "utf16-bom-mismatch":  # a little-endian BOM on big-endian text
        return name, b"\xff\xfe" + text.encode("utf-16-be")
    codec, bom = ENCODINGS[name]
    return name, bom + text.encode(codec, "surrogatepass")


def kind_dup_keys():
    body = ensure_projects(random_me(), k=rng.randint(1, 4))
    body["organizations"].setdefault("7", {"id": 7, "name": "Acme"})
    where = rng.choice(["project-id", "project-id", "org-id-field", "is_demo", "has_integrated",
                        "domain", "top-projects", "results", "org-key"])
    if where == "project-id":
        items = list(body["projects"].items())
        pid, _ = rng.choice(items)
        dup = integrated_us([pid], org=rng.choice([7, 9, 100]))[pid]
        dup["name"] = "second"
        projects = Obj(items)
        projects.insert(rng.randint(len(items) // 2, len(items)), (pid, dup))
        if rng.random() < 0.5:
            projects.append((str(rng.randint(1, 99)), integrated_us(["1"])["1"]))
        body["projects"] = projects
        return f"dup-keys:{where}", wrapped(body)
    if where in ("org-id-field", "is_demo", "has_integrated", "domain"):
        pid = rng.choice(list(body["projects"]))
        p = body["projects"][pid]
        p.update(domain="mixpanel.com", is_demo=False, has_integrated=True)
        field = {"org-id-field": "organization_id"}.get(where, where)
        second = {"organization_id": rng.choice([7, 9, 100, "x"]), "is_demo": True,
                  "has_integrated": False, "domain": "eu.mixpanel.com"}[field]
        pairs = Obj(p.items())
        pairs.append((field, second))
        body["projects"][pid] = pairs
        return f"dup-keys:{where}", wrapped(body)
    if where == "org-key":
        orgs = Obj(body["organizations"].items())
        orgs.append(("7", {"id": 7, "name": "Second Acme"}))
        body["organizations"] = orgs
        return f"dup-keys:{where}", wrapped(body)
    if where == "top-projects":
        other = integrated_us([str(rng.randint(1, 99))])
        top = Obj(body.items())
        top.insert(0, ("projects", other)) if rng.random() < 0.5 else top.append(("projects", other))
        return f"dup-keys:{where}", top
    return f"dup-keys:{where}", Obj([("status", "ok"), ("results", {"projects": {}}), ("results", body)][::rng.choice([1, -1])])


def kind_deep():
    body = ensure_projects(random_me())
    depth = rng.choice([64, 200, 253, 254, 255, 256, 300, 500, 900, 975, 980, 990, 999, 1000, 5000, 100000])
    kind = rng.choice(["list", "object"])
    nested = ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)
    if rng.random() < 0.5:
        some_project(body)["x_tree"] = Raw(nested)
    else:
        body["x_tree"] = Raw(nested)
    return f"deep-{kind}-{depth}", wrapped(body)


def kind_numbers():
    body = ensure_projects(random_me())
    if rng.random() < 0.2:
        some_project(body)["x_num"] = Raw(rng.choice(BAD_NUM_TOKENS))
        return "bad-number-token", wrapped(body)
    tok = rng.choice(NUM_TOKENS)
    if rng.random() < 0.5:
        some_project(body)["x_num"] = Raw(tok)
    else:
        body["x_num"] = Raw(tok)
    return "number-forms", wrapped(body)


def kind_not_object():
    full = random_me()
    choices = [("[]", "[]"), ("null", "null"), ("1", "1"), ('"x"', "string"), ("true", "true"), ("{}", "{}"),
               ('{"results": null}', "results-null"), ('{"results": []}', "results-list"),
               ('{"results": 5}', "results-number"), ('{"results": "x"}', "results-string"),
               (enc({"results": {"results": full}}), "results-twice"),
               (enc({"results": full, "projects": integrated_us(["1"])}), "results-and-projects"),
               (enc({"status": "error", "results": full}), "status-error"),
               (enc({"status": "ok"}), "status-only"), ('{"projects": null}', "projects-null"),
               ('{"projects": []}', "projects-list"), ('{"projects": {"7": null}}', "project-null"),
               ('{"organizations": null, "projects": {}}', "organizations-null"),
               (enc({"projects": full["projects"]}), "projects-only")]
    text, label = rng.choice(choices)
    return f"shape:{label}", text.encode()


def kind_declared_fields():
    body = ensure_projects(random_me())
    pick = rng.choice(["user_id=abc", "user_id=1.5", "user_email=5", "user_name=[]", "org-missing-name",
                       "org-missing-id", "org-role=5", "org-permissions=x", "timezone=5", "has_workspaces=yes",
                       "type=1.5", "type=[]", "cached_region=5", "cached_at=x", "workspace-id=x",
                       "workspace-project_id=x", "workspaces=[]", "workspace-missing-name", "project-missing-name",
                       "project-missing-organization_id", "organizations=[]", "org-id=x", "user_id=true"])
    org = rng.choice(list(body["organizations"].values())) if body["organizations"] else None
    p = some_project(body)
    k, _, v = pick.partition("=")
    val = {"abc": "abc", "1.5": 1.5, "5": 5, "[]": [], "x": "x", "yes": "yes", "true": True}.get(v)
    if k in ("user_id", "user_email", "user_name", "cached_region", "cached_at", "organizations", "workspaces"):
        body[k] = val
    elif k in ("timezone", "has_workspaces", "type"):
        p[k] = val
    elif k.startswith("org-") and org is not None:
        if k == "org-missing-name":
            del org["name"]
        elif k == "org-missing-id":
            del org["id"]
        else:
            org[k[4:]] = val
    elif k.startswith("workspace"):
        ws = {"id": 900, "name": "Default", "project_id": 1}
        if k == "workspace-missing-name":
            del ws["name"]
        elif v:
            ws[k.split("-", 1)[1]] = val
        body["workspaces"] = {"900": ws}
    elif k == "project-missing-name":
        del p["name"]
    elif k == "project-missing-organization_id":
        del p["organization_id"]
    return f"declared-field:{pick}", wrapped(body)


def kind_whitespace():
    text = enc(wrapped(random_me()))
    form = rng.choice(["lead-ws", "trail-ws", "formfeed", "nbsp", "nul-tail", "garbage-tail", "two-docs",
                       "vtab", "u2028-tail", "crlf"])
    b = text.encode()
    return f"ws:{form}", {"lead-ws": b" \t\r\n" + b, "trail-ws": b + b"\n\n \t", "formfeed": b"\x0c" + b,
                          "nbsp": b"\xc2\xa0" + b, "nul-tail": b + b"\x00", "garbage-tail": b + b"x",
                          "two-docs": b + b"\n" + b, "vtab": b + b"\x0b",
                          "u2028-tail": b + "\u2028".encode(), "crlf": b.replace(b",", b",\r\n")}[form]


def kind_strings():
    body = ensure_projects(random_me())
    p = some_project(body)
    form = rng.choice(["raw-ctrl", "raw-tab", "raw-del", "esc-slash", "esc-u0000", "bad-escape",
                       "short-u-escape", "raw-nul", "overlong-utf8", "invalid-utf8", "esc-upper-hex"])
    tokens = {"raw-ctrl": '"P\x01"', "raw-tab": '"P\tq"', "raw-del": '"P\x7f"', "esc-slash": '"P\\/q"',
              "esc-u0000": '"P\\u0000"', "bad-escape": '"P\\x41"', "short-u-escape": '"P\\u12"',
              "raw-nul": '"P\x00"', "esc-upper-hex": '"P\\u00E9"'}
    if form in tokens:
        p["name"] = Raw(tokens[form])
        return f"string:{form}", wrapped(body)
    raw = to_bytes(wrapped(body))
    bad = b"\xc0\xaf" if form == "overlong-utf8" else rng.choice([b"\xff", b"\xc3", b"\xe2\x82", b"\xf5\x80\x80\x80"])
    i = raw.find(b'"name":')
    i = raw.find(b'"', i + 7) + 1 if i >= 0 else 1
    return f"string:{form}", raw[:i] + bad + raw[i:]


def kind_truncated():
    raw = to_bytes(wrapped(ensure_projects(random_me())))
    return "truncated", raw[:rng.randint(0, len(raw) - 1)]


def kind_mutated():
    raw = bytearray(to_bytes(wrapped(ensure_projects(random_me()))))
    for _ in range(rng.randint(1, 3)):
        op, i = rng.random(), rng.randrange(len(raw))
        if op < 0.4:
            raw[i] = rng.choice([rng.randrange(256), ord(rng.choice('{}[]",:0123456789-. tfn\\'))])
        elif op < 0.7:
            del raw[i]
        else:
            raw.insert(i, rng.choice([rng.randrange(256), ord(rng.choice('{}[]",:01-. \\'))]))
    return "mutated", bytes(raw)


def kind_live():
    return "live", wrapped(random_me())


KINDS = [(kind_live, 20), (kind_odd_ids, 10), (kind_org_id, 8), (kind_nan_ignored, 5), (kind_nan_read, 6),
         (kind_surrogate, 5), (kind_cesu, 2), (kind_encoding, 10), (kind_dup_keys, 7), (kind_deep, 4),
         (kind_numbers, 4), (kind_not_object, 3), (kind_declared_fields, 6), (kind_whitespace, 3),
         (kind_strings, 4), (kind_truncated, 4), (kind_mutated, 9)]


def document():
    fn = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
    kind, doc = fn()
    return kind, doc if isinstance(doc, bytes) else to_bytes(doc)
