/**
 * Tracer's library entry point: the data layer. Network services are exported from their own
 * modules as they are completed.
 */
export { Dataset, resolveTag, type TagRef } from './dicom/dataset.js';
export { Element, type Fragment } from './dicom/element.js';
export { DicomError, DicomParseError } from './dicom/errors.js';
export { readDicomFile, readDicomBuffer, readDicom, type DicomFile, type FileReadOptions } from './dicom/part10.js';
export { readDataset, type Encoding, type ReadOptions } from './dicom/read.js';
export { encodeDataset, encodeDicomFile, writeDicomFile, buildFileMeta, type WriteOptions, type FileWriteInput } from './dicom/write.js';
export { toJSON, fromJSON, type JsonDataset } from './dicom/json.js';
export { dumpDataset } from './dicom/dump.js';
export { CharacterSet, chooseSpecificCharacterSet } from './dicom/charset.js';
export { lookupTag, lookupKeyword, lookupPrivate, lookupUid, transferSyntax, TS } from './dicom/dictionary/index.js';
export { tag, formatTag, parseTag, type Tag } from './dicom/tag.js';
export type { VR } from './dicom/vr.js';
export { renderFrame, renderImage, type RenderOptions, type RenderedImage, type AppliedVoi } from './pixels/render.js';
export { encodePng, type PngImage } from './pixels/png.js';
export {
  applyWindow, windowLinear, windowLinearExact, windowSigmoid, modalityTransform, applyModality, windowsOf, voiLutsOf,
  presentationShape, type Window, type VoiFunction, type Lut, type ModalityTransform, type PresentationShape,
} from './pixels/lut.js';
