import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  aberrate,
  AU_M,
  lightTravelTimes,
  removeAberration,
  SPEED_OF_LIGHT_M_PER_S,
  type PositionVelocity,
} from '../../src/time/index.js';
import { dot, norm, unit, type Vec3 } from '../../src/time/vector.js';
import { assertClose } from './helpers.js';

/** Light time for 1 au, AU/c (s). */
const AU_LIGHT_TIME = 149597870700 / 299792458;

function earthAt(helio: Vec3, bary: Vec3, velocity: Vec3 = [0, 0, 0]): {
  heliocentric: PositionVelocity;
  barycentric: PositionVelocity;
} {
  return { heliocentric: { position: helio, velocity }, barycentric: { position: bary, velocity } };
}

describe('aberration', () => {
  // ERFA t_erfa_c.c, t_ab.
  const ctx = { v: [2.1044018893653786e-5, -8.9108923304429319e-5, -3.8633714797716569e-5] as Vec3, sunDistanceAu: 0.99980921395708788, bm1: 0.99999999506209258 };
  const pnat: Vec3 = [-0.76321968546737951, -0.60869453983060384, -0.21676408580639883];

  it('gives ERFA eraAb known answer to 1e-12', () => {
    const p = aberrate(pnat, ctx);
    assertClose(p[0], -0.7631631094219556269, 1e-12, 'x');
    assertClose(p[1], -0.6087553082505590832, 1e-12, 'y');
    assertClose(p[2], -0.2167926269368471279, 1e-12, 'z');
  });

  it('is undone by removeAberration to 1e-15', () => {
    const back = removeAberration(aberrate(pnat, ctx), ctx);
    for (const i of [0, 1, 2] as const) assertClose(back[i], pnat[i], 1e-15, `component ${i}`);
  });

  it('shifts a direction by at most |v| (≈ 20″ for the Earth)', () => {
    const shift = Math.acos(Math.min(1, dot(aberrate(pnat, ctx), pnat)));
    assert.ok(shift > 0 && shift <= norm(ctx.v) * (1 + 1e-6), `${shift} rad`);
  });
});

describe('light travel time', () => {
  it('is |r|/c towards the Sun–Earth line: 1 au gives 499.0048 s', () => {
    const ltt = lightTravelTimes({ target: [1, 0, 0], siteGcrsM: [0, 0, 0], earth: earthAt([1, 0, 0], [1.01, 0, 0]) });
    assertClose(ltt.heliocentricS, AU_LIGHT_TIME, 1e-12, 'heliocentric (s)');
    assertClose(ltt.barycentricS, 1.01 * AU_LIGHT_TIME, 1e-12, 'barycentric (s)');
    const side = lightTravelTimes({ target: [0, 1, 0], siteGcrsM: [0, 0, 0], earth: earthAt([1, 0, 0], [1, 0, 0]) });
    assertClose(side.heliocentricS, 0, 1e-12, 'target at right angles (s)');
  });

  it('adds the site: 6375 km towards the target is 21.26 ms, for an Earth at rest', () => {
    const site: Vec3 = [0, 0, 6375153];
    const ltt = lightTravelTimes({ target: [0, 0, 1], siteGcrsM: site, earth: earthAt([1, 0, 0], [1, 0, 0]) });
    assertClose(ltt.heliocentricS, 6375153 / SPEED_OF_LIGHT_M_PER_S, 1e-15, 'site term (s)');
  });

  it('takes the site direction as apparent and removes the annual aberration (up to 2 µs)', () => {
    // Earth moving at 30 km/s along x; the site along y is seen 20″ displaced towards +x, so
    // its natural direction leans towards −x by 1e-4 rad: 0.64 km, 2.1 µs along x.
    const v: Vec3 = [0.0172, 0, 0]; // au/day
    const site: Vec3 = [0, 6375153, 0];
    const ltt = lightTravelTimes({ target: [1, 0, 0], siteGcrsM: site, earth: earthAt([0, 0, 1], [0, 0, 1], v) });
    const vOverC = (0.0172 * AU_M) / 86400 / SPEED_OF_LIGHT_M_PER_S;
    assertClose(ltt.barycentricS, (-vOverC * 6375153) / SPEED_OF_LIGHT_M_PER_S, 1e-9, 'aberration term (s)');
    assert.ok(ltt.barycentricS < -2e-6);
  });

  it('keeps the length of the site vector when removing aberration', () => {
    const site: Vec3 = [3e6, -4e6, 3.4e6];
    const target = unit([1, 2, 3]);
    const atRest = lightTravelTimes({ target, siteGcrsM: site, earth: earthAt([1e-9, 0, 0], [1e-9, 0, 0]) });
    const earthTerm = (1e-9 * AU_M * target[0]) / SPEED_OF_LIGHT_M_PER_S;
    assertClose(atRest.heliocentricS - earthTerm, dot(target, site) / SPEED_OF_LIGHT_M_PER_S, 1e-15, 'no motion, no change (s)');
  });
});
