// Device nodes, FIFOs and their -H groups as rsync's devices test has them (root only: mknod): a
// hard-linked device is linked where rsync's list meets it, so -i's lines come in rsync's order.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isRoot, removeTemps, sh } from '../helpers/tree.js';
import { describeEngines } from '../helpers/e2e.js';
import { differential } from '../helpers/differential.js';

afterAll(() => removeTemps());

/** rsync's devices test's tree: char and block devices, a hard-linked block device, a FIFO. */
function deviceTree(root: string): void {
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  sh(`cd '${src}' && mknod char c 41 67 && mknod char2 c 42 68 && mknod block b 42 69 && mknod block3 b 105 73 && ln block3 block3.5 && mkfifo fifo`);
  sh(`touch -h -d @1700000000 '${src}'/* '${src}'`);
}

describeEngines((e) => {
  const engine = e.name;
  const rootOnly = it.skipIf(!isRoot);

  rootOnly('-aiH: a hard-linked device is made and linked in list order, as rsync prints it', async () => {
    const r = await differential({ engine, setup: deviceTree, args: ['-aH', 'src/', 'dst/'] });
    // differential compares sorted lines: the order is the point here.
    expect(r.arsync.stdout).toBe(r.rsync.stdout);
    expect(r.arsync.stdout).toMatch(/cD\+{9} block3\nhD\+{9} block3\.5 => block3\ncD\+{9} char\n/);
    const a = fs.lstatSync(path.join(r.B, 'dst/block3'));
    const b = fs.lstatSync(path.join(r.B, 'dst/block3.5'));
    expect([a.isBlockDevice(), a.ino, a.rdev]).toEqual([true, b.ino, b.rdev]);
  });
});
