// The layering of src/, written once (issue #16). Every arrow points down:
//   cli -> service -> steps -> fits, time, mods, base;  ops beside service and cli.
// dependency-cruiser rather than an ESLint boundaries rule: it resolves the real module graph
// (TypeScript paths, `import()` and type-only imports included) and finds cycles of any length,
// which a per-file lint rule cannot. Run by `npm test` (scripts/run-tests.mjs) and checked to
// fail on a planted violation by test/layering/layering.test.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A module never imports, however indirectly, a module that imports it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'floor-knows-nothing-above',
      comment: 'fits, time and base know nothing of MODS, the steps, the service, ops or the CLI.',
      severity: 'error',
      from: { path: '^src/(fits|time|base)/' },
      to: { path: '^src/(mods|steps|service|ops|cli|simulate|nightlog|quicklook|compare)/' },
    },
    {
      name: 'steps-know-nothing-of-service-ops-cli',
      comment: 'The processing steps know nothing of the service, ops, the CLI or the comparison built on them.',
      severity: 'error',
      from: { path: '^src/(steps|mods)/' },
      to: { path: '^src/(service|ops|cli|compare)/' },
    },
    {
      name: 'service-knows-nothing-of-cli',
      comment: 'The service knows nothing of the CLI that starts it.',
      severity: 'error',
      from: { path: '^src/service/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'ops-beside-service-and-cli',
      comment: 'ops (configuration, logging) serves the service and the CLI and imports neither.',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { path: '^src/(service|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/wasm/kernels\\.wat$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
