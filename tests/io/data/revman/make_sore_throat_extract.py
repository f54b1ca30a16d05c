"""Make sore_throat_extract.rm5: outcomes 1.1 and 1.2 of a real RevMan 5 review, unchanged.

Source: antibiotics-for-sore-throat.rm5 of github.com/IEBH/revman (MIT; test/data, commit
c95dacd729b81a3afd071a1de9d849ca504a2c3a), the RevMan file of Spinks A, Glasziou PP,
Del Mar CB. Antibiotics for sore throat. Cochrane Database Syst Rev 2013;(11):CD000023,
doi:10.1002/14651858.CD000023.pub4. Kept: the root element and its attributes, the title, the
included studies' STUDY elements (name, year) and comparison 1 with its first two outcomes
(their XML as RevMan wrote it, with RevMan's own pooled results); dropped: the review text, the
authors' contact details, references and the other 24 outcomes (the full file is 368 kB).

Run: python make_sore_throat_extract.py antibiotics-for-sore-throat.rm5
"""

import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
out = ET.Element(root.tag, root.attrib)
cover = ET.SubElement(out, "COVER_SHEET")
ET.SubElement(cover, "TITLE").text = root.findtext("COVER_SHEET/TITLE")
refs = ET.SubElement(ET.SubElement(out, "STUDIES_AND_REFERENCES"), "STUDIES")
included = ET.SubElement(refs, "INCLUDED_STUDIES")
comparison = root.find("ANALYSES_AND_DATA/COMPARISON")
outcomes = [e for e in comparison if e.tag.endswith("_OUTCOME")][:2]
wanted = {d.get("STUDY_ID") for o in outcomes for d in o.iter("DICH_DATA")}
for study in root.iter("STUDY"):
    if study.get("ID") in wanted:
        ET.SubElement(included, "STUDY", {k: study.get(k) for k in ("ID", "NAME", "YEAR")})
analyses = ET.SubElement(out, "ANALYSES_AND_DATA")
kept = ET.SubElement(analyses, "COMPARISON", comparison.attrib)
kept.append(comparison.find("NAME"))
for outcome in outcomes:
    kept.append(outcome)
ET.indent(out)
ET.ElementTree(out).write("sore_throat_extract.rm5", encoding="UTF-8", xml_declaration=True)
