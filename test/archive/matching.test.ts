/**
 * C-FIND matching, rule by rule from PS3.4 C.2.2.2 and REQUIREMENTS 8.4 QR-013. Entities are
 * DICOM JSON written by hand here (PS3.18 F.2), not Tracer's output; each expectation is the
 * standard's sentence it comes from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonDataset } from '../../src/dicom/json.js';
import { DEFAULT_MATCH_OPTIONS, matchAll, matchKey, parseRange, pnFamilyKeys, pnFamilyRanges, selectItems, type MatchOptions, type QueryKey } from '../../src/archive/matching.js';
import type { VR } from '../../src/dicom/vr.js';

const key = (tag: number, vr: VR, ...values: string[]): QueryKey => ({ tag, vr, values });
const pn = (alphabetic: string, ideographic?: string, phonetic?: string) => ({ vr: 'PN', Value: [{ Alphabetic: alphabetic, ...(ideographic ? { Ideographic: ideographic } : {}), ...(phonetic ? { Phonetic: phonetic } : {}) }] });
const str = (vr: string, ...v: (string | number)[]) => ({ vr, Value: v });

const entity: JsonDataset = {
  '00080020': str('DA', '20200115'),
  '00080030': str('TM', '143000'),
  '00080050': str('SH', 'ACC-1'),
  '00080060': str('CS', 'PT'),
  '00080061': str('CS', 'CT', 'PT'),
  '00081030': str('LO', 'PET/CT Whole Body (FDG)'),
  '00100010': pn('Müller^Hans^Peter'),
  '00100020': str('LO', 'PID-42'),
  '0020000D': str('UI', '1.2.3.4'),
  '00200011': str('IS', 7),
};

const m = (k: QueryKey, e: JsonDataset = entity, o: MatchOptions = DEFAULT_MATCH_OPTIONS) => matchAll([k], e, o);

test('Universal Matching (C.2.2.2.3): a zero-length key matches every entity, with or without the attribute', () => {
  assert.ok(m(key(0x00100010, 'PN')));
  assert.ok(m(key(0x00081030, 'LO')));
  assert.ok(m(key(0x00321032, 'PN')), 'absent attribute');
  // '*' alone is equivalent to universal matching (C.2.2.2.4 note), also for an absent attribute
  assert.ok(m(key(0x00321032, 'PN', '*')));
});

test('Single Value Matching (C.2.2.2.1): exact and case-sensitive, except PN', () => {
  assert.ok(m(key(0x00080050, 'SH', 'ACC-1')));
  assert.ok(!m(key(0x00080050, 'SH', 'acc-1')), 'SH is case-sensitive');
  assert.ok(!m(key(0x00080050, 'SH', 'ACC')), 'no prefix match');
  assert.ok(m(key(0x00080060, 'CS', 'PT')));
  assert.ok(!m(key(0x00080060, 'CS', 'pt')));
  assert.ok(m(key(0x00200011, 'IS', '7')));
  assert.ok(m(key(0x00200011, 'IS', ' 7 ')), 'IS leading/trailing spaces are padding');
  assert.ok(!m(key(0x00321032, 'PN', 'SMITH')), 'a non-empty key never matches an absent attribute');
  // findScp.caseInsensitive = all: every text VR
  assert.ok(m(key(0x00080050, 'SH', 'acc-1'), entity, { ...DEFAULT_MATCH_OPTIONS, caseInsensitive: 'all' }));
});

test('PN: case-insensitive by default (QR-013 pnOnly), case-sensitive with caseInsensitive = none', () => {
  assert.ok(m(key(0x00100010, 'PN', 'MÜLLER^HANS^PETER')));
  assert.ok(m(key(0x00100010, 'PN', 'müller^hans^peter')));
  assert.ok(!m(key(0x00100010, 'PN', 'MÜLLER^HANS^PETER'), entity, { ...DEFAULT_MATCH_OPTIONS, caseInsensitive: 'none' }));
  assert.ok(m(key(0x00100010, 'PN', 'Müller^Hans^Peter'), entity, { ...DEFAULT_MATCH_OPTIONS, caseInsensitive: 'none' }));
});

test('PN componentWise (QR-013): components absent from the key are universal; leading spaces insignificant', () => {
  assert.ok(m(key(0x00100010, 'PN', 'Müller')), 'family name only');
  assert.ok(m(key(0x00100010, 'PN', '^Hans')), 'given name only');
  assert.ok(m(key(0x00100010, 'PN', ' Müller^Hans')), 'leading space');
  assert.ok(!m(key(0x00100010, 'PN', 'Hans')), 'the family name is compared with the family name');
  // the key's group is compared with each of the value's component groups
  const jp: JsonDataset = { '00100010': pn('Yamada^Tarou', '山田^太郎', 'やまだ^たろう') };
  assert.ok(m(key(0x00100010, 'PN', '山田^太郎'), jp));
  assert.ok(m(key(0x00100010, 'PN', 'やまだ'), jp));
  assert.ok(m(key(0x00100010, 'PN', 'Yamada^Tarou=山田^太郎'), jp));
  // wholeString: the value as one string, components not separated
  const whole = { ...DEFAULT_MATCH_OPTIONS, pnMatching: 'wholeString' as const };
  assert.ok(!m(key(0x00100010, 'PN', 'Müller'), entity, whole));
  assert.ok(m(key(0x00100010, 'PN', 'Müller^Hans^Peter'), entity, whole));
  assert.ok(m(key(0x00100010, 'PN', 'MÜLLER*'), entity, whole));
});

test("Wild Card Matching (C.2.2.2.4): '*' any run (also none), '?' exactly one character", () => {
  assert.ok(m(key(0x00081030, 'LO', 'PET*')));
  assert.ok(m(key(0x00081030, 'LO', '*Body*')));
  assert.ok(m(key(0x00081030, 'LO', 'PET/CT Whole Body (FDG)*')), "'*' matches zero characters");
  assert.ok(!m(key(0x00081030, 'LO', 'pet*')), 'wild card matching is case-sensitive except for PN');
  assert.ok(m(key(0x00080050, 'SH', 'ACC-?')));
  assert.ok(!m(key(0x00080050, 'SH', 'ACC-??')), "'?' is one character, not zero or two");
  assert.ok(m(key(0x00080050, 'SH', '???-?')));
  // '?' is one character, also a non-ASCII one
  assert.ok(m(key(0x00100010, 'PN', 'M?ller')));
  // regular-expression characters in the key are literal
  assert.ok(m(key(0x00081030, 'LO', 'PET/CT Whole Body (FDG*')));
  assert.ok(!m(key(0x00081030, 'LO', 'PET.CT*')), "'.' is a dot, not any character");
  assert.ok(m({ tag: 0x00081030, vr: 'LO', values: ['*(FDG)'] }));
  // wild cards do not apply to UI, DA or numbers: literal there
  assert.ok(!m(key(0x0020000d, 'UI', '1.2.*')));
  assert.ok(!m(key(0x00200011, 'IS', '*7')));
});

test("PN wild cards never match '^' or '=' (QR-013): a component pattern stays within its component", () => {
  assert.ok(m(key(0x00100010, 'PN', 'Mü*')));
  assert.ok(m(key(0x00100010, 'PN', 'Mü*^H*')));
  // 'Müller^Hans' cannot be matched by a family-name pattern that would have to swallow '^'
  assert.ok(!m(key(0x00100010, 'PN', 'Müller?Hans')));
  assert.ok(!m(key(0x00100010, 'PN', 'Müller*Peter')));
  // findScp.implicitTrailingWildcard appends '*' to Patient's Name keys
  assert.ok(m(key(0x00100010, 'PN', 'Mül'), entity, { ...DEFAULT_MATCH_OPTIONS, implicitTrailingWildcard: true }));
  assert.ok(!m(key(0x00100010, 'PN', 'Mül')));
});

test('Range Matching of dates (C.2.2.2.5): a-b inclusive, -b on or before, a- on or after', () => {
  for (const [k, ok] of [
    ['20200101-20200131', true], ['20200115-20200115', true], ['20200116-20200131', false],
    ['-20200115', true], ['-20200114', false], ['20200115-', true], ['20200116-', false],
    ['20200115', true], ['20200114', false],
  ] as const) assert.equal(m(key(0x00080020, 'DA', k)), ok, k);
  // an entity without a date never matches a range
  assert.ok(!m(key(0x00080020, 'DA', '19000101-'), { '00080020': { vr: 'DA' } }));
  // legacy ACR-NEMA dates with dots are read by meaning
  assert.ok(m(key(0x00080020, 'DA', '2020.01.01-2020.01.31')));
});

test('Time single values and ranges match by meaning (QR-013)', () => {
  const at = (v: string): JsonDataset => ({ '00080030': str('TM', v) });
  // "2230" matches 2230, 223000 and 223000.000000-223059.999999
  for (const v of ['2230', '223000', '223059.999999', '223030.5']) assert.ok(m(key(0x00080030, 'TM', '2230'), at(v)), v);
  assert.ok(!m(key(0x00080030, 'TM', '2230'), at('2231')));
  assert.ok(!m(key(0x00080030, 'TM', '2230'), at('22')), 'a less precise value is not within the key');
  // "21-224010" matches 210000 through 224010.999999
  for (const v of ['21', '210000', '2240', '224010.999999']) assert.ok(m(key(0x00080030, 'TM', '21-224010'), at(v)), v);
  for (const v of ['205959', '224011']) assert.ok(!m(key(0x00080030, 'TM', '21-224010'), at(v)), v);
  assert.ok(m(key(0x00080030, 'TM', '-1000'), at('095959')));
  assert.ok(m(key(0x00080030, 'TM', '1000-'), at('235959')));
  assert.ok(m(key(0x00080030, 'TM', '14:30-15:00'), at('143000')), 'legacy colons');
});

test('Date-time (DT) ranges, open and closed; the UTC offset is not used (QR-013)', () => {
  const e: JsonDataset = { '0008002A': str('DT', '20200115143000.25+0100') };
  assert.ok(m(key(0x0008002a, 'DT', '20200115-20200116'), e));
  assert.ok(m(key(0x0008002a, 'DT', '202001151430-'), e));
  assert.ok(!m(key(0x0008002a, 'DT', '202001151431-'), e));
  assert.ok(m(key(0x0008002a, 'DT', '-2020011514'), e));
  assert.ok(m(key(0x0008002a, 'DT', '20200115143000-0500-20200116'), e), 'an offset on the lower bound');
  assert.deepEqual(parseRange('2020-2021', 'DT'), { lo: '20200101000000.000000', hi: '20211231235959.999999', form: 'closed' });
});

test('Combined date and time range (C.2.2.2.5, QR-013): one date-time range; a null time matches on the date', () => {
  const keys = [key(0x00080020, 'DA', '20060705-20060707'), key(0x00080030, 'TM', '1000-1800')];
  const at = (d: string, t?: string): JsonDataset => ({ '00080020': str('DA', d), ...(t !== undefined ? { '00080030': str('TM', t) } : {}) });
  // "July 5, 10 am until July 7, 6 pm, rather than three periods of 10 am until 6 pm"
  assert.ok(matchAll(keys, at('20060705', '100000')));
  assert.ok(matchAll(keys, at('20060706', '020000')), '2 am on the middle day is inside the combined range');
  assert.ok(matchAll(keys, at('20060707', '180000')));
  assert.ok(!matchAll(keys, at('20060705', '090000')));
  assert.ok(!matchAll(keys, at('20060707', '180100')));
  assert.ok(matchAll(keys, at('20060706')), 'null time');
  assert.ok(!matchAll(keys, at('20060708')), 'null time, date outside');
  // open forms combine too
  assert.ok(matchAll([key(0x00080020, 'DA', '20060705-'), key(0x00080030, 'TM', '1000-')], at('20060706', '010000')));
  assert.ok(!matchAll([key(0x00080020, 'DA', '20060705-'), key(0x00080030, 'TM', '1000-')], at('20060705', '090000')));
  // different forms: matched separately
  assert.ok(!matchAll([key(0x00080020, 'DA', '20060705-20060707'), key(0x00080030, 'TM', '1000-')], at('20060706', '020000')));
});

test('List of UID Matching (C.2.2.2.2): backslash-separated UIDs, any of them', () => {
  assert.ok(m({ tag: 0x0020000d, vr: 'UI', values: ['1.2.3.5', '1.2.3.4'] }));
  assert.ok(!m({ tag: 0x0020000d, vr: 'UI', values: ['1.2.3.5', '1.2.3.6'] }));
  assert.ok(m(key(0x0020000d, 'UI', '1.2.3.4')));
  assert.ok(!m(key(0x0020000d, 'UI', '1.2.3')), 'no prefix match on UIDs');
});

test('Multi-valued attributes: a key matches when any value does (Modalities in Study, 8.3)', () => {
  assert.ok(m(key(0x00080061, 'CS', 'CT')));
  assert.ok(m(key(0x00080061, 'CS', 'PT')));
  assert.ok(!m(key(0x00080061, 'CS', 'NM')));
  assert.ok(m({ tag: 0x00080061, vr: 'CS', values: ['NM', 'PT'] }), 'a key with several values: any of them');
  assert.ok(m(key(0x00080061, 'CS', 'P?')));
});

test('Empty Value Matching: a key of two quotation marks matches an absent or empty attribute only', () => {
  assert.ok(m(key(0x00321032, 'PN', '""')));
  assert.ok(m(key(0x00080090, 'PN', '""'), { '00080090': { vr: 'PN' } }));
  assert.ok(!m(key(0x00100010, 'PN', '""')));
});

test('Sequence Matching (C.2.2.2.6): all item keys within one item; an empty item is universal; matching items returned', () => {
  const e: JsonDataset = {
    '00400275': {
      vr: 'SQ',
      Value: [
        { '00401001': str('SH', 'RP-1'), '00400009': str('SH', 'SPS-1') },
        { '00401001': str('SH', 'RP-2'), '00400009': str('SH', 'SPS-2') },
      ],
    },
  };
  const sq = (...items: QueryKey[][]): QueryKey => ({ tag: 0x00400275, vr: 'SQ', values: [], items });
  assert.ok(m(sq([key(0x00401001, 'SH', 'RP-2')]), e));
  assert.ok(m(sq([key(0x00401001, 'SH', 'RP-*'), key(0x00400009, 'SH', 'SPS-1')]), e));
  assert.ok(!m(sq([key(0x00401001, 'SH', 'RP-1'), key(0x00400009, 'SH', 'SPS-2')]), e), 'both keys must match in the same item');
  assert.ok(m(sq([]), e), 'no item: universal');
  assert.ok(m(sq(), e), 'zero items: universal');
  assert.ok(!m(sq([key(0x00401001, 'SH', 'RP-1')]), {}), 'absent sequence');
  assert.ok(m(sq([key(0x00401001, 'SH')]), e), 'item key universal');
  // returned: the matching items with only the requested attributes
  const out = selectItems(sq([key(0x00401001, 'SH', 'RP-2')]), e['00400275']);
  assert.deepEqual(out, { vr: 'SQ', Value: [{ '00401001': str('SH', 'RP-2') }] });
  // universal: the whole sequence
  assert.deepEqual(selectItems(sq([]), e['00400275']), e['00400275']);
});

test('matchKey: keys on several attributes must all match (AND across keys)', () => {
  assert.ok(matchAll([key(0x00080060, 'CS', 'PT'), key(0x00100020, 'LO', 'PID-42')], entity));
  assert.ok(!matchAll([key(0x00080060, 'CS', 'PT'), key(0x00100020, 'LO', 'PID-43')], entity));
  assert.ok(matchKey(key(0x00100020, 'LO', 'PID-4?'), entity['00100020']));
});

test("Patient's Name prefilter: every entity matchKey accepts has a family-name key within pnFamilyRanges (a superset, never a rule)", () => {
  // Values chosen where case folding, trimming and component groups could part ways.
  const values: JsonDataset[string][] = [
    pn('SMITH^JOHN'), pn('Smith^John'), pn('smith'), pn('  SMITHERS ^ ANNA'), pn('SMI'), pn('SM'), pn('SMJ'), pn('SMI\u007f'),
    pn('ſmith^Kate'), pn('\u212Aarl^Otto'), pn('KARL'), pn('karlsson'), pn('Straße^Eva'), pn('STRASSE'), pn('Müller^Hans'), pn('MÜLLER'),
    pn('^John'), pn('=山田^太郎'), pn('', '山田^太郎', 'やまだ^たろう'), pn('Doe^Jane', '', 'SMITH'), pn('Yamada^Taro', '山田^太郎', 'ヤマダ^タロウ'),
    { vr: 'PN', Value: ['SMITH^ANN=スミス^アン'] }, { vr: 'PN', Value: [{ Alphabetic: 'Jones' }, { Alphabetic: 'Smyth^Al' }] }, { vr: 'PN' },
    pn('İstanbul^Ali'), pn('ı^x'), pn('O\'NEIL'), pn('Åsa^B'), pn('\u212Bsa^B'),
  ];
  const keys = ['SMI*', 'smi*', 'Smith', 'SMITH^J*', 'sm?th*', '*mith', '?MITH', 'S*', 's', 'ſmith', 'karl*', '\u212Aarl*', 'KARL', 'straße',
    'STRASSE', 'STRA*', 'MÜL*', 'mül*', 'Mü*', '山田', '山*', 'やまだ*', 'ヤマダ', 'スミス*', '^John', '^jo*', 'SMITH=山田', 'SMI*\\Jones',
    'smyth', '^', '=', 'SMI\u007f*', "o'n*", 'å*', 'Å*', 'i*', 'İ*', 'ı*', '   smith  ', 'SMITH^ANN'];
  const options: MatchOptions[] = [
    DEFAULT_MATCH_OPTIONS, { ...DEFAULT_MATCH_OPTIONS, caseInsensitive: 'none' }, { ...DEFAULT_MATCH_OPTIONS, caseInsensitive: 'all' },
    { ...DEFAULT_MATCH_OPTIONS, implicitTrailingWildcard: true },
  ];
  let narrowed = 0;
  for (const o of options) {
    for (const kv of keys) {
      const k = key(0x00100010, 'PN', ...kv.split('\\'));
      const ranges = pnFamilyRanges(k, o);
      if (ranges) narrowed++;
      for (const attr of values) {
        if (!matchKey(k, attr, o) || !ranges) continue;
        const fams = pnFamilyKeys(attr);
        const inside = fams.some((f) => ranges.some((r) => (r.hi === undefined ? f === r.lo : f >= r.lo && f < r.hi)));
        assert.ok(inside, `key ${JSON.stringify(kv)} matches ${JSON.stringify(attr)} but its family keys ${JSON.stringify(fams)} are outside ${JSON.stringify(ranges)} (${JSON.stringify(o)})`);
      }
    }
  }
  assert.ok(narrowed > 80, `most keys narrow the search (${narrowed})`);
  // What cannot narrow: universal, wild card first, an empty family component, wholeString.
  for (const kv of ['*', '', '*MITH', '?MITH', '^John']) assert.equal(pnFamilyRanges(key(0x00100010, 'PN', kv), DEFAULT_MATCH_OPTIONS), undefined, kv);
  assert.equal(pnFamilyRanges(key(0x00100010, 'PN', 'SMI*'), { ...DEFAULT_MATCH_OPTIONS, pnMatching: 'wholeString' }), undefined);
  assert.deepEqual(pnFamilyRanges(key(0x00100010, 'PN', 'smi*'), DEFAULT_MATCH_OPTIONS), [{ lo: 'SMI', hi: 'SMJ' }]);
  assert.deepEqual(pnFamilyRanges(key(0x00100010, 'PN', 'Mül*'), DEFAULT_MATCH_OPTIONS), [{ lo: 'M', hi: 'N' }], 'prefix cut before the first non-ASCII letter');
  assert.deepEqual(pnFamilyKeys(pn('  Doe ^Jane', '山田^太郎', '')), ['DOE', '山田']);
});
