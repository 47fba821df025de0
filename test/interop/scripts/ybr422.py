"""Writes native YBR_FULL_422 / YBR_PARTIAL_422 test images with pydicom and prints how pydicom
decodes them (pixel_array upsamples 4:2:2 to YBR_FULL; PS3.3 C.7.6.3.1.2).

stdin: JSON list of [path, photometric, rows, columns, frames, bits_allocated].
stdout: JSON {path: {"samples": [...]} or {"error": "..."}}; samples are frame-major,
pixel-interleaved, as pydicom's pixel_array holds them.
"""
import json
import sys

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def write(path, photometric, rows, columns, frames, bits):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = photometric
    ds.PlanarConfiguration = 0
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    # Two samples per pixel (Y1 Y2 Cb Cr per pair); partial range stays in 16..235.
    count = rows * columns * frames * 2
    lo, hi = (16, 235) if 'PARTIAL' in photometric else (0, (1 << bits) - 1)
    values = np.array([lo + (i * 53 + 7) % (hi - lo + 1) for i in range(count)],
                      dtype=np.uint8 if bits == 8 else '<u2')
    data = values.tobytes()
    if len(data) % 2:
        data += b'\0'
    ds.PixelData = data
    ds['PixelData'].VR = 'OB' if bits == 8 else 'OW'
    ds.save_as(path, write_like_original=False)


out = {}
for spec in json.load(sys.stdin):
    write(*spec)
    try:
        from pydicom import dcmread
        out[spec[0]] = {'samples': dcmread(spec[0]).pixel_array.reshape(-1).tolist()}
    except Exception as e:  # pydicom refuses some layouts; the test says which
        out[spec[0]] = {'error': str(e)}
json.dump(out, sys.stdout)
