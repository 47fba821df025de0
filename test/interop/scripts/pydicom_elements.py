"""Prints, as JSON, what pydicom reads from each file given on stdin (one path per line):
every element with its tag path, VR and decoded value, so that Tracer's reading can be
compared with pydicom's element by element. Files pydicom cannot read are reported as errors."""
import hashlib, json, sys, warnings
import pydicom
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

warnings.simplefilter("ignore")
BINARY = {"OB", "OW", "OF", "OD", "OL", "OV", "UN", "OB or OW", "US or OW"}


def norm(elem):
    vr = elem.VR
    v = elem.value
    if vr == "SQ":
        return None
    if elem.tag == 0x7FE00010 or vr in BINARY or isinstance(v, (bytes, bytearray)):
        raw = v if isinstance(v, (bytes, bytearray)) else b""
        return {"bytes": len(raw), "sha1": hashlib.sha1(raw).hexdigest()}
    vals = list(v) if isinstance(v, (MultiValue, list, tuple)) else ([] if v is None or v == "" else [v])
    out = []
    for x in vals:
        if isinstance(x, PersonName):
            out.append(str(x))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            out.append(float(x))
        elif isinstance(x, pydicom.tag.BaseTag):
            out.append(int(x))
        elif x is None:
            out.append(None)
        else:
            try:
                out.append(float(x) if vr in ("DS", "IS") else str(x))
            except (TypeError, ValueError):
                out.append(str(x))
    return out


def walk(ds, prefix, out):
    for elem in ds:
        path = prefix + "%08X" % int(elem.tag)
        entry = {"path": path, "vr": elem.VR}
        if elem.VR == "SQ":
            entry["items"] = len(elem.value)
            out.append(entry)
            for i, item in enumerate(elem.value):
                walk(item, path + "/%d/" % i, out)
        else:
            entry["value"] = norm(elem)
            out.append(entry)


result = {}
for line in sys.stdin:
    f = line.strip()
    if not f:
        continue
    try:
        ds = pydicom.dcmread(f)
        ds.decode()
        out = []
        walk(ds, "", out)
        result[f] = {"ts": str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in getattr(ds, "file_meta", {}) else None, "elements": out}
    except Exception as e:  # noqa: BLE001 - any failure means "pydicom does not read it"
        result[f] = {"error": "%s: %s" % (type(e).__name__, e)}
json.dump(result, sys.stdout)
