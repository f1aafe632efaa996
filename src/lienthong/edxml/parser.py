"""Safe, tolerant, streaming edXML parser.

Contract:

* **Safe.** No DTD, no entities, no network: a DOCTYPE anywhere is refused with
  ``EDXML_DOCTYPE_FORBIDDEN`` before any entity could be expanded. Every size is bounded
  (:class:`~lienthong.edxml.attachments.Limits`).
* **Tolerant.** Elements are matched by namespace URI and local name, never by prefix; the
  real-world dialects of ``vietnam-standards.md`` §1 are accepted (default or prefixed
  namespace, ``AttachmentEncoded`` outside the envelope, ``Signature`` in any namespace,
  ``cid:`` on either side or none, undeclared ``xlink:``/``edXML:`` prefixes, empty
  ``ResponseFor``, TraceHeaders without OrganId, BOM, CRLF).
* **Streaming.** Packages up to ``inline_threshold`` bytes are parsed by lxml in one go
  (fastest). Larger ones go through :class:`_Splitter`, which streams every
  ``ContentTransferEncoded`` text straight into a base64 decoder and hands lxml only the
  small remaining markup, so a 200 MB attachment costs a few MB of memory and libxml2's
  10 MB text-node limit never applies.
* **Typed.** Anything that prevents reading raises :class:`EdxmlError` with one
  :class:`Problem` saying what and where; never another exception.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from lxml import etree

from lienthong.edxml.attachments import (
    DEFAULT_LIMITS,
    Base64Decoder,
    Blob,
    Limits,
    decode_base64_text,
    unwrap_zip,
)
from lienthong.edxml.errors import Code, EdxmlError, Problem
from lienthong.edxml.model import (
    NS,
    XLINK_NS,
    XMLDSIG_NS,
    Attachment,
    Business,
    BusinessDocumentInfo,
    DocumentCode,
    DocumentType,
    Edoc,
    ManifestReference,
    Organization,
    OtherInfo,
    Package,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignatureInfo,
    SignerInfo,
    StaffInfo,
    Status,
    TraceHeader,
)

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
_T = TypeVar("_T")

_CTE = "ContentTransferEncoded"
_CTE_B = _CTE.encode()
_NS_CURLY = "{" + NS + "}"
_KNOWN_PREFIXES = {
    "edXML": NS,
    "xlink": XLINK_NS,
    "ds": XMLDSIG_NS,
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xsd": "http://www.w3.org/2001/XMLSchema",
}
_UNDECLARED = re.compile(r"Namespace prefix (\S+) (?:for \S+ )?on \S+ is not defined")
_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_OK_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii"}
_START_TAG = re.compile(rb"""<([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_END_TAG = re.compile(rb"</([^\s>]+)\s*>")
_ROOT_NAME = re.compile(rb"<[^\s/>!?]+")
_PROLOG_WINDOW = 1 << 16


def _new_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,  # indentation between elements: never data, ~10 % faster
        collect_ids=False,
    )


_XML_PARSER = _new_xml_parser()


# --------------------------------------------------------------------------- entry point


def parse(
    source: Source,
    *,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
    attachment: int | None = None,
) -> Package:
    """Read one edXML package (document or status) from bytes, a path or a binary stream.

    With ``strict=True`` an attachment whose content cannot be decoded raises; by default
    it is kept with its :class:`Problem` (``Attachment.problem``) so the rest of the
    package can still be inspected, and :func:`~lienthong.edxml.validate.validate`
    reports it as an error.

    ``attachment=i`` reads only the i-th attachment's content (1-based): the ones before it
    keep their metadata without content, the ones after it are not read at all — what a
    client asking for one attachment needs.
    """
    opts = _Options(strict, attachment)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) <= limits.inline_threshold:
            return _parse_inline(data, limits, opts)
        return _parse_streaming(io.BytesIO(data), limits, opts)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            size = os.path.getsize(path)
            if size <= limits.inline_threshold:
                with open(path, "rb") as fh:
                    return _parse_inline(fh.read(), limits, opts)
            with open(path, "rb") as fh:
                return _parse_streaming(fh, limits, opts)
        except OSError as exc:
            raise EdxmlError.of(Code.MALFORMED, "", detail=f"cannot read {path}: {exc}") from None
    head = _read_at_least(source, limits.inline_threshold + 1)
    if len(head) <= limits.inline_threshold:
        return _parse_inline(head, limits, opts)
    return _parse_streaming(source, limits, opts, prefix=head)


def _read_at_least(stream: IO[bytes], n: int) -> bytes:
    """Read ``n`` bytes unless the stream ends first (a short read is not the end)."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


@dataclass(frozen=True)
class _Options:
    strict: bool
    attachment: int | None


def _parse_inline(data: bytes, limits: Limits, opts: _Options) -> Package:
    if len(data) > limits.max_package_bytes:
        raise EdxmlError.of(Code.TOO_LARGE, "", detail=f"{len(data)} > {limits.max_package_bytes}")
    start = _check_prolog(data)
    root = _parse_xml(data[start:] if start else data)
    return _Reader(limits, opts, None).package(root)


def _parse_streaming(
    stream: IO[bytes], limits: Limits, opts: _Options, prefix: bytes = b""
) -> Package:
    splitter = _Splitter(stream, limits, prefix)
    markup = splitter.run()
    root = _parse_xml(markup)
    return _Reader(limits, opts, splitter.decoded).package(root)


# --------------------------------------------------------------------------- bytes level


def _check_prolog(data: bytes) -> int:
    """Refuse what must never reach the XML parser; return where the XML starts."""
    if not data or data.isspace():
        raise EdxmlError.of(Code.EMPTY)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise EdxmlError.of(Code.ENCODING, detail="UTF-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise EdxmlError.of(Code.ENCODING, detail="UTF-16")
    if b"\x00" in data[:4]:
        raise EdxmlError.of(Code.ENCODING, detail="UTF-16/UTF-32 without byte-order mark")
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    lt = data.find(b"<", start)
    if lt < 0:
        raise EdxmlError.of(Code.MALFORMED, line=1, column=1, detail="no XML markup at all")
    if lt > start and data[start:lt].strip():
        stray = data[start:lt]
        raise EdxmlError.of(
            Code.STRAY_BYTES,
            count=len(stray),
            preview=repr(stray[:16])[1:] + ("…" if len(stray) > 16 else ""),
            end=lt - 1,
        )
    if lt > start:
        start = lt  # whitespace before the declaration: tolerated
    m = _ENCODING_DECL.match(data, start)
    if m and m.group(1).decode().lower() not in _OK_ENCODINGS:
        raise EdxmlError.of(Code.ENCODING, detail=m.group(1).decode())
    _refuse_doctype(data, start)
    return start


def _refuse_doctype(data: bytes, pos: int) -> None:
    """Walk the prolog (declaration, comments, PIs) and refuse a DOCTYPE."""
    end = len(data)
    while pos < end:
        lt = data.find(b"<", pos)
        if lt < 0:
            return
        if data.startswith(b"<?", lt):
            close = data.find(b"?>", lt)
            if close < 0:
                return
            pos = close + 2
        elif data.startswith(b"<!--", lt):
            close = data.find(b"-->", lt + 4)
            if close < 0:
                return
            pos = close + 3
        elif data.startswith(b"<!", lt):
            raise EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
        else:
            return  # the root element: the prolog is over


def _parse_xml(data: bytes) -> Any:
    """lxml parse with typed errors; declares the prefixes real traffic forgets."""
    injected: list[str] = []
    while True:
        try:
            root = etree.fromstring(data, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            msg = exc.msg or str(exc)
            m = _UNDECLARED.search(msg)
            if m and m.group(1) not in injected and len(injected) < 16:
                prefix = m.group(1)
                injected.append(prefix)
                data = _declare_prefix(data, prefix)
                continue
            raise _syntax_error(exc) from None
        except (ValueError, MemoryError) as exc:  # e.g. lxml refusing odd input
            raise EdxmlError.of(Code.MALFORMED, line=1, column=1, detail=str(exc)) from None
        if root.getroottree().docinfo.internalDTD is not None:
            raise EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
        return root


def _declare_prefix(data: bytes, prefix: str) -> bytes:
    pos = 0
    while True:
        m = _ROOT_NAME.search(data, pos)
        if m is None:
            return data
        if data.startswith(b"<!--", m.start()):
            pos = data.find(b"-->", m.start()) + 3
            continue
        uri = _KNOWN_PREFIXES.get(prefix, f"urn:lienthong:undeclared:{prefix}")
        decl = f' xmlns:{prefix}="{uri}"'.encode()
        return data[: m.end()] + decl + data[m.end() :]


def _syntax_error(exc: etree.XMLSyntaxError) -> EdxmlError:
    msg = (exc.msg or str(exc)).strip()
    line, column = exc.position if exc.position else (0, 0)
    low = msg.lower()
    if "depth" in low:
        return EdxmlError.of(Code.TOO_DEEP, line=line, column=column, limit=256)
    if "huge" in low or "too long" in low:
        return EdxmlError.of(Code.TOO_LARGE, line=line, column=column, detail=msg)
    if "document is empty" in low:
        return EdxmlError.of(Code.EMPTY)
    if "entity" in low and ("amplification" in low or "loop" in low):
        return EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
    return EdxmlError.of(Code.MALFORMED, line=line, column=column, detail=msg)


class _Splitter:
    """Streams a large package: attachment text goes to base64 decoders, the rest of the
    markup is kept (bounded by ``max_markup_bytes``) for lxml.

    It is a small XML tokenizer that only has to know where text ends and markup begins:
    comments, CDATA sections and processing instructions are skipped whole, tags are
    matched with their quoted attributes. Well-formedness of everything it keeps is then
    checked by lxml, and the i-th ``ContentTransferEncoded`` element lxml sees receives the
    i-th decoded content. Inside attachment text it reads what lxml would read: comments
    and PIs dropped, CDATA and character references kept.

    Kept markup is copied out in large slices (``mark``..``pos``), not token by token, so
    memory stays close to the size of the markup itself.
    """

    def __init__(self, stream: IO[bytes], limits: Limits, prefix: bytes) -> None:
        self.stream = stream
        self.limits = limits
        self.buf = prefix
        self.pos = 0  # next byte to look at
        self.mark = 0  # start of the kept region not yet copied out
        self.eof = False
        self.total = len(prefix)
        self.out: list[bytes] = []
        self.out_size = 0
        self.decoded: list[Blob | Problem] = []

    def _flush(self) -> None:
        if self.pos > self.mark:
            self.out.append(self.buf[self.mark : self.pos])
            self.out_size += self.pos - self.mark
        self.mark = self.pos

    def _more(self) -> bool:
        """Append the next chunk; bytes before ``pos`` are dropped (kept ones copied out)."""
        if self.eof:
            return False
        chunk = self.stream.read(self.limits.chunk_size)
        if not chunk:
            self.eof = True
            return False
        self.total += len(chunk)
        if self.total > self.limits.max_package_bytes:
            raise EdxmlError.of(
                Code.TOO_LARGE, detail=f"more than {self.limits.max_package_bytes} bytes"
            )
        if self.mark < self.pos:
            self._flush()
        self.buf = self.buf[self.pos :] + chunk
        self.pos = self.mark = 0
        return True

    def _keep(self, end: int) -> None:
        if self.out_size + end - self.mark > self.limits.max_markup_bytes:
            raise EdxmlError.of(
                Code.TOO_LARGE,
                detail=f"more than {self.limits.max_markup_bytes} bytes outside attachments",
            )
        self.pos = end

    def _lookahead(self, n: int) -> None:
        while len(self.buf) - self.pos < n and self._more():
            pass

    def _find(self, needle: bytes, start_offset: int) -> int:
        """Index of ``needle`` at or after pos+start_offset, reading more as needed."""
        while True:
            i = self.buf.find(needle, self.pos + start_offset)
            if i >= 0:
                return i
            if len(self.buf) - self.pos > self.limits.max_markup_bytes:
                raise EdxmlError.of(Code.TOO_LARGE, detail="markup token too long")
            if not self._more():
                raise EdxmlError.of(
                    Code.MALFORMED, detail=f"unterminated markup near byte {self.total}"
                )

    def _match(self, pattern: re.Pattern[bytes]) -> re.Match[bytes]:
        """Match a tag at pos; an incomplete tag reads more input (bounded)."""
        while True:
            m = pattern.match(self.buf, self.pos)
            if m:
                return m
            if len(self.buf) - self.pos > self.limits.max_markup_bytes or not self._more():
                raise EdxmlError.of(Code.MALFORMED, detail=f"malformed tag near byte {self.total}")

    def run(self) -> bytes:
        self._lookahead(_PROLOG_WINDOW)
        self.pos = self.mark = _check_prolog(self.buf)
        while True:
            lt = self.buf.find(b"<", self.pos)
            if lt < 0:
                self._keep(len(self.buf))
                if not self._more():
                    break
                continue
            self._keep(lt)
            self._lookahead(9)
            b, p = self.buf, self.pos
            if b.startswith(b"<!--", p):
                self._keep(self._find(b"-->", 4) + 3)
            elif b.startswith(b"<![CDATA[", p):
                self._keep(self._find(b"]]>", 9) + 3)
            elif b.startswith(b"<?", p):
                self._keep(self._find(b"?>", 2) + 2)
            elif b.startswith(b"<!", p):
                raise EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
            elif b.startswith(b"</", p):
                self._keep(self._match(_END_TAG).end())
            else:
                m = self._match(_START_TAG)
                self._keep(m.end())
                if m.group(1).rpartition(b":")[2] == _CTE_B:
                    if m.group(2):  # <ContentTransferEncoded/>: empty content
                        self.decoded.append(Blob.from_bytes(b""))
                    else:
                        self._attachment_text()
        self._flush()
        return b"".join(self.out)

    def _attachment_text(self) -> None:
        if len(self.decoded) >= self.limits.max_attachments:
            raise EdxmlError.of(
                Code.TOO_LARGE, detail=f"more than {self.limits.max_attachments} attachments"
            )
        self._flush()  # everything up to the start tag is kept; the text is not
        field = f"AttachmentEncoded/Attachment[{len(self.decoded) + 1}]/{_CTE}"
        decoder: Base64Decoder | None = Base64Decoder(field, self.limits)
        failure: Problem | None = None

        def feed(start: int, end: int) -> None:
            nonlocal decoder, failure
            if decoder is None or end <= start:
                return
            try:
                text = self.buf[start:end]
                decoder.feed(_unescape(text) if b"&" in text else text)
            except EdxmlError as exc:
                failure, decoder = exc.problem, None

        while True:
            lt = self.buf.find(b"<", self.pos)
            if lt < 0:
                end = len(self.buf)
                amp = self.buf.rfind(b"&", self.pos)
                if amp >= 0 and self.buf.find(b";", amp) < 0:
                    end = amp  # a reference cut by the chunk boundary: wait for the rest
                feed(self.pos, end)
                self.pos = self.mark = end
                if not self._more():
                    if decoder is not None:
                        decoder.discard()
                    raise EdxmlError.of(Code.MALFORMED, detail="attachment text never ends")
                continue
            feed(self.pos, lt)
            self.pos = self.mark = lt
            self._lookahead(9)
            if self.buf.startswith(b"<!--", self.pos):
                self.pos = self.mark = self._find(b"-->", 4) + 3
            elif self.buf.startswith(b"<?", self.pos):
                self.pos = self.mark = self._find(b"?>", 2) + 2
            elif self.buf.startswith(b"<![CDATA[", self.pos):
                end = self._find(b"]]>", 9)
                feed(self.pos + 9, end)
                self.pos = self.mark = end + 3
            else:
                break
        while self.buf.find(b">", self.pos) < 0 and self._more():
            pass  # the end tag may straddle a chunk boundary
        m = _END_TAG.match(self.buf, self.pos)
        if m is None or m.group(1).rpartition(b":")[2] != _CTE_B:
            if decoder is not None:
                decoder.discard()
            raise EdxmlError.of(Code.ATTACHMENT_CONTENT, field)
        if decoder is not None:
            try:
                self.decoded.append(decoder.finish())
            except EdxmlError as exc:
                self.decoded.append(exc.problem)
        else:
            assert failure is not None
            self.decoded.append(failure)


_CHAR_REF = re.compile(rb"&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));")
_NAMED = {b"amp": b"&", b"lt": b"<", b"gt": b">", b"quot": b'"', b"apos": b"'"}


def _unescape(text: bytes) -> bytes:
    """Resolve the character references lxml would resolve; refuse anything else."""

    def one(m: re.Match[bytes]) -> bytes:
        if m.group(3):
            return _NAMED[m.group(3)]
        code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        try:
            return chr(code).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            raise EdxmlError.of(
                Code.MALFORMED, detail=f"invalid character reference {code}"
            ) from None

    out = _CHAR_REF.sub(one, text)
    if b"&" in _CHAR_REF.sub(b"", text):
        raise EdxmlError.of(Code.MALFORMED, detail="undefined entity in attachment text")
    return out


# --------------------------------------------------------------------------- tree level
#
# The walk is the hot path for small packages, so it avoids per-element function calls:
# every known element name is looked up once in a dict holding both its namespaced and
# its bare form (elements of other namespaces are simply not found and so ignored).

_VOCABULARY = (
    "edXMLEnvelope edXMLHeader edXMLBody edXMLManifest Reference AttachmentEncoded Attachment "
    "MessageHeader TraceHeaderList TraceHeader Bussiness From To DocumentId Code "
    "PromulgationInfo DocumentType Subject Content SignerInfo DueDate OtherInfo ResponseFor "
    "SteeringType ToPlaces Place Appendixes Appendix StaffInfo StatusCode Description Timestamp "
    "BussinessDocumentInfo ReceiverList Receiver ReplacementInfoList ReplacementInfo "
    "OrganIdList OrganId " + _CTE
).split()
_LOCAL: dict[str, str] = {}
for _name in _VOCABULARY:
    _LOCAL[_NS_CURLY + _name] = _name
    _LOCAL[_name] = _name


def _fields(spec: dict[str, str]) -> dict[str, str]:
    """local name → attribute, keyed by both the namespaced and the bare tag."""
    out: dict[str, str] = {}
    for local, attr in spec.items():
        out[_NS_CURLY + local] = attr
        out[local] = attr
    return out


def _fill(obj: _T, el: Any, fields: dict[str, str]) -> _T:
    for child in el:
        attr = fields.get(child.tag)
        if attr is not None:
            t = child.text
            setattr(obj, attr, t.strip() if t else "")
    return obj


def _texts(el: Any, name: str) -> list[str]:
    out = []
    for child in el:
        if _LOCAL.get(child.tag) == name:
            t = child.text
            out.append(t.strip() if t else "")
    return out


def _any_local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


_ORG = _fields(
    {
        "OrganId": "organ_id",
        "OrganizationInCharge": "organization_in_charge",
        "OrganName": "organ_name",
        "OrganAdd": "organ_add",
        "Email": "email",
        "Telephone": "telephone",
        "Fax": "fax",
        "Website": "website",
    }
)
_CODE = _fields({"CodeNumber": "number", "CodeNotation": "notation"})
_PROMULGATION = _fields({"Place": "place", "PromulgationDate": "date"})
_DOCTYPE = _fields({"Type": "type", "TypeDetail": "type_detail", "TypeName": "type_name"})
_SIGNER = _fields({"Competence": "competence", "Position": "position", "FullName": "full_name"})
_OTHER = _fields(
    {
        "Priority": "priority",
        "SphereOfPromulgation": "sphere_of_promulgation",
        "TyperNotation": "typer_notation",
        "PromulgationAmount": "promulgation_amount",
        "PageAmount": "page_amount",
        "Direction": "direction",
    }
)
_RESPONSE = _fields(
    {
        "OrganId": "organ_id",
        "Code": "code",
        "PromulgationDate": "promulgation_date",
        "DocumentId": "document_id",
    }
)
_TRACE = _fields({"OrganId": "organ_id", "Timestamp": "timestamp"})
_STAFF = _fields(
    {"Department": "department", "Staff": "staff", "Email": "email", "Mobile": "mobile"}
)
_RECEIVER = _fields({"OrganId": "organ_id", "ReceiverType": "receiver_type"})
_REFERENCE = _fields(
    {
        "ContentId": "content_id",
        "ContentType": "content_type",
        "Description": "description",
        "AttachmentName": "attachment_name",
    }
)
_ATTACHMENT = _fields(
    {
        "ContentId": "content_id",
        "AttachmentName": "name",
        "Description": "description",
        "ContentType": "content_type",
    }
)
_BUSINESS = _fields(
    {
        "DocumentId": "document_id",
        "BussinessDocType": "doc_type",
        "BussinessDocReason": "reason",
        "Paper": "paper",
    }
)
_BUSINESS_INFO = _fields({"DocumentInfo": "document_info", "DocumentReceiver": "document_receiver"})
_EDOC_TEXT = _fields(
    {
        "DocumentId": "document_id",
        "Subject": "subject",
        "Content": "content",
        "DueDate": "due_date",
        "SteeringType": "steering_type",
    }
)
_STATUS_TEXT = _fields(
    {"StatusCode": "status_code", "Description": "description", "Timestamp": "timestamp"}
)


class _Reader:
    def __init__(
        self, limits: Limits, opts: _Options, decoded: list[Blob | Problem] | None
    ) -> None:
        self.limits = limits
        self.strict = opts.strict
        self.only = opts.attachment
        self.decoded = decoded
        #: bytes inflated from ZIP-wrapped attachments so far (Limits.max_inflated_bytes)
        self.inflated = 0
        self.by_element: dict[Any, Blob | Problem] = {}

    def package(self, root: Any) -> Package:
        tag = root.tag if isinstance(root.tag, str) else ""
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if local != "edXML":
            raise EdxmlError.of(Code.WRONG_ROOT, "edXML", detail=f"<{local or tag}>")
        if ns != NS:
            raise EdxmlError.of(Code.WRONG_NAMESPACE, "edXML", detail=ns or "(none)")
        if self.decoded is not None:
            ctes = [el for el in root.iter() if _any_local(el) == _CTE]
            if len(ctes) != len(self.decoded):  # the splitter and lxml disagree: refuse
                raise EdxmlError.of(Code.MALFORMED, detail="inconsistent attachment markup")
            self.by_element = dict(zip(ctes, self.decoded, strict=True))

        envelope = header = body = message = trace_list = None
        signature: SignatureInfo | None = None
        encoded: list[Any] = []
        for child in root:
            name = _LOCAL.get(child.tag)
            if name == "edXMLEnvelope":
                envelope = child
            elif name == "AttachmentEncoded":
                encoded.append(child)
        if envelope is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope")
        for child in envelope:
            name = _LOCAL.get(child.tag)
            if name == "edXMLHeader":
                header = child
            elif name == "edXMLBody":
                body = child
            elif name == "AttachmentEncoded":
                encoded.append(child)
        if header is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope/edXMLHeader")
        for child in header:
            name = _LOCAL.get(child.tag)
            if name == "MessageHeader":
                message = child
            elif name == "TraceHeaderList":
                trace_list = child
            elif _any_local(child) == "Signature":
                signature = _signature(child)
        if message is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLHeader/MessageHeader")
        if (
            message.find(_NS_CURLY + "StatusCode") is not None
            or message.find("StatusCode") is not None
        ):
            status = _status(message)
            status.signature = signature
            return status
        edoc = _edoc(message)
        edoc.signature = signature
        if trace_list is not None:
            _trace(edoc, trace_list)
        if body is not None:
            for child in body:
                name = _LOCAL.get(child.tag)
                if name == "edXMLManifest":
                    edoc.manifest = [
                        _fill(ManifestReference(), ref, _REFERENCE)
                        for ref in child
                        if _LOCAL.get(ref.tag) == "Reference"
                    ]
                elif name == "AttachmentEncoded":
                    encoded.append(child)
        wanted = self.only
        for block in encoded:
            for child in block:
                if wanted is not None and len(edoc.attachments) >= wanted:
                    break  # the attachment asked for is read: the rest is not
                if _LOCAL.get(child.tag) == "Attachment":
                    if len(edoc.attachments) >= self.limits.max_attachments:
                        edoc.close()
                        raise EdxmlError.of(
                            Code.TOO_LARGE,
                            detail=f"more than {self.limits.max_attachments} attachments",
                        )
                    edoc.attachments.append(self._attachment(child, len(edoc.attachments) + 1))
        if wanted is not None:  # contents decoded while streaming but never asked for
            kept = {id(a.content) for a in edoc.attachments}
            for blob in self.by_element.values():
                if isinstance(blob, Blob) and id(blob) not in kept:
                    blob.close()
        return edoc

    def _attachment(self, el: Any, index: int) -> Attachment:
        att = _fill(Attachment(), el, _ATTACHMENT)
        field = f"AttachmentEncoded/Attachment[{index}]/{_CTE}"
        cte = next((c for c in el if _LOCAL.get(c.tag) == _CTE), None)
        if self.only is not None and index != self.only:
            skipped = self.by_element.get(cte) if self.decoded is not None else None
            if isinstance(skipped, Blob):
                skipped.close()  # decoded while streaming, not asked for
            return att  # metadata only
        content: Blob | Problem
        if cte is None:
            content = Blob.from_bytes(b"")
        elif self.decoded is not None:
            content = self.by_element[cte]
        elif len(cte):
            raise EdxmlError.of(Code.ATTACHMENT_CONTENT, field)
        else:
            try:
                content = decode_base64_text(cte.text or "", field, self.limits)
            except EdxmlError as exc:
                content = exc.problem
        if isinstance(content, Blob):
            try:
                inner = unwrap_zip(
                    content,
                    att.name or "",
                    field,
                    self.limits,
                    budget=self.limits.max_inflated_bytes - self.inflated,
                )
            except EdxmlError as exc:
                content.close()
                content = exc.problem
            else:
                if inner is not None:
                    content, att.unwrapped_zip = inner, True
                    self.inflated += inner.size
        if isinstance(content, Blob):
            att.content = content
        else:
            if self.strict:
                raise EdxmlError(content)
            att.problem = content
        return att


def _edoc(mh: Any) -> Edoc:
    edoc = Edoc()
    for child in mh:
        tag = child.tag
        attr = _EDOC_TEXT.get(tag)
        if attr is not None:
            t = child.text
            setattr(edoc, attr, t.strip() if t else "")
            continue
        name = _LOCAL.get(tag)
        if name == "To":
            edoc.recipients.append(_fill(Organization(), child, _ORG))
        elif name == "From":
            edoc.sender = _fill(Organization(), child, _ORG)
        elif name == "Code":
            edoc.code = _fill(DocumentCode(), child, _CODE)
        elif name == "PromulgationInfo":
            edoc.promulgation = _fill(PromulgationInfo(), child, _PROMULGATION)
        elif name == "DocumentType":
            edoc.document_type = _fill(DocumentType(), child, _DOCTYPE)
        elif name == "SignerInfo":
            edoc.signer = _fill(SignerInfo(), child, _SIGNER)
        elif name == "OtherInfo":
            info = edoc.other_info = _fill(OtherInfo(), child, _OTHER)
            for sub in child:
                if _LOCAL.get(sub.tag) == "Appendixes":
                    info.appendixes = _texts(sub, "Appendix")
        elif name == "ResponseFor":
            edoc.response_for.append(_fill(ResponseFor(), child, _RESPONSE))
        elif name == "ToPlaces":
            edoc.to_places = _texts(child, "Place")
    return edoc


def _status(mh: Any) -> Status:
    status = Status()
    for child in mh:
        tag = child.tag
        attr = _STATUS_TEXT.get(tag)
        if attr is not None:
            t = child.text
            setattr(status, attr, t.strip() if t else "")
            continue
        name = _LOCAL.get(tag)
        if name == "From":
            status.sender = _fill(Organization(), child, _ORG)
        elif name == "ResponseFor":
            status.response_for = _fill(ResponseFor(), child, _RESPONSE)
        elif name == "StaffInfo":
            status.staff = _fill(StaffInfo(), child, _STAFF)
    return status


def _trace(edoc: Edoc, trace_list: Any) -> None:
    for child in trace_list:
        name = _LOCAL.get(child.tag)
        if name == "TraceHeader":
            edoc.trace_headers.append(_fill(TraceHeader(), child, _TRACE))
        elif name == "Bussiness":
            edoc.business = _business(child)


def _business(el: Any) -> Business:
    business = _fill(Business(), el, _BUSINESS)
    for child in el:
        name = _LOCAL.get(child.tag)
        if name == "BussinessDocumentInfo":
            info = business.document_info = _fill(BusinessDocumentInfo(), child, _BUSINESS_INFO)
            for sub in child:
                if _LOCAL.get(sub.tag) == "ReceiverList":
                    info.receivers = [
                        _fill(Receiver(), r, _RECEIVER)
                        for r in sub
                        if _LOCAL.get(r.tag) == "Receiver"
                    ]
        elif name == "ReplacementInfoList":
            business.replacements = []
            for sub in child:
                if _LOCAL.get(sub.tag) != "ReplacementInfo":
                    continue
                rep = ReplacementInfo()
                for r in sub:
                    rname = _LOCAL.get(r.tag)
                    if rname == "DocumentId":
                        t = r.text
                        rep.document_id = t.strip() if t else ""
                    elif rname == "OrganIdList":
                        rep.organ_ids = _texts(r, "OrganId")
                business.replacements.append(rep)
        elif name == "StaffInfo":
            business.staff = _fill(StaffInfo(), child, _STAFF)
    return business


def _signature(el: Any) -> SignatureInfo:
    tag = el.tag
    ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    info = SignatureInfo(namespace=ns)
    for d in el.iter("{*}SignatureMethod", "{*}DigestMethod", "{*}X509Certificate"):
        name = _any_local(d)
        if name == "SignatureMethod":
            info.signature_method = d.get("Algorithm")
        elif name == "DigestMethod" and info.digest_method is None:
            info.digest_method = d.get("Algorithm")
        elif name == "X509Certificate" and (d.text or "").strip():
            info.has_certificate = True
    return info
