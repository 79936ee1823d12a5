// `npm run bench`: runs bench/run.ts the way bin/molt.js runs the CLI (tsx registered in
// this process).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./run.ts');
process.exitCode = await main(process.argv.slice(2));
