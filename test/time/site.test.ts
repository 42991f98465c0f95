import { describe, it } from 'node:test';
import {
  celestialToIntermediateMatrix,
  cioLocator,
  earthRotationAngle,
  geodeticToItrs,
  intermediateMatrixFromCip,
  LBT_SITE,
  meanObliquity2006,
  nutation2000b,
  polarMotionMatrix,
  precessionAngles2006,
  siteGcrsPosition,
} from '../../src/time/index.js';
import { norm } from '../../src/time/vector.js';
import { assertClose } from './helpers.js';

const RAD_TO_DEG = 180 / Math.PI;
/** One milliarcsecond in radians: 3 cm at the Earth's surface. */
const MAS = Math.PI / 648000 / 1000;

describe('observatory coordinates (WGS84 → ITRS)', () => {
  it('gives ERFA eraGd2gc known answer to 1e-7 m', () => {
    // ERFA t_erfa_c.c: eraGd2gc(WGS84, elong 3.1 rad, phi −0.5 rad, h 2500 m).
    const xyz = geodeticToItrs({ latitudeDeg: -0.5 * RAD_TO_DEG, longitudeDeg: 3.1 * RAD_TO_DEG, heightM: 2500 });
    assertClose(xyz[0], -5599000.5577049947, 1e-7, 'x (m)');
    assertClose(xyz[1], 233011.67223479203, 1e-7, 'y (m)');
    assertClose(xyz[2], -3040909.4706983363, 1e-7, 'z (m)');
  });

  it('puts the LBT 6375.153 km from the geocentre, west of Greenwich, north of the equator', () => {
    const [x, y, z] = geodeticToItrs(LBT_SITE);
    // Independently, with e² = f(2 − f): N = a/√(1 − e² sin²φ), u = (N + h) cos φ,
    // v = (N(1 − e²) + h) sin φ give u = 5375154.0686 m, v = 3427870.7372 m.
    assertClose(Math.hypot(x, y), 5375154.0686, 1e-3, 'distance from the axis (m)');
    assertClose(z, 3427870.7372, 1e-3, 'z (m)');
    assertClose(Math.atan2(y, x) * RAD_TO_DEG, -109.88906, 1e-12, 'longitude (deg)');
  });
});

describe('Earth orientation', () => {
  it('gives ERFA eraEra00 known answer to 1e-12 rad', () => {
    assertClose(earthRotationAngle(2400000.5, 54388.0), 0.4022837240028158102, 1e-12, 'ERA');
  });

  it('gives ERFA eraNut00b known answer to 1e-13 rad', () => {
    const { dpsi, deps } = nutation2000b(2400000.5, 53736.0);
    assertClose(dpsi, -0.9632552291148362783e-5, 1e-13, 'dpsi');
    assertClose(deps, 0.4063197106621159367e-4, 1e-13, 'deps');
  });

  it('gives ERFA eraPfw06 and eraObl06 known answers', () => {
    const a = precessionAngles2006(2400000.5, 50123.9999);
    assertClose(a.gammaBar, -0.224338767099799569e-5, 1e-16, 'gamb');
    assertClose(a.phiBar, 0.4091014602391312808, 1e-12, 'phib');
    assertClose(a.psiBar, -0.9501954178013031895e-3, 1e-14, 'psib');
    assertClose(a.epsA, 0.4091014316587367491, 1e-12, 'epsa');
    assertClose(meanObliquity2006(2400000.5, 54388.0), 0.4090749229387258204, 1e-14, 'obl06');
  });

  it('gives ERFA eraC2ixys known answer for the matrix from X, Y, s to 1e-12', () => {
    const m = intermediateMatrixFromCip(0.5791308486706011e-3, 0.4020579816732961219e-4, -0.1220040848472271978e-7);
    const expected = [
      [0.9999998323037157138, 0.5581984869168499149e-9, -0.579130849161128218e-3],
      [-0.2384261642670440317e-7, 0.9999999991917468964, -0.4020579110169668931e-4],
      [0.5791308486706011e-3, 0.4020579816732961219e-4, 0.999999831495462759],
    ];
    for (const i of [0, 1, 2] as const) {
      for (const j of [0, 1, 2] as const) assertClose(m[i][j], expected[i]?.[j] ?? NaN, 1e-12, `rc2i[${i}][${j}]`);
    }
  });

  it('gives the CIO locator s within 0.05 mas of ERFA eraS06 (truncated series)', () => {
    const s = cioLocator(2400000.5, 53736.0, 0.5791308486706011e-3, 0.4020579816732961219e-4);
    assertClose(s, -0.1220032213076463117e-7, 0.05 * MAS, 's');
  });

  it('gives GCRS→CIRS within 2 mas of ERFA eraC2i06a (IAU 2000B instead of 2000A nutation)', () => {
    // 2 mas moves the site 6 cm: 0.2 ns of light time.
    const m = celestialToIntermediateMatrix(2400000.5, 53736.0);
    const expected = [
      [0.9999998323037159379, 0.5581121329587613787e-9, -0.5791308487740529749e-3],
      [-0.2384253169452306581e-7, 0.9999999991917467827, -0.4020579392895682558e-4],
      [0.5791308482835292617e-3, 0.402058009945402031e-4, 0.9999998314954628695],
    ];
    for (const i of [0, 1, 2] as const) {
      for (const j of [0, 1, 2] as const) assertClose(m[i][j], expected[i]?.[j] ?? NaN, 2 * MAS, `rc2i[${i}][${j}]`);
    }
  });

  it('gives ERFA eraPom00 known answer for the polar-motion matrix', () => {
    const m = polarMotionMatrix(2.55060238e-7, 1.860359247e-6, -0.136717458072889146e-10);
    const expected = [
      [0.9999999999999674721, -0.1367174580728846989e-10, 0.2550602379999972345e-6],
      [0.1414624947957029801e-10, 0.9999999999982695317, -0.1860359246998866389e-5],
      [-0.2550602379741215021e-6, 0.1860359247002414021e-5, 0.9999999999982370039],
    ];
    for (const i of [0, 1, 2] as const) {
      for (const j of [0, 1, 2] as const) assertClose(m[i][j], expected[i]?.[j] ?? NaN, 1e-15, `rpom[${i}][${j}]`);
    }
  });

  it('rotates the LBT into the GCRS without changing its distance from the geocentre', () => {
    const itrs = geodeticToItrs(LBT_SITE);
    const tt = { jd1: 2461055.5, jd2: (15153.456 + 69.184) / 86400 };
    const ut1 = { jd1: 2461055.5, jd2: 15153.456 / 86400 };
    const gcrs = siteGcrsPosition(LBT_SITE, tt, ut1);
    assertClose(norm(gcrs), norm(itrs), 1e-6, '|r| (m)');
    // Half a sidereal day later the site is on the other side of the axis.
    const later = siteGcrsPosition(LBT_SITE, { jd1: tt.jd1, jd2: tt.jd2 + 0.49863 }, { jd1: ut1.jd1, jd2: ut1.jd2 + 0.49863 });
    assertClose(gcrs[0] + later[0], 0, 20e3, 'x + x(12 h sidereal later) (m)');
    assertClose(gcrs[1] + later[1], 0, 20e3, 'y + y(12 h sidereal later) (m)');
  });
});
