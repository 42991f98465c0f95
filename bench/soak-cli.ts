/**
 * The `dataman` program run from the TypeScript sources (what bin/dataman.js does with the
 * compiled dist/), so that the soak exercises the current code through the real CLI:
 *   node --import tsx bench/soak-cli.ts serve --config FILE
 */
import { main } from '../src/cli/main.js';

main([process.argv[0]!, 'dataman', ...process.argv.slice(2)]).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { console.error(err); process.exitCode = 70; },
);
