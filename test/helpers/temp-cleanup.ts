// vitest setup file: every temp dir a test file made through tempDir() (test/helpers/tree.ts), its
// helpers' included (differential.ts's arsync-diff-* and arsync-template-*), goes when the file ends,
// whether or not the file removes its own: files that did not left hundreds of trees in /dev/shm.
// Registered before the test file's hooks, so it runs after them (vitest runs afterAll hooks as a stack),
// once the file has unmounted what it mounted; removeTemps() never empties a dir through a mount.
import { afterAll } from 'vitest';
import { removeTemps } from './tree.js';

afterAll(() => removeTemps());
