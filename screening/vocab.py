"""Vocabulary of the screening form: checklist items, muscle groups, categories, labels.

Stored values stay in English (the facts document's vocabulary); labels are msgids,
shown translated.
"""

from django.utils.translation import gettext_lazy

from screening.engine.units import ANALYTE_LABELS

YES_NO = [("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))]
POS_NEG = [("positive", gettext_lazy("positive")), ("negative", gettext_lazy("negative"))]
ANA_TITRES = ["negative", "1:40", "1:80", "1:100", "1:160", "1:320", "1:640", "1:1280", "1:2560"]

SLEDAI_LABELS = {
    "seizure": gettext_lazy("Seizure"),
    "psychosis": gettext_lazy("Psychosis"),
    "organic_brain_syndrome": gettext_lazy("Organic brain syndrome"),
    "visual_disturbance": gettext_lazy("Visual disturbance"),
    "cranial_nerve_disorder": gettext_lazy("Cranial nerve disorder"),
    "lupus_headache": gettext_lazy("Lupus headache"),
    "cva": gettext_lazy("Cerebrovascular accident"),
    "vasculitis": gettext_lazy("Vasculitis"),
    "arthritis": gettext_lazy("Arthritis"),
    "myositis": gettext_lazy("Myositis"),
    "urinary_casts": gettext_lazy("Urinary casts"),
    "haematuria": gettext_lazy("Haematuria"),
    "proteinuria": gettext_lazy("Proteinuria"),
    "pyuria": gettext_lazy("Pyuria"),
    "rash": gettext_lazy("Rash"),
    "alopecia": gettext_lazy("Alopecia"),
    "mucosal_ulcers": gettext_lazy("Mucosal ulcers"),
    "pleurisy": gettext_lazy("Pleurisy"),
    "pericarditis": gettext_lazy("Pericarditis"),
    "low_complement": gettext_lazy("Low complement"),
    "increased_dna_binding": gettext_lazy("Increased DNA binding"),
    "fever": gettext_lazy("Fever"),
    "thrombocytopenia": gettext_lazy("Thrombocytopenia"),
    "leukopenia": gettext_lazy("Leukopenia"),
}

# BVAS v3 items by organ system (Mukhtyar et al. 2009). The stored item is the English
# name. Whether an item counts as "major" is fixed for most items by
# screening.engine.bvas (BVAS_MAJOR / BVAS_NOT_MAJOR); only the rest are the assessor's
# call, ticked per item (docs/notes/screening.md).
BVAS_ITEMS = [
    (
        gettext_lazy("General"),
        ["Myalgia", "Arthralgia or arthritis", "Fever ≥ 38.0 °C", "Weight loss ≥ 2 kg"],
    ),
    (
        gettext_lazy("Cutaneous"),
        ["Infarct", "Purpura", "Ulcer", "Gangrene", "Other skin vasculitis"],
    ),
    (
        gettext_lazy("Mucous membranes / eyes"),
        [
            "Mouth ulcers",
            "Genital ulcers",
            "Adnexal inflammation",
            "Significant proptosis",
            "Scleritis or episcleritis",
            "Conjunctivitis, blepharitis or keratitis",
            "Blurred vision",
            "Sudden visual loss",
            "Uveitis",
            "Retinal changes",
        ],
    ),
    (
        gettext_lazy("ENT"),
        [
            "Bloody nasal discharge, crusts, ulcers or granulomata",
            "Paranasal sinus involvement",
            "Subglottic stenosis",
            "Conductive hearing loss",
            "Sensorineural hearing loss",
        ],
    ),
    (
        gettext_lazy("Chest"),
        [
            "Wheeze",
            "Nodules or cavities",
            "Pleural effusion or pleurisy",
            "Infiltrate",
            "Endobronchial involvement",
            "Massive haemoptysis or alveolar haemorrhage",
            "Respiratory failure",
        ],
    ),
    (
        gettext_lazy("Cardiovascular"),
        [
            "Loss of pulses",
            "Valvular heart disease",
            "Pericarditis",
            "Ischaemic cardiac pain",
            "Cardiomyopathy",
            "Congestive cardiac failure",
        ],
    ),
    (gettext_lazy("Abdominal"), ["Peritonitis", "Bloody diarrhoea", "Ischaemic abdominal pain"]),
    (
        gettext_lazy("Renal"),
        [
            "Hypertension",
            "Proteinuria > 1+",
            "Haematuria ≥ 10 RBC/hpf",
            "Serum creatinine 125–249 µmol/L",
            "Serum creatinine 250–499 µmol/L",
            "Serum creatinine ≥ 500 µmol/L",
            "Rise in serum creatinine > 30% or fall in CrCl > 25%",
        ],
    ),
    (
        gettext_lazy("Nervous system"),
        [
            "Headache",
            "Meningitis",
            "Organic confusion",
            "Seizures (not hypertensive)",
            "Cerebrovascular accident",
            "Spinal cord lesion",
            "Cranial nerve palsy",
            "Sensory peripheral neuropathy",
            "Mononeuritis multiplex",
        ],
    ),
    (gettext_lazy("Other"), ["Other vasculitis feature"]),
]
# The item names, marked for translation (shown translated, stored in English).
BVAS_ITEM_LABELS = {
    "Myalgia": gettext_lazy("Myalgia"),
    "Arthralgia or arthritis": gettext_lazy("Arthralgia or arthritis"),
    "Fever ≥ 38.0 °C": gettext_lazy("Fever ≥ 38.0 °C"),
    "Weight loss ≥ 2 kg": gettext_lazy("Weight loss ≥ 2 kg"),
    "Infarct": gettext_lazy("Infarct"),
    "Purpura": gettext_lazy("Purpura"),
    "Ulcer": gettext_lazy("Ulcer"),
    "Gangrene": gettext_lazy("Gangrene"),
    "Other skin vasculitis": gettext_lazy("Other skin vasculitis"),
    "Mouth ulcers": gettext_lazy("Mouth ulcers"),
    "Genital ulcers": gettext_lazy("Genital ulcers"),
    "Adnexal inflammation": gettext_lazy("Adnexal inflammation"),
    "Significant proptosis": gettext_lazy("Significant proptosis"),
    "Scleritis or episcleritis": gettext_lazy("Scleritis or episcleritis"),
    "Conjunctivitis, blepharitis or keratitis": gettext_lazy(
        "Conjunctivitis, blepharitis or keratitis"
    ),
    "Blurred vision": gettext_lazy("Blurred vision"),
    "Sudden visual loss": gettext_lazy("Sudden visual loss"),
    "Uveitis": gettext_lazy("Uveitis"),
    "Retinal changes": gettext_lazy("Retinal changes"),
    "Bloody nasal discharge, crusts, ulcers or granulomata": gettext_lazy(
        "Bloody nasal discharge, crusts, ulcers or granulomata"
    ),
    "Paranasal sinus involvement": gettext_lazy("Paranasal sinus involvement"),
    "Subglottic stenosis": gettext_lazy("Subglottic stenosis"),
    "Conductive hearing loss": gettext_lazy("Conductive hearing loss"),
    "Sensorineural hearing loss": gettext_lazy("Sensorineural hearing loss"),
    "Wheeze": gettext_lazy("Wheeze"),
    "Nodules or cavities": gettext_lazy("Nodules or cavities"),
    "Pleural effusion or pleurisy": gettext_lazy("Pleural effusion or pleurisy"),
    "Infiltrate": gettext_lazy("Infiltrate"),
    "Endobronchial involvement": gettext_lazy("Endobronchial involvement"),
    "Massive haemoptysis or alveolar haemorrhage": gettext_lazy(
        "Massive haemoptysis or alveolar haemorrhage"
    ),
    "Respiratory failure": gettext_lazy("Respiratory failure"),
    "Loss of pulses": gettext_lazy("Loss of pulses"),
    "Valvular heart disease": gettext_lazy("Valvular heart disease"),
    "Pericarditis": gettext_lazy("Pericarditis"),
    "Ischaemic cardiac pain": gettext_lazy("Ischaemic cardiac pain"),
    "Cardiomyopathy": gettext_lazy("Cardiomyopathy"),
    "Congestive cardiac failure": gettext_lazy("Congestive cardiac failure"),
    "Peritonitis": gettext_lazy("Peritonitis"),
    "Bloody diarrhoea": gettext_lazy("Bloody diarrhoea"),
    "Ischaemic abdominal pain": gettext_lazy("Ischaemic abdominal pain"),
    "Hypertension": gettext_lazy("Hypertension"),
    "Proteinuria > 1+": gettext_lazy("Proteinuria > 1+"),
    "Haematuria ≥ 10 RBC/hpf": gettext_lazy("Haematuria ≥ 10 RBC/hpf"),
    "Serum creatinine 125–249 µmol/L": gettext_lazy("Serum creatinine 125–249 µmol/L"),
    "Serum creatinine 250–499 µmol/L": gettext_lazy("Serum creatinine 250–499 µmol/L"),
    "Serum creatinine ≥ 500 µmol/L": gettext_lazy("Serum creatinine ≥ 500 µmol/L"),
    "Rise in serum creatinine > 30% or fall in CrCl > 25%": gettext_lazy(
        "Rise in serum creatinine > 30% or fall in CrCl > 25%"
    ),
    "Headache": gettext_lazy("Headache"),
    "Meningitis": gettext_lazy("Meningitis"),
    "Organic confusion": gettext_lazy("Organic confusion"),
    "Seizures (not hypertensive)": gettext_lazy("Seizures (not hypertensive)"),
    "Cerebrovascular accident": gettext_lazy("Cerebrovascular accident"),
    "Spinal cord lesion": gettext_lazy("Spinal cord lesion"),
    "Cranial nerve palsy": gettext_lazy("Cranial nerve palsy"),
    "Sensory peripheral neuropathy": gettext_lazy("Sensory peripheral neuropathy"),
    "Mononeuritis multiplex": gettext_lazy("Mononeuritis multiplex"),
    "Other vasculitis feature": gettext_lazy("Other vasculitis feature"),
}

MMT8_LABELS = {
    "neck_flexors": gettext_lazy("Neck flexors"),
    "deltoid": gettext_lazy("Deltoid"),
    "biceps": gettext_lazy("Biceps"),
    "wrist_extensors": gettext_lazy("Wrist extensors"),
    "gluteus_maximus": gettext_lazy("Gluteus maximus"),
    "gluteus_medius": gettext_lazy("Gluteus medius"),
    "quadriceps": gettext_lazy("Quadriceps"),
    "ankle_dorsiflexors": gettext_lazy("Ankle dorsiflexors"),
}
HAQ_LABELS = {
    "dressing_grooming": gettext_lazy("Dressing and grooming"),
    "arising": gettext_lazy("Arising"),
    "eating": gettext_lazy("Eating"),
    "walking": gettext_lazy("Walking"),
    "hygiene": gettext_lazy("Hygiene"),
    "reach": gettext_lazy("Reach"),
    "grip": gettext_lazy("Grip"),
    "activities": gettext_lazy("Activities"),
}
ESSDAI_LABELS = {
    "constitutional": gettext_lazy("Constitutional"),
    "lymphadenopathy": gettext_lazy("Lymphadenopathy"),
    "glandular": gettext_lazy("Glandular"),
    "articular": gettext_lazy("Articular"),
    "cutaneous": gettext_lazy("Cutaneous"),
    "pulmonary": gettext_lazy("Pulmonary"),
    "renal": gettext_lazy("Renal"),
    "muscular": gettext_lazy("Muscular"),
    "peripheral_nervous_system": gettext_lazy("Peripheral nervous system"),
    "central_nervous_system": gettext_lazy("Central nervous system"),
    "haematological": gettext_lazy("Haematological"),
    "biological": gettext_lazy("Biological"),
}
ESSDAI_LEVELS = {
    0: gettext_lazy("0 none"),
    1: gettext_lazy("1 low"),
    2: gettext_lazy("2 moderate"),
    3: gettext_lazy("3 high"),
}
NYHA = [("1", "I"), ("2", "II"), ("3", "III"), ("4", "IV")]
ANALYTE_DISPLAY = {
    "anc": gettext_lazy("ANC"),
    "platelets": gettext_lazy("Platelets"),
    "haemoglobin": gettext_lazy("Haemoglobin"),
    "inr": gettext_lazy("INR"),
    "aptt": gettext_lazy("APTT"),
    "ast": gettext_lazy("AST"),
    "alt": gettext_lazy("ALT"),
    "total_bilirubin": gettext_lazy("Total bilirubin"),
    "creatinine": gettext_lazy("Serum creatinine"),
    "ck": gettext_lazy("Creatine kinase (CK)"),
    "ldh": gettext_lazy("LDH"),
    "aldolase": gettext_lazy("Aldolase"),
}
ANALYTES_WITH_ULN = {"inr", "aptt", "ast", "alt", "total_bilirubin", "creatinine", "ck", "ldh"}
ANALYTES_WITH_ULN |= {"aldolase"}
assert set(ANALYTE_DISPLAY) == set(ANALYTE_LABELS)
