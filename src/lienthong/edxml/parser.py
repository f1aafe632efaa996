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
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal, TypeVar

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


def _new_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_XML_PARSER = _new_xml_parser()


# --------------------------------------------------------------------------- entry point


def parse(
    source: Source,
    *,
    limits: Limits = DEFAULT_LIMITS,
    strict: bool = False,
) -> Package:
    """Read one edXML package (document or status) from bytes, a path or a binary stream.

    With ``strict=True`` an attachment whose content cannot be decoded raises; by default
    it is kept with its :class:`Problem` (``Attachment.problem``) so the rest of the
    package can still be inspected, and :func:`~lienthong.edxml.validate.validate`
    reports it as an error.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) <= limits.inline_threshold:
            return _parse_inline(data, limits, strict)
        return _parse_streaming(io.BytesIO(data), limits, strict)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            size = os.path.getsize(path)
            if size <= limits.inline_threshold:
                with open(path, "rb") as fh:
                    return _parse_inline(fh.read(), limits, strict)
            with open(path, "rb") as fh:
                return _parse_streaming(fh, limits, strict)
        except OSError as exc:
            raise EdxmlError.of(Code.MALFORMED, "", detail=f"cannot read {path}: {exc}") from None
    head = source.read(limits.inline_threshold + 1)
    if len(head) <= limits.inline_threshold:
        return _parse_inline(head, limits, strict)
    return _parse_streaming(source, limits, strict, prefix=head)


def _parse_inline(data: bytes, limits: Limits, strict: bool) -> Package:
    if len(data) > limits.max_package_bytes:
        raise EdxmlError.of(Code.TOO_LARGE, "", detail=f"{len(data)} > {limits.max_package_bytes}")
    start = _check_prolog(data)
    root = _parse_xml(data[start:] if start else data)
    return _Reader(limits, strict, None).package(root)


def _parse_streaming(
    stream: IO[bytes], limits: Limits, strict: bool, prefix: bytes = b""
) -> Package:
    splitter = _Splitter(stream, limits, prefix)
    markup = splitter.run()
    root = _parse_xml(markup)
    return _Reader(limits, strict, splitter.decoded).package(root)


# --------------------------------------------------------------------------- bytes level


def _check_prolog(data: bytes) -> int:
    """Refuse what must never reach the XML parser; return where the XML starts."""
    if not data or data.isspace():
        raise EdxmlError.of(Code.EMPTY)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise EdxmlError.of(Code.ENCODING, detail="UTF-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise EdxmlError.of(Code.ENCODING, detail="UTF-16")
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
    i-th decoded content.
    """

    def __init__(self, stream: IO[bytes], limits: Limits, prefix: bytes) -> None:
        self.stream = stream
        self.limits = limits
        self.buf = prefix
        self.pos = 0
        self.eof = False
        self.total = len(prefix)
        self.out: list[bytes] = []
        self.out_size = 0
        self.decoded: list[Blob | Problem] = []

    def _more(self) -> bool:
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
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def _keep(self, end: int) -> None:
        if end > self.pos:
            piece = self.buf[self.pos : end]
            self.out_size += len(piece)
            if self.out_size > self.limits.max_markup_bytes:
                raise EdxmlError.of(
                    Code.TOO_LARGE,
                    detail=f"more than {self.limits.max_markup_bytes} bytes outside attachments",
                )
            self.out.append(piece)
            self.pos = end

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
        first = True
        while True:
            lt = self.buf.find(b"<", self.pos)
            if lt < 0:
                if first and self.buf.strip():
                    _check_prolog(self.buf)
                self._keep(len(self.buf))
                if not self._more():
                    break
                continue
            if first:
                start = _check_prolog(self.buf)
                self.pos = max(self.pos, start)
                first = False
                continue
            self._keep(lt)
            while len(self.buf) - self.pos < 9 and self._more():
                pass
            b = self.buf
            p = self.pos
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
        return b"".join(self.out)

    def _attachment_text(self) -> None:
        if len(self.decoded) >= self.limits.max_attachments:
            raise EdxmlError.of(
                Code.TOO_LARGE, detail=f"more than {self.limits.max_attachments} attachments"
            )
        field = f"AttachmentEncoded/Attachment[{len(self.decoded) + 1}]/{_CTE}"
        decoder: Base64Decoder | None = Base64Decoder(field, self.limits)
        failure: Problem | None = None
        while True:
            lt = self.buf.find(b"<", self.pos)
            end = lt if lt >= 0 else len(self.buf)
            if decoder is not None and end > self.pos:
                try:
                    decoder.feed(self.buf[self.pos : end])
                except EdxmlError as exc:
                    failure, decoder = exc.problem, None
            self.pos = end
            if lt >= 0:
                break
            if not self._more():
                raise EdxmlError.of(Code.MALFORMED, detail="attachment text never ends")
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


# --------------------------------------------------------------------------- tree level


def _local(el: Any) -> str | None:
    """Local name of an element in the edXML namespace or in none; None otherwise."""
    tag = el.tag
    if not isinstance(tag, str):
        return None
    if tag[0] == "{":
        if tag.startswith(_NS_CURLY):
            return tag[len(_NS_CURLY) :]
        return None
    return tag


def _any_local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(el: Any) -> str:
    t = el.text
    return t.strip() if t else ""


def _children(el: Any) -> Iterator[tuple[str, Any]]:
    for child in el:
        name = _local(child)
        if name is not None:
            yield name, child


def _fill(obj: _T, el: Any, fields: dict[str, str]) -> _T:
    for name, child in _children(el):
        attr = fields.get(name)
        if attr is not None:
            setattr(obj, attr, _text(child))
    return obj


def _texts(el: Any, name: str) -> list[str]:
    return [_text(c) for n, c in _children(el) if n == name]


_ORG = {
    "OrganId": "organ_id",
    "OrganizationInCharge": "organization_in_charge",
    "OrganName": "organ_name",
    "OrganAdd": "organ_add",
    "Email": "email",
    "Telephone": "telephone",
    "Fax": "fax",
    "Website": "website",
}
_CODE = {"CodeNumber": "number", "CodeNotation": "notation"}
_PROMULGATION = {"Place": "place", "PromulgationDate": "date"}
_DOCTYPE = {"Type": "type", "TypeDetail": "type_detail", "TypeName": "type_name"}
_SIGNER = {"Competence": "competence", "Position": "position", "FullName": "full_name"}
_OTHER = {
    "Priority": "priority",
    "SphereOfPromulgation": "sphere_of_promulgation",
    "TyperNotation": "typer_notation",
    "PromulgationAmount": "promulgation_amount",
    "PageAmount": "page_amount",
    "Direction": "direction",
}
_RESPONSE = {
    "OrganId": "organ_id",
    "Code": "code",
    "PromulgationDate": "promulgation_date",
    "DocumentId": "document_id",
}
_TRACE = {"OrganId": "organ_id", "Timestamp": "timestamp"}
_STAFF = {"Department": "department", "Staff": "staff", "Email": "email", "Mobile": "mobile"}
_RECEIVER = {"OrganId": "organ_id", "ReceiverType": "receiver_type"}
_REFERENCE = {
    "ContentId": "content_id",
    "ContentType": "content_type",
    "Description": "description",
    "AttachmentName": "attachment_name",
}
_ATTACHMENT = {
    "ContentId": "content_id",
    "AttachmentName": "name",
    "Description": "description",
    "ContentType": "content_type",
}


class _Reader:
    def __init__(self, limits: Limits, strict: bool, decoded: list[Blob | Problem] | None) -> None:
        self.limits = limits
        self.strict = strict
        self.decoded = decoded
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

        envelope = header = body = None
        encoded: list[Any] = []
        for name, child in _children(root):
            if name == "edXMLEnvelope":
                envelope = child
            elif name == "AttachmentEncoded":
                encoded.append(child)
        if envelope is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope")
        for name, child in _children(envelope):
            if name == "edXMLHeader":
                header = child
            elif name == "edXMLBody":
                body = child
            elif name == "AttachmentEncoded":
                encoded.append(child)
        if header is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope/edXMLHeader")
        message = trace_list = None
        signature = None
        for child in header:
            hname = _local(child)
            if hname == "MessageHeader":
                message = child
            elif hname == "TraceHeaderList":
                trace_list = child
            elif _any_local(child) == "Signature":
                signature = _signature(child)
        if message is None:
            raise EdxmlError.of(Code.REQUIRED, "edXMLHeader/MessageHeader")
        if any(n == "StatusCode" for n, _ in _children(message)):
            status = self._status(message)
            status.signature = signature
            return status
        edoc = self._edoc(message)
        edoc.signature = signature
        if trace_list is not None:
            self._trace(edoc, trace_list)
        if body is not None:
            for name, child in _children(body):
                if name == "edXMLManifest":
                    edoc.manifest = [
                        _fill(ManifestReference(), ref, _REFERENCE)
                        for n, ref in _children(child)
                        if n == "Reference"
                    ]
                elif name == "AttachmentEncoded":
                    encoded.append(child)
        for block in encoded:
            for name, child in _children(block):
                if name == "Attachment":
                    edoc.attachments.append(self._attachment(child, len(edoc.attachments) + 1))
        return edoc

    def _edoc(self, mh: Any) -> Edoc:
        edoc = Edoc()
        simple: dict[str, Callable[[Any], None]] = {
            "From": lambda el: setattr(edoc, "sender", _fill(Organization(), el, _ORG)),
            "To": lambda el: edoc.recipients.append(_fill(Organization(), el, _ORG)),
            "DocumentId": lambda el: setattr(edoc, "document_id", _text(el)),
            "Code": lambda el: setattr(edoc, "code", _fill(DocumentCode(), el, _CODE)),
            "PromulgationInfo": lambda el: setattr(
                edoc, "promulgation", _fill(PromulgationInfo(), el, _PROMULGATION)
            ),
            "DocumentType": lambda el: setattr(
                edoc, "document_type", _fill(DocumentType(), el, _DOCTYPE)
            ),
            "Subject": lambda el: setattr(edoc, "subject", _text(el)),
            "Content": lambda el: setattr(edoc, "content", _text(el)),
            "SignerInfo": lambda el: setattr(edoc, "signer", _fill(SignerInfo(), el, _SIGNER)),
            "DueDate": lambda el: setattr(edoc, "due_date", _text(el)),
            "OtherInfo": lambda el: setattr(edoc, "other_info", _other_info(el)),
            "ResponseFor": lambda el: edoc.response_for.append(_fill(ResponseFor(), el, _RESPONSE)),
            "SteeringType": lambda el: setattr(edoc, "steering_type", _text(el)),
            "ToPlaces": lambda el: setattr(edoc, "to_places", _texts(el, "Place")),
        }
        for name, child in _children(mh):
            handler = simple.get(name)
            if handler is not None:
                handler(child)
        return edoc

    def _status(self, mh: Any) -> Status:
        status = Status()
        for name, child in _children(mh):
            if name == "From":
                status.sender = _fill(Organization(), child, _ORG)
            elif name == "ResponseFor":
                status.response_for = _fill(ResponseFor(), child, _RESPONSE)
            elif name == "StaffInfo":
                status.staff = _fill(StaffInfo(), child, _STAFF)
            elif name == "StatusCode":
                status.status_code = _text(child)
            elif name == "Description":
                status.description = _text(child)
            elif name == "Timestamp":
                status.timestamp = _text(child)
        return status

    def _trace(self, edoc: Edoc, trace_list: Any) -> None:
        for name, child in _children(trace_list):
            if name == "TraceHeader":
                edoc.trace_headers.append(_fill(TraceHeader(), child, _TRACE))
            elif name == "Bussiness":
                edoc.business = _business(child)

    def _attachment(self, el: Any, index: int) -> Attachment:
        att = _fill(Attachment(), el, _ATTACHMENT)
        field = f"AttachmentEncoded/Attachment[{index}]/{_CTE}"
        cte = next((c for n, c in _children(el) if n == _CTE), None)
        content: Blob | Problem
        if cte is None:
            content = Blob.from_bytes(b"")
        elif self.decoded is not None:
            content = self.by_element[cte]
        elif len(cte):
            content = _problem_of(EdxmlError.of(Code.ATTACHMENT_CONTENT, field))
        else:
            try:
                content = decode_base64_text(cte.text or "", field, self.limits)
            except EdxmlError as exc:
                content = exc.problem
        if isinstance(content, Blob):
            try:
                inner = unwrap_zip(content, att.name or "", field, self.limits)
            except EdxmlError as exc:
                content.close()
                content = exc.problem
            else:
                if inner is not None:
                    content, att.unwrapped_zip = inner, True
        if isinstance(content, Blob):
            att.content = content
        else:
            if self.strict:
                raise EdxmlError(content)
            att.problem = content
        return att


def _problem_of(exc: EdxmlError) -> Problem:
    return exc.problem


def _other_info(el: Any) -> OtherInfo:
    info = _fill(OtherInfo(), el, _OTHER)
    for name, child in _children(el):
        if name == "Appendixes":
            info.appendixes = _texts(child, "Appendix")
    return info


def _business(el: Any) -> Business:
    business = _fill(
        Business(),
        el,
        {
            "DocumentId": "document_id",
            "BussinessDocType": "doc_type",
            "BussinessDocReason": "reason",
            "Paper": "paper",
        },
    )
    for name, child in _children(el):
        if name == "BussinessDocumentInfo":
            info = _fill(
                BusinessDocumentInfo(),
                child,
                {"DocumentInfo": "document_info", "DocumentReceiver": "document_receiver"},
            )
            for n, c in _children(child):
                if n == "ReceiverList":
                    info.receivers = [
                        _fill(Receiver(), r, _RECEIVER)
                        for rn, r in _children(c)
                        if rn == "Receiver"
                    ]
            business.document_info = info
        elif name == "ReplacementInfoList":
            business.replacements = []
            for n, c in _children(child):
                if n != "ReplacementInfo":
                    continue
                rep = ReplacementInfo()
                for rn, r in _children(c):
                    if rn == "DocumentId":
                        rep.document_id = _text(r)
                    elif rn == "OrganIdList":
                        rep.organ_ids = _texts(r, "OrganId")
                business.replacements.append(rep)
        elif name == "StaffInfo":
            business.staff = _fill(StaffInfo(), child, _STAFF)
    return business


def _signature(el: Any) -> SignatureInfo:
    tag = el.tag
    ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    info = SignatureInfo(namespace=ns)
    for d in el.iter():
        name = _any_local(d)
        if name == "SignatureMethod":
            info.signature_method = d.get("Algorithm")
        elif name == "DigestMethod" and info.digest_method is None:
            info.digest_method = d.get("Algorithm")
        elif name == "X509Certificate" and _text(d):
            info.has_certificate = True
    return info


def detect_kind(source: Source) -> Literal["edoc", "status"]:
    """Convenience: the kind of a package (parses it)."""
    package = parse(source)
    package.close()
    return package.kind
