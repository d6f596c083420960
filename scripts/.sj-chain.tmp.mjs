import { build } from 'esbuild';
const r = await build({ entryPoints: ['src/bin.ts'], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, metafile: true, outfile: '/tmp/x.js', external: ['piscina','fast-glob','cli-progress'], define: { 'import.meta.url': '__u' }, logLevel: 'error' });
const ins = r.metafile.inputs;
const target = process.argv[2];
// BFS from main over static imports only
const start='src/cli/main.ts'; const prev={[start]:null}; const q=[start];
while(q.length){const f=q.shift(); for(const im of ins[f]?.imports||[]){ if(im.kind!=='import-statement'&&im.kind!=='require-call') continue; if(!(im.path in prev)){prev[im.path]=f;q.push(im.path);} }}
let t=Object.keys(prev).find(k=>k.includes(target)); const chain=[]; while(t){chain.push(t);t=prev[t];} console.log(chain.reverse().join('\n  -> '));
let tot=0; for (const k of Object.keys(prev)) if (ins[k]) tot+=ins[k].bytes; console.log('static graph src bytes', tot);
