/**
 * The Instrument (49 keywords) and Telescope (76 keywords) blocks azcam fills from the LBT IIF
 * data dictionary, with plausible values. Keyword names, types and comments follow the azcam
 * templates `instHdr_MODS*.txt` and `modsTCS_left/right.txt` (docs/raw-format.md §4.3); the
 * values are invented but in the formats the DD delivers (§4.3, §13.1).
 */
import type { Card } from '../fits/card.js';
import type { Channel } from '../mods/channels.js';
import { type SkyPosition, sexagesimal } from './sky.js';

/** A block keyword before sorting: typed value and comment. */
export type BlockCard = Pick<Card, 'keyword' | 'kind' | 'value' | 'comment' | 'hierarch'>;

const s = (keyword: string, value: string, comment: string): BlockCard => ({ keyword, kind: 'string', value, comment });
const i = (keyword: string, value: number, comment: string): BlockCard => ({ keyword, kind: 'integer', value, comment });
const f = (keyword: string, value: number, comment: string): BlockCard => ({ keyword, kind: 'real', value, comment });

/** The Instrument block: MODS mechanisms, lamps, environment and power states. */
export function instrumentBlock(channel: Channel): BlockCard[] {
  const blue = channel.color === 'blue';
  const c = blue ? 'Blue' : 'Red';
  return [
    s('HATCH', 'Open', 'Instrument Dark Hatch'),
    s('CALIB', 'Out', 'Calibration Tower Position'),
    f('AGWXS', 101.325, 'AGW Stage X position [mm]'),
    f('AGWYS', 62.71, 'AGW Stage Y position [mm]'),
    f('AGWFS', 45.008, 'AGW Stage Focus position [mm]'),
    s('AGWFNAME', 'Clear', 'AGW Guide Camera Filter Name'),
    i('SLITMASK', 5, 'Slit Mask Cassette Position'),
    s('MASKNAME', 'LS60x5', 'Slit Mask Name'),
    s('MASKPOS', 'IN', 'Slit Mask Position'),
    i('DICHROIC', 1, 'Dichroic Turret Position'),
    s('DICHNAME', 'Dual', 'Dichroic Beam Selector Name'),
    f('COLTTFA', blue ? 10735.0 : 11524.0, `${c} Collimator TTFA [microns]`),
    f('COLTTFB', blue ? 10602.0 : 11398.0, `${c} Collimator TTFB [microns]`),
    f('COLTTFC', blue ? 10688.0 : 11471.0, `${c} Collimator TTFC [microns]`),
    f('COLFOCUS', blue ? 10675.0 : 11464.3, `${c} Collimator Focus [microns]`),
    i('GRATING', 1, `${c} Grating Turret Position`),
    s('GRATNAME', blue ? 'G400L' : 'G670L', `${c} Grating Turret Disperser Name`),
    i('GRATTILT', blue ? 14185 : 15376, `${c} Grating Tilt [microns]`),
    f('CAMFOCUS', blue ? 2157.0 : 2412.0, `${c} Camera Focus [microns]`),
    i('FILTER', blue ? 1 : 2, `${c} Camera Filter Wheel Position`),
    s('FILTNAME', blue ? 'Clear' : 'GG495', `${c} Camera Filter Name`),
    s('IRLASER', 'On', 'IMCS IR Laser Power [mW]'),
    s('IRBEAM', 'Enabled', 'IMCS IR Laser Beam state'),
    f('IRPOUT', 1.05, 'IMCS IR Laser Power [mW]'),
    f('IRTEMP', 25.01, 'IMCS IR Laser Temperature [deg C]'),
    s('CALLAMPS', 'None', 'Calibration Lamps'),
    f('VFLAT', 0.0, 'Variable Flat Lamp Intensity'),
    f('IUBTAIR', 8.7, 'IUB Inside Air Temperature [deg C]'),
    f('GRPRES', 11.6, 'Glycol Return Pressure [psi-g]'),
    f('GRTEMP', 6.4, 'Glycol Return Temperature [deg C]'),
    f('GSPRES', 58.2, 'Glycol Supply Pressure [psi-g]'),
    f('GSTEMP', 5.3, 'Glycol Supply Temperature [deg C]'),
    f('IEBTEMPB', 9.9, 'Blue IEB Air Temperature [deg C]'),
    f('IEBTEMPR', 10.3, 'Red IEB Air Temperature [deg C]'),
    f('TCOLLBOT', 2.9, 'Collimator Truss Bottom Temp [deg C]'),
    f('TCOLLTOP', 3.2, 'Collimator Truss Top Temp [deg C]'),
    f('TAIRBOT', 3.6, 'Enclosure Air Temp Bottom [deg C]'),
    f('TAIRTOP', 4.1, 'Enclosure Air Temp Top [deg C]'),
    s('IEBPWR_B', 'On', 'Blue IEB Power'),
    s('IEBPWR_R', 'On', 'Red IEB Power'),
    s('LLBPWR', 'On', 'Lamp/Laser Box Power'),
    s('WFSPWR', 'On', 'AGw WFS camera power'),
    s('AGCPWR', 'On', 'AGw guide camera Power'),
    s('HEBPOWER', 'On', `${c} HEB Power`),
    f('HEBTEMP', blue ? 12.4 : 12.9, `${c} HEB air temperature [deg C]`),
    s('IGPOWER', 'Off', `${c} Dewar Ion Gauge Power`),
    s('ARPOWER', 'On', `${c} Archon Controller Power`),
    f('DEWPRES', blue ? 2.1e-7 : 3.4e-7, `${c} CCD Dewar Pressure [torr]`),
    f('DEWTEMP', blue ? -189.6 : -188.2, `${c} CCD Dewar Temperature [deg C]`),
  ];
}

export interface TelescopeBlockInput {
  channel: Channel;
  telra: string;
  teldec: string;
  sky: SkyPosition;
  /** TELALT/TELAZ as sexagesimal strings (templates before 2026-02-26). */
  sexagesimalAltAz: boolean;
}

/** The Telescope block: pointing, target, guiding, collimation, temperatures, weather, non-sidereal. */
export function telescopeBlock(input: TelescopeBlockInput): BlockCard[] {
  const side = input.channel.side;
  const { sky } = input;
  const altAz: BlockCard[] = input.sexagesimalAltAz
    ? [
        s('TELALT', sexagesimal(sky.altDeg, { decimals: 2, signed: true }), 'Telescope Altitude at start of obs [dms]'),
        s('TELAZ', sexagesimal(sky.azDeg, { width: 3, decimals: 3, signed: true }), 'Telescope Azimuth at start of obs [dms]'),
      ]
    : [
        f('TELALT', round(sky.altDeg, 9), 'Telescope Altitude at start of obs [deg]'),
        f('TELAZ', round(sky.azDeg, 9), 'Telescope Azimuth at start of obs [deg]'),
      ];
  const m1 = side === 'SX' ? [1.034, -0.512, 0.287] : [-0.884, 0.431, -0.196];
  const temps = [2.84, 3.12, 2.61, 2.97, 2.35, 2.78, 2.49, 2.88, 2.57, 3.05, 2.66, 2.93, 2.71, 3.01, 2.44, 2.82, 2.59, 2.9, 2.62, 2.95];
  const ttemp = temps.map((t, k) => {
    const n = k < 10 ? 201 + k : 301 + k - 10;
    return f(`TTEMP${n}`, t, TTEMP_COMMENTS[k]!);
  });
  return [
    s('TELRA', input.telra, `${side} Telescope Achieved RA [hms]`),
    s('TELDEC', input.teldec, `${side} Telescope Achieved DEC [dms]`),
    f('POSANGLE', 0.0, `${side} Instrument Celestial PA [deg]`),
    ...altAz,
    s('HA', sexagesimal(sky.haHours, { decimals: 3, signed: true }), 'Telescope Hour Angle at start of obs [hms]'),
    f('AIRMASS', round(sky.airmass, 4), 'Airmass (secZD) at start of obs'),
    f('PARANGLE', round(sky.parallacticDeg, 4), 'Parallactic Angle at start of obs [deg]'),
    s('OBS_LST', sexagesimal(sky.lstHours, { decimals: 3, signed: false }), 'Local Sidereal Time at start of obs'),
    s('ROTMODE', 'POSITION', `${side} Rotator Mode`),
    f('DGROTPOS', 118.27361, `${side} Direct Gregorian Rotator Angle [deg]`),
    s('OBJRA', input.telra, 'Target RA'),
    s('OBJDEC', input.teldec, 'Target DEC'),
    f('OBJPMRA', 0.0, 'Target RA proper motion [mas/yr]'),
    f('OBJPMDEC', 0.0, 'Target DEC proper motion [mas/yr]'),
    s('GUIRA', '04:03:31.118', 'Guide Star RA'),
    s('GUIDEC', '+31:33:41.20', 'Guide Star DEC'),
    f('AGWXGP', 101.325, 'AGW Guide Probe X focal plane position [mm]'),
    f('AGWYGP', 62.71, 'AGW Guide Probe Y focal plane position [mm]'),
    f('GPREQ_X', 101.33, 'GCS Requested guide probe PCS X [mm]'),
    f('GPREQ_Y', 62.707, 'GCS Requested guide probe PCS Y [mm]'),
    f('GPACT_X', 101.328, 'GCS Actual guide probe PCS X [mm]'),
    f('GPACT_Y', 62.711, 'GCS Actual guide probe PCX Y [mm]'),
    f('GSPRED_X', 0.012, 'PCS Predicted guide star X position [mm]'),
    f('GSPRED_Y', -0.008, 'PCS Predicted guide star Y position [mm]'),
    f('GSMEAS_X', 0.015, 'GCS Measured guide star X position [mm]'),
    f('GSMEAS_Y', -0.006, 'GCS Measured guide star Y position [mm]'),
    f('GSDELTAX', 0.003, 'GCS cumulative X guide update position [mm]'),
    f('GSDELTAY', 0.002, 'GCS cumulative Y guide update position [mm]'),
    f('M1POSX', m1[0]!, `${side} Primary X Position [mm]`),
    f('M1POSY', m1[1]!, `${side} Primary Y Position [mm]`),
    f('M1POSZ', m1[2]!, `${side} Primary Z Position [mm]`),
    f('M1ROTX', 12.41, `${side} Primary RX Rotation [arcsec]`),
    f('M1ROTY', -7.93, `${side} Primary RY Rotation [arcsec]`),
    f('M1ROTZ', 0.0, `${side} Primary RZ Rotation [arcsec]`),
    f('M1CTEMP', 2.71, `${side} Primary Temperature [deg C]`),
    f('M1CTEMP2', 2.68, `${side} Primary Temperature 2 [deg C]`),
    f('M1GTEMP', 2.93, `${side} Primary Glass Temperature [deg C]`),
    f('M1ATEMP', 2.4, `${side} Primary Ambient Air Temp [deg C]`),
    f('M2POSX', -0.377, `${side} Secondary X Position [mm]`),
    f('M2POSY', 1.102, `${side} Secondary Y Position [mm]`),
    f('M2POSZ', -0.248, `${side} Secondary Z Position [mm]`),
    f('M2ROTX', -41.2, `${side} Secondary RX Rotation [arcsec]`),
    f('M2ROTY', 18.7, `${side} Secondary RY Rotation [arcsec]`),
    f('M2ROTZ', 0.0, `${side} Secondary RZ Rotation [arcsec]`),
    f('M2CTEMP', 2.22, `${side} Secondary Temperature [deg C]`),
    ...ttemp,
    s('LBTWLINK', '1', 'LBT Weather Station Link State'),
    f('LBTPRES', 717.4, 'LBT Ambient Pressure [hPa]'),
    f('LBTTEMP', 2.6, 'LBT Ambient Temperature [deg C]'),
    f('LBTHUM', 23.0, 'LBT Relative Humidity [percent]'),
    f('LBTDWPT', -17.2, 'LBT Dew Point [deg C]'),
    i('NONSIDER', 0, 'Target is non-sidereal'),
    f('NSRARATE', 0.0, 'Differential RA tracking rate [arcsec/h]'),
    f('NSDERATE', 0.0, 'Differential Dec tracking rate [arcsec/h]'),
    s('NSTYPE', '', 'Non-sidereal target type'),
    s('NSEPHFIL', '', 'Non-sidereal ephemeris file name'),
  ];
}

const TTEMP_COMMENTS = [
  'Middle C-Ring Steel Temp [deg C]', 'Middle C-Ring Air Temp [deg C]', 'Upper C-Ring Steel Temp [deg C]',
  'Upper C-Ring Air Temp [deg C]', 'Lower C-Ring Steel Temp [deg C]', 'Lower C-Ring Air Temp [deg C]',
  'Right Lower Wind Brace Steel Temp [deg C]', 'Right Lower Wind Brace Air Temp [deg C]',
  'Right Mirror-Cell Brace Steel Temp [deg C]', 'Right Mirror-Cell Brace Air Temp [deg C]',
  'Right C-Ring Extension Steel Temp [deg C]', 'Right C-Ring Extension Air Temp [deg C]',
  'Left C-Ring Extension Steel Temp [deg C]', 'Left C-Ring Extension Air Temp [deg C]',
  'Upper Wind Brace Steel Temp [deg C]', 'Upper Wind Brace Air Temp [deg C]',
  'Right Middle Wind Brace Steel Temp [deg C]', 'Right Middle Wind Brace Air Temp [deg C]',
  'Left Middle Wind Brace Steel Temp [deg C]', 'Left Middle Wind Brace Air Temp [deg C]',
];

function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}
