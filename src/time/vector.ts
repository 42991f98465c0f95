/**
 * Three-vectors and 3×3 matrices as plain tuples, with the few operations the time library
 * needs. Rotation matrices follow the ERFA convention of *frame* rotations: `rotZ(a)` turns the
 * axes anticlockwise by `a` about z as seen from +z, so it maps a fixed vector's components in
 * the old frame to its components in the new frame.
 */

export type Vec3 = readonly [number, number, number];
export type Mat3 = readonly [Vec3, Vec3, Vec3];

export const IDENTITY: Mat3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function subtract(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function scale(k: number, a: Vec3): Vec3 {
  return [k * a[0], k * a[1], k * a[2]];
}

export function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

/** `a / |a|`; the zero vector stays zero. */
export function unit(a: Vec3): Vec3 {
  const r = norm(a);
  return r > 0 ? scale(1 / r, a) : [0, 0, 0];
}

/** Matrix times vector, `m · v`. */
export function mulMatVec(m: Mat3, v: Vec3): Vec3 {
  return [dot(m[0], v), dot(m[1], v), dot(m[2], v)];
}

/** Transposed matrix times vector, `mᵀ · v` (the inverse rotation for a rotation matrix). */
export function mulTransposeVec(m: Mat3, v: Vec3): Vec3 {
  return [
    m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
    m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
    m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
  ];
}

/** Matrix product `a · b`. */
export function mulMat(a: Mat3, b: Mat3): Mat3 {
  const col = (j: 0 | 1 | 2): Vec3 => [b[0][j], b[1][j], b[2][j]];
  const c0 = col(0);
  const c1 = col(1);
  const c2 = col(2);
  const row = (r: Vec3): Vec3 => [dot(r, c0), dot(r, c1), dot(r, c2)];
  return [row(a[0]), row(a[1]), row(a[2])];
}

/** Frame rotation by `angle` (rad) about the x axis. */
export function rotX(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [1, 0, 0],
    [0, c, s],
    [0, -s, c],
  ];
}

/** Frame rotation by `angle` (rad) about the y axis. */
export function rotY(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [c, 0, -s],
    [0, 1, 0],
    [s, 0, c],
  ];
}

/** Frame rotation by `angle` (rad) about the z axis. */
export function rotZ(angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [c, s, 0],
    [-s, c, 0],
    [0, 0, 1],
  ];
}

/** Unit vector towards right ascension `ra` and declination `dec` (both rad). */
export function fromSpherical(ra: number, dec: number): Vec3 {
  const cd = Math.cos(dec);
  return [cd * Math.cos(ra), cd * Math.sin(ra), Math.sin(dec)];
}
