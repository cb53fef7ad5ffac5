"""Reading archival PDFs in tests: PDF/A identification, embedded files, page text."""

import io
import xml.etree.ElementTree as ET

from pypdf import PdfReader

PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def reader(data):
    return PdfReader(io.BytesIO(data))


def pdfa_identification(data):
    """(part, conformance) from the XMP metadata's pdfaid properties, e.g. ("3", "B")."""
    root = reader(data).trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    packet = xmp[xmp.index(b"<x:xmpmeta") : xmp.rindex(b"</x:xmpmeta>") + 12]
    tree = ET.fromstring(packet)  # noqa: S314 (the app's own PDF, in a test)
    for element in tree.iter():
        part = element.get(f"{{{PDFAID}}}part")
        if part is not None:
            return part, element.get(f"{{{PDFAID}}}conformance")
    return None, None


def embedded_files(data):
    """{name: bytes} of the files embedded in the PDF."""
    return {name: contents[0] for name, contents in reader(data).attachments.items()}


def associated_file_relationships(data):
    """{name: AFRelationship} of the catalog's associated files (PDF/A-3)."""
    root = reader(data).trailer["/Root"]
    return {
        str(spec.get_object()["/F"]): str(spec.get_object()["/AFRelationship"])
        for spec in root.get("/AF", [])
    }


def text(data):
    return " ".join(" ".join(page.extract_text() for page in reader(data).pages).split())
