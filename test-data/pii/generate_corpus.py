"""Writes corpus.jsonl: labelled personal data, secrets and hard negatives for the redactor.

Run: .venv/bin/python test-data/pii/generate_corpus.py  (deterministic: same file every run)

Each line is one case: `{"id", "label", "format", "text", ...}`. Positives carry `secrets`
(kind -> substrings that must not survive redaction); negatives carry `near` (the kind they
resemble) and must come out unchanged. `format` is `text` (a prompt, log line or snippet) or
`json` (a message structure as instrumentations put in `gen_ai.input.messages` and friends).
Card numbers and IBANs get their check digits computed here, independently of the redactor.
Every key and token below is random or a published documentation example: none is live.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

OUT = Path(__file__).with_name("corpus.jsonl")
# Cases written by hand after the detectors and run once blind (see docs/redaction.md).
HANDWRITTEN = [
    json.loads(line)
    for line in Path(__file__).with_name("handwritten.jsonl").read_text().splitlines()
]
rng = random.Random(20260101)
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
DIGITS = string.digits
HEX = "0123456789abcdef"
NAMES = ["Ann", "Raj", "Li"]
GITHUB_PREFIXES = ["ghp", "gho", "ghu", "ghs", "ghr", "ghp", "ghp"]


def rand(alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def mixed(alphabet: str, length: int) -> str:
    """Random, but with an upper-case letter, a lower-case letter and a digit, like real keys."""
    while True:
        value = rand(alphabet, length)
        if (
            any(c.isupper() for c in value)
            and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


def luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return str((10 - total % 10) % 10)


def card(prefix: str, length: int) -> str:
    body = prefix + rand(string.digits, length - len(prefix) - 1)
    return body + luhn_digit(body)


def iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def grouped(value: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(value[i : i + size] for i in range(0, len(value), size))


def b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# --- positive values per kind -------------------------------------------------------------

EMAILS = [
    "alice@example.com", "j.doe+newsletter@mail.example.co.uk", "BOB.SMITH@Example.ORG",
    "first_last@sub.domain.io", "x@y.ai", "user.name@company-mail.de", "support-team@acme.dev",
    "123456@qq.com", "maria.garcia@correo.es", "li.wei@university.edu.cn",
    "o.brien@dublin.ie", "dev+ci@build.internal.example.net", "sales@xn--bcher-kva.ch",
    "a.b.c.d@e.co", "contact@startup.technology", "priya.patel91@gmail.com",
    "zoe_k@outlook.fr", "noreply-billing@payments.example.com", "jdoe@localhost.localdomain.org",
    "kenji.tanaka@mail.jp", "hr-team@firm.law", "ana.silva@empresa.com.br", "tom@t.co",
    "security@bank-secure.example", "admin%ops@relay.example.org",
]  # fmt: skip
PHONES = [
    "+1 415 555 0132", "+1 (415) 555-0132", "(415) 555-0132", "415-555-0132", "415.555.0132",
    "1-800-555-0199", "+44 20 7946 0958", "+44 7700 900123", "020 7946 0958", "07700 900123",
    "+49 30 12345678", "+49 (0)30 1234 5678", "030 12345678", "(030) 1234 5678",
    "+33 1 23 45 67 89", "01 23 45 67 89", "+33 6 12 34 56 78", "+61 2 9876 5432",
    "+81 3-1234-5678", "+91 98765 43210", "+86 138 0013 8000", "+55 11 91234-5678",
    "+34 612 345 678", "+39 06 1234 5678", "+31 20 123 4567", "0044 20 7946 0958",
    "+14155550132", "+1.415.555.0132", "(212) 555-0187", "+353 1 234 5678",
]  # fmt: skip
LABELLED_PHONES = [
    ("phone: {v}", "4155550132"), ("call me at {v}", "2125550187"), ("tel. {v}", "0612345678"),
    ("Mobile number {v}", "07700900123"), ("WhatsApp: {v}", "919876543210"),
]  # fmt: skip
CARD_PREFIXES = [
    ("4", 16), ("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
    ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3530", 16), ("36", 14), ("62", 16),
    ("4", 19), ("5018", 16),
]  # fmt: skip
PUBLISHED_CARDS = [
    "4111111111111111", "4242424242424242", "5555555555554444", "5105105105105100",
    "378282246310005", "371449635398431", "6011111111111117", "3530111333300000",
    "30569309025904",
]  # fmt: skip
IBANS_PUBLISHED = [
    "DE89370400440532013000", "GB82WEST12345698765432", "GB33BUKB20201555555555",
    "FR1420041010050500013M02606", "NL91ABNA0417164300", "ES9121000418450200051332",
    "IT60X0542811101000000123456", "CH9300762011623852957", "BE68539007547034",
    "AT611904300234573201", "PL61109010140000071219812874", "SE4550000000058398257466",
    "NO9386011117947", "DK5000400440116243", "FI2112345600000785", "IE29AIBK93115212345678",
    "PT50000201231234567890154", "LU280019400644750000",
]  # fmt: skip


def make_ibans() -> list[str]:
    generated = [
        iban("DE", rand(string.digits, 18)), iban("FR", rand(string.digits, 23)),
        iban("GB", "NWBK" + rand(string.digits, 14)), iban("ES", rand(string.digits, 20)),
        iban("NL", "INGB" + rand(string.digits, 10)), iban("IT", "X" + rand(string.digits, 22)),
    ]  # fmt: skip
    return IBANS_PUBLISHED + generated


def make_ssns(count: int) -> list[str]:
    values = ["123-45-6789", "219-09-9998", "078-05-1121"]
    while len(values) < count:
        area = rng.choice([a for a in range(1, 900) if a != 666])
        values.append(f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}")
    return values


IPV4S = [
    "192.168.1.10", "10.0.0.1", "203.0.113.42", "8.8.8.8", "172.16.254.1", "198.51.100.7",
    "100.64.12.3", "52.94.236.248", "1.1.1.1", "185.199.108.153", "34.117.59.81",
    "192.0.2.255", "216.58.214.14", "91.198.174.192",
]  # fmt: skip
IPV6S = [
    "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1ff:fe23:4567:890a",
    "::ffff:192.0.2.128", "2001:db8:0:0:1:0:0:1", "2606:4700:4700::1111", "fd12:3456:789a:1::1",
    "2a00:1450:4001:81c::200e", "2001:db8:85a3::8a2e:370:7334", "fe80::a00:27ff:fe4e:66a1",
    "2620:fe::fe", "2001:4860:4860::8888", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
]  # fmt: skip


def make_keys() -> dict[str, list[str]]:
    jwt_header = b64url({"alg": "HS256", "typ": "JWT"})
    rs_header = b64url({"alg": "RS256", "kid": "k1"})
    return {
        "openai_key": [f"sk-{mixed(ALNUM, 48)}" for _ in range(5)]
        + [f"sk-proj-{mixed(B64URL, rng.choice([56, 120, 156]))}" for _ in range(5)]
        + [f"sk-svcacct-{mixed(B64URL, 64)}", f"sk-admin-{mixed(B64URL, 64)}"],
        "anthropic_key": [f"sk-ant-api03-{mixed(B64URL, 93)}AA" for _ in range(8)]
        + [f"sk-ant-admin01-{mixed(B64URL, 93)}AA" for _ in range(2)],
        "aws_access_key_id": ["AKIAIOSFODNN7EXAMPLE"]
        + [rng.choice(["AKIA", "ASIA"]) + rand(BASE32, 16) for _ in range(9)],
        "aws_secret_key": ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
        + [mixed(ALNUM + "/+", 40) for _ in range(9)],
        "github_token": [f"{p}_{mixed(ALNUM, 36)}" for p in GITHUB_PREFIXES]
        + [f"github_pat_11{mixed(ALNUM, 20)}_{mixed(ALNUM, 59)}" for _ in range(5)],
        "slack_token": [
            f"xox{c}-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{mixed(ALNUM, 24)}"
            for c in "bpabrsbp"
        ]
        + [f"xoxe.xoxp-1-{mixed(ALNUM, 60)}"],
        "slack_webhook": [
            f"https://hooks.slack.com/services/T{rand(string.ascii_uppercase + string.digits, 8)}"
            f"/B{rand(string.ascii_uppercase + string.digits, 8)}/{mixed(ALNUM, 24)}"
            for _ in range(7)
        ]
        + [
            f"https://hooks.slack.com/workflows/T{rand(DIGITS, 9)}/A{rand(DIGITS, 9)}"
            f"/4{rand(DIGITS, 17)}/{mixed(ALNUM, 24)}"
        ],
        "google_api_key": [f"AIza{mixed(B64URL, 35)}" for _ in range(10)],
        "jwt": [
            f"{rng.choice([jwt_header, rs_header])}."
            f"{b64url({'sub': rand(DIGITS, 8), 'name': rng.choice(NAMES), 'iat': 1700000000 + i})}"
            f".{rand(B64URL, rng.choice([43, 86, 342]))}"
            for i in range(11)
        ]
        + [f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url({'sub': 'guest'})}."],
        "bearer_token": [mixed(B64URL + ".", rng.choice([32, 40, 64])) for _ in range(8)]
        + [f"ya29.a0{mixed(B64URL, 60)}", f"gho{mixed(ALNUM, 30)}", f"{rand(HEX, 40)}1a"]
        + [f"pat-na1-{rand(HEX, 8)}-{rand(HEX, 4)}-{rand(HEX, 12)}"],
    }  # fmt: skip


def private_key(kind: str, complete: bool = True) -> tuple[str, list[str]]:
    lines = [
        rand(string.ascii_letters + string.digits + "+/", 64) for _ in range(rng.randint(3, 8))
    ]
    lines.append(rand(string.ascii_letters + string.digits + "+/", 24) + "==")
    label = f"{kind} PRIVATE KEY".strip() if kind != "PGP" else "PGP PRIVATE KEY BLOCK"
    block = f"-----BEGIN {label}-----\n" + "\n".join(lines)
    if complete:
        block += f"\n-----END {label}-----"
    return block, [line for line in lines if len(line) >= 16]


URL_CREDENTIALS = [
    ("postgres://admin:{p}@db.internal:5432/app", "S3cr3tPa55"),
    ("postgresql://report_user:{p}@10.1.2.3/analytics", "hunter2hunter2"),
    ("mysql://root:{p}@localhost:3306/shop", "toor-Passw0rd"),
    ("redis://:{p}@cache.example.com:6379/0", "r3d1sPassw0rd"),
    ("amqp://guest:{p}@rabbitmq:5672/", "guestpass99"),
    ("https://deploy:{p}@git.example.com/org/repo.git", "ghTokenLike123"),
    ("mongodb+srv://admin:{p}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true", "M0ng0Pass"),
    ("ftp://anonymous:{p}@ftp.example.org/pub", "anon%40example.com"),
    ("smtp://mailer:{p}@smtp.example.com:587", "p@ss:w0rd!"),
    ("http://user:{p}@proxy.corp:3128", "pr0xy-secret"),
    ("https://alice@example.com:{p}@api.example.com/v1", "ali-ce-pw-42"),
    ("sftp://backup:{p}@203.0.113.9/backups", "Backup2024!"),
]  # fmt: skip

TEXT_TEMPLATES = [
    "Hi, my name is Sam. Please update my contact to {v} and confirm by tomorrow.",
    "Customer wrote in: \"you can reach me on {v} any time after 5pm\".",
    "Summarise this ticket. Reporter: {v}. Issue: login fails since the 2024-03-15 upgrade.",
    "Draft a polite reply to the person at {v} explaining the refund of $45.00.",
    "ERROR 2024-05-02T10:31:07Z worker-3 failed for {v} (attempt 2 of 5)",
    "Here's what I have on file: {v}. Is this still correct?",
    "Translate to French: \"Please send the invoice to {v} before Friday.\"",
    "Debug this: the client sends {v} and the server returns 401.",
    "context:\n- account: {v}\n- plan: pro (12 seats)\n- renewal: 2025-01-31",
    "User: {v}\nAssistant: Thanks, I have updated your profile.",
]  # fmt: skip
SECRET_TEMPLATES = [
    "Why does this fail? OPENAI_API_KEY={v} python app.py",
    "config.yaml:\n  api_key: \"{v}\"\n  timeout_seconds: 30",
    "export TOKEN={v}\ncurl https://api.example.com/v1/items",
    "I accidentally pasted my key {v} in the chat, is that a problem?",
    "client = Client(api_key=\"{v}\", max_retries=3)",
    "headers = {{\"X-Api-Key\": \"{v}\"}}",
    "The CI log shows: Using credential {v} for upload",
]  # fmt: skip


def json_message(text: str, style: int) -> str:
    """The text inside one of the message structures instrumentations export."""
    if style == 0:  # OTel GenAI `gen_ai.input.messages`
        doc: object = [
            {
                "role": "system",
                "parts": [{"type": "text", "content": "You are a helpful support agent."}],
            },
            {"role": "user", "parts": [{"type": "text", "content": text}]},
        ]
    elif style == 1:  # OpenAI request body (`input.value`)
        doc = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": text}],
            "temperature": 0.2,
        }
    elif style == 2:  # a tool call whose arguments are JSON inside JSON
        doc = [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_7f3a9c21",
                        "type": "function",
                        "function": {
                            "name": "update_contact",
                            "arguments": json.dumps({"note": text, "priority": 2}),
                        },
                    }
                ],
            }
        ]
    elif style == 3:  # Vercel AI SDK `ai.prompt.messages`
        doc = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    else:  # Traceloop `traceloop.entity.input`
        doc = {"args": [text], "kwargs": {"retries": 3, "tags": ["support", "2024-Q3"]}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))  # fmt: skip


def build_positives() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []

    def add(kind: str, text: str, secrets: list[str], fmt: str = "text") -> None:
        cases.append(
            {
                "label": "positive",
                "kind": kind,
                "format": fmt,
                "text": text,
                "secrets": {kind: secrets},
            }
        )

    def place(kind: str, value: str, templates: list[str], secret: str | None = None) -> None:
        index = len(cases)
        text = templates[index % len(templates)].format(v=value)
        if index % 3 == 2:
            add(kind, json_message(text, index % 5), [secret or value], "json")
        else:
            add(kind, text, [secret or value])

    for value in EMAILS:
        place("email", value, TEXT_TEMPLATES)
    for value in PHONES:
        place("phone", value, TEXT_TEMPLATES)
    for template, value in LABELLED_PHONES:
        add("phone", f"Customer details: {template.format(v=value)}, prefers mornings.", [value])
    for prefix, length in CARD_PREFIXES:
        number = card(prefix, length)
        formats = [number, grouped(number), grouped(number, 4, "-")]
        if length == 15:
            formats.append(f"{number[:4]} {number[4:10]} {number[10:]}")
        place("credit_card", rng.choice(formats), [
            "Please charge my card {v}, expiry 09/27, for the annual plan ($199.00).",
            "payment failed for card_number={v} amount=45.00 currency=EUR",
            "Card on file: {v} (Visa). Billing zip 94103.",
        ])  # fmt: skip
    for number in PUBLISHED_CARDS:
        place(
            "credit_card",
            grouped(number) if len(number) == 16 else number,
            ["test card {v} declined"],
        )
    for value in make_ibans():
        shown = grouped(value) if rng.random() < 0.5 else value
        place("iban", shown, [
            "Please wire the deposit to IBAN {v} (reference INV-2024-0042).",
            "Bank details: {v}, BIC DEUTDEFF, account holder J. Doe",
            "Refund to {v} approved on 2024-06-01.",
        ])  # fmt: skip
    for value in make_ssns(16):
        place(
            "ssn",
            value,
            [
                "My SSN is {v} and DOB 04/12/1985.",
                "applicant ssn={v}; income=85000",
                "Social security: {v}",
            ],
        )
    add("ssn", "Form W-9: SSN 123456789, name Jane Roe", ["123456789"])
    add("ssn", "social security number: 219099998 (please verify)", ["219099998"])
    for value in IPV4S:
        place("ipv4", value, [
            "Login from {v} at 10:31 UTC was blocked.",
            "client_ip={v} method=POST path=/v1/chat status=429",
            "Traceback: ConnectionRefusedError connecting to {v}:5432",
        ])  # fmt: skip
    for value in IPV6S:
        place("ipv6", value, [
            "Login from {v} at 10:31 UTC was blocked.",
            "upstream [{v}]:443 timed out after 30 s",
            "peer address {v} rejected by firewall rule 12",
        ])  # fmt: skip
    for kind, values in make_keys().items():
        for value in values:
            if kind == "aws_secret_key":
                context = rng.choice([
                    "aws_secret_access_key = {v}", "AWS_SECRET_ACCESS_KEY={v}",
                    "\"SecretAccessKey\": \"{v}\"", "my aws secret key is {v}",
                ])  # fmt: skip
                place(kind, context.format(v=value), SECRET_TEMPLATES, value)
            elif kind == "bearer_token":
                place(kind, f"Authorization: Bearer {value}", SECRET_TEMPLATES, value)
            else:
                place(kind, value, SECRET_TEMPLATES)
    for index, kind in enumerate(
        ["RSA", "EC", "OPENSSH", "", "ENCRYPTED", "DSA", "PGP", "RSA", "EC", ""]
    ):
        block, body = private_key(kind, complete=index < 8)
        text = f"Here is the deploy key, keep it safe:\n{block}\nThanks!"
        if index % 2:
            add("private_key", json_message(text, index % 5), body, "json")
        else:
            add("private_key", text, body)
    for template, password in URL_CREDENTIALS:
        # A host given as an IP address, or a user name that is an e-mail address, is
        # personal data of its own kind.
        extra = {"ipv4": ip for ip in ("10.1.2.3", "203.0.113.9") if ip in template}  # noqa: B035
        extra.update({"email": "alice@example.com"} if "alice@" in template else {})
        place("url_credentials", template.format(p=password), [
            "DATABASE_URL={v}", "connecting to {v} failed: timeout",
            "Use this connection string: {v}",
        ], password)  # fmt: skip
        for kind, value in extra.items():
            cases[-1]["secrets"][kind] = [value]  # type: ignore[index]
    # Realistic prompts holding several kinds at once, in JSON message structures.
    keys = make_keys()
    for index in range(12):
        email, phone = rng.choice(EMAILS), rng.choice(PHONES[:12])
        number = card("4", 16)
        key = rng.choice(keys["openai_key"])
        text = (
            f"Hi, I'm the account owner ({email}, {phone}). My card {grouped(number)} was charged "
            f"twice on 2024-03-15. Our integration uses key {key}."
        )
        secrets = {
            "email": [email],
            "phone": [phone],
            "credit_card": [grouped(number)],
            "openai_key": [key],
        }
        cases.append({"label": "positive", "kind": "mixed", "format": "json",
                      "text": json_message(text, index % 5), "secrets": secrets})  # fmt: skip
    cases += [case for case in HANDWRITTEN if case["label"] == "positive"]
    return cases


# --- hard negatives -----------------------------------------------------------------------

NEGATIVES: dict[str, list[str]] = {
    "phone": [
        "2024-01-15", "15/01/2024", "01.02.2024", "2024-01-15T10:30:00Z",
        "2024-01-15T10:30:00+05:30",
        "Jan 15, 2024 10:30:45", "20240115", "1999-12-31 23:59:59", "week 42 of 2024",
        "2024/03/15 08:00", "ISBN 978-3-16-148410-0", "+2.5%", "+1 more comment", "+3.14159265",
        "score 98.6 (+12)", "population 67,390,000", "zip 94103-1234", "room 1204, floor 12",
        "order number 4155550132", "invoice 2024-000123-7", "build 20240115.3", "PO 4500012345",
        "5 x 3 = 15", "1 2 3 4 5 6 7 8 9 10", "100 200 300 400", "timestamp 1705312200000",
        "0.000015 USD per token", "v2024.01.15-rc1", "ETA 3-5 business days", "12 345 678",
    ],
    "credit_card": [
        "4111 1111 1111 1112", "5555-5555-5555-4445", "1234 5678 9012 3456", "4242424242424241",
        "378282246310006", "6011 1111 1111 1118", "0000 0000 0000 0000", "9999-9999-9999-9995",
        "unix nanos 1795318259696440159", "ISBN-13: 9783161484100", "tracking 1Z999AA10123456784",
        "order 8112345678901234", "account 1234567890123456", "1111 2222 3333 4444",
        "snowflake id 1790000000000000000",
    ],
    "iban": [
        "DE89370400440532013001", "GB82WEST1234569876543", "XX12 3456 7890 1234 5678 90",
        "DE00 3704 0044 0532 0130 00", "FR76 3000 6000 0112 3456 7890 18", "NL91ABNA0417164301",
        "US12 3456 7890 1234 5678", "model GPT4 2024 0806 release", "SKU AB12 CD34 EF56 GH78",
        "IT60X054281110100000012345", "HTTP2 0000 frames", "CH9300762011623852958",
    ],
    "ssn": [
        "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000", "078-05-1120",
        "ext 123-45-678", "part no. 123-45-67890", "ref A-123-45-6789", "123-456-789",
        "code 1234-56-789", "pin 123456789 for the locker",
    ],
    "ipv4": [
        "256.1.1.1", "1.2.3", "999.999.999.999", "10.0.0.256", "1.2.3.4.5", "version 1.2.3.4",
        "v1.2.3.4", "build 10.0.19041.1", "chrome 120.0.6099.109", "01.02.03.04", "1.2.3.4-beta",
        "Ubuntu 22.04.3 LTS", "Python 3.11.7", "node v18.17.1", "firmware: 4.1.2.7",
        "1.3.6.1.4.1.311", "openssl 3.0.13", "version=2.14.0.1", "3.14", "192.168",
        "http://127.0.0.1:18080/v1/", "listen 0.0.0.0:8080", "server.address=127.0.0.1",
    ],
    "ipv6": [
        "12:30:45", "10:30", "00:1A:2B:3C:4D:5E", "x = a[1::2]", "std::vector<int> v;",
        "Foo::Bar::baz()", "dead:beef", "ratio 16:9", "John 3:16", "https://example.com:8080/x",
        "http://[::1]:8080/health", "a::b", "00:00:00.123", "Module::Class::method", "fe80",
    ],
    "email": [
        "icon@2x.png", "user@localhost", "@username said hi", "@app.route('/users')",
        "npm i @scope/pkg", "lodash@4.17.21", "react@18.2.0", "foo@bar", "email@",
        "x@2x.jpg", "logo@3x.webp", "pip install requests==2.31.0", "@types/node@20.10.5",
        "matrix @ vector", "name@host:22", "see @alice and @bob", "price@scale.json",
    ],
    "openai_key": [
        "sk-learn", "task-1234567890abcdefghij", "sk-loading-spinner-container-large",
        "risk-assessment-2024-q3-report-final", "disk-usage-alert-threshold-exceeded",
        "sk-this-is-not-a-real-key-example", "sk-", "sk-1234", "desk-0123456789abcdefABCDEF",
    ],
    "anthropic_key": ["sk-ant-", "sk-ant-example", "ask-anthropic-about-rate-limits-today"],
    "aws_access_key_id": [
        "AKIAEXAMPLE", "AKIA", "ASIAN-FOOD-2024", "AKIA1234", "MASIA0123456789ABCDEFG",
    ],
    "aws_secret_key": [
        "aws_secret_access_key = <your-secret-here>", "AWS_SECRET_ACCESS_KEY=${AWS_SECRET}",
        "secret key rotation every 90 days", "secret_key: changeme",
    ],
    "github_token": ["ghp_short", "gho_", "github_pat_", "the ghp_ prefix marks personal tokens"],
    "slack_token": ["xoxb-test", "xoxb-", "xox-what", "xoxo, Anna"],
    "slack_webhook": [
        "https://hooks.slack.com/", "https://api.slack.com/apps", "hooks.slack.com docs",
    ],
    "google_api_key": ["AIza", "AIzaShort123", "AIzawhat"],
    "jwt": ["eyJhbGciOi", "eyJ.eyJ.sig", "header.payload.signature", "eyJhbGciOiJIUzI1NiJ9 alone"],
    "bearer_token": [
        "Bearer token required", "the bearer of bad news", "BEARER_TOKEN_ENV_VAR",
        "Authorization: Bearer <token>", "Authorization: Bearer ${TOKEN}",
        "Bearer abcdefghijklmnopqrst",
        "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v1/items",
    ],
    "private_key": [
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "-----END PUBLIC KEY-----",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 deploy@ci",
        "Private key handling is described in RFC 5208.",
    ],
    "url_credentials": [
        "postgres://localhost:5432/db", "https://example.com:8443/path?user=x", "redis://redis:6379/0",
        "https://api.example.com/v1/users/42", "mongodb://db1:27017,db2:27017/?replicaSet=rs0",
        "file:///home/user/notes.txt", "jdbc:postgresql://host:5432/db?user=app",
    ],
}  # fmt: skip
ID_NEGATIVES = [
    "550e8400-e29b-41d4-a716-446655440000", "123e4567-e89b-12d3-a456-426614174000",
    "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "req_01HQZ3K8M2V7X9B4C6D8E0F2G4", "cus_NffrFeUfNV2Hib", "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "chatcmpl-8x9YzAbCdEfGhIjKlMnOpQrStUv", "msg_01XFDUDYJgAACzvnptvVoYEL", "call_abc123def456",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", "d41d8cd98f00b204e9800998ecf8427e",
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "ORD-2024-118734", "#A-118734",
    "INV-000123", "JIRA-12345", "run_7f3a9c21-corpus", "sess-7f3a9c21-corpus", "user-alice-42",
    "fp_corpus_0001", "gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "text-embedding-3-small",
    "$1,234.56", "€4 500,00", "USD 12,000", "1 234 567", "$0.15 / 1M tokens", "12.5%", "-3.2%",
    "4.5 stars", "commit a1b2c3d", "k8s pod web-7d9f8c6b5-x2x4z",
    "arn:aws:iam::123456789012:role/app",
    "docker run -p 8080:80 nginx:1.25.3", "ETag W/\"5e15153d-120f\"", "color #ff00ff",
]  # fmt: skip
CODE_NEGATIVES = [
    "for i in range(1, 10):\n    print(i * 3.14)",
    "SELECT id, created_at FROM orders WHERE total > 100.50 LIMIT 25;",
    "const x = arr.slice(1, 3); // returns 2 items",
    "kubectl scale deploy web --replicas=3 -n prod",
    "def area(r: float) -> float:\n    return 3.14159 * r ** 2",
    "if (x >= 10 && y <= 20) { return x - y; }",
    "git log --since=2024-01-01 --until=2024-03-31 --oneline",
    "np.dot(A, B.T) + np.eye(3) * 1e-6",
    "grep -E '^[0-9]{3}-[0-9]{4}$' numbers.txt",
    "@dataclass(frozen=True)\nclass Point:\n    x: int = 0",
    "curl -s https://api.example.com/v1/models | jq '.data[0].id'",
    "ffmpeg -ss 00:01:30 -t 00:00:10 -i in.mp4 out.mp4",
    "resize(1920, 1080); crop(0, 0, 640, 480)",
    "RUN pip install --no-cache-dir torch==2.3.1 numpy==1.26.4",
    "chmod 0755 /usr/local/bin/app && ulimit -n 65535",
]  # fmt: skip
PROSE_NEGATIVES = [
    "The meeting is on 2024-03-15 at 10:30 in room 4.12; bring the Q1 numbers.",
    "Revenue grew 12.5% to 4,200,000 EUR while costs fell by 300 000 EUR.",
    "Upgrade from version 1.2.3 to 2.0.0-beta.4 and restart the service.",
    "Our support line opens at 9:00 and closes at 17:30, Monday to Friday.",
    "The capital of France is Paris, which has about 2.1 million inhabitants.",
    "Mix 250 g flour, 2 eggs and 500 ml milk; bake at 180 C for 25-30 minutes.",
    "Flight LH 1234 departs 07:45 from gate B12 and lands at 09:05.",
    "The model scored 87.3 on MMLU and 92.1 on GSM8K (5-shot).",
    "Use the weather tool to look up Paris, then answer in one short sentence.",
    "Ticket #48213 was escalated to tier 2 after 3 failed attempts.",
]  # fmt: skip


def build_negatives() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    pool = [(near, text) for near, texts in NEGATIVES.items() for text in texts]
    pool += [("id", text) for text in ID_NEGATIVES]
    pool += [("code", text) for text in CODE_NEGATIVES]
    pool += [("prose", text) for text in PROSE_NEGATIVES]
    pool += [(case["near"], case["text"]) for case in HANDWRITTEN if case["label"] == "negative"]
    for index, (near, text) in enumerate(pool):
        cases.append({"label": "negative", "near": near, "format": "text", "text": text})
        if index % 4 == 0:
            wrapped = f"Please explain what this means: {text}"
            cases.append(
                {
                    "label": "negative",
                    "near": near,
                    "format": "json",
                    "text": json_message(wrapped, index % 5),
                }
            )
    return cases


def main() -> None:
    """Write the corpus, positives first, with stable ids."""
    lines = []
    for prefix, cases in (("pos", build_positives()), ("neg", build_negatives())):
        for index, case in enumerate(cases):
            lines.append(json.dumps({"id": f"{prefix}-{index:04d}", **case}, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n")
    positives = sum(1 for line in lines if '"label": "positive"' in line)
    print(f"wrote {OUT}: {positives} positive, {len(lines) - positives} negative")


if __name__ == "__main__":
    main()
