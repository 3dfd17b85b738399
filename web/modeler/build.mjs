/* npm run build: bundle the modeler (bpmn-js, properties panel, bpmnlint) into web/static/dist/
   modeler.js + modeler.css, with the bpmn font beside them. Flask serves them as /static/dist/... */

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(web, 'static', 'dist');
rmSync(outdir, { recursive: true, force: true });

const started = Date.now();
await build({
  entryPoints: { modeler: join(web, 'modeler', 'index.js') },
  bundle: true,
  outdir,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning'
});
if (process.env.npm_config_loglevel !== 'silent') {
  console.log(`modeler built into static/dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
