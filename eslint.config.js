// Lint with type information: in a long-running service a floating promise is a swallowed error.
// Run by `npm test` (scripts/run-tests.mjs) before the tests when no filter is given.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/wasm/kernels-binary.ts', 'test/time/fixtures/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './test/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test/describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      // A leading underscore names a parameter a signature requires but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Off: async functions that implement a Promise-returning interface (ByteSource.read, the
      // ledger read hook) are async on purpose, so that a throw becomes a rejection, not a sync throw.
      '@typescript-eslint/require-await': 'off',
      // On: a FITS card value may be the `Complex` object, so card text goes through `valueText`
      // (src/fits/card.ts), never `String(value)`.
      '@typescript-eslint/no-base-to-string': 'error',
      // Off: `HduType` lists the known XTENSION values beside `string` on purpose, as documentation
      // for readers and editors; the rule wants them dropped.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  {
    // Tests and benchmarks read JSON (CLI --json output, HTTP bodies, child-process reports),
    // which is `any`, and then assert on its shape: the assertions are the check, so the
    // no-unsafe family would only add casts. Tests pass methods to assert.throws/mocks unbound.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
