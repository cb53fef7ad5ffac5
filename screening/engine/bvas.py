"""Which BVAS v3 items count as "major" for A-AAV-2 and the A-AAV-4 relapse definition.

The source asks for "at least one primary [major] item" of BVAS v3. BVAS v3 (Mukhtyar
et al., Ann Rheum Dis 2009) itself only asterisks items that cannot be "persistent"; the
major/minor split comes from BVAS for Wegener's (BVAS/WG, Stone et al., Arthritis Rheum
2001), whose asterisked major items are the manifestations that threaten an organ or
life. The sets below map those onto the v3 items where the mapping is one to one; see
docs/notes/screening.md for the reasoning and for the items left to the assessor.

- ``BVAS_MAJOR``: always major; an assessor cannot downgrade them.
- ``BVAS_NOT_MAJOR``: never major (mild, non-organ-threatening manifestations).
- anything else (including free-text items from older records or the API): the
  assessor's tick decides, because the v3 item is broader or narrower than the
  BVAS/WG one (e.g. "scleritis or episcleritis": scleritis is major, episcleritis not).
"""

from __future__ import annotations

BVAS_MAJOR = frozenset(
    {
        "Gangrene",
        "Retinal changes",  # BVAS/WG: retinal exudates / retinal haemorrhage
        "Sensorineural hearing loss",
        "Massive haemoptysis or alveolar haemorrhage",
        "Respiratory failure",
        "Ischaemic abdominal pain",  # BVAS/WG: mesenteric ischaemia
        "Rise in serum creatinine > 30% or fall in CrCl > 25%",
        "Cerebrovascular accident",
        "Spinal cord lesion",
        "Cranial nerve palsy",
        "Mononeuritis multiplex",
    }
)

BVAS_NOT_MAJOR = frozenset(
    {
        "Myalgia",
        "Arthralgia or arthritis",
        "Fever ≥ 38.0 °C",
        "Weight loss ≥ 2 kg",
        "Infarct",
        "Purpura",
        "Ulcer",
        "Other skin vasculitis",
        "Mouth ulcers",
        "Genital ulcers",
        "Adnexal inflammation",
        "Conjunctivitis, blepharitis or keratitis",
        "Blurred vision",
        "Uveitis",
        "Bloody nasal discharge, crusts, ulcers or granulomata",
        "Paranasal sinus involvement",
        "Conductive hearing loss",
        "Wheeze",
        "Nodules or cavities",
        "Pleural effusion or pleurisy",
        "Infiltrate",
        "Hypertension",
        "Proteinuria > 1+",
        "Serum creatinine 125–249 µmol/L",
        "Headache",
    }
)

assert not BVAS_MAJOR & BVAS_NOT_MAJOR


def bvas_item_is_major(item: str, ticked: bool) -> bool:
    """Whether ``item`` counts as major: fixed by the instrument, else the assessor's tick."""
    if item in BVAS_MAJOR:
        return True
    if item in BVAS_NOT_MAJOR:
        return False
    return ticked
