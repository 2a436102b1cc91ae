"""The secrets and personal data scan: no plaintext secret in the database or the logs, and no
customer e-mail in a log line (docs/security.md, `manage.py secrets_scan`).

What it looks for:

- **Known secrets**, by their exact text: every value of every encrypted column, decrypted
  (channel credentials, webhook secrets, endpoint signing secrets, payment keys), the secrets
  of the settings (Odoo password and API key, Django's secret key, the field encryption keys,
  the Odoo webhook token, database and broker passwords), and every value a caller planted
  (`planted_load`: JSON lines `{"kind", "value", "source"}`). A planted value is how a test,
  or a chaos run, proves that the scan can fail: it knows what it must not find.
- **Secret patterns**: the hub's API tokens, Shopify and WooCommerce credentials, Standard
  Webhooks and Stripe secrets, and `Authorization` header values. Everywhere.
- **E-mail addresses**, in log lines only: the database keeps a customer's e-mail for a purpose
  (the order, the partner); a log line never needs one.

Where: every table of the database and every column that is text, JSON or bytes (encrypted
columns hold ciphertext and are skipped; sessions are decoded first, since a flash message with
a secret shown once may sit in one), and every line of the given log files.

A finding never repeats the secret: it names the kind, the place and a masked excerpt.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections

from .crypto import encrypted_fields
from .errors import ConfigurationError

# Shorter values, and plain words, are not searched: "admin" or "integration" (a sandbox user's
# password) would match everywhere. The report lists their kinds.
MIN_NEEDLE = 8
# The formats of secrets the hub holds or passes on, whatever their value.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "hub API token": re.compile(r"\bhub_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}"),
    "Shopify token": re.compile(r"\bshp(?:at|ca|pa|ss)_[A-Za-z0-9_]{8,}"),
    "WooCommerce key": re.compile(r"\bc[ks]_[0-9a-f]{40}\b"),
    "Standard Webhooks secret": re.compile(r"\bwhsec_[A-Za-z0-9+/]{16,}={0,2}"),
    "Stripe key": re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    # A bearer value with a digit in it (prose says "Bearer authentication"), or Basic
    # credentials: base64 of "user:password".
    "Authorization header": re.compile(
        r"(?i)\bbearer\s+(?=[A-Za-z._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*"
        r"|\bbasic (?:[A-Za-z0-9+/]{4}){3,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?![\w+/=])"
    ),
}
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Planted kinds that are personal data, not secrets: searched in the logs only.
PERSONAL = {"customer_email"}
# Log files in a directory: what the hub's processes and the test session write.
LOG_SUFFIXES = (".log", ".jsonl", ".out", ".err")


@dataclass(frozen=True)
class Needle:
    """A secret the scan knows: it must not appear anywhere in plaintext. A personal value
    (a customer's e-mail) is searched in the logs only: the database keeps it for a purpose."""

    value: str
    kind: str
    source: str
    personal: bool = False


@dataclass(frozen=True)
class Finding:
    kind: str  # "planted api_token", "stored channel credential", "pattern Shopify token", "e-mail"
    where: str  # "db table.column (row 12)" or "log path:line"
    excerpt: str  # masked: never the secret itself

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.excerpt}"


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    needles: int = 0
    not_searched: list[str] = field(default_factory=list)  # kinds of values too plain to search
    tables: int = 0
    rows: int = 0
    files: int = 0
    lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def merge(self, other: ScanReport) -> ScanReport:
        self.findings += other.findings
        self.tables += other.tables
        self.rows += other.rows
        self.files += other.files
        self.lines += other.lines
        self.notes += other.notes
        return self

    def summary(self) -> str:
        head = (
            f"secrets scan: {len(self.findings)} finding(s); {self.needles} known secret(s), "
            f"{self.tables} table(s) / {self.rows} row(s), {self.files} log file(s) / "
            f"{self.lines} line(s)"
        )
        lines = [head, *(f"  {f}" for f in self.findings), *(f"  note: {n}" for n in self.notes)]
        if self.not_searched:
            lines.append(
                f"  not searched (plain words, or under {MIN_NEEDLE} characters): "
                f"{self.not_searched}"
            )
        return "\n".join(lines)


def mask(secret: str) -> str:
    """`abcd…[40]`: enough to tell which value, not enough to use it."""
    if EMAIL.fullmatch(secret):
        local, _, domain = secret.partition("@")
        return f"{local[:1]}…@{domain}"
    return f"{secret[:4]}…[{len(secret)}]"


# --- what the scan knows --------------------------------------------------------------------------


def planted_load(path: str | Path) -> list[Needle]:
    """Needles from a JSON-lines file of `{"kind", "value", "source"}` (missing file: none)."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            kind = str(row["kind"])
            out.append(
                Needle(str(row["value"]), f"planted {kind}", str(row["source"]), kind in PERSONAL)
            )
    return out


def planted_record(path: str | Path, *, kind: str, value: str, source: str) -> None:
    """Append one planted secret (the file is created with its directory)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": kind, "value": value, "source": source}) + "\n")


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def settings_secrets() -> list[Needle]:
    """The secrets the configuration holds."""
    found: list[tuple[str, str]] = [
        ("Odoo password", str(getattr(settings, "ODOO_PASSWORD", "") or "")),
        ("Odoo API key", str(getattr(settings, "ODOO_API_KEY", "") or "")),
        ("Django secret key", str(settings.SECRET_KEY)),
        ("Odoo webhook token", str(getattr(settings, "HUB_ODOO_WEBHOOK_TOKEN", "") or "")),
        ("Flower password", str(getattr(settings, "FLOWER_BASIC_AUTH", "")).partition(":")[2]),
        ("broker password", _url_password(str(getattr(settings, "CELERY_BROKER_URL", "")))),
        ("Redis password", _url_password(str(getattr(settings, "REDIS_URL", "") or ""))),
    ]
    found += [("field encryption key", str(k)) for k in settings.FIELD_ENCRYPTION_KEYS]
    found += [
        ("database password", str(d.get("PASSWORD") or "")) for d in settings.DATABASES.values()
    ]
    return [Needle(value, kind, "settings") for kind, value in found if value]


def stored_secrets(using: str = "default") -> tuple[list[Needle], list[str]]:
    """Every encrypted value in the database, decrypted: the secrets the hub holds."""
    needles: list[Needle] = []
    notes: list[str] = []
    for model, names in encrypted_fields():
        label = model._meta.label
        try:
            for row in model._default_manager.using(using).values_list(*names):
                for name, value in zip(names, row, strict=True):
                    if value:
                        needles.append(Needle(str(value), f"stored {label}.{name}", "database"))
        except ConfigurationError as exc:
            notes.append(f"{label}: {exc}")
    return needles, notes


def searchable(value: str) -> bool:
    """Long enough, and not a plain word or number: a secret, not prose."""
    plain = value.isdigit() or (value.isalpha() and (value.islower() or value.isupper()))
    return len(value) >= MIN_NEEDLE and not plain


def _usable(needles: Iterable[Needle], report: ScanReport) -> list[Needle]:
    seen: dict[str, Needle] = {}
    for n in needles:
        if not searchable(n.value):
            if n.kind not in report.not_searched:
                report.not_searched.append(n.kind)
            continue
        seen.setdefault(n.value, n)
    report.needles = len(seen)
    return list(seen.values())


# --- matching -------------------------------------------------------------------------------------


class Matcher:
    """One pass over a text: the known secrets (one regex), then the patterns."""

    def __init__(self, needles: list[Needle], *, emails: bool) -> None:
        self.by_value = {n.value: n for n in needles}
        ordered = sorted(self.by_value, key=len, reverse=True)
        self.known = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.emails = emails

    def find(self, text: str) -> Iterator[tuple[str, str, int, int]]:
        """(kind, matched text, start, end) for each hit."""
        if self.known is not None:
            for m in self.known.finditer(text):
                yield self.by_value[m.group()].kind, m.group(), m.start(), m.end()
        for kind, pattern in SECRET_PATTERNS.items():
            for m in pattern.finditer(text):
                if _plausible(m.group()):
                    yield f"pattern {kind}", m.group(), m.start(), m.end()
        if self.emails:
            for m in EMAIL.finditer(text):
                yield "e-mail", m.group(), m.start(), m.end()

    def findings(self, text: str, where: str) -> list[Finding]:
        out = []
        for kind, hit, start, end in self.find(text):
            before = text[max(0, start - 24) : start].replace("\n", " ")
            after = text[end : end + 16].replace("\n", " ")
            out.append(Finding(kind, where, f"…{before}{mask(hit)}{after}…"))
        return out


def _plausible(hit: str) -> bool:
    """Basic credentials decode to "user:password" (prose that looks like base64 does not)."""
    scheme, _, value = hit.partition(" ")
    if scheme.lower() != "basic":
        return True
    try:
        return b":" in base64.b64decode(value.strip(), validate=True)
    except ValueError:
        return False


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return ""  # numbers, dates, booleans: no secret fits in them


def _session_text(value: Any) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    decoded = SessionStore().decode(_text(value))
    return json.dumps(decoded, ensure_ascii=False, default=str)


# --- the database ---------------------------------------------------------------------------------


def nonempty_tables(using: str = "default") -> list[str]:
    """The tables that hold at least one row, in one query."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        q = connection.ops.quote_name
        found: list[str] = []
        for start in range(0, len(tables), 200):  # SQLite caps a compound SELECT at 500 terms
            chunk = tables[start : start + 200]
            sql = " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {q(t)})"  # noqa: S608  introspected names
                for t in chunk
            )
            cursor.execute(sql)
            found += [row[0] for row in cursor.fetchall()]
    return found


def scan_database(
    needles: list[Needle], *, using: str = "default", tables: Iterable[str] | None = None
) -> ScanReport:
    """Every text, JSON and bytes value of every table (or of `tables`); e-mails are not
    findings here."""
    report = ScanReport()
    connection = connections[using]
    matcher = Matcher([n for n in needles if not n.personal], emails=False)
    encrypted = {
        (model._meta.db_table, f.column)
        for model, names in encrypted_fields()
        for f in model._meta.concrete_fields
        if f.attname in names
    }
    with connection.cursor() as cursor:
        if tables is None:
            tables = sorted(connection.introspection.table_names(cursor))
        q = connection.ops.quote_name
        for table in tables:
            cols = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            keep = [c for c in cols if (table, c) not in encrypted]
            if not keep:
                continue
            report.tables += 1
            select = ", ".join(q(c) for c in [cols[0], *keep])
            cursor.execute(f"SELECT {select} FROM {q(table)}")  # noqa: S608  introspected names
            while rows := cursor.fetchmany(500):
                report.rows += len(rows)
                for row in rows:
                    for col, value in zip(keep, row[1:], strict=True):
                        if table == "django_session" and col == "session_data":
                            text = _session_text(value)
                        else:
                            text = _text(value)
                        if len(text) >= MIN_NEEDLE:
                            where = f"db {table}.{col} (row {row[0]})"
                            report.findings += matcher.findings(text, where)
    return report


# --- logs -----------------------------------------------------------------------------------------


def log_files(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """The files named, and the log files under each directory named (recursively), but not
    those in `exclude` (the planted files: they hold the secrets on purpose)."""
    skip = {Path(p).resolve() for p in exclude}
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.is_file() and any(s in f.name for s in LOG_SUFFIXES)
            )
    return [p for p in out if p.resolve() not in skip]


def scan_logs(
    needles: list[Needle], paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()
) -> ScanReport:
    """Every line of the log files: known secrets, secret patterns and e-mail addresses."""
    report = ScanReport()
    matcher = Matcher(needles, emails=True)
    for path in log_files(paths, exclude):
        report.files += 1
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                report.lines += 1
                report.findings += matcher.findings(line, f"log {path}:{number}")
    return report


# --- both -----------------------------------------------------------------------------------------


def known_secrets(
    *, planted: Iterable[Needle] = (), using: str | None = "default"
) -> tuple[list[Needle], ScanReport]:
    """The searchable secrets: the settings', the planted ones and (with `using`) the stored
    ones; the report carries the count and what could not be searched."""
    report = ScanReport()
    needles = [*settings_secrets(), *planted]
    if using is not None:
        stored, notes = stored_secrets(using)
        needles += stored
        report.notes += notes
    return _usable(needles, report), report


def scan(
    *,
    logs: Iterable[str | Path] = (),
    planted: Iterable[str | Path] = (),
    extra: Iterable[Needle] = (),
    database: bool = True,
    using: str = "default",
) -> ScanReport:
    """The whole scan: what the settings, the database and the planted files know, searched for
    in the database (when `database`) and in the logs."""
    planted = list(planted)
    needles = list(extra)
    for path in planted:
        needles += planted_load(path)
    usable, report = known_secrets(planted=needles, using=using if database else None)
    if database:
        report.merge(scan_database(usable, using=using))
    report.merge(scan_logs(usable, logs, exclude=planted))
    return report
