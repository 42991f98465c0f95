import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { bufferSource, readHdus, type Hdu, valueText } from '../../src/fits/index.js';
import { generateRaw, type SimulateOptions } from '../../src/simulate/index.js';

async function hdusOf(options: SimulateOptions): Promise<Hdu[]> {
  return readHdus(bufferSource(generateRaw(options).bytes));
}

function images(hdu: Hdu): string[] {
  return hdu.header.toBuffer().toString('latin1').match(/.{80}/g)!;
}

/**
 * The real MODS2R 1Kx1K primary header of 2025-12-10 (78 cards, trailing blanks trimmed), as
 * printed by the notebook of rwpogge/MODS2025 `34a65fa` (docs/raw-format.md §4.2).
 */
const REAL_EXAMPLE_HEADER = `
SIMPLE  =                    T / conforms to FITS standard
BITPIX  =                    8 / array data type
NAXIS   =                    0 / number of array dimensions
EXTEND  =                    T
NEXTEND =                    4 / Number of extensions
DETSIZE = '[1:8288,1:3088]'    / Detector size
CCDSUM  = '1 1     '           / CCD pixel summing
CCDBIN1 =                    1 / Binning factor along axis 1
CCDBIN2 =                    1 / Binning factor along axis 2
FILENAME= 'mods2r.20251210.0009.fits' / base filename at acquisition
NCCDS   =                    1 / Number of CCDs
NAMPS   =                    4 / Number of amplifiers
COMMENT ==================================================================
COMMENT MODS
COMMENT ==================================================================
DEWAR   = 'MODS2R  '           / CCD Dewar
COMMENT ==================================================================
COMMENT Controller
COMMENT ==================================================================
INTMS   =                 1000 / Open shutter exposure time (ms)
NOINTMS =                  500 / Closed shutter exposure time (ms)
COMMENT ==================================================================
COMMENT Exposure
COMMENT ==================================================================
CCDCTRLR= 'Archon  '           / STA Archon CCD controller
CHANNEL = 'RED     '           / MODS Channel [blue|red]
DARKTIME=                  1.0 / Dark time (seconds)
DATE    = '2025-12-10'         / UTC date and time file writtten
DATE-OBS= '2025-12-10'         / UTC shutter opened
DETECTOR= 'e2v CCD231-68 Red CCD 2' / Detector name
DISPAXIS=                    1 / Spectral Dispersion Axis
ELEVATIO=               3221.0 / Site Elevation [meters]
EQUINOX =               2000.0 / Equinox of coordinates
EXPTIME =                  1.0 / Exposure time (seconds)
FOCSCALE=                 1.67 / Focal Plane Scale [arcsec per mm]
GRORDER =                    1 / Grating order used
IMAGETYP= 'object  '           / Image type
INSTRUME= 'MODS2R  '           / Instrument Name
LATITUDE=             32.70131 / Site Latitude [deg N]
LOCTIME = '19:08:07'           / Local time at start of exposure
LONGITUD=            109.88906 / Site Longitude [deg W]
OBJECT  = 'Sieve Mask 1Kx1K 500ms'
OBSERVAT= 'MGIO-LBT'           / Observatory Site
OBSERVER= 'Observer Name(s)'   / Observer(s)
ORIGIN  = 'MGIO-LBT'           / Location where the data was generated
PARTNER = 'ENGINEERING'        / LBT Project Partner(s)
PIXSCALE=                0.123 / Unbinned pixel scale [arcsec per pixel]
PIXSIZE =                 15.0 / Unbinned pixel size [microns]
PI_NAME = 'ENGINEERING'        / Project PI Name(s)
PROPID  = 'ENGINEERING'        / Observing Proposal ID
RADECSYS= 'FK5     '           / Coordinate System
SUPPORT = 'Support Name(s)'    / LBT Support Scientist(s) on duty
TELESCOP= 'LBT-DX  '           / Telescope and Focal Station
TELOPS  = 'TelOps Name(s)'     / LBT Telescope Operator(s) on duty
TIME-OBS= '19:08:07.251'       / UTC at start of exposure
TIMESYS = 'UTC     '           / Time system
TIMEZONE= '0.0     '           / Local time zone
UT      = '19:08:07.251'       / UTC at start of exposure
UTC-OBS = '19:08:07.251'       / UTC at start of exposure
COMMENT ==================================================================
COMMENT Temperature
COMMENT ==================================================================
BASETEMP=               -999.9 / CCD mount base temperature [deg C]
CCDTEMP =               -999.9 / CCD detector temperature [deg C]
COMMENT ==================================================================
COMMENT AzCam Focal plane
COMMENT ==================================================================
HIERARCH AZCAM-HEAD = 'OK      ' / AzCam Header flag
N-AMPS-X=                    2 / Number of amplifiers in X
N-AMPS-Y=                    2 / Number of amplifiers in Y
N-DET-X =                    1 / Number of detectors in X
N-DET-Y =                    1 / Number of detectors in Y
NUM-AMPX=                    2 / Number of amplifiers in X
NUM-AMPY=                    2 / Number of amplifiers in Y
NUM-DETX=                    1 / Number of detectors in X
NUM-DETY=                    1 / Number of detectors in Y
REF-PIX1=                 4144 / Reference pixel 1
REF-PIX2=                 1544 / Reference pixel 2
`.trim().split('\n');

const REAL_EXAMPLE_OPTIONS: SimulateOptions = {
  instrument: 'mods2r', obsDate: '20251210', seq: 9, roi: '1k', detector: 'dec2025', broken: ['q-extnames'], timezoneHours: 0,
  utcStart: '2025-12-10T19:08:07.251Z', object: 'Sieve Mask 1Kx1K 500ms', exptimeS: 1.0, instrumentBlock: false, telescopeBlock: false,
};

describe('primary header', () => {
  test('has 209 cards with the Instrument and Telescope blocks, 78 without, 130/157 with one', async () => {
    assert.equal((await hdusOf({ roi: '1k' }))[0]!.header.cards.length, 209);
    assert.equal((await hdusOf({ roi: '1k', instrumentBlock: false, telescopeBlock: false }))[0]!.header.cards.length, 78);
    assert.equal((await hdusOf({ roi: '1k', telescopeBlock: false }))[0]!.header.cards.length, 78 + 52);
    assert.equal((await hdusOf({ roi: '1k', instrumentBlock: false }))[0]!.header.cards.length, 78 + 79);
  });

  test('reproduces the real 78-card header of mods2r.20251210.0009.fits card for card', async () => {
    const real = REAL_EXAMPLE_HEADER;
    assert.equal(real.length, 78);
    const got = images((await hdusOf(REAL_EXAMPLE_OPTIONS))[0]!);
    assert.equal(got.length, 78 + 1 + (36 * 3 - 79)); // cards, END, blank padding to 3 blocks
    assert.deepEqual(got.slice(0, 78).map((l) => l.trimEnd()), real);
    assert.equal(got[78]!.trimEnd(), 'END');
  });

  test('keeps azcam block order with keywords ASCII-sorted inside each block', async () => {
    const cards = (await hdusOf({ roi: '1k' }))[0]!.header.cards;
    const titles: string[] = [];
    const blocks: string[][] = [];
    for (let k = 12; k < cards.length; k++) {
      const c = cards[k]!;
      if (c.kind === 'commentary') {
        if (c.value !== '='.repeat(66)) {
          titles.push(valueText(c.value));
          blocks.push([]);
        }
      } else {
        blocks[blocks.length - 1]!.push(c.keyword);
      }
    }
    assert.deepEqual(titles, ['MODS', 'Controller', 'Exposure', 'Instrument', 'Temperature', 'Telescope', 'AzCam Focal plane']);
    assert.deepEqual(blocks.map((b) => b.length), [1, 2, 35, 49, 2, 76, 11]);
    for (const b of blocks) assert.deepEqual(b, [...b].sort(), 'sorted');
    assert.deepEqual(cards.slice(0, 12).map((c) => c.keyword), [
      'SIMPLE', 'BITPIX', 'NAXIS', 'EXTEND', 'NEXTEND', 'DETSIZE', 'CCDSUM', 'CCDBIN1', 'CCDBIN2', 'FILENAME', 'NCCDS', 'NAMPS',
    ]);
  });

  test('writes the value types of spec §4.3', async () => {
    const h = (await hdusOf({ roi: '1k', instrument: 'mods1b' }))[0]!.header;
    const kind = (k: string) => h.get(k)?.kind;
    const text = (k: string) => images({ header: h } as Hdu).find((l) => l.startsWith(k.padEnd(8)))!.trimEnd();
    assert.equal(h.value('NEXTEND'), 4);
    assert.equal(h.value('DETSIZE'), '[1:8292,1:3088]');
    assert.equal(h.value('IMAGETYP'), 'object');
    assert.equal(h.value('TIMEZONE'), '7.0');
    assert.equal(h.value('LOCTIME'), '21:12:33');
    assert.equal(h.value('DATE-OBS'), '2026-01-15');
    assert.equal(h.value('DATE'), '2026-01-15');
    for (const k of ['UTC-OBS', 'TIME-OBS', 'UT']) assert.equal(h.value(k), '04:12:33.456', k);
    assert.equal(h.value('CCDTEMP'), -999.9);
    assert.equal(h.value('BASETEMP'), -999.9);
    assert.equal(h.value('TELESCOP'), 'LBT-SX');
    assert.equal(h.value('PIXSCALE'), 0.12);
    assert.equal(h.value('DEWAR'), 'MODS1B');
    assert.equal(h.value('REF-PIX1'), 4146);
    assert.match(h.string('TELRA') ?? '', /^\d\d:\d\d:\d\d\.\d{3}$/);
    assert.match(h.string('TELDEC') ?? '', /^[+-]\d\d:\d\d:\d\d\.\d\d$/);
    assert.match(h.string('HA') ?? '', /^[+-]\d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(kind('TELALT'), 'real');
    assert.equal(kind('TELAZ'), 'real');
    assert.ok((h.number('TELALT') ?? 0) > 30, 'target well above the horizon');
    assert.equal(h.value('LBTWLINK'), '1');
    assert.equal(kind('LBTWLINK'), 'string');
    assert.equal(h.value('NONSIDER'), 0);
    assert.equal(kind('NONSIDER'), 'integer');
    assert.equal(h.value('NSTYPE'), '');
    assert.equal(h.value('NSEPHFIL'), '');
    assert.equal(text('NSTYPE'), "NSTYPE  = ''                   / Non-sidereal target type");
    for (const k of ['ELEVATIO', 'EQUINOX', 'EXPTIME', 'DARKTIME', 'PIXSIZE']) assert.equal(kind(k), 'real', k);
    assert.equal(text('EQUINOX'), 'EQUINOX =               2000.0 / Equinox of coordinates');
    assert.equal(text('HIERARCH'), "HIERARCH AZCAM-HEAD = 'OK      ' / AzCam Header flag");
    assert.equal(h.get('OBJECT')?.comment, undefined);
  });

  test('Controller times follow the image type', async () => {
    const times = async (imageType: string, exptimeS: number) => {
      const h = (await hdusOf({ roi: '1k', imageType, exptimeS }))[0]!.header;
      return [h.value('INTMS'), h.value('NOINTMS'), h.value('EXPTIME')];
    };
    assert.deepEqual(await times('object', 2.5), [2500, 500, 2.5]);
    assert.deepEqual(await times('dark', 300), [0, 300000, 300]);
    assert.deepEqual(await times('zero', 0), [0, 0, 0]);
  });

  test('the MODS2 channels sit on LBT-DX with DX telescope comments', async () => {
    const h = (await hdusOf({ roi: '1k', instrument: 'MODS2B' }))[0]!.header;
    assert.equal(h.value('TELESCOP'), 'LBT-DX');
    assert.equal(h.value('INSTRUME'), 'MODS2B');
    assert.equal(h.value('CHANNEL'), 'BLUE');
    assert.equal(h.get('TELRA')?.comment, 'DX Telescope Achieved RA [hms]');
    assert.equal(h.get('GRATNAME')?.comment, 'Blue Grating Turret Disperser Name');
  });

  test('keyword overrides keep the card in place', async () => {
    const plain = (await hdusOf({ roi: '1k' }))[0]!.header;
    const h = (await hdusOf({ roi: '1k', keywords: { OBSERVER: 'Pogge', TELALT: 45.5 } }))[0]!.header;
    assert.equal(h.value('OBSERVER'), 'Pogge');
    assert.equal(h.value('TELALT'), 45.5);
    assert.deepEqual(h.cards.map((c) => c.keyword), plain.cards.map((c) => c.keyword));
  });
});

describe('extension headers IM1..IM4', () => {
  const ORDER = [
    'XTENSION', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'PCOUNT', 'GCOUNT', 'EXTNAME', 'BZERO', 'BSCALE', 'INHERIT', 'BUNIT',
    'COMMENT', 'COMMENT', 'COMMENT', 'IMAGEID', 'CCDNAME', 'DETSIZE', 'CCDSIZE', 'BIASSEC', 'DATASEC', 'TRIMSEC', 'AMPSEC',
    'DETSEC', 'CCDSEC', 'CCDSEC1', 'OVRSCAN1', 'OVRSCAN2', 'PRESCAN1', 'PRESCAN2', 'CCDSUM', 'LTM1_1', 'LTM2_2', 'LTV1', 'LTV2',
    'ATM1_1', 'ATM2_2', 'ATV1', 'ATV2', 'DTM1_1', 'DTM2_2', 'DTV1', 'DTV2',
    'COMMENT', 'COMMENT', 'COMMENT', 'EQUINOX', 'WCSDIM', 'CTYPE1', 'CTYPE2', 'CRVAL1', 'CRVAL2', 'CRPIX1', 'CRPIX2',
    'CD1_1', 'CD1_2', 'CD2_1', 'CD2_2',
    'COMMENT', 'COMMENT', 'COMMENT', 'AMP-CFG', 'DET-NUM', 'EXT-NUM', 'JPG-EXT', 'DET-POSX', 'DET-POSY', 'EXT-POSX', 'EXT-POSY',
    'AMP-PIX1', 'AMP-PIX2', 'GAIN', 'RDNOISE',
  ];

  test('have 73 cards in azcam order, BZERO/BSCALE as reals right after EXTNAME', async () => {
    const hdus = await hdusOf({ roi: '1k' });
    assert.equal(ORDER.length, 73);
    for (const [k, hdu] of hdus.slice(1, 5).entries()) {
      assert.deepEqual(hdu.header.cards.map((c) => c.keyword), ORDER);
      assert.equal(hdu.extname, `IM${k + 1}`);
      const lines = images(hdu);
      assert.equal(lines[8]!.trimEnd(), 'BZERO   =              32768.0');
      assert.equal(lines[9]!.trimEnd(), 'BSCALE  =                  1.0');
      assert.equal(hdu.header.value('IMAGEID'), k + 1);
      assert.equal(hdu.header.value('CCDSUM'), '1 1');
      assert.equal(hdu.bitpix, 16);
    }
  });

  test('carry the §5.2 full-frame values', async () => {
    const hdus = await hdusOf({ instrumentBlock: false, telescopeBlock: false });
    const im4 = hdus[4]!.header;
    assert.equal(im4.value('DETSEC'), '[8292:4147,1545:3088]');
    assert.equal(im4.value('CCDSEC1'), '[8292:4146,1:1544]');
    assert.equal(im4.value('LTV1'), 8293);
    assert.equal(im4.value('LTV2'), -1544);
    assert.equal(im4.value('ATV1'), 8293);
    assert.equal(im4.value('CRPIX2'), -1);
    assert.equal(im4.value('AMP-PIX1'), 8292);
    assert.equal(im4.value('AMP-PIX2'), 1545);
    const lines = images(hdus[2]!);
    assert.ok(lines.includes('CD1_1   =       -0.00027777778 / Coordinate matrix'.padEnd(80)));
    assert.ok(lines.includes('CD2_1   =                 -0.0 / Coordinate matrix'.padEnd(80)));
  });

  test('report NAXIS and CCDSUM of the binning', async () => {
    const hdus = await hdusOf({ roi: '1k', bin: '2x2' });
    for (const hdu of hdus.slice(1, 5)) {
      assert.deepEqual(hdu.axes, [288, 256]);
      assert.equal(hdu.header.value('CCDSUM'), '2 2');
      assert.equal(hdu.header.value('BIASSEC'), '[257:288,1:256]');
    }
    assert.equal(hdus[0]!.header.value('CCDSUM'), '2 2');
    assert.equal(hdus[0]!.header.value('CCDBIN1'), 2);
  });
});

describe('CONPARS', () => {
  test('is a 13-card BINTABLE with two 20A columns and 205 NUL-padded rows', async () => {
    const raw = generateRaw({ roi: '1k' });
    const hdus = await readHdus(bufferSource(raw.bytes));
    const t = hdus[5]!;
    assert.deepEqual(t.header.cards.map((c) => [c.keyword, c.value]), [
      ['XTENSION', 'BINTABLE'], ['BITPIX', 8], ['NAXIS', 2], ['NAXIS1', 40], ['NAXIS2', 205], ['PCOUNT', 0], ['GCOUNT', 1],
      ['TFIELDS', 2], ['TTYPE1', 'Keyword'], ['TFORM1', '20A'], ['TTYPE2', 'Value'], ['TFORM2', '20A'], ['EXTNAME', 'CONPARS'],
    ]);
    const data = raw.bytes.subarray(t.dataOffset, t.dataOffset + t.dataBytes);
    assert.equal(data.toString('latin1', 0, 20), 'VALID'.padEnd(20, '\0'));
    assert.equal(data.toString('latin1', 20, 40), '1'.padEnd(20, '\0'));
    assert.ok(!data.includes(0x20), 'no space padding');
  });
});
