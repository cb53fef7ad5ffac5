"""A CONSORT-style flow diagram as plain SVG geometry (no JavaScript, no library).

screened → per indication → eligible / ineligible (with the failing rules counted) /
incomplete → signed. The template draws the boxes and lines computed here; all text
goes through the template, so it is escaped.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH = 1000
COLUMN_GAP = 8
TOP_H = 48
IND_Y = 104
BOX_H = 54
LINE = 19
MAX_RULES = 8


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int
    cls: str
    lines: list = field(default_factory=list)  # [(text, css class)]

    @property
    def texts(self):
        return [
            {"x": self.x + 10, "y": self.y + 22 + i * LINE, "text": text, "cls": cls}
            for i, (text, cls) in enumerate(self.lines)
        ]


def layout(counts):
    indications = counts["indications"]
    n = len(indications)
    col_w = (WIDTH - COLUMN_GAP * (n - 1)) // n
    boxes, lines = [], []
    top = Box(WIDTH // 2 - 150, 8, 300, TOP_H, "screened")
    top.lines = [
        (_("Screened"), "head"),
        (
            ngettext(
                "n = %(n)s screenings of %(patients)s patient",
                "n = %(n)s screenings of %(patients)s patients",
                counts["patients"],
            )
            % {"n": counts["total"], "patients": counts["patients"]},
            "count",
        ),
    ]
    boxes.append(top)
    bus_y = top.y + TOP_H + 24
    lines.append((WIDTH // 2, top.y + TOP_H, WIDTH // 2, bus_y))
    centers = [i * (col_w + COLUMN_GAP) + col_w // 2 for i in range(n)]
    lines.append((centers[0], bus_y, centers[-1], bus_y))
    bottom = IND_Y
    for i, ind in enumerate(indications):
        x = i * (col_w + COLUMN_GAP)
        lines.append((centers[i], bus_y, centers[i], IND_Y))
        head = Box(x, IND_Y, col_w, BOX_H, "indication")
        # The protocol's short names (SLE, dcSSc, AAV, IIM, SS) fit the column.
        head.lines = [
            (ind["code"], "head"),
            (_("n = %(n)s") % {"n": ind["screened"]}, "count"),
        ]
        boxes.append(head)
        spine_x = x + 12
        inner_x, inner_w = x + 24, col_w - 24
        y = IND_Y + BOX_H + 22
        mids = []

        eligible = Box(inner_x, y, inner_w, BOX_H, "eligible")
        eligible.lines = [
            (_("Eligible"), "head"),
            (_("n = %(n)s") % {"n": ind["eligible"]}, "count"),
        ]
        boxes.append(eligible)
        mids.append(y + BOX_H // 2)
        y += BOX_H + 14

        shown = ind["rules"][:MAX_RULES]
        extra = len(ind["rules"]) - len(shown)
        rule_lines = [(f"{rule} × {count}", "rule") for rule, count in shown]
        if extra > 0:
            rule_lines.append((_("+ %(n)s more rules") % {"n": extra}, "rule"))
        h = BOX_H + LINE * len(rule_lines)
        ineligible = Box(inner_x, y, inner_w, h, "ineligible")
        ineligible.lines = [
            (_("Ineligible"), "head"),
            (_("n = %(n)s") % {"n": ind["ineligible"]}, "count"),
            *rule_lines,
        ]
        boxes.append(ineligible)
        mids.append(y + BOX_H // 2)
        y += h + 14

        incomplete = Box(inner_x, y, inner_w, BOX_H, "incomplete")
        incomplete.lines = [
            (_("Incomplete"), "head"),
            (_("n = %(n)s") % {"n": ind["incomplete"]}, "count"),
        ]
        boxes.append(incomplete)
        mids.append(y + BOX_H // 2)
        y += BOX_H + 26

        signed = Box(inner_x, y, inner_w, BOX_H + 2 * LINE, "signed")
        signed.lines = [
            (_("Signed"), "head"),
            (_("n = %(n)s") % {"n": ind["signed"]}, "count"),
            (_("%(n)s eligible") % {"n": ind["signed_eligible"]}, "sub"),
            (_("%(n)s ineligible") % {"n": ind["signed_ineligible"]}, "sub"),
        ]
        boxes.append(signed)
        mids.append(y + BOX_H // 2)
        lines.append((spine_x, IND_Y + BOX_H, spine_x, mids[-1]))
        for mid in mids:
            lines.append((spine_x, mid, inner_x, mid))
        bottom = max(bottom, signed.y + signed.h)
    return {
        "width": WIDTH,
        "height": bottom + 8,
        "boxes": boxes,
        "lines": [{"x1": a, "y1": b, "x2": c, "y2": d} for a, b, c, d in lines],
    }
